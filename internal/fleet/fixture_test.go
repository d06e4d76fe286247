package fleet

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

// fx is a small territory: one commune with two schools, and a third
// school elsewhere.
type fx struct {
	t   testing.TB
	ctx context.Context
	db  *db.DB
	svc *Service
	// org ids
	commune, schoolA, schoolB, schoolC int64
	// admin sees everything; headA leads school A only.
	admin, headA *auth.Principal
}

const (
	uaiA = "0350001A"
	uaiB = "0350002B"
	uaiC = "0290003C"
)

func newFx(t testing.TB) *fx {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), Migrations())
	f := &fx{t: t, ctx: ctx, db: d, svc: NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	f.svc.now = func() time.Time { return time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC) }
	f.commune = f.org("commune", "35238", "Rennes", 0)
	f.schoolA = f.school(uaiA, "École des Tilleuls", f.commune, "35238", "Rennes")
	f.schoolB = f.school(uaiB, "École des Ormes", f.commune, "35238", "Rennes")
	f.schoolC = f.school(uaiC, "École du Port", 0, "29019", "Brest")
	f.admin = auth.System()
	f.headA = &auth.Principal{User: auth.User{ID: 3, Email: "direction@tilleuls.test"},
		Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: f.schoolA}}}
	return f
}

func (f *fx) org(kind, code, name string, parent int64) int64 {
	f.t.Helper()
	var p any
	if parent != 0 {
		p = parent
	}
	now := time.Now().UTC()
	var id int64
	err := f.db.QueryRowContext(f.ctx, `INSERT INTO organizations (kind, code, name, parent_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, kind, code, name, p, now, now).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fx) school(uai, name string, parent int64, commune, communeName string) int64 {
	f.t.Helper()
	id := f.org("establishment", uai, name, parent)
	if _, err := f.db.ExecContext(f.ctx, `INSERT INTO establishments (org_id, uai, commune_code, commune_name) VALUES (?, ?, ?, ?)`,
		id, uai, commune, communeName); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fx) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
