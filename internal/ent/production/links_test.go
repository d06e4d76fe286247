package production

import (
	"net/http"
	"strings"
	"testing"

	"socle/internal/ent/collab"
)

// A pupil's link reaches her schoolmates, not a collège pupil she may not
// write to; a teacher's link reaches the collège pupil; revoking a link
// takes back the access it gave.
func TestShareLinks(t *testing.T) {
	f := newFx(t)
	pad, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Notre conte"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.svc.CreateLink(f.ctx, f.lea.p, pad.ID, RoleContribute)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(l.Path, "/partage/")
	got, err := f.svc.FollowLink(f.ctx, f.tom.p, token)
	if err != nil || got.ID != pad.ID || got.Role != RoleContribute {
		t.Fatalf("Tom follows Léa's link: %+v %v", got, err)
	}
	if acc, _ := f.svc.Authorize(f.ctx, f.tom.p, pad.DocID()); acc != collab.AccessWrite {
		t.Errorf("Tom's engine access %v, want write", acc)
	}
	if _, err := f.svc.FollowLink(f.ctx, f.ines.p, token); !isStatus(err, http.StatusNotFound) {
		t.Errorf("a pupil's link followed outside her communication rules: %v, want 404", err)
	}
	if _, err := f.svc.Get(f.ctx, f.ines.p, pad.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("Inès reaches the pad: %v", err)
	}
	// Following again, or as the owner, changes nothing.
	if got, err := f.svc.FollowLink(f.ctx, f.lea.p, token); err != nil || got.Role != RoleOwner {
		t.Errorf("owner follows her link: %+v %v", got, err)
	}
	ls, err := f.svc.Links(f.ctx, f.lea.p, pad.ID)
	if err != nil || len(ls) != 1 || ls[0].Followers != 1 || ls[0].Role != RoleContribute {
		t.Fatalf("links %+v %v", ls, err)
	}

	// A teacher's link reaches the whole ENT.
	wiki, err := f.svc.Create(f.ctx, f.anne.p, NewProduction{Kind: Wiki, Title: "Wiki de la liaison"})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := f.svc.CreateLink(f.ctx, f.anne.p, wiki.ID, RoleRead)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.FollowLink(f.ctx, f.ines.p, strings.TrimPrefix(tl.Path, "/partage/")); err != nil || got.Role != RoleRead {
		t.Errorf("Inès follows the teacher's link: %+v %v", got, err)
	}

	// Revoking takes the access back, open editors included.
	if err := f.svc.RevokeLink(f.ctx, f.lea.p, pad.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(f.ctx, f.tom.p, pad.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("Tom keeps the pad after the revocation: %v", err)
	}
	if acc, _ := f.svc.Authorize(f.ctx, f.tom.p, pad.DocID()); acc != collab.AccessNone {
		t.Errorf("Tom's engine access after the revocation: %v", acc)
	}
	if _, err := f.svc.FollowLink(f.ctx, f.tom.p, token); !isStatus(err, http.StatusNotFound) {
		t.Errorf("a revoked link still works: %v", err)
	}

	// Bad input and roles.
	if _, err := f.svc.CreateLink(f.ctx, f.lea.p, pad.ID, RoleManage); !isStatus(err, http.StatusBadRequest) {
		t.Errorf("a manage link: %v, want 400", err)
	}
	if _, err := f.svc.CreateLink(f.ctx, f.ines.p, wiki.ID, RoleRead); !isStatus(err, http.StatusForbidden) {
		t.Errorf("a reader made a link: %v, want 403", err)
	}
	if err := f.svc.RevokeLink(f.ctx, f.anne.p, wiki.ID, l.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("revoking another production's link: %v, want 404", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 24), "../../etc/passwd"} {
		if _, err := f.svc.FollowLink(f.ctx, f.tom.p, bad); !isStatus(err, http.StatusNotFound) {
			t.Errorf("token %q: %v, want 404", bad, err)
		}
	}
	if err := f.svc.Trash(f.ctx, f.anne.p, wiki.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FollowLink(f.ctx, f.tom.p, strings.TrimPrefix(tl.Path, "/partage/")); !isStatus(err, http.StatusNotFound) {
		t.Errorf("link of a trashed production: %v, want 404", err)
	}
}

func TestShareLinksHTTP(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	pad, err := f.svc.Create(f.ctx, f.anne.p, NewProduction{Kind: Pad, Title: "Pad"})
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/productions/" + docID(pad.ID) + "/links"
	st, body := call(t, srv, f.anne, "POST", base, `{"role":"read"}`)
	if st != http.StatusCreated || !strings.Contains(body, `"/partage/`) {
		t.Fatalf("create: %d %s", st, body)
	}
	ls, _ := f.svc.Links(f.ctx, f.anne.p, pad.ID)
	token := strings.TrimPrefix(ls[0].Path, "/partage/")
	if st, body := call(t, srv, f.ines, "POST", "/api/v1/links/"+token, ""); st != 200 || !strings.Contains(body, `"role":"read"`) {
		t.Errorf("follow: %d %s", st, body)
	}
	if st, body := call(t, srv, f.marc, "GET", "/partage/"+token, ""); st != 200 || !strings.Contains(body, "Vous avez maintenant accès") {
		t.Errorf("following the link in the browser: %d", st)
	}
	if st, _ := call(t, srv, f.ines, "GET", base, ""); st != http.StatusForbidden {
		t.Errorf("a reader lists the links: %d", st)
	}
	if st, body := call(t, srv, f.anne, "GET", "/productions/"+docID(pad.ID), ""); st != 200 || !strings.Contains(body, "/partage/"+token) {
		t.Errorf("the production page shows the link to copy: %d", st)
	}
	if st, _ := call(t, srv, f.anne, "DELETE", base+"/"+docID(ls[0].ID), ""); st != http.StatusNoContent {
		t.Errorf("revoke: %d", st)
	}
	if st, _ := call(t, srv, f.ines, "GET", "/api/v1/productions/"+docID(pad.ID), ""); st != http.StatusNotFound {
		t.Errorf("after revocation: %d", st)
	}
}
