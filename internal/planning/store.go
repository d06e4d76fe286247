package planning

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/db"
)

// Store is the plan's SQL, nothing else.
type Store struct {
	db *db.DB
}

func insertID(ctx context.Context, q db.Querier, query string, args ...any) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, query+` RETURNING id`, args...).Scan(&id)
	return id, err
}

// ---- targets ----

func (s *Store) Targets(ctx context.Context) ([]Target, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, description, status, created_at FROM plan_targets ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	defer rows.Close()
	out := []Target{}
	for rows.Next() {
		var t Target
		if err := rows.Scan(&t.ID, &t.Name, &t.Description, &t.Status, &t.CreatedAt); err != nil {
			return nil, err
		}
		t.Criteria = []Criterion{}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) Target(ctx context.Context, id int64) (Target, error) {
	var t Target
	err := s.db.QueryRowContext(ctx, `SELECT id, name, description, status, created_at FROM plan_targets WHERE id = ?`, id).
		Scan(&t.ID, &t.Name, &t.Description, &t.Status, &t.CreatedAt)
	if err != nil {
		return t, err
	}
	t.Criteria, err = s.Criteria(ctx, id)
	return t, err
}

func (s *Store) Criteria(ctx context.Context, targetID int64) ([]Criterion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, key, label, establishment_type, level, priority, metric, param, threshold, unit_price_cents, position
		FROM plan_criteria WHERE target_id = ? ORDER BY position, id`, targetID)
	if err != nil {
		return nil, fmt.Errorf("criteria: %w", err)
	}
	defer rows.Close()
	out := []Criterion{}
	for rows.Next() {
		var c Criterion
		if err := rows.Scan(&c.ID, &c.Key, &c.Label, &c.EstablishmentType, &c.Level, &c.Priority, &c.Metric, &c.Param, &c.Threshold, &c.UnitPriceCents, &c.Position); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) InsertTarget(ctx context.Context, q db.Querier, t Target, now time.Time) (int64, error) {
	return insertID(ctx, q, `INSERT INTO plan_targets (name, description, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		t.Name, t.Description, string(t.Status), now, now)
}

func (s *Store) InsertCriterion(ctx context.Context, q db.Querier, targetID int64, c Criterion) (int64, error) {
	return insertID(ctx, q, `INSERT INTO plan_criteria (target_id, key, label, establishment_type, level, priority, metric, param, threshold, unit_price_cents, position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, targetID, c.Key, c.Label, c.EstablishmentType, c.Level, c.Priority, string(c.Metric), c.Param, c.Threshold, c.UnitPriceCents, c.Position)
}

// ---- declared values, communes, prices ----

// Declared returns the declared values by establishment id and metric.
func (s *Store) Declared(ctx context.Context) (map[int64]map[Metric]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT establishment_id, metric, value FROM plan_declared`)
	if err != nil {
		return nil, fmt.Errorf("declared values: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[Metric]float64{}
	for rows.Next() {
		var id int64
		var m Metric
		var v float64
		if err := rows.Scan(&id, &m, &v); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = map[Metric]float64{}
		}
		out[id][m] = v
	}
	return out, rows.Err()
}

func (s *Store) SetDeclared(ctx context.Context, q db.Querier, orgID int64, m Metric, v float64, source string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO plan_declared (establishment_id, metric, value, source, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (establishment_id, metric) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at`,
		orgID, string(m), v, source, now)
	return err
}

func (s *Store) RuralCommunes(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT commune_code, rural FROM plan_communes`)
	if err != nil {
		return nil, fmt.Errorf("communes: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		var r int
		if err := rows.Scan(&c, &r); err != nil {
			return nil, err
		}
		out[c] = r == 1
	}
	return out, rows.Err()
}

func (s *Store) SetRural(ctx context.Context, q db.Querier, code string, rural bool, now time.Time) error {
	r := 0
	if rural {
		r = 1
	}
	_, err := q.ExecContext(ctx, `INSERT INTO plan_communes (commune_code, rural, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (commune_code) DO UPDATE SET rural = excluded.rural, updated_at = excluded.updated_at`, code, r, now)
	return err
}

func (s *Store) Prices(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, unit_price_cents FROM plan_prices`)
	if err != nil {
		return nil, fmt.Errorf("prices: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

func (s *Store) SetPrice(ctx context.Context, q db.Querier, key, label string, cents int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO plan_prices (key, label, unit_price_cents) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET label = excluded.label, unit_price_cents = excluded.unit_price_cents`, key, label, cents)
	return err
}

// ---- weights ----

func (s *Store) Weights(ctx context.Context, orgID int64) (Weights, bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT factor, weight FROM plan_weights WHERE org_id = ?`, orgID)
	if err != nil {
		return nil, false, fmt.Errorf("weights: %w", err)
	}
	defer rows.Close()
	w := Weights{}
	for rows.Next() {
		var f Factor
		var v float64
		if err := rows.Scan(&f, &v); err != nil {
			return nil, false, err
		}
		w[f] = v
	}
	return w, len(w) > 0, rows.Err()
}

func (s *Store) SetWeights(ctx context.Context, q db.Querier, orgID int64, w Weights, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM plan_weights WHERE org_id = ?`, orgID); err != nil {
		return err
	}
	for _, f := range factorList {
		if _, err := q.ExecContext(ctx, `INSERT INTO plan_weights (org_id, factor, weight, updated_at) VALUES (?, ?, ?, ?)`, orgID, string(f), w[f], now); err != nil {
			return err
		}
	}
	return nil
}

// ---- id lists stored as text ----

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func splitIDs(s string) []int64 {
	out := []int64{}
	for _, p := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// orgIDsByUAI maps UAIs to organization ids.
func (s *Store) orgIDsByUAI(ctx context.Context, q db.Querier, uais []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(uais) == 0 {
		return out, nil
	}
	args := make([]any, len(uais))
	for i, u := range uais {
		args[i] = u
	}
	rows, err := q.QueryContext(ctx, `SELECT uai, org_id FROM establishments WHERE uai IN (`+db.Placeholders(len(uais))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("establishments by UAI: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var id int64
		if err := rows.Scan(&u, &id); err != nil {
			return nil, err
		}
		out[u] = id
	}
	return out, rows.Err()
}

// uaisOf lists (uai, org id) pairs from a query returning them.
func (s *Store) uaisOf(ctx context.Context, query string, args ...any) ([]string, []int64, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	uais, ids := []string{}, []int64{}
	for rows.Next() {
		var u string
		var id int64
		if err := rows.Scan(&u, &id); err != nil {
			return nil, nil, err
		}
		uais = append(uais, u)
		ids = append(ids, id)
	}
	return uais, ids, rows.Err()
}

func isNoRows(err error) bool { return err == sql.ErrNoRows }
