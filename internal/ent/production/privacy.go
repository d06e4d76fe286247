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
			ex, err := exportContent(pr, c, f)
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
	w, err := zw.Create("productions.json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(index)
}

// ErasePerson removes the person's shares and team places; the productions
// they own go with their account (foreign key). Productions shared with
// them stay with their owners.
func (s *Service) ErasePerson(ctx context.Context, userID int64) error {
	return s.db.InTx(ctx, func(tx dbTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM production_shares WHERE target_kind = 'user' AND target_id = ?`, userID); err != nil {
			return fmt.Errorf("erase shares: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM production_team_members WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("erase team places: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM productions WHERE owner_id = ?`, userID); err != nil {
			return fmt.Errorf("erase productions: %w", err)
		}
		return nil
	})
}
