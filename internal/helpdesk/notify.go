package helpdesk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"socle/internal/platform/db"
	smtpmail "socle/internal/platform/mail"
)

// errMailDisabled marks notifications recorded while no SMTP server is
// configured.
var errMailDisabled = smtpmail.ErrDisabled

// fromAddress is the bare address of the configured sender.
func (s *Service) fromAddress() string {
	if a, err := mail.ParseAddress(s.opts.Mail.From); err == nil {
		return a.Address
	}
	return "helpdesk@localhost"
}

// newMessageID makes a Message-ID under the sender's domain, so that
// replies name it in In-Reply-To and find their ticket again.
func (s *Service) newMessageID(ref string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	domain := "localhost"
	if _, d, ok := strings.Cut(s.fromAddress(), "@"); ok && d != "" {
		domain = d
	}
	return "<" + strings.ToLower(ref) + "." + hex.EncodeToString(b) + "@" + domain + ">"
}

// compose writes a plain-text UTF-8 message with CRLF line ends.
func (s *Service) compose(to, subject, messageID, body string, now time.Time) []byte {
	var b bytes.Buffer
	from := s.opts.Mail.From
	if from == "" {
		from = s.fromAddress()
	}
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", messageID)
	// Marks the message as automatic (RFC 3834): well-behaved responders
	// do not answer it, which keeps two robots from talking forever.
	hdr("Auto-Submitted", "auto-generated")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// send composes one notification and writes it, in the caller's
// transaction, to the outbox (delivered by the worker, see outbox.go) and
// to the register of Message-IDs that lets a reply find its ticket. An
// error undoes the change being notified: the two are committed together
// or not at all. With no SMTP server configured the notification is only
// registered, marked as not sent.
func (s *Service) send(ctx context.Context, q db.Querier, t *Ticket, kind, to, subject, body string) error {
	if to == "" {
		return nil
	}
	now := s.now().UTC()
	subject = "[" + t.Reference + "] " + subject
	id := s.newMessageID(t.Reference)
	msg := s.compose(to, subject, id, body, now)
	errText := ""
	if s.opts.Mail.Host == "" {
		errText = errMailDisabled.Error()
	} else if err := s.store.enqueueMail(ctx, q, t.ID, kind, to, subject, id, msg, now); err != nil {
		return err
	}
	return s.store.recordNotification(ctx, q, t.ID, kind, to, subject, id, now, errText)
}

// deliver hands the message to the configured SMTP server.
func (s *Service) deliver(ctx context.Context, to string, msg []byte) error {
	return smtpmail.Send(ctx, s.opts.Mail, s.fromAddress(), to, msg, 15*time.Second)
}

func (s *Service) ticketURL(t *Ticket) string {
	return s.opts.BaseURL + "/tickets/" + t.Reference
}

const replyHint = "\n\nRépondez à ce message pour compléter votre demande : votre réponse sera ajoutée au ticket."

func (s *Service) requesterEmail(ctx context.Context, t *Ticket) string {
	if t.RequesterEmail != "" {
		return t.RequesterEmail
	}
	if t.RequesterID != 0 {
		e, err := s.store.userEmail(ctx, t.RequesterID)
		if err != nil {
			s.log.Warn("requester address unreadable", "ticket", t.Reference, "err", err)
		}
		return e
	}
	return ""
}

func (s *Service) notifyCreated(ctx context.Context, q db.Querier, t *Ticket) error {
	body := fmt.Sprintf("Bonjour,\n\nVotre demande « %s » est enregistrée sous la référence %s.\nSuivez-la sur %s%s",
		t.Title, t.Reference, s.ticketURL(t), replyHint)
	return s.send(ctx, q, t, "created", s.requesterEmail(ctx, t), "Demande enregistrée : "+t.Title, body)
}

func (s *Service) notifyFollowup(ctx context.Context, q db.Querier, t *Ticket, f *Followup) error {
	body := fmt.Sprintf("Bonjour,\n\nUn nouveau message a été ajouté à votre demande %s :\n\n%s\n\n%s%s",
		t.Reference, f.Body, s.ticketURL(t), replyHint)
	return s.send(ctx, q, t, "followup", s.requesterEmail(ctx, t), "Nouveau message : "+t.Title, body)
}

// notifyStatus tells the requester what changed, unless they made the
// change themselves; surveyToken is set when the closure opens a survey.
func (s *Service) notifyStatus(ctx context.Context, q db.Querier, t *Ticket, actor int64, f *Followup, surveyToken string) error {
	if actor != 0 && actor == t.RequesterID && surveyToken == "" {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Bonjour,\n\nVotre demande %s « %s » est maintenant : %s.", t.Reference, t.Title, t.Status.Label())
	if t.Status == StatusPending {
		fmt.Fprintf(&b, "\nMotif : %s.", ReasonLabel(t.PendingReason))
		if t.PendingReason == ReasonRequester {
			b.WriteString("\nNous attendons votre réponse : répondez simplement à ce message, le traitement reprendra.")
		}
	}
	if f != nil {
		fmt.Fprintf(&b, "\n\n%s", f.Body)
	}
	if surveyToken != "" {
		fmt.Fprintf(&b, "\n\nDonnez-nous votre avis (une minute) : %s/enquete/%s", s.opts.BaseURL, surveyToken)
	}
	fmt.Fprintf(&b, "\n\n%s", s.ticketURL(t))
	if t.Status != StatusClosed {
		b.WriteString(replyHint)
	}
	return s.send(ctx, q, t, "status_"+string(t.Status), s.requesterEmail(ctx, t), t.Status.Label()+" : "+t.Title, b.String())
}

// notifyHolder writes to the ticket's technician, or to its team's address
// when nobody holds it yet.
func (s *Service) notifyHolder(ctx context.Context, q db.Querier, t *Ticket, subject, text string) error {
	var to string
	var err error
	if t.TechnicianID != 0 {
		to, err = s.store.userEmail(ctx, t.TechnicianID)
	} else if t.TeamID != 0 {
		to, err = s.store.teamEmail(ctx, t.TeamID)
	}
	if err != nil {
		return fmt.Errorf("holder address of ticket %s: %w", t.Reference, err)
	}
	body := fmt.Sprintf("%s\n\nTicket %s (%s, priorité %d, niveau %s) : %s\n%s", text, t.Reference, t.Kind.Label(),
		t.Priority, t.Level, t.Title, s.ticketURL(t))
	return s.send(ctx, q, t, "holder", to, subject, body)
}
