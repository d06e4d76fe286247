package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service is the rules of the catalogue. A catalogue entry, convention or
// calendar belongs to an owner organization: reading needs PermCatalogRead
// on the owner, on the other party of a convention, or on an establishment
// a convention covers; writing needs PermCatalogManage on the owner. What
// lies outside the caller's scope does not exist for them (404).
type Service struct {
	db    *db.DB
	store *Store
	log   *slog.Logger
	// files is the root under which signed documents are kept.
	files string
	// maxDocument bounds an uploaded document.
	maxDocument int64
	measured    MeasuredLevels
	now         func() time.Time
	// loc is Europe/Paris, the zone conventions are dated in, loaded once.
	loc *time.Location
}

// DefaultMaxDocument bounds a signed convention: scanned PDFs of a few
// dozen pages fit, a mistaken video does not.
const DefaultMaxDocument = 20 << 20

// NewService builds the service; files is the directory (under the data
// directory) where signed documents are written.
func NewService(d *db.DB, files string, log *slog.Logger) *Service {
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		// Without a tz database (the binary embeds time/tzdata, tests
		// may not) dates fall back to UTC rather than failing start-up.
		loc = time.UTC
	}
	return &Service{db: d, store: NewStore(d), log: log, files: files, maxDocument: DefaultMaxDocument, now: time.Now, loc: loc}
}

// Store exposes the store to wiring code (demo data, tests).
func (s *Service) Store() *Store { return s.store }

// SetMeasuredLevels plugs in the helpdesk's measures. It is called once
// while wiring, before serving: the helpdesk is built on the catalogue, so
// it cannot be a constructor argument.
func (s *Service) SetMeasuredLevels(m MeasuredLevels) { s.measured = m }

// today is the current day in Paris, the day conventions are dated in.
func (s *Service) today() Date { return DateOf(s.now().In(s.loc)) }

// ---- scope ----

// readAgreementSQL is true for the conventions (alias a) the principal may
// read: either party in scope, or a covered establishment in scope.
func readAgreementSQL(p *auth.Principal, a string) (string, []any) {
	if p.Global(auth.PermCatalogRead) {
		return "1=1", nil
	}
	if !p.Has(auth.PermCatalogRead) {
		return "1=0", nil
	}
	ca, aa := p.ScopeSQL(auth.PermCatalogRead, a+".party_a_id")
	cb, ab := p.ScopeSQL(auth.PermCatalogRead, a+".party_b_id")
	ce, ae := p.ScopeSQL(auth.PermCatalogRead, "rae.establishment_id")
	cr, ar := p.ScopeSQL(auth.PermCatalogRead, "rr.establishment_id")
	cond := "(" + ca + " OR " + cb +
		" OR EXISTS (SELECT 1 FROM agreement_establishments rae WHERE rae.agreement_id = " + a + ".id AND " + ce + ")" +
		" OR (" + a + ".coverage = 'maintained' AND EXISTS (SELECT 1 FROM responsibilities rr WHERE rr.domain = 'maintenance' AND rr.authority_id = " +
		a + ".coverage_authority_id AND " + cr + ")))"
	args := append(append(append(aa, ab...), ae...), ar...)
	return cond, args
}

// readOwnedSQL is true for a service or calendar whose owner (ownerCol) is
// in scope, or that a readable convention uses (usedBy: the
// agreement_services column pointing at it, idCol its id).
func readOwnedSQL(p *auth.Principal, ownerCol, usedBy, idCol string) (string, []any) {
	if p.Global(auth.PermCatalogRead) {
		return "1=1", nil
	}
	if !p.Has(auth.PermCatalogRead) {
		return "1=0", nil
	}
	co, ao := p.ScopeSQL(auth.PermCatalogRead, ownerCol)
	ca, aa := readAgreementSQL(p, "ua")
	return "(" + co + " OR EXISTS (SELECT 1 FROM agreement_services ux JOIN agreements ua ON ua.id = ux.agreement_id WHERE ux." +
		usedBy + " = " + idCol + " AND " + ca + "))", append(ao, aa...)
}

// managedOwner checks that the principal manages the catalogue of owner.
func (s *Service) managedOwner(ctx context.Context, q db.Querier, p *auth.Principal, ownerID int64) (Party, error) {
	if !p.Has(auth.PermCatalogManage) {
		return Party{}, problem.Forbidden()
	}
	scope, args := p.ScopeSQL(auth.PermCatalogManage, "o.id")
	o, err := s.store.OrgName(ctx, q, ownerID, scope, args)
	if errors.Is(err, sql.ErrNoRows) {
		return o, problem.NotFound("Organisation").Field("owner_id", "Organisation inconnue ou hors de votre périmètre.")
	}
	if err != nil {
		return o, fmt.Errorf("check owner %d: %w", ownerID, err)
	}
	return o, nil
}

// orgExists returns any organization by id, whoever asks: the other party
// of a convention is usually outside the provider's scope.
func (s *Service) orgExists(ctx context.Context, q db.Querier, id int64, field, what string) (Party, error) {
	o, err := s.store.OrgName(ctx, q, id, "1=1", nil)
	if errors.Is(err, sql.ErrNoRows) {
		return o, problem.Invalid("unknown_organization", what+" : organisation inconnue.").Field(field, "Organisation inconnue.")
	}
	return o, err
}

// ---- catalogue ----

// Catalog lists the readable services grouped by family, in catalogue
// order (families of the same owner together).
func (s *Service) Catalog(ctx context.Context, p *auth.Principal) ([]Family, error) {
	cond, args := readOwnedSQL(p, "s.owner_id", "service_id", "s.id")
	list, err := s.store.Services(ctx, cond, args)
	if err != nil {
		return nil, err
	}
	var out []Family
	for _, o := range list {
		if k := len(out) - 1; k >= 0 && out[k].ID == o.FamilyID {
			out[k].Services = append(out[k].Services, o)
			continue
		}
		out = append(out, Family{ID: o.FamilyID, OwnerID: o.OwnerID, Name: o.FamilyName, Services: []Offering{o}})
	}
	return out, nil
}

// Services lists the readable services.
func (s *Service) Services(ctx context.Context, p *auth.Principal) ([]Offering, error) {
	cond, args := readOwnedSQL(p, "s.owner_id", "service_id", "s.id")
	list, err := s.store.Services(ctx, cond, args)
	if list == nil {
		list = []Offering{}
	}
	return list, err
}

// Offering returns one readable service.
func (s *Service) Offering(ctx context.Context, p *auth.Principal, id int64) (Offering, error) {
	cond, args := readOwnedSQL(p, "s.owner_id", "service_id", "s.id")
	list, err := s.store.Services(ctx, "s.id = ? AND "+cond, append([]any{id}, args...))
	if err != nil {
		return Offering{}, err
	}
	if len(list) == 0 {
		return Offering{}, problem.NotFound("Service")
	}
	return list[0], nil
}

// ServiceInput is a new service.
type ServiceInput struct {
	OwnerID      int64              `json:"owner_id"`
	Family       string             `json:"family"`
	Code         string             `json:"code"`
	Name         string             `json:"name"`
	Description  string             `json:"description"`
	Status       ServiceStatus      `json:"status"`
	RequestTypes []RequestTypeInput `json:"request_types"`
}

// RequestTypeInput is a request type of a new service.
type RequestTypeInput struct {
	Kind string `json:"kind"`
	IMAC string `json:"imac"`
	Name string `json:"name"`
}

// CreateService adds a service to its owner's catalogue, in the family
// named (created when new).
func (s *Service) CreateService(ctx context.Context, p *auth.Principal, in ServiceInput) (Offering, error) {
	if !p.Has(auth.PermCatalogManage) {
		return Offering{}, problem.Forbidden()
	}
	o := Offering{OwnerID: in.OwnerID, FamilyName: strings.TrimSpace(in.Family), Code: strings.TrimSpace(in.Code),
		Name: strings.TrimSpace(in.Name), Description: strings.TrimSpace(in.Description), Status: in.Status, RequestTypes: []RequestType{}}
	if o.Status == "" {
		o.Status = StatusStudy
	}
	bad := problem.Invalid("service_invalid", "Service invalide : corrigez les champs signalés.")
	var fields []string
	check := func(ok bool, field, msg string) {
		if !ok {
			bad = bad.Field(field, msg)
			fields = append(fields, field)
		}
	}
	check(o.FamilyName != "", "family", "La famille de services est requise.")
	check(o.Code != "" && len(o.Code) <= 40 && !strings.ContainsAny(o.Code, " /?#"), "code", "Code requis, sans espace, 40 caractères au plus.")
	check(o.Name != "", "name", "Le nom est requis.")
	check(o.Status.valid(), "status", "Statut inconnu (study, production ou retired).")
	seen := map[string]bool{}
	for i, rt := range in.RequestTypes {
		field := fmt.Sprintf("request_types[%d]", i)
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
		o.RequestTypes = append(o.RequestTypes, RequestType{Kind: rt.Kind, IMAC: rt.IMAC, Name: name, Active: true})
	}
	if len(fields) > 0 {
		return o, bad
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := s.managedOwner(ctx, tx, p, in.OwnerID)
		if err != nil {
			return err
		}
		o.OwnerName = owner.Name
		if o.FamilyID, err = s.store.EnsureFamily(ctx, tx, in.OwnerID, o.FamilyName); err != nil {
			return err
		}
		if err := s.store.InsertService(ctx, tx, &o); err != nil {
			if db.IsUniqueViolation(err) {
				return problem.Conflict("service_code_taken", "Un service de code « "+o.Code+" » existe déjà dans ce catalogue.").Field("code", "Code déjà utilisé.").Wrap(err)
			}
			return err
		}
		return nil
	})
	return o, err
}

func validIMAC(op string) bool {
	for _, v := range IMACOperations {
		if v == op {
			return true
		}
	}
	return false
}

// ---- teams ----

// CreateTeam adds a support team to an organization the caller manages.
func (s *Service) CreateTeam(ctx context.Context, p *auth.Principal, t Team) (Team, error) {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || (t.Level != "N1" && t.Level != "N2" && t.Level != "N3") {
		return t, problem.Invalid("team_invalid", "Équipe invalide : un nom et un niveau (N1, N2 ou N3) sont requis.")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := s.managedOwner(ctx, tx, p, t.OrgID); err != nil {
			return err
		}
		if err := s.store.InsertTeam(ctx, tx, &t); err != nil {
			if db.IsUniqueViolation(err) {
				return problem.Conflict("team_name_taken", "Une équipe « "+t.Name+" » existe déjà.").Wrap(err)
			}
			return err
		}
		return nil
	})
	return t, err
}

// Teams lists the support teams of the organizations in the caller's
// catalogue scope, for the delivery model of conventions.
func (s *Service) Teams(ctx context.Context, p *auth.Principal) ([]Team, error) {
	if !p.Has(auth.PermCatalogRead) {
		return []Team{}, nil
	}
	scope, args := p.ScopeSQL(auth.PermCatalogRead, "t.org_id")
	return s.store.TeamsOf(ctx, scope, args)
}

// ---- establishments ----

// EstablishmentCatalog returns what a school subscribes to: the draft or
// signed conventions covering it that have not ended, each covered service
// with its promised levels, and the measured levels when the helpdesk is
// wired. The school must be in the caller's catalogue scope.
func (s *Service) EstablishmentCatalog(ctx context.Context, p *auth.Principal, uai string) (Establishment, []Subscription, error) {
	uai = strings.ToUpper(strings.TrimSpace(uai))
	if !p.Has(auth.PermCatalogRead) {
		return Establishment{}, nil, problem.NotFound("Établissement")
	}
	scope, args := p.ScopeSQL(auth.PermCatalogRead, "o.id")
	e, err := s.store.EstablishmentByUAI(ctx, uai, scope, args)
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil, problem.NotFound("Établissement")
	}
	if err != nil {
		return e, nil, fmt.Errorf("find establishment %s: %w", uai, err)
	}
	subs, err := s.store.Subscriptions(ctx, e.ID, s.today())
	if err != nil {
		return e, nil, err
	}
	now := s.now()
	for i := range subs {
		subs[i].AgreementStatus = Agreement{Status: subs[i].AgreementStatus, ValidUntil: subs[i].ValidUntil}.EffectiveStatus(s.today())
		if s.measured == nil {
			continue
		}
		for _, m := range []struct {
			months int
			dst    **Measure
		}{{3, &subs[i].Measured3}, {12, &subs[i].Measured12}} {
			v, err := s.measured.MeasuredLevels(ctx, e.ID, subs[i].Service.ServiceID, now.AddDate(0, -m.months, 0), now)
			if err != nil {
				// A failing report must not hide the promises: the
				// page shows "mesure indisponible".
				s.log.WarnContext(ctx, "measured levels unavailable", "establishment", e.UAI, "service", subs[i].Service.ServiceID, "err", err)
				continue
			}
			*m.dst = &v
		}
	}
	return e, subs, nil
}
