package governance

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"socle/internal/platform/auth"
)

// RoadmapProgress is where a roadmap stands: how many of its indicators
// meet their target, miss it, or have no data.
type RoadmapProgress struct {
	Roadmap Roadmap
	Met     int
	Missed  int
	NoData  int
	Total   int
	// Percent of measured indicators with a target that meet it (nil when
	// none is measured).
	Percent *float64
}

// Dossier is the committee file of a meeting: what the body needs to
// decide, assembled from live data.
type Dossier struct {
	Meeting     Meeting
	Body        Body
	Territory   string
	GeneratedAt time.Time
	Indicators  []IndicatorView
	Progress    []RoadmapProgress
	// Awaiting are the projects examined by the coordination committee,
	// awaiting the strategic committee's decision; ToExamine the proposed
	// or postponed ones the coordination committee has to examine.
	Awaiting  []Project
	ToExamine []Project
	// QualityFrom..QualityTo is the last three months: the quarter since
	// the previous meeting of a body that meets quarterly, and over a
	// whole académie a year of tickets would cost the file seconds.
	QualityFrom, QualityTo time.Time
	Quality                []QualityRow
	Plan                   []PlanStep
	PlanUnavailable        string
	Alerts                 []Alert
	// LastDecisions are the decisions of the body's previous held meeting.
	LastDecisions []Decision
}

// CommitteeFile assembles the file of a meeting. The computed indicators
// of the body's territory are measured first, so the file shows today's
// figures and the history gains them.
func (s *Service) CommitteeFile(ctx context.Context, p *auth.Principal, meetingID int64) (Dossier, error) {
	m, b, err := s.meeting(ctx, p, meetingID)
	if err != nil {
		return Dossier{}, err
	}
	now := s.now()
	d := Dossier{Meeting: m, Body: b, Territory: s.orgName(ctx, b.OrgID), GeneratedAt: now}
	d.QualityTo = now
	d.QualityFrom = now.AddDate(0, -3, 0)
	// The quality by commune and the plan are read while the indicators
	// are measured: both scan the territory's tickets, and together they
	// are most of the file's time.
	var wg sync.WaitGroup
	var qerr, perr error
	var quality []QualityRow
	var plan []PlanStep
	var unavailable string
	from, to := d.QualityFrom, d.QualityTo
	wg.Add(1)
	go func() {
		defer wg.Done()
		quality, qerr = s.opts.Quality.QualityByCommune(ctx, b.OrgID, from, to)
		if qerr == nil {
			plan, unavailable, perr = s.opts.Plan.PlanProgress(ctx, b.OrgID)
		}
	}()
	defer wg.Wait()
	views, err := s.indicatorViews(ctx, `WHERE r.org_id = ?`, b.OrgID)
	if err != nil {
		return d, err
	}
	if _, err := s.refreshViews(ctx, views, "dossier"); err != nil {
		return d, err
	}
	if d.Indicators, err = s.indicatorViews(ctx, `WHERE r.org_id = ?`, b.OrgID); err != nil {
		return d, err
	}
	rms, err := s.roadmaps(ctx, `WHERE r.org_id = ? ORDER BY r.first_year DESC, r.title`, b.OrgID)
	if err != nil {
		return d, err
	}
	for _, rm := range rms {
		pr := RoadmapProgress{Roadmap: rm}
		for _, v := range d.Indicators {
			if v.Roadmap != rm.Title {
				continue
			}
			pr.Total++
			switch {
			case v.Latest == nil || v.Latest.Value == nil:
				pr.NoData++
			case v.TargetMet != nil && *v.TargetMet:
				pr.Met++
			case v.TargetMet != nil:
				pr.Missed++
			}
		}
		if pr.Met+pr.Missed > 0 {
			pc := 100 * float64(pr.Met) / float64(pr.Met+pr.Missed)
			pr.Percent = &pc
		}
		d.Progress = append(d.Progress, pr)
	}
	all, err := s.store.projects(ctx, `WHERE pj.org_id = ? AND pj.status IN (?, ?, ?) ORDER BY pj.created_at, pj.id`,
		b.OrgID, string(ProjectProposed), string(ProjectPostponed), string(ProjectExamined))
	if err != nil {
		return d, err
	}
	for _, pr := range all {
		if pr.Status == ProjectExamined {
			d.Awaiting = append(d.Awaiting, pr)
		} else {
			d.ToExamine = append(d.ToExamine, pr)
		}
	}
	wg.Wait()
	if qerr != nil {
		return d, qerr
	}
	if perr != nil {
		return d, perr
	}
	d.Quality, d.Plan, d.PlanUnavailable = quality, plan, unavailable
	alerts, err := s.Alerts(ctx, p)
	if err != nil {
		return d, err
	}
	for _, a := range alerts {
		if a.BodyID == b.ID {
			d.Alerts = append(d.Alerts, a)
		}
	}
	var prev int64
	err = s.db.QueryRowContext(ctx, `SELECT id FROM gov_meetings WHERE body_id = ? AND held = ? AND starts_at < ? AND id <> ?
		ORDER BY starts_at DESC LIMIT 1`, b.ID, true, m.StartsAt.UTC(), m.ID).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return d, err
	}
	if prev != 0 {
		if d.LastDecisions, err = s.store.decisions(ctx, `WHERE d.meeting_id = ? ORDER BY d.id`, prev); err != nil {
			return d, err
		}
	}
	return d, nil
}
