package space

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
)

func davDo(t *testing.T, h http.Handler, method, path, user, pass string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/dav/", body)
	// Set after construction: the point is to hand hostile paths to the
	// handler raw, as a client that does not clean them would send them.
	r.URL.Path = path
	r.URL.RawPath = ""
	if user != "" {
		r.SetBasicAuth(user, pass)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestDAVAuthentication(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	p, _ := f.user("prof@exemple.fr", auth.RoleTeacher)
	for _, c := range []struct{ user, pass string }{{"", ""}, {"prof@exemple.fr", "mauvais"}, {"inconnu@exemple.fr", testPassword}} {
		w := davDo(t, f.dav, "PROPFIND", "/dav/", c.user, c.pass, nil, "Depth", "0")
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Basic realm="Socle"`) {
			t.Errorf("%q/%q: %d %q", c.user, c.pass, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	if w := davDo(t, f.dav, "PROPFIND", "/dav/", "prof@exemple.fr", testPassword, nil, "Depth", "0"); w.Code != http.StatusMultiStatus {
		t.Fatalf("good password: %d %s", w.Code, w.Body)
	}
	// The success is cached: with the password changed meanwhile, the old
	// one still works until the cache entry expires, and not after.
	if err := f.auth.SetPassword(f.ctx, p.User.ID, "un-autre-mot-de-passe"); err != nil {
		t.Fatal(err)
	}
	if w := davDo(t, f.dav, "PROPFIND", "/dav/", "prof@exemple.fr", testPassword, nil, "Depth", "0"); w.Code != http.StatusMultiStatus {
		t.Errorf("cached credentials: %d", w.Code)
	}
	f.dav.now = func() time.Time { return time.Now().Add(BasicCacheTTL + time.Second) }
	if w := davDo(t, f.dav, "PROPFIND", "/dav/", "prof@exemple.fr", testPassword, nil, "Depth", "0"); w.Code != http.StatusUnauthorized {
		t.Errorf("expired cache entry: %d", w.Code)
	}
	// An API token works as the password.
	tok, _, err := f.auth.IssueToken(f.ctx, p.User.ID, "webdav")
	if err != nil {
		t.Fatal(err)
	}
	if w := davDo(t, f.dav, "PROPFIND", "/dav/", "prof@exemple.fr", tok, nil, "Depth", "0"); w.Code != http.StatusMultiStatus {
		t.Errorf("token: %d", w.Code)
	}
	if w := davDo(t, f.dav, "PROPFIND", "/dav/", "autre@exemple.fr", tok, nil, "Depth", "0"); w.Code != http.StatusUnauthorized {
		t.Errorf("token with another e-mail: %d", w.Code)
	}
}

func TestDAVQuotaTrashAndTypes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QuotaByRole[auth.RolePupil] = 1000
	f := newFixture(t, cfg)
	p, _ := f.user("eleve@exemple.fr", auth.RolePupil)
	const u = "eleve@exemple.fr"
	if w := davDo(t, f.dav, "PUT", "/dav/a.txt", u, testPassword, strings.NewReader(strings.Repeat("a", 600))); w.Code != http.StatusCreated {
		t.Fatalf("put: %d %s", w.Code, w.Body)
	}
	// Announced size over quota: refused before reading.
	w := davDo(t, f.dav, "PUT", "/dav/b.txt", u, testPassword, strings.NewReader(strings.Repeat("b", 600)))
	if w.Code != http.StatusInsufficientStorage {
		t.Errorf("over quota with Content-Length: %d %s", w.Code, w.Body)
	}
	// Unknown size (chunked): refused while streaming.
	w = davDo(t, f.dav, "PUT", "/dav/b.txt", u, testPassword, io.MultiReader(strings.NewReader(strings.Repeat("b", 600))))
	if w.Code != http.StatusInsufficientStorage || !strings.Contains(w.Body.String(), "quota") {
		t.Errorf("over quota, chunked: %d %s", w.Code, w.Body)
	}
	w = davDo(t, f.dav, "PUT", "/dav/jeu.exe", u, testPassword, strings.NewReader("x"))
	if w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("executable: %d %s", w.Code, w.Body)
	}
	w = davDo(t, f.dav, "PUT", "/dav/a:b.txt", u, testPassword, strings.NewReader("x"))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "Windows") {
		t.Errorf("Windows-reserved character: %d %s", w.Code, w.Body)
	}
	// DELETE goes to the trash, restorable.
	if w := davDo(t, f.dav, "DELETE", "/dav/a.txt", u, testPassword, nil); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", w.Code)
	}
	sp := f.space(p)
	trash, _ := f.svc.ListTrash(f.ctx, sp)
	if len(trash) != 1 || trash[0].Name != "a.txt" {
		t.Fatalf("trash: %+v", trash)
	}
	if _, err := f.svc.Restore(f.ctx, sp, trash[0].ID); err != nil {
		t.Fatal(err)
	}
	w = davDo(t, f.dav, "GET", "/dav/a.txt", u, testPassword, nil)
	if w.Code != http.StatusOK || w.Body.Len() != 600 {
		t.Errorf("restored file: %d, %d bytes", w.Code, w.Body.Len())
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") {
		t.Errorf("GET through WebDAV must be sandboxed, CSP %q", csp)
	}
	// Range requests are served by seeking.
	if w := davDo(t, f.dav, "GET", "/dav/a.txt", u, testPassword, nil, "Range", "bytes=10-19"); w.Code != http.StatusPartialContent || w.Body.Len() != 10 {
		t.Errorf("range: %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestDAVPathEscapesAndIsolation(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	f.user("a@exemple.fr", auth.RoleTeacher)
	pb, _ := f.user("b@exemple.fr", auth.RoleTeacher)
	const pw = testPassword
	if w := davDo(t, f.dav, "PUT", "/dav/secret.txt", "a@exemple.fr", pw, strings.NewReader("à a")); w.Code != http.StatusCreated {
		t.Fatalf("put: %d", w.Code)
	}
	// B cannot see, read, move or delete A's file: it does not exist in
	// B's space.
	for _, m := range []string{"GET", "DELETE", "PROPFIND"} {
		if w := davDo(t, f.dav, m, "/dav/secret.txt", "b@exemple.fr", pw, nil); w.Code != http.StatusNotFound {
			t.Errorf("B %s A's file: %d", m, w.Code)
		}
	}
	if w := davDo(t, f.dav, "MOVE", "/dav/secret.txt", "b@exemple.fr", pw, nil, "Destination", "http://example.com/dav/pris.txt"); w.Code != http.StatusNotFound {
		t.Errorf("B MOVE A's file: %d", w.Code)
	}
	// Climbing paths are cleaned against the space's root.
	for _, p := range []string{"/dav/../../etc/passwd", "/dav/%2e%2e/%2e%2e/etc/passwd", "/dav//etc/passwd", "/dav/../dav/../secret.txt", "/dav/..%2f..%2fsecret.txt"} {
		if w := davDo(t, f.dav, "GET", p, "b@exemple.fr", pw, nil); w.Code == http.StatusOK {
			t.Errorf("GET %s as B: %d %q", p, w.Code, w.Body)
		}
	}
	// Writing through "../" lands inside the writer's own space, if at all.
	w := davDo(t, f.dav, "PUT", "/dav/x/../../evil.txt", "b@exemple.fr", pw, strings.NewReader("x"))
	if w.Code == http.StatusCreated {
		if _, err := f.svc.Resolve(f.ctx, f.space(pb), "/evil.txt"); err != nil {
			t.Errorf("PUT through ../ answered 201 but the file is not in B's space: %v", err)
		}
	}
	if _, err := f.svc.Resolve(f.ctx, f.space(pb), "/secret.txt"); err == nil {
		t.Error("B's space holds A's file")
	}
	// A destination on another server or outside /dav/ is refused.
	for _, dst := range []string{"http://ailleurs.example/dav/x.txt", "/etc/passwd"} {
		if w := davDo(t, f.dav, "COPY", "/dav/secret.txt", "a@exemple.fr", pw, nil, "Destination", dst); w.Code < 400 {
			t.Errorf("COPY to %s: %d", dst, w.Code)
		}
	}
	if w := davDo(t, f.dav, "GET", "/dav/secret.txt", "a@exemple.fr", pw, nil); w.Code != http.StatusOK || w.Body.String() != "à a" {
		t.Errorf("A's file: %d %q", w.Code, w.Body)
	}
}

// zeroes is a reader of n bytes that holds none of them.
type zeroes struct{ n int64 }

func (z *zeroes) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// TestDAVStreams100MB checks that a large upload and download go through
// without the content ever sitting in memory.
func TestDAVStreams100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB upload skipped in -short mode")
	}
	const size = 100 << 20
	f := newFixture(t, DefaultConfig())
	f.user("prof@exemple.fr", auth.RoleTeacher)
	srv := f.davServer()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	req, _ := http.NewRequest("PUT", srv.URL+"/dav/gros.bin", &zeroes{n: size})
	req.ContentLength = size
	req.SetBasicAuth("prof@exemple.fr", testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/dav/gros.bin", nil)
	req.SetBasicAuth("prof@exemple.fr", testPassword)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	close(stop)
	<-done
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	peak = max(peak, after.HeapInuse)
	if n != size {
		t.Fatalf("GET returned %d bytes", n)
	}
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("heap in use: %d MB before, peak %d MB during a 100 MB PUT + GET (growth %d MB)",
		before.HeapInuse>>20, peak>>20, growth>>20)
	if growth > 32<<20 {
		t.Errorf("heap grew by %d MB during a 100 MB upload: the content is buffered", growth>>20)
	}
}

// failingReader breaks after some bytes, like a client that goes away.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func TestDAVInterruptedUploadIsNotCommitted(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	p, _ := f.user("prof@exemple.fr", auth.RoleTeacher)
	if w := davDo(t, f.dav, "PUT", "/dav/doc.txt", "prof@exemple.fr", testPassword, strings.NewReader("complet")); w.Code != http.StatusCreated {
		t.Fatalf("put: %d", w.Code)
	}
	if w := davDo(t, f.dav, "PUT", "/dav/doc.txt", "prof@exemple.fr", testPassword, &failingReader{n: 3}); w.Code < 400 {
		t.Errorf("interrupted PUT answered %d", w.Code)
	}
	n, err := f.svc.Resolve(f.ctx, f.space(p), "/doc.txt")
	if err != nil || f.read(f.space(p), n) != "complet" {
		t.Errorf("an interrupted upload replaced the file: %v", err)
	}
}
