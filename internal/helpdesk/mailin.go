package helpdesk

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decodes ISO-8859-1, Windows-1252... bodies
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Quarantine reasons.
const (
	QuarantineTooLarge      = "too_large"
	QuarantineMalformed     = "malformed"
	QuarantineAutoReply     = "auto_reply"
	QuarantineUnknownSender = "unknown_sender"
	QuarantineUnknownTicket = "unknown_ticket"
	// QuarantineNoEstablishment: a known sender whose grants do not name
	// exactly one establishment to open the ticket for.
	QuarantineNoEstablishment = "no_establishment"
)

// MailOutcome says what became of an incoming message.
type MailOutcome struct {
	Reference    string
	NewTicket    bool
	Followup     bool
	Duplicate    bool
	QuarantineID int64
	Reason       string
}

// referenceInSubject finds "[T-2026-000123]" in a subject.
var referenceInSubject = regexp.MustCompile(`\[(T-\d{4}-\d{6})\]`)

// Receive turns one incoming message into a follow-up, a ticket, or a
// quarantined message. An error means nothing was recorded (the SMTP server
// answers with a temporary failure so the sender retries): nothing is lost.
func (s *Service) Receive(ctx context.Context, envelopeFrom string, raw []byte) (MailOutcome, error) {
	now := s.now().UTC()
	q := QuarantinedMail{ReceivedAt: now, Sender: envelopeFrom, Size: int64(len(raw))}
	if int64(len(raw)) > s.opts.MaxMailBytes {
		return s.quarantineMail(ctx, q, "", raw, QuarantineTooLarge)
	}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return s.quarantineMail(ctx, q, "", raw, QuarantineMalformed)
	}
	h := mr.Header
	q.Subject, _ = h.Subject()
	msgID, _ := h.MessageID()
	if msgID != "" {
		msgID = "<" + msgID + ">"
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 {
		return s.quarantineMail(ctx, q, msgID, raw, QuarantineMalformed)
	}
	sender := strings.ToLower(from[0].Address)
	q.Sender = sender
	if autoReply(h) {
		return s.quarantineMail(ctx, q, msgID, raw, QuarantineAutoReply)
	}
	if dup, err := s.store.followupByMessageID(ctx, s.db, msgID); err != nil {
		return MailOutcome{}, err
	} else if dup {
		return MailOutcome{Duplicate: true}, nil
	}
	body, files, err := extract(mr)
	if err != nil {
		return s.quarantineMail(ctx, q, msgID, raw, QuarantineMalformed)
	}

	// A reply finds its ticket by the notification it answers, or by the
	// reference in its subject; a message that claims a ticket we cannot
	// find is kept aside rather than opening a new one.
	var refs []string
	for _, key := range []string{"In-Reply-To", "References"} {
		ids, _ := h.MsgIDList(key)
		for _, id := range ids {
			refs = append(refs, "<"+id+">")
		}
	}
	ticketID, err := s.store.ticketByMessageID(ctx, refs)
	switch {
	case err == nil:
	case errors.Is(err, sql.ErrNoRows):
		ticketID = 0
	default:
		return MailOutcome{}, err
	}
	subjectRef := ""
	if m := referenceInSubject.FindStringSubmatch(q.Subject); m != nil {
		subjectRef = m[1]
	}
	user, p, err := s.principalByEmail(ctx, sender)
	if err != nil {
		return MailOutcome{}, err
	}
	if ticketID != 0 || subjectRef != "" {
		var t Ticket
		if ticketID != 0 {
			t, err = s.ticketByID(ctx, s.db, ticketID)
		} else {
			t, err = s.store.ticket(ctx, s.db, subjectRef, 0, "1=1", nil)
		}
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) || isNotFound(err) {
				return s.quarantineMail(ctx, q, msgID, raw, QuarantineUnknownTicket)
			}
			return MailOutcome{}, err
		}
		// The requester, and whoever may read the ticket on the site, may
		// add to it by mail; anyone else could be anybody.
		fromRequester := strings.EqualFold(sender, t.RequesterEmail) || (user != 0 && user == t.RequesterID)
		allowed, work := fromRequester, false
		if p != nil {
			if _, err := s.load(ctx, s.db, p, t.Reference); err == nil {
				allowed = true
			} else if !isNotFound(err) {
				return MailOutcome{}, err
			}
			if work, err = s.canWork(ctx, p, &t); err != nil {
				return MailOutcome{}, err
			}
		}
		if !allowed {
			return s.quarantineMail(ctx, q, msgID, raw, QuarantineUnknownSender)
		}
		f := Followup{AuthorID: user, AuthorEmail: sender, Body: body, Source: "mail"}
		if strings.TrimSpace(f.Body) == "" {
			f.Body = "(message sans texte)"
		}
		notify := func(tx *db.Tx) error {
			switch {
			case work && !fromRequester:
				return s.notifyFollowup(ctx, tx, &t, &f)
			case fromRequester:
				return s.notifyHolder(ctx, tx, &t, "Nouveau message du demandeur", "Le demandeur a écrit :\n\n"+f.Body)
			}
			return nil
		}
		if err := s.addFollowup(ctx, &t, &f, msgID, fromRequester, notify); db.IsUniqueViolation(err) {
			return MailOutcome{Duplicate: true}, nil
		} else if err != nil {
			return MailOutcome{}, err
		}
		s.attachFiles(ctx, t.ID, f.ID, files)
		s.log.Info("mail became a follow-up", "ticket", t.Reference)
		return MailOutcome{Reference: t.Reference, Followup: true}, nil
	}
	if len(refs) > 0 && s.claimsOurs(refs) {
		return s.quarantineMail(ctx, q, msgID, raw, QuarantineUnknownTicket)
	}
	if p == nil || !p.Has(auth.PermTicketCreate) {
		return s.quarantineMail(ctx, q, msgID, raw, QuarantineUnknownSender)
	}
	estID, err := s.onlyEstablishment(ctx, p)
	if err != nil {
		return MailOutcome{}, err
	}
	if estID == 0 {
		return s.quarantineMail(ctx, q, msgID, raw, QuarantineNoEstablishment)
	}
	title := strings.TrimSpace(q.Subject)
	if title == "" {
		title = "(sans objet)"
	}
	if r := []rune(title); len(r) > 200 {
		title = string(r[:200])
	}
	if len(body) > 100_000 {
		body = body[:100_000]
	}
	t, err := s.create(ctx, user, sender, estID, NewTicket{Kind: KindIncident, Title: title, Description: body}, "mail", nil)
	if err != nil {
		return MailOutcome{}, err
	}
	s.attachFiles(ctx, t.ID, 0, files)
	s.log.Info("mail became a ticket", "ticket", t.Reference)
	return MailOutcome{Reference: t.Reference, NewTicket: true}, nil
}

// claimsOurs reports whether a reply names a Message-ID of our domain: it
// answers one of our notifications, even if we no longer know which.
func (s *Service) claimsOurs(refs []string) bool {
	_, domain, _ := strings.Cut(s.fromAddress(), "@")
	for _, r := range refs {
		if domain != "" && strings.HasSuffix(strings.ToLower(r), "@"+strings.ToLower(domain)+">") {
			return true
		}
	}
	return false
}

// autoReply recognises automatic messages (RFC 3834 and the usual vendor
// headers): they never open tickets, so two robots cannot loop.
func autoReply(h mail.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	if h.Get("X-Auto-Response-Suppress") != "" || h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "auto_reply", "junk", "list":
		return true
	}
	return false
}

type mailFile struct {
	name, contentType string
	data              []byte
}

// extract reads the text of a message, text/plain preferred over
// text/html (stripped to text), and its attachments. go-message decodes
// quoted-printable, base64 and charsets.
func extract(mr *mail.Reader) (string, []mailFile, error) {
	var plain, htmlText string
	var files []mailFile
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) {
			return "", nil, fmt.Errorf("read part: %w", err)
		}
		if part == nil {
			continue
		}
		switch ph := part.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := ph.ContentType()
			b, err := io.ReadAll(part.Body)
			if err != nil {
				return "", nil, fmt.Errorf("read text: %w", err)
			}
			switch {
			case ct == "text/plain" || ct == "":
				if plain == "" {
					plain = string(b)
				}
			case ct == "text/html":
				if htmlText == "" {
					htmlText = htmlToText(string(b))
				}
			default:
				files = append(files, mailFile{name: "piece-jointe", contentType: ct, data: b})
			}
		case *mail.AttachmentHeader:
			name, _ := ph.Filename()
			ct, _, _ := ph.ContentType()
			b, err := io.ReadAll(part.Body)
			if err != nil {
				return "", nil, fmt.Errorf("read attachment: %w", err)
			}
			files = append(files, mailFile{name: name, contentType: ct, data: b})
		}
	}
	text := plain
	if strings.TrimSpace(text) == "" {
		text = htmlText
	}
	return stripQuoted(text), files, nil
}

var (
	htmlDrop  = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)>`)
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
	// quoteHeader is the line mail clients put above the quoted message.
	quoteHeader = regexp.MustCompile(`^(Le .+ a écrit|On .+ wrote|-----\s*Original Message|-----\s*Message d'origine)`)
)

func htmlToText(s string) string {
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = htmlTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// stripQuoted keeps what the sender wrote, without the quoted message
// below it: the ticket already holds that.
func stripQuoted(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []string
	for _, l := range strings.Split(s, "\n") {
		t := strings.TrimSpace(l)
		if quoteHeader.MatchString(t) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func (s *Service) attachFiles(ctx context.Context, ticketID, followupID int64, files []mailFile) {
	for _, f := range files {
		if _, err := s.attach(ctx, ticketID, followupID, f.name, f.contentType, bytes.NewReader(f.data)); err != nil {
			s.log.Warn("mail attachment not kept", "ticket_id", ticketID, "err", err)
		}
	}
}

// principalByEmail finds the account of a sender; 0 and nil when unknown
// or disabled.
func (s *Service) principalByEmail(ctx context.Context, email string) (int64, *auth.Principal, error) {
	u, err := s.auth.UserByEmail(ctx, email)
	if isNotFound(err) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	if u.Disabled {
		return 0, nil, nil
	}
	p, err := s.auth.Principal(ctx, u.ID)
	if err != nil {
		return 0, nil, err
	}
	return u.ID, p, nil
}

// onlyEstablishment is the establishment a sender opens tickets for by
// mail: the one their grants name, when they name exactly one.
func (s *Service) onlyEstablishment(ctx context.Context, p *auth.Principal) (int64, error) {
	var found int64
	for _, g := range p.Grants {
		if g.OrgID == 0 || !g.Role.Allows(auth.PermTicketCreate) || g.OrgID == found {
			continue
		}
		ok, err := s.store.isEstablishment(ctx, g.OrgID)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if found != 0 {
			return 0, nil
		}
		found = g.OrgID
	}
	return found, nil
}

func isNotFound(err error) bool {
	pe, ok := problem.As(err)
	return ok && pe.Code == "not_found"
}

// quarantineMail keeps the raw message on disk and a row for the
// administrators; the log line names no one.
func (s *Service) quarantineMail(ctx context.Context, q QuarantinedMail, msgID string, raw []byte, reason string) (MailOutcome, error) {
	q.Reason = reason
	if r := []rune(q.Subject); len(r) > 300 {
		q.Subject = string(r[:300])
	}
	key, _, _, err := s.storeFile("quarantine", bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return MailOutcome{}, fmt.Errorf("keep quarantined mail: %w", err)
	}
	id, err := s.store.insertQuarantine(ctx, q, msgID, key)
	if err != nil {
		return MailOutcome{}, err
	}
	s.log.Info("mail quarantined", "quarantine_id", id, "reason", reason, "size", q.Size)
	return MailOutcome{QuarantineID: id, Reason: reason}, nil
}

// Quarantine lists the quarantined messages not yet dealt with; platform
// administrators only, since they hold people's mail.
func (s *Service) Quarantine(ctx context.Context, p *auth.Principal, limit, offset int) ([]QuarantinedMail, int, error) {
	if !p.Global(auth.PermUserManage) {
		return nil, 0, problem.NotFound("Page")
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = 50
	}
	return s.store.quarantine(ctx, limit, max(offset, 0))
}

// MailBackend is the go-smtp backend of the incoming mail listener.
type MailBackend struct{ svc *Service }

// NewSession starts an SMTP session.
func (b *MailBackend) NewSession(_ *smtp.Conn) (smtp.Session, error) {
	return &mailSession{svc: b.svc}, nil
}

type mailSession struct {
	svc  *Service
	from string
}

func (m *mailSession) Reset()        { m.from = "" }
func (m *mailSession) Logout() error { return nil }

func (m *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	m.from = from
	return nil
}

func (m *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (m *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := m.svc.Receive(ctx, m.from, raw); err != nil {
		m.svc.log.Error("incoming mail not recorded", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Erreur temporaire, réessayez plus tard"}
	}
	return nil
}

// MailServer is the incoming mail listener; serve starts it with
// ListenAndServe and stops it with Close. Messages up to four times the
// size limit are accepted so that too big ones land in quarantine instead
// of bouncing.
func (s *Service) MailServer(addr string) *smtp.Server {
	srv := smtp.NewServer(&MailBackend{svc: s})
	srv.Addr = addr
	if _, d, ok := strings.Cut(s.fromAddress(), "@"); ok {
		srv.Domain = d
	} else {
		srv.Domain = "localhost"
	}
	srv.MaxMessageBytes = 4 * s.opts.MaxMailBytes
	srv.MaxRecipients = 50
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = 2 * time.Minute
	srv.ErrorLog = smtpLogger{s.log}
	return srv
}

// smtpLogger sends go-smtp's messages to the structured log, without the
// peers' addresses.
type smtpLogger struct{ log *slog.Logger }

func maskAddrs(v []any) []any {
	out := make([]any, len(v))
	for i, x := range v {
		if _, ok := x.(net.Addr); ok {
			x = "(peer)"
		}
		out[i] = x
	}
	return out
}

func (l smtpLogger) Printf(format string, v ...any) {
	l.log.Warn("smtp server", "msg", fmt.Sprintf(format, maskAddrs(v)...))
}

func (l smtpLogger) Println(v ...any) { l.log.Warn("smtp server", "msg", fmt.Sprint(maskAddrs(v)...)) }
