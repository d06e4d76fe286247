package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// InsertAgreement writes a convention with its establishments, covered
// services and levels. The caller runs it in a transaction.
func (s *Store) InsertAgreement(ctx context.Context, q db.Querier, a *Agreement) error {
	now := time.Now().UTC()
	var authority any
	if a.CoverageAuthority != nil {
		authority = a.CoverageAuthority.ID
	}
	err := q.QueryRowContext(ctx, `INSERT INTO agreements (kind, reference, title, party_a_id, party_b_id, framework_id, valid_from,
		valid_until, status, coverage, coverage_authority_id, survey_enabled, signed_on, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		string(a.Kind), a.Reference, a.Title, a.Provider.ID, a.Beneficiary.ID, db.NullID(a.FrameworkID), a.ValidFrom.String(),
		a.ValidUntil.String(), string(a.Status), a.Coverage, authority, a.SurveyEnabled, a.SignedOn, now, now).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("insert agreement %s: %w", a.Reference, err)
	}
	for _, e := range a.Establishments {
		if _, err := q.ExecContext(ctx, `INSERT INTO agreement_establishments (agreement_id, establishment_id) VALUES (?, ?)`, a.ID, e.ID); err != nil {
			return fmt.Errorf("insert covered establishment %s: %w", e.UAI, err)
		}
	}
	for i := range a.Services {
		cs := &a.Services[i]
		var n1, n2, n3 int64
		if cs.N1 != nil {
			n1 = cs.N1.ID
		}
		if cs.N2 != nil {
			n2 = cs.N2.ID
		}
		if cs.N3 != nil {
			n3 = cs.N3.ID
		}
		err := q.QueryRowContext(ctx, `INSERT INTO agreement_services (agreement_id, service_id, calendar_id, n1_team_id, n2_team_id, n3_team_id)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, a.ID, cs.ServiceID, db.NullID(cs.CalendarID), db.NullID(n1), db.NullID(n2), db.NullID(n3)).Scan(&cs.ID)
		if err != nil {
			return fmt.Errorf("insert covered service %d: %w", cs.ServiceID, err)
		}
		for _, l := range cs.Levels {
			if _, err := q.ExecContext(ctx, `INSERT INTO service_levels (agreement_service_id, request_kind, priority, tto, ttr) VALUES (?, ?, ?, ?, ?)`,
				cs.ID, l.RequestKind, l.Priority, l.TTO.String(), l.TTR.String()); err != nil {
				return fmt.Errorf("insert level %s P%d: %w", l.RequestKind, l.Priority, err)
			}
		}
	}
	return nil
}

// Overlap is another convention promising the same service to the same
// establishment over a shared period.
type Overlap struct {
	Reference, Service, UAI, Establishment string
}

// Overlaps finds the draft or signed conventions other than id that cover a
// service id covers, for an establishment id covers, over a period sharing
// at least a day with id's. A convention-cadre and the service conventions
// under it are not in conflict: the service convention details what the
// framework announced, and wins (CoverageAt). Run inside the transaction that wrote id, it
// sees the new rows and decides before the commit.
func (s *Store) Overlaps(ctx context.Context, q db.Querier, id int64) ([]Overlap, error) {
	rows, err := q.QueryContext(ctx, `SELECT o.reference, sv.name, e.uai, eo.name
		FROM agreements n
		JOIN agreement_services ns ON ns.agreement_id = n.id
		JOIN agreement_services os ON os.service_id = ns.service_id AND os.agreement_id <> n.id
		JOIN agreements o ON o.id = os.agreement_id
		JOIN services sv ON sv.id = ns.service_id
		JOIN establishments e ON `+coversSQL("n", "e.org_id")+` AND `+coversSQL("o", "e.org_id")+`
		JOIN organizations eo ON eo.id = e.org_id
		WHERE n.id = ? AND o.status IN ('draft', 'signed') AND o.valid_from <= n.valid_until AND o.valid_until >= n.valid_from
			AND COALESCE(o.framework_id, 0) <> n.id AND COALESCE(n.framework_id, 0) <> o.id
		ORDER BY o.reference, sv.name, e.uai LIMIT 10`, id)
	if err != nil {
		return nil, fmt.Errorf("find overlapping agreements: %w", err)
	}
	defer rows.Close()
	var out []Overlap
	for rows.Next() {
		var o Overlap
		if err := rows.Scan(&o.Reference, &o.Service, &o.UAI, &o.Establishment); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

const agreementColumns = `a.id, a.kind, a.reference, a.title, pa.id, pa.name, pa.kind, pb.id, pb.name, pb.kind,
	COALESCE(a.framework_id, 0), a.valid_from, a.valid_until, a.status, a.signed_on, a.coverage, COALESCE(a.coverage_authority_id, 0),
	COALESCE(ca.name, ''), a.survey_enabled, a.document_name, a.document_content_type, a.document_sha256, a.document_size`

const agreementFrom = ` FROM agreements a JOIN organizations pa ON pa.id = a.party_a_id JOIN organizations pb ON pb.id = a.party_b_id
	LEFT JOIN organizations ca ON ca.id = a.coverage_authority_id`

func scanAgreement(sc interface{ Scan(...any) error }) (Agreement, error) {
	var a Agreement
	var from, until string
	var authID int64
	var authName string
	var doc Document
	err := sc.Scan(&a.ID, &a.Kind, &a.Reference, &a.Title, &a.Provider.ID, &a.Provider.Name, &a.Provider.Kind,
		&a.Beneficiary.ID, &a.Beneficiary.Name, &a.Beneficiary.Kind, &a.FrameworkID, &from, &until, &a.Status, &a.SignedOn,
		&a.Coverage, &authID, &authName, &a.SurveyEnabled, &doc.Name, &doc.ContentType, &doc.SHA256, &doc.Size)
	if err != nil {
		return a, err
	}
	if a.ValidFrom, err = ParseDate(from); err != nil {
		return a, fmt.Errorf("agreement %d valid_from: %w", a.ID, err)
	}
	if a.ValidUntil, err = ParseDate(until); err != nil {
		return a, fmt.Errorf("agreement %d valid_until: %w", a.ID, err)
	}
	if authID != 0 {
		a.CoverageAuthority = &Party{ID: authID, Name: authName}
	}
	if doc.SHA256 != "" {
		a.Document = &doc
	}
	return a, nil
}

// Agreements lists the conventions matching cond (alias a), by end date.
func (s *Store) Agreements(ctx context.Context, cond string, args []any) ([]Agreement, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+agreementColumns+agreementFrom+` WHERE `+cond+` ORDER BY a.valid_until, a.reference`, args...)
	if err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	defer rows.Close()
	var out []Agreement
	for rows.Next() {
		a, err := scanAgreement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Agreement returns one convention matching cond, or sql.ErrNoRows, with
// its establishments and covered services.
func (s *Store) Agreement(ctx context.Context, q db.Querier, id int64, cond string, args []any) (Agreement, error) {
	a, err := scanAgreement(q.QueryRowContext(ctx, `SELECT `+agreementColumns+agreementFrom+` WHERE a.id = ? AND `+cond,
		append([]any{id}, args...)...))
	if err != nil {
		return a, err
	}
	rows, err := q.QueryContext(ctx, `SELECT o.id, e.uai, o.name FROM agreement_establishments ae
		JOIN organizations o ON o.id = ae.establishment_id JOIN establishments e ON e.org_id = o.id
		WHERE ae.agreement_id = ? ORDER BY o.name`, id)
	if err != nil {
		return a, fmt.Errorf("list covered establishments: %w", err)
	}
	for rows.Next() {
		var e Establishment
		if err := rows.Scan(&e.ID, &e.UAI, &e.Name); err != nil {
			rows.Close()
			return a, err
		}
		a.Establishments = append(a.Establishments, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return a, err
	}
	a.Services, err = s.coveredServices(ctx, q, `x.agreement_id = ?`, id)
	return a, err
}

// coveredServices reads agreement_services rows matching cond (alias x),
// with their levels and teams.
func (s *Store) coveredServices(ctx context.Context, q db.Querier, cond string, args ...any) ([]CoveredService, error) {
	rows, err := q.QueryContext(ctx, `SELECT x.id, x.service_id, sv.code, sv.name, COALESCE(x.calendar_id, 0), COALESCE(c.name, ''),
		COALESCE(x.n1_team_id, 0), COALESCE(x.n2_team_id, 0), COALESCE(x.n3_team_id, 0)
		FROM agreement_services x JOIN services sv ON sv.id = x.service_id LEFT JOIN business_calendars c ON c.id = x.calendar_id
		WHERE `+cond+` ORDER BY sv.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list covered services: %w", err)
	}
	var out []CoveredService
	var teamIDs []int64
	type teamRefs struct{ n1, n2, n3 int64 }
	var refs []teamRefs
	for rows.Next() {
		var cs CoveredService
		var t teamRefs
		if err := rows.Scan(&cs.ID, &cs.ServiceID, &cs.ServiceCode, &cs.ServiceName, &cs.CalendarID, &cs.CalendarName, &t.n1, &t.n2, &t.n3); err != nil {
			rows.Close()
			return nil, err
		}
		cs.Levels = []ServiceLevel{}
		out = append(out, cs)
		refs = append(refs, t)
		teamIDs = append(teamIDs, t.n1, t.n2, t.n3)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	teams, err := s.Teams(ctx, q, nonZero(teamIDs))
	if err != nil {
		return nil, err
	}
	pick := func(id int64) *Team {
		if t, ok := teams[id]; ok {
			return &t
		}
		return nil
	}
	for i := range out {
		out[i].N1, out[i].N2, out[i].N3 = pick(refs[i].n1), pick(refs[i].n2), pick(refs[i].n3)
		if out[i].Levels, err = s.levels(ctx, q, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func nonZero(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

func (s *Store) levels(ctx context.Context, q db.Querier, agreementServiceID int64) ([]ServiceLevel, error) {
	rows, err := q.QueryContext(ctx, `SELECT request_kind, priority, tto, ttr FROM service_levels WHERE agreement_service_id = ?
		ORDER BY request_kind, priority`, agreementServiceID)
	if err != nil {
		return nil, fmt.Errorf("list levels: %w", err)
	}
	defer rows.Close()
	out := []ServiceLevel{}
	for rows.Next() {
		var l ServiceLevel
		var tto, ttr string
		if err := rows.Scan(&l.RequestKind, &l.Priority, &tto, &ttr); err != nil {
			return nil, err
		}
		if err := l.TTO.UnmarshalText([]byte(tto)); err != nil {
			return nil, fmt.Errorf("level %d tto %q: %w", agreementServiceID, tto, err)
		}
		if err := l.TTR.UnmarshalText([]byte(ttr)); err != nil {
			return nil, fmt.Errorf("level %d ttr %q: %w", agreementServiceID, ttr, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// SetStatus changes a convention's status.
func (s *Store) SetStatus(ctx context.Context, q db.Querier, id int64, status AgreementStatus, signedOn string) error {
	_, err := q.ExecContext(ctx, `UPDATE agreements SET status = ?, signed_on = CASE WHEN ? <> '' THEN ? ELSE signed_on END, updated_at = ? WHERE id = ?`,
		string(status), signedOn, signedOn, time.Now().UTC(), id)
	if err != nil {
		return fmt.Errorf("set status of agreement %d: %w", id, err)
	}
	return nil
}

// SetDocument records the stored document of a convention and returns the
// path of the one it replaces.
func (s *Store) SetDocument(ctx context.Context, q db.Querier, id int64, path string, d Document) (string, error) {
	var old string
	if err := q.QueryRowContext(ctx, `SELECT document_path FROM agreements WHERE id = ?`, id).Scan(&old); err != nil {
		return "", fmt.Errorf("read document of agreement %d: %w", id, err)
	}
	_, err := q.ExecContext(ctx, `UPDATE agreements SET document_name = ?, document_path = ?, document_content_type = ?, document_sha256 = ?,
		document_size = ?, updated_at = ? WHERE id = ?`, d.Name, path, d.ContentType, d.SHA256, d.Size, time.Now().UTC(), id)
	if err != nil {
		return "", fmt.Errorf("record document of agreement %d: %w", id, err)
	}
	return old, nil
}

// DocumentPath returns where a convention's document lies under the files
// root ("" when none).
func (s *Store) DocumentPath(ctx context.Context, id int64) (string, error) {
	var p string
	err := s.db.QueryRowContext(ctx, `SELECT document_path FROM agreements WHERE id = ?`, id).Scan(&p)
	return p, err
}

// coverageRow is the agreement_services row a Coverage is built from.
type coverageRow struct {
	agreementID, agreementServiceID int64
	reference, title                string
	survey                          bool
}

// CoverageAt finds the signed convention covering (establishment, service)
// on day, or sql.ErrNoRows. The most specific promise wins: a service
// convention over the convention-cadre it details, and a school named in a
// list over "every school of the collectivité" (which can meet when a
// collectivité takes over a school that already had its own convention).
func (s *Store) CoverageAt(ctx context.Context, establishmentID, serviceID int64, day Date) (coverageRow, error) {
	var r coverageRow
	err := s.db.QueryRowContext(ctx, `SELECT a.id, x.id, a.reference, a.title, a.survey_enabled
		FROM agreements a JOIN agreement_services x ON x.agreement_id = a.id
		WHERE x.service_id = ? AND a.status = 'signed' AND a.valid_from <= ? AND a.valid_until >= ? AND `+coversSQL("a", "?")+`
		ORDER BY CASE a.kind WHEN 'service' THEN 0 ELSE 1 END, CASE a.coverage WHEN 'listed' THEN 0 ELSE 1 END, a.valid_from DESC, a.id DESC LIMIT 1`,
		serviceID, day.String(), day.String(), establishmentID, establishmentID).
		Scan(&r.agreementID, &r.agreementServiceID, &r.reference, &r.title, &r.survey)
	return r, err
}

// CoveredService returns one agreement_services row with levels and teams.
func (s *Store) CoveredService(ctx context.Context, id int64) (CoveredService, error) {
	list, err := s.coveredServices(ctx, s.db, `x.id = ?`, id)
	if err != nil {
		return CoveredService{}, err
	}
	if len(list) == 0 {
		return CoveredService{}, sql.ErrNoRows
	}
	return list[0], nil
}

// subscriptionRow is an agreement service covering an establishment.
type subscriptionRow struct {
	Subscription
	agreementServiceID int64
}

// Subscriptions lists the draft or signed conventions covering an
// establishment that have not ended before day, with each covered service.
func (s *Store) Subscriptions(ctx context.Context, establishmentID int64, day Date) ([]Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.reference, a.title, a.status, a.valid_from, a.valid_until, a.coverage, x.id, f.name
		FROM agreements a JOIN agreement_services x ON x.agreement_id = a.id
		JOIN services sv ON sv.id = x.service_id JOIN service_families f ON f.id = sv.family_id
		WHERE a.status IN ('draft', 'signed') AND a.valid_until >= ? AND `+coversSQL("a", "?")+`
		ORDER BY f.position, f.name, sv.name, a.valid_from`, day.String(), establishmentID, establishmentID)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	var list []subscriptionRow
	for rows.Next() {
		var r subscriptionRow
		var from, until string
		if err := rows.Scan(&r.AgreementID, &r.AgreementReference, &r.AgreementTitle, &r.AgreementStatus, &from, &until,
			&r.Coverage, &r.agreementServiceID, &r.Family); err != nil {
			rows.Close()
			return nil, err
		}
		var err1, err2 error
		r.ValidFrom, err1 = ParseDate(from)
		r.ValidUntil, err2 = ParseDate(until)
		if err1 != nil || err2 != nil {
			rows.Close()
			return nil, fmt.Errorf("agreement %d has bad dates %q–%q", r.AgreementID, from, until)
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Subscription, 0, len(list))
	for _, r := range list {
		cs, err := s.CoveredService(ctx, r.agreementServiceID)
		if err != nil {
			return nil, err
		}
		r.Service = cs
		out = append(out, r.Subscription)
	}
	return out, nil
}
