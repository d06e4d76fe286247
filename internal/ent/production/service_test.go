package production

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"socle/internal/ent/collab"
	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/problem"
)

func code(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Code
	}
	if err == nil {
		return ""
	}
	return "internal: " + err.Error()
}

func TestProductionLifecycleAndScope(t *testing.T) {
	f := newFx(t)
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: MindMap, Title: "  Les volcans  "})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Title != "Les volcans" || pr.Role != RoleOwner || pr.DocumentURL != "/collab/"+strconv.FormatInt(pr.ID, 10) || pr.OwnerName != "Léa Martin" {
		t.Fatalf("created %+v", pr)
	}
	if _, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: "film", Title: "x"}); code(err) != "invalid_kind" {
		t.Errorf("bad kind: %v", err)
	}
	if _, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: " "}); code(err) != "invalid_title" {
		t.Errorf("empty title: %v", err)
	}
	// Another pupil does not see it exist.
	if _, err := f.svc.Get(f.ctx, f.tom.p, pr.ID); code(err) != "not_found" {
		t.Fatalf("tom reads lea's production: %v", err)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.tom.p, pr.DocID()); a != collab.AccessNone {
		t.Errorf("tom's access = %v", a)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.lea.p, pr.DocID()); a != collab.AccessWrite {
		t.Errorf("owner's access = %v", a)
	}
	// Read share: tom reads, cannot write nor rename.
	d, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleRead})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Shares) != 1 || d.Shares[0].TargetName != "Tom Petit" {
		t.Fatalf("shares %+v", d.Shares)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.tom.p, pr.DocID()); a != collab.AccessRead {
		t.Errorf("reader's access = %v", a)
	}
	if _, err := f.svc.Rename(f.ctx, f.tom.p, pr.ID, "Piraté"); code(err) != "forbidden" {
		t.Errorf("reader renames: %v", err)
	}
	if len(f.notif.sent) != 1 || f.notif.sent[0].n.Type != "share" || !reflect.DeepEqual(f.notif.sent[0].to, []int64{f.tom.id}) {
		t.Errorf("share notification %+v", f.notif.sent)
	}
	l, err := f.svc.List(f.ctx, f.tom.p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Mine) != 0 || len(l.SharedWith) != 1 || l.SharedWith[0].Role != RoleRead {
		t.Fatalf("tom's lists %+v", l)
	}
	// Upgraded to contribute: tom writes and renames.
	d, err = f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleContribute})
	if err != nil || len(d.Shares) != 1 {
		t.Fatalf("upgrade: %v %+v", err, d.Shares)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.tom.p, pr.DocID()); a != collab.AccessWrite {
		t.Errorf("contributor's access = %v", a)
	}
	if got, err := f.svc.Rename(f.ctx, f.tom.p, pr.ID, "Volcans d'Auvergne"); err != nil || got.Title != "Volcans d'Auvergne" {
		t.Errorf("rename: %v %+v", err, got)
	}
	// A contributor does not manage shares.
	if _, err := f.svc.Share(f.ctx, f.tom.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.anne.id, Role: RoleRead}); code(err) != "forbidden" {
		t.Errorf("contributor shares: %v", err)
	}
	// Revocation: back to nothing at once.
	if err := f.svc.Revoke(f.ctx, f.lea.p, pr.ID, d.Shares[0].ID); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.tom.p, pr.DocID()); a != collab.AccessNone {
		t.Errorf("revoked access = %v", a)
	}
	// Trash: gone from the lists, restorable by the owner only.
	if err := f.svc.Trash(f.ctx, f.lea.p, pr.ID); err != nil {
		t.Fatal(err)
	}
	l, _ = f.svc.List(f.ctx, f.lea.p, false)
	tr, _ := f.svc.List(f.ctx, f.lea.p, true)
	if len(l.Mine) != 0 || len(tr.Mine) != 1 || !tr.Mine[0].Trashed {
		t.Fatalf("after trash: %+v / %+v", l, tr)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.lea.p, pr.DocID()); a != collab.AccessRead {
		t.Errorf("trashed owner's access = %v", a)
	}
	if _, err := f.svc.Restore(f.ctx, f.lea.p, pr.ID); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.lea.p, "not-a-production"); a != collab.AccessNone {
		t.Errorf("foreign document = %v", a)
	}
}

func TestShareRules(t *testing.T) {
	f := newFx(t)
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Liaison"})
	if err != nil {
		t.Fatal(err)
	}
	// A pupil of the école cannot reach a pupil of the collège directly.
	_, err = f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.ines.id, Role: RoleContribute})
	if p, ok := problem.As(err); !ok || p.Code != "share_outside_rules" || p.Status != 403 || !strings.Contains(p.Message, "règles de communication") {
		t.Fatalf("outside the rules: %v", err)
	}
	// Nor share with a class she is not in.
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetClass, TargetID: 200, Role: RoleRead}); code(err) != "share_not_member" {
		t.Errorf("foreign class: %v", err)
	}
	// Her former class, archived by the rollover, is refused clearly.
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetClass, TargetID: f.oldClass, Role: RoleRead}); code(err) != "group_archived" {
		t.Errorf("archived class: %v", err)
	}
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetGroup, TargetID: 999, Role: RoleRead}); code(err) != "invalid_share_target" {
		t.Errorf("unknown group: %v", err)
	}
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: "admin"}); code(err) != "invalid_role" {
		t.Errorf("bad role: %v", err)
	}
	// The cycle 3 group spanning the école and the collège: Inès reaches it
	// through the group.
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetGroup, TargetID: f.cycle3, Role: RoleContribute}); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.ines.p, pr.DocID()); a != collab.AccessWrite {
		t.Errorf("group member's access = %v", a)
	}
	if l, _ := f.svc.List(f.ctx, f.ines.p, false); len(l.SharedWith) != 1 || l.SharedWith[0].ID != pr.ID {
		t.Errorf("ines's list %+v", l)
	}
	// A teacher shares more widely: Anne (école) with Inès (collège).
	tp, _ := f.svc.Create(f.ctx, f.anne.p, NewProduction{Kind: Wall, Title: "Accueil des CM2"})
	if _, err := f.svc.Share(f.ctx, f.anne.p, tp.ID, NewShare{TargetKind: TargetUser, TargetID: f.ines.id, Role: RoleRead}); err != nil {
		t.Errorf("teacher shares across schools: %v", err)
	}
	if _, err := f.svc.Share(f.ctx, f.anne.p, tp.ID, NewShare{TargetKind: TargetClass, TargetID: 200, Role: RoleRead}); err != nil {
		t.Errorf("teacher shares with a class: %v", err)
	}
}

func TestAssignmentsNotifyCreateAndCollect(t *testing.T) {
	f := newFx(t)
	// Pupils do not set work.
	if _, err := f.svc.Assign(f.ctx, f.lea.p, NewAssignment{Title: "x", GroupID: f.cm2}); code(err) != "forbidden" {
		t.Fatalf("pupil assigns: %v", err)
	}
	if _, err := f.svc.Assign(f.ctx, f.anne.p, NewAssignment{Title: "Ancienne classe", Kind: Pad, GroupID: f.oldClass}); code(err) != "group_archived" {
		t.Errorf("archived class: %v", err)
	}
	if _, err := f.svc.Assign(f.ctx, f.anne.p, NewAssignment{Title: "Disparue", Kind: Pad, GroupID: 4242}); code(err) != "not_found" {
		t.Errorf("vanished class: %v", err)
	}
	if _, err := f.svc.Assign(f.ctx, f.anne.p, NewAssignment{Title: "Pas ma classe", Kind: Pad, GroupID: 200}); code(err) != "not_found" {
		t.Errorf("another school's class: %v", err)
	}
	if _, err := f.svc.Assign(f.ctx, f.anne.p, NewAssignment{Title: "Date", Kind: Pad, GroupID: f.cm2, Due: "31/12"}); code(err) != "assignment_invalid_due" {
		t.Errorf("bad due: %v", err)
	}
	a, err := f.svc.Assign(f.ctx, f.anne.p, NewAssignment{Title: "Le cycle de l'eau", Instructions: "Expliquez le cycle.", Kind: Pad,
		Mode: "individual", Due: "2026-12-18", GroupID: f.cm2})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Teams) != 2 {
		t.Fatalf("teams %+v", a.Teams)
	}
	last := f.notif.sent[len(f.notif.sent)-1]
	if last.n.Type != "assignment" || !reflect.DeepEqual(last.to, []int64{f.lea.id, f.tom.id}) || !strings.Contains(last.n.Body, "18/12/2026") {
		t.Errorf("notification %+v", last)
	}
	for _, team := range a.Teams {
		if team.ProductionID == nil || len(team.Members) != 1 {
			t.Fatalf("team %+v", team)
		}
		pr, err := f.svc.Get(f.ctx, f.anne.p, *team.ProductionID)
		if err != nil || pr.Role != RoleManage || pr.OwnerID != team.Members[0] {
			t.Fatalf("teacher's view of the team production: %v %+v", err, pr)
		}
	}
	// The pupil writes into her production; the teacher collects.
	lea := a.Teams[0]
	if lea.Members[0] != f.lea.id {
		lea = a.Teams[1]
	}
	if err := f.svc.Write(f.ctx, f.lea.p, *lea.ProductionID, Content{Blocks: []Block{{Type: "paragraph", Runs: []Run{{Text: "L'eau s'évapore."}}}}}); err != nil {
		t.Fatal(err)
	}
	// Tom sees only his own team.
	if ta, err := f.svc.Assignment(f.ctx, f.tom.p, a.ID); err != nil || len(ta.Teams) != 1 || ta.Teams[0].Members[0] != f.tom.id {
		t.Fatalf("tom's assignment %v %+v", err, ta)
	}
	if _, err := f.svc.Assignment(f.ctx, f.ines.p, a.ID); code(err) != "not_found" {
		t.Errorf("stranger reads the assignment: %v", err)
	}
	var buf bytes.Buffer
	if err := f.svc.Collect(f.ctx, f.tom.p, a.ID, &buf); code(err) != "not_found" {
		t.Errorf("pupil collects: %v", err)
	}
	buf.Reset()
	if err := f.svc.Collect(f.ctx, f.anne.p, a.ID, &buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 2 {
		t.Fatalf("zip: %v %d", err, len(zr.File))
	}
	found := false
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".odt") {
			t.Errorf("entry %s", zf.Name)
		}
		rc, _ := zf.Open()
		var b bytes.Buffer
		_, _ = b.ReadFrom(rc)
		rc.Close()
		c, _, err := Decode(Pad, "odt", b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Blocks) == 1 && c.Blocks[0].Runs[0].Text == "L'eau s'évapore." {
			found = true
		}
	}
	if !found {
		t.Error("collected zip misses Léa's text")
	}

	// Teams, kind left to the pupils: a member starts the production.
	b, err := f.svc.Assign(f.ctx, f.marc.p, NewAssignment{Title: "Projet liaison", Mode: "teams", GroupID: f.cycle3, TeamSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Teams) != 1 || b.Teams[0].ProductionID != nil || b.Teams[0].Size != 2 {
		t.Fatalf("teams %+v", b.Teams)
	}
	pr, err := f.svc.StartTeamProduction(f.ctx, f.ines.p, b.ID, b.Teams[0].ID, Timeline)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Kind != Timeline || pr.OwnerID != f.ines.id {
		t.Fatalf("started %+v", pr)
	}
	if a, _ := f.svc.Authorize(f.ctx, f.lea.p, pr.DocID()); a != collab.AccessWrite {
		t.Errorf("team mate's access %v", a)
	}
	if got, err := f.svc.Get(f.ctx, f.marc.p, pr.ID); err != nil || got.Role != RoleManage {
		t.Errorf("teacher's role %v %+v", err, got)
	}
	again, err := f.svc.StartTeamProduction(f.ctx, f.lea.p, b.ID, b.Teams[0].ID, Pad)
	if err != nil || again.ID != pr.ID {
		t.Errorf("second start: %v %+v", err, again)
	}
}

// TestImportExportThroughEngine imports every kind's sample in every
// format through the service (the collaboration engine stores it), exports
// it back from the live Yjs document and compares.
func TestImportExportThroughEngine(t *testing.T) {
	f := newFx(t)
	for kind, c := range samples() {
		for _, format := range kindFormats[kind] {
			data, err := Encode(c, "Original", format)
			if err != nil {
				t.Fatal(err)
			}
			pr, err := f.svc.Import(f.ctx, f.lea.p, kind, format, "", bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s/%s import: %v", kind, format, err)
			}
			if pr.Kind != kind || (format != "md" && format != "csv" && format != "mm" && pr.Title != "Original") {
				t.Errorf("%s/%s imported %+v", kind, format, pr)
			}
			ex, err := f.svc.Export(f.ctx, f.lea.p, pr.ID, format)
			if err != nil {
				t.Fatal(err)
			}
			want, _, _ := Decode(kind, format, data)
			got, _, err := Decode(kind, format, ex.Data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(want)) {
				t.Errorf("%s/%s: engine round trip differs\n got %+v\nwant %+v", kind, format, got, want)
			}
		}
	}
	// The live document is what a browser would receive.
	l, _ := f.svc.List(f.ctx, f.lea.p, false)
	var wall Production
	for _, p := range l.Mine {
		if p.Kind == Wall {
			wall = p
		}
	}
	err := f.docs.Read(f.ctx, wall.DocID(), func(d *yjs.Doc) error {
		if n := d.GetArray("cards").Len(); n != 3 {
			t.Errorf("cards in the live document: %d", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Export(f.ctx, f.lea.p, wall.ID, "odt"); code(err) != "invalid_format" {
		t.Errorf("wall as odt: %v", err)
	}
	if _, err := f.svc.Import(f.ctx, f.lea.p, Pad, "odt", "", strings.NewReader("PK\x03\x04 cassé")); code(err) != "import_invalid" {
		t.Errorf("broken odt: %v", err)
	}
}

func TestUsageCountsCycle3CrossSchool(t *testing.T) {
	f := newFx(t)
	solo, _ := f.svc.Create(f.ctx, f.tom.p, NewProduction{Kind: Pad, Title: "Seul"})
	_ = solo
	cross, _ := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: MindMap, Title: "Liaison"})
	if _, err := f.svc.Share(f.ctx, f.lea.p, cross.ID, NewShare{TargetKind: TargetGroup, TargetID: f.cycle3, Role: RoleContribute}); err != nil {
		t.Fatal(err)
	}
	local, _ := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Wall, Title: "Classe"})
	if _, err := f.svc.Share(f.ctx, f.lea.p, local.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleContribute}); err != nil {
		t.Fatal(err)
	}
	readOnly, _ := f.svc.Create(f.ctx, f.anne.p, NewProduction{Kind: Blog, Title: "Lu seulement"})
	if _, err := f.svc.Share(f.ctx, f.anne.p, readOnly.ID, NewShare{TargetKind: TargetUser, TargetID: f.ines.id, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.Usage(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Total != 4 || u.Collective != 2 || u.CrossSchool != 1 || u.Cycle3 != 2 {
		t.Errorf("usage %+v", u)
	}
	if u.ByKind["pad"] != 1 || u.ByKind["mindmap"] != 1 || u.ByLevel["6e"] != 1 || u.ByLevel["CM2"] != 2 {
		t.Errorf("breakdowns %+v", u)
	}
	b, _ := json.Marshal(u)
	for _, name := range []string{"Léa", "Tom", "Inès", "Liaison"} {
		if strings.Contains(string(b), name) {
			t.Errorf("usage names %s: %s", name, b)
		}
	}
}

// TestBlogModeration: readers see published posts and comments only.
func TestBlogModeration(t *testing.T) {
	f := newFx(t)
	pr, err := f.svc.Import(f.ctx, f.anne.p, Blog, "html", "Blog", strings.NewReader(mustEncode(t, samples()[Blog], "html")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Share(f.ctx, f.anne.p, pr.ID, NewShare{TargetKind: TargetClass, TargetID: f.cm2, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	_, c, err := f.svc.Content(f.ctx, f.lea.p, pr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Posts) != 1 || c.Posts[0].ID != "post1" {
		t.Errorf("reader sees %+v", c.Posts)
	}
	_, c, _ = f.svc.Content(f.ctx, f.anne.p, pr.ID)
	if len(c.Posts) != 2 {
		t.Errorf("owner sees %d posts", len(c.Posts))
	}
}

func mustEncode(t *testing.T, c Content, format string) string {
	t.Helper()
	b, err := Encode(c, "T", format)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrivacyExportAndErase(t *testing.T) {
	f := newFx(t)
	pr, err := f.svc.Import(f.ctx, f.lea.p, Wiki, "md", "Mon wiki", strings.NewReader(mustEncode(t, samples()[Wiki], "md")))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := f.svc.Create(f.ctx, f.tom.p, NewProduction{Kind: Pad, Title: "Pad de Tom"})
	if _, err := f.svc.Share(f.ctx, f.tom.p, other.ID, NewShare{TargetKind: TargetUser, TargetID: f.lea.id, Role: RoleContribute}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := f.svc.ExportPerson(f.ctx, f.lea.id, zw); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	want := []string{fmt.Sprintf("productions/%d-mon-wiki.odt", pr.ID), fmt.Sprintf("productions/%d-mon-wiki.html", pr.ID),
		fmt.Sprintf("productions/%d-mon-wiki.md", pr.ID), "productions.json", "productions-commentaires.json"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("export entries %v", names)
	}
	if err := f.svc.Write(f.ctx, f.tom.p, other.ID, Content{Blocks: []Block{para("Texte de Tom")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SaveVersion(f.ctx, f.lea.p, pr.ID, "Avant"); err != nil {
		t.Fatal(err)
	}
	var before int
	if err := f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM collab_updates WHERE doc_id = ?`, pr.DocID()).Scan(&before); err != nil || before == 0 {
		t.Fatalf("the imported wiki should be in the engine's log: %d %v", before, err)
	}
	if err := f.svc.ErasePerson(f.ctx, f.lea.id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(f.ctx, f.lea.p, pr.ID); code(err) != "not_found" {
		t.Errorf("erased production: %v", err)
	}
	if d, _ := f.svc.Detail(f.ctx, f.tom.p, other.ID); len(d.Shares) != 0 {
		t.Errorf("share to the erased person stays: %+v", d.Shares)
	}
	// Nothing of the erased production's text is left in the engine.
	for _, table := range []string{"collab_updates", "collab_snapshots", "production_versions"} {
		col := "doc_id = ?"
		arg := any(pr.DocID())
		if table == "production_versions" {
			col, arg = "production_id = ?", pr.ID
		}
		var n int
		if err := f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+col, arg).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s keeps %d rows of the erased production (%v)", table, n, err)
		}
	}
	if _, c, err := f.svc.Content(f.ctx, f.tom.p, other.ID); err != nil || len(c.Blocks) != 1 {
		t.Errorf("the production shared with the erased person lost its content: %v", err)
	}
}
