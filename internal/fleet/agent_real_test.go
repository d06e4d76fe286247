package fleet

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// agentBinary is the FusionInventory agent of the Debian package
// fusioninventory-agent (2.6), which CI installs.
const agentBinary = "fusioninventory-agent"

// skippedCategories keep a run to a few seconds; software, BIOS, hardware,
// OS and networks stay, since they are what the server keeps.
const skippedCategories = "printer,usb,process,environment,user,local_user,local_group,controller,drive,input,sound,video,virtualmachine,slot,port,modem,monitor,battery,psu,licenseinfo,antivirus,firewall,storage,memory,cpu"

func findAgent(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath(agentBinary)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (apt-get install -y fusioninventory-agent): %v", agentBinary, err)
		}
		t.Skipf("%s is not installed: apt-get install -y fusioninventory-agent to run this test", agentBinary)
	}
	return path
}

// runAgent runs one real inventory against url. The agent exits 0 even
// when the server refused its report, so callers check the database.
func runAgent(t *testing.T, bin, url, tag string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "agent.cfg")
	// An empty configuration file keeps /etc/fusioninventory/agent.cfg
	// (which may name another server) out of the run.
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"--conf-file=" + conf, "--server", url, "--tag", tag, "--force", "--tasks=inventory",
		"--no-category=" + skippedCategories, "--backend-collect-timeout=30", "--no-httpd", "--logger=stderr", "--debug"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", bin, err, out)
	}
	return string(out)
}

func TestRealFusionInventoryAgent(t *testing.T) {
	bin := findAgent(t)
	for _, tc := range []struct {
		name  string
		opts  AgentOptions
		extra []string
	}{
		{"zlib", AgentOptions{}, nil},
		{"basic auth challenge", AgentOptions{BasicUser: "inventaire", BasicPassword: "m0t-de-passe"}, []string{"--user=inventaire", "--password=m0t-de-passe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			srv := httptest.NewServer(NewAgentHandler(f.svc, tc.opts))
			defer srv.Close()
			log := runAgent(t, bin, srv.URL+"/ocsinventory", uaiB, tc.extra...)

			res, err := f.svc.List(f.ctx, f.admin, Filter{UAI: uaiB})
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != 1 {
				t.Fatalf("%d assets in %s after the agent ran, want 1; agent log:\n%s", res.Total, uaiB, log)
			}
			a := res.Items[0]
			if a.OSName == "" || a.Name == "" || a.Source != "agent" {
				t.Fatalf("asset without OS or name: %+v", a)
			}
			sw, err := f.svc.Asset(f.ctx, f.admin, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Every Debian system has these packages; the agent reports
			// dpkg's list, with Debian as publisher.
			found := false
			for _, s := range sw.Software {
				if s.Name == "perl-base" && s.Version != "" {
					found = true
				}
			}
			if len(sw.Software) < 50 || !found {
				t.Fatalf("%d software entries, perl-base found: %v", len(sw.Software), found)
			}
			t.Logf("agent stored %s %q (%s %s) with %d software entries", a.UAI, a.Name, a.OSName, a.OSVersion, len(sw.Software))

			// A second run is the same machine, not a new asset.
			runAgent(t, bin, srv.URL+"/ocsinventory", uaiB, tc.extra...)
			if n := f.count(`SELECT COUNT(*) FROM assets`); n != 1 {
				t.Fatalf("%d assets after a second run, want 1", n)
			}
			if strings.TrimSpace(log) == "" {
				t.Fatal("empty agent log")
			}
		})
	}
}
