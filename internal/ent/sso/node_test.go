package sso

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NpmCI is how CI installs the Node peers (the lockfile pins them).
const NpmCI = "npm ci --prefix internal/ent/sso/clienttest"

// nodePeer runs a script of clienttest/ with env, and returns its stdout.
// Without node or the installed packages, the test is skipped locally and
// fails in CI.
func nodePeer(t *testing.T, script string, need string, env ...string) []byte {
	t.Helper()
	dir, _ := filepath.Abs("clienttest")
	_, nodeErr := exec.LookPath("node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", need)); err != nil || nodeErr != nil {
		msg := "Node peer not installed: run `" + NpmCI + "` (needs node 20+)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node %s: %v\n%s\n%s", script, err, out, stderr)
	}
	return out
}

// The stock http-cas-client middleware, CAS 2.0 and 3.0, logs a person in
// through Socle with a session obtained on the real login page.
func TestCASWithHTTPCASClient(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.RegisterCASService(context.Background(), f.admin, NewCASService{Name: "Application Node", Match: MatchRegex,
		Pattern: `http://127\.0\.0\.1:\d+/.*`, Attributes: []string{AttrEmail, AttrDisplayName, AttrRole}}); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	f.login(b, "lea.martin@eleve.test", "/")
	for _, version := range []string{"2", "3"} {
		t.Run("CAS"+version, func(t *testing.T) {
			out := nodePeer(t, "cas.mjs", "http-cas-client", "SOCLE_URL="+f.srv.URL, "SOCLE_SESSION="+f.sessionCookie(b), "CAS_VERSION="+version)
			var got struct {
				Principal struct {
					User       string         `json:"user"`
					Attributes map[string]any `json:"attributes"`
				} `json:"principal"`
				ReplayStatus int    `json:"replayStatus"`
				TicketURL    string `json:"ticketURL"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("peer output %q: %v", out, err)
			}
			if got.Principal.User == "" || strings.Contains(got.Principal.User, "@") {
				t.Errorf("user = %q, want a pairwise identifier", got.Principal.User)
			}
			if version == "3" {
				a := got.Principal.Attributes
				if a["email"] != "lea.martin@eleve.test" || a["displayName"] != "Léa Martin" || a["role"] != "pupil" {
					t.Errorf("attributes = %v", a)
				}
			}
			if got.ReplayStatus != 401 {
				t.Errorf("replayed ticket: the application answered %d, want its 401 for a failed validation", got.ReplayStatus)
			}
		})
	}
}

// The stock openid-client relying party completes the code flow with PKCE
// and userinfo; a replayed code is refused.
func TestOIDCWithOpenIDClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, secret, err := f.svc.RegisterOIDCClient(ctx, f.admin, NewOIDCClient{ClientID: "node-rp", Name: "RP Node", RedirectURIs: []string{callback}})
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	f.login(b, "lea.martin@eleve.test", "/")
	out := nodePeer(t, "oidc.mjs", "openid-client", "SOCLE_URL="+f.srv.URL, "SOCLE_SESSION="+f.sessionCookie(b),
		"CLIENT_ID="+c.ClientID, "CLIENT_SECRET="+secret, "REDIRECT_URI="+callback)
	var got struct {
		Claims   map[string]any `json:"claims"`
		UserInfo map[string]any `json:"userinfo"`
		Replay   string         `json:"replay"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("peer output %q: %v", out, err)
	}
	if got.Claims["iss"] != f.srv.URL || got.Claims["aud"] != "node-rp" || got.Claims["email"] != "lea.martin@eleve.test" || got.Claims["sub"] == nil {
		t.Errorf("id_token claims: %v", got.Claims)
	}
	if got.UserInfo["sub"] != got.Claims["sub"] || got.UserInfo["name"] != "Léa Martin" {
		t.Errorf("userinfo: %v", got.UserInfo)
	}
	if got.Replay != "invalid_grant" {
		t.Errorf("replayed code: %q, want invalid_grant", got.Replay)
	}
}
