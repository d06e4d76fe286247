package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// ManagedOrganizations lists the organizations whose catalogue the caller
// manages (collectivités, académie…, not the schools), for the owner and
// provider fields of the forms; the service checks again on submission.
func (s *Service) ManagedOrganizations(ctx context.Context, p *auth.Principal) ([]Party, error) {
	if !p.Has(auth.PermCatalogManage) {
		return nil, problem.Forbidden()
	}
	scope, args := p.ScopeSQL(auth.PermCatalogManage, "o.id")
	if !p.Global(auth.PermCatalogManage) {
		// The organizations named in the grants, not everything under
		// them: a commune manages its catalogue, not its schools'.
		var named []any
		for _, g := range p.Grants {
			if g.OrgID != 0 && g.Role.Allows(auth.PermCatalogManage) {
				named = append(named, g.OrgID)
			}
		}
		if len(named) == 0 {
			return nil, nil
		}
		scope = "(" + scope + ") AND o.id IN (" + db.Placeholders(len(named)) + ")"
		args = append(slices.Clone(args), named...)
	}
	return s.store.Organizations(ctx, "o.kind <> 'establishment' AND "+scope, args)
}

// OrganizationByCode finds an organization by its code (the UAI of a
// school, the INSEE code of a commune…) for the beneficiary field of the
// convention form; the other party is often outside the caller's scope.
func (s *Service) OrganizationByCode(ctx context.Context, p *auth.Principal, code string) (Party, error) {
	if !p.Has(auth.PermCatalogManage) {
		return Party{}, problem.Forbidden()
	}
	list, err := s.store.Organizations(ctx, "UPPER(o.code) = ?", []any{strings.ToUpper(strings.TrimSpace(code))})
	if err != nil {
		return Party{}, err
	}
	if len(list) != 1 {
		return Party{}, problem.Invalid("unknown_organization", "Organisation inconnue : indiquez son code (UAI, code INSEE…).").Field("beneficiary_id", "Code inconnu ou ambigu.")
	}
	return list[0], nil
}

// ServiceUpdate changes a service: its description and status, new
// request types, and which existing ones stay active (a request type
// tickets refer to is deactivated, never deleted).
type ServiceUpdate struct {
	Family      string             `json:"family"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Status      ServiceStatus      `json:"status"`
	Active      map[int64]bool     `json:"active"`
	Add         []RequestTypeInput `json:"add"`
}

// UpdateService applies a ServiceUpdate to a service of a catalogue the
// caller manages.
func (s *Service) UpdateService(ctx context.Context, p *auth.Principal, id int64, in ServiceUpdate) (Offering, error) {
	if !p.Has(auth.PermCatalogManage) {
		return Offering{}, problem.Forbidden()
	}
	list, err := s.store.Services(ctx, "s.id = ?", []any{id})
	if err != nil {
		return Offering{}, err
	}
	if len(list) == 0 {
		return Offering{}, problem.NotFound("Service")
	}
	o := list[0]
	in.Family, in.Name, in.Description = strings.TrimSpace(in.Family), strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	bad := problem.Invalid("service_invalid", "Service invalide : corrigez les champs signalés.")
	faults := 0
	check := func(ok bool, field, msg string) {
		if !ok {
			bad, faults = bad.Field(field, msg), faults+1
		}
	}
	check(in.Family != "", "family", "La famille de services est requise.")
	check(in.Name != "", "name", "Le nom est requis.")
	check(in.Status.valid(), "status", "Statut inconnu (study, production ou retired).")
	seen := map[string]bool{}
	for _, rt := range o.RequestTypes {
		seen[rt.Name] = true
	}
	for i, rt := range in.Add {
		field := fmt.Sprintf("add[%d]", i)
		name := strings.TrimSpace(rt.Name)
		switch {
		case name == "":
			check(false, field, "Le nom du type de demande est requis.")
		case seen[name]:
			check(false, field, "Type de demande « "+name+" » en double.")
		case rt.Kind != KindIncident && rt.Kind != KindRequest:
			check(false, field, "Nature inconnue : incident ou request.")
		case rt.IMAC != "" && (rt.Kind != KindRequest || !validIMAC(rt.IMAC)):
			check(false, field, "Opération IMAC inconnue (install, move, add, change), réservée aux demandes.")
		}
		seen[name] = true
		in.Add[i].Name = name
	}
	if faults > 0 {
		return o, bad
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := s.managedOwner(ctx, tx, p, o.OwnerID); err != nil {
			if errors.Is(err, sql.ErrNoRows) || isProblemStatus(err, 404) {
				return problem.NotFound("Service")
			}
			return err
		}
		fam, err := s.store.EnsureFamily(ctx, tx, o.OwnerID, in.Family)
		if err != nil {
			return err
		}
		if err := s.store.UpdateService(ctx, tx, id, fam, in.Name, in.Description, in.Status, s.now()); err != nil {
			return err
		}
		for _, rt := range o.RequestTypes {
			if active := in.Active[rt.ID]; active != rt.Active {
				if err := s.store.SetRequestTypeActive(ctx, tx, id, rt.ID, active); err != nil {
					return err
				}
			}
		}
		for _, rt := range in.Add {
			if err := s.store.AddRequestType(ctx, tx, id, RequestType{Kind: rt.Kind, IMAC: rt.IMAC, Name: rt.Name, Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return o, err
	}
	return s.Offering(ctx, p, id)
}

func isProblemStatus(err error, status int) bool {
	pe, ok := problem.As(err)
	return ok && pe.Status == status
}

// UpdateTeam renames a team or changes its level, contractor flag or
// address; the caller must manage the team's organization.
func (s *Service) UpdateTeam(ctx context.Context, p *auth.Principal, t Team) (Team, error) {
	if !p.Has(auth.PermCatalogManage) {
		return t, problem.Forbidden()
	}
	t.Name, t.Email = strings.TrimSpace(t.Name), strings.TrimSpace(t.Email)
	if t.Name == "" || (t.Level != "N1" && t.Level != "N2" && t.Level != "N3") {
		return t, problem.Invalid("team_invalid", "Équipe invalide : un nom et un niveau (N1, N2 ou N3) sont requis.")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.store.Teams(ctx, tx, []int64{t.ID})
		if err != nil {
			return err
		}
		old, ok := cur[t.ID]
		if !ok {
			return problem.NotFound("Équipe")
		}
		if _, err := s.managedOwner(ctx, tx, p, old.OrgID); err != nil {
			if isProblemStatus(err, 404) {
				return problem.NotFound("Équipe")
			}
			return err
		}
		t.OrgID = old.OrgID
		if err := s.store.UpdateTeam(ctx, tx, t); err != nil {
			if db.IsUniqueViolation(err) {
				return problem.Conflict("team_name_taken", "Une équipe « "+t.Name+" » existe déjà.").Field("name", "Nom déjà utilisé.").Wrap(err)
			}
			return err
		}
		return nil
	})
	return t, err
}

// UpdateCalendar replaces a calendar's name, hours, holidays and closures,
// validated as a new one. Open tickets' deadlines follow the new calendar
// from their next recomputation, like an amended convention.
func (s *Service) UpdateCalendar(ctx context.Context, p *auth.Principal, id int64, in CalendarInput) (BusinessCalendar, error) {
	if !p.Has(auth.PermCatalogManage) {
		return BusinessCalendar{}, problem.Forbidden()
	}
	list, err := s.store.Calendars(ctx, "c.id = ?", []any{id})
	if err != nil {
		return BusinessCalendar{}, err
	}
	if len(list) == 0 {
		return BusinessCalendar{}, problem.NotFound("Calendrier")
	}
	bc := BusinessCalendar{ID: id, OwnerID: list[0].OwnerID, Owner: list[0].Owner, Name: strings.TrimSpace(in.Name),
		SchoolHolidayZone: strings.TrimSpace(in.SchoolHolidayZone),
		Spec:              Spec{TimeZone: strings.TrimSpace(in.TimeZone), Hours: in.Hours, HolidayOptions: in.HolidayOptions, Closures: in.Closures}}
	if bc.Spec.TimeZone == "" {
		bc.Spec.TimeZone = list[0].Spec.TimeZone
	}
	bc.Spec.OpenOnPublicHolidays = in.PublicHolidays != nil && !*in.PublicHolidays
	bc.Spec.ClosedDuringSchoolHolidays = bc.SchoolHolidayZone != ""
	// The owner first: whoever does not manage it learns nothing of the
	// calendar, not even that the form is invalid.
	if _, err := s.managedOwner(ctx, s.db, p, bc.OwnerID); err != nil {
		if isProblemStatus(err, 404) {
			return bc, problem.NotFound("Calendrier")
		}
		return bc, err
	}
	if bc.Name == "" {
		return bc, problem.Invalid("calendar_invalid", "Calendrier invalide : le nom est requis.").Field("name", "Le nom est requis.")
	}
	// Compiled before the write transaction, which stays short.
	if _, err := s.compile(ctx, bc); err != nil {
		return bc, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := s.store.UpdateCalendar(ctx, tx, bc, s.now()); err != nil {
			if db.IsUniqueViolation(err) {
				return problem.Conflict("calendar_name_taken", "Un calendrier « "+bc.Name+" » existe déjà pour cette organisation.").Field("name", "Nom déjà utilisé.").Wrap(err)
			}
			return err
		}
		return nil
	})
	return bc, err
}
