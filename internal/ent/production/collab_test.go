package production

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"socle/internal/ent/collab/yjs"
)

func varUint(b []byte, n uint64) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// TestEditThroughEngine: the owner edits her pad over the engine's
// WebSocket (the y-websocket protocol, as a browser would) and the server
// exports the text; a pupil without a share is refused by the hook.
func TestEditThroughEngine(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Pad en direct"})
	if err != nil {
		t.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/collab/" + pr.DocID()
	dial := func(who person) *websocket.Conn {
		ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + who.token}}})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	read := func(ws *websocket.Conn) []byte {
		ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
		defer cancel()
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return data
	}
	// A stranger gets the permission-denied message (y-protocols auth, 2).
	if m := read(dial(f.tom)); len(m) == 0 || m[0] != 2 {
		t.Fatalf("stranger's first message %v", m)
	}
	ws := dial(f.lea)
	if m := read(ws); len(m) < 2 || m[0] != 0 || m[1] != 0 {
		t.Fatalf("owner's first message %v, want sync step 1", m)
	}
	local := yjs.NewDoc()
	update, err := local.Transact(func(tx *yjs.Tx) error {
		return writeContent(local, tx, Content{Kind: Pad, Blocks: []Block{{Type: "paragraph", Runs: []Run{{Text: "Écrit depuis le navigateur", Bold: true}}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	// messageSync (0), sync update (2), the update as var bytes.
	msg := varUint([]byte{0, 2}, uint64(len(update)))
	msg = append(msg, update...)
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageBinary, msg); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ex, err := f.svc.Export(f.ctx, f.lea.p, pr.ID, "md")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(ex.Data), "**Écrit depuis le navigateur**") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edit never reached the server: %q", ex.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
