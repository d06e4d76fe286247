package helpdesk

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func (f *fixture) page(who account, method, path string, form url.Values) (int, string) {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, f.api.URL+path, body)
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

// The pages render with the real templates: the new ticket form, the list,
// the ticket with its clocks and their explanation, and the survey.
func TestPages(t *testing.T) {
	f := newFixture(t)
	if code, body := f.page(f.teacher, "GET", "/tickets/nouveau", nil); code != http.StatusOK || !strings.Contains(body, `name="title"`) {
		t.Fatalf("new form: %d", code)
	}
	code, loc := f.page(f.teacher, "POST", "/tickets", url.Values{"uai": {f.uaiA}, "title": {"Souris <absente>"}, "kind": {"incident"}, "urgency": {"3"}, "impact": {"3"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/tickets/T-2026-") {
		t.Fatalf("create form: %d %s", code, loc)
	}
	if code, body := f.page(f.teacher, "POST", "/tickets", url.Values{"uai": {f.uaiA}, "title": {""}}); code != http.StatusBadRequest || !strings.Contains(body, "Donnez un titre") {
		t.Fatalf("create form without title: %d", code)
	}
	ref := strings.TrimPrefix(loc, "/tickets/")
	code, body := f.page(f.tech, "GET", "/tickets?status=new", nil)
	if code != http.StatusOK || !strings.Contains(body, ref) || !strings.Contains(body, "Souris &lt;absente&gt;") {
		t.Fatalf("list: %d", code)
	}
	code, body = f.page(f.tech, "GET", "/tickets/"+ref, nil)
	if code != http.StatusOK || !strings.Contains(body, "Pourquoi cette échéance ?") || !strings.Contains(body, "CONV-2026-01") || !strings.Contains(body, "Changer le statut") {
		t.Fatalf("ticket page: %d\n%s", code, body)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	fw.Write([]byte("\xff\xd8 pas vraiment une photo"))
	mw.Close()
	req, _ := http.NewRequest("POST", f.api.URL+"/tickets/"+ref+"/pieces-jointes", &buf)
	req.Header.Set("Authorization", "Bearer "+f.teacher.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload form: %v %v", err, resp.Status)
	}
	if d := f.detail(f.teacher, ref); len(d.Attachments) != 1 || d.Attachments[0].Name != "photo.jpg" {
		t.Fatalf("attachments %+v", d.Attachments)
	}
	if code, loc := f.page(f.tech, "POST", "/tickets/"+ref+"/suivis", url.Values{"body": {"Je passe demain."}}); code != http.StatusSeeOther {
		t.Fatalf("follow-up form: %d %s", code, loc)
	}
	if code, _ := f.page(f.tech, "POST", "/tickets/"+ref+"/statut", url.Values{"status": {"closed"}}); code != http.StatusSeeOther {
		t.Fatalf("status form: %d", code)
	}
	if code, _ := f.page(f.headB, "GET", "/tickets/"+ref, nil); code != http.StatusNotFound {
		t.Fatalf("other school's head: %d", code)
	}
	_, closure := parsed(t, f.out.last(t, f.teacher.email))
	m := regexp.MustCompile(`/enquete/([A-Za-z0-9_-]+)`).FindStringSubmatch(closure)
	if m == nil {
		t.Fatal("no survey link")
	}
	if code, body := f.page(f.tech, "GET", "/enquete/"+m[1], nil); code != http.StatusOK || !strings.Contains(body, "Êtes-vous satisfait") {
		t.Fatalf("survey page: %d", code)
	}
	if code, body := f.page(f.tech, "POST", "/enquete/"+m[1], url.Values{"score": {"4"}}); code != http.StatusOK || !strings.Contains(body, "Merci") {
		t.Fatalf("survey answer: %d", code)
	}

	// Without a convention the page says so.
	f.levels.mu.Lock()
	f.levels.lv = nil
	f.levels.mu.Unlock()
	code, loc = f.page(f.teacher, "POST", "/tickets", url.Values{"uai": {f.uaiA}, "title": {"Hors convention"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	if _, body := f.page(f.teacher, "GET", loc, nil); !strings.Contains(body, "Pas d&#39;engagement de service") {
		t.Fatal("no-engagement message missing")
	}
}
