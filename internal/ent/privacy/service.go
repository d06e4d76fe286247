package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service holds the rules of data protection. A person's data (export,
// access log, deletion) is reachable by the person, their legal guardians
// and the administrators holding people.manage on one of their
// establishments; for anyone else the person does not exist (404).
type Service struct {
	db    *db.DB
	store *store
	log   *slog.Logger
	opts  Options
	now   func() time.Time

	mu           sync.RWMutex
	contributors []Contributor

	worker sync.Mutex
	stop   chan struct{}
	done   chan struct{}
}

// NewService builds the service. Its own data (the access log) is the
// first contributor; the application registers the others at wiring.
func NewService(d *db.DB, opts Options, log *slog.Logger) *Service {
	if opts.GracePeriod <= 0 {
		opts.GracePeriod = 30 * 24 * time.Hour
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Hour
	}
	s := &Service{db: d, store: &store{db: d}, log: log, opts: opts, now: time.Now}
	s.contributors = []Contributor{accessLogContributor{s}}
	return s
}

// Register adds a contributor. Erasure runs in registration order, except
// the account (AccountContributor), always erased last so that the other
// domains can still read it while they erase.
func (s *Service) Register(c Contributor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contributors = append(s.contributors, c)
}

// ordered returns the contributors, the account last (erasure order);
// reversed, the account comes first (the export's reading order).
func (s *Service) ordered() []Contributor {
	s.mu.RLock()
	out := slices.Clone(s.contributors)
	s.mu.RUnlock()
	slices.SortStableFunc(out, func(a, b Contributor) int {
		_, la := a.(*AccountContributor)
		_, lb := b.(*AccountContributor)
		switch {
		case la && !lb:
			return 1
		case lb && !la:
			return -1
		}
		return 0
	})
	return out
}

// GracePeriod is how long a deletion waits.
func (s *Service) GracePeriod() time.Duration { return s.opts.GracePeriod }

// relation says how the caller stands to the person.
type relation int

const (
	relNone relation = iota
	relSelf
	relGuardian
	relAdmin
)

// relate finds how p may act for subjectID; relNone and a 404 when not at
// all (or when the person does not exist).
func (s *Service) relate(ctx context.Context, p *auth.Principal, subjectID int64) (relation, error) {
	if p.IsAnonymous() {
		return relNone, problem.Unauthenticated()
	}
	notFound := problem.NotFound("Personne")
	if subjectID <= 0 {
		return relNone, notFound
	}
	if _, err := s.store.person(ctx, subjectID); isNoRows(err) {
		return relNone, notFound
	} else if err != nil {
		return relNone, fmt.Errorf("read person: %w", err)
	}
	if p.User.ID == subjectID {
		return relSelf, nil
	}
	if s.opts.Guardians != nil {
		ok, err := s.opts.Guardians.IsGuardian(ctx, p.User.ID, subjectID)
		if err != nil {
			return relNone, fmt.Errorf("check guardian: %w", err)
		}
		if ok {
			return relGuardian, nil
		}
	}
	if p.Global(auth.PermPeopleManage) {
		return relAdmin, nil
	}
	var named, recursive []int64
	for _, g := range p.Grants {
		if g.OrgID == 0 || !g.Role.Allows(auth.PermPeopleManage) {
			continue
		}
		named = append(named, g.OrgID)
		if g.Recursive {
			recursive = append(recursive, g.OrgID)
		}
	}
	if len(named) == 0 {
		return relNone, notFound
	}
	orgs, err := s.store.roleOrgs(ctx, subjectID)
	if err != nil {
		return relNone, err
	}
	if s.opts.Establishments != nil {
		more, err := s.opts.Establishments.EstablishmentsOf(ctx, subjectID)
		if err != nil {
			return relNone, fmt.Errorf("read establishments: %w", err)
		}
		orgs = append(orgs, more...)
	}
	for _, o := range orgs {
		if slices.Contains(named, o) {
			return relAdmin, nil
		}
	}
	if ok, err := s.store.underAny(ctx, recursive, orgs); err != nil || ok {
		return relAdmin, err
	}
	return relNone, notFound
}

// logThirdParty records that someone other than the person read their
// data; a failure to record is logged, never blocks the person's rights.
func (s *Service) logThirdParty(ctx context.Context, p *auth.Principal, subjectID int64, rel relation, what string) {
	if rel == relSelf {
		return
	}
	if err := s.RecordAccess(ctx, p.User.ID, subjectID, what); err != nil {
		s.log.Error("access not recorded", "err", err)
	}
}

// RecordAccess logs that readerID read subjectID's data (what: a short
// French phrase, "fiche élève", "export des données"). A person reading
// their own data is not logged.
func (s *Service) RecordAccess(ctx context.Context, readerID, subjectID int64, what string) error {
	if readerID == subjectID || subjectID <= 0 {
		return nil
	}
	what = strings.TrimSpace(what)
	if what == "" {
		what = "consultation"
	}
	if r := []rune(what); len(r) > 200 {
		what = string(r[:200])
	}
	return s.store.recordAccess(ctx, readerID, subjectID, what, s.now().UTC())
}

// AccessLog returns who read the person's data, newest first.
func (s *Service) AccessLog(ctx context.Context, p *auth.Principal, subjectID int64, cursor string, limit int) (AccessPage, error) {
	rel, err := s.relate(ctx, p, subjectID)
	if err != nil {
		return AccessPage{}, err
	}
	var before int64
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			return AccessPage{}, problem.Invalid("invalid_parameter", "Paramètre cursor invalide : reprenez la valeur next_cursor d'une page.").
				Field("cursor", "Curseur invalide.")
		}
		before = n
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	items, err := s.store.accessLog(ctx, subjectID, before, limit+1)
	if err != nil {
		return AccessPage{}, err
	}
	pg := AccessPage{Items: items}
	if len(items) > limit {
		pg.Items = items[:limit]
		pg.NextCursor = strconv.FormatInt(pg.Items[limit-1].ID, 10)
	}
	// Logged after reading, so the reader does not see their own read.
	s.logThirdParty(ctx, p, subjectID, rel, "journal des accès")
	return pg, nil
}

// Subject is the person whose data a page shows.
type Subject struct {
	ID          int64
	DisplayName string
	Self        bool
}

// Subject returns the person if the caller may act for them.
func (s *Service) Subject(ctx context.Context, p *auth.Principal, subjectID int64) (Subject, error) {
	rel, err := s.relate(ctx, p, subjectID)
	if err != nil {
		return Subject{}, err
	}
	who, err := s.store.person(ctx, subjectID)
	if err != nil {
		return Subject{}, fmt.Errorf("read person: %w", err)
	}
	return Subject{ID: who.ID, DisplayName: who.DisplayName, Self: rel == relSelf}, nil
}

// Pseudonymizer turns user ids into stable pseudonyms for statistics.
type Pseudonymizer struct{ key []byte }

// Pseudonym is a keyed HMAC of the user id: the same person always gets
// the same pseudonym, nobody without the database's secret can link it
// back, and it never carries a name.
func (p *Pseudonymizer) Pseudonym(userID int64) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(strconv.FormatInt(userID, 10)))
	return "p-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:10]))
}

// Pseudonymizer loads the secret (creating it on first use).
func (s *Service) Pseudonymizer(ctx context.Context) (*Pseudonymizer, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	v, err := s.store.secret(ctx, "pseudonym-key", hex.EncodeToString(fresh), s.now().UTC())
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, errors.New("pseudonym key in the database is malformed")
	}
	return &Pseudonymizer{key: key}, nil
}

// Deletion returns the person's latest deletion request, nil when none.
func (s *Service) Deletion(ctx context.Context, p *auth.Principal, subjectID int64) (*Deletion, error) {
	if _, err := s.relate(ctx, p, subjectID); err != nil {
		return nil, err
	}
	d, err := s.store.lastDeletion(ctx, subjectID)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read deletion: %w", err)
	}
	return &d, nil
}

// RequestDeletion schedules the erasure of the person's data after the
// grace period; it can be cancelled until then.
func (s *Service) RequestDeletion(ctx context.Context, p *auth.Principal, subjectID int64) (Deletion, error) {
	rel, err := s.relate(ctx, p, subjectID)
	if err != nil {
		return Deletion{}, err
	}
	now := s.now().UTC()
	if _, err := s.store.scheduleDeletion(ctx, subjectID, p.User.ID, now, now.Add(s.opts.GracePeriod)); err != nil {
		if db.IsUniqueViolation(err) {
			return Deletion{}, problem.Conflict("deletion_scheduled", "Une suppression est déjà programmée pour cette personne.")
		}
		return Deletion{}, fmt.Errorf("schedule deletion: %w", err)
	}
	s.logThirdParty(ctx, p, subjectID, rel, "demande de suppression des données")
	d, err := s.store.lastDeletion(ctx, subjectID)
	if err != nil {
		return Deletion{}, fmt.Errorf("read deletion: %w", err)
	}
	s.log.Info("deletion scheduled", "deletion", d.ID, "due", d.DueAt)
	return d, nil
}

// CancelDeletion cancels a scheduled deletion.
func (s *Service) CancelDeletion(ctx context.Context, p *auth.Principal, subjectID int64) (Deletion, error) {
	if _, err := s.relate(ctx, p, subjectID); err != nil {
		return Deletion{}, err
	}
	d, err := s.store.lastDeletion(ctx, subjectID)
	if err != nil && !isNoRows(err) {
		return Deletion{}, fmt.Errorf("read deletion: %w", err)
	}
	noneErr := problem.Conflict("no_deletion_scheduled", "Aucune suppression programmée à annuler pour cette personne.")
	if isNoRows(err) || d.Status != StatusScheduled {
		return Deletion{}, noneErr
	}
	ok, err := s.store.setStatus(ctx, d.ID, StatusScheduled, StatusCancelled, p.User.ID, s.now().UTC())
	if err != nil {
		return Deletion{}, err
	}
	if !ok {
		return Deletion{}, noneErr
	}
	s.log.Info("deletion cancelled", "deletion", d.ID)
	return s.store.lastDeletion(ctx, subjectID)
}

// ProcessDue runs the deletions whose grace period is over; it returns how
// many it completed. A deletion another process took, or one cancelled at
// the last moment, is skipped.
func (s *Service) ProcessDue(ctx context.Context) (int, error) {
	due, err := s.store.due(ctx, s.now().UTC())
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range due {
		ok, err := s.store.setStatus(ctx, d.ID, StatusScheduled, StatusRunning, 0, s.now().UTC())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		path, err := s.deletePerson(ctx, d.UserID)
		if err != nil {
			// Back to scheduled: the next run tries again, and the
			// person can still cancel meanwhile.
			if _, err2 := s.store.setStatus(ctx, d.ID, StatusRunning, StatusScheduled, 0, s.now().UTC()); err2 != nil {
				errs = append(errs, err2)
			}
			errs = append(errs, fmt.Errorf("deletion %d: %w", d.ID, err))
			continue
		}
		if err := s.store.setArchive(ctx, d.ID, path); err != nil {
			errs = append(errs, err)
		}
		if _, err := s.store.setStatus(ctx, d.ID, StatusRunning, StatusDone, 0, s.now().UTC()); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// DeletePerson exports the person's data to an archive kept in the data
// directory, then erases it through every contributor. It is what the
// people domain calls for people gone from the feed past their grace
// period, and what a due deletion request runs.
func (s *Service) DeletePerson(ctx context.Context, userID int64) error {
	path, err := s.deletePerson(ctx, userID)
	if err != nil {
		return err
	}
	// A request still waiting for the same person is fulfilled now.
	return s.store.fulfil(ctx, userID, path, s.now().UTC())
}

func (s *Service) deletePerson(ctx context.Context, userID int64) (string, error) {
	path, err := s.archive(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("archive before deletion: %w", err)
	}
	for _, c := range s.ordered() {
		if err := c.ErasePerson(ctx, userID); err != nil {
			return path, fmt.Errorf("erase %s: %w", c.Name(), err)
		}
	}
	s.log.Info("person's data erased", "archive", path)
	return path, nil
}

// Start runs due deletions periodically until Close.
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
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			if _, err := s.ProcessDue(ctx); err != nil {
				s.log.Error("due deletions failed", "err", err)
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

// Close stops the worker and waits for the run in progress.
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
