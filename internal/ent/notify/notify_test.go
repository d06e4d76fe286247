package notify

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/problem"
)

// The quiet-hours rule, on the calendar: evenings and weekends wait for
// the next working morning at 07:00, digests leave at 07:00.
func TestDueTimes(t *testing.T) {
	q := DefaultQuietHours()
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, q.Location)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name  string
		f     Frequency
		at    string
		quiet bool
		want  string
	}{
		{"working hours go at once", Immediate, "2026-11-17 10:00", true, "2026-11-17 10:00"},
		{"Tuesday 21:00 waits for Wednesday 07:00", Immediate, "2026-11-17 21:00", true, "2026-11-18 07:00"},
		{"19:00 is already evening", Immediate, "2026-11-17 19:00", true, "2026-11-18 07:00"},
		{"18:59 is not", Immediate, "2026-11-17 18:59", true, "2026-11-17 18:59"},
		{"before dawn waits for 07:00 the same day", Immediate, "2026-11-19 05:30", true, "2026-11-19 07:00"},
		{"Friday evening waits for Monday", Immediate, "2026-11-20 21:00", true, "2026-11-23 07:00"},
		{"Saturday waits for Monday", Immediate, "2026-11-21 10:00", true, "2026-11-23 07:00"},
		{"without quiet hours: at once", Immediate, "2026-11-17 21:00", false, "2026-11-17 21:00"},
		{"daily digest: next working morning", Daily, "2026-11-17 10:00", true, "2026-11-18 07:00"},
		{"daily digest before 07:00: the same morning", Daily, "2026-11-17 06:00", true, "2026-11-17 07:00"},
		{"daily digest on Friday: Monday", Daily, "2026-11-20 10:00", true, "2026-11-23 07:00"},
		{"daily digest ignores the quiet setting", Daily, "2026-11-17 10:00", false, "2026-11-18 07:00"},
		{"weekly digest: next Monday", Weekly, "2026-11-18 10:00", true, "2026-11-23 07:00"},
		{"weekly digest on Monday before 07:00: that morning", Weekly, "2026-11-23 06:00", true, "2026-11-23 07:00"},
		{"weekly digest on Monday after 07:00: a week later", Weekly, "2026-11-23 08:00", true, "2026-11-30 07:00"},
		// Summer time ends on 25 October 2026: Monday's 07:00 is 06:00 UTC.
		{"across the change of time", Immediate, "2026-10-23 21:00", true, "2026-10-26 07:00"},
	} {
		got := q.Due(c.f, at(c.at), c.quiet)
		want := at(c.want).UTC()
		if !got.Equal(want) {
			t.Errorf("%s: due %s, want %s", c.name, got.In(q.Location).Format("Mon 2006-01-02 15:04"), c.want)
		}
		if got.Location() != time.UTC {
			t.Errorf("%s: due time not in UTC", c.name)
		}
	}
	if h := q.Due(Immediate, at("2026-10-23 21:00"), true).Hour(); h != 6 {
		t.Errorf("Monday 26 October 07:00 Paris is %d:00 UTC, want 6:00", h)
	}
}

// Each person's frequency decides the mail; the timeline always has the
// notification.
func TestFrequencies(t *testing.T) {
	f := newFx(t)
	if _, err := f.svc.SetPreferences(f.ctx, f.bruno.p, PreferencesInput{Types: map[string]Frequency{"share": Never}}); err != nil {
		t.Fatal(err)
	}
	f.notify(Notification{Type: "share", Title: "Léa a partagé « Exposé volcans » avec vous", Body: "Un document de la classe.",
		Link: "/documents/fichiers/12"}, f.alice, f.bruno)
	f.notify(Notification{Type: "ticket", Title: "Votre demande DEM-1 est résolue"}, f.alice)
	if n := f.send(); n != 1 {
		t.Fatalf("%d mails sent, want 1 (Alice's immediate share)", n)
	}
	got := f.box.to(f.alice.email)
	if len(got) != 1 {
		t.Fatalf("Alice got %d mails, want 1", len(got))
	}
	m := got[0]
	if m.Subject != "Léa a partagé « Exposé volcans » avec vous" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{"Un document de la classe.", "https://socle.test/documents/fichiers/12", "https://socle.test/notifications/preferences"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("mail body lacks %q:\n%s", want, m.Body)
		}
	}
	if n := len(f.box.to(f.bruno.email)); n != 0 {
		t.Errorf("Bruno chose never and got %d mails", n)
	}
	// Sending again sends nothing: the outbox row is done.
	if n := f.send(); n != 0 {
		t.Errorf("second run sent %d mails", n)
	}
	for _, p := range []person{f.alice, f.bruno} {
		pg, err := f.svc.Timeline(f.ctx, p.p, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if p.id == f.alice.id {
			want = 2
		}
		if len(pg.Items) != want || pg.Unread != want {
			t.Errorf("%s: %d items, %d unread; want %d", p.email, len(pg.Items), pg.Unread, want)
		}
	}
	// An undeclared type is a wiring error, not a silent drop.
	if err := f.svc.Notify(f.ctx, []int64{f.alice.id}, Notification{Type: "inconnu", Title: "x"}); err == nil {
		t.Error("undeclared type accepted")
	}
}

// An immediate notification at 21:00 on a Tuesday is mailed on Wednesday
// at 07:00, not before; one already read on the site is not mailed.
func TestQuietHoursHoldMail(t *testing.T) {
	f := newFx(t)
	f.set("2026-11-17 21:00")
	f.notify(Notification{Type: "share", Title: "Nouveau partage du soir"}, f.alice, f.bruno)
	if n := f.send(); n != 0 {
		t.Fatalf("%d mails sent at 21:00", n)
	}
	f.set("2026-11-17 23:10")
	f.notify(Notification{Type: "share", Title: "Partage de la nuit", Link: "/documents/3"}, f.alice)
	if n := f.send(); n != 0 {
		t.Fatalf("%d mails sent at 23:10", n)
	}
	// Bruno reads it on the site during the evening.
	pg, err := f.svc.Timeline(f.ctx, f.bruno.p, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.MarkRead(f.ctx, f.bruno.p, pg.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	f.set("2026-11-18 06:59")
	if n := f.send(); n != 0 {
		t.Fatalf("%d mails sent at 06:59", n)
	}
	f.set("2026-11-18 07:00")
	if n := f.send(); n != 1 {
		t.Fatalf("%d mails sent at 07:00, want 1", n)
	}
	// The night's notifications come in one mail.
	if got := f.box.to(f.alice.email); len(got) != 1 || got[0].Subject != "2 nouvelles notifications" ||
		!strings.Contains(got[0].Body, "17/11 21:00 — Nouveau partage du soir") ||
		!strings.Contains(got[0].Body, "17/11 23:10 — Partage de la nuit") || !strings.Contains(got[0].Body, "https://socle.test/documents/3") {
		t.Errorf("Alice's morning mail: %+v", got)
	}
	if got := f.box.to(f.bruno.email); len(got) != 0 {
		t.Errorf("Bruno read it on the site yet got %d mails", len(got))
	}
	// Without quiet hours, the evening mail leaves at once.
	off := false
	if _, err := f.svc.SetPreferences(f.ctx, f.alice.p, PreferencesInput{QuietHours: &off}); err != nil {
		t.Fatal(err)
	}
	f.set("2026-11-18 22:30")
	f.notify(Notification{Type: "share", Title: "Partage tardif"}, f.alice)
	if n := f.send(); n != 1 {
		t.Errorf("quiet hours off: %d mails at 22:30, want 1", n)
	}
}

// Daily digests gather a day's notifications in one mail the next working
// morning; weekly ones wait for Monday.
func TestDigests(t *testing.T) {
	f := newFx(t)
	for i, h := range []string{"10:00", "11:30", "15:45"} {
		f.set("2026-11-20 " + h) // a Friday
		f.notify(Notification{Type: "comment", Title: fmt.Sprintf("Commentaire n° %d sur votre blog", i+1), Link: "/blog/3"}, f.alice)
	}
	f.notify(Notification{Type: "news", Title: "La kermesse aura lieu samedi"}, f.alice)
	for _, at := range []string{"2026-11-20 18:00", "2026-11-21 07:00", "2026-11-22 12:00", "2026-11-23 06:59"} {
		f.set(at)
		if n := f.send(); n != 0 {
			t.Fatalf("%d mails at %s", n, at)
		}
	}
	f.set("2026-11-23 07:00")
	if n := f.send(); n != 2 {
		t.Fatalf("%d mails on Monday 07:00, want 2 (daily and weekly digests)", n)
	}
	var daily, weekly *mailMsg
	for _, m := range f.box.to(f.alice.email) {
		switch {
		case strings.HasPrefix(m.Subject, "Résumé de la journée"):
			daily = &m
		case strings.HasPrefix(m.Subject, "Résumé de la semaine"):
			weekly = &m
		}
	}
	if daily == nil || weekly == nil {
		t.Fatalf("digests: %+v", f.box.all())
	}
	if daily.Subject != "Résumé de la journée : 3 notifications" {
		t.Errorf("daily subject %q", daily.Subject)
	}
	for i := 1; i <= 3; i++ {
		if !strings.Contains(daily.Body, fmt.Sprintf("Commentaire n° %d sur votre blog", i)) {
			t.Errorf("daily digest lacks comment %d:\n%s", i, daily.Body)
		}
	}
	if strings.Contains(daily.Body, "kermesse") || !strings.Contains(weekly.Body, "La kermesse aura lieu samedi") {
		t.Errorf("weekly item in the wrong digest:\ndaily: %s\nweekly: %s", daily.Body, weekly.Body)
	}
	if !strings.Contains(daily.Body, "20/11 10:00") || !strings.Contains(daily.Body, "https://socle.test/blog/3") {
		t.Errorf("daily digest lacks time or link:\n%s", daily.Body)
	}
	// The digest lists only what is still unread.
	f.set("2026-11-23 09:00")
	f.notify(Notification{Type: "comment", Title: "Lu sur le site"}, f.alice)
	f.notify(Notification{Type: "comment", Title: "Encore à lire"}, f.alice)
	pg, _ := f.svc.Timeline(f.ctx, f.alice.p, "", 2)
	for _, it := range pg.Items {
		if it.Title == "Lu sur le site" {
			if _, err := f.svc.MarkRead(f.ctx, f.alice.p, it.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.set("2026-11-24 07:00")
	if n := f.send(); n != 1 {
		t.Fatalf("%d mails on Tuesday, want 1", n)
	}
	msgs := f.box.to(f.alice.email)
	last := msgs[len(msgs)-1]
	if last.Subject != "Résumé de la journée : 1 notification" || strings.Contains(last.Body, "Lu sur le site") || !strings.Contains(last.Body, "Encore à lire") {
		t.Errorf("Tuesday digest: %q\n%s", last.Subject, last.Body)
	}
}

// A failed delivery is retried later, not lost, and not sent twice.
func TestDeliveryRetry(t *testing.T) {
	f := newFx(t)
	f.svc.opts.Mail.Port = 1 // nothing listens there
	f.notify(Notification{Type: "share", Title: "Partage"}, f.alice)
	if n := f.send(); n != 0 {
		t.Fatalf("%d mails sent with no server", n)
	}
	f.svc.opts.Mail.Port = f.box.addr.Port
	if n := f.send(); n != 0 {
		t.Fatalf("retried before its time: %d", n)
	}
	f.set("2026-11-17 10:11")
	if n := f.send(); n != 1 {
		t.Fatalf("retry after 10 minutes sent %d, want 1", n)
	}
	if n := len(f.box.to(f.alice.email)); n != 1 {
		t.Errorf("Alice got %d mails, want 1", n)
	}
}

func TestPreferences(t *testing.T) {
	f := newFx(t)
	prefs, err := f.svc.Preferences(f.ctx, f.alice.p)
	if err != nil {
		t.Fatal(err)
	}
	if !prefs.QuietHours || len(prefs.Types) != 4 || prefs.Types[0].Type != "share" || prefs.Types[0].Frequency != Immediate ||
		prefs.Types[1].Frequency != Daily || prefs.Types[3].Frequency != Never {
		t.Fatalf("defaults: %+v", prefs)
	}
	off := false
	prefs, err = f.svc.SetPreferences(f.ctx, f.alice.p, PreferencesInput{QuietHours: &off, Types: map[string]Frequency{"share": Weekly, "ticket": Immediate}})
	if err != nil {
		t.Fatal(err)
	}
	if prefs.QuietHours || prefs.Types[0].Frequency != Weekly || prefs.Types[0].Default != Immediate || prefs.Types[3].Frequency != Immediate ||
		prefs.Types[1].Frequency != Daily {
		t.Fatalf("after change: %+v", prefs)
	}
	// Bruno's are untouched.
	if b, _ := f.svc.Preferences(f.ctx, f.bruno.p); b.Types[0].Frequency != Immediate || !b.QuietHours {
		t.Errorf("Bruno's preferences changed: %+v", b)
	}
	for _, c := range []struct {
		in   PreferencesInput
		code string
	}{
		{PreferencesInput{Types: map[string]Frequency{"share": "hourly"}}, "invalid_frequency"},
		{PreferencesInput{Types: map[string]Frequency{"share": Never, "inconnu": Daily}}, "unknown_notification_type"},
	} {
		_, err := f.svc.SetPreferences(f.ctx, f.alice.p, c.in)
		var p *problem.Error
		if !errors.As(err, &p) || p.Code != c.code || p.Status != 400 {
			t.Errorf("%+v: %v, want %s", c.in, err, c.code)
		}
	}
	// A refused change changes nothing.
	if a, _ := f.svc.Preferences(f.ctx, f.alice.p); a.Types[0].Frequency != Weekly {
		t.Errorf("refused change applied: %+v", a.Types[0])
	}
	// The chosen frequency routes the next notification.
	f.notify(Notification{Type: "ticket", Title: "Demande résolue"}, f.alice)
	if n := f.send(); n != 1 {
		t.Errorf("ticket set to immediate: %d mails", n)
	}
}

func TestTimelinePagesAndRead(t *testing.T) {
	f := newFx(t)
	for i := 1; i <= 45; i++ {
		f.notify(Notification{Type: "ticket", Title: "Notification " + strconv.Itoa(i)}, f.alice)
	}
	f.notify(Notification{Type: "ticket", Title: "Pour Bruno"}, f.bruno)
	var titles []string
	cursor := ""
	pages := 0
	for {
		pg, err := f.svc.Timeline(f.ctx, f.alice.p, cursor, 20)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if pg.Unread != 45 {
			t.Errorf("unread %d, want 45", pg.Unread)
		}
		for _, it := range pg.Items {
			titles = append(titles, it.Title)
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	if pages != 3 || len(titles) != 45 || titles[0] != "Notification 45" || titles[44] != "Notification 1" {
		t.Fatalf("%d pages, %d items, first %q last %q", pages, len(titles), titles[0], titles[len(titles)-1])
	}
	for i := range titles {
		if titles[i] != "Notification "+strconv.Itoa(45-i) {
			t.Fatalf("item %d is %q", i, titles[i])
		}
	}
	if _, err := f.svc.Timeline(f.ctx, f.alice.p, "abc", 20); err == nil {
		t.Error("bad cursor accepted")
	}
	pg, _ := f.svc.Timeline(f.ctx, f.alice.p, "", 1)
	it, err := f.svc.MarkRead(f.ctx, f.alice.p, pg.Items[0].ID)
	if err != nil || it.ReadAt == nil || it.Unread() {
		t.Fatalf("mark read: %+v %v", it, err)
	}
	if n, _ := f.svc.Unread(f.ctx, f.alice.p); n != 44 {
		t.Errorf("unread after one read: %d", n)
	}
	if n, err := f.svc.MarkAllRead(f.ctx, f.alice.p); err != nil || n != 44 {
		t.Errorf("mark all read: %d %v", n, err)
	}
	if n, _ := f.svc.Unread(f.ctx, f.alice.p); n != 0 {
		t.Errorf("unread after all read: %d", n)
	}
	if n, _ := f.svc.Unread(f.ctx, f.bruno.p); n != 1 {
		t.Errorf("Bruno's unread touched: %d", n)
	}
}

// The service is a privacy contributor: the export holds the timeline and
// choices, the erasure leaves nothing.
func TestPrivacyContributor(t *testing.T) {
	f := newFx(t)
	f.notify(Notification{Type: "share", Title: "Partage pour Alice"}, f.alice)
	f.notify(Notification{Type: "share", Title: "Partage pour Bruno"}, f.bruno)
	if _, err := f.svc.SetPreferences(f.ctx, f.alice.p, PreferencesInput{Types: map[string]Frequency{"comment": Never}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := f.svc.ExportPerson(f.ctx, f.alice.id, zw); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "notifications/notifications.json" {
		t.Fatalf("export entries: %v", err)
	}
	rc, _ := zr.File[0].Open()
	var got personExport
	if err := json.NewDecoder(rc).Decode(&got); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if len(got.Timeline) != 1 || got.Timeline[0].Title != "Partage pour Alice" || got.Preferences["comment"] != Never || len(got.Mails) != 1 {
		t.Errorf("export: %+v", got)
	}
	if err := f.svc.ErasePerson(f.ctx, f.alice.id); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"notify_timeline", "notify_outbox", "notify_preferences"} {
		var n int
		if err := f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, f.alice.id).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s keeps %d rows of Alice (%v)", table, n, err)
		}
	}
	if n, _ := f.svc.Unread(f.ctx, f.bruno.p); n != 1 {
		t.Errorf("Bruno's timeline erased too: %d", n)
	}
}
