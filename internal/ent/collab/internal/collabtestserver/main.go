// Command collabtestserver serves the collaboration engine alone, for the
// tests that need a separate process (killing it with SIGKILL mid-burst,
// running two of them on one PostgreSQL database) and for the load
// benchmark in bench/collab (-pprof ADDR profiles it under load). Every
// client holding the fixed token may write; nothing else is authenticated.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"socle/internal/ent/collab"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/web"
)

func main() {
	dbURL := flag.String("db", "", "database URL (sqlite:PATH or postgres://...)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	token := flag.String("token", "test-token", "the token clients must pass in ?token=")
	listen := flag.Bool("listen", false, "use PostgreSQL LISTEN/NOTIFY for fan-out")
	compactEvery := flag.Duration("compact-every", 30*time.Second, "compaction period")
	compactMin := flag.Int("compact-min", 100, "log rows that trigger compaction")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (empty: off)")
	flag.Parse()
	if *pprofAddr != "" {
		// http.DefaultServeMux carries the pprof handlers; sample lock
		// contention too (only when profiling).
		runtime.SetMutexProfileFraction(10)
		runtime.SetBlockProfileRate(100000)
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }()
	}
	if err := run(*dbURL, *addr, *token, *listen, *compactEvery, *compactMin); err != nil {
		fmt.Fprintln(os.Stderr, "collabtestserver:", err)
		os.Exit(1)
	}
}

func run(dbURL, addr, token string, listen bool, compactEvery time.Duration, compactMin int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := db.Open(ctx, dbURL, "")
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx, []db.MigrationSet{collab.Migrations()}); err != nil {
		return err
	}
	// Generous rate limits: the tests send bursts from one connection.
	opts := collab.Options{CompactEvery: compactEvery, CompactMinUpdates: compactMin, MessagesPerSecond: 1e5, MessageBurst: 1e5}
	if listen {
		opts.ListenerURL = dbURL
	}
	allow := func(_ context.Context, p *auth.Principal, _ string) (collab.Access, error) {
		if p == nil {
			return collab.AccessNone, nil
		}
		return collab.AccessWrite, nil
	}
	srv := collab.NewServer(d, nil, allow, log, opts)
	srv.Start(ctx)
	defer srv.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /collab/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") == token {
			r = r.WithContext(web.WithPrincipal(r.Context(), &auth.Principal{User: auth.User{ID: 1}}))
		}
		srv.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The parent test reads this line to learn the port.
	fmt.Printf("LISTENING %s\n", ln.Addr())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
