package helpdesk

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestQuarantineRelease: an administrator downloads a quarantined message
// as received, adds one to a chosen ticket, opens a ticket for a chosen
// requester with another, discards a third; each leaves the list, and a
// message dealt with cannot be dealt with twice. Nobody else sees them.
func TestQuarantineRelease(t *testing.T) {
	f := newFixture(t)
	addr := f.startMailIn()
	tk := f.open(f.teacher, "Vidéoprojecteur")
	// Three messages from an address nobody has.
	for i, subject := range []string{"Suite vidéoprojecteur", "Écran noir salle 2", "Publicité"} {
		f.sendMail(addr, "inconnu@ailleurs.test", fmt.Sprintf("From: inconnu@ailleurs.test\nSubject: %s\nMessage-ID: <q%d@ailleurs.test>\n\nTexte %d du message.\n", subject, i, i))
	}
	q := f.quarantined()
	if len(q) != 3 {
		t.Fatalf("%d quarantined, want 3", len(q))
	}
	ids := map[string]int64{}
	for _, m := range q {
		if m.Reason != QuarantineUnknownSender {
			t.Fatalf("reason %q", m.Reason)
		}
		ids[m.Subject] = m.ID
	}
	admin := f.principal(f.admin)

	// The raw message, as an .eml file; not for a technician.
	path := fmt.Sprintf("/courriels-en-quarantaine/%d/message.eml", ids["Publicité"])
	code, body := f.page(f.admin, "GET", path, nil)
	if code != http.StatusOK || !strings.Contains(body, "Message-ID: <q2@ailleurs.test>") || !strings.Contains(body, "Texte 2 du message.") {
		t.Fatalf("download: %d %q", code, body)
	}
	if code, _ := f.page(f.tech, "GET", path, nil); code != http.StatusNotFound {
		t.Fatalf("download by a technician: %d", code)
	}
	if code, body := f.page(f.admin, "GET", "/courriels-en-quarantaine", nil); code != http.StatusOK || !strings.Contains(body, "Ajouter au ticket") || !strings.Contains(body, path) {
		t.Fatalf("quarantine page: %d", code)
	}

	// Follow-up of a chosen ticket, through the page's form.
	code, loc := f.page(f.admin, "POST", fmt.Sprintf("/courriels-en-quarantaine/%d/traitement", ids["Suite vidéoprojecteur"]),
		url.Values{"action": {"followup"}, "ticket_reference": {strings.ToLower(tk.Reference)}})
	if code != http.StatusSeeOther || loc != "/courriels-en-quarantaine?ticket="+tk.Reference {
		t.Fatalf("release to ticket: %d %s", code, loc)
	}
	d := f.detail(f.tech, tk.Reference)
	if len(d.Followups) != 1 || d.Followups[0].Body != "Texte 0 du message." || d.Followups[0].Source != "mail" {
		t.Fatalf("follow-ups %+v", d.Followups)
	}
	if _, err := f.svc.ReleaseQuarantine(f.ctx, admin, ids["Suite vidéoprojecteur"], QuarantineRelease{TicketRef: tk.Reference}); err == nil {
		t.Fatal("a message released twice")
	}

	// A form error is shown next to its field.
	code, body = f.page(f.admin, "POST", fmt.Sprintf("/courriels-en-quarantaine/%d/traitement", ids["Écran noir salle 2"]),
		url.Values{"action": {"ticket"}, "requester_email": {"personne@nulle-part.test"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Compte inconnu ou sans droit") || !strings.Contains(body, `aria-invalid="true"`) {
		t.Fatalf("release to an unknown requester: %d", code)
	}
	if _, err := f.svc.ReleaseQuarantine(f.ctx, admin, ids["Écran noir salle 2"], QuarantineRelease{TicketRef: tk.Reference, RequesterEmail: f.teacher.email}); err == nil {
		t.Fatal("both a ticket and a requester accepted")
	}

	// A new ticket for a chosen requester (their only establishment).
	n := f.countTickets()
	ref, err := f.svc.ReleaseQuarantine(f.ctx, admin, ids["Écran noir salle 2"], QuarantineRelease{RequesterEmail: strings.ToUpper(f.teacher.email)})
	if err != nil {
		t.Fatalf("release as a ticket: %v", err)
	}
	if f.countTickets() != n+1 {
		t.Fatal("no ticket opened")
	}
	nt := f.detail(f.teacher, ref)
	if nt.Title != "Écran noir salle 2" || nt.RequesterID != f.teacher.id || nt.EstablishmentID != f.estA || !strings.Contains(nt.Description, "Texte 1 du message.") {
		t.Fatalf("ticket from quarantine: %+v", nt.Ticket)
	}
	// The requester is told, as for any new ticket.
	if _, text := parsed(t, f.out.last(t, f.teacher.email)); !strings.Contains(text, ref) {
		t.Fatalf("requester not notified: %s", text)
	}

	// Discarded.
	if code, loc := f.page(f.admin, "POST", fmt.Sprintf("/courriels-en-quarantaine/%d/traitement", ids["Publicité"]), url.Values{"action": {"discard"}}); code != http.StatusSeeOther || !strings.Contains(loc, "ecarte") {
		t.Fatalf("discard: %d %s", code, loc)
	}
	if err := f.svc.DiscardQuarantine(f.ctx, admin, ids["Publicité"]); err == nil {
		t.Fatal("discarded twice")
	}
	if q := f.quarantined(); len(q) != 0 {
		t.Fatalf("still in quarantine: %+v", q)
	}
	var resolution, ticketRef string
	if err := f.db.QueryRowContext(f.ctx, `SELECT resolution, ticket_reference FROM mail_quarantine WHERE id = ?`, ids["Écran noir salle 2"]).Scan(&resolution, &ticketRef); err != nil ||
		resolution != ResolutionNewTicket || ticketRef != ref {
		t.Fatalf("resolution %q %q %v", resolution, ticketRef, err)
	}
	// Nobody but an administrator deals with quarantine.
	if err := f.svc.DiscardQuarantine(f.ctx, f.principal(f.tech), ids["Publicité"]); !isNotFound(err) {
		t.Fatalf("technician: %v", err)
	}
}
