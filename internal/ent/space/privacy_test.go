package space

import (
	"archive/zip"
	"bytes"
	"io"
	"sort"
	"strings"
	"testing"

	"socle/internal/platform/auth"
)

func TestExportAndErasePerson(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxVersions = 3
	f := newFixture(t, cfg)
	p, sp := f.user("eleve@exemple.fr", auth.RolePupil)
	other, osp := f.user("autre@exemple.fr", auth.RolePupil)
	dir, err := f.svc.Mkdir(f.ctx, sp, 0, "Histoire")
	if err != nil {
		t.Fatal(err)
	}
	f.put(sp, dir.ID, "exposé.txt", "v1")
	f.put(sp, dir.ID, "exposé.txt", "Les Gaulois")
	old := f.put(sp, 0, "brouillon.txt", "à jeter")
	if err := f.svc.Trash(f.ctx, sp, old.ID); err != nil {
		t.Fatal(err)
	}
	f.put(osp, 0, "pas-a-moi.txt", "autre")
	if f.svc.Name() == "" {
		t.Error("contributor without a name")
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := f.svc.ExportPerson(f.ctx, p.User.ID, zw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		got[zf.Name] = string(b)
	}
	sort.Strings(names)
	want := []string{"Mes documents/Corbeille/brouillon.txt", "Mes documents/Histoire/", "Mes documents/Histoire/exposé.txt"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Fatalf("export entries %q, want %q", names, want)
	}
	if got["Mes documents/Histoire/exposé.txt"] != "Les Gaulois" || got["Mes documents/Corbeille/brouillon.txt"] != "à jeter" {
		t.Errorf("export contents: %q", got)
	}
	// Nobody's export for someone without a space.
	zw = zip.NewWriter(io.Discard)
	if err := f.svc.ExportPerson(f.ctx, 999999, zw); err != nil {
		t.Errorf("export of someone without a space: %v", err)
	}

	before := f.countBlobs()
	if before != 4 { // exposé + its version + brouillon + the other pupil's file
		t.Fatalf("%d blobs before erasure, want 4", before)
	}
	if err := f.svc.ErasePerson(f.ctx, p.User.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.countBlobs(); n != 1 {
		t.Errorf("%d blobs after erasure, want the other pupil's 1", n)
	}
	var rows int
	if err := f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM space_spaces WHERE owner_kind = 'user' AND owner_id = ?`, p.User.ID).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("space rows after erasure: %d %v", rows, err)
	}
	if err := f.svc.ErasePerson(f.ctx, p.User.ID); err != nil {
		t.Errorf("erasing twice: %v", err)
	}
	if items, _ := f.svc.List(f.ctx, f.space(other), 0); len(items) != 1 {
		t.Errorf("the other pupil lost files: %d", len(items))
	}
}
