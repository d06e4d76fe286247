package helpdesk

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// flakyServer is a real SMTP server on loopback that refuses the first
// `refuse` messages with a temporary error (451), then accepts.
type flakyServer struct {
	mu     sync.Mutex
	refuse int
	got    []captured
	port   int
}

type flakySession struct {
	srv  *flakyServer
	from string
	to   []string
}

func (s *flakySession) Reset()                                      { s.from, s.to = "", nil }
func (s *flakySession) Logout() error                               { return nil }
func (s *flakySession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *flakySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *flakySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.refuse > 0 {
		s.srv.refuse--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Réessayez plus tard"}
	}
	s.srv.got = append(s.srv.got, captured{From: s.from, To: s.to, Data: b})
	return nil
}

func startFlaky(t *testing.T, refuse int) *flakyServer {
	t.Helper()
	fs := &flakyServer{refuse: refuse}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &flakySession{srv: fs}, nil }))
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return fs
}

func (fs *flakyServer) messages() []captured {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]captured(nil), fs.got...)
}

// process is one "socle serve" process on the fixture's database, sending
// through the given server.
func (f *fixture) process(port, maxAttempts int) *Service {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := NewService(f.db, f.auth, f.levels, Options{FilesRoot: f.t.TempDir(), BaseURL: "https://socle.test",
		Mail:          MailConfig{Host: "127.0.0.1", Port: port, From: "Assistance Socle <assistance@socle.test>"},
		OutboxBackoff: time.Minute, OutboxMaxAttempts: maxAttempts}, log)
	s.now = f.clock.now
	return s
}

// TestOutboxRetriesUntilDelivered: the server refuses the notification of
// a new ticket, the change is committed anyway with its message queued,
// the retry waits for the backoff, a restarted process delivers it, and
// the requester receives it exactly once.
func TestOutboxRetriesUntilDelivered(t *testing.T) {
	f := newFixture(t)
	flaky := startFlaky(t, 1)
	svc := f.process(flaky.port, 10)
	tk, err := svc.Create(f.ctx, f.principal(f.teacher), NewTicket{UAI: f.uaiA, Kind: KindIncident, Title: "Imprimante muette", Urgency: 3, Impact: 3})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if n := len(flaky.messages()); n != 0 {
		t.Fatalf("%d messages accepted by a server refusing the first", n)
	}
	admin := f.principal(f.admin)
	msgs, total, err := svc.Outbox(f.ctx, admin, true, 50, 0)
	if err != nil || total != 1 || len(msgs) != 1 {
		t.Fatalf("failed messages: %d %+v %v", total, msgs, err)
	}
	m := msgs[0]
	if m.Reference != tk.Reference || m.Recipient != f.teacher.email || m.Attempts != 1 || !strings.Contains(m.LastError, "451") ||
		!m.SentAt.IsZero() || m.State() != "Nouvel essai prévu" {
		t.Fatalf("after the refusal: %+v", m)
	}
	if want := f.clock.now().Add(time.Minute).UTC(); !m.NextAttemptAt.Equal(want) {
		t.Fatalf("next attempt %v, want %v (backoff of one minute)", m.NextAttemptAt, want)
	}
	// Before the backoff: nothing is due.
	if n, err := svc.DeliverOutbox(f.ctx); err != nil || n != 0 {
		t.Fatalf("pass before the backoff: %d, %v", n, err)
	}
	// The process stops; another starts after the backoff and delivers.
	f.clock.set(f.clock.now().Add(61 * time.Second))
	restarted := f.process(flaky.port, 10)
	if n, err := restarted.DeliverOutbox(f.ctx); err != nil || n != 1 {
		t.Fatalf("pass after the backoff: %d, %v", n, err)
	}
	if n, err := restarted.DeliverOutbox(f.ctx); err != nil || n != 0 {
		t.Fatalf("second pass: %d, %v", n, err)
	}
	got := flaky.messages()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != f.teacher.email || !strings.Contains(string(got[0].Data), tk.Reference) {
		t.Fatalf("delivered: %d messages %+v", len(got), got)
	}
	msgs, _, err = svc.Outbox(f.ctx, admin, false, 50, 0)
	if err != nil || len(msgs) != 1 || msgs[0].Attempts != 2 || msgs[0].SentAt.IsZero() || msgs[0].LastError != "" || msgs[0].State() != "Envoyé" {
		t.Fatalf("after delivery: %+v %v", msgs, err)
	}
	if _, _, err := svc.Outbox(f.ctx, f.principal(f.tech), false, 50, 0); !isNotFound(err) {
		t.Fatalf("technician reading the outbox: %v, want not found", err)
	}
}

// TestOutboxGivesUpAndSharesWork: a message refused at every attempt is
// given up after the maximum and shown as such; messages due at once are
// shared by two processes delivering concurrently (FOR UPDATE SKIP LOCKED
// on PostgreSQL, the single writer on SQLite), each delivered once.
func TestOutboxGivesUpAndSharesWork(t *testing.T) {
	f := newFixture(t)
	flaky := startFlaky(t, 2)
	svc := f.process(flaky.port, 2)
	teacher := f.principal(f.teacher)
	if _, err := svc.Create(f.ctx, teacher, NewTicket{UAI: f.uaiA, Kind: KindIncident, Title: "Premier", Urgency: 3, Impact: 3}); err != nil {
		t.Fatal(err)
	}
	f.clock.set(f.clock.now().Add(2 * time.Minute))
	if n, err := svc.DeliverOutbox(f.ctx); err != nil || n != 0 {
		t.Fatalf("second attempt: %d, %v", n, err)
	}
	msgs, _, err := svc.Outbox(f.ctx, f.principal(f.admin), true, 50, 0)
	if err != nil || len(msgs) != 1 || msgs[0].FailedAt.IsZero() || msgs[0].Attempts != 2 || msgs[0].State() != "Abandonné" {
		t.Fatalf("given up: %+v %v", msgs, err)
	}
	f.clock.set(f.clock.now().Add(24 * time.Hour))
	if n, _ := svc.DeliverOutbox(f.ctx); n != 0 || len(flaky.messages()) != 0 {
		t.Fatalf("a message given up was sent again")
	}

	// Twelve notifications queued while the server was away (no
	// immediate delivery: the processes' server refuses everything).
	down := startFlaky(t, 1000)
	away := f.process(down.port, 10)
	for i := range 12 {
		if _, err := away.Create(f.ctx, teacher, NewTicket{UAI: f.uaiA, Kind: KindIncident, Title: "Lot " + string(rune('A'+i)), Urgency: 3, Impact: 3}); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.set(f.clock.now().Add(time.Hour))
	a, b := f.process(flaky.port, 10), f.process(flaky.port, 10)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, p := range []*Service{a, b} {
		wg.Go(func() {
			for {
				n, err := p.DeliverOutbox(f.ctx)
				if err != nil {
					t.Errorf("process %d: %v", i, err)
					return
				}
				if n == 0 {
					return
				}
				counts[i] += n
			}
		})
	}
	wg.Wait()
	got := flaky.messages()
	seen := map[string]bool{}
	for _, m := range got {
		subject := string(m.Data)
		if seen[subject] {
			t.Fatalf("a message was delivered twice")
		}
		seen[subject] = true
	}
	if len(got) != 12 || counts[0]+counts[1] != 12 {
		t.Fatalf("delivered %d messages (%v), want 12", len(got), counts)
	}
	var left int
	if err := f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d messages still waiting (%v)", left, err)
	}
}
