package notify

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The service is a contributor to the data-protection export and erasure
// (privacy.Contributor, matched by its methods: this package does not
// import privacy).

// Name names the contributor's folder in a person's export.
func (s *Service) Name() string { return "notifications" }

// personExport is what the export holds of a person's notifications.
type personExport struct {
	QuietHours  bool                 `json:"quiet_hours"`
	Preferences map[string]Frequency `json:"preferences"`
	Timeline    []Item               `json:"timeline"`
	Mails       []outboxRow          `json:"mails"`
}

// ExportPerson writes notifications/notifications.json: the whole timeline,
// the person's choices and the mails sent or due.
func (s *Service) ExportPerson(ctx context.Context, userID int64, zw *zip.Writer) error {
	prefs, quiet, err := s.store.preferences(ctx, userID)
	if err != nil {
		return err
	}
	out := personExport{QuietHours: quiet, Preferences: prefs, Timeline: []Item{}}
	var before int64
	for {
		page, err := s.store.page(ctx, userID, before, 1000)
		if err != nil {
			return err
		}
		out.Timeline = append(out.Timeline, page...)
		if len(page) < 1000 {
			break
		}
		before = page[len(page)-1].ID
	}
	if out.Mails, err = s.store.outboxOf(ctx, userID); err != nil {
		return err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "notifications/notifications.json", Method: zip.Deflate, Modified: s.now().UTC().Truncate(time.Second)})
	if err != nil {
		return fmt.Errorf("export notifications: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("export notifications: %w", err)
	}
	return nil
}

// ErasePerson deletes the person's timeline, choices and pending mails.
func (s *Service) ErasePerson(ctx context.Context, userID int64) error {
	return s.store.erase(ctx, userID)
}
