package production

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The productions' part of a person's data (privacy, [4/8]): the export
// carries every production the person owns, in every format of its kind,
// so that they leave with work they can keep editing elsewhere.

// Name names the contributor in the data export.
func (s *Service) Name() string { return "productions" }

type exportedProduction struct {
	ID        int64     `json:"id"`
	Kind      Kind      `json:"kind"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Trashed   bool      `json:"trashed"`
	Files     []string  `json:"files"`
}

// ExportPerson writes the person's own productions (trash included).
func (s *Service) ExportPerson(ctx context.Context, userID int64, zw *zip.Writer) error {
	prods, err := s.store.list(ctx, `p.owner_id = ?`, userID)
	if err != nil {
		return err
	}
	index := []exportedProduction{}
	for _, pr := range prods {
		c, err := s.content(ctx, pr)
		if err != nil {
			return err
		}
		e := exportedProduction{ID: pr.ID, Kind: pr.Kind, Title: pr.Title, CreatedAt: pr.CreatedAt, UpdatedAt: pr.UpdatedAt, Trashed: pr.Trashed}
		for _, f := range kindFormats[pr.Kind] {
			ex, err := s.export(ctx, pr, c, f)
			if err != nil {
				return err
			}
			name := fmt.Sprintf("productions/%d-%s", pr.ID, ex.Filename)
			w, err := zw.Create(name)
			if err != nil {
				return err
			}
			if _, err := w.Write(ex.Data); err != nil {
				return err
			}
			e.Files = append(e.Files, name)
		}
		index = append(index, e)
	}
	if err := writeJSON(zw, "productions.json", index); err != nil {
		return err
	}
	// The follow-up comments they wrote, on any production.
	type comment struct {
		ProductionID int64     `json:"production_id"`
		Body         string    `json:"body"`
		CreatedAt    time.Time `json:"created_at"`
	}
	rows, err := s.db.QueryContext(ctx, `SELECT production_id, body, created_at FROM production_comments WHERE author_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return fmt.Errorf("export comments: %w", err)
	}
	defer rows.Close()
	comments := []comment{}
	for rows.Next() {
		var c comment
		if err := rows.Scan(&c.ProductionID, &c.Body, &c.CreatedAt); err != nil {
			return fmt.Errorf("export comments: %w", err)
		}
		comments = append(comments, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export comments: %w", err)
	}
	return writeJSON(zw, "productions-commentaires.json", comments)
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ErasePerson removes the person's shares and team places, and the
// productions they own with their documents' whole history (the engine's
// log, the versions). Productions shared with them stay with their owners.
func (s *Service) ErasePerson(ctx context.Context, userID int64) error {
	var owned []int64
	err := s.db.InTx(ctx, func(tx dbTx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM productions WHERE owner_id = ?`, userID)
		if err != nil {
			return fmt.Errorf("erase productions: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("erase productions: %w", err)
			}
			owned = append(owned, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("erase productions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM production_shares WHERE target_kind = 'user' AND target_id = ?`, userID); err != nil {
			return fmt.Errorf("erase shares: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM production_comments WHERE author_id = ?`, userID); err != nil {
			return fmt.Errorf("erase comments: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM production_team_members WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("erase team places: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM productions WHERE owner_id = ?`, userID); err != nil {
			return fmt.Errorf("erase productions: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The rows are gone: the engine now refuses these documents to
	// everybody; close what is open, then delete their content.
	for _, id := range owned {
		s.docs.Reauthorize(docID(id))
		if err := s.docs.Forget(ctx, docID(id)); err != nil {
			return fmt.Errorf("erase the document of production %d: %w", id, err)
		}
	}
	return nil
}
