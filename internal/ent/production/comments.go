package production

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// Follow-up comments: while a production is made, the teacher who asked
// for it comments and the team answers. They are not part of the
// production's content (not exported with it, not in its versions) and
// are private to those who contribute to it.

// Comment limits.
const maxCommentRunes = 4000

// FollowUp is one follow-up comment.
type FollowUp struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	AuthorID  int64     `json:"author_id"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// FollowUps lists a production's follow-up comments, oldest first
// (contributors and up).
func (s *Service) FollowUps(ctx context.Context, p *auth.Principal, id int64) ([]FollowUp, error) {
	if _, err := s.load(ctx, p, id, RoleContribute); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.author_id, u.display_name, c.body, c.created_at
		FROM production_comments c JOIN users u ON u.id = c.author_id
		WHERE c.production_id = ? ORDER BY c.created_at, c.id`, id)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	defer rows.Close()
	out := []FollowUp{}
	for rows.Next() {
		var c FollowUp
		if err := rows.Scan(&c.ID, &c.AuthorID, &c.Author, &c.Body, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("list comments: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddFollowUp comments a production (contributors and up) and notifies
// the others who make it: its owner, its team and the teacher who asked.
func (s *Service) AddFollowUp(ctx context.Context, p *auth.Principal, id int64, body string) (FollowUp, error) {
	pr, err := s.load(ctx, p, id, RoleContribute)
	if err != nil {
		return FollowUp{}, err
	}
	if pr.Trashed {
		return FollowUp{}, errTrashed
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return FollowUp{}, problem.Invalid("comment_empty", "Le commentaire est vide.").Field("body", "Écrivez un commentaire.")
	}
	if utf8.RuneCountInString(body) > maxCommentRunes {
		return FollowUp{}, problem.Invalid("comment_too_long", "Le commentaire dépasse 4 000 caractères.").Field("body", "4 000 caractères au plus.")
	}
	c := FollowUp{AuthorID: p.User.ID, Author: p.User.DisplayName, Body: body, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	if err := s.db.QueryRowContext(ctx, `INSERT INTO production_comments (production_id, author_id, body, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		id, p.User.ID, body, c.CreatedAt).Scan(&c.ID); err != nil {
		return FollowUp{}, fmt.Errorf("add comment: %w", err)
	}
	to, err := s.makers(ctx, pr)
	if err != nil {
		return c, err
	}
	to = slices.DeleteFunc(to, func(v int64) bool { return v == p.User.ID })
	if len(to) > 0 {
		excerpt := body
		if utf8.RuneCountInString(excerpt) > 140 {
			excerpt = string([]rune(excerpt)[:140]) + "…"
		}
		if err := s.notif.Notify(ctx, to, Notification{Type: "comment", Title: "Commentaire sur « " + pr.Title + " »",
			Body: p.User.DisplayName + " : " + excerpt, Link: "/productions/" + docID(id) + "#suivi"}); err != nil {
			return c, err
		}
	}
	return c, nil
}

// makers are the owner, the members of the production's team and the
// teacher of its assignment.
func (s *Service) makers(ctx context.Context, pr Production) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT owner_id FROM productions WHERE id = ?
		UNION SELECT m.user_id FROM production_teams t JOIN production_team_members m ON m.team_id = t.id WHERE t.production_id = ?
		UNION SELECT a.teacher_id FROM productions p JOIN production_assignments a ON a.id = p.assignment_id WHERE p.id = ?`,
		pr.ID, pr.ID, pr.ID)
	if err != nil {
		return nil, fmt.Errorf("people of production %d: %w", pr.ID, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
