package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"socle/internal/app"
)

func serveCmd(ctx context.Context, args []string) error {
	var cfg app.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.BindServe(fs)
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	log := cfg.Logger()
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.Demo {
		info, created, err := a.SeedDemo(ctx)
		if err != nil {
			return fmt.Errorf("demo territory: %w", err)
		}
		if created {
			fmt.Printf("Territoire de démonstration créé : %s, %d établissements.\n", info.Departement, info.Establishments)
		}
		fmt.Println("Comptes de démonstration (mot de passe « socle-demo ») :")
		for _, acc := range info.Accounts {
			fmt.Printf("  %-36s %s — %s\n", acc.Email, acc.Role, acc.Scope)
		}
	}
	handler, err := a.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          nil,
	}
	fmt.Printf("Socle écoute sur http://%s (%s)\n", displayAddr(ln.Addr()), cfg.Engine())
	log.Info("serving", "addr", ln.Addr().String(), "engine", cfg.Engine(), "version", app.Version)

	if cfg.MailListen != "" {
		mailSrv := a.Helpdesk.MailServer(cfg.MailListen)
		go func() {
			if err := mailSrv.ListenAndServe(); err != nil && ctx.Err() == nil {
				log.Error("mail listener stopped", "err", err)
			}
		}()
		defer mailSrv.Close()
		log.Info("receiving mail", "addr", cfg.MailListen)
	}
	a.Collab.Start(ctx)
	// The notification mailer and the deletions due after their grace
	// period run only in the server, not in one-shot commands.
	a.Notify.Start()
	defer a.Notify.Close()
	a.Privacy.Start()
	defer a.Privacy.Close()
	// Page views are counted in memory and written every few seconds; the
	// last ones on the way out.
	a.Audience.Start()
	defer a.Audience.Close()
	go cleanup(ctx, a)
	go checkClocks(ctx, a)
	// Notification mails that failed are retried from the outbox.
	go a.Helpdesk.RunOutbox(ctx, 15*time.Second)
	// Productions edited live: their "modified" date and automatic versions.
	go a.Production.RunVersions(ctx, 30*time.Second)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cleanup removes expired sessions and tokens, deletes the people
// suspended from the feed past their grace period, and measures the
// computed indicators, every hour.
func cleanup(ctx context.Context, a *app.App) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.Auth.Cleanup(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("session cleanup failed", "err", err)
		}
		if n, err := a.People.PurgeSuspended(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("purge of suspended people failed", "err", err)
		} else if n > 0 {
			a.Log.Info("suspended people deleted past their grace period", "count", n)
		}
		// Computed indicators are measured for their current period; a
		// value is recorded only when it changed, so history stays readable.
		if _, err := a.Governance.RefreshSystem(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("indicator refresh failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.String()
}

// checkClocks warns and escalates tickets whose SLA clocks pass 75 % and
// 100 %, every minute.
func checkClocks(ctx context.Context, a *app.App) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := a.Helpdesk.CheckClocks(ctx, now); err != nil && ctx.Err() == nil {
				a.Log.Warn("clock check failed", "err", err)
			}
		}
	}
}
