package space

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"path"

	"socle/internal/platform/db"
)

// ExportFolder is the folder of a person's files in their data export.
const ExportFolder = "Mes documents"

// Name identifies the space among the contributors to a person's data
// export and erasure.
func (s *Service) Name() string { return "espace documentaire" }

// ExportPerson writes the files of the person's personal space into the
// export, under ExportFolder, with their folders; what is in the trash goes
// under ExportFolder/Corbeille (it is still their data); earlier versions
// are left out. Files are streamed from the blobs, one at a time. Files the person put in class and group spaces
// belong to those spaces and are not exported here.
func (s *Service) ExportPerson(ctx context.Context, userID int64, zw *zip.Writer) error {
	sp, _, err := s.store.Space(ctx, s.db, OwnerUser, userID)
	if notFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("space of user %d: %w", userID, err)
	}
	nodes, err := s.store.AllNodes(ctx, sp.ID)
	if err != nil {
		return fmt.Errorf("nodes of space %d: %w", sp.ID, err)
	}
	byID := make(map[int64]Node, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	// pathOf builds a node's path from its ancestors; a trashed node goes
	// under Corbeille, with the path it had.
	pathOf := func(n Node) string {
		parts := []string{n.Name}
		for p, depth := n.ParentID, 0; p != 0 && depth <= MaxDepth; depth++ {
			parent, ok := byID[p]
			if !ok {
				break
			}
			parts = append(parts, parent.Name)
			p = parent.ParentID
		}
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		root := ExportFolder
		if n.DeletedAt != nil {
			root = path.Join(ExportFolder, "Corbeille")
		}
		return path.Join(append([]string{root}, parts...)...)
	}
	for _, n := range nodes {
		name := pathOf(n)
		if n.IsDir {
			if _, err := zw.Create(name + "/"); err != nil {
				return err
			}
			continue
		}
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: n.UpdatedAt}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		rc, err := s.blobs.Open(ctx, n.StorageKey)
		if err != nil {
			// A missing content must not stop the export of everything
			// else: the entry says so.
			s.log.Warn("export: content missing", "node", n.ID, "err", err)
			_, _ = io.WriteString(w, "Contenu introuvable dans le stockage.\n")
			continue
		}
		_, err = io.Copy(w, ctxReader{ctx, rc})
		rc.Close()
		if err != nil {
			return fmt.Errorf("export node %d: %w", n.ID, err)
		}
	}
	return nil
}

// ErasePerson deletes the person's personal space: every folder, file,
// version and trash entry, then their contents in the blobs. Class and
// group spaces are untouched (they belong to the class).
func (s *Service) ErasePerson(ctx context.Context, userID int64) error {
	var keys []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		sp, _, err := s.store.Space(ctx, tx, OwnerUser, userID)
		if notFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if keys, err = s.store.SpaceKeys(ctx, tx, sp.ID); err != nil {
			return err
		}
		return s.store.DeleteSpace(ctx, tx, sp.ID)
	})
	if err != nil {
		return fmt.Errorf("erase space of user %d: %w", userID, err)
	}
	s.deleteBlobs(ctx, keys...)
	s.log.Info("space erased", "user_id", userID, "contents", len(keys))
	return nil
}
