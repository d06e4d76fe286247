package app

import (
	"context"
	"database/sql"
	"errors"

	"socle/internal/ent/notify"
	"socle/internal/ent/people"
	"socle/internal/ent/production"
	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// The productions consume the directory, the notifications and the
// collaboration engine through their own interfaces; these adapters are
// the only place that knows both sides.

// productionDirectory adapts the directory ([4/8]).
type productionDirectory struct{ a *App }

func (d productionDirectory) CanReach(ctx context.Context, from, to int64) (bool, error) {
	return d.a.People.CanReach(ctx, from, to)
}

func (d productionDirectory) GroupsOfUser(ctx context.Context, userID int64) ([]production.Group, error) {
	refs, err := d.a.People.GroupsOfUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]production.Group, 0, len(refs))
	for _, r := range refs {
		g := production.Group{ID: r.ID, Name: r.Name, Kind: r.Kind, EstablishmentID: r.EstablishmentID}
		// The level (CM1, 6e...) is on the group's own record; the usage
		// figures need it, the authorization does not.
		if r.Kind == people.KindClass {
			if full, err := d.Group(ctx, r.ID); err == nil {
				g.Level = full.Level
			}
		}
		out = append(out, g)
	}
	return out, nil
}

func (d productionDirectory) Group(ctx context.Context, id int64) (production.Group, error) {
	// The productions apply their own rules (membership, archive) on what
	// the system principal reads.
	g, err := d.a.People.Group(ctx, auth.System(), id)
	if err != nil {
		if p, ok := problem.As(err); ok && p.Code == "not_found" {
			return production.Group{}, production.ErrNoGroup
		}
		return production.Group{}, err
	}
	out := production.Group{ID: g.ID, Name: g.Name, Kind: g.Kind, EstablishmentID: g.EstablishmentID, Level: g.Level,
		Archived: g.ArchivedAt != nil}
	for _, m := range g.Pupils {
		out.Pupils = append(out.Pupils, m.UserID)
	}
	return out, nil
}

func (d productionDirectory) MembersOfGroup(ctx context.Context, groupID int64) ([]int64, error) {
	return d.a.People.MembersOfGroup(ctx, groupID)
}

func (d productionDirectory) EstablishmentsOf(ctx context.Context, userID int64) ([]int64, error) {
	return d.a.People.EstablishmentsOf(ctx, userID)
}

func (d productionDirectory) DisplayName(ctx context.Context, userID int64) (string, error) {
	var name string
	err := d.a.DB.QueryRowContext(ctx, `SELECT display_name FROM users WHERE id = ?`, userID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// productionNotifier adapts the notifications ([4/8]).
type productionNotifier struct{ n *notify.Service }

func (p productionNotifier) Notify(ctx context.Context, userIDs []int64, n production.Notification) error {
	return p.n.Notify(ctx, userIDs, notify.Notification{Type: n.Type, Title: n.Title, Body: n.Body, Link: n.Link})
}
