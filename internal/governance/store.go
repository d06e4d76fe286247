package governance

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// Store is the SQL of governance; the service adds the scope conditions.
type Store struct {
	db *db.DB
}

func (st *Store) insertMember(ctx context.Context, q db.Querier, bodyID int64, m Member) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO gov_members (body_id, name, member_org_id, role) VALUES (?, ?, ?, ?) RETURNING id`,
		bodyID, m.Name, db.NullID(m.OrgID), m.Role).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert member: %w", err)
	}
	return id, nil
}

func (st *Store) bodies(ctx context.Context, where string, args ...any) ([]Body, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT b.id, b.org_id, b.kind, b.name, b.chair, b.role, b.min_per_year, b.required_data, b.created_at
		FROM gov_bodies b `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("bodies: %w", err)
	}
	defer rows.Close()
	out := []Body{}
	for rows.Next() {
		var b Body
		if err := rows.Scan(&b.ID, &b.OrgID, &b.Kind, &b.Name, &b.Chair, &b.Role, &b.MinPerYear, &b.RequiredData, &b.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (st *Store) members(ctx context.Context, bodyID int64) ([]Member, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT m.id, m.name, COALESCE(m.member_org_id, 0), COALESCE(o.name, ''), m.role
		FROM gov_members m LEFT JOIN organizations o ON o.id = m.member_org_id WHERE m.body_id = ? ORDER BY m.id`, bodyID)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.ID, &m.Name, &m.OrgID, &m.OrgName, &m.Role); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (st *Store) meetings(ctx context.Context, where string, args ...any) ([]Meeting, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT m.id, m.body_id, b.name, m.title, m.starts_at, m.ends_at, m.place, m.agenda, m.minutes, m.held
		FROM gov_meetings m JOIN gov_bodies b ON b.id = m.body_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("meetings: %w", err)
	}
	defer rows.Close()
	out := []Meeting{}
	for rows.Next() {
		var m Meeting
		if err := rows.Scan(&m.ID, &m.BodyID, &m.BodyName, &m.Title, &m.StartsAt, &m.EndsAt, &m.Place, &m.Agenda, &m.Minutes, &m.Held); err != nil {
			return nil, err
		}
		m.Attendance, m.Documents, m.Decisions = []Attendance{}, []Document{}, []Decision{}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (st *Store) attendance(ctx context.Context, meetingID int64) ([]Attendance, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT a.member_id, CASE WHEN m.name <> '' THEN m.name ELSE COALESCE(o.name, '') END, a.present
		FROM gov_attendance a JOIN gov_members m ON m.id = a.member_id LEFT JOIN organizations o ON o.id = m.member_org_id
		WHERE a.meeting_id = ? ORDER BY m.id`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("attendance: %w", err)
	}
	defer rows.Close()
	out := []Attendance{}
	for rows.Next() {
		var a Attendance
		if err := rows.Scan(&a.MemberID, &a.Name, &a.Present); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (st *Store) documents(ctx context.Context, meetingID int64) ([]Document, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT id, title, url FROM gov_documents WHERE meeting_id = ? ORDER BY id`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	defer rows.Close()
	out := []Document{}
	for rows.Next() {
		var d Document
		if err := rows.Scan(&d.ID, &d.Title, &d.URL); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (st *Store) decisions(ctx context.Context, where string, args ...any) ([]Decision, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT d.id, d.meeting_id, d.kind, d.summary, COALESCE(d.project_id, 0), COALESCE(d.indicator_id, 0),
		d.before_value, d.after_value, d.amount_cents, d.created_by, d.created_at
		FROM gov_decisions d JOIN gov_meetings m ON m.id = d.meeting_id JOIN gov_bodies b ON b.id = m.body_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		if err := rows.Scan(&d.ID, &d.MeetingID, &d.Kind, &d.Summary, &d.ProjectID, &d.IndicatorID, &d.Before, &d.After,
			&d.AmountCents, &d.CreatedBy, &d.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (st *Store) projects(ctx context.Context, where string, args ...any) ([]Project, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT pj.id, pj.org_id, pj.proposer_org_id, COALESCE(o.name, ''), pj.proposer_kind, pj.title,
		pj.description, pj.benefits, pj.cost_cents, pj.feasibility, pj.status, COALESCE(pj.indicator_id, 0), pj.created_at
		FROM gov_projects pj LEFT JOIN organizations o ON o.id = pj.proposer_org_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("projects: %w", err)
	}
	defer rows.Close()
	out := []Project{}
	for rows.Next() {
		var p Project
		if err := rows.Scan(&p.ID, &p.OrgID, &p.ProposerOrgID, &p.ProposerName, &p.ProposerKind, &p.Title, &p.Description,
			&p.Benefits, &p.CostCents, &p.Feasibility, &p.Status, &p.IndicatorID, &p.CreatedAt); err != nil {
			return nil, err
		}
		p.History = []ProjectHistory{}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (st *Store) history(ctx context.Context, projectID int64) ([]ProjectHistory, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT at, from_status, to_status, COALESCE(decision_id, 0), note, actor
		FROM gov_project_history WHERE project_id = ? ORDER BY at, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("project history: %w", err)
	}
	defer rows.Close()
	out := []ProjectHistory{}
	for rows.Next() {
		var h ProjectHistory
		if err := rows.Scan(&h.At, &h.From, &h.To, &h.DecisionID, &h.Note, &h.Actor); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (st *Store) addHistory(ctx context.Context, q db.Querier, projectID int64, at time.Time, from, to ProjectStatus, decisionID int64, note, who string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO gov_project_history (project_id, at, from_status, to_status, decision_id, note, actor)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, projectID, at, string(from), string(to), db.NullID(decisionID), note, who)
	if err != nil {
		return fmt.Errorf("project history: %w", err)
	}
	return nil
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

func (st *Store) indicators(ctx context.Context, where string, args ...any) ([]Indicator, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT i.id, i.objective_id, i.name, i.definition, i.unit, i.source, i.target_value, i.higher_is_better, i.frequency
		FROM gov_indicators i JOIN gov_roadmap_items o ON o.id = i.objective_id JOIN gov_roadmaps r ON r.id = o.roadmap_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("indicators: %w", err)
	}
	defer rows.Close()
	out := []Indicator{}
	for rows.Next() {
		var i Indicator
		var t sql.NullFloat64
		if err := rows.Scan(&i.ID, &i.ObjectiveID, &i.Name, &i.Definition, &i.Unit, &i.Source, &t, &i.HigherBest, &i.Frequency); err != nil {
			return nil, err
		}
		i.Target = nullFloat(t)
		out = append(out, i)
	}
	return out, rows.Err()
}

// values returns the history of indicators, oldest first.
func (st *Store) values(ctx context.Context, where string, args ...any) ([]IndicatorValue, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT v.id, v.indicator_id, v.period, v.value, v.no_data_reason, v.detail, v.origin, v.evidence,
		v.flagged, v.recorded_by, v.recorded_at FROM gov_indicator_values v `+where+` ORDER BY v.indicator_id, v.period, v.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("indicator values: %w", err)
	}
	defer rows.Close()
	out := []IndicatorValue{}
	for rows.Next() {
		var v IndicatorValue
		var f sql.NullFloat64
		if err := rows.Scan(&v.ID, &v.IndicatorID, &v.Period, &f, &v.NoDataReason, &v.Detail, &v.Origin, &v.Evidence,
			&v.Flagged, &v.RecordedBy, &v.RecordedAt); err != nil {
			return nil, err
		}
		v.Value = nullFloat(f)
		out = append(out, v)
	}
	return out, rows.Err()
}

func (st *Store) insertValue(ctx context.Context, q db.Querier, v IndicatorValue) (int64, error) {
	var id int64
	var val any
	if v.Value != nil {
		val = *v.Value
	}
	err := q.QueryRowContext(ctx, `INSERT INTO gov_indicator_values (indicator_id, period, value, no_data_reason, detail, origin, evidence, flagged, recorded_by, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, v.IndicatorID, v.Period, val, v.NoDataReason, v.Detail, v.Origin,
		v.Evidence, v.Flagged, v.RecordedBy, v.RecordedAt.UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert indicator value: %w", err)
	}
	return id, nil
}
