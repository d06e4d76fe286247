package space

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
)

// litmusSummary matches litmus's per-suite summary, e.g.
// "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%".
var litmusSummary = regexp.MustCompile("summary for `(\\w+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")

// TestLitmus runs the litmus WebDAV compliance suite (Debian package
// "litmus") against the handler.
func TestLitmus(t *testing.T) {
	bin, err := exec.LookPath("litmus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("litmus is not installed (apt-get install -y litmus): the WebDAV compliance suite must run in CI")
		}
		t.Skip("litmus is not installed: apt-get install -y litmus to run the WebDAV compliance suite")
	}
	m := &memberships{of: map[int64][]GroupSpace{}}
	cfg := DefaultConfig()
	cfg.Memberships = m
	f := newFixture(t, cfg)
	p, _ := f.user("litmus@exemple.fr", auth.RoleTeacher)
	srv := f.davServer()
	// The personal root, with no shared space (litmus expects an empty
	// collection), then a class space below /dav/Classes/.
	t.Run("personal", func(t *testing.T) { runLitmus(t, bin, srv.URL+"/dav/") })
	m.set(p.User.ID, GroupSpace{ID: 1, Name: "6e B", Kind: OwnerClass})
	t.Run("class", func(t *testing.T) { runLitmus(t, bin, srv.URL+"/dav/Classes/6e%20B/") })
}

func runLitmus(t *testing.T, bin, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-k", url, "litmus@exemple.fr", testPassword)
	cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks")
	cmd.Dir = t.TempDir() // litmus writes debug.log in its working directory
	out, runErr := cmd.CombinedOutput()
	t.Logf("litmus output:\n%s", out)

	want := map[string]bool{"basic": false, "copymove": false, "props": false, "locks": false}
	for _, m := range litmusSummary.FindAllStringSubmatch(string(out), -1) {
		suite, failed := m[1], m[4]
		want[suite] = true
		if failed != "0" {
			t.Errorf("litmus %s: %s of %s tests failed", suite, failed, m[2])
		}
	}
	for suite, seen := range want {
		if !seen {
			t.Errorf("litmus suite %s did not report a summary", suite)
		}
	}
	if strings.Contains(string(out), "FAIL") && !t.Failed() {
		t.Errorf("litmus reported a FAIL")
	}
	if runErr != nil && !t.Failed() {
		t.Errorf("litmus exited with %v", runErr)
	}
}
