package collab

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
)

// The tests here run the engine in separate processes (the
// collabtestserver command): to kill one with SIGKILL, and to run two on
// one PostgreSQL database.

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func testServerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "collabtestserver")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "collabtestserver")
		out, err := exec.Command(goTool(), "build", "-o", binPath, "socle/internal/ent/collab/internal/collabtestserver").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build collabtestserver: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type proc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	exited chan struct{}
}

// startProc runs the test server on a database and waits for its address.
func startProc(t *testing.T, dbURL string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(testServerBinary(t), append([]string{"-db", dbURL}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() && p.stderr.Len() > 0 {
			t.Logf("collabtestserver stderr:\n%s", p.stderr)
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				line <- a
			}
		}
	}()
	select {
	case p.addr = <-line:
	case <-p.exited:
		t.Fatalf("collabtestserver exited: %s", p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("collabtestserver did not start")
	}
	return p
}

func (p *proc) url(doc string) string {
	return "ws://" + p.addr + "/collab/" + doc + "?token=test-token"
}

// migratedURL returns a fresh database for child processes, migrated here
// so that the processes start on a ready schema.
func migratedURL(t *testing.T) string {
	t.Helper()
	u := dbtest.URL(t)
	d, err := db.Open(context.Background(), u, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(context.Background(), []db.MigrationSet{Migrations()}); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCrashKeepsAcknowledgedUpdates kills the server with SIGKILL during a
// burst of edits: every update a second client received (hence that the
// server broadcast) must be there after the restart. Compaction runs
// during the burst, so a crash in the middle of one is covered too.
func TestCrashKeepsAcknowledgedUpdates(t *testing.T) {
	u := migratedURL(t)
	p := startProc(t, u, "-compact-every", "50ms", "-compact-min", "10")
	w := dial(t, p.url("crash"))
	obs := dial(t, p.url("crash"))
	obs.waitFor("initial sync", 10*time.Second, func() bool { return len(obs.updates) >= 1 })

	stop := make(chan struct{})
	writerDone := make(chan int)
	go func() {
		i := 0
		for ; ; i++ {
			select {
			case <-stop:
				writerDone <- i
				return
			default:
			}
			if w.isClosed() {
				writerDone <- i
				return
			}
			w.insertText(fmt.Sprintf("%d;", i))
		}
	}()
	t0 := time.Now()
	obs.waitFor("a burst in progress", 30*time.Second, func() bool { return len(obs.updates) >= 300 })
	t.Logf("burst observed after %v", time.Since(t0))
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	sent := <-writerDone

	obs.mu.Lock()
	seen := obs.doc.GetText("t").String()
	seenSV := obs.doc.StateVector()
	acked := len(obs.updates) - 1
	obs.mu.Unlock()
	t.Logf("writer sent %d edits, observer saw %d before SIGKILL", sent, acked)

	t.Logf("killed after %v", time.Since(t0))
	p2 := startProc(t, u)
	c := dial(t, p2.url("crash"))
	c.waitFor("restored document", 10*time.Second, func() bool { return len(c.updates) >= 1 })
	got := c.text()
	if !strings.HasPrefix(got, seen) {
		t.Fatalf("acknowledged edits lost: restored %d chars, observer had %d\nrestored tail %q\nobserver tail %q",
			len(got), len(seen), tail(got), tail(seen))
	}
	sv := c.doc.StateVector()
	for client, clock := range seenSV {
		if sv[client] < clock {
			t.Errorf("client %d: restored clock %d < acknowledged %d", client, sv[client], clock)
		}
	}
}

func tail(s string) string {
	if len(s) > 40 {
		return s[len(s)-40:]
	}
	return s
}

// TestTwoProcessesShareDocuments runs two servers on one PostgreSQL
// database with a client on each: edits and presence cross over through
// LISTEN/NOTIFY.
func TestTwoProcessesShareDocuments(t *testing.T) {
	if os.Getenv(dbtest.EnvURL) == "" {
		t.Skip("scale-out needs PostgreSQL: set " + dbtest.EnvURL + " (SQLite serves one process, fan-out is in-process)")
	}
	u := migratedURL(t)
	p1 := startProc(t, u, "-listen")
	p2 := startProc(t, u, "-listen")
	a := dial(t, p1.url("shared"))
	b := dial(t, p2.url("shared"))
	a.waitFor("sync", 10*time.Second, func() bool { return len(a.updates) >= 1 })
	b.waitFor("sync", 10*time.Second, func() bool { return len(b.updates) >= 1 })

	a.insertText("de p1")
	b.waitText("de p1")
	b.insertText(", de p2")
	a.waitText("de p1, de p2")
	for i := range 20 {
		if i%2 == 0 {
			a.insertText(".")
		} else {
			b.insertText(".")
		}
	}
	want := "de p1, de p2" + strings.Repeat(".", 20)
	a.waitText(want)
	b.waitText(want)

	// Presence crosses too, and so does its removal.
	a.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 77, Clock: 1, State: `{"user":"p1"}`}})))
	b.waitFor("presence from p1", 10*time.Second, func() bool { return b.presence[77].State == `{"user":"p1"}` })
	a.ws.CloseNow()
	b.waitFor("removal from p1", 10*time.Second, func() bool { return b.presence[77].State == "null" })

	// A document first opened on p2 after edits on p1 is read from the
	// database.
	c := dial(t, p1.url("other"))
	c.insertText("ailleurs")
	d := dial(t, p2.url("other"))
	d.waitText("ailleurs")
}
