package production

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Version history. A version is the whole Yjs state of a production at a
// moment, saved:
//   - automatically while it is edited: once the document has been quiet
//     for VersionQuiet, or every VersionEvery during a long session;
//   - on request ("Enregistrer une version", with a label);
//   - before every restore, so that a restore is undone by restoring that.
//
// Restoring writes the old content over the current one through the
// collaboration engine, so that everybody editing sees it at once and
// offline edits still merge. Versions are for contributors and up: a
// blog's versions hold drafts that readers must not see.

// How often automatic versions are taken, and how many are kept per
// production (named ones are all kept).
const (
	VersionQuiet   = 2 * time.Minute
	VersionEvery   = 10 * time.Minute
	KeptAutomatic  = 50
	maxLabelLength = 200
)

// Version is one saved state of a production.
type Version struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Author    string    `json:"author,omitempty"`
	Label     string    `json:"label"`
	Automatic bool      `json:"automatic"`
}

var errNoVersion = problem.NotFound("Version")

// Versions lists a production's versions, newest first.
func (s *Service) Versions(ctx context.Context, p *auth.Principal, id int64) ([]Version, error) {
	if _, err := s.load(ctx, p, id, RoleContribute); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT v.id, v.created_at, v.label, v.created_by, COALESCE(u.display_name, '')
		FROM production_versions v LEFT JOIN users u ON u.id = v.created_by
		WHERE v.production_id = ? ORDER BY v.created_at DESC, v.id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		var by sql.NullInt64
		if err := rows.Scan(&v.ID, &v.CreatedAt, &v.Label, &by, &v.Author); err != nil {
			return nil, fmt.Errorf("list versions: %w", err)
		}
		v.Automatic = !by.Valid
		if by.Valid && v.Author == "" {
			v.Author = "compte supprimé"
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SaveVersion saves the current state under a label (contributors).
func (s *Service) SaveVersion(ctx context.Context, p *auth.Principal, id int64, label string) (Version, error) {
	pr, err := s.load(ctx, p, id, RoleContribute)
	if err != nil {
		return Version{}, err
	}
	if pr.Trashed {
		return Version{}, errTrashed
	}
	label = strings.TrimSpace(label)
	if len([]rune(label)) > maxLabelLength {
		return Version{}, problem.Invalid("invalid_label", "Le nom de la version est trop long (200 caractères au plus).")
	}
	if label == "" {
		label = "Version enregistrée"
	}
	by := p.User.ID
	return s.snapshot(ctx, pr.ID, &by, label)
}

// snapshot stores the document's state now; by is nil for an automatic
// version.
func (s *Service) snapshot(ctx context.Context, id int64, by *int64, label string) (Version, error) {
	state, err := s.docs.State(ctx, docID(id))
	if err != nil {
		return Version{}, fmt.Errorf("snapshot production %d: %w", id, err)
	}
	v := Version{CreatedAt: s.now().UTC().Truncate(time.Microsecond), Label: label, Automatic: by == nil}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var who any
		if by != nil {
			who = *by
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO production_versions (production_id, created_at, created_by, label, state)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, id, v.CreatedAt, who, label, state).Scan(&v.ID)
		if err != nil {
			return fmt.Errorf("save version: %w", err)
		}
		if by != nil {
			return tx.QueryRowContext(ctx, `SELECT display_name FROM users WHERE id = ?`, *by).Scan(&v.Author)
		}
		// Only the newest automatic versions are kept.
		_, err = tx.ExecContext(ctx, `DELETE FROM production_versions WHERE production_id = ? AND created_by IS NULL AND id NOT IN
			(SELECT id FROM production_versions WHERE production_id = ? AND created_by IS NULL ORDER BY created_at DESC, id DESC LIMIT ?)`,
			id, id, KeptAutomatic)
		return err
	})
	return v, err
}

// version loads a version's content, for a production the caller may
// contribute to.
func (s *Service) version(ctx context.Context, p *auth.Principal, id, versionID int64) (Production, Version, Content, error) {
	pr, err := s.load(ctx, p, id, RoleContribute)
	if err != nil {
		return pr, Version{}, Content{}, err
	}
	var v Version
	var by sql.NullInt64
	var state []byte
	err = s.db.QueryRowContext(ctx, `SELECT v.id, v.created_at, v.label, v.created_by, COALESCE(u.display_name, ''), v.state
		FROM production_versions v LEFT JOIN users u ON u.id = v.created_by
		WHERE v.id = ? AND v.production_id = ?`, versionID, id).Scan(&v.ID, &v.CreatedAt, &v.Label, &by, &v.Author, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return pr, v, Content{}, errNoVersion
	}
	if err != nil {
		return pr, v, Content{}, fmt.Errorf("load version %d: %w", versionID, err)
	}
	v.Automatic = !by.Valid
	if by.Valid && v.Author == "" {
		v.Author = "compte supprimé"
	}
	d := yjs.NewDoc()
	if err := d.ApplyUpdate(state); err != nil {
		return pr, v, Content{}, fmt.Errorf("decode version %d: %w", versionID, err)
	}
	return pr, v, readContent(d, pr.Kind), nil
}

// VersionContent reads a version, for the history page.
func (s *Service) VersionContent(ctx context.Context, p *auth.Principal, id, versionID int64) (Production, Version, Content, error) {
	return s.version(ctx, p, id, versionID)
}

// ExportVersion exports a version in one of its kind's formats.
func (s *Service) ExportVersion(ctx context.Context, p *auth.Principal, id, versionID int64, format string) (Exported, error) {
	pr, v, c, err := s.version(ctx, p, id, versionID)
	if err != nil {
		return Exported{}, err
	}
	pr.Title = fmt.Sprintf("%s (version du %s)", pr.Title, v.CreatedAt.Format("2006-01-02 15h04"))
	return s.export(ctx, pr, c, format)
}

// RestoreVersion puts a version's content back in place of the current
// one, for everybody editing; the current state is saved first. With
// pageID, only that wiki page is restored (its title and text).
func (s *Service) RestoreVersion(ctx context.Context, p *auth.Principal, id, versionID int64, pageID string) (Production, error) {
	pr, v, c, err := s.version(ctx, p, id, versionID)
	if err != nil {
		return pr, err
	}
	if pr.Trashed {
		return pr, errTrashed
	}
	if pageID != "" {
		if pr.Kind != Wiki {
			return pr, problem.Invalid("invalid_page", "Seules les pages d'un wiki se restaurent une à une.")
		}
		var page *Page
		for i := range c.Pages {
			if c.Pages[i].ID == pageID {
				page = &c.Pages[i]
			}
		}
		if page == nil {
			return pr, problem.NotFound("Page")
		}
		c.Pages = []Page{*page}
	}
	sanitize(&c)
	by := p.User.ID
	when := v.CreatedAt.In(time.UTC).Format("02/01/2006 15:04")
	if _, err := s.snapshot(ctx, pr.ID, &by, "Avant la restauration de la version du "+when+" (UTC)"); err != nil {
		return pr, err
	}
	err = s.docs.Apply(ctx, pr.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error {
		if pageID != "" {
			return replacePage(d, tx, c.Pages[0])
		}
		if err := clearContent(d, tx, pr.Kind); err != nil {
			return err
		}
		return writeContent(d, tx, c)
	})
	if err != nil {
		return pr, fmt.Errorf("restore version %d of production %d: %w", versionID, id, err)
	}
	s.refreshSearch(ctx, pr)
	if err := s.store.touch(ctx, id, s.now().UTC()); err != nil {
		return pr, err
	}
	return s.Get(ctx, p, id)
}

// clearContent empties the shared types of a kind's layout.
func clearContent(d *yjs.Doc, tx *yjs.Tx, k Kind) error {
	clearMap := func(m *yjs.Map) error {
		for _, key := range m.Keys() {
			if err := m.Delete(tx, key); err != nil {
				return err
			}
		}
		return nil
	}
	clearArray := func(a *yjs.Array) error { return a.Delete(tx, 0, a.Len()) }
	switch k {
	case Pad:
		f := d.GetXMLFragment("content")
		return f.Delete(tx, 0, f.Len())
	case Wiki:
		if err := clearMap(d.GetMap("titles")); err != nil {
			return err
		}
		return clearMap(d.GetMap("pages"))
	case Blog:
		return clearArray(d.GetArray("posts"))
	case MindMap:
		return clearMap(d.GetMap("nodes"))
	case Timeline:
		return clearArray(d.GetArray("events"))
	case Wall:
		return clearArray(d.GetArray("cards"))
	}
	return nil
}

// replacePage puts one wiki page back: its title, and a new fragment with
// its text (the page's old fragment, edited meanwhile, is replaced).
func replacePage(d *yjs.Doc, tx *yjs.Tx, pg Page) error {
	if err := d.GetMap("pages").Delete(tx, pg.ID); err != nil {
		return err
	}
	return writeContent(d, tx, Content{Kind: Wiki, Pages: []Page{pg}})
}

// RunVersions follows the documents' changes until ctx ends: it keeps the
// productions' "modified" date current while people edit (teachers follow
// progress by it) and saves the automatic versions. Call it in one
// goroutine per process; each change reaches one process only.
func (s *Service) RunVersions(ctx context.Context, tick time.Duration) {
	changes, cancel := s.docs.Subscribe("", 1024)
	defer cancel()
	type activity struct{ first, last, touched time.Time }
	pending := map[int64]*activity{}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-changes:
			if !ok {
				return
			}
			id, err := strconv.ParseInt(ch.DocID, 10, 64)
			if err != nil || id <= 0 {
				continue // not a production's document
			}
			now := s.now()
			a := pending[id]
			if a == nil {
				a = &activity{first: now}
				pending[id] = a
			}
			a.last = now
			// The date moves at most once a minute per production.
			if now.Sub(a.touched) >= time.Minute {
				a.touched = now
				if err := s.store.touch(ctx, id, now.UTC()); err != nil && ctx.Err() == nil {
					s.log.Warn("production progress", "production_id", id, "err", err)
				}
			}
		case <-t.C:
			now := s.now()
			for id, a := range pending {
				if now.Sub(a.last) < VersionQuiet && now.Sub(a.first) < VersionEvery {
					continue
				}
				delete(pending, id)
				if err := s.touchAndSnapshot(ctx, id, now); err != nil && ctx.Err() == nil {
					s.log.Warn("automatic version", "production_id", id, "err", err)
				}
			}
		}
	}
}

func (s *Service) touchAndSnapshot(ctx context.Context, id int64, now time.Time) error {
	pr, err := s.store.get(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil // erased meanwhile
	}
	if err != nil {
		return err
	}
	if err := s.store.touch(ctx, id, now.UTC()); err != nil {
		return err
	}
	s.refreshSearch(ctx, pr)
	_, err = s.snapshot(ctx, id, nil, "Version automatique")
	return err
}

var errTrashed = problem.New(http.StatusConflict, "trashed", "Cette production est dans la corbeille : restaurez-la d'abord.")
