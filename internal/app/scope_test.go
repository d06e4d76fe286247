package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/territory"
)

// fixture is a small territory: two communes with a public école each, a
// département with two public collèges, a région with a lycée, a private
// école, and an académie whose DSDEN is the parent of every establishment.
type fixture struct {
	orgs map[string]int64 // by name in this file: "academy", "communeA", "ecoleA"...
	// est are the establishments by short name.
	est map[string]territory.Establishment
}

// fixtureEstablishments: short name, establishment, and which
// collectivité maintains it (empty for the private école).
var fixtureEstablishments = []struct {
	short, maintainer string
	e                 territory.Establishment
}{
	{"ecoleA", "communeA", territory.Establishment{Name: "École élémentaire Jules Ferry", Type: territory.TypeEcole, Sector: territory.SectorPublic,
		Priority: territory.PriorityREP, CommuneCode: "99001", CommuneName: "Aubeville", PostalCode: "99100",
		Address1: "1 place de la Mairie", Latitude: ptr(48.1), Longitude: ptr(-1.6), DirectoryPupils: ptr(168),
		Phone: "02 99 00 00 01", Email: "ce.9990001@ac-test.fr", NatureCode: "151", NatureLabel: "ECOLE DE NIVEAU ELEMENTAIRE"}},
	{"ecoleB", "communeB", territory.Establishment{Name: "École primaire Louise Michel", Type: territory.TypeEcole, Sector: territory.SectorPublic,
		CommuneCode: "99002", CommuneName: "Bourg-Belle", PostalCode: "99200"}},
	{"college1", "departement", territory.Establishment{Name: "Collège Jean Moulin", Type: territory.TypeCollege, Sector: territory.SectorPublic,
		CommuneCode: "99001", CommuneName: "Aubeville", PostalCode: "99100"}},
	{"college2", "departement", territory.Establishment{Name: "Collège Victor Hugo", Type: territory.TypeCollege, Sector: territory.SectorPublic,
		Priority: territory.PriorityREPPlus, CommuneCode: "99002", CommuneName: "Bourg-Belle", PostalCode: "99200"}},
	{"lycee", "region", territory.Establishment{Name: "Lycée Marie Curie", Type: territory.TypeLycee, Sector: territory.SectorPublic,
		CommuneCode: "99002", CommuneName: "Bourg-Belle", PostalCode: "99200"}},
	{"prive", "", territory.Establishment{Name: "École privée Sainte-Anne", Type: territory.TypeEcole, Sector: territory.SectorPrivate,
		PrivateContract: "Contrat d'association", CommuneCode: "99001", CommuneName: "Aubeville", PostalCode: "99100"}},
}

// orgStep is an organization of the fixture, its parent named by key.
type orgStep struct {
	key  string
	kind territory.Kind
	code string
	name string
	// parent is the key of the parent organization, "" for none.
	parent string
}

func ptr[T any](v T) *T { return &v }

func buildFixture(t *testing.T, a *App) *fixture {
	t.Helper()
	ctx := context.Background()
	st := a.Territory.Store()
	f := &fixture{orgs: map[string]int64{}, est: map[string]territory.Establishment{}}
	err := a.DB.InTx(ctx, func(tx *db.Tx) error {
		ensure := func(key string, kind territory.Kind, code, name string, parent int64) error {
			id, _, err := st.EnsureOrg(ctx, tx, kind, code, name, parent)
			f.orgs[key] = id
			return err
		}
		steps := []orgStep{
			{"academy", territory.KindAcademy, "T99", "Académie de Testville", ""},
			{"dsden", territory.KindDSDEN, "D99", "DSDEN de Testville", "academy"},
			{"region", territory.KindRegion, "R99", "Région Test", ""},
			{"departement", territory.KindDepartement, "99", "Département Test", ""},
			{"communeA", territory.KindCommune, "99001", "Aubeville", ""},
			{"communeB", territory.KindCommune, "99002", "Bourg-Belle", ""},
		}
		kinds := map[string]territory.Kind{}
		for _, s := range steps {
			if err := ensure(s.key, s.kind, s.code, s.name, f.orgs[s.parent]); err != nil {
				return err
			}
			kinds[s.key] = s.kind
		}
		for i, fe := range fixtureEstablishments {
			e := fe.e
			n := 9990001 + i
			e.UAI = fmt.Sprintf("%07d%c", n, territory.UAICheckLetter(n))
			e.Status = territory.StatusOpen
			e.DepartementCode, e.AcademyCode = "99", "T99"
			id, _, err := st.UpsertEstablishment(ctx, tx, &e, f.orgs["dsden"])
			if err != nil {
				return err
			}
			e.ID = id
			f.orgs[fe.short], f.est[fe.short] = id, e
			// Maintenance follows the rule of the type, for public
			// establishments only; pedagogy is the académie's.
			if fe.maintainer != "" {
				if want := territory.MaintainingKind(e.Type); kinds[fe.maintainer] != want {
					return fmt.Errorf("fixture: a %s is maintained by a %s, not by %s", e.Type, want, fe.maintainer)
				}
				if err := st.SetResponsibility(ctx, tx, id, "maintenance", f.orgs[fe.maintainer]); err != nil {
					return err
				}
			}
			if err := st.SetResponsibility(ctx, tx, id, "pedagogy", f.orgs["academy"]); err != nil {
				return err
			}
		}
		// Fill the fields left out of JSON when empty, so that the
		// answers check them against the document too.
		if err := st.SetHolidayZone(ctx, tx, f.orgs["academy"], "B"); err != nil {
			return err
		}
		if _, err := st.ReplaceSites(ctx, tx, f.orgs["ecoleA"], []territory.Site{{Name: "Annexe des Tilleuls", Address: "2 rue des Tilleuls",
			PostalCode: "99100", CommuneCode: "99001", CommuneName: "Aubeville"}}); err != nil {
			return err
		}
		classes := 7
		if _, err := st.UpsertEnrolment(ctx, tx, territory.Enrolment{UAI: f.est["ecoleA"].UAI, SchoolYear: "2024-2025", Source: "test",
			Pupils: 168, Classes: &classes, Levels: map[string]int{"CP": 24, "CE1": 23}}, f.est["ecoleA"].Name, "Aubeville", "public"); err != nil {
			return err
		}
		return st.SyncScopeTree(ctx, tx)
	})
	if err != nil {
		t.Fatalf("build fixture: %v", err)
	}
	return f
}

// actor is one account of the matrix, and what it may see, written out by
// hand from the fixture (not computed from the scope SQL under test).
type actor struct {
	role      auth.Role
	org       string // fixture key; "" for the platform
	recursive bool
	// sees are the establishments and the other organizations it may read.
	sees []string
}

const testPassword = "mot-de-passe-de-test"

var actors = []actor{
	{auth.RolePlatformAdmin, "", false, []string{"ecoleA", "ecoleB", "college1", "college2", "lycee", "prive",
		"academy", "dsden", "region", "departement", "communeA", "communeB"}},
	// A commune reaches the école it maintains, not the private école that
	// stands on its soil, nor the collège there.
	{auth.RoleAuthorityAgent, "communeA", true, []string{"communeA", "ecoleA"}},
	{auth.RoleTechnician, "departement", true, []string{"departement", "college1", "college2"}},
	// The académie reaches every establishment through its DSDEN, and no
	// collectivité.
	{auth.RoleAcademyObserver, "academy", true, []string{"academy", "dsden", "ecoleA", "ecoleB", "college1", "college2", "lycee", "prive"}},
	{auth.RoleEstablishmentHead, "ecoleA", false, []string{"ecoleA"}},
	{auth.RoleTeacher, "ecoleA", false, []string{"ecoleA"}},
	{auth.RolePupil, "ecoleA", false, []string{"ecoleA"}},
	{auth.RoleParent, "ecoleA", false, []string{"ecoleA"}},
}

func (a actor) email() string { return string(a.role) + "@exemple.test" }

func (a actor) canSee(key string) bool { return slices.Contains(a.sees, key) }

// filterCase is a search, and the establishments it matches across the
// whole fixture (written out by hand); each actor must get exactly those
// within its scope.
type filterCase struct {
	name  string
	query func(f *fixture) url.Values
	match []string
}

func values(kv ...string) func(*fixture) url.Values {
	return func(*fixture) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
}

var filterCases = []filterCase{
	{"no filter", values(), []string{"ecoleA", "ecoleB", "college1", "college2", "lycee", "prive"}},
	{"type", values("type", "ecole"), []string{"ecoleA", "ecoleB", "prive"}},
	{"type unknown", values("type", "inconnu"), nil},
	{"type and commune", values("type", "college", "commune", "99002"), []string{"college2"}},
	{"commune", values("commune", "99001"), []string{"ecoleA", "college1", "prive"}},
	{"responsible commune", func(f *fixture) url.Values {
		return url.Values{"responsible": {strconv.FormatInt(f.orgs["communeA"], 10)}}
	}, []string{"ecoleA"}},
	{"responsible departement", func(f *fixture) url.Values {
		return url.Values{"responsible": {strconv.FormatInt(f.orgs["departement"], 10)}}
	}, []string{"college1", "college2"}},
	{"rep REP", values("rep", "REP"), []string{"ecoleA"}},
	{"rep REP+", values("rep", "REP+"), []string{"college2"}},
	{"rep any", values("rep", "any"), []string{"ecoleA", "college2"}},
	{"rep none", values("rep", "none"), []string{"ecoleB", "college1", "lycee", "prive"}},
	{"sector", values("sector", "prive"), []string{"prive"}},
	{"text", values("q", "moulin"), []string{"college1"}},
	// Accents and case do not matter; every word must match, the commune
	// name included.
	{"text accents", values("q", "ÉCOLE aubeville"), []string{"ecoleA", "prive"}},
	{"text commune", values("q", "bourg"), []string{"ecoleB", "college2", "lycee"}},
	{"text and type", values("q", "aubeville", "type", "college"), []string{"college1"}},
	{"text nothing", values("q", "zzzz"), nil},
}

// apiSearchResult is the answer of the search.
type apiSearchResult struct {
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	Items  []struct {
		UAI         string            `json:"uai"`
		Name        string            `json:"name"`
		Responsible *territory.OrgRef `json:"responsible"`
	} `json:"items"`
}

// publicRoutes answer without a token; they are tested on their own below.
var publicRoutes = []string{"POST /api/v1/auth/login", "GET /api/v1/openapi.json"}

// scopeTestedElsewhere names, for the routes of the other domains, the
// tests that hold them to the caller's scope (inside: the data; outside:
// 404). The matrix below still checks that they refuse anonymous callers
// and forged tokens. A route found neither here nor in the matrix fails
// TestAPIScopeMatrix: no route ships without a scope test.
var scopeTestedElsewhere = map[string]string{
	"GET /api/v1/people":                                   "internal/ent/people TestAPIScope",
	"POST /api/v1/people":                                  "internal/ent/people TestAPIScope",
	"GET /api/v1/people/{id}":                              "internal/ent/people TestAPIScope",
	"POST /api/v1/parent-links":                            "internal/ent/people TestAPIScope",
	"GET /api/v1/groups":                                   "internal/ent/people TestAPIScope",
	"POST /api/v1/groups":                                  "internal/ent/people TestAPIScope",
	"GET /api/v1/groups/{id}":                              "internal/ent/people TestAPIScope",
	"POST /api/v1/groups/{id}/members":                     "internal/ent/people TestAPIScope",
	"POST /api/v1/establishments/{uai}/feed":               "internal/ent/people TestAPIScope",
	"GET /api/v1/establishments/{uai}/rollover":            "internal/ent/people TestAPIScope",
	"POST /api/v1/establishments/{uai}/rollover":           "internal/ent/people TestAPIScope",
	"GET /api/v1/establishments/{uai}/pending-matches":     "internal/ent/people TestAPIScope",
	"POST /api/v1/pending-matches/{id}":                    "internal/ent/people TestAPIScope",
	"GET /api/v1/establishments/{uai}/communication-rules": "internal/ent/people TestAPIScope",
	"PUT /api/v1/establishments/{uai}/communication-rules": "internal/ent/people TestAPIScope",
	// wire:people scope
	"GET /api/v1/notifications":                   "internal/ent/notify TestScope",
	"GET /api/v1/notifications/unread-count":      "internal/ent/notify TestScope",
	"POST /api/v1/notifications/read-all":         "internal/ent/notify TestScope",
	"GET /api/v1/notifications/preferences":       "internal/ent/notify TestScope",
	"PUT /api/v1/notifications/preferences":       "internal/ent/notify TestScope",
	"GET /api/v1/notifications/{id}":              "internal/ent/notify TestScope",
	"POST /api/v1/notifications/{id}/read":        "internal/ent/notify TestScope",
	"GET /api/v1/privacy/people/{id}/export":      "internal/ent/privacy TestScope",
	"GET /api/v1/privacy/people/{id}/access-log":  "internal/ent/privacy TestScope",
	"GET /api/v1/privacy/people/{id}/deletion":    "internal/ent/privacy TestScope",
	"POST /api/v1/privacy/people/{id}/deletion":   "internal/ent/privacy TestScope",
	"DELETE /api/v1/privacy/people/{id}/deletion": "internal/ent/privacy TestScope",
	// wire:notify scope
	"GET /api/v1/productions":                                  "internal/ent/production TestAPIScope",
	"POST /api/v1/productions":                                 "internal/ent/production TestAPIScope",
	"POST /api/v1/productions/import":                          "internal/ent/production TestAPIScope",
	"GET /api/v1/productions/{id}":                             "internal/ent/production TestAPIScope",
	"PATCH /api/v1/productions/{id}":                           "internal/ent/production TestAPIScope",
	"DELETE /api/v1/productions/{id}":                          "internal/ent/production TestAPIScope",
	"POST /api/v1/productions/{id}/restore":                    "internal/ent/production TestAPIScope",
	"POST /api/v1/productions/{id}/shares":                     "internal/ent/production TestAPIScope",
	"DELETE /api/v1/productions/{id}/shares/{share}":           "internal/ent/production TestAPIScope",
	"GET /api/v1/productions/{id}/export":                      "internal/ent/production TestAPIScope",
	"GET /api/v1/productions/{id}/links":                       "internal/ent/production TestShareLinks, TestShareLinksHTTP",
	"POST /api/v1/productions/{id}/links":                      "internal/ent/production TestShareLinks, TestShareLinksHTTP",
	"DELETE /api/v1/productions/{id}/links/{link}":             "internal/ent/production TestShareLinks, TestShareLinksHTTP",
	"POST /api/v1/links/{token}":                               "internal/ent/production TestShareLinks, TestShareLinksHTTP",
	"POST /api/v1/productions/{id}/media":                      "internal/ent/production TestMediaUploadAndServe",
	"POST /api/v1/productions/{id}/moderation":                 "internal/ent/production TestModerationIsTheAuthority, TestModerationAPI",
	"GET /api/v1/productions/{id}/comments":                    "internal/ent/production TestFollowUpComments",
	"POST /api/v1/productions/{id}/comments":                   "internal/ent/production TestFollowUpComments",
	"GET /api/v1/productions/{id}/versions":                    "internal/ent/production TestVersionsSaveAndRestore, TestVersionsPagesAndAPI",
	"POST /api/v1/productions/{id}/versions":                   "internal/ent/production TestVersionsSaveAndRestore, TestVersionsPagesAndAPI",
	"POST /api/v1/productions/{id}/versions/{version}/restore": "internal/ent/production TestVersionsSaveAndRestore, TestVersionsPagesAndAPI",
	"GET /api/v1/productions/{id}/versions/{version}/export":   "internal/ent/production TestVersionsSaveAndRestore, TestVersionsPagesAndAPI",
	"GET /api/v1/assignments":                                  "internal/ent/production TestAPIScope",
	"POST /api/v1/assignments":                                 "internal/ent/production TestAPIScope",
	"GET /api/v1/assignments/{id}":                             "internal/ent/production TestAPIScope",
	"POST /api/v1/assignments/{id}/teams/{team}/production":    "internal/ent/production TestAPIScope",
	"GET /api/v1/assignments/{id}/collect":                     "internal/ent/production TestAPIScope",
	// wire:production scope
	"GET /api/v1/planning/targets":                        "internal/planning TestScope",
	"POST /api/v1/planning/targets":                       "internal/planning TestScope",
	"GET /api/v1/planning/targets/compare":                "internal/planning TestScope",
	"GET /api/v1/planning/targets/{id}":                   "internal/planning TestScope",
	"POST /api/v1/planning/targets/{id}/criteria":         "internal/planning TestScope",
	"GET /api/v1/planning/targets/{id}/gap":               "internal/planning TestScope",
	"GET /api/v1/planning/targets/{id}/priorities":        "internal/planning TestScope",
	"PUT /api/v1/planning/declared":                       "internal/planning TestScope",
	"GET /api/v1/planning/weights":                        "internal/planning TestScope",
	"PUT /api/v1/planning/weights":                        "internal/planning TestScope",
	"GET /api/v1/planning/questionnaires":                 "internal/planning TestScope",
	"POST /api/v1/planning/questionnaires":                "internal/planning TestScope",
	"GET /api/v1/planning/questionnaires/{id}":            "internal/planning TestScope",
	"POST /api/v1/planning/questionnaires/{id}/questions": "internal/planning TestScope",
	"GET /api/v1/planning/campaigns":                      "internal/planning TestScope",
	"POST /api/v1/planning/campaigns":                     "internal/planning TestScope",
	"GET /api/v1/planning/campaigns/{id}/stats":           "internal/planning TestScope",
	"POST /api/v1/planning/campaigns/{id}/answers":        "internal/planning TestScope",
	"GET /api/v1/planning/campaigns/{id}/answers/{uai}":   "internal/planning TestScope",
	"GET /api/v1/planning/plans":                          "internal/planning TestScope",
	"POST /api/v1/planning/plans":                         "internal/planning TestScope",
	"GET /api/v1/planning/plans/{id}":                     "internal/planning TestScope",
	"POST /api/v1/planning/plans/{id}/waves":              "internal/planning TestScope",
	"POST /api/v1/planning/plans/{id}/operations":         "internal/planning TestScope",
	"PUT /api/v1/planning/plans/{id}/operations/{op}":     "internal/planning TestScope",
	"GET /api/v1/planning/plans/{id}/calendar":            "internal/planning TestScope",
	"GET /api/v1/planning/programme":                      "internal/planning TestScope",
	"POST /api/v1/planning/budget-lines":                  "internal/planning TestScope",
	"GET /api/v1/planning/scenarios":                      "internal/planning TestScope",
	"POST /api/v1/planning/scenarios":                     "internal/planning TestScope",
	"GET /api/v1/planning/scenarios/compare":              "internal/planning TestScope",
	"GET /api/v1/planning/export/{table}":                 "internal/planning TestScope",
	"GET /api/v1/planning/prices":                         "internal/planning TestScope",
	"PUT /api/v1/planning/prices":                         "internal/planning TestScope",
	"PUT /api/v1/planning/communes/{code}":                "internal/planning TestScope",
	// wire:planning scope
	"GET /api/v1/governance/bodies":                      "internal/governance TestAPIScope",
	"POST /api/v1/governance/bodies":                     "internal/governance TestAPIScope",
	"GET /api/v1/governance/bodies/{id}":                 "internal/governance TestAPIScope",
	"POST /api/v1/governance/bodies/{id}/members":        "internal/governance TestAPIScope",
	"GET /api/v1/governance/alerts":                      "internal/governance TestAPIScope",
	"GET /api/v1/governance/meetings":                    "internal/governance TestAPIScope",
	"POST /api/v1/governance/meetings":                   "internal/governance TestAPIScope",
	"GET /api/v1/governance/meetings/{id}":               "internal/governance TestAPIScope",
	"POST /api/v1/governance/meetings/{id}/minutes":      "internal/governance TestAPIScope",
	"POST /api/v1/governance/meetings/{id}/documents":    "internal/governance TestAPIScope",
	"POST /api/v1/governance/meetings/{id}/decisions":    "internal/governance TestAPIScope",
	"GET /api/v1/governance/meetings/{id}/file":          "internal/governance TestAPIScope",
	"GET /api/v1/governance/projects":                    "internal/governance TestAPIScope",
	"POST /api/v1/governance/projects":                   "internal/governance TestAPIScope",
	"GET /api/v1/governance/projects/{id}":               "internal/governance TestAPIScope",
	"POST /api/v1/governance/projects/{id}/evaluation":   "internal/governance TestAPIScope",
	"GET /api/v1/governance/roadmaps":                    "internal/governance TestAPIScope",
	"POST /api/v1/governance/roadmaps":                   "internal/governance TestAPIScope",
	"GET /api/v1/governance/roadmaps/{id}":               "internal/governance TestAPIScope",
	"POST /api/v1/governance/roadmaps/{id}/items":        "internal/governance TestAPIScope",
	"POST /api/v1/governance/roadmaps/{id}/refresh":      "internal/governance TestAPIScope",
	"POST /api/v1/governance/objectives/{id}/indicators": "internal/governance TestAPIScope",
	"GET /api/v1/governance/indicators":                  "internal/governance TestAPIScope",
	"POST /api/v1/governance/indicators/{id}/values":     "internal/governance TestAPIScope",
	"GET /api/v1/governance/campaigns":                   "internal/governance TestAPIScope",
	"POST /api/v1/governance/campaigns":                  "internal/governance TestAPIScope",
	// wire:governance scope
	"GET /api/v1/services":                           "internal/catalog TestScope",
	"POST /api/v1/services":                          "internal/catalog TestScope",
	"GET /api/v1/services/{id}":                      "internal/catalog TestScope",
	"GET /api/v1/calendars":                          "internal/catalog TestScope",
	"POST /api/v1/calendars":                         "internal/catalog TestScope",
	"GET /api/v1/calendars/{id}":                     "internal/catalog TestScope",
	"GET /api/v1/calendars/{id}/deadline":            "internal/catalog TestScope, TestDeadlineAPI",
	"GET /api/v1/agreements":                         "internal/catalog TestScope",
	"POST /api/v1/agreements":                        "internal/catalog TestScope",
	"GET /api/v1/agreements/{id}":                    "internal/catalog TestScope",
	"POST /api/v1/agreements/{id}/status":            "internal/catalog TestScope",
	"POST /api/v1/agreements/{id}/document":          "internal/catalog TestDocumentRefusals",
	"GET /api/v1/agreements/{id}/document":           "internal/catalog TestDocumentRefusals",
	"GET /api/v1/establishments/{uai}/catalog":       "internal/catalog TestScope",
	"GET /api/v1/teams":                              "internal/catalog TestDeliveryModel",
	"POST /api/v1/teams":                             "internal/catalog TestDeliveryModel",
	"GET /api/v1/tickets":                            "internal/helpdesk TestEndToEnd, TestPages",
	"POST /api/v1/tickets":                           "internal/helpdesk TestEndToEnd",
	"GET /api/v1/tickets/{ref}":                      "internal/helpdesk TestEndToEnd, TestPages",
	"POST /api/v1/tickets/{ref}/followups":           "internal/helpdesk TestEndToEnd",
	"POST /api/v1/tickets/{ref}/status":              "internal/helpdesk TestEndToEnd",
	"POST /api/v1/tickets/{ref}/assign":              "internal/helpdesk TestEndToEnd",
	"POST /api/v1/tickets/{ref}/escalate":            "internal/helpdesk TestEndToEnd",
	"POST /api/v1/tickets/{ref}/survey":              "internal/helpdesk TestEndToEnd (also answered with the e-mailed token)",
	"POST /api/v1/tickets/{ref}/links":               "internal/helpdesk TestEndToEnd",
	"POST /api/v1/tickets/{ref}/interventions":       "internal/helpdesk TestEndToEnd",
	"POST /api/v1/tickets/{ref}/attachments":         "internal/helpdesk TestAttachments",
	"GET /api/v1/tickets/{ref}/attachments/{id}":     "internal/helpdesk TestAttachments",
	"GET /api/v1/helpdesk/reports/monthly":           "internal/helpdesk TestEndToEnd",
	"GET /api/v1/helpdesk/mail-quarantine":           "internal/helpdesk TestIncomingMail",
	"GET /api/v1/organizations/{id}/priority-matrix": "internal/helpdesk TestPriorityMatrixAndRules",
	"PUT /api/v1/organizations/{id}/priority-matrix": "internal/helpdesk TestPriorityMatrixAndRules",
	"GET /api/v1/helpdesk/assignment-rules":          "internal/helpdesk TestPriorityMatrixAndRules",
	"POST /api/v1/helpdesk/assignment-rules":         "internal/helpdesk TestPriorityMatrixAndRules",
	"POST /api/v1/sso/cas-services":                  "internal/ent/sso TestAdminAPI",
	"POST /api/v1/sso/oidc-clients":                  "internal/ent/sso TestAdminAPI",
	"GET /api/v1/helpdesk/reports":                   "internal/helpdesk TestReportScope",
	"GET /api/v1/helpdesk/quality":                   "internal/helpdesk TestReportScope",
	"GET /api/v1/assets":                             "internal/fleet TestScopeOfEveryRoute",
	"POST /api/v1/assets":                            "internal/fleet TestAPIAndPages",
	"GET /api/v1/assets/{id}":                        "internal/fleet TestScopeOfEveryRoute",
	"PUT /api/v1/assets/{id}":                        "internal/fleet TestScopeOfEveryRoute",
	"POST /api/v1/assets/import":                     "internal/fleet TestScopeOfEveryRoute, TestImportCSV",
	"GET /api/v1/assets/export":                      "internal/fleet TestScopeOfEveryRoute",
	"GET /api/v1/establishments/{uai}/software":      "internal/fleet TestScopeOfEveryRoute",
	"GET /api/v1/fleet/forecast":                     "internal/fleet TestScopeOfEveryRoute",
	"GET /api/v1/fleet/ratios":                       "internal/fleet TestScopeOfEveryRoute",
	"GET /api/v1/fleet/warranty-alerts":              "internal/fleet TestScopeOfEveryRoute",
	"GET /api/v1/fleet/quarantine":                   "internal/fleet TestScopeOfEveryRoute",
	"GET /api/v1/assets/{id}/tickets":                "internal/fleet TestScopeOfEveryRoute, TestIMACThroughTickets",
	"GET /api/v1/fleet/forecast/export":              "internal/fleet TestScopeOfEveryRoute, TestForecastChartAndExports",
	"GET /api/v1/tickets/{ref}/imac":                 "internal/fleet TestIMACThroughTickets; internal/helpdesk TestIMACScope",
	"PUT /api/v1/tickets/{ref}/imac":                 "internal/fleet TestIMACThroughTickets; internal/helpdesk TestIMACScope",
	"GET /api/v1/space":                              "internal/ent/space TestIsolationBetweenPeople, TestAPIAndPages",
	"GET /api/v1/space/trash":                        "internal/ent/space TestIsolationBetweenPeople, TestAPIAndPages",
	"POST /api/v1/space/trash/{id}/restore":          "internal/ent/space TestIsolationBetweenPeople, TestAPIAndPages",
	"GET /api/v1/space/nodes/{id}/versions":          "internal/ent/space TestIsolationBetweenPeople, TestAPIAndPages",
}

// Every API route, for every role, against what lies inside and outside
// the role's scope. The routes checked are held to those the application
// mounts, so a new route fails this test until it is added to the matrix.
func TestAPIScopeMatrix(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	f := buildFixture(t, s.app)
	ctx := context.Background()

	tokens := map[auth.Role]string{}
	for _, ac := range actors {
		g := auth.Grant{Role: ac.role, Recursive: ac.recursive}
		if ac.org != "" {
			g.OrgID = f.orgs[ac.org]
		}
		if _, err := s.app.Auth.CreateUser(ctx, auth.NewUser{Email: ac.email(), DisplayName: ac.role.Label(), Password: testPassword,
			Grants: []auth.Grant{g}}); err != nil {
			t.Fatalf("create %s: %v", ac.role, err)
		}
		tokens[ac.role] = s.login(t, ac.email(), testPassword)
	}

	// Everything of an establishment a reader outside its scope must never
	// see, whatever the route.
	leaks := func(short string) []string {
		e := f.est[short]
		return []string{e.UAI, e.Name}
	}
	allEst := []string{"ecoleA", "ecoleB", "college1", "college2", "lycee", "prive"}
	allOrgs := append([]string{"academy", "dsden", "region", "departement", "communeA", "communeB"}, allEst...)

	checks := map[string]func(t *testing.T, ac actor, tok string){
		"GET /api/v1/me": func(t *testing.T, ac actor, tok string) {
			r := s.get(t, "/api/v1/me", tok)
			var me struct {
				Email  string `json:"email"`
				Grants []struct {
					Role      string `json:"role"`
					OrgID     int64  `json:"org_id"`
					Recursive bool   `json:"recursive"`
				} `json:"grants"`
			}
			r.json(t, &me)
			if r.Status != http.StatusOK || me.Email != ac.email() || len(me.Grants) != 1 ||
				me.Grants[0].Role != string(ac.role) || me.Grants[0].OrgID != f.orgs[ac.org] || me.Grants[0].Recursive != ac.recursive {
				t.Errorf("GET /api/v1/me: %d %s", r.Status, r.Body)
			}
		},
		"GET /api/v1/establishments": func(t *testing.T, ac actor, tok string) {
			for _, fc := range filterCases {
				q := fc.query(f)
				r := s.get(t, "/api/v1/establishments?"+q.Encode(), tok)
				if r.Status != http.StatusOK {
					t.Errorf("search %s: %d %s", fc.name, r.Status, r.Body)
					continue
				}
				var res apiSearchResult
				r.json(t, &res)
				var want, got []string
				for _, short := range fc.match {
					if ac.canSee(short) {
						want = append(want, f.est[short].UAI)
					}
				}
				for _, it := range res.Items {
					got = append(got, it.UAI)
				}
				sort.Strings(want)
				sort.Strings(got)
				if !slices.Equal(got, want) || res.Total != len(want) {
					t.Errorf("search %s (%s): total %d, UAIs %v; want %d, %v", fc.name, q.Encode(), res.Total, got, len(want), want)
				}
				for _, short := range allEst {
					if ac.canSee(short) {
						continue
					}
					for _, leak := range leaks(short) {
						if strings.Contains(string(r.Body), leak) {
							t.Errorf("search %s: the answer holds %q, out of scope", fc.name, leak)
						}
					}
				}
			}
		},
		"GET /api/v1/establishments/{uai}": func(t *testing.T, ac actor, tok string) {
			for _, short := range allEst {
				e := f.est[short]
				// Lower case is accepted: people type UAIs as they come.
				for _, uai := range []string{e.UAI, strings.ToLower(e.UAI)} {
					r := s.get(t, "/api/v1/establishments/"+uai, tok)
					if ac.canSee(short) {
						var got struct {
							UAI, Name   string
							Responsible *territory.OrgRef
							Academy     *territory.OrgRef
							Enrolments  []territory.Enrolment
						}
						r.json(t, &got)
						if r.Status != http.StatusOK || got.UAI != e.UAI || got.Name != e.Name {
							t.Errorf("%s: %d %s, want 200 with %s", uai, r.Status, r.Body, e.Name)
							continue
						}
						wantResp := fixtureMaintainer(short)
						switch {
						case wantResp == "" && got.Responsible != nil:
							t.Errorf("%s: responsible %+v, want none", short, got.Responsible)
						case wantResp != "" && (got.Responsible == nil || got.Responsible.ID != f.orgs[wantResp]):
							t.Errorf("%s: responsible %+v, want %s", short, got.Responsible, wantResp)
						}
						if got.Academy == nil || got.Academy.ID != f.orgs["academy"] {
							t.Errorf("%s: academy %+v", short, got.Academy)
						}
						if wantN := map[bool]int{true: 1}[short == "ecoleA"]; len(got.Enrolments) != wantN {
							t.Errorf("%s: %d enrolments, want %d", short, len(got.Enrolments), wantN)
						} else if wantN == 1 && (got.Enrolments[0].Pupils != 168 || got.Enrolments[0].Levels["CP"] != 24) {
							t.Errorf("%s: enrolment %+v", short, got.Enrolments[0])
						}
						continue
					}
					expectNotFound(t, r, "GET /api/v1/establishments/"+uai, leaks(short)...)
				}
			}
			// What does not exist answers as what is out of scope does.
			for _, uai := range []string{"9990099" + string(territory.UAICheckLetter(9990099)), "nimporte", "0000000Z"} {
				expectNotFound(t, s.get(t, "/api/v1/establishments/"+uai, tok), "GET /api/v1/establishments/"+uai)
			}
		},
		"GET /api/v1/organizations/{id}": func(t *testing.T, ac actor, tok string) {
			for _, key := range allOrgs {
				id := f.orgs[key]
				path := "/api/v1/organizations/" + strconv.FormatInt(id, 10)
				r := s.get(t, path, tok)
				if ac.canSee(key) {
					var o territory.Organization
					r.json(t, &o)
					if r.Status != http.StatusOK || o.ID != id {
						t.Errorf("%s (%s): %d %s", path, key, r.Status, r.Body)
					}
					if key == "dsden" && o.ParentID != f.orgs["academy"] {
						t.Errorf("dsden parent_id = %d, want the académie %d", o.ParentID, f.orgs["academy"])
					}
					continue
				}
				var leak []string
				if e, ok := f.est[key]; ok {
					leak = []string{e.UAI, e.Name}
				}
				expectNotFound(t, r, path+" ("+key+")", leak...)
			}
			for _, id := range []string{"999999999", "0", "-3", "abc"} {
				expectNotFound(t, s.get(t, "/api/v1/organizations/"+id, tok), "GET /api/v1/organizations/"+id)
			}
		},
	}

	// The matrix covers exactly the routes the application mounts.
	registered := registeredAPIRoutes(t, s.app)
	for _, r := range registered {
		_, inMatrix := checks[r.String()]
		_, elsewhere := scopeTestedElsewhere[r.String()]
		if !inMatrix && !elsewhere && !slices.Contains(publicRoutes, r.String()) {
			t.Errorf("route %s has no scope test: add it to the matrix of TestAPIScopeMatrix, or name its test in scopeTestedElsewhere", r)
		}
		if inMatrix && elsewhere {
			t.Errorf("route %s is both in the matrix and in scopeTestedElsewhere", r)
		}
	}
	for route := range scopeTestedElsewhere {
		if !slices.ContainsFunc(registered, func(r apiRoute) bool { return r.String() == route }) {
			t.Errorf("scopeTestedElsewhere names %s, which the application does not mount", route)
		}
	}

	for _, ac := range actors {
		t.Run(string(ac.role), func(t *testing.T) {
			for _, route := range sortedKeys(checks) {
				t.Run(route, func(t *testing.T) { checks[route](t, ac, tokens[ac.role]) })
			}
		})
	}

	// Anonymous callers and forged tokens get 401, as JSON, on every
	// route that needs a token; the path templates are filled with objects
	// that exist, so the 401 is not a 404 in disguise.
	fill := strings.NewReplacer("{uai}", f.est["ecoleA"].UAI, "{id}", strconv.FormatInt(f.orgs["ecoleA"], 10))
	for _, r := range registered {
		if slices.Contains(publicRoutes, r.String()) {
			continue
		}
		path := fill.Replace(r.Path)
		for _, c := range []struct {
			name, header, code string
		}{
			{"anonymous", "", "unauthenticated"},
			{"unknown token", "Bearer socle_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid_token"},
			{"not a Socle token", "Bearer eyJhbGciOiJIUzI1NiJ9", "invalid_token"},
			{"other scheme", "Basic YWRtaW46YWRtaW4=", "unauthenticated"},
		} {
			rq := request{Method: r.Method, Path: path}
			if r.Method != http.MethodGet {
				// A well-formed body, so that a handler reading it first
				// still has to refuse the caller.
				rq.Body = "{}"
			}
			if c.header != "" {
				rq.Header = map[string]string{"Authorization": c.header}
			}
			resp := s.do(t, rq)
			s.doc.checkReply(t, r.Method, path, resp)
			if resp.Status != http.StatusUnauthorized || resp.apiError(t).Code != c.code {
				t.Errorf("%s %s (%s): %d %s, want 401 %s", r.Method, path, c.name, resp.Status, resp.Body, c.code)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s (%s): no WWW-Authenticate: Bearer", r.Method, path, c.name)
			}
			if strings.Contains(string(resp.Body), f.est["ecoleA"].Name) {
				t.Errorf("%s %s (%s): the 401 holds the establishment's data", r.Method, path, c.name)
			}
		}
	}

	// Each route of the matrix was really reached, with a success and a
	// refusal: the request counter is labelled by the route that served it.
	hits := routeStatuses(t, s.app)
	for _, route := range sortedKeys(checks) {
		for _, status := range []string{"200", "401"} {
			if hits[route+" "+status] == 0 {
				t.Errorf("route %s never answered %s during the matrix: its checks do not reach it", route, status)
			}
		}
	}
	for _, route := range []string{"GET /api/v1/establishments/{uai}", "GET /api/v1/organizations/{id}"} {
		if hits[route+" 404"] == 0 {
			t.Errorf("route %s never answered 404 during the matrix", route)
		}
	}
}

// fixtureMaintainer is the collectivité that maintains an establishment of
// the fixture.
func fixtureMaintainer(short string) string {
	for _, fe := range fixtureEstablishments {
		if fe.short == short {
			return fe.maintainer
		}
	}
	return ""
}

// expectNotFound checks the answer for what is out of scope: 404, the
// not_found code, a French message, and none of the object's data.
func expectNotFound(t *testing.T, r reply, what string, mustNotContain ...string) {
	t.Helper()
	if r.Status != http.StatusNotFound {
		t.Errorf("%s: %d %s, want 404", what, r.Status, r.Body)
		return
	}
	e := r.apiError(t)
	if e.Code != "not_found" || !strings.Contains(e.Message, "introuvable") {
		t.Errorf("%s: %s, want code not_found and a French message", what, r.Body)
	}
	for _, s := range mustNotContain {
		if strings.Contains(string(r.Body), s) {
			t.Errorf("%s: the 404 holds %q", what, s)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// routeStatuses reads socle_http_requests_total from the application's
// registry: "route status" → count.
func routeStatuses(t *testing.T, a *App) map[string]float64 {
	t.Helper()
	mfs, err := a.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "socle_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "route")+" "+label(m, "status")] += m.GetCounter().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
