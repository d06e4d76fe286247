package demo

import (
	"context"
	"fmt"
	"time"

	"socle/internal/catalog"
	"socle/internal/platform/db"
	"socle/internal/territory"
)

// The catalogue of the demo: the département runs the services of its
// collèges, the métropole those of its communes' écoles. Both offer the
// same families, so a demo user compares like with like.

type demoService struct {
	code, family, name, desc string
	status                   catalog.ServiceStatus
	// onSite services run on the interventions calendar (closed during
	// school holidays), the others on the hotline's.
	onSite bool
	// weight is the share of tickets the service draws.
	weight float64
	types  []catalog.RequestType
}

func rt(kind, imac, name string) catalog.RequestType {
	return catalog.RequestType{Kind: kind, IMAC: imac, Name: name, Active: true}
}

var demoServices = []demoService{
	{"POSTE", "Poste de travail", "Maintenance des postes de travail", "Dépannage, installation et configuration des ordinateurs fixes et portables des salles et des bureaux.",
		catalog.StatusProduction, true, 0.30, []catalog.RequestType{
			rt(catalog.KindIncident, "", "Poste en panne ou très lent"),
			rt(catalog.KindIncident, "", "Imprimante ou périphérique défectueux"),
			rt(catalog.KindRequest, "install", "Installation d'un poste"),
			rt(catalog.KindRequest, "move", "Déménagement d'un poste"),
			rt(catalog.KindRequest, "add", "Ajout d'un logiciel"),
			rt(catalog.KindRequest, "change", "Modification de configuration"),
		}},
	{"RESEAU", "Réseau et infrastructure", "Réseau et Wi-Fi", "Accès à Internet, réseau pédagogique et administratif, bornes Wi-Fi, filtrage.",
		catalog.StatusProduction, false, 0.20, []catalog.RequestType{
			rt(catalog.KindIncident, "", "Pas d'accès à Internet"),
			rt(catalog.KindIncident, "", "Wi-Fi indisponible dans une salle"),
			rt(catalog.KindRequest, "add", "Ajout d'une prise ou d'une borne"),
			rt(catalog.KindRequest, "change", "Ouverture d'un site filtré"),
		}},
	{"TELEPHONIE", "Réseau et infrastructure", "Téléphonie", "Téléphonie sur IP des établissements (étude en cours avec l'opérateur).",
		catalog.StatusStudy, false, 0, []catalog.RequestType{
			rt(catalog.KindIncident, "", "Ligne téléphonique en panne"),
			rt(catalog.KindRequest, "add", "Nouvelle ligne"),
		}},
	{"TNI", "Usages pédagogiques", "Tableaux et vidéoprojecteurs interactifs", "Écrans numériques interactifs, vidéoprojecteurs et tableaux interactifs des classes.",
		catalog.StatusProduction, true, 0.18, []catalog.RequestType{
			rt(catalog.KindIncident, "", "Vidéoprojecteur en panne"),
			rt(catalog.KindIncident, "", "Stylet ou calibrage défaillant"),
			rt(catalog.KindRequest, "install", "Installation d'un écran numérique interactif"),
			rt(catalog.KindRequest, "move", "Déménagement d'un tableau interactif"),
		}},
	{"ENT", "Usages pédagogiques", "Comptes ENT et messagerie", "Comptes de l'espace numérique de travail, messagerie, mots de passe des élèves et des personnels.",
		catalog.StatusProduction, false, 0.20, []catalog.RequestType{
			rt(catalog.KindIncident, "", "Connexion impossible à l'ENT"),
			rt(catalog.KindIncident, "", "Messagerie indisponible"),
			rt(catalog.KindRequest, "add", "Création de comptes"),
			rt(catalog.KindRequest, "change", "Réinitialisation de mot de passe"),
		}},
	{"SITE", "Interventions", "Interventions sur site", "Interventions programmées d'un technicien dans l'établissement : préparation de la rentrée, salles informatiques.",
		catalog.StatusProduction, true, 0.07, []catalog.RequestType{
			rt(catalog.KindRequest, "", "Intervention programmée"),
			rt(catalog.KindRequest, "move", "Déménagement d'une salle informatique"),
		}},
	{"BALADO", "Usages pédagogiques", "Baladodiffusion", "Lecteurs audio des cours de langues, remplacés par les tablettes.",
		catalog.StatusRetired, true, 0, []catalog.RequestType{
			rt(catalog.KindIncident, "", "Lecteur défectueux"),
		}},
}

// coveredCodes are the services the conventions promise (in production).
var coveredCodes = []string{"POSTE", "RESEAU", "TNI", "ENT", "SITE"}

// levels are the promises of every convention of the demo, by kind and
// priority: {TTO, TTR}.
var demoLevels = map[string][5][2]string{
	catalog.KindIncident: {{"1h", "4h"}, {"2h", "1d"}, {"4h", "3d"}, {"1d", "5d"}, {"2d", "10d"}},
	catalog.KindRequest:  {{"2h", "1d"}, {"4h", "3d"}, {"1d", "5d"}, {"2d", "10d"}, {"3d", "15d"}},
}

// provider is a collectivité's catalogue as written.
type provider struct {
	id       int64
	services map[string]*catalog.Offering
	// calendars: "assist" and "site".
	calendars  map[string]int64
	n1, n2, n3 int64
}

// cover is what a convention promises one establishment for one service.
type cover struct {
	agreementServiceID int64
	reference          string
	calendarID         int64
	n1, n2, n3         int64
	survey             bool
}

// catalogState is what the catalogue step leaves for the ticket history.
type catalogState struct {
	dep, epci *provider
	// covers: establishment org id → service code → promise.
	covers map[int64]map[string]cover
	// teams by name, for the members.
	teams map[string]int64
	// agreements written, by reference.
	agreements []string
	// members: team name → technicians (createStaff).
	members map[string][]int64
	tickets int
}

// dates of the demo conventions, relative to the school year of now.
type demoDates struct {
	today       catalog.Date
	schoolStart catalog.Date // 1 September of the current school year
}

func datesOf(now time.Time) demoDates {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.UTC
	}
	today := catalog.DateOf(now.In(paris))
	y := today.Year
	if today.Month < time.September {
		y--
	}
	return demoDates{today: today, schoolStart: catalog.Date{Year: y, Month: time.September, Day: 1}}
}

// sept1 is 1 September of the school year shifted by years.
func (d demoDates) sept1(years int) catalog.Date {
	return catalog.Date{Year: d.schoolStart.Year + years, Month: time.September, Day: 1}
}

func (d demoDates) aug31(years int) catalog.Date {
	return catalog.Date{Year: d.schoolStart.Year + years, Month: time.August, Day: 31}
}

// writeCatalog writes the catalogues, calendars, teams and conventions
// through the catalogue's store, inside the territory's transaction.
func writeCatalog(ctx context.Context, tx *db.Tx, w *seeder) error {
	if w.catalog == nil {
		return nil
	}
	st := w.catalog.Store()
	depID, err := w.orgID(orgKey{territory.KindDepartement, departementCode})
	if err != nil {
		return err
	}
	epciID, err := w.orgID(orgKey{territory.KindEPCI, epciCode})
	if err != nil {
		return err
	}
	academyID, err := w.orgID(orgKey{territory.KindAcademy, academyCode})
	if err != nil {
		return err
	}
	cs := &catalogState{covers: map[int64]map[string]cover{}, teams: map[string]int64{}}
	w.cat = cs
	dd := datesOf(w.now)

	newProvider := func(owner int64) (*provider, error) {
		p := &provider{id: owner, services: map[string]*catalog.Offering{}, calendars: map[string]int64{}}
		for _, s := range demoServices {
			fam, err := st.EnsureFamily(ctx, tx, owner, s.family)
			if err != nil {
				return nil, err
			}
			o := &catalog.Offering{FamilyID: fam, OwnerID: owner, Code: s.code, Name: s.name, Description: s.desc, Status: s.status,
				RequestTypes: append([]catalog.RequestType(nil), s.types...)}
			if err := st.InsertService(ctx, tx, o); err != nil {
				return nil, err
			}
			p.services[s.code] = o
		}
		// The hotline answers during school holidays; interventions in the
		// schools stop with them.
		day := []catalog.TimeRange{{Start: "08:00", End: "12:00"}, {Start: "13:30", End: "17:30"}}
		week := map[string][]catalog.TimeRange{"lundi": day, "mardi": day, "mercredi": day, "jeudi": day, "vendredi": day}
		june := catalog.Date{Year: dd.schoolStart.Year, Month: time.June, Day: 1}
		for june.Weekday() != time.Friday {
			june = june.AddDays(1)
		}
		jan := catalog.Date{Year: dd.schoolStart.Year, Month: time.January, Day: 29}
		for jan.Weekday() != time.Thursday {
			jan = jan.AddDays(-1)
		}
		for _, c := range []struct {
			key string
			bc  catalog.BusinessCalendar
		}{
			{"assist", catalog.BusinessCalendar{OwnerID: owner, Name: "Assistance — jours ouvrés",
				Spec: catalog.Spec{TimeZone: catalog.DefaultTimeZone, Hours: week}}},
			{"site", catalog.BusinessCalendar{OwnerID: owner, Name: "Interventions en établissement", SchoolHolidayZone: holidayZoneLabel,
				Spec: catalog.Spec{TimeZone: catalog.DefaultTimeZone, Hours: week, ClosedDuringSchoolHolidays: true, Closures: []catalog.Closure{
					{From: jan, To: jan.AddDays(1), Label: "Inventaire annuel du parc"},
					{From: june, To: june, Label: "Séminaire des équipes techniques"},
				}}}},
		} {
			bc := c.bc
			if err := st.InsertCalendar(ctx, tx, &bc); err != nil {
				return nil, err
			}
			p.calendars[c.key] = bc.ID
		}
		return p, nil
	}
	if cs.dep, err = newProvider(depID); err != nil {
		return err
	}
	if cs.epci, err = newProvider(epciID); err != nil {
		return err
	}

	team := func(org int64, name, level string, contractor bool, email string) (int64, error) {
		t := catalog.Team{OrgID: org, Name: name, Level: level, Contractor: contractor, Email: email}
		if err := st.InsertTeam(ctx, tx, &t); err != nil {
			return 0, err
		}
		cs.teams[name] = t.ID
		return t.ID, nil
	}
	// The métropole's hotline answers for the département's collèges too
	// (a mutualised service centre); each collectivité has its own
	// proximity technicians and contractor.
	hotline, err := team(epciID, teamHotline, "N1", false, "assistance@brumeval-metropole.example")
	if err != nil {
		return err
	}
	cs.epci.n1, cs.dep.n1 = hotline, hotline
	if cs.epci.n2, err = team(epciID, teamEPCIProximity, "N2", false, "proximite@brumeval-metropole.example"); err != nil {
		return err
	}
	if cs.epci.n3, err = team(epciID, teamEPCIContractor, "N3", true, "support@armor-numerique.example"); err != nil {
		return err
	}
	if cs.dep.n2, err = team(depID, teamDepProximity, "N2", false, "techniciens.colleges@val-de-brume.example"); err != nil {
		return err
	}
	if cs.dep.n3, err = team(depID, teamDepContractor, "N3", true, "hotline@kreiz-informatique.example"); err != nil {
		return err
	}

	var colleges []catalog.Establishment
	for _, s := range w.plan.schools {
		if s.kind == kindCollege && s.public() {
			id, err := w.orgID(orgKey{territory.KindEstablishment, s.UAI})
			if err != nil {
				return err
			}
			colleges = append(colleges, catalog.Establishment{ID: id, UAI: s.UAI, Name: s.Name})
		}
	}
	levels := func() []catalog.ServiceLevel {
		var out []catalog.ServiceLevel
		for _, kind := range []string{catalog.KindIncident, catalog.KindRequest} {
			for i, l := range demoLevels[kind] {
				tto, _ := catalog.ParseDelay(l[0])
				ttr, _ := catalog.ParseDelay(l[1])
				out = append(out, catalog.ServiceLevel{RequestKind: kind, Priority: i + 1, TTO: tto, TTR: ttr})
			}
		}
		return out
	}
	covered := func(p *provider, codes []string) []catalog.CoveredService {
		var out []catalog.CoveredService
		for _, c := range codes {
			cal := p.calendars["assist"]
			for _, s := range demoServices {
				if s.code == c && s.onSite {
					cal = p.calendars["site"]
				}
			}
			out = append(out, catalog.CoveredService{ServiceID: p.services[c].ID, CalendarID: cal, Levels: levels(),
				N1: &catalog.Team{ID: p.n1}, N2: &catalog.Team{ID: p.n2}, N3: &catalog.Team{ID: p.n3}})
		}
		return out
	}
	insert := func(a *catalog.Agreement) error {
		if err := st.InsertAgreement(ctx, tx, a); err != nil {
			return err
		}
		cs.agreements = append(cs.agreements, a.Reference)
		return nil
	}
	signed := func(d catalog.Date, back int) string { return d.AddDays(-back).String() }
	// promise records what a signed convention valid today promises, the
	// way catalog.Store.CoverageAt chooses (service conventions only here).
	promise := func(a *catalog.Agreement, p *provider, est []int64) {
		for _, e := range est {
			m := cs.covers[e]
			if m == nil {
				m = map[string]cover{}
				cs.covers[e] = m
			}
			for _, sv := range a.Services {
				for code, o := range p.services {
					if o.ID == sv.ServiceID {
						m[code] = cover{agreementServiceID: sv.ID, reference: a.Reference, calendarID: sv.CalendarID,
							n1: p.n1, n2: p.n2, n3: p.n3, survey: a.SurveyEnabled}
					}
				}
			}
		}
	}

	y := dd.schoolStart.Year
	framework := &catalog.Agreement{Kind: catalog.KindFramework, Reference: fmt.Sprintf("CC-%d-ACAD90-CD099", y-2),
		Title:    "Convention-cadre relative au numérique éducatif dans les collèges du Val-de-Brume",
		Provider: catalog.Party{ID: academyID}, Beneficiary: catalog.Party{ID: depID},
		ValidFrom: dd.sept1(-2), ValidUntil: dd.aug31(3), Status: catalog.AgreementSigned, SignedOn: signed(dd.sept1(-2), 64),
		Coverage: catalog.CoverageListed, Establishments: colleges, SurveyEnabled: false}
	if err := insert(framework); err != nil {
		return err
	}
	collegeIDs := make([]int64, len(colleges))
	for i, c := range colleges {
		collegeIDs[i] = c.ID
	}
	// The previous convention of the collèges, expired at the end of last
	// school year and replaced by the current one.
	old := &catalog.Agreement{Kind: catalog.KindService, Reference: fmt.Sprintf("CS-%d-CD099-COLLEGES", y-4),
		Title:    "Convention de service — maintenance informatique des collèges (" + fmt.Sprint(y-4) + "-" + fmt.Sprint(y-1) + ")",
		Provider: catalog.Party{ID: depID}, Beneficiary: catalog.Party{ID: academyID}, FrameworkID: 0,
		ValidFrom: dd.sept1(-4), ValidUntil: dd.aug31(-1), Status: catalog.AgreementExpired, SignedOn: signed(dd.sept1(-4), 40),
		Coverage: catalog.CoverageListed, Establishments: colleges, SurveyEnabled: false,
		Services: covered(cs.dep, []string{"POSTE", "RESEAU", "TNI"})}
	if err := insert(old); err != nil {
		return err
	}
	current := &catalog.Agreement{Kind: catalog.KindService, Reference: fmt.Sprintf("CS-%d-CD099-COLLEGES", y-1),
		Title: "Convention de service — maintenance informatique des collèges publics", FrameworkID: framework.ID,
		Provider: catalog.Party{ID: depID}, Beneficiary: catalog.Party{ID: academyID},
		ValidFrom: dd.sept1(-1), ValidUntil: dd.aug31(2), Status: catalog.AgreementSigned, SignedOn: signed(dd.sept1(-1), 52),
		Coverage: catalog.CoverageListed, Establishments: colleges, SurveyEnabled: true,
		Services: covered(cs.dep, []string{"POSTE", "RESEAU", "TNI", "SITE"})}
	if err := insert(current); err != nil {
		return err
	}
	promise(current, cs.dep, collegeIDs)
	// The ENT convention ends within the quarter: the catalogue flags it.
	ent := &catalog.Agreement{Kind: catalog.KindService, Reference: fmt.Sprintf("CS-%d-CD099-ENT", y-3),
		Title: "Convention de service — comptes ENT et messagerie des collèges", FrameworkID: framework.ID,
		Provider: catalog.Party{ID: depID}, Beneficiary: catalog.Party{ID: academyID},
		ValidFrom: catalog.Date{Year: y - 3, Month: time.January, Day: 1}, ValidUntil: dd.today.AddDays(45), Status: catalog.AgreementSigned,
		SignedOn: fmt.Sprintf("%d-12-08", y-4), Coverage: catalog.CoverageListed, Establishments: colleges, SurveyEnabled: false,
		Services: covered(cs.dep, []string{"ENT"})}
	if err := insert(ent); err != nil {
		return err
	}
	promise(ent, cs.dep, collegeIDs)

	// One convention per member commune: the métropole maintains nothing
	// itself, each commune maintains its écoles, so the coverage
	// "maintained by the commune" follows the écoles it opens or closes.
	for i, c := range w.plan.communes {
		if !c.inEPCI {
			continue
		}
		cid, err := w.orgID(orgKey{territory.KindCommune, c.code})
		if err != nil {
			return err
		}
		from := dd.sept1(-1)
		if c == w.plan.chefLieu {
			from = catalog.Date{Year: y - 1, Month: time.January, Day: 1}
		}
		a := &catalog.Agreement{Kind: catalog.KindService, Reference: fmt.Sprintf("CS-%d-BM-%s", from.Year, c.code),
			Title:    "Convention de service numérique des écoles — " + communeLabel(c.name),
			Provider: catalog.Party{ID: epciID}, Beneficiary: catalog.Party{ID: cid},
			ValidFrom: from, ValidUntil: dd.aug31(2), Status: catalog.AgreementSigned, SignedOn: signed(from, 30+i),
			Coverage: catalog.CoverageMaintained, CoverageAuthority: &catalog.Party{ID: cid}, SurveyEnabled: i%2 == 0 || c == w.plan.chefLieu,
			Services: covered(cs.epci, coveredCodes)}
		if err := insert(a); err != nil {
			return err
		}
		var ecoles []int64
		for _, s := range w.plan.schools {
			if s.commune == c && s.kind <= kindPrimaire && s.public() {
				id, err := w.orgID(orgKey{territory.KindEstablishment, s.UAI})
				if err != nil {
					return err
				}
				ecoles = append(ecoles, id)
			}
		}
		promise(a, cs.epci, ecoles)
	}
	return nil
}

func communeLabel(name string) string {
	if name == chefLieuName {
		return "Ville de " + name
	}
	return "Commune de " + name
}

// Team names.
const (
	teamHotline        = "Hotline du centre de services numériques"
	teamEPCIProximity  = "Techniciens de proximité de la Métropole"
	teamEPCIContractor = "Prestataire Armor Numérique Services"
	teamDepProximity   = "Techniciens de proximité du Département"
	teamDepContractor  = "Prestataire Kreiz Informatique"
)
