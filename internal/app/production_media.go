package app

import (
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"socle/internal/ent/production"
	"socle/internal/ent/space"
	"socle/internal/platform/problem"
)

// productionMedia keeps the medias of productions (images, sounds,
// videos) in the personal space of the production's owner: they count in
// the owner's quota and appear in their documents, under
// "Productions/<title>".
type productionMedia struct{ a *App }

var _ production.MediaStore = productionMedia{}

// space is the owner's personal space, whoever uploads (a contributor's
// upload goes to the owner's space, with the owner's quota).
func (m productionMedia) space(ctx context.Context, ownerID int64) (space.Space, error) {
	p, err := m.a.Auth.Principal(ctx, ownerID)
	if err != nil {
		return space.Space{}, err
	}
	return m.a.Space.UserSpace(ctx, p)
}

func (m productionMedia) Put(ctx context.Context, ownerID int64, folder []string, name string, r io.Reader) (production.StoredFile, error) {
	sp, err := m.space(ctx, ownerID)
	if err != nil {
		return production.StoredFile{}, err
	}
	dir := space.Root(sp)
	for _, f := range folder {
		if space.ValidateName(f) != nil {
			f = "Production"
		}
		if dir, err = m.folder(ctx, sp, dir, f); err != nil {
			return production.StoredFile{}, err
		}
	}
	name, err = m.freeName(ctx, sp, dir, name)
	if err != nil {
		return production.StoredFile{}, err
	}
	n, err := m.a.Space.PutFile(ctx, sp, dir.ID, name, r)
	if err != nil {
		return production.StoredFile{}, err
	}
	return production.StoredFile{ID: n.ID, Name: n.Name, Size: n.Size, ModTime: n.UpdatedAt}, nil
}

// folder finds or creates the folder name in parent.
func (m productionMedia) folder(ctx context.Context, sp space.Space, parent space.Node, name string) (space.Node, error) {
	for range 2 {
		nodes, err := m.a.Space.List(ctx, sp, parent.ID)
		if err != nil {
			return space.Node{}, err
		}
		for _, n := range nodes {
			if n.Name == name && n.IsDir {
				return n, nil
			}
		}
		n, err := m.a.Space.Mkdir(ctx, sp, parent.ID, name)
		if err == nil {
			return n, nil
		}
		// A file of that name, or another upload that just created the
		// folder: look again, then give up.
		if p, ok := problem.As(err); !ok || p.Code != "name_taken" {
			return space.Node{}, err
		}
		name += " (médias)"
	}
	return space.Node{}, fmt.Errorf("media folder %q: name taken", name)
}

// freeName is name, or "name (2).ext"... when the folder has it already:
// a media never overwrites a file.
func (m productionMedia) freeName(ctx context.Context, sp space.Space, dir space.Node, name string) (string, error) {
	nodes, err := m.a.Space.List(ctx, sp, dir.ID)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, n := range nodes {
		taken[strings.ToLower(n.Name)] = true
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	candidate := name
	for i := 2; taken[strings.ToLower(candidate)]; i++ {
		candidate = base + " (" + strconv.Itoa(i) + ")" + ext
	}
	if space.ValidateName(candidate) != nil {
		candidate = "média" + ext
		for i := 2; taken[strings.ToLower(candidate)]; i++ {
			candidate = "média (" + strconv.Itoa(i) + ")" + ext
		}
	}
	return candidate, nil
}

func (m productionMedia) Open(ctx context.Context, ownerID, fileID int64) (io.ReadSeekCloser, production.StoredFile, error) {
	sp, err := m.space(ctx, ownerID)
	if err != nil {
		return nil, production.StoredFile{}, err
	}
	n, err := m.a.Space.Node(ctx, sp, fileID)
	if err != nil {
		return nil, production.StoredFile{}, err
	}
	if n.IsDir || fileID == 0 {
		return nil, production.StoredFile{}, problem.NotFound("Document")
	}
	rc, err := m.a.Space.Open(ctx, n)
	if err != nil {
		return nil, production.StoredFile{}, err
	}
	return rc, production.StoredFile{ID: n.ID, Name: n.Name, Size: n.Size, ModTime: n.UpdatedAt}, nil
}
