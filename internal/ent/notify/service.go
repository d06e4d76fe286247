package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service holds the rules of notifications. A timeline is its owner's
// only: every read and change is scoped to the caller, and another
// person's notification answers 404 like one that does not exist.
type Service struct {
	db    *db.DB
	store *store
	log   *slog.Logger
	opts  Options
	quiet QuietHours
	now   func() time.Time

	mu    sync.RWMutex
	types map[string]Type
	order []string

	worker sync.Mutex
	stop   chan struct{}
	done   chan struct{}
}

// NewService builds the service; types are declared afterwards, at wiring.
func NewService(d *db.DB, opts Options, log *slog.Logger) *Service {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 30 * time.Second
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	return &Service{db: d, store: &store{db: d}, log: log, opts: opts, quiet: opts.Quiet.orDefault(),
		now: time.Now, types: map[string]Type{}}
}

// Declare makes a notification type known, with the frequency people get
// until they choose. It is called while wiring the application; declaring
// a key again replaces its label and default. A type without a key or with
// an unknown frequency is a wiring mistake and panics at start-up.
func (s *Service) Declare(t Type) {
	if t.Key == "" || !t.Default.Valid() {
		panic(fmt.Sprintf("notify: invalid type declaration %q (default %q)", t.Key, t.Default))
	}
	if t.Label == "" {
		t.Label = t.Key
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.types[t.Key]; !ok {
		s.order = append(s.order, t.Key)
	}
	s.types[t.Key] = t
}

// Types lists the declared types in declaration order.
func (s *Service) Types() []Type {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Type, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.types[k])
	}
	return out
}

func (s *Service) typeOf(key string) (Type, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.types[key]
	return t, ok
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Notify adds n to the timeline of each person and queues their e-mail
// as their preference for the type says. Callers are domains, after the
// change they report is committed; the people are whoever the domain
// decided should know (its own permission rules apply there).
func (s *Service) Notify(ctx context.Context, userIDs []int64, n Notification) error {
	t, ok := s.typeOf(n.Type)
	if !ok {
		return fmt.Errorf("notify: undeclared notification type %q", n.Type)
	}
	n.Title = clip(n.Title, 200)
	n.Body = clip(n.Body, 4000)
	n.Link = strings.TrimSpace(n.Link)
	if n.Title == "" {
		return fmt.Errorf("notify: notification of type %q without a title", n.Type)
	}
	if n.Link != "" && !strings.HasPrefix(n.Link, "/") && !strings.HasPrefix(n.Link, "https://") && !strings.HasPrefix(n.Link, "http://") {
		return fmt.Errorf("notify: link %q is neither a path nor an http(s) URL", n.Link)
	}
	ids := make([]int64, 0, len(userIDs))
	for _, id := range userIDs {
		if id > 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now := s.now().UTC()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		freq, quiet, err := s.store.choices(ctx, tx, ids, t.Key)
		if err != nil {
			return err
		}
		for _, uid := range ids {
			nid, err := s.store.insert(ctx, tx, uid, n, now)
			if err != nil {
				return err
			}
			f, chosen := freq[uid]
			if !chosen || !f.Valid() {
				f = t.Default
			}
			if f == Never {
				continue
			}
			q, set := quiet[uid]
			if !set {
				q = true
			}
			if err := s.store.enqueue(ctx, tx, uid, nid, f, s.quiet.Due(f, now, q)); err != nil {
				return err
			}
		}
		return nil
	})
}

func requireUser(p *auth.Principal) error {
	if p.IsAnonymous() {
		return problem.Unauthenticated()
	}
	return nil
}

// ParseCursor reads a page cursor; it is the id of the last item of the
// previous page, opaque to clients.
func ParseCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n <= 0 {
		return 0, problem.Invalid("invalid_parameter", "Paramètre cursor invalide : reprenez la valeur next_cursor d'une page.").
			Field("cursor", "Curseur invalide.")
	}
	return n, nil
}

// Timeline returns a page of the caller's own timeline, newest first.
func (s *Service) Timeline(ctx context.Context, p *auth.Principal, cursor string, limit int) (Page, error) {
	if err := requireUser(p); err != nil {
		return Page{}, err
	}
	before, err := ParseCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	// One row more than asked says whether an older page exists.
	items, err := s.store.page(ctx, p.User.ID, before, limit+1)
	if err != nil {
		return Page{}, err
	}
	pg := Page{Items: items}
	if len(items) > limit {
		pg.Items = items[:limit]
		pg.NextCursor = strconv.FormatInt(pg.Items[limit-1].ID, 10)
	}
	if pg.Unread, err = s.store.unread(ctx, p.User.ID); err != nil {
		return Page{}, err
	}
	return pg, nil
}

// Unread counts the caller's unread notifications (the badge).
func (s *Service) Unread(ctx context.Context, p *auth.Principal) (int, error) {
	if p.IsAnonymous() {
		return 0, nil
	}
	return s.store.unread(ctx, p.User.ID)
}

// Item returns one notification of the caller's timeline.
func (s *Service) Item(ctx context.Context, p *auth.Principal, id int64) (Item, error) {
	if err := requireUser(p); err != nil {
		return Item{}, err
	}
	it, err := s.store.item(ctx, p.User.ID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, problem.NotFound("Notification")
	}
	if err != nil {
		return Item{}, fmt.Errorf("read notification: %w", err)
	}
	return it, nil
}

// MarkRead marks one of the caller's notifications read and returns it.
func (s *Service) MarkRead(ctx context.Context, p *auth.Principal, id int64) (Item, error) {
	if err := requireUser(p); err != nil {
		return Item{}, err
	}
	ok, err := s.store.markRead(ctx, p.User.ID, id, s.now().UTC())
	if err != nil {
		return Item{}, err
	}
	if !ok {
		return Item{}, problem.NotFound("Notification")
	}
	return s.Item(ctx, p, id)
}

// MarkAllRead marks the caller's whole timeline read; it returns how many
// notifications were unread.
func (s *Service) MarkAllRead(ctx context.Context, p *auth.Principal) (int64, error) {
	if err := requireUser(p); err != nil {
		return 0, err
	}
	return s.store.markAllRead(ctx, p.User.ID, s.now().UTC())
}

// Preferences returns the caller's e-mail choices for every declared type.
func (s *Service) Preferences(ctx context.Context, p *auth.Principal) (Preferences, error) {
	if err := requireUser(p); err != nil {
		return Preferences{}, err
	}
	chosen, quiet, err := s.store.preferences(ctx, p.User.ID)
	if err != nil {
		return Preferences{}, err
	}
	out := Preferences{QuietHours: quiet, Types: []Preference{}}
	for _, t := range s.Types() {
		f, ok := chosen[t.Key]
		if !ok || !f.Valid() {
			f = t.Default
		}
		out.Types = append(out.Types, Preference{Type: t.Key, Label: t.Label, Frequency: f, Default: t.Default})
	}
	return out, nil
}

// SetPreferences changes the caller's choices; an unknown type or
// frequency is refused as a whole.
func (s *Service) SetPreferences(ctx context.Context, p *auth.Principal, in PreferencesInput) (Preferences, error) {
	if err := requireUser(p); err != nil {
		return Preferences{}, err
	}
	keys := make([]string, 0, len(in.Types))
	for k, f := range in.Types {
		if _, ok := s.typeOf(k); !ok {
			return Preferences{}, problem.Invalid("unknown_notification_type", "Type de notification inconnu : "+k+".").Field("types", "Type inconnu.")
		}
		if !f.Valid() {
			return Preferences{}, problem.Invalid("invalid_frequency", "Fréquence inconnue : "+string(f)+
				" (immediate, daily, weekly ou never).").Field("types", "Fréquence inconnue.")
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, k := range keys {
			if err := s.store.setFrequency(ctx, tx, p.User.ID, k, in.Types[k]); err != nil {
				return err
			}
		}
		if in.QuietHours != nil {
			return s.store.setQuiet(ctx, tx, p.User.ID, *in.QuietHours)
		}
		return nil
	})
	if err != nil {
		return Preferences{}, err
	}
	return s.Preferences(ctx, p)
}
