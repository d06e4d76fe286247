package portal_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"socle/internal/ent/notify"
	"socle/internal/helpdesk"
)

func has(t *testing.T, body, want string) {
	t.Helper()
	if !strings.Contains(body, want) {
		t.Errorf("the page lacks %q", want)
	}
}

func lacks(t *testing.T, body, unwanted string) {
	t.Helper()
	if strings.Contains(body, unwanted) {
		t.Errorf("the page shows %q", unwanted)
	}
}

// The home page of the demo's pupil, parent, teacher and administrator:
// each sees their own part of the ENT, and nobody another's timeline.
func TestHomePerProfile(t *testing.T) {
	s := newDemoServer(t)
	ctx := context.Background()
	pupil, parent := s.userID(t, "eleve@demo.socle.fr"), s.userID(t, "parent@demo.socle.fr")
	groups, err := s.app.People.GroupsOfUser(ctx, pupil)
	if err != nil {
		t.Fatal(err)
	}
	var classPath string
	for _, g := range groups {
		if g.Kind == "class" && g.Name == "CM1 A" {
			classPath = fmt.Sprintf(`href="/classes/%d"`, g.ID)
		}
	}
	if classPath == "" {
		t.Fatalf("the demo pupil is in no class CM1 A: %+v", groups)
	}
	// Six notifications for the pupil, the oldest read: the home page
	// lists the latest five.
	for i := 1; i <= 6; i++ {
		if err := s.app.Notify.Notify(ctx, []int64{pupil}, notify.Notification{Type: "share",
			Title: fmt.Sprintf("Document n°%d partagé avec toi", i), Link: "/documents"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.app.DB.ExecContext(ctx, `UPDATE notify_timeline SET read_at = created_at WHERE user_id = ? AND title = ?`,
		pupil, "Document n°1 partagé avec toi"); err != nil {
		t.Fatal(err)
	}
	// The demo's productions already notified the pupil: the count covers
	// them too.
	var unread int
	if err := s.app.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_timeline WHERE user_id = ? AND read_at IS NULL`, pupil).Scan(&unread); err != nil {
		t.Fatal(err)
	}
	if err := s.app.Notify.Notify(ctx, []int64{parent}, notify.Notification{Type: "comment", Title: "Réponse à la demande du parent"}); err != nil {
		t.Fatal(err)
	}

	t.Run("pupil", func(t *testing.T) {
		body := s.home(t, s.login(t, "eleve@demo.socle.fr"))
		has(t, body, "Mes applications")
		has(t, body, `href="/documents"`)
		has(t, body, `href="/personnes"`)
		has(t, body, "Mes classes")
		has(t, body, classPath+">CM1 A</a>")
		has(t, body, "Mon fil de notifications")
		has(t, body, `<a href="/documents">Document n°6 partagé avec toi</a>`)
		has(t, body, "Document n°2 partagé avec toi")
		lacks(t, body, "Document n°1 partagé avec toi")
		has(t, body, fmt.Sprintf("<strong>%d</strong> notifications non lues", unread))
		if n := strings.Count(body, `<span class="badge">Non lue</span>`); n != 5 {
			t.Errorf("unread marks: %d, want 5", n)
		}
		has(t, body, `<a href="/notifications">Toutes mes notifications</a>`)
		lacks(t, body, "Réponse à la demande du parent")
		lacks(t, body, "Mes enfants")
		// A pupil opens no tickets: no Assistance application.
		lacks(t, body, `href="/tickets"`)
	})
	t.Run("parent", func(t *testing.T) {
		body := s.home(t, s.login(t, "parent@demo.socle.fr"))
		has(t, body, "Mes enfants")
		has(t, body, "<strong>Léa Tanguy</strong>")
		has(t, body, classPath+">CM1 A<span class=\"visually-hidden\"> (classe de Léa Tanguy)</span></a>")
		has(t, body, "Réponse à la demande du parent")
		lacks(t, body, "partagé avec toi")
		lacks(t, body, "Mes classes")
	})
	t.Run("teacher", func(t *testing.T) {
		body := s.home(t, s.login(t, "enseignant@demo.socle.fr"))
		has(t, body, "Mes classes")
		has(t, body, classPath+">CM1 A</a>")
		has(t, body, `<a href="/tickets"><strong>Assistance</strong></a>`)
		has(t, body, "Mon fil de notifications")
		lacks(t, body, "partagé avec toi")
		lacks(t, body, "Réponse à la demande du parent")
		lacks(t, body, "Mes enfants")
	})
	t.Run("administrator keeps the staff home page", func(t *testing.T) {
		body := s.home(t, s.login(t, "admin@demo.socle.fr"))
		has(t, body, "Chiffres de votre périmètre")
		has(t, body, "Derniers imports")
		has(t, body, "Mon fil de notifications")
		lacks(t, body, "Mes classes")
		lacks(t, body, `href="/documents"`)
		lacks(t, body, "partagé avec toi")
		lacks(t, body, "Réponse à la demande du parent")
	})
}

// What the helpdesk mails about a ticket also lands on the requester's
// timeline, once the change is committed.
func TestTicketUpdatesReachTheTimeline(t *testing.T) {
	s := newDemoServer(t)
	ctx := context.Background()
	teacher := s.userID(t, "enseignant@demo.socle.fr")
	p, err := s.app.Auth.Principal(ctx, teacher)
	if err != nil {
		t.Fatal(err)
	}
	var est int64
	for _, g := range p.Grants {
		if g.OrgID != 0 {
			est = g.OrgID
		}
	}
	tk, err := s.app.Helpdesk.Create(ctx, p, helpdesk.NewTicket{Kind: helpdesk.KindIncident, EstablishmentID: est,
		Title: "Le vidéoprojecteur de la classe ne s'allume plus", Urgency: 3, Impact: 3})
	if err != nil {
		t.Fatal(err)
	}
	var title, link string
	err = s.app.DB.QueryRowContext(ctx, `SELECT title, link FROM notify_timeline WHERE user_id = ? AND type = 'ticket'`, teacher).Scan(&title, &link)
	if err != nil {
		t.Fatalf("no ticket notification on the requester's timeline: %v", err)
	}
	if !strings.Contains(title, "Le vidéoprojecteur de la classe ne s'allume plus") || link != "/tickets/"+tk.Reference {
		t.Errorf("timeline item %q → %q, want the ticket %s", title, link, tk.Reference)
	}
}
