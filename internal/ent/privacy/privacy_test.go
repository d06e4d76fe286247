package privacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"socle/internal/ent/notify"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/problem"
)

func (f *fx) give(to account, title string) {
	f.t.Helper()
	if err := f.notify.Notify(f.ctx, []int64{to.id}, notify.Notification{Type: "share", Title: title, Link: "/documents"}); err != nil {
		f.t.Fatal(err)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The export holds a readable summary, a JSON file per contributor and the
// person's files, each inside its contributor's folder.
func TestExportZip(t *testing.T) {
	f := newFx(t)
	f.give(f.lea, "Tom a partagé « Exposé volcans » avec toi")
	f.give(f.tom, "Pour Tom seulement")
	if err := f.svc.RecordAccess(f.ctx, f.teacher.id, f.lea.id, "fiche élève"); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Export(f.ctx, f.lea.p, f.lea.id)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !strings.HasPrefix(a.Name, "donnees-personnelles-"+strconv.FormatInt(f.lea.id, 10)+"-") || strings.Contains(a.Name, "Léa") {
		t.Errorf("download name %q", a.Name)
	}
	files := unzip(t, a.File, a.Size)
	want := []string{"LISEZMOI.html", "LISEZMOI.txt", "acces/journal-des-acces.json", "compte/compte.json",
		"espace/Exposé volcans.odt", "espace/evasion.txt", "notifications/notifications.json"}
	if got := keys(files); !slices.Equal(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for _, c := range []struct{ file, want string }{
		{"LISEZMOI.html", "<h1>Données personnelles de Léa Martin</h1>"},
		{"LISEZMOI.html", "Compte et connexions"},
		{"LISEZMOI.html", `<a href="espace/Expos%c3%a9%20volcans.odt">espace/Exposé volcans.odt</a>`},
		{"LISEZMOI.html", "Tom a partagé « Exposé volcans » avec toi"},
		{"LISEZMOI.txt", "DONNÉES PERSONNELLES DE LÉA MARTIN"},
		{"LISEZMOI.txt", "espace/Exposé volcans.odt (20 octets)"},
		{"compte/compte.json", `"email": "lea@ecole-a.test"`},
		{"compte/compte.json", `"label": "Élève"`},
		{"notifications/notifications.json", "Tom a partagé « Exposé volcans » avec toi"},
		{"acces/journal-des-acces.json", `"what": "fiche élève"`},
		{"acces/journal-des-acces.json", `"reader_name": "Professeur A"`},
		{"espace/Exposé volcans.odt", "contenu de l'exposé"},
		{"espace/evasion.txt", "reste dans espace/"},
	} {
		// The summary escapes HTML; compare the readable text.
		got := strings.ReplaceAll(strings.ReplaceAll(files[c.file], "&#34;", `"`), "&#39;", "'")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s lacks %q:\n%s", c.file, c.want, files[c.file])
		}
	}
	for name, body := range files {
		if strings.Contains(body, "Pour Tom seulement") || strings.Contains(body, "tom@ecole-a.test") {
			t.Errorf("%s carries another pupil's data", name)
		}
	}
	// The person's own export is not an access by a third party; the
	// guardian's is.
	if n := f.count(`SELECT COUNT(*) FROM privacy_access_log WHERE subject_id = ?`, f.lea.id); n != 1 {
		t.Errorf("%d log entries after Léa's own export, want 1", n)
	}
	b, err := f.svc.Export(f.ctx, f.parent.p, f.lea.id)
	if err != nil {
		t.Fatalf("guardian export: %v", err)
	}
	b.Close()
	pg, err := f.svc.AccessLog(f.ctx, f.lea.p, f.lea.id, "", 10)
	if err != nil || len(pg.Items) != 2 || pg.Items[0].What != "export des données" || pg.Items[0].ReaderID != f.parent.id ||
		pg.Items[0].ReaderName != "Sophie Martin" {
		t.Errorf("log after the guardian's export: %+v %v", pg, err)
	}
	// The temporary file is gone once closed.
	if _, err := os.Stat(b.File.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary export left behind: %v", err)
	}
}

// Deletion archives the export in the data directory, then erases through
// every contributor: notifications, the access log, the files, and the
// account last (anonymised, unable to log in).
func TestDeletePersonErasesThroughContributors(t *testing.T) {
	f := newFx(t)
	f.give(f.lea, "Partage pour Léa")
	f.give(f.tom, "Partage pour Tom")
	if _, err := f.auth.Login(f.ctx, f.lea.email, "motdepasse-solide", "127.0.0.1"); err != nil {
		t.Fatalf("login before deletion: %v", err)
	}
	if err := f.svc.RecordAccess(f.ctx, f.teacher.id, f.lea.id, "fiche élève"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordAccess(f.ctx, f.lea.id, f.tom.id, "profil"); err != nil {
		t.Fatal(err)
	}
	// A request waiting for its grace period is fulfilled by the deletion.
	req, err := f.svc.RequestDeletion(f.ctx, f.parent.p, f.lea.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeletePerson(f.ctx, f.lea.id); err != nil {
		t.Fatal(err)
	}
	if d, err := f.svc.Deletion(f.ctx, f.admin.p, f.lea.id); err != nil || d == nil || d.ID != req.ID || d.Status != StatusDone {
		t.Errorf("waiting request after the deletion: %+v %v", d, err)
	}
	archives, _ := filepath.Glob(filepath.Join(f.dir, "personne-"+strconv.FormatInt(f.lea.id, 10)+"-*.zip"))
	if len(archives) != 1 {
		t.Fatalf("archives: %v", archives)
	}
	raw, err := os.ReadFile(archives[0])
	if err != nil {
		t.Fatal(err)
	}
	kept := unzip(t, bytes.NewReader(raw), int64(len(raw)))
	if !strings.Contains(kept["notifications/notifications.json"], "Partage pour Léa") || !strings.Contains(kept["compte/compte.json"], "lea@ecole-a.test") {
		t.Errorf("archive does not hold the data: %v", keys(kept))
	}
	if left, _ := filepath.Glob(filepath.Join(f.dir, "export-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM notify_timeline WHERE user_id = ?`:         0,
		`SELECT COUNT(*) FROM notify_outbox WHERE user_id = ?`:           0,
		`SELECT COUNT(*) FROM grants WHERE user_id = ?`:                  0,
		`SELECT COUNT(*) FROM api_tokens WHERE user_id = ?`:              0,
		`SELECT COUNT(*) FROM privacy_access_log WHERE subject_id = ?`:   0,
		`SELECT COUNT(*) FROM privacy_access_log WHERE reader_id = ?`:    1,
		`SELECT COUNT(*) FROM users WHERE id = ? AND disabled = ?`:       1,
		`SELECT COUNT(*) FROM users WHERE id = ? AND password_hash = ''`: 1,
	} {
		args := []any{f.lea.id}
		if strings.Contains(q, "disabled") {
			args = append(args, true)
		}
		if got := f.count(q, args...); got != want {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}
	var email, name string
	if err := f.db.QueryRowContext(f.ctx, `SELECT email, display_name FROM users WHERE id = ?`, f.lea.id).Scan(&email, &name); err != nil {
		t.Fatal(err)
	}
	if email != ErasedEmail(f.lea.id) || name != "Compte supprimé" {
		t.Errorf("account after erasure: %q %q", email, name)
	}
	if _, err := f.auth.Login(f.ctx, f.lea.email, "motdepasse-solide", "127.0.0.1"); err == nil {
		t.Error("the erased account still logs in")
	}
	if p, err := f.auth.TokenPrincipal(f.ctx, f.lea.token); err != nil || p != nil {
		t.Errorf("the erased account's token still works: %v %v", p, err)
	}
	if !slices.Equal(f.files.erased, []int64{f.lea.id}) {
		t.Errorf("files erased for %v", f.files.erased)
	}
	// Tom's data is untouched, and the read Léa made of his profile now
	// names a deleted account.
	if n := f.count(`SELECT COUNT(*) FROM notify_timeline WHERE user_id = ?`, f.tom.id); n != 1 {
		t.Errorf("Tom's notifications: %d", n)
	}
	pg, err := f.svc.AccessLog(f.ctx, f.tom.p, f.tom.id, "", 10)
	if err != nil || len(pg.Items) != 1 || pg.Items[0].ReaderName != "Compte supprimé" {
		t.Errorf("Tom's log: %+v %v", pg, err)
	}
}

// A deletion waits for its grace period and can be cancelled meanwhile; a
// cancelled one never runs.
func TestDeletionGraceAndCancel(t *testing.T) {
	f := newFx(t)
	f.give(f.lea, "Partage pour Léa")
	d, err := f.svc.RequestDeletion(f.ctx, f.parent.p, f.lea.id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != StatusScheduled || !d.DueAt.Equal(f.clock.now().Add(30*24*time.Hour)) || d.RequestedBy != f.parent.id {
		t.Fatalf("scheduled: %+v", d)
	}
	var p *problem.Error
	if _, err := f.svc.RequestDeletion(f.ctx, f.lea.p, f.lea.id); !errors.As(err, &p) || p.Code != "deletion_scheduled" {
		t.Errorf("second request: %v", err)
	}
	f.clock.add(29 * 24 * time.Hour)
	if n, err := f.svc.ProcessDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("before the end of grace: %d %v", n, err)
	}
	c, err := f.svc.CancelDeletion(f.ctx, f.lea.p, f.lea.id)
	if err != nil || c.Status != StatusCancelled || c.CancelledAt == nil {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	f.clock.add(2 * 24 * time.Hour)
	if n, err := f.svc.ProcessDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("cancelled deletion ran: %d %v", n, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM notify_timeline WHERE user_id = ?`, f.lea.id); n != 1 {
		t.Fatalf("data erased despite cancellation: %d", n)
	}
	if _, err := f.svc.CancelDeletion(f.ctx, f.lea.p, f.lea.id); !errors.As(err, &p) || p.Code != "no_deletion_scheduled" {
		t.Errorf("cancel again: %v", err)
	}
	// Asked again by the head of the school, it runs when due.
	d, err = f.svc.RequestDeletion(f.ctx, f.headA.p, f.lea.id)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.add(30*24*time.Hour + time.Minute)
	if n, err := f.svc.ProcessDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("due deletion: %d %v", n, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM notify_timeline WHERE user_id = ?`, f.lea.id); n != 0 {
		t.Errorf("data left after the deletion: %d", n)
	}
	last, err := f.svc.Deletion(f.ctx, f.admin.p, f.lea.id)
	if err != nil || last == nil || last.ID != d.ID || last.Status != StatusDone || last.DoneAt == nil {
		t.Errorf("after the run: %+v %v", last, err)
	}
	var archive string
	if err := f.db.QueryRowContext(f.ctx, `SELECT archive FROM privacy_deletions WHERE id = ?`, d.ID).Scan(&archive); err != nil || !strings.HasPrefix(archive, f.dir) {
		t.Errorf("archive path %q %v", archive, err)
	}
	if n, err := f.svc.ProcessDue(f.ctx); err != nil || n != 0 {
		t.Errorf("a done deletion ran again: %d %v", n, err)
	}
}

// The access log is read by the person, their guardian and the
// administrators of their school (directly or over it); for anyone else
// the person does not exist.
func TestAccessLogScope(t *testing.T) {
	f := newFx(t)
	if err := f.svc.RecordAccess(f.ctx, f.teacher.id, f.lea.id, "fiche élève"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordAccess(f.ctx, f.lea.id, f.lea.id, "mon profil"); err != nil {
		t.Fatal(err)
	}
	for _, who := range []account{f.lea, f.parent, f.headA, f.headCommune, f.admin} {
		pg, err := f.svc.AccessLog(f.ctx, who.p, f.lea.id, "", 50)
		if err != nil {
			t.Errorf("%s: %v", who.email, err)
			continue
		}
		found := false
		for _, a := range pg.Items {
			if a.What == "mon profil" {
				t.Errorf("%s: a read of one's own data is logged", who.email)
			}
			found = found || (a.What == "fiche élève" && a.ReaderID == f.teacher.id)
		}
		if !found {
			t.Errorf("%s does not see the teacher's read: %+v", who.email, pg.Items)
		}
	}
	for _, who := range []account{f.headB, f.teacher, f.tom} {
		_, err := f.svc.AccessLog(f.ctx, who.p, f.lea.id, "", 50)
		var p *problem.Error
		if !errors.As(err, &p) || p.Status != 404 {
			t.Errorf("%s reads Léa's log: %v", who.email, err)
		}
		if _, err := f.svc.Export(f.ctx, who.p, f.lea.id); !errors.As(err, &p) || p.Status != 404 {
			t.Errorf("%s exports Léa's data: %v", who.email, err)
		}
		if _, err := f.svc.RequestDeletion(f.ctx, who.p, f.lea.id); !errors.As(err, &p) || p.Status != 404 {
			t.Errorf("%s deletes Léa's data: %v", who.email, err)
		}
	}
	// Third parties reading the log are themselves in it: parent, head A,
	// commune head and administrator.
	pg, err := f.svc.AccessLog(f.ctx, f.lea.p, f.lea.id, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	readers := map[int64]bool{}
	for _, a := range pg.Items {
		if a.What == "journal des accès" {
			readers[a.ReaderID] = true
		}
	}
	if len(readers) != 4 || !readers[f.parent.id] || !readers[f.headA.id] || !readers[f.headCommune.id] || !readers[f.admin.id] {
		t.Errorf("log readers recorded: %v", readers)
	}
	// Pages of the log.
	for i := 0; i < 5; i++ {
		if err := f.svc.RecordAccess(f.ctx, f.teacher.id, f.lea.id, "cahier "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	p1, err := f.svc.AccessLog(f.ctx, f.lea.p, f.lea.id, "", 3)
	if err != nil || len(p1.Items) != 3 || p1.Items[0].What != "cahier 4" || p1.NextCursor == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := f.svc.AccessLog(f.ctx, f.lea.p, f.lea.id, p1.NextCursor, 3)
	if err != nil || len(p2.Items) != 3 || p2.Items[0].What != "cahier 1" {
		t.Errorf("page 2: %+v %v", p2, err)
	}
}

// Pseudonyms are stable for a database, differ between people and between
// databases, and never carry the id or a name.
func TestPseudonym(t *testing.T) {
	f := newFx(t)
	ps, err := f.svc.Pseudonymizer(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, b := ps.Pseudonym(f.lea.id), ps.Pseudonym(f.tom.id)
	if !regexp.MustCompile(`^p-[a-z2-7]{16}$`).MatchString(a) || a == b {
		t.Fatalf("pseudonyms %q %q", a, b)
	}
	// Another service on the same database (another process, a restart)
	// reads the same secret.
	again, err := NewService(f.db, Options{}, quietLog()).Pseudonymizer(f.ctx)
	if err != nil || again.Pseudonym(f.lea.id) != a {
		t.Errorf("pseudonym changed across services: %q %v", again.Pseudonym(f.lea.id), err)
	}
	if n := f.count(`SELECT COUNT(*) FROM privacy_secrets`); n != 1 {
		t.Errorf("%d secrets", n)
	}
	other := dbtest.Open(t, Migrations())
	ps2, err := NewService(other, Options{}, quietLog()).Pseudonymizer(f.ctx)
	if err != nil || ps2.Pseudonym(f.lea.id) == a {
		t.Errorf("two databases share pseudonyms: %v", err)
	}
	if strings.Contains(a, strconv.FormatInt(f.lea.id, 10)+"-") || strings.Contains(strings.ToLower(a), "lea") {
		t.Errorf("pseudonym %q carries the person", a)
	}
}

// The API and pages hold to the same scope: 404 outside, 401 anonymous.
func TestScope(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	f.give(f.lea, "Partage pour Léa")
	id := strconv.FormatInt(f.lea.id, 10)
	base := "/api/v1/privacy/people/" + id
	for _, c := range []struct {
		method, path string
	}{
		{"GET", base + "/export"}, {"GET", base + "/access-log"}, {"GET", base + "/deletion"},
		{"POST", base + "/deletion"}, {"DELETE", base + "/deletion"},
		{"GET", "/donnees-personnelles/" + id}, {"GET", "/donnees-personnelles/" + id + "/export.zip"},
	} {
		for _, who := range []account{f.headB, f.teacher, f.tom} {
			if st, b := call(t, srv, who, c.method, c.path); st != 404 {
				t.Errorf("%s %s as %s: %d, want 404: %s", c.method, c.path, who.email, st, b)
			}
		}
		if strings.HasPrefix(c.path, "/api/") {
			if st, _ := call(t, srv, account{}, c.method, c.path); st != 401 {
				t.Errorf("%s %s anonymous: %d, want 401", c.method, c.path, st)
			}
		}
	}
	st, body := call(t, srv, f.lea, "GET", base+"/export")
	if st != 200 || !strings.Contains(unzip(t, bytes.NewReader(body), int64(len(body)))["notifications/notifications.json"], "Partage pour Léa") {
		t.Errorf("Léa's export: %d", st)
	}
	st, body = call(t, srv, f.parent, "POST", base+"/deletion")
	var state DeletionState
	if st != 201 || json.Unmarshal(body, &state) != nil || state.Deletion == nil || state.Deletion.Status != StatusScheduled || state.GraceDays != 30 {
		t.Errorf("guardian requests deletion: %d %s", st, body)
	}
	if st, b := call(t, srv, f.parent, "POST", base+"/deletion"); st != 409 {
		t.Errorf("second request: %d %s", st, b)
	}
	st, body = call(t, srv, f.headA, "DELETE", base+"/deletion")
	if st != 200 || !strings.Contains(string(body), `"status":"cancelled"`) {
		t.Errorf("head cancels: %d %s", st, body)
	}
	st, body = call(t, srv, f.lea, "GET", base+"/access-log")
	if st != 200 || !strings.Contains(string(body), "demande de suppression des données") || !strings.Contains(string(body), "Sophie Martin") {
		t.Errorf("Léa's log: %d %s", st, body)
	}
	st, body = call(t, srv, f.parent, "GET", "/donnees-personnelles/"+id)
	if st != 200 || !strings.Contains(string(body), "Données personnelles de Léa Martin") || !strings.Contains(string(body), "Suppression annulée") {
		t.Errorf("guardian's page: %d %s", st, body)
	}
	if st, _ := call(t, srv, f.lea, "GET", "/mes-donnees"); st != 200 {
		t.Errorf("/mes-donnees: %d", st)
	}
}
