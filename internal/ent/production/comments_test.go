package production

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The teacher comments a team's production: the team is notified, the
// comment shows to those who make it, not to its readers.
func TestFollowUpComments(t *testing.T) {
	f := newFx(t)
	a, err := f.svc.Assign(f.ctx, f.marc.p, NewAssignment{Title: "Frise", Kind: Timeline, Mode: "teams", GroupID: f.cycle3,
		Teams: [][]int64{{f.lea.id, f.ines.id}}})
	if err != nil {
		t.Fatal(err)
	}
	id := *a.Teams[0].ProductionID
	f.notif.mu.Lock()
	f.notif.sent = nil
	f.notif.mu.Unlock()
	c, err := f.svc.AddFollowUp(f.ctx, f.marc.p, id, "  Ajoutez une date pour la bataille d'Alésia.  ")
	if err != nil {
		t.Fatal(err)
	}
	if c.Body != "Ajoutez une date pour la bataille d'Alésia." || c.Author != "Marc Prof" {
		t.Errorf("comment %+v", c)
	}
	f.notif.mu.Lock()
	got := f.notif.sent
	f.notif.mu.Unlock()
	if len(got) != 1 || got[0].n.Type != "comment" || !strings.Contains(got[0].n.Link, "#suivi") {
		t.Fatalf("notifications %+v", got)
	}
	to := slices.Sorted(slices.Values(got[0].to))
	if want := slices.Sorted(slices.Values([]int64{f.lea.id, f.ines.id})); !slices.Equal(to, want) {
		t.Errorf("notified %v, want the team %v (not the author)", to, want)
	}
	if _, err := f.svc.AddFollowUp(f.ctx, f.ines.p, id, "C'est fait !"); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.FollowUps(f.ctx, f.lea.p, id)
	if err != nil || len(list) != 2 || list[1].Author != "Inès Haddad" {
		t.Errorf("follow-ups %+v %v", list, err)
	}
	// Readers and outsiders do not see them.
	if _, err := f.svc.Share(f.ctx, f.lea.p, id, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FollowUps(f.ctx, f.tom.p, id); !isStatus(err, http.StatusForbidden) {
		t.Errorf("reader: %v, want 403", err)
	}
	if _, err := f.svc.AddFollowUp(f.ctx, f.anne.p, id, "Bonjour"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("outsider: %v, want 404", err)
	}
	for _, body := range []string{"   ", strings.Repeat("é", 4001)} {
		if _, err := f.svc.AddFollowUp(f.ctx, f.lea.p, id, body); !isStatus(err, http.StatusBadRequest) {
			t.Errorf("comment of %d runes: %v, want 400", len([]rune(body)), err)
		}
	}
	srv := f.server()
	path := "/api/v1/productions/" + docID(id) + "/comments"
	if st, body := call(t, srv, f.lea, "POST", path, `{"body":"<script>alert(1)</script> merci"}`); st != 201 {
		t.Errorf("API comment: %d %s", st, body)
	}
	st, body := call(t, srv, f.marc, "GET", "/productions/"+docID(id), "")
	if st != 200 || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; merci") || !strings.Contains(body, `id="suivi"`) {
		t.Errorf("production page: %d, the comment must show escaped", st)
	}
}
