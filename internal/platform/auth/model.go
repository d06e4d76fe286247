// Package auth holds accounts, password hashing, sessions, API tokens, and
// the scoped roles that every service checks: a role is granted on an
// organization, and when recursive on its whole subtree.
package auth

import (
	"embed"
	"slices"
	"time"

	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of this package.
func Migrations() db.MigrationSet {
	return db.MigrationSet{Component: "auth", FS: mustSub(migrationsFS, "migrations")}
}

// Role names a set of permissions held on an organization.
type Role string

const (
	RolePlatformAdmin     Role = "platform-admin"
	RoleAuthorityAgent    Role = "authority-agent"
	RoleTechnician        Role = "technician"
	RoleAcademyObserver   Role = "academy-observer"
	RoleEstablishmentHead Role = "establishment-head"
	RoleTeacher           Role = "teacher"
	RolePupil             Role = "pupil"
	RoleParent            Role = "parent"
)

// Roles lists every role, in the order the UI shows them.
var Roles = []Role{RolePlatformAdmin, RoleAuthorityAgent, RoleTechnician, RoleAcademyObserver,
	RoleEstablishmentHead, RoleTeacher, RolePupil, RoleParent}

// Label is the role's French name.
func (r Role) Label() string {
	switch r {
	case RolePlatformAdmin:
		return "Administrateur de la plateforme"
	case RoleAuthorityAgent:
		return "Agent de collectivité"
	case RoleTechnician:
		return "Technicien"
	case RoleAcademyObserver:
		return "Observateur académique (DANE)"
	case RoleEstablishmentHead:
		return "Chef d'établissement / directeur d'école"
	case RoleTeacher:
		return "Enseignant"
	case RolePupil:
		return "Élève"
	case RoleParent:
		return "Parent"
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Permission is an action a role allows on the organizations in its scope.
type Permission string

const (
	// PermOrgRead: read organizations, establishments and their figures.
	PermOrgRead Permission = "org.read"
	// PermImport: run imports of national referential data.
	PermImport Permission = "import.run"
	// PermUserManage: create accounts and grant roles.
	PermUserManage Permission = "user.manage"
	// PermCatalogRead: read the offer of services, conventions and calendars.
	PermCatalogRead Permission = "catalog.read"
	// PermCatalogManage: write the catalogue, conventions and calendars.
	PermCatalogManage Permission = "catalog.manage"
	// PermTicketCreate: open tickets for an establishment.
	PermTicketCreate Permission = "ticket.create"
	// PermTicketRead: read every ticket of an establishment (requesters
	// always read their own).
	PermTicketRead Permission = "ticket.read"
	// PermTicketWork: take, assign, escalate, pause, solve tickets.
	PermTicketWork Permission = "ticket.work"
	// PermReportRead: read service-quality reports.
	PermReportRead Permission = "report.read"
	// PermFleetRead: read the equipment of an establishment, its software,
	// ratios and renewal forecast.
	PermFleetRead Permission = "fleet.read"
	// PermFleetManage: create, change, import and retire assets, release
	// quarantined inventories.
	PermFleetManage Permission = "fleet.manage"
	// PermPeopleRead: read the people, classes and groups of an
	// establishment (further narrowed by the communication rules).
	PermPeopleRead Permission = "people.read"
	// PermPeopleManage: run the feed and the school-year rollover, adjust
	// communication rules, export or delete a person's data.
	PermPeopleManage Permission = "people.manage"
	// PermAssignmentCreate: ask classes, groups or pupils for a production.
	PermAssignmentCreate Permission = "assignment.create"
	// PermPlanRead: read targets, the survey of the existing, the gap,
	// priorities, the deployment plan and its programme.
	PermPlanRead Permission = "plan.read"
	// PermPlanManage: write targets, campaigns, weights, plans, operations
	// and scenarios.
	PermPlanManage Permission = "plan.manage"
	// PermSurveyAnswer: answer a campaign's questionnaire for an
	// establishment.
	PermSurveyAnswer Permission = "survey.answer"
	// PermGovernanceRead: read bodies, meetings, decisions, roadmaps,
	// indicators and committee files.
	PermGovernanceRead Permission = "governance.read"
	// PermGovernanceManage: run bodies and meetings, record decisions,
	// write roadmaps and declared indicator values.
	PermGovernanceManage Permission = "governance.manage"
	// PermProjectPropose: propose a project to the bodies.
	PermProjectPropose Permission = "project.propose"
)

// rolePermissions is the policy, least privilege first: pupils and parents
// read the territory's public facts of their school and nothing of its
// support; teachers open tickets; heads follow their school's tickets and
// quality; technicians work tickets and the fleet; agents also manage the
// offer, the deployment plan and, with the académie, the governance; heads
// run their school's feed, rollover and surveys; teachers see their pupils
// and set assignments.
var rolePermissions = map[Role][]Permission{
	RolePlatformAdmin: {PermOrgRead, PermImport, PermUserManage, PermCatalogRead, PermCatalogManage,
		PermTicketCreate, PermTicketRead, PermTicketWork, PermReportRead, PermFleetRead, PermFleetManage,
		PermPeopleRead, PermPeopleManage, PermAssignmentCreate, PermPlanRead, PermPlanManage, PermSurveyAnswer,
		PermGovernanceRead, PermGovernanceManage, PermProjectPropose},
	RoleAuthorityAgent: {PermOrgRead, PermCatalogRead, PermCatalogManage, PermTicketCreate, PermTicketRead,
		PermTicketWork, PermReportRead, PermFleetRead, PermFleetManage, PermPlanRead, PermPlanManage,
		PermGovernanceRead, PermGovernanceManage, PermProjectPropose},
	RoleTechnician: {PermOrgRead, PermCatalogRead, PermTicketCreate, PermTicketRead, PermTicketWork, PermReportRead,
		PermFleetRead, PermFleetManage},
	RoleAcademyObserver: {PermOrgRead, PermCatalogRead, PermTicketRead, PermReportRead, PermFleetRead, PermPlanRead,
		PermGovernanceRead, PermGovernanceManage, PermProjectPropose},
	RoleEstablishmentHead: {PermOrgRead, PermCatalogRead, PermTicketCreate, PermTicketRead, PermReportRead,
		PermFleetRead, PermPeopleRead, PermPeopleManage, PermAssignmentCreate, PermPlanRead, PermSurveyAnswer,
		PermGovernanceRead, PermProjectPropose},
	RoleTeacher: {PermOrgRead, PermTicketCreate, PermPeopleRead, PermAssignmentCreate},
	RolePupil:   {PermOrgRead},
	RoleParent:  {PermOrgRead},
}

// Allows reports whether the role carries the permission.
func (r Role) Allows(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// User is an account.
type User struct {
	ID          int64
	Email       string
	DisplayName string
	Disabled    bool
	CreatedAt   time.Time
	LastLoginAt *time.Time
}

// Grant is a role held on an organization (OrgID 0: the whole platform).
type Grant struct {
	ID        int64
	UserID    int64
	Role      Role
	OrgID     int64
	Recursive bool
}

// Principal is who is making a request: the user and their grants.
type Principal struct {
	User   User
	Grants []Grant
}

// IsAnonymous reports whether nobody is logged in.
func (p *Principal) IsAnonymous() bool { return p == nil || p.User.ID == 0 }

// Has reports whether any grant carries the permission, whatever its scope.
func (p *Principal) Has(perm Permission) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.Role.Allows(perm) {
			return true
		}
	}
	return false
}

// Global reports whether the permission is held on the whole platform.
func (p *Principal) Global(perm Permission) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.OrgID == 0 && g.Role.Allows(perm) {
			return true
		}
	}
	return false
}

// HasRole reports whether the principal holds the role anywhere.
func (p *Principal) HasRole(r Role) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.Role == r {
			return true
		}
	}
	return false
}

// ScopeSQL returns a condition, and its arguments, true for the rows whose
// organization id (the SQL expression col) lies within the principal's scope
// for perm: the organizations a grant names, and for recursive grants their
// descendants in org_closure. Services add it to every query that lists or
// fetches data, so a row outside the scope is simply not there.
func (p *Principal) ScopeSQL(perm Permission, col string) (string, []any) {
	if p.Global(perm) {
		return "1=1", nil
	}
	var named, recursive []any
	if p != nil {
		for _, g := range p.Grants {
			if g.OrgID == 0 || !g.Role.Allows(perm) {
				continue
			}
			named = append(named, g.OrgID)
			if g.Recursive {
				recursive = append(recursive, g.OrgID)
			}
		}
	}
	if len(named) == 0 {
		return "1=0", nil
	}
	cond := col + " IN (" + db.Placeholders(len(named)) + ")"
	if len(recursive) == 0 {
		return cond, named
	}
	return "(" + cond + " OR EXISTS (SELECT 1 FROM org_closure sc WHERE sc.descendant_id = " + col +
		" AND sc.ancestor_id IN (" + db.Placeholders(len(recursive)) + ")))", append(named, recursive...)
}

// System is the principal of local operators: the command line run on the
// server, which already has the database in hand. It holds the platform
// administrator role.
func System() *Principal {
	return &Principal{User: User{Email: "system", DisplayName: "Opérateur local"}, Grants: []Grant{{Role: RolePlatformAdmin}}}
}
