package helpdesk

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func (f *fixture) quarantined() []QuarantinedMail {
	f.t.Helper()
	items, _, err := f.svc.Quarantine(f.ctx, f.principal(f.admin), 100, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return items
}

// Incoming mail over a real SMTP exchange: replies become follow-ups and
// never tickets; automatic, unknown, malformed and oversized messages are
// quarantined, nothing is lost.
func TestIncomingMail(t *testing.T) {
	f := newFixture(t)
	addr := f.startMailIn()
	tk := f.open(f.teacher, "Wifi absent")

	t.Run("reply by the reference in the subject", func(t *testing.T) {
		n := f.countTickets()
		f.sendMail(addr, f.teacher.email, fmt.Sprintf(`From: %s
To: assistance@socle.test
Subject: RE: [%s] Demande enregistrée
Message-ID: <r2@ecole-a.test>

Toujours rien ce matin.
`, f.teacher.email, tk.Reference))
		// The same message delivered twice (a client retrying) is added once.
		f.sendMail(addr, f.teacher.email, fmt.Sprintf("From: %s\nSubject: RE: [%s] x\nMessage-ID: <r2@ecole-a.test>\n\nToujours rien ce matin.\n", f.teacher.email, tk.Reference))
		if f.countTickets() != n {
			t.Fatal("a reply created a ticket")
		}
		d := f.detail(f.tech, tk.Reference)
		if len(d.Followups) != 1 || d.Followups[0].Body != "Toujours rien ce matin." {
			t.Fatalf("follow-ups %+v", d.Followups)
		}
	})

	t.Run("reply to a notification we no longer know", func(t *testing.T) {
		n := f.countTickets()
		f.sendMail(addr, f.teacher.email, fmt.Sprintf(`From: %s
Subject: Re: votre demande
In-Reply-To: <t-2026-000999.abcdef@socle.test>

Merci.
`, f.teacher.email))
		if f.countTickets() != n {
			t.Fatal("a reply created a ticket")
		}
		q := f.quarantined()
		if q[0].Reason != QuarantineUnknownTicket {
			t.Fatalf("quarantine %+v", q[0])
		}
	})

	t.Run("automatic replies", func(t *testing.T) {
		for i, hdr := range []string{"Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All", "Precedence: bulk"} {
			n := f.countTickets()
			f.sendMail(addr, f.teacher.email, fmt.Sprintf("From: %s\nSubject: Absent du bureau %d\n%s\n\nJe suis absente.\n", f.teacher.email, i, hdr))
			if f.countTickets() != n {
				t.Fatalf("%s created a ticket", hdr)
			}
			if q := f.quarantined(); q[0].Reason != QuarantineAutoReply {
				t.Fatalf("%s: quarantine %+v", hdr, q[0])
			}
		}
		// "Auto-Submitted: no" is a person writing.
		n := f.countTickets()
		f.sendMail(addr, f.teacher.email, fmt.Sprintf("From: %s\nSubject: Casque cassé\nAuto-Submitted: no\n\nLe casque de la salle 4.\n", f.teacher.email))
		if f.countTickets() != n+1 {
			t.Fatal("a message with Auto-Submitted: no did not open a ticket")
		}
	})

	t.Run("unknown sender", func(t *testing.T) {
		n := f.countTickets()
		f.sendMail(addr, "inconnu@ailleurs.test", "From: inconnu@ailleurs.test\nSubject: Bonjour\n\nPouvez-vous m'aider ?\n")
		f.sendMail(addr, "inconnu@ailleurs.test", fmt.Sprintf("From: inconnu@ailleurs.test\nSubject: Re: [%s]\n\nJe m'en mêle.\n", tk.Reference))
		// Another school's head has an account but no business there.
		f.sendMail(addr, f.headB.email, fmt.Sprintf("From: %s\nSubject: Re: [%s]\n\nJe réponds aussi.\n", f.headB.email, tk.Reference))
		if f.countTickets() != n {
			t.Fatal("an unknown sender opened a ticket")
		}
		if q := f.quarantined(); q[0].Reason != QuarantineUnknownSender {
			t.Fatalf("other school's head: quarantine %+v", q[0])
		}
		// The school's head may add to it.
		f.sendMail(addr, f.head.email, fmt.Sprintf("From: %s\nSubject: Re: [%s]\n\nJe confirme.\n", f.head.email, tk.Reference))
		if d := f.detail(f.tech, tk.Reference); d.Followups[len(d.Followups)-1].Body != "Je confirme." {
			t.Fatalf("head's reply: %+v", d.Followups)
		}
		q := f.quarantined()
		if q[1].Reason != QuarantineUnknownSender || q[2].Reason != QuarantineUnknownSender || q[1].Sender != "inconnu@ailleurs.test" {
			t.Fatalf("quarantine %+v", q[:3])
		}
	})

	t.Run("malformed and too big", func(t *testing.T) {
		f.sendMail(addr, f.teacher.email, "Subject: sans expéditeur\n\nTexte.\n")
		if q := f.quarantined(); q[0].Reason != QuarantineMalformed {
			t.Fatalf("quarantine %+v", q[0])
		}
		f.svc.opts.MaxMailBytes = 2000
		defer func() { f.svc.opts.MaxMailBytes = 10 << 20 }()
		f.sendMail(addr, f.teacher.email, fmt.Sprintf("From: %s\nSubject: Gros\n\n%s\n", f.teacher.email, strings.Repeat("bla bla bla\n", 300)))
		if q := f.quarantined(); q[0].Reason != QuarantineTooLarge || q[0].Size < 2000 {
			t.Fatalf("quarantine %+v", q[0])
		}
	})

	t.Run("new ticket from an HTML message", func(t *testing.T) {
		n := f.countTickets()
		f.sendMail(addr, f.teacher.email, fmt.Sprintf(`From: "Prof" <%s>
Subject: =?iso-8859-1?q?Cl=E9_USB_bloqu=E9e?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+TGEgY2zDqSBuJ2VzdCBwbHVzIGx1ZS48YnI+TWVyY2kgITwvcD48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+
--b1
Content-Type: text/plain; name="log.txt"
Content-Disposition: attachment; filename="log.txt"

erreur 42
--b1--
`, f.teacher.email))
		if f.countTickets() != n+1 {
			t.Fatal("no ticket opened")
		}
		var list ListResult
		f.mustCall(f.teacher, "GET", "/api/v1/tickets?sort=-created&limit=200", nil, &list, http.StatusOK)
		got := list.Items[len(list.Items)-1]
		if got.Title != "Clé USB bloquée" || got.Description != "La clé n'est plus lue.\nMerci !" {
			t.Fatalf("ticket %q / %q", got.Title, got.Description)
		}
		d := f.detail(f.teacher, got.Reference)
		if len(d.Attachments) != 1 || d.Attachments[0].Name != "log.txt" {
			t.Fatalf("attachments %+v", d.Attachments)
		}
	})

	t.Run("quarantine is for administrators", func(t *testing.T) {
		var page struct {
			Total int               `json:"total"`
			Items []QuarantinedMail `json:"items"`
		}
		f.mustCall(f.admin, "GET", "/api/v1/helpdesk/mail-quarantine", nil, &page, http.StatusOK)
		if page.Total < 6 {
			t.Fatalf("quarantine total %d", page.Total)
		}
		if got := f.call(f.tech, "GET", "/api/v1/helpdesk/mail-quarantine", nil, nil); got != http.StatusNotFound {
			t.Fatalf("technician reading the quarantine: %d", got)
		}
		if code, body := f.page(f.admin, "GET", "/courriels-en-quarantaine", nil); code != http.StatusOK || !strings.Contains(body, "Réponse automatique") {
			t.Fatalf("quarantine page: %d", code)
		}
		if code, _ := f.page(f.tech, "GET", "/courriels-en-quarantaine", nil); code != http.StatusNotFound {
			t.Fatalf("quarantine page for a technician: %d", code)
		}
	})
}

func TestStripQuotedAndHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Oui.\n\nOn Mon, 16 Nov 2026 at 10:00, X wrote:\n> question", "Oui."},
		{"Oui.\r\n> cité\r\nfin", "Oui.\nfin"},
		{"Bonjour\n-----Original Message-----\nFrom: x", "Bonjour"},
	}
	for _, c := range cases {
		if got := stripQuoted(c.in); got != c.want {
			t.Errorf("stripQuoted(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := htmlToText("<html><head><title>x</title></head><body><p>A &amp; B</p><div>C</div></body></html>"); got != "A & B\nC" {
		t.Errorf("htmlToText = %q", got)
	}
}
