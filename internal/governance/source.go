package governance

import (
	"context"
	"fmt"
	"socle/internal/platform/web"
	"strconv"
	"time"
)

// Period is the span an indicator value describes: a month ("2026-03"), a
// quarter ("2026-T1") or a calendar year ("2026"), in Paris time.
type Period struct {
	Key      string
	From, To time.Time // [From, To)
}

// PeriodOf returns the period of frequency f containing t.
func PeriodOf(f Frequency, t time.Time) Period {
	t = t.In(web.Paris())
	switch f {
	case Monthly:
		from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, web.Paris())
		return Period{Key: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}
	case Quarterly:
		q := (int(t.Month()) - 1) / 3
		from := time.Date(t.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, web.Paris())
		return Period{Key: strconv.Itoa(t.Year()) + "-T" + strconv.Itoa(q+1), From: from, To: from.AddDate(0, 3, 0)}
	}
	from := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, web.Paris())
	return Period{Key: strconv.Itoa(t.Year()), From: from, To: from.AddDate(1, 0, 0)}
}

// Previous returns the period before p of the same frequency.
func (p Period) Previous(f Frequency) Period { return PeriodOf(f, p.From.Add(-time.Hour)) }

// Value is what a source measured: a number, or no data and why.
type Value struct {
	V  float64
	OK bool
	// Reason says why there is no data ("aucun ticket résolu sur la
	// période"); Detail how the number was obtained ("412 sur 450").
	Reason string
	Detail string
}

// Measured is a value with data.
func Measured(v float64, detail string) Value { return Value{V: v, OK: true, Detail: detail} }

// NoData is a value without data, with the reason shown to readers.
func NoData(reason string) Value { return Value{Reason: reason} }

// Source computes an indicator from Socle's own data for everything under
// an organization (an establishment, a commune, a collectivité, the
// académie) over a period. Sources are given at construction; the domains
// written later (productions, planning) plug theirs in the same way.
type Source interface {
	Measure(ctx context.Context, scopeOrgID int64, period Period) (Value, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, scopeOrgID int64, period Period) (Value, error)

// Measure implements Source.
func (f SourceFunc) Measure(ctx context.Context, scopeOrgID int64, period Period) (Value, error) {
	return f(ctx, scopeOrgID, period)
}

// SourceInfo describes a computed source in forms and files.
type SourceInfo struct {
	Key    string
	Label  string
	Unit   string
	Source Source
}

// QualityRow is the measured quality of service of one commune or one
// service (Code is the commune code or the service id).
type QualityRow struct {
	Code         string
	Name         string
	Opened       int
	Solved       int
	SLA          *float64 // percent of tickets solved within the promised delay
	Satisfaction *float64 // mean score out of 5
}

// QualityBoard gives the measured service quality per commune and per
// service (the helpdesk's reports, adapted in the application).
type QualityBoard interface {
	QualityByCommune(ctx context.Context, scopeOrgID int64, from, to time.Time) ([]QualityRow, error)
	QualityByService(ctx context.Context, scopeOrgID int64, from, to time.Time) ([]QualityRow, error)
}

// PlanStep is one line of the deployment plan's progress.
type PlanStep struct {
	Label    string
	Done     int
	Total    int
	Budget   string
	Progress string
}

// PlanProgress gives the progress of the deployment plan under an
// organization. Planning plugs in later; until then Unavailable says why.
type PlanProgress interface {
	PlanProgress(ctx context.Context, scopeOrgID int64) (steps []PlanStep, unavailable string, err error)
}

// noPlan is the plan progress until planning is wired.
type noPlan struct{}

func (noPlan) PlanProgress(context.Context, int64) ([]PlanStep, string, error) {
	return nil, "Le plan de déploiement n'est pas encore raccordé à la gouvernance : pas de données.", nil
}

// noQuality is the quality board when the helpdesk is not wired.
type noQuality struct{}

func (noQuality) QualityByCommune(context.Context, int64, time.Time, time.Time) ([]QualityRow, error) {
	return nil, nil
}

func (noQuality) QualityByService(context.Context, int64, time.Time, time.Time) ([]QualityRow, error) {
	return nil, nil
}

// measure runs a source, turning an unknown key into "no data".
func (s *Service) measure(ctx context.Context, key string, orgID int64, p Period) (Value, error) {
	if key == SourceDeclared {
		return NoData("Indicateur déclaratif : valeur à déclarer avec justificatif."), nil
	}
	src, ok := s.sourceByKey(key)
	if !ok {
		return NoData("Source « " + key + " » non raccordée : pas de données."), nil
	}
	v, err := src.Source.Measure(ctx, orgID, p)
	if err != nil {
		return Value{}, fmt.Errorf("measure %s for org %d over %s: %w", key, orgID, p.Key, err)
	}
	if !v.OK && v.Reason == "" {
		v.Reason = "Pas de données pour la période."
	}
	return v, nil
}

func (s *Service) sourceByKey(key string) (SourceInfo, bool) {
	for _, si := range s.opts.Sources {
		if si.Key == key {
			return si, true
		}
	}
	return SourceInfo{}, false
}
