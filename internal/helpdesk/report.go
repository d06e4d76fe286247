package helpdesk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"socle/internal/catalog"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// createSurvey opens the satisfaction survey of a closed ticket and returns
// its token; only the hash is stored. A ticket answered once is never
// surveyed again (an empty token).
func (s *Service) createSurvey(ctx context.Context, tx *db.Tx, ticketID int64, now time.Time) (string, error) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	res, err := tx.ExecContext(ctx, `INSERT INTO satisfaction_surveys (ticket_id, token_hash, sent_at) VALUES (?, ?, ?)
		ON CONFLICT (ticket_id) DO NOTHING`, ticketID, hashToken(tok), now.UTC())
	if err != nil {
		return "", fmt.Errorf("open survey of ticket %d: %w", ticketID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", nil
	}
	return tok, nil
}

// SurveyAnswer is an answer to the satisfaction survey.
type SurveyAnswer struct {
	// Token is the one sent by e-mail; without it, the logged-in requester
	// of the ticket answers.
	Token   string `json:"token,omitempty"`
	Score   int    `json:"score"`
	Comment string `json:"comment,omitempty"`
}

// AnswerSurvey records the answer, once. ref may be empty when the token
// alone names the survey (the page reached from the e-mail).
func (s *Service) AnswerSurvey(ctx context.Context, p *auth.Principal, ref string, a SurveyAnswer) error {
	if a.Score < 1 || a.Score > 5 {
		return problem.Invalid("invalid_score", "La note va de 1 (pas du tout satisfait) à 5 (très satisfait).").Field("score", "Note de 1 à 5.")
	}
	a.Comment = strings.TrimSpace(a.Comment)
	if len(a.Comment) > 5000 {
		return problem.Invalid("comment_too_long", "Le commentaire ne doit pas dépasser 5 000 caractères.").Field("comment", "Trop long.")
	}
	var ticketID int64
	if a.Token != "" {
		var tref string
		err := s.db.QueryRowContext(ctx, `SELECT s.ticket_id, t.reference FROM satisfaction_surveys s JOIN tickets t ON t.id = s.ticket_id
			WHERE s.token_hash = ?`, hashToken(a.Token)).Scan(&ticketID, &tref)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && ref != "" && !strings.EqualFold(ref, tref)) {
			return problem.NotFound("Enquête")
		}
		if err != nil {
			return fmt.Errorf("find survey: %w", err)
		}
	} else {
		t, err := s.load(ctx, s.db, p, ref)
		if err != nil {
			return err
		}
		if t.RequesterID != p.User.ID {
			return problem.Forbidden()
		}
		ticketID = t.ID
	}
	res, err := s.db.ExecContext(ctx, `UPDATE satisfaction_surveys SET answered_at = ?, score = ?, comment = ?
		WHERE ticket_id = ? AND answered_at IS NULL`, s.now().UTC(), a.Score, a.Comment, ticketID)
	if err != nil {
		return fmt.Errorf("answer survey of ticket %d: %w", ticketID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM satisfaction_surveys WHERE ticket_id = ?`, ticketID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return problem.NotFound("Enquête")
		}
		return problem.Conflict("survey_answered", "Cette enquête a déjà reçu une réponse. Merci !")
	}
	return nil
}

// orgCond selects the tickets of an establishment or of every establishment
// under an organization (a collectivité, an académie).
const orgCond = `(t.establishment_id = ? OR EXISTS (SELECT 1 FROM org_closure oc WHERE oc.ancestor_id = ? AND oc.descendant_id = t.establishment_id))`

// MonthlyReport is the quality of service of a month for an establishment
// or an organization above establishments. It is a first, minimal report;
// the month is read in Paris time.
func (s *Service) MonthlyReport(ctx context.Context, p *auth.Principal, orgID int64, month time.Time) (Report, error) {
	ok, err := s.auth.Allowed(ctx, p, auth.PermReportRead, orgID)
	if err != nil {
		return Report{}, err
	}
	if !ok {
		return Report{}, problem.NotFound("Organisation")
	}
	m := month.In(web.Paris())
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, web.Paris())
	to := from.AddDate(0, 1, 0)
	r := Report{OrgID: orgID, Month: from.Format("2006-01")}
	fu, tu := from.UTC(), to.UTC()

	var ttoMet, ttoAll int
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN t.tto_met THEN 1 ELSE 0 END), 0), COUNT(t.tto_met)
		FROM tickets t WHERE `+orgCond+` AND t.created_at >= ? AND t.created_at < ?`,
		orgID, orgID, fu, tu).Scan(&r.Opened, &ttoMet, &ttoAll)
	if err != nil {
		return r, fmt.Errorf("report opened: %w", err)
	}
	r.TTOCompliance = percent(ttoMet, ttoAll)

	rows, err := s.db.QueryContext(ctx, `SELECT t.created_at, t.solved_at, t.ttr_met FROM tickets t
		WHERE `+orgCond+` AND t.solved_at >= ? AND t.solved_at < ?`, orgID, orgID, fu, tu)
	if err != nil {
		return r, fmt.Errorf("report solved: %w", err)
	}
	defer rows.Close()
	var durations []time.Duration
	var ttrMet, ttrAll int
	for rows.Next() {
		var created, solved time.Time
		var met sql.NullBool
		if err := rows.Scan(&created, &solved, &met); err != nil {
			return r, err
		}
		durations = append(durations, solved.Sub(created))
		if met.Valid {
			ttrAll++
			if met.Bool {
				ttrMet++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.Solved, r.TTRCompliance = len(durations), percent(ttrMet, ttrAll)
	if len(durations) > 0 {
		var sum time.Duration
		for _, d := range durations {
			sum += d
		}
		r.MeanResolve = Seconds(sum / time.Duration(len(durations)))
		slices.Sort(durations)
		// Nearest rank: the smallest duration at least 90 % of tickets
		// stay within.
		r.P90Resolve = Seconds(durations[int(math.Ceil(0.9*float64(len(durations))))-1])
	}

	var avg sql.NullFloat64
	err = s.db.QueryRowContext(ctx, `SELECT AVG(CAST(sv.score AS REAL)), COUNT(sv.score) FROM satisfaction_surveys sv
		JOIN tickets t ON t.id = sv.ticket_id
		WHERE `+orgCond+` AND sv.answered_at >= ? AND sv.answered_at < ?`, orgID, orgID, fu, tu).Scan(&avg, &r.SurveyAnswers)
	if err != nil {
		return r, fmt.Errorf("report satisfaction: %w", err)
	}
	if avg.Valid {
		v := math.Round(avg.Float64*100) / 100
		r.Satisfaction = &v
	}
	return r, nil
}

func percent(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := math.Round(float64(n)*1000/float64(of)) / 10
	return &v
}

// MeasuredLevels gives the catalogue the measured shares of tickets within
// target for an establishment and a service (catalog.MeasuredLevels), over
// [from, to): the time to own of the tickets opened in the window, the
// time to resolve of those solved in it (a ticket opened before the window
// and solved in it counts where its resolution was measured). Tickets
// counts those opened. Both are one indexed aggregate each, on
// (establishment_id, created_at) and (establishment_id, solved_at).
func (s *Service) MeasuredLevels(ctx context.Context, establishmentID, serviceID int64, from, to time.Time) (catalog.Measure, error) {
	m := catalog.Measure{From: from, To: to}
	var ttoMet, ttoAll, ttrMet, ttrAll int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN tto_met THEN 1 ELSE 0 END), 0), COUNT(tto_met)
		FROM tickets WHERE establishment_id = ? AND service_id = ? AND created_at >= ? AND created_at < ?`,
		establishmentID, serviceID, from.UTC(), to.UTC()).Scan(&m.Tickets, &ttoMet, &ttoAll)
	if err != nil {
		return m, fmt.Errorf("measured levels (own): %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN ttr_met THEN 1 ELSE 0 END), 0), COUNT(ttr_met)
		FROM tickets WHERE establishment_id = ? AND service_id = ? AND solved_at >= ? AND solved_at < ?`,
		establishmentID, serviceID, from.UTC(), to.UTC()).Scan(&ttrMet, &ttrAll)
	if err != nil {
		return m, fmt.Errorf("measured levels (resolve): %w", err)
	}
	if ttoAll > 0 {
		m.TTOMet = float64(ttoMet) / float64(ttoAll)
	}
	if ttrAll > 0 {
		m.TTRMet = float64(ttrMet) / float64(ttrAll)
	}
	return m, nil
}
