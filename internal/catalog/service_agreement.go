package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Agreements lists the readable conventions, soonest ending first, with
// their effective status and near-expiry flag.
func (s *Service) Agreements(ctx context.Context, p *auth.Principal) ([]Agreement, error) {
	cond, args := readAgreementSQL(p, "a")
	list, err := s.store.Agreements(ctx, cond, args)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []Agreement{}
	}
	today := s.today()
	for i := range list {
		s.decorate(&list[i], today)
	}
	return list, nil
}

// decorate sets what is computed from today.
func (s *Service) decorate(a *Agreement, today Date) {
	a.Status = a.EffectiveStatus(today)
	left := a.ValidUntil.days() - today.days()
	a.NearExpiry = a.Status == AgreementSigned && left >= 0 && left < NearExpiryDays
}

// Agreement returns a readable convention with its establishments and
// covered services.
func (s *Service) Agreement(ctx context.Context, p *auth.Principal, id int64) (Agreement, error) {
	cond, args := readAgreementSQL(p, "a")
	a, err := s.store.Agreement(ctx, s.db, id, cond, args)
	if err != nil {
		return a, errNotFound(err, "Convention")
	}
	s.decorate(&a, s.today())
	return a, nil
}

// AgreementInput is a new convention.
type AgreementInput struct {
	Kind          AgreementKind `json:"kind"`
	Reference     string        `json:"reference"`
	Title         string        `json:"title"`
	ProviderID    int64         `json:"provider_id"`
	BeneficiaryID int64         `json:"beneficiary_id"`
	FrameworkID   int64         `json:"framework_id,omitempty"`
	ValidFrom     string        `json:"valid_from"`
	ValidUntil    string        `json:"valid_until"`
	// Status is draft (the default) or signed.
	Status   AgreementStatus `json:"status"`
	SignedOn string          `json:"signed_on,omitempty"`
	// Coverage "listed" names Establishments by UAI; "maintained" covers
	// every establishment CoverageAuthorityID maintains.
	Coverage            string                `json:"coverage"`
	Establishments      []string              `json:"establishments,omitempty"`
	CoverageAuthorityID int64                 `json:"coverage_authority_id,omitempty"`
	SurveyEnabled       *bool                 `json:"survey_enabled,omitempty"`
	Services            []CoveredServiceInput `json:"services"`
}

// CoveredServiceInput is a service a new convention covers.
type CoveredServiceInput struct {
	ServiceID  int64        `json:"service_id"`
	CalendarID int64        `json:"calendar_id"`
	N1TeamID   int64        `json:"n1_team_id,omitempty"`
	N2TeamID   int64        `json:"n2_team_id,omitempty"`
	N3TeamID   int64        `json:"n3_team_id,omitempty"`
	Levels     []LevelInput `json:"levels"`
}

// LevelInput is a service level as typed: delays are text ("4h", "3d"),
// parsed here so a bad one gets a message naming its row.
type LevelInput struct {
	RequestKind string `json:"request_kind"`
	Priority    int    `json:"priority"`
	TTO         string `json:"tto"`
	TTR         string `json:"ttr"`
}

// invalid collects the faults of a form.
type invalid struct {
	code, msg string
	fields    map[string]string
	first     string
}

func (v *invalid) add(field, msg string) {
	if v.fields == nil {
		v.fields = map[string]string{}
		v.first = msg
	}
	if _, dup := v.fields[field]; !dup {
		v.fields[field] = msg
	}
}

func (v *invalid) err() error {
	if v.fields == nil {
		return nil
	}
	// The first fault in the message: an API client reading only the
	// message still learns what to fix first.
	e := problem.Invalid(v.code, v.msg+" "+v.first)
	for k, m := range v.fields {
		e = e.Field(k, m)
	}
	return e
}

// CreateAgreement validates and stores a convention, all of it or nothing:
// the rows are written in one transaction, which is rolled back when the
// convention overlaps another for the same school, service and period.
func (s *Service) CreateAgreement(ctx context.Context, p *auth.Principal, in AgreementInput) (Agreement, error) {
	if !p.Has(auth.PermCatalogManage) {
		return Agreement{}, problem.Forbidden()
	}
	a := Agreement{Kind: in.Kind, Reference: strings.TrimSpace(in.Reference), Title: strings.TrimSpace(in.Title),
		FrameworkID: in.FrameworkID, Status: in.Status, SignedOn: strings.TrimSpace(in.SignedOn), Coverage: in.Coverage,
		SurveyEnabled: in.SurveyEnabled == nil || *in.SurveyEnabled}
	if a.Kind == "" {
		a.Kind = KindService
	}
	if a.Status == "" {
		a.Status = AgreementDraft
	}
	if a.Coverage == "" {
		a.Coverage = CoverageListed
	}
	v := invalid{code: "agreement_invalid", msg: "Convention invalide :"}
	if a.Kind != KindFramework && a.Kind != KindService {
		v.add("kind", "Nature inconnue : framework (convention-cadre) ou service.")
	}
	if a.Reference == "" || len(a.Reference) > 60 {
		v.add("reference", "La référence est requise (60 caractères au plus).")
	}
	if a.Title == "" {
		v.add("title", "L'intitulé est requis.")
	}
	if a.Status != AgreementDraft && a.Status != AgreementSigned {
		v.add("status", "Une nouvelle convention est en projet (draft) ou signée (signed).")
	}
	if a.SignedOn != "" {
		if _, err := ParseDate(a.SignedOn); err != nil {
			v.add("signed_on", "Date de signature invalide (AAAA-MM-JJ).")
		}
	}
	var errFrom, errUntil error
	a.ValidFrom, errFrom = ParseDate(in.ValidFrom)
	a.ValidUntil, errUntil = ParseDate(in.ValidUntil)
	switch {
	case errFrom != nil:
		v.add("valid_from", fmt.Sprintf("Date de début « %s » invalide (AAAA-MM-JJ).", in.ValidFrom))
	case errUntil != nil:
		v.add("valid_until", fmt.Sprintf("Date de fin « %s » invalide (AAAA-MM-JJ).", in.ValidUntil))
	case a.ValidUntil.days() < a.ValidFrom.days():
		// Its own code, and its message first: it is the fault clients
		// most often need to tell apart.
		msg := fmt.Sprintf("La date de fin (%s) précède la date de début (%s).", frDate(a.ValidUntil), frDate(a.ValidFrom))
		v.code = "agreement_dates_invalid"
		v.add("valid_until", msg)
		v.first = msg
	}
	switch a.Coverage {
	case CoverageListed:
		if a.Kind == KindService && len(in.Establishments) == 0 {
			v.add("establishments", "Indiquez au moins un établissement couvert (UAI), ou couvrez tous les établissements entretenus par une collectivité.")
		}
	case CoverageMaintained:
		if in.CoverageAuthorityID == 0 {
			v.add("coverage_authority_id", "Indiquez la collectivité dont tous les établissements entretenus sont couverts.")
		}
	default:
		v.add("coverage", "Couverture inconnue : listed (établissements listés) ou maintained (établissements entretenus par une collectivité).")
	}
	seenSvc := map[int64]bool{}
	for i, cs := range in.Services {
		field := fmt.Sprintf("services[%d]", i)
		if cs.ServiceID == 0 || seenSvc[cs.ServiceID] {
			v.add(field+".service_id", "Service absent ou en double.")
			continue
		}
		seenSvc[cs.ServiceID] = true
		if cs.CalendarID == 0 {
			v.add(field+".calendar_id", "Le calendrier ouvré sur lequel courent les délais est requis.")
		}
		out := CoveredService{ServiceID: cs.ServiceID, CalendarID: cs.CalendarID, Levels: []ServiceLevel{}}
		if cs.N1TeamID != 0 {
			out.N1 = &Team{ID: cs.N1TeamID}
		}
		if cs.N2TeamID != 0 {
			out.N2 = &Team{ID: cs.N2TeamID}
		}
		if cs.N3TeamID != 0 {
			out.N3 = &Team{ID: cs.N3TeamID}
		}
		seenLevel := map[[2]any]bool{}
		for j, l := range cs.Levels {
			lf := fmt.Sprintf("%s.levels[%d]", field, j)
			if l.RequestKind != KindIncident && l.RequestKind != KindRequest {
				v.add(lf+".request_kind", "Nature inconnue : incident ou request.")
				continue
			}
			if l.Priority < 1 || l.Priority > 5 {
				v.add(lf+".priority", "La priorité va de 1 (très haute) à 5 (très basse).")
				continue
			}
			key := [2]any{l.RequestKind, l.Priority}
			if seenLevel[key] {
				v.add(lf, fmt.Sprintf("Niveau %s de priorité %d en double.", KindLabel(l.RequestKind), l.Priority))
				continue
			}
			seenLevel[key] = true
			lv := ServiceLevel{RequestKind: l.RequestKind, Priority: l.Priority}
			var err error
			if lv.TTO, err = ParseDelay(l.TTO); err != nil {
				v.add(lf+".tto", problemMessage(err))
			}
			if lv.TTR, err = ParseDelay(l.TTR); err != nil {
				v.add(lf+".ttr", problemMessage(err))
			}
			out.Levels = append(out.Levels, lv)
		}
		a.Services = append(a.Services, out)
	}
	if a.Kind == KindService && len(in.Services) == 0 {
		v.add("services", "Une convention de service couvre au moins un service.")
	}
	if err := v.err(); err != nil {
		return a, err
	}

	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if a.Provider, err = s.managedOwner(ctx, tx, p, in.ProviderID); err != nil {
			return err
		}
		if a.Beneficiary, err = s.orgExists(ctx, tx, in.BeneficiaryID, "beneficiary_id", "Bénéficiaire"); err != nil {
			return err
		}
		if a.Provider.ID == a.Beneficiary.ID {
			return problem.Invalid("agreement_invalid", "Convention invalide : les deux parties doivent être distinctes.").Field("beneficiary_id", "Partie identique au prestataire.")
		}
		if a.Coverage == CoverageMaintained {
			authority, err := s.orgExists(ctx, tx, in.CoverageAuthorityID, "coverage_authority_id", "Collectivité couverte")
			if err != nil {
				return err
			}
			a.CoverageAuthority = &authority
		} else if err := s.resolveEstablishments(ctx, tx, &a, in.Establishments); err != nil {
			return err
		}
		if err := s.checkReferences(ctx, tx, &a); err != nil {
			return err
		}
		if err := s.store.InsertAgreement(ctx, tx, &a); err != nil {
			if db.IsUniqueViolation(err) {
				return problem.Conflict("agreement_reference_taken", "Une convention de référence « "+a.Reference+" » existe déjà.").Field("reference", "Référence déjà utilisée.").Wrap(err)
			}
			return err
		}
		return s.checkOverlaps(ctx, tx, a.ID)
	})
	if err != nil {
		return Agreement{}, err
	}
	return s.Agreement(ctx, p, a.ID)
}

// checkOverlaps refuses a convention that promises a service to a school
// another draft or signed convention already promises it over a shared
// period: the helpdesk could not tell which levels apply.
func (s *Service) checkOverlaps(ctx context.Context, q db.Querier, id int64) error {
	over, err := s.store.Overlaps(ctx, q, id)
	if err != nil || len(over) == 0 {
		return err
	}
	o := over[0]
	return problem.Conflict("agreement_overlap", fmt.Sprintf(
		"La convention chevauche la convention « %s » : le service « %s » y est déjà promis à %s (%s) sur une partie de la même période.",
		o.Reference, o.Service, o.Establishment, o.UAI))
}

// resolveEstablishments turns the UAIs of a listed convention into ids.
func (s *Service) resolveEstablishments(ctx context.Context, q db.Querier, a *Agreement, uais []string) error {
	var clean []string
	seen := map[string]bool{}
	for _, u := range uais {
		u = strings.ToUpper(strings.TrimSpace(u))
		if u != "" && !seen[u] {
			seen[u] = true
			clean = append(clean, u)
		}
	}
	ids, err := s.store.EstablishmentIDsByUAI(ctx, q, clean)
	if err != nil {
		return err
	}
	var unknown []string
	for _, u := range clean {
		id, ok := ids[u]
		if !ok {
			unknown = append(unknown, u)
			continue
		}
		a.Establishments = append(a.Establishments, Establishment{ID: id, UAI: u})
	}
	if len(unknown) > 0 {
		return problem.Invalid("unknown_establishment", "Établissement(s) inconnu(s) : "+strings.Join(unknown, ", ")+".").Field("establishments", "UAI inconnu.")
	}
	return nil
}

// checkReferences verifies that the services, calendars, teams and
// framework a convention names exist, and that services and calendars
// belong to the provider: a convention promises what its provider runs.
func (s *Service) checkReferences(ctx context.Context, q db.Querier, a *Agreement) error {
	if a.FrameworkID != 0 {
		var kind string
		err := q.QueryRowContext(ctx, `SELECT kind FROM agreements WHERE id = ?`, a.FrameworkID).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(KindFramework)) {
			return problem.Invalid("agreement_invalid", "Convention invalide : la convention-cadre indiquée est inconnue.").Field("framework_id", "Convention-cadre inconnue.")
		}
		if err != nil {
			return fmt.Errorf("check framework: %w", err)
		}
	}
	for i, cs := range a.Services {
		field := fmt.Sprintf("services[%d]", i)
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM services WHERE id = ? AND owner_id = ?`, cs.ServiceID, a.Provider.ID).Scan(&n); err != nil {
			return fmt.Errorf("check service %d: %w", cs.ServiceID, err)
		}
		if n == 0 {
			return problem.Invalid("agreement_invalid", fmt.Sprintf("Convention invalide : le service n° %d n'existe pas dans le catalogue du prestataire.", cs.ServiceID)).Field(field+".service_id", "Service inconnu.")
		}
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM business_calendars WHERE id = ? AND owner_id = ?`, cs.CalendarID, a.Provider.ID).Scan(&n); err != nil {
			return fmt.Errorf("check calendar %d: %w", cs.CalendarID, err)
		}
		if n == 0 {
			return problem.Invalid("agreement_invalid", fmt.Sprintf("Convention invalide : le calendrier n° %d n'existe pas chez le prestataire.", cs.CalendarID)).Field(field+".calendar_id", "Calendrier inconnu.")
		}
		var ids []int64
		for _, t := range []*Team{cs.N1, cs.N2, cs.N3} {
			if t != nil {
				ids = append(ids, t.ID)
			}
		}
		teams, err := s.store.Teams(ctx, q, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, ok := teams[id]; !ok {
				return problem.Invalid("agreement_invalid", fmt.Sprintf("Convention invalide : l'équipe n° %d est inconnue.", id)).Field(field, "Équipe inconnue.")
			}
		}
	}
	return nil
}

// SetAgreementStatus moves a convention through its life: draft → signed →
// expired or terminated. Signing checks overlaps again, since a draft may
// have been written beside another draft signed first.
func (s *Service) SetAgreementStatus(ctx context.Context, p *auth.Principal, id int64, status AgreementStatus) (Agreement, error) {
	if !p.Has(auth.PermCatalogManage) {
		return Agreement{}, problem.Forbidden()
	}
	if !status.valid() {
		return Agreement{}, problem.Invalid("status_invalid", "Statut inconnu : draft, signed, expired ou terminated.").Field("status", "Statut inconnu.")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := s.managedAgreement(ctx, tx, p, id)
		if err != nil {
			return err
		}
		allowed := map[AgreementStatus][]AgreementStatus{
			AgreementDraft:  {AgreementSigned, AgreementTerminated},
			AgreementSigned: {AgreementExpired, AgreementTerminated},
		}
		ok := false
		for _, to := range allowed[a.Status] {
			ok = ok || to == status
		}
		if !ok {
			return problem.Conflict("status_transition", fmt.Sprintf("Une convention « %s » ne peut pas passer à « %s ».", a.Status.Label(), status.Label()))
		}
		signedOn := ""
		if status == AgreementSigned {
			signedOn = s.today().String()
		}
		if err := s.store.SetStatus(ctx, tx, id, status, signedOn); err != nil {
			return err
		}
		if status == AgreementSigned {
			return s.checkOverlaps(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return Agreement{}, err
	}
	return s.Agreement(ctx, p, id)
}

// managedAgreement returns a convention whose provider the caller manages,
// 404 otherwise (even when they may read it: they cannot act on it, and
// the answer must not differ from "does not exist" for outsiders).
func (s *Service) managedAgreement(ctx context.Context, q db.Querier, p *auth.Principal, id int64) (Agreement, error) {
	scope, args := p.ScopeSQL(auth.PermCatalogManage, "a.party_a_id")
	a, err := s.store.Agreement(ctx, q, id, scope, args)
	return a, errNotFound(err, "Convention")
}

// CanManageAgreement reports whether the caller may change the convention,
// so that pages offer only the forms that will be accepted.
func (s *Service) CanManageAgreement(ctx context.Context, p *auth.Principal, id int64) bool {
	if !p.Has(auth.PermCatalogManage) {
		return false
	}
	_, err := s.managedAgreement(ctx, s.db, p, id)
	return err == nil
}

// Coverage returns the coverage of (establishment, service) at instant at,
// or (nil, nil) when no signed convention covers it. It checks no
// permission: the helpdesk calls it for a ticket it already authorized.
func (s *Service) Coverage(ctx context.Context, establishmentID, serviceID int64, at time.Time) (*Coverage, error) {
	row, err := s.store.CoverageAt(ctx, establishmentID, serviceID, DateOf(at.In(s.loc)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("coverage of establishment %d service %d: %w", establishmentID, serviceID, err)
	}
	cs, err := s.store.CoveredService(ctx, row.agreementServiceID)
	if err != nil {
		return nil, fmt.Errorf("coverage of establishment %d service %d: %w", establishmentID, serviceID, err)
	}
	c := &Coverage{AgreementID: row.agreementID, AgreementServiceID: row.agreementServiceID, AgreementReference: row.reference,
		AgreementTitle: row.title, CalendarID: cs.CalendarID, Levels: cs.Levels, SurveyEnabled: row.survey}
	c.N1TeamID, c.N2TeamID, c.N3TeamID = teamID(cs.N1), teamID(cs.N2), teamID(cs.N3)
	if cs.CalendarID != 0 {
		if c.Calendar, err = s.Calendar(ctx, cs.CalendarID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func frDate(d Date) string { return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year) }

// problemMessage is the French message of a problem, or a generic one.
func problemMessage(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Message
	}
	return "Valeur invalide."
}

func teamID(t *Team) int64 {
	if t == nil {
		return 0
	}
	return t.ID
}
