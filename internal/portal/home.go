package portal

import (
	"net/http"
	"slices"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
	"socle/internal/territory"
)

// roleView is one grant as the home page shows it.
type roleView struct {
	Role      auth.Role
	Label     string
	Org       *territory.Organization
	Recursive bool
}

// maintainedView is the establishments a collectivité maintains, for its
// agents and technicians.
type maintainedView struct {
	Org    territory.Organization
	Result territory.SearchResult
}

type homeData struct {
	Roles []roleView
	// Figures are shown to the roles that look after many establishments
	// (administrators, collectivités, the académie); a school's people see
	// their school instead.
	ShowFigures bool
	Summary     territory.Summary
	Enrolments  []territory.YearTotal
	Maintained  []maintainedView
	Schools     []territory.Establishment
	CanImport   bool
	Imports     []territory.ImportRunRecord
	// The ENT's part: applications, the head of the timeline, the
	// person's classes and groups, a parent's children.
	Apps     []App
	Timeline *TimelineSummary
	Classes  []GroupLink
	Groups   []GroupLink
	Children []ChildLink
}

// homeMaintainedRows is how many establishments the home page lists per
// collectivité; the rest is one link away in the territory browser.
const homeMaintainedRows = 10

// home is the page after login: what the person's roles give them, and
// what matters for each role.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := homeData{CanImport: p.Global(auth.PermImport)}
	var schoolOrgs []int64
	var authorities []territory.Organization
	for _, g := range p.Grants {
		rv := roleView{Role: g.Role, Label: g.Role.Label(), Recursive: g.Recursive}
		if g.OrgID != 0 {
			o, err := h.territory.Organization(ctx, p, g.OrgID)
			if err == nil {
				rv.Org = &o
			}
			switch g.Role {
			case auth.RoleAuthorityAgent, auth.RoleTechnician:
				if err == nil && o.Kind.IsAuthority() && !slices.ContainsFunc(authorities, func(a territory.Organization) bool { return a.ID == o.ID }) {
					authorities = append(authorities, o)
				}
			case auth.RoleEstablishmentHead, auth.RoleTeacher, auth.RolePupil, auth.RoleParent:
				schoolOrgs = append(schoolOrgs, g.OrgID)
			}
		}
		switch g.Role {
		case auth.RolePlatformAdmin, auth.RoleAuthorityAgent, auth.RoleTechnician, auth.RoleAcademyObserver:
			d.ShowFigures = true
		}
		d.Roles = append(d.Roles, rv)
	}
	if d.ShowFigures {
		if d.Summary, err = h.territory.Summary(ctx, p); err != nil {
			return err
		}
		if d.Enrolments, err = h.territory.EnrolmentTotals(ctx, p, 3); err != nil {
			return err
		}
	}
	for _, a := range authorities {
		res, err := h.territory.Search(ctx, p, territory.Filter{Responsible: a.ID, Limit: homeMaintainedRows})
		if err != nil {
			return err
		}
		d.Maintained = append(d.Maintained, maintainedView{Org: a, Result: res})
	}
	if d.Schools, err = h.territory.EstablishmentsOf(ctx, p, schoolOrgs); err != nil {
		return err
	}
	if d.CanImport {
		if d.Imports, err = h.territory.ImportRuns(ctx, p, 5); err != nil {
			return err
		}
	}
	if err := h.entHome(r, p, &d); err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "home", "Accueil", d)
}

// entHome fills the ENT's part of the home page, for the person logged in
// only: the timeline and the directory are asked about p and nobody else.
func (h *Handler) entHome(r *http.Request, p *auth.Principal, d *homeData) error {
	ctx := r.Context()
	d.Apps = h.apps(p)
	if h.timeline != nil {
		tl, err := h.timeline.Latest(ctx, p, homeTimelineItems)
		if err != nil {
			return err
		}
		d.Timeline = &tl
	}
	if h.directory == nil {
		return nil
	}
	names := map[int64]string{}
	for _, s := range d.Schools {
		names[s.ID] = s.Name
	}
	gs, err := h.directory.GroupsOf(ctx, p)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.Establishment == "" {
			g.Establishment = names[g.EstablishmentID]
		}
		if g.Class {
			d.Classes = append(d.Classes, g)
		} else {
			d.Groups = append(d.Groups, g)
		}
	}
	if slices.ContainsFunc(p.Grants, func(g auth.Grant) bool { return g.Role == auth.RoleParent }) {
		if d.Children, err = h.directory.ChildrenOf(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
