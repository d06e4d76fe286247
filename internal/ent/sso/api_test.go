package sso

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
)

func (f *fixture) apiPost(t *testing.T, token, path, payload string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewBufferString(payload))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	adminTok, _, err := f.auth.IssueToken(ctx, f.admin.User.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	pupilTok, _, err := f.auth.IssueToken(ctx, f.pupilID, "test")
	if err != nil {
		t.Fatal(err)
	}
	cas := `{"name":"ENT lycée","match":"prefix","pattern":"https://lycee.example.fr/","attributes":["email","uai"]}`
	client := `{"client_id":"mediatheque","name":"Médiathèque","public":false,"redirect_uris":["https://media.example.fr/cb"],"scopes":["openid","email"]}`
	cases := []struct {
		name, token, path, body string
		status                  int
		code                    string
	}{
		{"cas anonymous", "", "/api/v1/sso/cas-services", cas, 401, "unauthenticated"}, // no session, no bearer
		{"cas pupil", pupilTok, "/api/v1/sso/cas-services", cas, 403, "forbidden"},
		{"cas admin", adminTok, "/api/v1/sso/cas-services", cas, 201, ""},
		{"cas loose prefix", adminTok, "/api/v1/sso/cas-services", `{"name":"x","match":"prefix","pattern":"https://lycee.example.fr"}`, 400, "invalid_pattern"},
		{"cas bad regex", adminTok, "/api/v1/sso/cas-services", `{"name":"x","match":"regex","pattern":"(("}`, 400, "invalid_pattern"},
		{"cas unknown attribute", adminTok, "/api/v1/sso/cas-services", `{"name":"x","match":"prefix","pattern":"https://a.fr/","attributes":["ine"]}`, 400, "invalid_attribute"},
		{"client pupil", pupilTok, "/api/v1/sso/oidc-clients", client, 403, "forbidden"},
		{"client admin", adminTok, "/api/v1/sso/oidc-clients", client, 201, ""},
		{"client taken", adminTok, "/api/v1/sso/oidc-clients", client, 409, "client_id_taken"},
		{"client http redirect", adminTok, "/api/v1/sso/oidc-clients", `{"name":"x","redirect_uris":["http://media.example.fr/cb"]}`, 400, "invalid_redirect_uri"},
		{"client unknown scope", adminTok, "/api/v1/sso/oidc-clients", `{"name":"x","redirect_uris":["https://m.fr/cb"],"scopes":["offline_access"]}`, 400, "invalid_scope"},
	}
	for _, c := range cases {
		status, out := f.apiPost(t, c.token, c.path, c.body)
		if status != c.status || (c.code != "" && out["code"] != c.code) {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, out, c.status, c.code)
		}
		if c.name == "client admin" && (out["client_secret"] == nil || out["client_secret"] == "") {
			t.Errorf("a confidential client's secret must be shown once: %v", out)
		}
	}
	// Only the hash of the secret is kept.
	var hash string
	if err := f.db.QueryRowContext(ctx, `SELECT secret_hash FROM sso_oidc_clients WHERE client_id = ?`, "mediatheque").Scan(&hash); err != nil || len(hash) != 64 {
		t.Errorf("secret hash %q: %v", hash, err)
	}
}

// Both engines end with the same tables and columns: SQLite always, and
// PostgreSQL beside it when the run has one.
func TestMigrationsSameSchema(t *testing.T) {
	ctx := context.Background()
	columns := func(rawURL string) map[string]bool {
		d, err := db.Open(ctx, rawURL, "")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, err := d.Migrate(ctx, []db.MigrationSet{auth.Migrations(), Migrations()}); err != nil {
			t.Fatal(err)
		}
		cols, err := d.Columns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, c := range cols {
			if strings.HasPrefix(c.Table, "sso_") {
				out[c.Table+"."+c.Name] = true
			}
		}
		return out
	}
	lite := columns("sqlite:" + t.TempDir() + "/socle.db")
	for _, want := range []string{"sso_keys.secret", "sso_cas_services.attributes", "sso_cas_tickets.ticket_hash", "sso_oidc_codes.used_at", "sso_oidc_tokens.code_hash"} {
		if !lite[want] {
			t.Errorf("column %s missing", want)
		}
	}
	if os.Getenv(dbtest.EnvURL) == "" {
		return
	}
	pg := columns(dbtest.URL(t))
	if !maps.Equal(lite, pg) {
		t.Errorf("schemas differ:\nsqlite   %v\npostgres %v", slices.Sorted(maps.Keys(lite)), slices.Sorted(maps.Keys(pg)))
	}
}
