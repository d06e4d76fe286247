package helpdesk

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startMailIn starts the service's incoming SMTP listener on loopback.
func (f *fixture) startMailIn() string {
	f.t.Helper()
	srv := f.svc.MailServer("127.0.0.1:0")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(l) }()
	f.t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// sendMail delivers a raw message to the listener over a real SMTP
// exchange.
func (f *fixture) sendMail(addr, from string, msg string) {
	f.t.Helper()
	msg = strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	if err := smtp.SendMail(addr, nil, from, []string{"assistance@socle.test"}, []byte(msg)); err != nil {
		f.t.Fatalf("send mail: %v", err)
	}
}

// parsed reads a captured message: its headers and decoded text.
func parsed(t *testing.T, c captured) (mail.Header, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(c.Data))
	if err != nil {
		t.Fatalf("captured message unreadable: %v", err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatalf("captured body: %v", err)
	}
	return m.Header, string(b)
}

// TestEndToEnd follows one incident from a school through the API, the
// technician's work, an e-mail reply of the requester over SMTP, the
// solution, the closure, the survey and the monthly report.
func TestEndToEnd(t *testing.T) {
	f := newFixture(t)
	mailIn := f.startMailIn()

	// Monday 09:00: a teacher opens an incident through the API.
	var tk Ticket
	f.mustCall(f.teacher, "POST", "/api/v1/tickets", map[string]any{
		"kind": "incident", "uai": f.uaiA, "service_id": f.serviceID, "title": "Le vidéoprojecteur de la classe 3 ne s'allume plus",
		"description": "Depuis ce matin.", "urgency": 2, "impact": 3}, &tk, http.StatusCreated)
	if !regexp.MustCompile(`^T-2026-\d{6}$`).MatchString(tk.Reference) {
		t.Fatalf("reference %q", tk.Reference)
	}
	if tk.Status != StatusNew || tk.TeamID != f.teamN1 || tk.Priority != DefaultMatrix().Priority(2, 3) {
		t.Fatalf("new ticket: %+v", tk)
	}
	h, _ := parsed(t, f.out.last(t, f.teacher.email))
	if subj, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); !strings.HasPrefix(subj, "["+tk.Reference+"] ") {
		t.Fatalf("acknowledgment subject %q", subj)
	}

	// Another school's head does not see it; the head of the school does.
	if got := f.call(f.headB, "GET", "/api/v1/tickets/"+tk.Reference, nil, nil); got != http.StatusNotFound {
		t.Fatalf("other school's head: status %d, want 404", got)
	}
	var list ListResult
	f.mustCall(f.headB, "GET", "/api/v1/tickets", nil, &list, http.StatusOK)
	if list.Total != 0 {
		t.Fatalf("other school's head lists %d tickets", list.Total)
	}
	f.mustCall(f.head, "GET", "/api/v1/tickets?uai="+f.uaiA+"&status=new", nil, &list, http.StatusOK)
	if list.Total != 1 || list.Items[0].Reference != tk.Reference {
		t.Fatalf("head's list: %+v", list)
	}
	// The teacher reads no ticket of the school but lists their own (the
	// requester's arm of the list), and nobody else's.
	f.mustCall(f.teacher, "GET", "/api/v1/tickets", nil, &list, http.StatusOK)
	if list.Total != 1 || list.TotalCapped || list.Items[0].Reference != tk.Reference {
		t.Fatalf("teacher's own list: %+v", list)
	}
	// The teacher may not take it.
	if got := f.call(f.teacher, "POST", "/api/v1/tickets/"+tk.Reference+"/assign", map[string]any{}, nil); got != http.StatusForbidden {
		t.Fatalf("teacher assigning: %d", got)
	}

	// 09:30: the technician takes it; 10:00 waits for the requester.
	f.set("2026-11-16 09:30")
	f.mustCall(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/assign", map[string]any{}, &tk, http.StatusOK)
	if tk.Status != StatusAssigned || tk.TechnicianID != f.tech.id {
		t.Fatalf("after assign: %+v", tk)
	}
	f.set("2026-11-16 10:00")
	f.mustCall(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/status",
		map[string]any{"status": "pending", "reason": "requester", "comment": "Le voyant du boîtier est-il orange ou rouge ?"}, &tk, http.StatusOK)
	notif := f.out.last(t, f.teacher.email)
	nh, body := parsed(t, notif)
	msgID := nh.Get("Message-ID")
	if msgID == "" || !strings.Contains(body, "voyant") {
		t.Fatalf("pending notification: id %q body %q", msgID, body)
	}

	// 14:00: the teacher answers the notification from her mailbox.
	f.set("2026-11-16 14:00")
	before := f.countTickets()
	f.sendMail(mailIn, f.teacher.email, fmt.Sprintf(`From: Prof <%s>
To: assistance@socle.test
Subject: =?utf-8?q?Re=3A_=5BT=5D_En_attente?=
Message-ID: <reply-1@ecole-a.test>
In-Reply-To: %s
References: %s
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Il est orange, et l'=E9cran reste noir.

Le lun. 16 nov. 2026 =E0 10:00, Assistance a =E9crit :
> Le voyant du bo=EEtier est-il orange ou rouge ?
`, f.teacher.email, msgID, msgID))
	if n := f.countTickets(); n != before {
		t.Fatalf("a reply created a ticket: %d tickets, had %d", n, before)
	}
	d := f.detail(f.tech, tk.Reference)
	if d.Status != StatusAssigned {
		t.Fatalf("after the reply the ticket is %s, want assigned", d.Status)
	}
	last := d.Followups[len(d.Followups)-1]
	if last.Source != "mail" || last.Body != "Il est orange, et l'écran reste noir." || last.AuthorID != f.teacher.id {
		t.Fatalf("mail follow-up: %+v", last)
	}
	th, tbody := parsed(t, f.out.last(t, f.tech.email))
	if subj, _ := new(mime.WordDecoder).DecodeHeader(th.Get("Subject")); !strings.Contains(subj, "Nouveau message du demandeur") || !strings.Contains(tbody, "orange") {
		t.Fatalf("technician not told of the reply: %q", subj)
	}
	if got := d.Clocks.TTR.PausedOpen.Duration(); got != 2*time.Hour+30*time.Minute {
		t.Fatalf("paused open time %s, want 2h30 (10:00–12:00, 13:30–14:00)", got)
	}

	// 15:00 solved, 15:30 closed by the requester accepting the solution.
	f.set("2026-11-16 15:00")
	f.mustCall(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/status", map[string]any{"status": "solved", "comment": "Lampe remplacée."}, &tk, http.StatusOK)
	f.set("2026-11-16 15:30")
	f.mustCall(f.teacher, "POST", "/api/v1/tickets/"+tk.Reference+"/status", map[string]any{"status": "closed"}, &tk, http.StatusOK)
	var full Detail
	f.mustCall(f.teacher, "GET", "/api/v1/tickets/"+tk.Reference, nil, &full, http.StatusOK)
	if full.Status != StatusClosed || full.Clocks.TTO.State != ClockMet || full.Clocks.TTR.State != ClockMet {
		t.Fatalf("closed ticket clocks: %s tto %s ttr %s", full.Status, full.Clocks.TTO.State, full.Clocks.TTR.State)
	}
	if got := full.Clocks.TTR.Consumed.Duration(); got != 2*time.Hour {
		t.Fatalf("TTR consumed %s, want 2h (09:00–10:00, 14:00–15:00)", got)
	}
	if len(full.Clocks.TTR.Paused) != 1 || len(full.Clocks.TTR.Counted) != 2 {
		t.Fatalf("explanation: paused %v counted %v", full.Clocks.TTR.Paused, full.Clocks.TTR.Counted)
	}

	// The closure mail carries the survey token; it answers once.
	_, closure := parsed(t, f.out.last(t, f.teacher.email))
	m := regexp.MustCompile(`/enquete/([A-Za-z0-9_-]+)`).FindStringSubmatch(closure)
	if m == nil {
		t.Fatalf("no survey link in the closure mail: %q", closure)
	}
	// The API is called as the requester here; the token alone is enough
	// on the page the e-mail links to (tested in the page test).
	f.mustCall(f.teacher, "POST", "/api/v1/tickets/"+tk.Reference+"/survey", map[string]any{"token": m[1], "score": 5, "comment": "Rapide, merci."}, nil, http.StatusOK)
	if got := f.call(f.teacher, "POST", "/api/v1/tickets/"+tk.Reference+"/survey", map[string]any{"token": m[1], "score": 1}, nil); got != http.StatusConflict {
		t.Fatalf("second answer: %d, want 409", got)
	}

	// The month counts it, for the school and for its collectivité.
	for _, org := range []int64{f.estA, f.authority} {
		var rep Report
		f.mustCall(f.tech, "GET", fmt.Sprintf("/api/v1/helpdesk/reports/monthly?org=%d&month=2026-11", org), nil, &rep, http.StatusOK)
		if rep.Opened != 1 || rep.Solved != 1 || rep.TTOCompliance == nil || *rep.TTOCompliance != 100 ||
			rep.TTRCompliance == nil || *rep.TTRCompliance != 100 || rep.Satisfaction == nil || *rep.Satisfaction != 5 ||
			rep.MeanResolve.Duration() != 6*time.Hour || rep.P90Resolve.Duration() != 6*time.Hour {
			t.Fatalf("report of %d: %+v", org, rep)
		}
	}
	if got := f.call(f.headB, "GET", fmt.Sprintf("/api/v1/helpdesk/reports/monthly?org=%d&month=2026-11", f.estA), nil, nil); got != http.StatusNotFound {
		t.Fatalf("other head reading the report: %d", got)
	}
}
