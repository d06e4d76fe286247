package fleet

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
	assets "socle/web"
)

// The agent endpoints behind the application's middlewares, wired as
// internal/app must wire them: exempt from sessions and CSRF, so that an
// agent's POST with Basic credentials reaches the handler.
func TestAgentBehindAppMiddlewares(t *testing.T) {
	f := newFx(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(log, rd.ErrorPage)
	NewHandler(f.svc, rd, AgentOptions{BasicUser: "agent", BasicPassword: "pw"}).Routes(router)
	sessions := &web.Sessions{Auth: auth.NewService(f.db, auth.DefaultSettings(), log), Router: router, Exempt: AgentPaths()}
	h := web.Chain(router, web.SecurityHeaders, http.NewCrossOriginProtection().Handler, sessions.Middleware)

	body := machine{tag: uaiA, name: "PC-MW", serial: "MW1"}.xml()
	req := httptest.NewRequest("POST", "/ocsinventory", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/xml")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 401 || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no credentials: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	req = httptest.NewRequest("POST", "/inventory", strings.NewReader(body))
	req.SetBasicAuth("agent", "pw")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || f.count(`SELECT COUNT(*) FROM assets`) != 1 {
		t.Fatalf("through the middlewares: %d %s", rec.Code, rec.Body)
	}
}
