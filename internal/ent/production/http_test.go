package production

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	sc := doc.Components.Schemas
	props := func(s map[string]any) []string {
		var out []string
		parts := []any{s}
		if all, ok := s["allOf"].([]any); ok {
			parts = all
		}
		for _, part := range parts {
			m := part.(map[string]any)
			if ref, ok := m["$ref"].(string); ok {
				m = sc[strings.TrimPrefix(ref, "#/components/schemas/")]
			}
			for k := range m["properties"].(map[string]any) {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	for name, v := range map[string]any{
		"Production": Production{}, "ProductionDetail": Detail{}, "ProductionShare": Share{}, "ProductionLists": Lists{},
		"NewProduction": NewProduction{}, "ProductionRename": RenameInput{}, "NewProductionShare": NewShare{},
		"ProductionTeam": Team{}, "ProductionAssignment": Assignment{}, "NewProductionAssignment": NewAssignment{}, "ProductionStart": StartInput{},
		"ProductionModeration": Moderation{}, "ProductionVersion": Version{}, "ProductionComment": FollowUp{}, "ProductionLink": Link{},
	} {
		if sc[name] == nil {
			t.Errorf("schema %s is missing", name)
			continue
		}
		if got, want := props(sc[name]), jsonFields(reflect.TypeOf(v)); !slices.Equal(got, want) {
			t.Errorf("schema %s has %v; the Go type has %v", name, got, want)
		}
	}
}

// TestAPIScope is the scope matrix of the productions API: the owner and
// those shared with reach a production, another pupil gets 404, a reader
// cannot write (403), a pupil cannot set work (403).
func TestAPIScope(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	st, body := call(t, srv, f.lea, "POST", "/api/v1/productions", `{"kind":"pad","title":"Notre pad"}`)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	var pr Production
	_ = json.Unmarshal([]byte(body), &pr)
	if pr.ID == 0 || pr.Kind != Pad || pr.Role != RoleOwner {
		t.Fatalf("created %s", body)
	}
	path := fmt.Sprintf("/api/v1/productions/%d", pr.ID)
	if st, body := call(t, srv, f.lea, "GET", path, ""); st != 200 || !strings.Contains(body, `"shares":[]`) {
		t.Errorf("owner GET: %d %s", st, body)
	}
	if st, body := call(t, srv, f.tom, "GET", path, ""); st != 404 || !strings.Contains(body, "not_found") {
		t.Errorf("other pupil GET: %d %s", st, body)
	}
	if st, _ := call(t, srv, f.tom, "GET", path+"/export?format=html", ""); st != 404 {
		t.Errorf("other pupil export: %d", st)
	}
	if st, _ := call(t, srv, person{}, "GET", path, ""); st != 401 {
		t.Errorf("anonymous: %d", st)
	}
	// Share outside the rules: clear French error with its code.
	st, body = call(t, srv, f.lea, "POST", path+"/shares", fmt.Sprintf(`{"target_kind":"user","target_id":%d,"role":"contribute"}`, f.ines.id))
	if st != 403 || !strings.Contains(body, "share_outside_rules") || !strings.Contains(body, "règles de communication") {
		t.Errorf("share outside rules: %d %s", st, body)
	}
	st, body = call(t, srv, f.lea, "POST", path+"/shares", fmt.Sprintf(`{"target_kind":"user","target_id":%d,"role":"read"}`, f.tom.id))
	if st != 200 {
		t.Fatalf("share: %d %s", st, body)
	}
	if st, _ := call(t, srv, f.tom, "GET", path, ""); st != 200 {
		t.Errorf("reader GET: %d", st)
	}
	if st, _ := call(t, srv, f.tom, "PATCH", path, `{"title":"x"}`); st != 403 {
		t.Errorf("reader PATCH: %d", st)
	}
	if st, _ := call(t, srv, f.tom, "DELETE", path, ""); st != 403 {
		t.Errorf("reader DELETE: %d", st)
	}
	if st, body := call(t, srv, f.tom, "POST", "/api/v1/assignments", fmt.Sprintf(`{"title":"x","kind":"pad","group_id":%d}`, f.cm2)); st != 403 {
		t.Errorf("pupil assigns: %d %s", st, body)
	}
	// Export and re-import through the API.
	req, _ := http.NewRequest("GET", srv.URL+path+"/export?format=md", nil)
	req.Header.Set("Authorization", "Bearer "+f.lea.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "notre-pad.md") {
		t.Errorf("export: %d %v", resp.StatusCode, resp.Header)
	}
	if st, body := call(t, srv, f.lea, "GET", path+"/export?format=csv", ""); st != 400 || !strings.Contains(body, "invalid_format") {
		t.Errorf("bad format: %d %s", st, body)
	}
	st, body = call(t, srv, f.lea, "POST", "/api/v1/productions/import?kind=wall&format=json", `{"title":"Mur importé","cards":[{"text":"<script>x</script>","link":"javascript:alert(1)"}]}`)
	if st != 201 || !strings.Contains(body, "Mur importé") {
		t.Errorf("import: %d %s", st, body)
	}
	st, body = call(t, srv, f.lea, "POST", "/api/v1/productions/import?kind=wall&format=json", `{"cards": [`)
	if st != 400 || !strings.Contains(body, "Fichier illisible") {
		t.Errorf("broken import: %d %s", st, body)
	}
	// Assignment through the API, then the teacher's pages.
	st, body = call(t, srv, f.anne, "POST", "/api/v1/assignments", fmt.Sprintf(`{"title":"Frise","kind":"timeline","mode":"individual","due":"2026-12-18","group_id":%d}`, f.cm2))
	if st != 201 {
		t.Fatalf("assign: %d %s", st, body)
	}
	var a Assignment
	_ = json.Unmarshal([]byte(body), &a)
	if st, body := call(t, srv, f.ines, "GET", fmt.Sprintf("/api/v1/assignments/%d", a.ID), ""); st != 404 {
		t.Errorf("stranger reads assignment: %d %s", st, body)
	}
	if st, _ := call(t, srv, f.tom, "GET", fmt.Sprintf("/api/v1/assignments/%d/collect", a.ID), ""); st != 404 {
		t.Errorf("pupil collects: %d", st)
	}
	if st, _ := call(t, srv, f.anne, "GET", fmt.Sprintf("/api/v1/assignments/%d/collect", a.ID), ""); st != 200 {
		t.Errorf("teacher collects: %d", st)
	}
	for _, pg := range []struct {
		who  person
		path string
		want string
	}{
		{f.lea, "/productions", "Notre pad"},
		{f.lea, fmt.Sprintf("/productions/%d", pr.ID), "Partages"},
		{f.tom, fmt.Sprintf("/productions/%d", pr.ID), "Lecture"},
		{f.anne, "/travaux", "Demander une production"},
		{f.anne, fmt.Sprintf("/travaux/%d", a.ID), "Avancement"},
		{f.lea, fmt.Sprintf("/travaux/%d", a.ID), "Mon équipe"},
	} {
		st, body := call(t, srv, pg.who, "GET", pg.path, "")
		if st != 200 || !strings.Contains(body, pg.want) {
			t.Errorf("page %s: %d, lacks %q", pg.path, st, pg.want)
		}
	}
	if st, _ := call(t, srv, f.ines, "GET", fmt.Sprintf("/productions/%d", pr.ID), ""); st != 404 {
		t.Errorf("stranger's page: %d", st)
	}
}
