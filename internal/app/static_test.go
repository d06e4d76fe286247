package app

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	assets "socle/web"
)

// The editors' scripts and the styles go out compressed to browsers that
// accept it, and whole to those that do not.
func TestStaticAssetsAreCompressed(t *testing.T) {
	s := newTestServer(t)
	chunks, err := fs.Glob(assets.Static(), "editor/chunks/*.js")
	if err != nil || len(chunks) == 0 {
		t.Fatalf("no editor chunk embedded: %v", err)
	}
	for _, name := range append(chunks, "socle.css", "editor/pad.js") {
		want, err := fs.ReadFile(assets.Static(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range []string{"gzip", ""} {
			req, _ := http.NewRequest("GET", s.srv.URL+"/static/"+name, nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			// A transport that leaves the encoding to the test.
			resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := raw
			if got := resp.Header.Get("Content-Encoding"); got == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			} else if enc == "gzip" && len(want) > 1024 {
				t.Errorf("%s: not compressed (Content-Encoding %q)", name, got)
			}
			if resp.StatusCode != 200 || !bytes.Equal(body, want) {
				t.Errorf("%s (%q): %d, %d bytes, want the %d bytes of the file", name, enc, resp.StatusCode, len(body), len(want))
			}
			cache := resp.Header.Get("Cache-Control")
			if strings.HasPrefix(name, "editor/chunks/") != strings.Contains(cache, "immutable") {
				t.Errorf("%s: Cache-Control %q (only the hashed chunks are immutable)", name, cache)
			}
			if enc == "gzip" && strings.HasPrefix(name, "editor/chunks/") && len(raw)*2 > len(want) {
				t.Errorf("%s: %d bytes compressed for %d", name, len(raw), len(want))
			}
		}
	}
}
