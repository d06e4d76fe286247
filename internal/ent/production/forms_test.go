package production

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	assets "socle/web"
)

func postForm(t *testing.T, base string, who person, path, contentType string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, body)
	req.Header.Set("Authorization", "Bearer "+who.token)
	req.Header.Set("Content-Type", contentType)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestPageForms drives the server-rendered forms: create, import, share
// (refused outside the rules with the French message), assign.
func TestPageForms(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	form := "application/x-www-form-urlencoded"
	resp, _ := postForm(t, srv.URL, f.lea, "/productions", form, strings.NewReader(url.Values{"kind": {"wall"}, "title": {"Mur de la classe"}}.Encode()))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/productions/") {
		t.Fatalf("create form: %d %s", resp.StatusCode, loc)
	}
	prodPath, _, _ := strings.Cut(loc, "?")
	resp, body := postForm(t, srv.URL, f.lea, prodPath+"/partages", form,
		strings.NewReader(url.Values{"target_kind": {"user"}, "target_id": {fmt.Sprint(f.ines.id)}, "role": {"read"}}.Encode()))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "règles de communication") {
		t.Errorf("share form outside the rules: %d", resp.StatusCode)
	}
	resp, _ = postForm(t, srv.URL, f.lea, prodPath+"/partages", form,
		strings.NewReader(url.Values{"target_kind": {"class"}, "target_id": {fmt.Sprint(f.cm2)}, "role": {"contribute"}}.Encode()))
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("share form: %d", resp.StatusCode)
	}
	if st, body := call(t, srv, f.tom, "GET", prodPath, ""); st != 200 || !strings.Contains(body, "Mur de la classe") {
		t.Errorf("class mate's page: %d", st)
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("format", "mindmap:opml")
	fw, _ := mw.CreateFormFile("file", "carte.opml")
	_, _ = fw.Write([]byte(mustEncode(t, samples()[MindMap], "opml")))
	mw.Close()
	resp, body = postForm(t, srv.URL, f.lea, "/productions/importer", mw.FormDataContentType(), &buf)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import form: %d %s", resp.StatusCode, body)
	}
	imported, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	if st, body := call(t, srv, f.lea, "GET", imported, ""); st != 200 || !strings.Contains(body, "Éruption") || strings.Contains(body, "<script>") {
		t.Errorf("imported page: %d", st)
	}

	resp, _ = postForm(t, srv.URL, f.anne, "/travaux", form, strings.NewReader(url.Values{"title": {"Mur des métiers"}, "kind": {"wall"},
		"mode": {"teams"}, "team_size": {"2"}, "group_id": {fmt.Sprint(f.cm2)}, "due": {"2026-12-18"}}.Encode()))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/travaux/") {
		t.Fatalf("assign form: %d", resp.StatusCode)
	}
	resp, body = postForm(t, srv.URL, f.anne, "/travaux", form, strings.NewReader(url.Values{"title": {"Ancienne classe"}, "kind": {"pad"},
		"group_id": {fmt.Sprint(f.oldClass)}}.Encode()))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "archivé") {
		t.Errorf("assign to an archived class: %d", resp.StatusCode)
	}
}

// The pad's editor page: contributors get it editable, readers read-only,
// others nothing, and the other kinds have no such page.
func TestEditorPage(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	form := "application/x-www-form-urlencoded"
	create := func(kind, title string) string {
		resp, _ := postForm(t, srv.URL, f.lea, "/productions", form, strings.NewReader(url.Values{"kind": {kind}, "title": {title}}.Encode()))
		loc, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/productions/") {
			t.Fatalf("create %s: %d %s", kind, resp.StatusCode, loc)
		}
		return loc
	}
	pad := create("pad", "Notre conte")
	if resp, _ := postForm(t, srv.URL, f.lea, pad+"/partages", form,
		strings.NewReader(url.Values{"target_kind": {"class"}, "target_id": {fmt.Sprint(f.cm2)}, "role": {"read"}}.Encode())); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("share: %d", resp.StatusCode)
	}
	st, body := call(t, srv, f.lea, "GET", pad+"/editer", "")
	if st != 200 || !strings.Contains(body, `/static/editor/pad.js`) || !strings.Contains(body, `data-readonly="false"`) {
		t.Errorf("owner's editor: %d %s", st, body)
	}
	if st, body := call(t, srv, f.tom, "GET", pad+"/editer", ""); st != 200 || !strings.Contains(body, `data-readonly="true"`) {
		t.Errorf("reader's editor must be read-only: %d", st)
	}
	if st, _ := call(t, srv, f.ines, "GET", pad+"/editer", ""); st != http.StatusNotFound {
		t.Errorf("outsider: %d, want 404", st)
	}
	for _, k := range Kinds {
		st, body := call(t, srv, f.lea, "GET", create(string(k), "Production "+string(k))+"/editer", "")
		if st != 200 || !strings.Contains(body, `data-production-editor="`+string(k)+`"`) || !strings.Contains(body, `/static/editor/`+string(k)+`.js`) {
			t.Errorf("editor of a %s: %d", k, st)
		}
		// Its chunks are asked for with the page, and they are embedded.
		preloads := regexp.MustCompile(`<link rel="modulepreload" href="/static/(editor/chunks/[^"]+)">`).FindAllStringSubmatch(body, -1)
		if len(preloads) == 0 {
			t.Errorf("editor of a %s preloads no chunk", k)
		}
		for _, m := range preloads {
			if _, err := fs.Stat(assets.Static(), m[1]); err != nil {
				t.Errorf("editor of a %s preloads %s: %v", k, m[1], err)
			}
		}
		if _, err := fs.Stat(assets.Static(), "editor/"+string(k)+".js"); err != nil {
			t.Errorf("no bundle for the %s editor: %v", k, err)
		}
	}
}
