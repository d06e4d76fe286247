package production

import (
	"net/http"
	"strings"
	"testing"

	"socle/internal/ent/collab"
	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/problem"
)

// postIn finds a post by id in a content.
func postIn(c Content, id string) *Post {
	for i := range c.Posts {
		if c.Posts[i].ID == id {
			return &c.Posts[i]
		}
	}
	return nil
}

// editPost writes into the blog's document the way any contributor's
// client can: the document is not the authority.
func editPost(t *testing.T, f *fx, pr Production, postID, key, value string) {
	t.Helper()
	err := f.docs.Apply(f.ctx, pr.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error {
		for _, v := range d.GetArray("posts").ToSlice() {
			if m, ok := v.(*yjs.Map); ok && str(mapOf(m)["id"]) == postID {
				return m.Set(tx, key, value)
			}
		}
		t.Fatalf("no post %s", postID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Readers of a blog see what its owner or a manager published, as they
// approved it; a contributor who writes "published" in the document, or
// edits a post after its publication, changes nothing for them.
func TestModerationIsTheAuthority(t *testing.T) {
	f := newFx(t)
	pr, err := f.svc.Import(f.ctx, f.anne.p, Blog, "html", "Blog de la classe", strings.NewReader(mustEncode(t, samples()[Blog], "html")))
	if err != nil {
		t.Fatal(err)
	}
	// Léa and Tom (CM2) read; Inès (collège) contributes.
	if _, err := f.svc.Share(f.ctx, f.anne.p, pr.ID, NewShare{TargetKind: TargetClass, TargetID: f.cm2, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Share(f.ctx, f.anne.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.ines.id, Role: RoleContribute}); err != nil {
		t.Fatal(err)
	}
	readerSees := func() Content {
		t.Helper()
		_, c, err := f.svc.Content(f.ctx, f.lea.p, pr.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The owner's import published post1 and its comment.
	c := readerSees()
	if len(c.Posts) != 1 || c.Posts[0].ID != "post1" || len(c.Posts[0].Comments) != 1 {
		t.Fatalf("reader sees %+v, want post1 and its comment", c.Posts)
	}

	// A contributor forges the status in the document: nothing shows.
	editPost(t, f, pr, "post2", "status", "published")
	if c := readerSees(); postIn(c, "post2") != nil {
		t.Error("a status written in the document by a contributor reached the readers")
	}
	// Nor may she moderate.
	_, err = f.svc.Moderate(f.ctx, f.ines.p, pr.ID, Moderation{Post: "post2", Decision: DecisionPublish})
	if pe, ok := problem.As(err); !ok || pe.Status != http.StatusForbidden {
		t.Errorf("contributor moderating: %v, want 403", err)
	}
	if _, err := f.svc.Moderate(f.ctx, f.lea.p, pr.ID, Moderation{Post: "post2", Decision: DecisionPublish}); err == nil {
		t.Error("a reader moderated")
	}

	// The owner publishes post2: readers see the copy she approved.
	editPost(t, f, pr, "post2", "body", "Texte relu par la maîtresse.")
	editPost(t, f, pr, "post2", "image", "https://exemple.fr/volcan.jpg")
	st, err := f.svc.Moderate(f.ctx, f.anne.p, pr.ID, Moderation{Post: "post2", Decision: DecisionPublish})
	if err != nil || st != "published" {
		t.Fatalf("publish: %q %v", st, err)
	}
	editPost(t, f, pr, "post2", "body", "Ajout après la relecture <script>alert(1)</script>")
	editPost(t, f, pr, "post2", "image", "https://exemple.fr/autre.jpg")
	if p := postIn(readerSees(), "post2"); p == nil || p.Body != "Texte relu par la maîtresse." || p.Image != "https://exemple.fr/volcan.jpg" {
		t.Errorf("reader sees %+v, want the approved copy", p)
	}
	// The decision is in the document too, for the editors.
	_, own, _ := f.svc.Content(f.ctx, f.anne.p, pr.ID)
	if p := postIn(own, "post2"); p == nil || p.Status != "published" {
		t.Errorf("document status: %+v", p)
	}

	// Refusing a published post takes it down.
	if _, err := f.svc.Moderate(f.ctx, f.anne.p, pr.ID, Moderation{Post: "post1", Decision: DecisionReject}); err != nil {
		t.Fatal(err)
	}
	if postIn(readerSees(), "post1") != nil {
		t.Error("a refused post is still shown")
	}

	// Comments: Inès comments post2; hidden until published.
	err = f.docs.Apply(f.ctx, pr.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error {
		for _, v := range d.GetArray("posts").ToSlice() {
			m := v.(*yjs.Map)
			if str(mapOf(m)["id"]) == "post2" {
				return mapOf(m)["comments"].(*yjs.Array).Push(tx, yjs.MapPrelim{"id": "k1", "author": "Inès", "text": "Super !", "status": "published"})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := postIn(readerSees(), "post2"); p == nil || len(p.Comments) != 0 {
		t.Errorf("unmoderated comment shown: %+v", p)
	}
	if _, err := f.svc.Moderate(f.ctx, f.anne.p, pr.ID, Moderation{Post: "post2", Comment: "k1", Decision: DecisionPublish}); err != nil {
		t.Fatal(err)
	}
	if p := postIn(readerSees(), "post2"); p == nil || len(p.Comments) != 1 || p.Comments[0].Text != "Super !" {
		t.Errorf("published comment not shown: %+v", p)
	}

	// Bad input.
	for _, m := range []Moderation{{Post: "post2", Decision: "approve"}, {Post: "nope", Decision: DecisionPublish},
		{Post: "post2", Comment: "nope", Decision: DecisionPublish}, {Decision: DecisionPublish}} {
		if _, err := f.svc.Moderate(f.ctx, f.anne.p, pr.ID, m); err == nil {
			t.Errorf("moderation %+v accepted", m)
		}
	}
	pad, _ := f.svc.Create(f.ctx, f.anne.p, NewProduction{Kind: Pad, Title: "Pad"})
	if _, err := f.svc.Moderate(f.ctx, f.anne.p, pad.ID, Moderation{Post: "post1", Decision: DecisionPublish}); err == nil {
		t.Error("moderation of a pad accepted")
	}

	// A contributor's server-side write cannot publish either.
	if err := f.svc.Write(f.ctx, f.ines.p, pr.ID, Content{Posts: []Post{{ID: "forged", Title: "Forgé", Status: "published"}}}); err != nil {
		t.Fatal(err)
	}
	if postIn(readerSees(), "forged") != nil {
		t.Error("a contributor's write published a post")
	}
	_, own, _ = f.svc.Content(f.ctx, f.anne.p, pr.ID)
	if p := postIn(own, "forged"); p == nil || p.Status != "submitted" {
		t.Errorf("contributor's published post should wait for moderation: %+v", p)
	}

	// Readers do not get the blog's document (drafts, refused posts) through
	// the engine; a pad's readers do.
	if acc, _ := f.svc.Authorize(f.ctx, f.lea.p, pr.DocID()); acc != collab.AccessNone {
		t.Errorf("blog reader's engine access: %v, want none", acc)
	}
	if acc, _ := f.svc.Authorize(f.ctx, f.ines.p, pr.DocID()); acc != collab.AccessWrite {
		t.Errorf("blog contributor's engine access: %v, want write", acc)
	}
}

func TestModerationAPI(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	pr, err := f.svc.Import(f.ctx, f.anne.p, Blog, "html", "Blog", strings.NewReader(mustEncode(t, samples()[Blog], "html")))
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/productions/" + docID(pr.ID) + "/moderation"
	if st, body := call(t, srv, f.anne, "POST", path, `{"post":"post2","decision":"publish"}`); st != 200 || !strings.Contains(body, `"published"`) {
		t.Errorf("publish: %d %s", st, body)
	}
	if st, body := call(t, srv, f.anne, "POST", path, `{"post":"post2","decision":"maybe"}`); st != 400 || !strings.Contains(body, "invalid_decision") {
		t.Errorf("bad decision: %d %s", st, body)
	}
	if st, _ := call(t, srv, f.tom, "POST", path, `{"post":"post2","decision":"reject"}`); st != 404 {
		t.Errorf("outsider: %d, want 404", st)
	}
}
