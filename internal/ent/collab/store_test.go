package collab

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/db/dbtest"
)

// A group commit writes many rows with one statement; each update must get
// its own row's seq back (notifications and subscribers name rows by seq).
func TestAppendUpdatesSeqsMatchRows(t *testing.T) {
	d := dbtest.Open(t, Migrations())
	st := &store{db: d}
	ctx := context.Background()
	rooms := []*room{{id: "a"}, {id: "b"}, {id: "c"}}
	for _, n := range []int{1, 7, maxInsertRows + 3} {
		batch := make([]pendingUpdate, n)
		for i := range batch {
			batch[i] = pendingUpdate{r: rooms[i%len(rooms)], update: []byte(fmt.Sprintf("update %d of %d", i, n))}
		}
		seqs := make([]int64, n)
		if err := st.appendUpdates(ctx, batch, seqs); err != nil {
			t.Fatal(err)
		}
		for i, p := range batch {
			var docID string
			var data []byte
			if err := d.QueryRowContext(ctx, `SELECT doc_id, data FROM collab_updates WHERE seq = ?`, seqs[i]).Scan(&docID, &data); err != nil {
				t.Fatalf("batch of %d, row %d (seq %d): %v", n, i, seqs[i], err)
			}
			if docID != p.r.id || !bytes.Equal(data, p.update) {
				t.Fatalf("batch of %d, seq %d: got %s %q, want %s %q", n, seqs[i], docID, data, p.r.id, p.update)
			}
			if i > 0 && seqs[i] <= seqs[i-1] {
				t.Fatalf("seqs not increasing: %v", seqs)
			}
		}
	}
}

// A message written by the writer goroutine (a big one) sets a write
// deadline; a later direct write, after that deadline has passed, must
// still go through.
func TestDirectWriteAfterQueuedWrite(t *testing.T) {
	e := newEnv(t, Options{WriteTimeout: 300 * time.Millisecond})
	e.user("anne", AccessWrite)
	e.user("bruno", AccessWrite)
	a := e.dial("doc", "anne")
	b := e.dial("doc", "bruno")
	big := strings.Repeat("x", 2*maxDirectFrame)
	a.insertText(big)
	b.waitText(big)
	time.Sleep(3 * e.opts.WriteTimeout)
	a.insertText("!")
	b.waitText(big + "!")
	if b.isClosed() {
		t.Fatal("reader disconnected")
	}
}
