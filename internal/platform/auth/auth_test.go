package auth_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/problem"
)

func newService(t *testing.T) (*auth.Service, *db.DB) {
	d := dbtest.Open(t, auth.Migrations())
	return auth.NewService(d, auth.DefaultSettings(), slog.New(slog.NewTextHandler(io.Discard, nil))), d
}

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.VerifyPassword(h, "correct horse"); !ok || err != nil {
		t.Fatalf("right password refused: %v %v", ok, err)
	}
	if ok, _ := auth.VerifyPassword(h, "wrong horse"); ok {
		t.Fatal("wrong password accepted")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=1,t=1,p=1$$", "$bcrypt$x", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA"} {
		if ok, err := auth.VerifyPassword(bad, "x"); ok || err == nil {
			t.Errorf("malformed hash %q: ok=%v err=%v", bad, ok, err)
		}
	}
}

func TestLoginSessionsTokensAndThrottling(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	id, err := s.CreateUser(ctx, auth.NewUser{Email: " Anne.Martin@Example.FR ", Password: "un-mot-de-passe", Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Email: "anne.martin@example.fr", Password: "un-mot-de-passe"}); err == nil {
		t.Fatal("duplicate e-mail accepted")
	} else if p, ok := problem.As(err); !ok || p.Code != "email_taken" {
		t.Fatalf("duplicate e-mail: %v", err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Email: "x@example.fr", Password: "court"}); err == nil {
		t.Fatal("short password accepted")
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Email: "y@example.fr", Password: "assez-long", Grants: []auth.Grant{{Role: "king"}}}); err == nil {
		t.Fatal("unknown role accepted")
	}
	u, err := s.Login(ctx, "anne.martin@example.fr", "un-mot-de-passe", "10.0.0.1")
	if err != nil || u.ID != id {
		t.Fatalf("login: %v %v", u, err)
	}
	secret, csrf, _, err := s.StartSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	p, gotCSRF, err := s.SessionPrincipal(ctx, secret)
	if err != nil || p == nil || p.User.ID != id || gotCSRF != csrf {
		t.Fatalf("session: %+v %q %v", p, gotCSRF, err)
	}
	if !p.Global(auth.PermImport) {
		t.Fatal("admin should import")
	}
	if err := s.EndSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.SessionPrincipal(ctx, secret); p != nil {
		t.Fatal("session alive after logout")
	}
	tok, _, err := s.IssueToken(ctx, id, "test")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.TokenPrincipal(ctx, tok); err != nil || p == nil || p.User.ID != id {
		t.Fatalf("token: %v %v", p, err)
	}
	if p, _ := s.TokenPrincipal(ctx, tok+"x"); p != nil {
		t.Fatal("altered token accepted")
	}
	// Five wrong passwords lock the account for the window, even with the
	// right password afterwards.
	for i := 0; i < 5; i++ {
		if _, err := s.Login(ctx, "anne.martin@example.fr", "faux", "10.0.0.2"); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	_, err = s.Login(ctx, "anne.martin@example.fr", "un-mot-de-passe", "10.0.0.3")
	if p, ok := problem.As(err); !ok || p.Code != "too_many_attempts" {
		t.Fatalf("sixth attempt: %v", err)
	}
	// Unknown account: same answer as a wrong password.
	_, err = s.Login(ctx, "nobody@example.fr", "x", "10.0.0.4")
	if p, ok := problem.As(err); !ok || p.Code != "bad_credentials" {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestScopeFollowsTheTree(t *testing.T) {
	ctx := context.Background()
	s, d := newService(t)
	// 1 département → 10 collège ; 2 commune → 20 école; 3 métropole → 2.
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for child, parents := range map[int64][]int64{10: {1}, 20: {2}, 2: {3}} {
			if err := auth.SetParents(ctx, tx, child, parents...); err != nil {
				return err
			}
		}
		return auth.RebuildClosure(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		grant auth.Grant
		in    []int64
		out   []int64
	}{
		{"département recursive", auth.Grant{Role: auth.RoleAuthorityAgent, OrgID: 1, Recursive: true}, []int64{1, 10}, []int64{2, 20, 3}},
		{"métropole recursive reaches its communes' schools", auth.Grant{Role: auth.RoleAuthorityAgent, OrgID: 3, Recursive: true}, []int64{3, 2, 20}, []int64{1, 10}},
		{"commune not recursive", auth.Grant{Role: auth.RoleAuthorityAgent, OrgID: 2}, []int64{2}, []int64{20, 3, 1}},
		{"school head", auth.Grant{Role: auth.RoleEstablishmentHead, OrgID: 20}, []int64{20}, []int64{2, 3, 10}},
	}
	for _, c := range cases {
		p := &auth.Principal{User: auth.User{ID: 99}, Grants: []auth.Grant{c.grant}}
		for _, id := range c.in {
			if ok, err := s.Allowed(ctx, p, auth.PermOrgRead, id); err != nil || !ok {
				t.Errorf("%s: %d should be in scope (%v)", c.name, id, err)
			}
		}
		for _, id := range c.out {
			if ok, err := s.Allowed(ctx, p, auth.PermOrgRead, id); err != nil || ok {
				t.Errorf("%s: %d should be out of scope (%v)", c.name, id, err)
			}
		}
		if ok, _ := s.Allowed(ctx, p, auth.PermImport, c.in[0]); ok {
			t.Errorf("%s: import allowed", c.name)
		}
	}
}

// Disabling an account ends its sessions and revokes its tokens for good:
// enabling it again does not bring them back.
func TestSetDisabled(t *testing.T) {
	svc, d := newService(t)
	ctx := context.Background()
	id, err := svc.CreateUser(ctx, auth.NewUser{Email: "suspendu@ecole.test", DisplayName: "Suspendu", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := svc.IssueToken(ctx, id, "script")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, _, err := svc.StartSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Store().SetDisabled(ctx, d, id, true); err != nil {
		t.Fatal(err)
	}
	if err := svc.Store().SetDisabled(ctx, d, id, false); err != nil {
		t.Fatal(err)
	}
	if p, err := svc.TokenPrincipal(ctx, token); err != nil || p != nil {
		t.Errorf("a token issued before the account was disabled: %v %v", p, err)
	}
	if p, _, err := svc.SessionPrincipal(ctx, secret); err != nil || p != nil {
		t.Errorf("a session opened before the account was disabled: %v %v", p, err)
	}
	if _, err := svc.Login(ctx, "suspendu@ecole.test", "correct horse battery", "192.0.2.1"); err != nil {
		t.Errorf("enabled again, the account cannot log in: %v", err)
	}
}
