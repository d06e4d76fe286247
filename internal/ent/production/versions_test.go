package production

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/problem"
)

func para(text string) Block { return Block{Type: "paragraph", Runs: []Run{{Text: text}}} }

func padText(t *testing.T, f *fx, who person, id int64) string {
	t.Helper()
	_, c, err := f.svc.Content(f.ctx, who.p, id)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, b := range c.Blocks {
		for _, r := range b.Runs {
			parts = append(parts, r.Text)
		}
	}
	return strings.Join(parts, "|")
}

// A version saved, the text changed, the version restored: the text is
// back for everybody, and the restore itself can be undone.
func TestVersionsSaveAndRestore(t *testing.T) {
	f := newFx(t)
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Notre conte"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Write(f.ctx, f.lea.p, pr.ID, Content{Blocks: []Block{para("Il était une fois")}}); err != nil {
		t.Fatal(err)
	}
	v1, err := f.svc.SaveVersion(f.ctx, f.lea.p, pr.ID, "  Premier jet ")
	if err != nil {
		t.Fatal(err)
	}
	if v1.Label != "Premier jet" || v1.Author != "Léa Martin" || v1.Automatic {
		t.Errorf("saved version %+v", v1)
	}
	if err := f.svc.Write(f.ctx, f.lea.p, pr.ID, Content{Blocks: []Block{para("un dragon")}}); err != nil {
		t.Fatal(err)
	}
	if got := padText(t, f, f.lea, pr.ID); got != "Il était une fois|un dragon" {
		t.Fatalf("before restore: %q", got)
	}
	if _, err := f.svc.RestoreVersion(f.ctx, f.lea.p, pr.ID, v1.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := padText(t, f, f.lea, pr.ID); got != "Il était une fois" {
		t.Errorf("after restore: %q", got)
	}
	vs, err := f.svc.Versions(f.ctx, f.lea.p, pr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !strings.HasPrefix(vs[0].Label, "Avant la restauration") || vs[1].ID != v1.ID {
		t.Fatalf("history %+v", vs)
	}
	// Undo the restore.
	if _, err := f.svc.RestoreVersion(f.ctx, f.lea.p, pr.ID, vs[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := padText(t, f, f.lea, pr.ID); got != "Il était une fois|un dragon" {
		t.Errorf("after undoing the restore: %q", got)
	}
	// An old version exports like the production.
	ex, err := f.svc.ExportVersion(f.ctx, f.lea.p, pr.ID, v1.ID, "md")
	if err != nil || !strings.Contains(string(ex.Data), "Il était une fois") || strings.Contains(string(ex.Data), "dragon") {
		t.Errorf("version export: %v %q", err, ex.Data)
	}

	// Scope: versions are for contributors; others get nothing.
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Versions(f.ctx, f.tom.p, pr.ID); !isStatus(err, http.StatusForbidden) {
		t.Errorf("reader's history: %v, want 403", err)
	}
	if _, err := f.svc.RestoreVersion(f.ctx, f.tom.p, pr.ID, v1.ID, ""); !isStatus(err, http.StatusForbidden) {
		t.Errorf("reader's restore: %v, want 403", err)
	}
	if _, err := f.svc.Versions(f.ctx, f.ines.p, pr.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("outsider's history: %v, want 404", err)
	}
	// A version of another production is not found through this one.
	other, _ := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Autre"})
	if _, err := f.svc.RestoreVersion(f.ctx, f.lea.p, other.ID, v1.ID, ""); !isStatus(err, http.StatusNotFound) {
		t.Errorf("version of another production: %v, want 404", err)
	}
	if _, err := f.svc.SaveVersion(f.ctx, f.lea.p, pr.ID, strings.Repeat("x", 201)); !isStatus(err, http.StatusBadRequest) {
		t.Errorf("long label: %v, want 400", err)
	}
}

func isStatus(err error, status int) bool {
	pe, ok := problem.As(err)
	return ok && pe.Status == status
}

// A wiki page's history: one page comes back, the others keep their
// later changes.
func TestVersionsRestoreOneWikiPage(t *testing.T) {
	f := newFx(t)
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Wiki, Title: "Volcans"})
	if err != nil {
		t.Fatal(err)
	}
	err = f.svc.Write(f.ctx, f.lea.p, pr.ID, Content{Pages: []Page{
		{ID: "p1", Title: "Accueil", Blocks: []Block{para("Bienvenue")}},
		{ID: "p2", Title: "Auvergne", Blocks: []Block{para("80 volcans")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.SaveVersion(f.ctx, f.lea.p, pr.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	// Both pages change afterwards.
	err = f.docs.Apply(f.ctx, pr.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error {
		if err := d.GetMap("titles").Set(tx, "p1", "Accueil modifié"); err != nil {
			return err
		}
		p2 := d.GetMap("pages").Entries()["p2"].(*yjs.XMLFragment)
		return p2.Delete(tx, 0, p2.Len())
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RestoreVersion(f.ctx, f.lea.p, pr.ID, v.ID, "p2"); err != nil {
		t.Fatal(err)
	}
	_, c, err := f.svc.Content(f.ctx, f.lea.p, pr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pages) != 2 || c.Pages[0].Title != "Accueil modifié" || c.Pages[1].Title != "Auvergne" ||
		len(c.Pages[1].Blocks) != 1 || c.Pages[1].Blocks[0].Runs[0].Text != "80 volcans" {
		t.Errorf("after restoring p2: %+v", c.Pages)
	}
	if _, err := f.svc.RestoreVersion(f.ctx, f.lea.p, pr.ID, v.ID, "p9"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("unknown page: %v", err)
	}
}

// Live edits move the production's date (teachers follow progress by it)
// and, once the document is quiet, leave an automatic version.
func TestLiveEditsTouchAndVersion(t *testing.T) {
	f := newFx(t)
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	f.svc.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Journal"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { f.svc.RunVersions(ctx, 5*time.Millisecond); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(20 * time.Millisecond) // subscribed

	advance(5 * time.Minute)
	edit := time.Date(2026, 11, 23, 9, 5, 0, 0, time.UTC)
	// A client's edit, as the engine sees it (no production code involved).
	err = f.docs.Apply(f.ctx, pr.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error {
		return writeBlocks(tx, d.GetXMLFragment("content"), []Block{para("écrit en direct")})
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the production's date to follow the edit", func() bool {
		got, err := f.svc.Get(f.ctx, f.lea.p, pr.ID)
		return err == nil && got.UpdatedAt.Equal(edit)
	})
	vs, _ := f.svc.Versions(f.ctx, f.lea.p, pr.ID)
	if len(vs) != 0 {
		t.Errorf("a version before the document was quiet: %+v", vs)
	}
	advance(VersionQuiet + time.Second)
	waitFor(t, "an automatic version", func() bool {
		vs, _ := f.svc.Versions(f.ctx, f.lea.p, pr.ID)
		return len(vs) == 1 && vs[0].Automatic
	})
	vs, _ = f.svc.Versions(f.ctx, f.lea.p, pr.ID)
	_, _, c, err := f.svc.VersionContent(f.ctx, f.lea.p, pr.ID, vs[0].ID)
	if err != nil || len(c.Blocks) != 1 || c.Blocks[0].Runs[0].Text != "écrit en direct" {
		t.Errorf("automatic version holds %+v (%v)", c.Blocks, err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestVersionsPagesAndAPI(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Wiki, Title: "Wiki <b>"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Write(f.ctx, f.lea.p, pr.ID, Content{Pages: []Page{{ID: "p1", Title: "Accueil", Blocks: []Block{para("Bonjour")}}}}); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/productions/" + docID(pr.ID) + "/versions"
	st, body := call(t, srv, f.lea, "POST", base, `{"label":"Avant la sortie"}`)
	if st != http.StatusCreated || !strings.Contains(body, `"Avant la sortie"`) {
		t.Fatalf("save: %d %s", st, body)
	}
	st, body = call(t, srv, f.lea, "GET", base, "")
	if st != 200 || !strings.Contains(body, `"automatic":false`) {
		t.Fatalf("list: %d %s", st, body)
	}
	vs, _ := f.svc.Versions(f.ctx, f.lea.p, pr.ID)
	vpath := "/productions/" + docID(pr.ID) + "/versions/" + docID(vs[0].ID)
	st, body = call(t, srv, f.lea, "GET", vpath, "")
	if st != 200 || !strings.Contains(body, "Bonjour") || !strings.Contains(body, "Restaurer cette page") || strings.Contains(body, "Wiki <b>") {
		t.Errorf("version page: %d", st)
	}
	if st, body := call(t, srv, f.lea, "GET", vpath+"/export?format=html", ""); st != 200 || !strings.Contains(body, "Bonjour") {
		t.Errorf("version export: %d", st)
	}
	if st, _ := call(t, srv, f.lea, "POST", base+"/"+docID(vs[0].ID)+"/restore", ""); st != 200 {
		t.Errorf("restore: %d", st)
	}
	if st, _ := call(t, srv, f.tom, "GET", base, ""); st != 404 {
		t.Errorf("outsider's history: %d", st)
	}
	if st, _ := call(t, srv, f.lea, "GET", "/productions/"+docID(pr.ID)+"/versions", ""); st != 200 {
		t.Errorf("history page: %d", st)
	}
}
