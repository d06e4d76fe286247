package space

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

func status(err error) int {
	if p, ok := problem.As(err); ok {
		return p.Status
	}
	if err != nil {
		return 500
	}
	return 200
}

func (f *fixture) put(sp Space, parent int64, name, content string) Node {
	f.t.Helper()
	n, err := f.svc.PutFile(f.ctx, sp, parent, name, strings.NewReader(content))
	if err != nil {
		f.t.Fatalf("put %s: %v", name, err)
	}
	return n
}

func (f *fixture) read(sp Space, n Node) string {
	f.t.Helper()
	rc, err := f.svc.Open(f.ctx, n)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

func TestValidateName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"cours.pdf", true}, {"Devoir n°3 — corrigé.odt", true}, {"été", true}, {".bashrc", true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {`a\b`, false}, {"../x", false},
		{"a\x00b", false}, {"a\nb", false}, {"a:b", false}, {"a*b", false}, {"a?b", false}, {`a"b`, false},
		{"a<b", false}, {"a|b", false}, {"fin.", false}, {"fin ", false}, {"CON", false}, {"nul.txt", false},
		{"com1.doc", false}, {"console.txt", true}, {strings.Repeat("é", 127), true}, {strings.Repeat("é", 128), false},
	} {
		err := ValidateName(c.name)
		if (err == nil) != c.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil {
			if p, ok := problem.As(err); !ok || p.Status != http.StatusBadRequest || p.Message == "" {
				t.Errorf("ValidateName(%q): want a 400 problem with a French message, got %v", c.name, err)
			}
		}
	}
}

func TestDetectTypeDeniesExecutables(t *testing.T) {
	for _, c := range []struct {
		name, head string
		denied     bool
	}{
		{"cours.pdf", "%PDF-1.7\n", false},
		{"photo.png", "\x89PNG\r\n\x1a\n", false},
		{"notes.txt", "bonjour", false},
		{"jeu.exe", "anything", true},
		{"script.BAT", "echo", true},
		{"devoir.pdf", "MZ\x90\x00\x03", true},
		{"image.jpg", "\x7fELF\x02\x01", true},
		{"x.ps1", "Write-Host", true},
	} {
		_, denied := DetectType(c.name, []byte(c.head))
		if denied != c.denied {
			t.Errorf("DetectType(%q) denied=%v, want %v", c.name, denied, c.denied)
		}
	}
	f := newFixture(t, DefaultConfig())
	_, sp := f.user("eleve@exemple.fr", auth.RolePupil)
	_, err := f.svc.PutFile(f.ctx, sp, 0, "rapport.pdf", strings.NewReader("MZ this is a PE file"))
	if status(err) != http.StatusUnsupportedMediaType {
		t.Errorf("executable disguised as PDF: got %v, want 415", err)
	}
}

// testConfig is small enough for the quota and versions tests, which run
// on the disk and on S3 blobs.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.QuotaByRole[auth.RolePupil] = 1000
	cfg.QuotaByRole[auth.RoleTeacher] = 5000
	cfg.MaxVersions = 2
	return cfg
}

func TestQuotaPerProfile(t *testing.T) { testQuotaPerProfile(t, newFixture(t, testConfig())) }

func testQuotaPerProfile(t *testing.T, f *fixture) {
	_, pupil := f.user("eleve@exemple.fr", auth.RolePupil)
	_, teacher := f.user("prof@exemple.fr", auth.RoleTeacher)
	if pupil.Quota != 1000 || teacher.Quota != 5000 {
		t.Fatalf("quotas: pupil %d, teacher %d", pupil.Quota, teacher.Quota)
	}
	f.put(pupil, 0, "a.txt", strings.Repeat("a", 600))
	_, err := f.svc.PutFile(f.ctx, pupil, 0, "b.txt", strings.NewReader(strings.Repeat("b", 600)))
	if status(err) != http.StatusInsufficientStorage {
		t.Fatalf("over quota: got %v, want 507", err)
	}
	// The refused upload left nothing behind, and the teacher's larger
	// quota takes it.
	if items, _ := f.svc.List(f.ctx, pupil, 0); len(items) != 1 {
		t.Errorf("pupil has %d items, want 1", len(items))
	}
	f.put(teacher, 0, "b.txt", strings.Repeat("b", 600))
	// The trash counts until purged.
	items, _ := f.svc.List(f.ctx, pupil, 0)
	if err := f.svc.Trash(f.ctx, pupil, items[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutFile(f.ctx, pupil, 0, "c.txt", strings.NewReader(strings.Repeat("c", 600))); status(err) != 507 {
		t.Errorf("trash must count: got %v", err)
	}
	if err := f.svc.Purge(f.ctx, pupil, items[0].ID); err != nil {
		t.Fatal(err)
	}
	f.put(pupil, 0, "c.txt", strings.Repeat("c", 600))
}

func TestTrashAndRestore(t *testing.T) { testTrashAndRestore(t, newFixture(t, testConfig())) }

func testTrashAndRestore(t *testing.T, f *fixture) {
	_, sp := f.user("prof@exemple.fr", auth.RoleTeacher)
	dir, err := f.svc.Mkdir(f.ctx, sp, 0, "Cours")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := f.svc.Mkdir(f.ctx, sp, dir.ID, "Chapitre 1")
	file := f.put(sp, sub.ID, "leçon.txt", "contenu")
	alone := f.put(sp, dir.ID, "seul.txt", "x")
	// Trashed on its own first, then with its folder: two entries.
	if err := f.svc.Trash(f.ctx, sp, alone.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Trash(f.ctx, sp, dir.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resolve(f.ctx, sp, "/Cours/Chapitre 1/leçon.txt"); status(err) != 404 {
		t.Errorf("trashed file still resolves: %v", err)
	}
	trash, _ := f.svc.ListTrash(f.ctx, sp)
	if len(trash) != 2 {
		t.Fatalf("trash has %d entries, want 2", len(trash))
	}
	// A new "Cours" takes the name meanwhile.
	if _, err := f.svc.Mkdir(f.ctx, sp, 0, "Cours"); err != nil {
		t.Fatal(err)
	}
	restored, err := f.svc.Restore(f.ctx, sp, dir.ID)
	if err != nil {
		t.Fatal(err)
	}
	if restored.Name != "Cours (restauré)" {
		t.Errorf("restored as %q", restored.Name)
	}
	got, err := f.svc.Resolve(f.ctx, sp, "/Cours (restauré)/Chapitre 1/leçon.txt")
	if err != nil || got.ID != file.ID || f.read(sp, got) != "contenu" {
		t.Errorf("restored file: %+v, %v", got, err)
	}
	// The file trashed before its folder stays in the trash.
	if _, err := f.svc.Resolve(f.ctx, sp, "/Cours (restauré)/seul.txt"); status(err) != 404 {
		t.Errorf("separately trashed file came back with its folder: %v", err)
	}
	if _, err := f.svc.Restore(f.ctx, sp, alone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resolve(f.ctx, sp, "/Cours (restauré)/seul.txt"); err != nil {
		t.Errorf("restored file: %v", err)
	}
	if _, err := f.svc.Restore(f.ctx, sp, file.ID); status(err) != 404 {
		t.Errorf("restoring what is not a trash entry: %v", err)
	}
}

func TestVersions(t *testing.T) { testVersions(t, newFixture(t, testConfig())) }

func testVersions(t *testing.T, f *fixture) {
	_, sp := f.user("prof@exemple.fr", auth.RoleTeacher)
	var n Node
	for _, c := range []string{"v1", "v2", "v3", "v4"} {
		n = f.put(sp, 0, "notes.txt", c)
	}
	vs, err := f.svc.Versions(f.ctx, sp, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("%d versions, want 2", len(vs))
	}
	if got := f.read(sp, Node{StorageKey: vs[0].StorageKey}); got != "v3" {
		t.Errorf("newest version holds %q, want v3", got)
	}
	if got := f.read(sp, Node{StorageKey: vs[1].StorageKey}); got != "v2" {
		t.Errorf("older version holds %q, want v2", got)
	}
	// Dropped versions freed their blobs: 1 current + 2 versions on disk.
	if got := f.countBlobs(); got != 3 {
		t.Errorf("%d blobs stored, want 3", got)
	}
	cur, err := f.svc.RestoreVersion(f.ctx, sp, n.ID, vs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.read(sp, cur) != "v2" {
		t.Errorf("after restore: %q", f.read(sp, cur))
	}
	vs, _ = f.svc.Versions(f.ctx, sp, n.ID)
	if len(vs) != 2 || f.read(sp, Node{StorageKey: vs[0].StorageKey}) != "v4" {
		t.Errorf("the replaced content must become a version: %+v", vs)
	}
}

// countBlobs counts the stored contents, on disk or in the bucket.
func (f *fixture) countBlobs() int {
	t := f.t
	t.Helper()
	if s3, ok := f.blobs.(*S3Blobs); ok {
		n, err := s3.Count(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	root := filepath.Dir(f.svc.cfg.TempDir)
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err == nil && !d.IsDir() && !strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMoveRules(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	_, sp := f.user("prof@exemple.fr", auth.RoleTeacher)
	a, _ := f.svc.Mkdir(f.ctx, sp, 0, "a")
	b, _ := f.svc.Mkdir(f.ctx, sp, a.ID, "b")
	if err := f.svc.Move(f.ctx, sp, a.ID, b.ID, "a"); status(err) != http.StatusConflict {
		t.Errorf("moving a folder into its child: %v", err)
	}
	if err := f.svc.Move(f.ctx, sp, b.ID, 0, "../b"); status(err) != http.StatusBadRequest {
		t.Errorf("moving to a name with a slash: %v", err)
	}
	if _, err := f.svc.Mkdir(f.ctx, sp, 0, "a"); status(err) != http.StatusConflict {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := f.svc.PutFile(f.ctx, sp, 0, "a", bytes.NewReader(nil)); status(err) != http.StatusConflict {
		t.Errorf("file over a folder: %v", err)
	}
}

func TestSplitPathNeverEscapes(t *testing.T) {
	for _, p := range []string{"../../etc/passwd", "/../../etc/passwd", "a/../../b", "/a/./b/../../../c"} {
		for _, n := range SplitPath(p) {
			if n == ".." || n == "." || n == "" {
				t.Errorf("SplitPath(%q) = %q", p, SplitPath(p))
			}
		}
	}
	if got := SplitPath("/a/../../etc"); len(got) != 1 || got[0] != "etc" {
		t.Errorf("SplitPath climbs: %q", got)
	}
}

func TestIsolationBetweenPeople(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	_, a := f.user("a@exemple.fr", auth.RoleTeacher)
	_, b := f.user("b@exemple.fr", auth.RoleTeacher)
	n := f.put(a, 0, "secret.txt", "à moi")
	d, _ := f.svc.Mkdir(f.ctx, a, 0, "dossier")
	for name, err := range map[string]error{
		"node":     func() error { _, err := f.svc.Node(f.ctx, b, n.ID); return err }(),
		"versions": func() error { _, err := f.svc.Versions(f.ctx, b, n.ID); return err }(),
		"trash":    f.svc.Trash(f.ctx, b, n.ID),
		"list":     func() error { _, err := f.svc.List(f.ctx, b, d.ID); return err }(),
		"put into": func() error { _, err := f.svc.PutFile(f.ctx, b, d.ID, "x.txt", strings.NewReader("x")); return err }(),
		"move":     f.svc.Move(f.ctx, b, n.ID, 0, "pris.txt"),
		"restore":  func() error { _, err := f.svc.Restore(f.ctx, b, n.ID); return err }(),
	} {
		if status(err) != http.StatusNotFound {
			t.Errorf("%s on another person's node: %v, want 404", name, err)
		}
	}
	if _, err := f.svc.Resolve(f.ctx, a, "/secret.txt"); err != nil {
		t.Errorf("owner lost the file: %v", err)
	}
}
