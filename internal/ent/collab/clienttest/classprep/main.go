// Command classprep prepares a class for the mind-map load test
// (../mindmap-load.mjs): it creates the demo territory in a data directory
// when the database is empty, as `socle serve --demo` does, picks a
// production of the wanted kind and the pupils whom the engine's
// authorization hook lets edit it, and issues each of them an API token.
//
// The pupils are the demo's real ones (the CM1 A and 6e A classes the
// demo productions are shared with): access comes from the class shares,
// checked by the same hook the server calls on every /collab connection.
// Only the tokens are made here, since feed pupils have no password. It
// also runs the helpdesk's first clock checks (see settleClocks).
//
// Usage:
//
//	classprep --data DIR [--kind mindmap] [--production ID] [--pupils 30] --out FILE
//
// FILE (mode 0600) receives {"production", "title", "pupils": [{"id",
// "name", "token"}]}. The database is the one of --data, or of --database /
// SOCLE_DATABASE_URL, like every socle command.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"socle/internal/app"
	"socle/internal/ent/collab"
	"socle/internal/platform/auth"
)

type pupil struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Token string `json:"token"`
}

type class struct {
	Production int64   `json:"production"`
	Title      string  `json:"title"`
	Pupils     []pupil `json:"pupils"`
}

func main() {
	var cfg app.Config
	fs := flag.NewFlagSet("classprep", flag.ExitOnError)
	cfg.BindCommon(fs)
	kind := fs.String("kind", "mindmap", "kind of production to pick when --production is not given")
	prodID := fs.Int64("production", 0, "production id (default: the first one of --kind)")
	n := fs.Int("pupils", 30, "pupils who must be able to edit it")
	out := fs.String("out", "", "file to write the class to (tokens inside: mode 0600)")
	_ = fs.Parse(os.Args[1:])
	if *out == "" {
		fmt.Fprintln(os.Stderr, "classprep: --out is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := prepare(ctx, cfg, *kind, *prodID, *n)
	if err == nil {
		err = write(*out, c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "classprep:", err)
		os.Exit(1)
	}
	fmt.Printf("production %d « %s » : %d élèves avec un jeton\n", c.Production, c.Title, len(c.Pupils))
}

func prepare(ctx context.Context, cfg app.Config, kind string, prodID int64, n int) (class, error) {
	var c class
	a, err := app.Open(ctx, cfg, cfg.Logger())
	if err != nil {
		return c, err
	}
	defer a.Close()
	if _, _, err := a.SeedDemo(ctx); err != nil {
		return c, fmt.Errorf("demo territory: %w", err)
	}
	if err := settleClocks(ctx, a); err != nil {
		return c, err
	}
	if prodID == 0 {
		err := a.DB.QueryRowContext(ctx,
			`SELECT id FROM productions WHERE kind = ? AND trashed_at IS NULL ORDER BY id LIMIT 1`, kind).Scan(&prodID)
		if err != nil {
			return c, fmt.Errorf("no %s production: %w", kind, err)
		}
	}
	c.Production = prodID
	doc := fmt.Sprint(prodID)

	rows, err := a.DB.QueryContext(ctx, `SELECT DISTINCT u.id FROM users u JOIN grants g ON g.user_id = u.id
		WHERE g.role = ? AND NOT u.disabled ORDER BY u.id`, string(auth.RolePupil))
	if err != nil {
		return c, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return c, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}

	for _, id := range ids {
		if len(c.Pupils) == n {
			break
		}
		p, err := a.Auth.Principal(ctx, id)
		if err != nil {
			return c, err
		}
		// The hook the server runs on each connection decides who is in.
		access, err := a.Production.Authorize(ctx, p, doc)
		if err != nil {
			return c, err
		}
		if access < collab.AccessWrite {
			continue
		}
		if c.Title == "" {
			pr, err := a.Production.Get(ctx, p, prodID)
			if err != nil {
				return c, err
			}
			c.Title = pr.Title
		}
		tok, _, err := a.Auth.IssueToken(ctx, id, "test de charge carte mentale")
		if err != nil {
			return c, err
		}
		c.Pupils = append(c.Pupils, pupil{ID: id, Name: p.User.DisplayName, Token: tok})
	}
	if len(c.Pupils) < n {
		return c, fmt.Errorf("only %d of %d pupils (%d with the pupil role) may edit production %d", len(c.Pupils), n, len(ids), prodID)
	}
	return c, nil
}

// settleClocks runs the helpdesk's SLA clock checks that a server started
// on the fresh demo would run in its first minutes: the demo's thousands
// of tickets cross their 75 % and 100 % marks all at once there (one
// transaction each, 500 per minute, on the database the collaboration
// engine commits to), long before a server in service would have such a
// backlog. Done here, the measured server is in its steady state.
func settleClocks(ctx context.Context, a *app.App) error {
	start := time.Now()
	notices := 0
	for range 50 {
		now := time.Now()
		var due int
		if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE sla_check_at IS NOT NULL AND sla_check_at <= ?`,
			now.UTC()).Scan(&due); err != nil {
			return fmt.Errorf("tickets due for a clock check: %w", err)
		}
		if due == 0 {
			break
		}
		n, err := a.Helpdesk.CheckClocks(ctx, now)
		if err != nil {
			return fmt.Errorf("clock check: %w", err)
		}
		notices += n
	}
	fmt.Printf("échéances des tickets vérifiées : %d avis en %s\n", notices, time.Since(start).Round(time.Millisecond))
	return nil
}

func write(path string, c class) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
