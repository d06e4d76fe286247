package portal

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"socle/internal/platform/auth"
)

// Timeline gives the home page the latest notifications of the person
// logged in. It takes the principal, not a user id, so that the home page
// cannot ask for anyone else's timeline.
type Timeline interface {
	Latest(ctx context.Context, p *auth.Principal, n int) (TimelineSummary, error)
}

// TimelineSummary is the head of a timeline.
type TimelineSummary struct {
	Items  []Notice
	Unread int
}

// Notice is one notification as the home page lists it.
type Notice struct {
	ID        int64
	Title     string
	Link      string
	CreatedAt time.Time
	Unread    bool
}

// Directory gives the home page the person's own classes and groups and,
// for a parent, their children. Like Timeline it only answers for the
// principal it is given.
type Directory interface {
	GroupsOf(ctx context.Context, p *auth.Principal) ([]GroupLink, error)
	ChildrenOf(ctx context.Context, p *auth.Principal) ([]ChildLink, error)
}

// GroupLink is a class or a group with the path of its page.
type GroupLink struct {
	ID              int64
	Name            string
	Class           bool
	SchoolYear      string
	EstablishmentID int64
	// Establishment is the establishment's name, filled by the home page
	// from the person's schools when the directory leaves it empty.
	Establishment string
	Path          string
}

// ChildLink is a parent's child and their classes.
type ChildLink struct {
	Name    string
	Classes []GroupLink
}

// Option completes the handler with what the ENT domains provide.
type Option func(*Handler)

// WithTimeline shows the latest notifications on the home page.
func WithTimeline(t Timeline) Option { return func(h *Handler) { h.timeline = t } }

// WithDirectory shows classes, groups and children on the home page.
func WithDirectory(d Directory) Option { return func(h *Handler) { h.directory = d } }

// WithRoutes lets the home page link only the applications whose pages
// are mounted (the router's patterns, read at the first request once every
// domain has mounted its routes).
func WithRoutes(patterns func() []string) Option {
	return func(h *Handler) {
		h.mounted = sync.OnceValue(func() map[string]bool {
			m := map[string]bool{}
			for _, p := range patterns() {
				if path, ok := strings.CutPrefix(p, "GET "); ok {
					m[path] = true
				}
			}
			return m
		})
	}
}

// homeTimelineItems is how many notifications the home page lists; the
// rest is one link away.
const homeTimelineItems = 5

// App is a link to one of the applications the person may use.
type App struct {
	Label, Path, Description string
}

// entRoles are the roles of the people of a school, who get the ENT's
// applications on their home page.
var entRoles = []auth.Role{auth.RolePupil, auth.RoleParent, auth.RoleTeacher, auth.RoleEstablishmentHead}

// isENT reports whether the person is one of a school's people.
func isENT(p *auth.Principal) bool {
	return slices.ContainsFunc(p.Grants, func(g auth.Grant) bool { return slices.Contains(entRoles, g.Role) })
}

// apps lists the applications the person may use, in the order the home
// page shows them. Each page checks access again; this list only spares
// people links that would answer 403.
func (h *Handler) apps(p *auth.Principal) []App {
	ent := isENT(p)
	cands := []struct {
		app  App
		show bool
	}{
		{App{"Mes documents", "/documents", "Vos fichiers et ceux de vos classes et groupes."}, ent},
		{App{"Travaux à faire", "/travaux", "Les consignes données à vos classes et groupes."}, ent},
		{App{"Productions", "/productions", "Pads, wikis, blogs et murs collaboratifs."}, ent},
		{App{"Notifications", "/notifications", "Tout ce qui vous a été signalé."}, true},
		{App{"Annuaire", "/personnes", "Les personnes que vous pouvez joindre."}, ent || p.Has(auth.PermPeopleRead)},
		{App{"Assistance", "/tickets", "Demander de l'aide et suivre vos demandes."}, p.Has(auth.PermTicketCreate) || p.Has(auth.PermTicketRead)},
		{App{"Mes données", "/mes-donnees", "Ce que la plateforme garde sur vous."}, true},
	}
	var mounted map[string]bool
	if h.mounted != nil {
		mounted = h.mounted()
	}
	out := []App{}
	for _, c := range cands {
		if c.show && (mounted == nil || mounted[c.app.Path]) {
			out = append(out, c.app)
		}
	}
	return out
}
