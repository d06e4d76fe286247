package production

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// Share links inside the ENT. A manager of a production creates a link
// (read or contribute); a person signed in to the ENT who follows it gets
// a share of their own, tied to the link. A pupil's link reaches only the
// people the communication rules let the pupil reach; a teacher's link,
// anybody in the ENT. Revoking the link removes the shares it gave, and
// open editors lose their access at once. Nobody outside the ENT gets in:
// following a link needs an account.

// Link is a share link.
type Link struct {
	ID        int64     `json:"id"`
	Path      string    `json:"path"`
	Role      Role      `json:"role"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Followers counts the people who got a share through it.
	Followers int `json:"followers"`
}

// LinkPath is where a link token is followed.
func LinkPath(token string) string { return "/partage/" + token }

var errNoLink = problem.NotFound("Lien de partage")

// Links lists a production's links (managers).
func (s *Service) Links(ctx context.Context, p *auth.Principal, id int64) ([]Link, error) {
	if _, err := s.load(ctx, p, id, RoleManage); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT l.id, l.token, l.role, COALESCE(u.display_name, ''), l.created_at,
		(SELECT COUNT(*) FROM production_shares sh WHERE sh.link_id = l.id)
		FROM production_links l LEFT JOIN users u ON u.id = l.created_by
		WHERE l.production_id = ? ORDER BY l.id`, id)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	defer rows.Close()
	out := []Link{}
	for rows.Next() {
		var l Link
		var token string
		if err := rows.Scan(&l.ID, &token, &l.Role, &l.CreatedBy, &l.CreatedAt, &l.Followers); err != nil {
			return nil, fmt.Errorf("list links: %w", err)
		}
		l.Path = LinkPath(token)
		out = append(out, l)
	}
	return out, rows.Err()
}

// CreateLink makes a share link giving role (read or contribute).
func (s *Service) CreateLink(ctx context.Context, p *auth.Principal, id int64, role Role) (Link, error) {
	pr, err := s.load(ctx, p, id, RoleManage)
	if err != nil {
		return Link{}, err
	}
	if pr.Trashed {
		return Link{}, errTrashed
	}
	if role != RoleRead && role != RoleContribute {
		return Link{}, problem.Invalid("invalid_link_role", "Un lien donne la lecture ou la contribution ; la gestion se partage nommément.").Field("role", "Lecture ou contribution.")
	}
	token := newToken()
	l := Link{Path: LinkPath(token), Role: role, CreatedBy: p.User.DisplayName, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	// Whether the link reaches the whole ENT is the creator's standing
	// when they make it.
	if err := s.db.QueryRowContext(ctx, `INSERT INTO production_links (production_id, token, role, wide, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, token, string(role), wide(p), p.User.ID, l.CreatedAt).Scan(&l.ID); err != nil {
		return Link{}, fmt.Errorf("create link: %w", err)
	}
	return l, nil
}

// RevokeLink deletes a link and the shares it gave.
func (s *Service) RevokeLink(ctx context.Context, p *auth.Principal, id, linkID int64) error {
	if _, err := s.load(ctx, p, id, RoleManage); err != nil {
		return err
	}
	// The shares go with the link (foreign key).
	res, err := s.db.ExecContext(ctx, `DELETE FROM production_links WHERE id = ? AND production_id = ?`, linkID, id)
	if err != nil {
		return fmt.Errorf("revoke link: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoLink
	}
	s.docs.Reauthorize(docID(id))
	return nil
}

// FollowLink gives the caller the link's access and answers the
// production. An unknown or revoked link, a trashed production, or a
// pupil's link followed by someone outside the pupil's communication
// rules: not found, saying nothing of the production.
func (s *Service) FollowLink(ctx context.Context, p *auth.Principal, token string) (Production, error) {
	if err := requireUser(p); err != nil {
		return Production{}, err
	}
	if !tokenRe.MatchString(token) {
		return Production{}, errNoLink
	}
	var linkID, prodID, creator int64
	var role Role
	var wideLink bool
	err := s.db.QueryRowContext(ctx, `SELECT id, production_id, role, created_by, wide FROM production_links WHERE token = ?`, token).
		Scan(&linkID, &prodID, &role, &creator, &wideLink)
	if errors.Is(err, sql.ErrNoRows) {
		return Production{}, errNoLink
	}
	if err != nil {
		return Production{}, fmt.Errorf("find link: %w", err)
	}
	pr, err := s.store.get(ctx, prodID)
	if err != nil || pr.Trashed {
		return Production{}, errNoLink
	}
	current, err := s.role(ctx, pr, p.User.ID)
	if err != nil {
		return Production{}, err
	}
	if current.rank() >= role.rank() {
		return s.Get(ctx, p, prodID)
	}
	if !wideLink {
		ok, err := s.dir.CanReach(ctx, creator, p.User.ID)
		if err != nil {
			return Production{}, err
		}
		if !ok {
			return Production{}, errNoLink
		}
	}
	// A direct share of a lower role is raised and tied to the link.
	_, err = s.db.ExecContext(ctx, `INSERT INTO production_shares (production_id, target_kind, target_id, role, created_by, created_at, link_id)
		VALUES (?, 'user', ?, ?, ?, ?, ?)
		ON CONFLICT (production_id, target_kind, target_id) DO UPDATE SET role = excluded.role, link_id = excluded.link_id`,
		prodID, p.User.ID, string(role), creator, s.now().UTC(), linkID)
	if err != nil {
		return Production{}, fmt.Errorf("share through link: %w", err)
	}
	s.docs.Reauthorize(docID(prodID))
	return s.Get(ctx, p, prodID)
}
