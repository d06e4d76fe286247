package space

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *db.DB
	auth  *auth.Service
	svc   *Service
	dav   *DAV
	log   *slog.Logger
	blobs Blobs
}

const testPassword = "mot-de-passe-solide"

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	blobs, err := NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureBlobs(t, cfg, blobs)
}

// newFixtureBlobs builds the fixture on the given blobs (disk or S3).
func newFixtureBlobs(t *testing.T, cfg Config, blobs Blobs) *fixture {
	t.Helper()
	d := dbtest.Open(t, auth.Migrations(), Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := auth.NewService(d, auth.DefaultSettings(), log)
	svc := NewService(d, blobs, cfg, log)
	return &fixture{t: t, ctx: context.Background(), db: d, auth: a, svc: svc, dav: NewDAV(svc, a, "/dav", log), log: log, blobs: blobs}
}

// user creates an account with a role and returns its principal and space.
func (f *fixture) user(email string, role auth.Role) (*auth.Principal, Space) {
	f.t.Helper()
	g := auth.Grant{Role: role, OrgID: 1}
	if role == auth.RolePlatformAdmin {
		g.OrgID = 0
	}
	id, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: email, Password: testPassword, Grants: []auth.Grant{g}})
	if err != nil {
		f.t.Fatalf("create user: %v", err)
	}
	p, err := f.auth.Principal(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	sp, err := f.svc.UserSpace(f.ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return p, sp
}

func (f *fixture) space(p *auth.Principal) Space {
	f.t.Helper()
	sp, err := f.svc.UserSpace(f.ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return sp
}

// davServer serves /dav/ like the app does.
func (f *fixture) davServer() *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/dav/", f.dav)
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return srv
}
