package demo

import (
	"context"
	"fmt"

	"socle/internal/platform/auth"
	"socle/internal/territory"
)

// accountSpec is a demo account and the grant it holds.
type accountSpec struct {
	Account
	role      auth.Role
	org       orgKey // zero for the platform-wide role
	recursive bool
}

// Accounts lists the demo accounts (without touching the database).
func Accounts() []Account { return accountsOf(generate()) }

func accountsOf(p *plan) []Account {
	specs := accountSpecs(p)
	out := make([]Account, len(specs))
	for i, s := range specs {
		out[i] = s.Account
	}
	return out
}

// accountSpecs gives one account per role, each on the organization where
// that role makes sense: the école and collège are picked from the
// chef-lieu, away from the priority networks, so they are ordinary ones.
func accountSpecs(p *plan) []accountSpec {
	ecole, college := p.demoEcole(), p.demoCollege()
	dep := orgKey{territory.KindDepartement, departementCode}
	acc := func(email, name string, role auth.Role, org orgKey, recursive bool, scope string) accountSpec {
		return accountSpec{Account: Account{Email: email, Password: Password, Role: role.Label(), DisplayName: name, Scope: scope},
			role: role, org: org, recursive: recursive}
	}
	ecoleKey := orgKey{territory.KindEstablishment, ecole.UAI}
	ecoleScope := fmt.Sprintf("%s (%s)", ecole.Name, ecole.CommuneName)
	return []accountSpec{
		acc("admin@demo.socle.fr", "Alex Martin — administrateur de la plateforme", auth.RolePlatformAdmin, orgKey{}, false,
			"Toute la plateforme"),
		acc("agent.departement@demo.socle.fr", "Claire Dubois — agent du Département", auth.RoleAuthorityAgent, dep, true,
			"Département "+departementName+" et ses collèges"),
		acc("agent.commune@demo.socle.fr", "Yann Le Goff — agent de la Ville de "+p.chefLieu.name, auth.RoleAuthorityAgent,
			orgKey{territory.KindCommune, p.chefLieu.code}, true, "Commune de "+p.chefLieu.name+" et ses écoles"),
		acc("agent.metropole@demo.socle.fr", "Sophie Le Bihan — agent de la Métropole", auth.RoleAuthorityAgent,
			orgKey{territory.KindEPCI, epciCode}, true, fmt.Sprintf("%s et les écoles de ses %d communes", epciName, p.epciMembers())),
		acc("technicien@demo.socle.fr", "Karim Benali — technicien du Département", auth.RoleTechnician, dep, true,
			"Département "+departementName+" et ses collèges"),
		acc("dane@demo.socle.fr", "Nathalie Guillou — DANE", auth.RoleAcademyObserver, orgKey{territory.KindAcademy, academyCode}, true,
			academyName+" et tous ses établissements"),
		acc("direction.ecole@demo.socle.fr", "Marc Lefebvre — directeur d'école", auth.RoleEstablishmentHead, ecoleKey, false, ecoleScope),
		acc("principal.college@demo.socle.fr", "Isabelle Moreau — principale de collège", auth.RoleEstablishmentHead,
			orgKey{territory.KindEstablishment, college.UAI}, false, fmt.Sprintf("%s (%s)", college.Name, college.CommuneName)),
		acc("enseignant@demo.socle.fr", "Julien Rolland — professeur des écoles", auth.RoleTeacher, ecoleKey, false, ecoleScope),
		acc("eleve@demo.socle.fr", "Léa Tanguy — élève de CM1", auth.RolePupil, ecoleKey, false, ecoleScope),
		acc("parent@demo.socle.fr", "Gwenaëlle Tanguy — parent d'élève", auth.RoleParent, ecoleKey, false, ecoleScope),
	}
}

// demoEcole is the école of the school-level accounts: the chef-lieu's
// first public élémentaire outside éducation prioritaire.
func (p *plan) demoEcole() *school {
	return p.first(func(s *school) bool {
		return s.commune == p.chefLieu && s.kind == kindElementaire && s.public() && s.Priority == territory.PriorityNone
	})
}

// demoCollege is the collège of the principal's account, chosen likewise.
func (p *plan) demoCollege() *school {
	return p.first(func(s *school) bool {
		return s.commune == p.chefLieu && s.kind == kindCollege && s.public() && s.Priority == territory.PriorityNone
	})
}

// first returns the first school that matches. The generator always makes
// the schools the accounts need, so a miss is a bug in the generator.
func (p *plan) first(match func(*school) bool) *school {
	for _, s := range p.schools {
		if match(s) {
			return s
		}
	}
	panic("demo: the generated territory lacks a school an account needs")
}

func (p *plan) epciMembers() int {
	n := 0
	for _, c := range p.communes {
		if c.inEPCI {
			n++
		}
	}
	return n
}

// createAccounts creates the accounts through the auth service, which
// checks and hashes them as for any account.
func createAccounts(ctx context.Context, w *seeder) error {
	for _, s := range accountSpecs(w.plan) {
		g := auth.Grant{Role: s.role, Recursive: s.recursive}
		if s.org != (orgKey{}) {
			id, err := w.orgID(s.org)
			if err != nil {
				return err
			}
			g.OrgID = id
		}
		id, err := w.auth.CreateUser(ctx, auth.NewUser{Email: s.Email, DisplayName: s.DisplayName, Password: s.Password, Grants: []auth.Grant{g}})
		if err != nil {
			return fmt.Errorf("create account %s: %w", s.Email, err)
		}
		w.users[s.Email] = id
	}
	return nil
}
