package collab

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/auth"
	"socle/internal/platform/db/dbtest"
)

// BenchmarkBroadcast measures the server's path from an editor's update to
// every other client of the document: apply, commit (SQLite or PostgreSQL
// per SOCLE_TEST_DATABASE_URL), broadcast, write. Editors send in rounds —
// each sends one update, then all wait for every delivery — so that
// concurrent updates meet as they do under real load. The clients are
// minimal (they count messages, apply nothing), in the same process: the
// CPU figure includes them. One op is one edit; deliveries/s counts the
// messages received by the others.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{2, 20, 100} {
		b.Run(fmt.Sprintf("editors=%d", n), func(b *testing.B) { benchBroadcast(b, n) })
	}
}

func benchBroadcast(b *testing.B, n int) {
	d := dbtest.Open(b, Migrations())
	allow := func(context.Context, *auth.Principal, string) (Access, error) { return AccessWrite, nil }
	srv := NewServer(d, nil, allow, testLogger(b), Options{MessagesPerSecond: 1e6, MessageBurst: 1e6})
	ctx, cancel := context.WithCancel(context.Background())
	srv.Start(ctx)
	mux := http.NewServeMux()
	mux.Handle("GET /collab/{id}", srv)
	hs := httptest.NewServer(mux)
	defer func() {
		cancel()
		hs.Close()
		srv.Close()
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/collab/bench"

	rounds := b.N/n + 1
	updates := make([][][]byte, n)
	for i := range n {
		doc := yjs.NewDoc()
		m := doc.GetMap("m")
		for j := range rounds {
			u, err := doc.Transact(func(tx *yjs.Tx) error { return m.Set(tx, fmt.Sprintf("e%d", i), float64(j)) })
			if err != nil {
				b.Fatal(err)
			}
			updates[i] = append(updates[i], encodeSync(syncUpdate, u))
		}
	}

	var delivered, target atomic.Int64
	reached := make(chan struct{}, 1)
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	for i := range n {
		c, _, err := websocket.Dial(context.Background(), url, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadLimit(-1)
		conns[i] = c
		// The server's sync step 1 comes once the connection is in the
		// room: only then does it receive broadcasts.
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := true; ; first = false {
				_, msg, err := c.Read(context.Background())
				if err != nil {
					return
				}
				if first {
					close(ready)
				}
				if len(msg) > 2 && msg[0] == msgSync && msg[1] == syncUpdate {
					if delivered.Add(1) == target.Load() {
						select {
						case reached <- struct{}{}:
						default:
						}
					}
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			b.Fatal("no sync step 1 from the server")
		}
	}
	defer func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
		wg.Wait()
	}()

	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	start := time.Now()
	sent := 0
	for j := 0; sent < b.N; j++ {
		k := min(n, b.N-sent)
		for i := range k {
			if err := conns[i].Write(context.Background(), websocket.MessageBinary, updates[i][j]); err != nil {
				b.Fatal(err)
			}
		}
		sent += k
		want := int64(sent) * int64(n-1)
		target.Store(want)
		for delivered.Load() < want {
			select {
			case <-reached:
			case <-time.After(30 * time.Second):
				b.Fatalf("delivered %d of %d", delivered.Load(), want)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	del := float64(delivered.Load())
	b.ReportMetric(del/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/del, "cpu-ns/delivery")
}

// BenchmarkAppendUpdates is the commit alone: one op is one transaction of
// batch updates.
func BenchmarkAppendUpdates(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			d := dbtest.Open(b, Migrations())
			st := &store{db: d}
			r := &room{id: "bench"}
			batch := make([]pendingUpdate, n)
			for i := range batch {
				batch[i] = pendingUpdate{r: r, update: make([]byte, 40)}
			}
			seqs := make([]int64, n)
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				if err := st.appendUpdates(ctx, batch, seqs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
