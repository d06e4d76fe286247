package space

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
	assets "socle/web"
)

// asUser serves h with p as the caller, as the session middleware would.
func asUser(h http.Handler, p *auth.Principal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(web.WithPrincipal(r.Context(), p)))
	})
}

func TestAPIAndPages(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxVersions = 3
	f := newFixture(t, cfg)
	a, spA := f.user("a@exemple.fr", auth.RoleTeacher)
	b, _ := f.user("b@exemple.fr", auth.RolePupil)
	renderer, err := web.NewRenderer(assets.Templates(), f.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(f.log, renderer.ErrorPage)
	NewHandler(f.svc, renderer).Routes(router)

	n := f.put(spA, 0, "notes.txt", "v1")
	f.put(spA, 0, "notes.txt", "v2")
	gone := f.put(spA, 0, "vieux.txt", "x")
	if err := f.svc.Trash(f.ctx, spA, gone.ID); err != nil {
		t.Fatal(err)
	}
	call := func(p *auth.Principal, method, path string) (int, map[string]any) {
		w := httptest.NewRecorder()
		asUser(router, p).ServeHTTP(w, httptest.NewRequest(method, path, nil))
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	code, body := call(a, "GET", "/api/v1/space")
	if code != 200 || len(body["items"].([]any)) != 1 || body["space"].(map[string]any)["quota_bytes"].(float64) != float64(5*GiB) {
		t.Errorf("list: %d %v", code, body)
	}
	if code, body = call(a, "GET", fmt.Sprintf("/api/v1/space/nodes/%d/versions", n.ID)); code != 200 || len(body["items"].([]any)) != 1 {
		t.Errorf("versions: %d %v", code, body)
	}
	if code, body = call(a, "GET", "/api/v1/space/trash"); code != 200 || len(body["items"].([]any)) != 1 {
		t.Errorf("trash: %d %v", code, body)
	}
	// Another person: 404 on A's ids, an empty space of their own.
	if code, _ = call(b, "GET", fmt.Sprintf("/api/v1/space/nodes/%d/versions", n.ID)); code != 404 {
		t.Errorf("B reads A's versions: %d", code)
	}
	if code, _ = call(b, "POST", fmt.Sprintf("/api/v1/space/trash/%d/restore", gone.ID)); code != 404 {
		t.Errorf("B restores A's file: %d", code)
	}
	if code, body = call(b, "GET", "/api/v1/space"); code != 200 || len(body["items"].([]any)) != 0 {
		t.Errorf("B's space: %d %v", code, body)
	}
	if code, body = call(a, "POST", fmt.Sprintf("/api/v1/space/trash/%d/restore", gone.ID)); code != 200 || body["name"] != "vieux.txt" {
		t.Errorf("restore: %d %v", code, body)
	}
	if code, _ = call(nil, "GET", "/api/v1/space"); code != 401 {
		t.Errorf("anonymous: %d", code)
	}
	// The pages render, in French, with the CSRF field in every form.
	for _, path := range []string{"/documents", "/documents/corbeille"} {
		w := httptest.NewRecorder()
		asUser(router, a).ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		html := w.Body.String()
		if strings.Count(html, "<form") != strings.Count(html, `name="csrf"`) {
			t.Errorf("%s: a form lacks the csrf field", path)
		}
	}
	w := httptest.NewRecorder()
	asUser(router, a).ServeHTTP(w, httptest.NewRequest("GET", "/documents", nil))
	if !strings.Contains(w.Body.String(), "Mes documents") || !strings.Contains(w.Body.String(), "notes.txt") {
		t.Errorf("page: %s", w.Body)
	}
	w = httptest.NewRecorder()
	asUser(router, a).ServeHTTP(w, httptest.NewRequest("GET", fmt.Sprintf("/documents/fichiers/%d", n.ID), nil))
	if w.Code != 200 || w.Body.String() != "v2" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q %q", w.Code, w.Body, w.Header().Get("Content-Disposition"))
	}
}
