package production

import (
	"strings"
	"testing"
	"time"

	"socle/internal/ent/collab/yjs"
)

func titles(l Lists) []string {
	var out []string
	for _, p := range append(l.Mine, l.SharedWith...) {
		out = append(out, p.Title)
	}
	return out
}

// Search finds a production by words of its text, accents and case aside,
// among those the caller reaches only; live edits are found once the
// document is quiet; a blog is searched in what its readers see.
func TestSearchProductions(t *testing.T) {
	f := newFx(t)
	pad, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Notre sortie"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Write(f.ctx, f.lea.p, pad.ID, Content{Blocks: []Block{para("L'Évaporation au-dessus du Piton de la Fournaise")}}); err != nil {
		t.Fatal(err)
	}
	mm, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: MindMap, Title: "Carte"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Write(f.ctx, f.lea.p, mm.ID, Content{Nodes: []Node{{ID: "root", Text: "Le cycle de l'eau"}}}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"evaporation FOURNAISE": "Notre sortie",
		"sortie":                "Notre sortie",
		"cycle eau":             "Carte",
		"fournaise carte":       "",
	} {
		l, err := f.svc.Search(f.ctx, f.lea.p, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(titles(l), ","); got != want {
			t.Errorf("Léa searches %q: %q, want %q", q, got, want)
		}
	}
	// Tom reaches nothing of Léa's, until she shares.
	if l, _ := f.svc.Search(f.ctx, f.tom.p, "fournaise"); len(titles(l)) != 0 {
		t.Errorf("Tom finds %v in productions he cannot reach", titles(l))
	}
	if _, err := f.svc.Share(f.ctx, f.lea.p, pad.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	if l, _ := f.svc.Search(f.ctx, f.tom.p, "fournaise"); strings.Join(titles(l), ",") != "Notre sortie" {
		t.Errorf("Tom finds %v once shared", titles(l))
	}

	// A live edit (a client's, through the engine) is found once quiet.
	err = f.docs.Apply(f.ctx, pad.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error {
		return writeBlocks(tx, d.GetXMLFragment("content"), []Block{para("Un dragon apparaît")})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.touchAndSnapshot(f.ctx, pad.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if l, _ := f.svc.Search(f.ctx, f.tom.p, "dragon apparait"); strings.Join(titles(l), ",") != "Notre sortie" {
		t.Errorf("live edit not found: %v", titles(l))
	}

	// A blog's drafts are not searchable; its published copies are.
	blog, err := f.svc.Create(f.ctx, f.anne.p, NewProduction{Kind: Blog, Title: "Blog"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Share(f.ctx, f.anne.p, blog.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Write(f.ctx, f.anne.p, blog.ID, Content{Posts: []Post{
		{ID: "a", Title: "Brouillon secret", Body: "confidentiel", Status: "draft"},
		{ID: "b", Title: "Visite", Body: "Le musée des volcans", Status: "published"}}}); err != nil {
		t.Fatal(err)
	}
	if l, _ := f.svc.Search(f.ctx, f.tom.p, "confidentiel"); len(titles(l)) != 0 {
		t.Errorf("a draft's words are found: %v", titles(l))
	}
	if l, _ := f.svc.Search(f.ctx, f.tom.p, "musee volcans"); strings.Join(titles(l), ",") != "Blog" {
		t.Errorf("published words not found: %v", titles(l))
	}

	srv := f.server()
	if st, body := call(t, srv, f.tom, "GET", "/api/v1/productions?q=dragon", ""); st != 200 || !strings.Contains(body, "Notre sortie") || strings.Contains(body, `"Blog"`) {
		t.Errorf("API search: %d %s", st, body)
	}
	if st, body := call(t, srv, f.lea, "GET", "/productions?q=%C3%A9vaporation", ""); st != 200 || !strings.Contains(body, "Notre sortie") || strings.Contains(body, ">Carte<") {
		t.Errorf("search page: %d", st)
	}
}
