package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strconv"
	"strings"
	"time"

	smtpmail "socle/internal/platform/mail"
)

// The outbox worker. Notify only writes rows with their due time; the
// worker sends what is due, so a slow or absent SMTP server never slows a
// request, and several processes can share one PostgreSQL outbox.

const (
	claimBatch  = 200
	claimFor    = 5 * time.Minute
	maxAttempts = 5
)

// errMailDisabled marks mails dropped while no SMTP server is configured.
var errMailDisabled = smtpmail.ErrDisabled

// Start runs the outbox worker until Close.
func (s *Service) Start() {
	s.worker.Lock()
	defer s.worker.Unlock()
	if s.stop != nil {
		return
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go func(stop <-chan struct{}, done chan<- struct{}) {
		defer close(done)
		tick := time.NewTicker(s.opts.PollInterval)
		defer tick.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			if _, err := s.SendDue(ctx); err != nil {
				s.log.Warn("notification mails not sent", "err", err)
			}
			cancel()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}(s.stop, s.done)
}

// Close stops the worker and waits for the batch in progress.
func (s *Service) Close() {
	s.worker.Lock()
	defer s.worker.Unlock()
	if s.stop == nil {
		return
	}
	close(s.stop)
	<-s.done
	s.stop, s.done = nil, nil
}

// SendDue sends every mail due now: one per immediate notification, one
// digest per person and frequency. A notification already read on the
// site by the time its mail is due is not mailed. It returns how many
// mails left.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	sent := 0
	for {
		now := s.now().UTC()
		ids, err := s.store.claim(ctx, now, now.Add(claimFor), claimBatch)
		if err != nil || len(ids) == 0 {
			return sent, err
		}
		mails, err := s.store.mails(ctx, ids)
		if err != nil {
			return sent, err
		}
		for _, group := range groupMails(mails) {
			if s.sendGroup(ctx, group, now) {
				sent++
			}
		}
		if len(ids) < claimBatch {
			return sent, nil
		}
	}
}

// groupMails gathers the mails due per person and frequency. Immediate
// mails due together are those held by quiet hours: a parent finds one
// mail listing the evening's notifications at 07:00, not ten.
func groupMails(mails []outMail) [][]outMail {
	var out [][]outMail
	index := map[string]int{}
	for _, m := range mails {
		k := strconv.FormatInt(m.UserID, 10) + "/" + string(m.Frequency)
		if i, ok := index[k]; ok {
			out[i] = append(out[i], m)
			continue
		}
		index[k] = len(out)
		out = append(out, []outMail{m})
	}
	return out
}

// sendGroup mails one group and records the outcome; it reports whether a
// mail left.
func (s *Service) sendGroup(ctx context.Context, group []outMail, now time.Time) bool {
	var ids, unreadIDs []int64
	var unread []outMail
	for _, m := range group {
		ids = append(ids, m.ID)
		if m.Item.ReadAt == nil {
			unread = append(unread, m)
			unreadIDs = append(unreadIDs, m.ID)
		}
	}
	first := group[0]
	record := func(list []int64, why string) {
		if err := s.store.done(ctx, list, now, why); err != nil {
			s.log.Error("outbox not updated", "err", err)
		}
	}
	switch {
	case len(unread) == 0:
		record(ids, "already read")
		return false
	case first.Disabled || first.Email == "":
		record(ids, "no address")
		return false
	}
	if len(unread) < len(group) {
		record(diff(ids, unreadIDs), "already read")
	}
	subject, body := s.compose(unread)
	msg := s.message(first.Email, subject, body, now)
	err := s.deliver(ctx, first.Email, msg)
	switch {
	case err == nil:
		record(unreadIDs, "")
		return true
	case errors.Is(err, errMailDisabled):
		record(unreadIDs, err.Error())
		return false
	case first.Attempts+1 >= maxAttempts:
		s.log.Warn("notification mail dropped after retries", "user", first.UserID, "err", err)
		record(unreadIDs, err.Error())
		return false
	}
	s.log.Warn("notification mail not delivered, will retry", "user", first.UserID, "err", err)
	// A retry never lands in quiet hours either.
	retryAt := s.quiet.Due(Immediate, now.Add(time.Duration(first.Attempts+1)*10*time.Minute), true)
	if err := s.store.retry(ctx, unreadIDs, retryAt, err.Error()); err != nil {
		s.log.Error("outbox not updated", "err", err)
	}
	return false
}

func diff(all, minus []int64) []int64 {
	keep := map[int64]bool{}
	for _, id := range minus {
		keep[id] = true
	}
	var out []int64
	for _, id := range all {
		if !keep[id] {
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) absolute(link string) string {
	if strings.HasPrefix(link, "/") {
		return s.opts.BaseURL + link
	}
	return link
}

// compose writes the subject and text of an immediate mail or a digest.
func (s *Service) compose(items []outMail) (string, string) {
	var b strings.Builder
	b.WriteString("Bonjour,\n\n")
	var subject string
	if items[0].Frequency == Immediate && len(items) == 1 {
		it := items[0].Item
		subject = it.Title
		b.WriteString(it.Title + "\n")
		if it.Body != "" {
			b.WriteString("\n" + it.Body + "\n")
		}
		if it.Link != "" {
			b.WriteString("\n" + s.absolute(it.Link) + "\n")
		}
	} else {
		switch items[0].Frequency {
		case Immediate:
			subject = fmt.Sprintf("%d nouvelles notifications", len(items))
		case Weekly:
			subject = fmt.Sprintf("Résumé de la semaine : %d notification", len(items))
		default:
			subject = fmt.Sprintf("Résumé de la journée : %d notification", len(items))
		}
		if len(items) > 1 && items[0].Frequency != Immediate {
			subject += "s"
		}
		b.WriteString("Voici ce qui vous attend sur Socle :\n")
		loc := s.quiet.Location
		for _, m := range items {
			it := m.Item
			fmt.Fprintf(&b, "\n- %s — %s\n", it.CreatedAt.In(loc).Format("02/01 15:04"), it.Title)
			if it.Body != "" {
				line, _, _ := strings.Cut(it.Body, "\n")
				b.WriteString("  " + clip(line, 200) + "\n")
			}
			if it.Link != "" {
				b.WriteString("  " + s.absolute(it.Link) + "\n")
			}
		}
	}
	fmt.Fprintf(&b, "\n--\nToutes vos notifications : %s/notifications\nChoisir quand recevoir ces courriels : %s/notifications/preferences\n",
		s.opts.BaseURL, s.opts.BaseURL)
	return subject, b.String()
}

func (s *Service) fromAddress() string {
	if a, err := mail.ParseAddress(s.opts.Mail.From); err == nil {
		return a.Address
	}
	return "notifications@localhost"
}

// message writes a plain-text UTF-8 message with CRLF line ends, as the
// helpdesk does.
func (s *Service) message(to, subject, body string, now time.Time) []byte {
	var b bytes.Buffer
	from := s.opts.Mail.From
	if from == "" {
		from = s.fromAddress()
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "localhost"
	if _, d, ok := strings.Cut(s.fromAddress(), "@"); ok && d != "" {
		domain = d
	}
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<notify."+hex.EncodeToString(id)+"@"+domain+">")
	// Automatic mail (RFC 3834): responders do not answer it.
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

// deliver hands the message to the configured SMTP server.
func (s *Service) deliver(ctx context.Context, to string, msg []byte) error {
	return smtpmail.Send(ctx, s.opts.Mail, s.fromAddress(), to, msg, 30*time.Second)
}
