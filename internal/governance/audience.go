package governance

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/web"
)

// Hit is one page view of the ENT, before pseudonymization.
type Hit struct {
	Service string
	Profile string
	UAI     string
	UserID  int64
	At      time.Time
}

// Recorder measures the audience of the ENT in the spirit of the national
// ENT audience measure: per service, profile, establishment and day. No
// name and no stable identifier is stored: the visitor is a keyed hash
// whose key is drawn each day and deleted, with the day's rows, when the
// day is rolled up into counts; only the counts remain.
type Recorder struct {
	svc *Service
	// Services maps a path to the service it belongs to ("" is not
	// measured); DefaultServiceOf when nil.
	Services func(path string) string

	mu  sync.Mutex
	day string
	key []byte
	// pending counts the hits not yet written, by row: a page view costs
	// no database write, Flush writes them together (every few seconds
	// once started, and on Close). uais caches, for the day, the
	// establishment of each person seen.
	pending map[audienceRow]int
	uais    map[int64]string
	stop    chan struct{}
	done    chan struct{}
}

// audienceRow is one row of gov_audience_today.
type audienceRow struct{ day, service, profile, uai, visitor string }

// flushEvery is how often a started recorder writes its counts.
const flushEvery = 5 * time.Second

// Recorder returns the audience recorder.
func (s *Service) Recorder() *Recorder {
	return &Recorder{svc: s, pending: map[audienceRow]int{}, uais: map[int64]string{}}
}

// Start writes the counts in the background, every few seconds.
func (rc *Recorder) Start() {
	rc.stop, rc.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(rc.done)
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-rc.stop:
				return
			case <-t.C:
				if err := rc.Flush(context.Background()); err != nil {
					rc.svc.log.Warn("audience not written", "err", err)
				}
			}
		}
	}()
}

// Close stops the background writer and writes what is left.
func (rc *Recorder) Close() {
	if rc.stop != nil {
		close(rc.stop)
		<-rc.done
		rc.stop = nil
	}
	if err := rc.Flush(context.Background()); err != nil {
		rc.svc.log.Warn("audience not written", "err", err)
	}
}

// Flush writes the pending counts in one transaction. On failure they stay
// pending, for the next flush.
func (rc *Recorder) Flush(ctx context.Context) error {
	rc.mu.Lock()
	batch := rc.pending
	rc.pending = map[audienceRow]int{}
	rc.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := rc.svc.db.InTx(ctx, func(tx *db.Tx) error {
		for r, n := range batch {
			if _, err := tx.ExecContext(ctx, `INSERT INTO gov_audience_today (day, service, profile, uai, visitor, hits) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (day, service, profile, uai, visitor) DO UPDATE SET hits = gov_audience_today.hits + excluded.hits`,
				r.day, r.service, r.profile, r.uai, r.visitor, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		rc.mu.Lock()
		for r, n := range batch {
			rc.pending[r] += n
		}
		rc.mu.Unlock()
		return fmt.Errorf("record audience: %w", err)
	}
	return nil
}

// DefaultServiceOf names the ENT service of a page path; API calls,
// static files and technical endpoints are not audience.
func DefaultServiceOf(path string) string {
	switch {
	case path == "/":
		return "accueil"
	case strings.HasPrefix(path, "/api/"), strings.HasPrefix(path, "/static/"), path == "/healthz", path == "/readyz", path == "/metrics":
		return ""
	case strings.HasPrefix(path, "/tickets"):
		return "assistance"
	case strings.HasPrefix(path, "/documents"), strings.HasPrefix(path, "/espace"), strings.HasPrefix(path, "/dav/"):
		return "espace-documentaire"
	case strings.HasPrefix(path, "/collab"):
		return "productions-collaboratives"
	case strings.HasPrefix(path, "/catalogue"), strings.HasPrefix(path, "/conventions"):
		return "offre-de-services"
	case strings.HasPrefix(path, "/gouvernance"):
		return "gouvernance"
	case strings.HasPrefix(path, "/etablissements"), strings.HasPrefix(path, "/territoire"):
		return "territoire"
	}
	return ""
}

// Middleware records the page views of logged-in people. It must sit
// inside the session middleware (it reads the principal) and never fails a
// request: a measurement error is only logged.
func (rc *Recorder) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		// Only pages actually shown count: not errors, redirects or forms.
		if r.Method != http.MethodGet || (sw.status != 0 && sw.status != http.StatusOK) {
			return
		}
		p := web.PrincipalFrom(r.Context())
		if anonymous(p) {
			return
		}
		classify := rc.Services
		if classify == nil {
			classify = DefaultServiceOf
		}
		svc := classify(r.URL.Path)
		if svc == "" {
			return
		}
		if err := rc.RecordPrincipal(r.Context(), p, svc); err != nil {
			rc.svc.log.Warn("audience not recorded", "service", svc, "err", err)
		}
	})
}

// statusWriter remembers the status of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ProfileOf is the audience profile of a principal: the first of pupil,
// parent, teacher, head, staff it holds.
func ProfileOf(p *auth.Principal) string {
	switch {
	case p.HasRole(auth.RolePupil):
		return "eleve"
	case p.HasRole(auth.RoleParent):
		return "parent"
	case p.HasRole(auth.RoleTeacher):
		return "enseignant"
	case p.HasRole(auth.RoleEstablishmentHead):
		return "direction"
	}
	return "personnel"
}

// RecordPrincipal records a page view of a service by a logged-in person,
// counted at the establishment of their first grant on one.
func (rc *Recorder) RecordPrincipal(ctx context.Context, p *auth.Principal, service string) error {
	rc.mu.Lock()
	uai, known := rc.uais[p.User.ID]
	rc.mu.Unlock()
	if !known {
		var ids []any
		for _, g := range p.Grants {
			if g.OrgID != 0 {
				ids = append(ids, g.OrgID)
			}
		}
		if len(ids) > 0 {
			err := rc.svc.db.QueryRowContext(ctx, `SELECT uai FROM establishments WHERE org_id IN (`+db.Placeholders(len(ids))+`) ORDER BY uai LIMIT 1`, ids...).Scan(&uai)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("audience establishment: %w", err)
			}
		}
		rc.mu.Lock()
		rc.uais[p.User.ID] = uai
		rc.mu.Unlock()
	}
	return rc.Record(ctx, Hit{Service: service, Profile: ProfileOf(p), UAI: uai, UserID: p.User.ID, At: rc.svc.now()})
}

// Record counts a hit, in memory until the next Flush. The first hit of a
// new day rolls the past days up.
func (rc *Recorder) Record(ctx context.Context, h Hit) error {
	day := h.At.In(web.Paris()).Format(time.DateOnly)
	key, rolled, err := rc.dayKey(ctx, day)
	if err != nil {
		return err
	}
	if rolled {
		// The days before are complete: written, then rolled up.
		if err := rc.Flush(ctx); err != nil {
			return err
		}
		if err := rc.svc.RollupAudience(ctx, day); err != nil {
			return err
		}
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprint(mac, h.UserID)
	visitor := hex.EncodeToString(mac.Sum(nil)[:12])
	rc.mu.Lock()
	rc.pending[audienceRow{day, h.Service, h.Profile, h.UAI, visitor}]++
	rc.mu.Unlock()
	return nil
}

// dayKey returns the day's secret, shared by every process through the
// database and drawn by the first one; rolled is true the first time this
// recorder sees the day.
func (rc *Recorder) dayKey(ctx context.Context, day string) ([]byte, bool, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.day == day {
		return rc.key, false, nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if _, err := rc.svc.db.ExecContext(ctx, `INSERT INTO gov_audience_keys (day, secret) VALUES (?, ?) ON CONFLICT (day) DO NOTHING`,
		day, hex.EncodeToString(b)); err != nil {
		return nil, false, fmt.Errorf("audience key: %w", err)
	}
	var secret string
	if err := rc.svc.db.QueryRowContext(ctx, `SELECT secret FROM gov_audience_keys WHERE day = ?`, day).Scan(&secret); err != nil {
		return nil, false, fmt.Errorf("audience key: %w", err)
	}
	key, err := hex.DecodeString(secret)
	if err != nil {
		return nil, false, fmt.Errorf("audience key: %w", err)
	}
	rc.day, rc.key = day, key
	rc.uais = map[int64]string{}
	return key, true, nil
}

// RollupAudience turns the pseudonymous rows of the days before today
// (YYYY-MM-DD) into counts and deletes those rows and the days' keys.
func (s *Service) RollupAudience(ctx context.Context, today string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO gov_audience_daily (day, service, profile, uai, visits, visitors)
			SELECT day, service, profile, uai, SUM(hits), COUNT(*) FROM gov_audience_today WHERE day < ?
			GROUP BY day, service, profile, uai
			ON CONFLICT (day, service, profile, uai) DO UPDATE SET visits = gov_audience_daily.visits + excluded.visits,
				visitors = gov_audience_daily.visitors + excluded.visitors`, today)
		if err != nil {
			return fmt.Errorf("roll audience up: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM gov_audience_today WHERE day < ?`, today); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM gov_audience_keys WHERE day < ?`, today)
		return err
	})
}

// AddAudience adds counts directly (imports of a former ENT's figures, the
// demo, benchmarks).
func (s *Service) AddAudience(ctx context.Context, q db.Querier, day, service, profile, uai string, visits, visitors int) error {
	_, err := q.ExecContext(ctx, `INSERT INTO gov_audience_daily (day, service, profile, uai, visits, visitors) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (day, service, profile, uai) DO UPDATE SET visits = gov_audience_daily.visits + excluded.visits,
			visitors = gov_audience_daily.visitors + excluded.visitors`, day, service, profile, uai, visits, visitors)
	return err
}

// scopeUAIs is the condition selecting the establishments under an
// organization (itself included), on a column holding a UAI.
func scopeUAIs(col string, orgID int64) (string, []any) {
	return col + ` IN (SELECT e.uai FROM establishments e WHERE e.org_id = ? OR e.org_id IN (SELECT oc.descendant_id FROM org_closure oc WHERE oc.ancestor_id = ?))`,
		[]any{orgID, orgID}
}

// AudienceSources are governance's own computed sources: visits of the ENT
// and the share of establishments that used it over the period.
func (s *Service) AudienceSources() []SourceInfo {
	return []SourceInfo{
		{Key: "audience.visits", Label: "ENT : visites sur la période (mesure d'audience)", Unit: "visites", Source: SourceFunc(s.measureVisits)},
		{Key: "audience.active_establishments", Label: "ENT : part des établissements l'ayant utilisé sur la période", Unit: "%", Source: SourceFunc(s.measureActive)},
	}
}

func (s *Service) measureVisits(ctx context.Context, orgID int64, p Period) (Value, error) {
	cond, args := scopeUAIs("a.uai", orgID)
	var visits, days int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(a.visits), 0), COUNT(DISTINCT a.day) FROM gov_audience_daily a
		WHERE a.day >= ? AND a.day < ? AND `+cond, append([]any{p.From.Format(time.DateOnly), p.To.Format(time.DateOnly)}, args...)...).Scan(&visits, &days)
	if err != nil {
		return Value{}, fmt.Errorf("audience visits: %w", err)
	}
	if days == 0 {
		return NoData("Aucune mesure d'audience de l'ENT sur la période pour ce territoire."), nil
	}
	return Measured(float64(visits), fmt.Sprintf("%d visites sur %d jours mesurés", visits, days)), nil
}

func (s *Service) measureActive(ctx context.Context, orgID int64, p Period) (Value, error) {
	cond, args := scopeUAIs("e.uai", orgID)
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM establishments e WHERE `+cond, args...).Scan(&total); err != nil {
		return Value{}, fmt.Errorf("establishments in scope: %w", err)
	}
	if total == 0 {
		return NoData("Aucun établissement dans ce territoire."), nil
	}
	cond2, args2 := scopeUAIs("a.uai", orgID)
	var active, rows int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT a.uai), COUNT(*) FROM gov_audience_daily a WHERE a.day >= ? AND a.day < ? AND `+cond2,
		append([]any{p.From.Format(time.DateOnly), p.To.Format(time.DateOnly)}, args2...)...).Scan(&active, &rows)
	if err != nil {
		return Value{}, fmt.Errorf("active establishments: %w", err)
	}
	if rows == 0 {
		return NoData("Aucune mesure d'audience de l'ENT sur la période pour ce territoire."), nil
	}
	return Measured(100*float64(active)/float64(total), fmt.Sprintf("%d établissements sur %d", active, total)), nil
}

// openDataThreshold: a line counting fewer visitors is published as "<3"
// so that nobody is singled out in a small school.
const openDataThreshold = 3

// WriteOpenData writes the public CSV of the audience between two days
// (inclusive): per day, establishment, service and profile, visits and
// unique visitors, small counts masked. It needs no login: nothing in it
// names a person.
func (s *Service) WriteOpenData(ctx context.Context, w io.Writer, from, to time.Time) error {
	rows, err := s.db.QueryContext(ctx, `SELECT day, uai, service, profile, visits, visitors FROM gov_audience_daily
		WHERE day >= ? AND day <= ? ORDER BY day, uai, service, profile`, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return fmt.Errorf("open data: %w", err)
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write([]string{"jour", "uai", "service", "profil", "visites", "visiteurs_uniques"}); err != nil {
		return err
	}
	for rows.Next() {
		var day, uai, svc, prof string
		var visits, visitors int
		if err := rows.Scan(&day, &uai, &svc, &prof, &visits, &visitors); err != nil {
			return err
		}
		v, u := strconv.Itoa(visits), strconv.Itoa(visitors)
		if visitors < openDataThreshold {
			v, u = "<"+strconv.Itoa(openDataThreshold), "<"+strconv.Itoa(openDataThreshold)
		}
		if uai == "" {
			uai = "hors-etablissement"
		}
		if err := cw.Write([]string{day, uai, svc, prof, v, u}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
