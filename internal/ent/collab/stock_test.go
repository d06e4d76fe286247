package collab

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

// TestStockClients runs the stock yjs + y-websocket clients (Node, in
// clienttest/, installed with npm ci) against the server: two writers and a
// read-only member.
func TestStockClients(t *testing.T) {
	dir, err := filepath.Abs("clienttest")
	if err != nil {
		t.Fatal(err)
	}
	node, nodeErr := exec.LookPath("node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "y-websocket")); err != nil || nodeErr != nil {
		msg := "stock clients need node and `npm ci` in internal/ent/collab/clienttest"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	e := newEnv(t, Options{})
	tokA := e.user("anne", AccessWrite)
	tokB := e.user("bruno", AccessWrite)
	tokR := e.user("lea", AccessRead)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "stock.mjs", "ws"+strings.TrimPrefix(e.hs.URL, "http")+"/collab", "pad-42")
	cmd.Dir = dir
	// Tokens through the environment, not the command line.
	cmd.Env = append(os.Environ(), "COLLAB_TOKEN_A="+tokA, "COLLAB_TOKEN_B="+tokB, "COLLAB_TOKEN_R="+tokR)
	out, err := cmd.Output()
	var res struct {
		A, B, Reader, Newcomer, Error string
		Denied                        []string
	}
	if jerr := json.Unmarshal([]byte(lastLine(string(out))), &res); jerr != nil || err != nil || res.Error != "" {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node stock.mjs: %v %v\nstdout: %s\nstderr: %s", err, jerr, out, stderr)
	}
	want := "Bonjour de A et de B."
	if res.A != want || res.B != want || res.Newcomer != want {
		t.Errorf("texts: a=%q b=%q newcomer=%q, want %q", res.A, res.B, res.Newcomer, want)
	}
	if !strings.Contains(res.Reader, "PIRATE") {
		t.Errorf("reader text %q: its local edit should remain local", res.Reader)
	}
	if len(res.Denied) == 0 || res.Denied[0] != reasonReadOnly {
		t.Errorf("denied = %q", res.Denied)
	}
	if got := e.serverText("pad-42"); got != want {
		t.Errorf("server text = %q", got)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
