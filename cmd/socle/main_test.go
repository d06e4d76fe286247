package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"socle/internal/platform/db/dbtest"
)

// The commands are tested as people run them: the real binary, its flags,
// its environment variables, its output and its exit status.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "socle-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "socle")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// socle runs the binary against the test's database, given like serve
// reads it: SOCLE_DATABASE_URL (SQLite file or PostgreSQL schema).
func socle(t *testing.T, dbURL string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "SOCLE_DATABASE_URL="+dbURL, "SOCLE_DATA="+t.TempDir(), "SOCLE_LOG_LEVEL=warn")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func TestVersionAndUsage(t *testing.T) {
	r := socle(t, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "socle ") {
		t.Fatalf("version: %+v", r)
	}
	r = socle(t, "", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, "commande inconnue") {
		t.Fatalf("unknown command: %+v", r)
	}
}

func TestMigrateAndUserCreate(t *testing.T) {
	url := dbtest.URL(t)
	if r := socle(t, url, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	r := socle(t, url, "user", "create", "--email", "Admin@Exemple.fr", "--password", "assez-long-pour-passer", "--role", "platform-admin")
	if r.code != 0 || !strings.Contains(r.stdout, "admin@exemple.fr") {
		t.Fatalf("user create: %+v", r)
	}
	r = socle(t, url, "user", "create", "--email", "admin@exemple.fr", "--password", "assez-long-pour-passer", "--role", "platform-admin")
	if r.code != 1 || !strings.Contains(r.stderr, "existe déjà") {
		t.Fatalf("duplicate user: %+v", r)
	}
	r = socle(t, url, "user", "create", "--email", "x@exemple.fr", "--password", "assez-long-pour-passer", "--role", "king")
	if r.code == 0 || !strings.Contains(r.stderr, "rôle inconnu") {
		t.Fatalf("unknown role: %+v", r)
	}
	r = socle(t, url, "user", "create", "--email", "y@exemple.fr", "--password", "assez-long-pour-passer", "--role", "teacher", "--org", "0350122A")
	if r.code == 0 {
		t.Fatalf("grant on an unknown establishment accepted: %+v", r)
	}
}

func TestImportExitStatusAndJSON(t *testing.T) {
	url := dbtest.URL(t)
	dir := t.TempDir()
	header := "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;Adresse_1;Code postal;Code_commune;Nom_commune;Code_departement;Code_academie;Code_region;latitude;longitude\r\n"
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("\ufeff"+header+
		"0350122T;Ecole primaire publique les Lucioles;Ecole;Public;6 rue PHILIPPE;35580;35016;Baulon;035;14;53;47.98;-1.92\r\n"), 0o600)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("\ufeff"+header+
		"0350165P;Ecole élémentaire publique de Cardroc;Ecole;Public;7 rue des Ecoles;35190;35050;Cardroc;035;14;53;48.28;-1.88\r\n"+
		"0350122A;Ecole à la mauvaise lettre;Ecole;Public;;35580;35016;Baulon;035;14;53;;\r\n"), 0o600)

	r := socle(t, url, "import", "annuaire", bad, "--json")
	if r.code != 1 {
		t.Fatalf("import with a bad UAI must exit 1: %+v", r)
	}
	var rep struct {
		Read, Created, Updated, Unchanged int
		Rejected                          []struct {
			Line   int
			Reason string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, r.stdout)
	}
	if rep.Read != 2 || rep.Created != 0 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 3 {
		t.Fatalf("all-or-nothing report: %+v", rep)
	}
	r = socle(t, url, "import", "annuaire", good, "--json")
	if r.code != 0 {
		t.Fatalf("good import: %+v", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Created != 1 {
		t.Fatalf("good import report: %+v %v", rep, err)
	}
	r = socle(t, url, "import", "annuaire", good)
	if r.code != 0 || !strings.Contains(r.stdout, "1 inchangées") {
		t.Fatalf("re-import must change nothing: %+v", r)
	}
	r = socle(t, url, "import", "annuaire", bad, "--skip-invalid")
	if r.code != 1 || !strings.Contains(r.stdout, "1 créées") || !strings.Contains(r.stdout, "ligne 3") {
		t.Fatalf("--skip-invalid: %+v", r)
	}
	r = socle(t, url, "import", "effectifs", filepath.Join(dir, "missing.csv"))
	if r.code != 1 || !strings.Contains(r.stderr, "ouvrir") {
		t.Fatalf("missing file: %+v", r)
	}
	r = socle(t, url, "import", "annuaire", binary)
	if r.code != 1 || r.stderr == "" {
		t.Fatalf("binary file: %+v", r)
	}
}
