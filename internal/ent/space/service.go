package space

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service is the rules of the spaces. Every method takes a Space obtained
// from the caller's principal, and every node lookup is filtered by it, so
// nobody reaches another person's documents (they are simply not found).
type Service struct {
	db    *db.DB
	store *Store
	blobs Blobs
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
}

// NewService builds the service. cfg.TempDir defaults to the blobs' own
// temporary directory when they have one.
func NewService(d *db.DB, blobs Blobs, cfg Config, log *slog.Logger) *Service {
	if cfg.TempDir == "" {
		if t, ok := blobs.(interface{ TempDir() string }); ok {
			cfg.TempDir = t.TempDir()
		} else {
			cfg.TempDir = os.TempDir()
		}
	}
	if cfg.MaxVersions < 0 {
		cfg.MaxVersions = 0
	}
	return &Service{db: d, store: NewStore(d), blobs: blobs, cfg: cfg, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// Store exposes the store to wiring code and tests.
func (s *Service) Store() *Store { return s.store }

// profileQuota is the largest quota among the person's roles.
func (s *Service) profileQuota(p *auth.Principal) int64 {
	var q int64
	for _, g := range p.Grants {
		q = max(q, s.cfg.QuotaByRole[g.Role])
	}
	if q == 0 {
		q = s.cfg.DefaultQuota
	}
	return q
}

// UserSpace returns the caller's personal space, created on first use,
// with its quota and usage.
func (s *Service) UserSpace(ctx context.Context, p *auth.Principal) (Space, error) {
	if p.IsAnonymous() {
		return Space{}, problem.Unauthenticated()
	}
	sp, quota, err := s.store.Space(ctx, s.db, OwnerUser, p.User.ID)
	if notFound(err) {
		if err := s.store.CreateSpace(ctx, OwnerUser, p.User.ID, "Mes documents", s.now()); err != nil {
			return Space{}, fmt.Errorf("create space of user %d: %w", p.User.ID, err)
		}
		sp, quota, err = s.store.Space(ctx, s.db, OwnerUser, p.User.ID)
	}
	if err != nil {
		return Space{}, fmt.Errorf("load space of user %d: %w", p.User.ID, err)
	}
	if quota != nil {
		sp.Quota = *quota
	} else {
		sp.Quota = s.profileQuota(p)
	}
	if sp.Used, err = s.store.Usage(ctx, s.db, sp.ID); err != nil {
		return Space{}, fmt.Errorf("usage of space %d: %w", sp.ID, err)
	}
	sp.mayPurge = true
	return sp, nil
}

// Root is the pseudo-node of a space's root folder.
func Root(sp Space) Node { return Node{SpaceID: sp.ID, IsDir: true, Name: ""} }

// SplitPath cleans a slash path inside a space into its names. Cleaning
// happens against the root, so "..", "%2e%2e" once decoded, and absolute
// paths can never climb out of it.
func SplitPath(p string) []string {
	p = path.Clean("/" + p)
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// Resolve finds the live node at a path (the root for "/").
func (s *Service) Resolve(ctx context.Context, sp Space, p string) (Node, error) {
	names := SplitPath(p)
	if len(names) > MaxDepth {
		return Node{}, errNotFound
	}
	n := Root(sp)
	for _, name := range names {
		if !n.IsDir {
			return Node{}, errNotFound
		}
		c, err := s.store.Child(ctx, s.db, sp.ID, n.ID, name)
		if notFound(err) {
			return Node{}, errNotFound
		}
		if err != nil {
			return Node{}, fmt.Errorf("resolve %q: %w", p, err)
		}
		n = c
	}
	return n, nil
}

// Node returns a live node of the space by id (0: the root).
func (s *Service) Node(ctx context.Context, sp Space, id int64) (Node, error) {
	if id == 0 {
		return Root(sp), nil
	}
	n, err := s.store.Node(ctx, s.db, sp.ID, id)
	if notFound(err) || err == nil && n.DeletedAt != nil {
		return Node{}, errNotFound
	}
	return n, err
}

// List returns a folder's content.
func (s *Service) List(ctx context.Context, sp Space, folderID int64) ([]Node, error) {
	f, err := s.Node(ctx, sp, folderID)
	if err != nil {
		return nil, err
	}
	if !f.IsDir {
		return nil, errNotDir
	}
	return s.store.Children(ctx, sp.ID, folderID)
}

// folder checks, inside a transaction, that a live folder exists.
func (s *Service) folder(ctx context.Context, q db.Querier, sp Space, id int64) error {
	if id == 0 {
		return nil
	}
	n, err := s.store.Node(ctx, q, sp.ID, id)
	if notFound(err) || err == nil && n.DeletedAt != nil {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if !n.IsDir {
		return errNotDir
	}
	return nil
}

func newETag() string { return `"` + NewKey()[:20] + `"` }

// Mkdir creates a folder.
func (s *Service) Mkdir(ctx context.Context, sp Space, parentID int64, name string) (Node, error) {
	if err := ValidateName(name); err != nil {
		return Node{}, err
	}
	if reservedAtRoot(sp, parentID, name) {
		return Node{}, errReservedName
	}
	now := s.now()
	n := Node{SpaceID: sp.ID, ParentID: parentID, Name: name, IsDir: true, ETag: newETag(), CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := s.folder(ctx, tx, sp, parentID); err != nil {
			return err
		}
		if err := s.store.InsertNode(ctx, tx, &n); err != nil {
			if db.IsUniqueViolation(err) {
				return errExists
			}
			return err
		}
		return nil
	})
	return n, err
}

// quotaReader fails once more than limit bytes went through, so that an
// upload over quota stops early instead of filling the disk first.
type quotaReader struct {
	r     io.Reader
	limit int64
	n     int64
}

func (q *quotaReader) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	q.n += int64(n)
	if q.n > q.limit {
		return n, errQuota
	}
	return n, err
}

// PutFile creates or overwrites a file with the content of r, streamed to
// the blobs (never held in memory). The overwritten content becomes a
// version; versions beyond the configured count are dropped.
func (s *Service) PutFile(ctx context.Context, sp Space, parentID int64, name string, r io.Reader) (Node, error) {
	if err := ValidateName(name); err != nil {
		return Node{}, err
	}
	if reservedAtRoot(sp, parentID, name) {
		return Node{}, errReservedName
	}
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Node{}, fmt.Errorf("read upload: %w", err)
	}
	ct, denied := DetectType(name, head)
	if denied {
		return Node{}, errDeniedType
	}
	used, err := s.store.Usage(ctx, s.db, sp.ID)
	if err != nil {
		return Node{}, err
	}
	key := NewKey()
	size, sum, err := s.blobs.Put(ctx, key, &quotaReader{r: br, limit: sp.Quota - used})
	if err != nil {
		if p, ok := problem.As(err); ok {
			return Node{}, p
		}
		return Node{}, fmt.Errorf("store upload: %w", err)
	}
	now := s.now()
	n := Node{SpaceID: sp.ID, ParentID: parentID, Name: name, Size: size, SHA256: sum, ContentType: ct,
		StorageKey: key, ETag: newETag(), CreatedAt: now, UpdatedAt: now}
	var drop []string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		drop = nil
		if err := s.folder(ctx, tx, sp, parentID); err != nil {
			return err
		}
		// Checked again inside the transaction: two uploads at once must
		// not both fit in the same remaining space.
		used, err := s.store.Usage(ctx, tx, sp.ID)
		if err != nil {
			return err
		}
		if used+size > sp.Quota {
			return errQuota
		}
		old, err := s.store.Child(ctx, tx, sp.ID, parentID, name)
		switch {
		case notFound(err):
			if err := s.store.InsertNode(ctx, tx, &n); err != nil {
				if db.IsUniqueViolation(err) {
					return errExists
				}
				return err
			}
			return nil
		case err != nil:
			return err
		case old.IsDir:
			return errIsDir
		}
		n.ID, n.CreatedAt = old.ID, old.CreatedAt
		if s.cfg.MaxVersions > 0 {
			if err := s.store.AddVersion(ctx, tx, old, now); err != nil {
				return err
			}
		} else {
			drop = append(drop, old.StorageKey)
		}
		if err := s.store.SetContent(ctx, tx, n); err != nil {
			return err
		}
		vs, err := s.store.Versions(ctx, tx, n.ID)
		if err != nil {
			return err
		}
		for i := s.cfg.MaxVersions; i < len(vs); i++ {
			if err := s.store.DeleteVersion(ctx, tx, vs[i].ID); err != nil {
				return err
			}
			drop = append(drop, vs[i].StorageKey)
		}
		return nil
	})
	if err != nil {
		s.deleteBlobs(ctx, key)
		return Node{}, err
	}
	s.deleteBlobs(ctx, drop...)
	return n, nil
}

// deleteBlobs removes contents no row points to any more. A failure only
// leaves an orphan on disk, which is logged.
func (s *Service) deleteBlobs(ctx context.Context, keys ...string) {
	for _, k := range keys {
		if err := s.blobs.Delete(context.WithoutCancel(ctx), k); err != nil {
			s.log.Warn("delete blob", "key", k, "err", err)
		}
	}
}

// Open returns a file's content.
func (s *Service) Open(ctx context.Context, n Node) (io.ReadSeekCloser, error) {
	if n.IsDir {
		return nil, errIsDir
	}
	return s.blobs.Open(ctx, n.StorageKey)
}

// Trash moves a node (and a folder's content) to the trash.
func (s *Service) Trash(ctx context.Context, sp Space, id int64) error {
	if id == 0 {
		return problem.Forbidden()
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := s.store.Node(ctx, tx, sp.ID, id)
		if notFound(err) || err == nil && n.DeletedAt != nil {
			return errNotFound
		}
		if err != nil {
			return err
		}
		return s.store.TrashTree(ctx, tx, id, s.now())
	})
}

// ListTrash returns the trash entries.
func (s *Service) ListTrash(ctx context.Context, sp Space) ([]Node, error) {
	return s.store.Trash(ctx, sp.ID)
}

// Restore brings a trash entry back to its folder, or to the root when that
// folder is gone, under a free name.
func (s *Service) Restore(ctx context.Context, sp Space, id int64) (Node, error) {
	var out Node
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := s.store.Node(ctx, tx, sp.ID, id)
		if notFound(err) || err == nil && n.TrashedWith != n.ID {
			return errNotFound
		}
		if err != nil {
			return err
		}
		parent := n.ParentID
		if s.folder(ctx, tx, sp, parent) != nil {
			parent = 0
		}
		name, err := s.freeName(ctx, tx, sp, parent, n.Name)
		if err != nil {
			return err
		}
		if err := s.store.RestoreTree(ctx, tx, id, parent, name); err != nil {
			return err
		}
		out, err = s.store.Node(ctx, tx, sp.ID, id)
		return err
	})
	return out, err
}

// freeName returns name, or "name (restauré N).ext" when taken.
func (s *Service) freeName(ctx context.Context, q db.Querier, sp Space, parent int64, name string) (string, error) {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	cand := name
	for i := 1; i < 1000; i++ {
		_, err := s.store.Child(ctx, q, sp.ID, parent, cand)
		if notFound(err) && !reservedAtRoot(sp, parent, cand) {
			return cand, nil
		}
		if err != nil && !notFound(err) {
			return "", err
		}
		suffix := " (restauré)"
		if i > 1 {
			suffix = fmt.Sprintf(" (restauré %d)", i)
		}
		cand = base + suffix + ext
		if len(cand) > MaxNameBytes {
			cand = fmt.Sprintf("restauré %d %s", i, NewKey()[:8]) + ext
		}
	}
	return "", errExists
}

// Purge deletes a trash entry for good and frees its space.
func (s *Service) Purge(ctx context.Context, sp Space, id int64) error {
	if !sp.mayPurge {
		return errPurgeDenied
	}
	var keys []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := s.store.Node(ctx, tx, sp.ID, id)
		if notFound(err) || err == nil && n.TrashedWith != n.ID {
			return errNotFound
		}
		if err != nil {
			return err
		}
		keys, err = s.store.Purge(ctx, tx, id)
		return err
	})
	if err == nil {
		s.deleteBlobs(ctx, keys...)
	}
	return err
}

// Move renames a node and/or moves it to another folder of the space.
func (s *Service) Move(ctx context.Context, sp Space, id, newParent int64, newName string) error {
	if err := ValidateName(newName); err != nil {
		return err
	}
	if reservedAtRoot(sp, newParent, newName) {
		return errReservedName
	}
	if id == 0 {
		return problem.Forbidden()
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := s.store.Node(ctx, tx, sp.ID, id); err != nil {
			if notFound(err) {
				return errNotFound
			}
			return err
		}
		if err := s.folder(ctx, tx, sp, newParent); err != nil {
			return err
		}
		// Walk up from the destination: meeting the node means moving a
		// folder into itself.
		for p, depth := newParent, 0; p != 0; depth++ {
			if p == id {
				return errCycle
			}
			if depth > MaxDepth {
				return errTooDeep
			}
			n, err := s.store.Node(ctx, tx, sp.ID, p)
			if err != nil {
				return err
			}
			p = n.ParentID
		}
		if err := s.store.Move(ctx, tx, id, newParent, newName, newETag(), s.now()); err != nil {
			if db.IsUniqueViolation(err) {
				return errExists
			}
			return err
		}
		return nil
	})
}

// Versions lists a file's earlier contents.
func (s *Service) Versions(ctx context.Context, sp Space, id int64) ([]Version, error) {
	n, err := s.Node(ctx, sp, id)
	if err != nil {
		return nil, err
	}
	if n.IsDir {
		return nil, errIsDir
	}
	return s.store.Versions(ctx, s.db, id)
}

// RestoreVersion makes an earlier content current again; the current one
// becomes a version in turn, so nothing is lost.
func (s *Service) RestoreVersion(ctx context.Context, sp Space, id, versionID int64) (Node, error) {
	var out Node
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := s.store.Node(ctx, tx, sp.ID, id)
		if notFound(err) || err == nil && (n.DeletedAt != nil || n.IsDir) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		vs, err := s.store.Versions(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.ID != versionID {
				continue
			}
			now := s.now()
			if err := s.store.AddVersion(ctx, tx, n, now); err != nil {
				return err
			}
			if err := s.store.DeleteVersion(ctx, tx, v.ID); err != nil {
				return err
			}
			n.Size, n.SHA256, n.ContentType, n.StorageKey = v.Size, v.SHA256, v.ContentType, v.StorageKey
			n.ETag, n.UpdatedAt = newETag(), now
			out = n
			return s.store.SetContent(ctx, tx, n)
		}
		return problem.NotFound("Version")
	})
	return out, err
}
