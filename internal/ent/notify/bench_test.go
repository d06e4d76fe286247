package notify

import (
	"strconv"
	"testing"
	"time"

	"socle/internal/platform/db"
)

// BenchmarkTimelineFirstPage reads the first page (20 items and the unread
// count) of a timeline of 10,000 notifications, half of them unread, among
// other people's 20,000. Goal: under 10 ms.
func BenchmarkTimelineFirstPage(b *testing.B) {
	f := newFx(b)
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	err := f.db.InTx(f.ctx, func(tx *db.Tx) error {
		st, err := tx.Prepare(f.ctx, `INSERT INTO notify_timeline (user_id, type, title, body, link, created_at, read_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := 0; i < 30000; i++ {
			uid := f.alice.id
			if i%3 != 0 {
				uid = f.bruno.id
			}
			at := start.Add(time.Duration(i) * time.Minute)
			var read any
			if i%2 == 0 {
				read = at.Add(time.Hour)
			}
			if _, err := st.ExecContext(f.ctx, uid, "comment", "Commentaire n° "+strconv.Itoa(i), "Un commentaire sur votre production.",
				"/productions/"+strconv.Itoa(i), at, read); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if f.db.Dialect() == db.Postgres {
		if _, err := f.db.ExecContext(f.ctx, `ANALYZE notify_timeline`); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		pg, err := f.svc.Timeline(f.ctx, f.alice.p, "", DefaultPageSize)
		if err != nil || len(pg.Items) != DefaultPageSize || pg.Unread != 5000 {
			b.Fatalf("page: %d items, %d unread, %v", len(pg.Items), pg.Unread, err)
		}
	}
}
