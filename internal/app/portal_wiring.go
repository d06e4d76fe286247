package app

import (
	"context"
	"strconv"
	"strings"

	"socle/internal/ent/notify"
	"socle/internal/ent/people"
	"socle/internal/platform/auth"
	"socle/internal/portal"
)

// portalOptions gives the home page the ENT's parts: the timeline, the
// directory, and the routes mounted, so that it links only to pages that
// exist.
func (a *App) portalOptions(patterns func() []string) []portal.Option {
	return []portal.Option{
		portal.WithTimeline(portalTimeline{a.Notify}),
		portal.WithDirectory(portalDirectory{a.People}),
		portal.WithRoutes(patterns),
	}
}

// portalTimeline reads the head of the caller's own timeline: notify
// scopes every read to the principal it is given.
type portalTimeline struct{ n *notify.Service }

func (t portalTimeline) Latest(ctx context.Context, p *auth.Principal, n int) (portal.TimelineSummary, error) {
	pg, err := t.n.Timeline(ctx, p, "", n)
	if err != nil {
		return portal.TimelineSummary{}, err
	}
	out := portal.TimelineSummary{Unread: pg.Unread, Items: make([]portal.Notice, 0, len(pg.Items))}
	for _, it := range pg.Items {
		out.Items = append(out.Items, portal.Notice{ID: it.ID, Title: it.Title, Link: it.Link, CreatedAt: it.CreatedAt, Unread: it.Unread()})
	}
	return out, nil
}

// portalDirectory reads the caller's own classes, groups and children in
// the directory.
type portalDirectory struct{ p *people.Service }

func (d portalDirectory) GroupsOf(ctx context.Context, p *auth.Principal) ([]portal.GroupLink, error) {
	if p.IsAnonymous() {
		return nil, nil
	}
	gs, err := d.p.GroupsOfUser(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	return groupLinks(gs), nil
}

func (d portalDirectory) ChildrenOf(ctx context.Context, p *auth.Principal) ([]portal.ChildLink, error) {
	if p.IsAnonymous() {
		return nil, nil
	}
	cs, err := d.p.ChildrenOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]portal.ChildLink, 0, len(cs))
	for _, c := range cs {
		out = append(out, portal.ChildLink{Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Classes: groupLinks(c.Classes)})
	}
	return out, nil
}

// groupLinks points each class or group to its page in the directory.
func groupLinks(gs []people.GroupRef) []portal.GroupLink {
	out := make([]portal.GroupLink, 0, len(gs))
	for _, g := range gs {
		out = append(out, portal.GroupLink{ID: g.ID, Name: g.Name, Class: g.Kind == people.KindClass, SchoolYear: g.SchoolYear,
			EstablishmentID: g.EstablishmentID, Path: "/classes/" + strconv.FormatInt(g.ID, 10)})
	}
	return out
}
