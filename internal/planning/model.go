// Package planning is the deployment plan of the territory: targets (what
// each kind of school should have), the survey of the existing
// (questionnaires and campaigns), the gap between the two and its cost,
// the priorities among establishments, the plan itself (phases, waves,
// operations) and the technical and financial programme with its scenarios.
package planning

import (
	"embed"
	"io/fs"
	"time"

	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the plan. It references the territory's
// organizations, so it runs after territory.Migrations().
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "planning", FS: sub}
}

const dateLayout = "2006-01-02"

// Metric is what a criterion measures.
type Metric string

const (
	// Computed from the fleet and the enrolments.
	MetricPupilsPerDevice Metric = "pupils_per_device" // at most threshold
	MetricBoardsPerClass  Metric = "boards_per_class"  // at least threshold
	MetricRecentDevices   Metric = "recent_devices"    // share of devices under Param years, at least threshold
	// Computed from the survey: mean maturity level (1 to 3).
	MetricMaturity Metric = "maturity_level"
	// Declared (by the collectivité or through the equipment survey) until
	// the domains that know them exist.
	MetricConnection Metric = "connection_mbps"
	MetricWifi       Metric = "wifi_share"
	MetricENT        Metric = "ent_activated"
	MetricReferent   Metric = "digital_referent"
)

// MetricInfo describes a metric to people.
type MetricInfo struct {
	Key   Metric `json:"key"`
	Label string `json:"label"`
	// AtMost: the criterion is met when the value is at most the
	// threshold (pupils per device); otherwise at least.
	AtMost bool `json:"at_most"`
	// Declared metrics come from plan_declared, not from Socle's data.
	Declared bool   `json:"declared"`
	Unit     string `json:"unit"`
	// Missing names the data a school needs for this metric.
	Missing string `json:"-"`
}

// Metrics lists every metric in the order the UI shows them.
var metricList = []MetricInfo{
	{MetricPupilsPerDevice, "Élèves par poste (ordinateur ou tablette élève)", true, false, "élèves/poste", "effectifs ou inventaire du parc"},
	{MetricBoardsPerClass, "Tableaux interactifs par classe", false, false, "TNI/classe", "nombre de classes ou inventaire du parc"},
	{MetricRecentDevices, "Part des équipements de moins de N ans", false, false, "part", "inventaire du parc avec dates d'achat"},
	{MetricMaturity, "Niveau de maturité numérique (autoévaluation, 1 à 3)", false, false, "niveau", "réponse à l'autoévaluation"},
	{MetricConnection, "Débit de la connexion (Mbit/s)", false, true, "Mbit/s", "débit de connexion déclaré"},
	{MetricWifi, "Part des salles de classe couvertes en Wi-Fi", false, true, "part", "couverture Wi-Fi déclarée"},
	{MetricENT, "ENT activé (1 = oui)", false, true, "oui/non", "activation de l'ENT déclarée"},
	{MetricReferent, "Référent numérique formé (1 = oui)", false, true, "oui/non", "référent numérique déclaré"},
}

// Metrics returns the metrics (a copy).
func Metrics() []MetricInfo { return append([]MetricInfo(nil), metricList...) }

// Info returns the metric's description; ok is false for unknown metrics.
func (m Metric) Info() (MetricInfo, bool) {
	for _, i := range metricList {
		if i.Key == m {
			return i, true
		}
	}
	return MetricInfo{}, false
}

// TargetStatus says which plan a target belongs to.
type TargetStatus string

const (
	TargetDraft    TargetStatus = "draft"
	TargetCurrent  TargetStatus = "current"
	TargetNext     TargetStatus = "next"
	TargetArchived TargetStatus = "archived"
)

// Label is the status's French name.
func (s TargetStatus) Label() string {
	switch s {
	case TargetDraft:
		return "Brouillon"
	case TargetCurrent:
		return "Cible en vigueur"
	case TargetNext:
		return "Cible du prochain plan"
	case TargetArchived:
		return "Archivée"
	}
	return string(s)
}

// Target is a set of measurable criteria.
type Target struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Status      TargetStatus `json:"status"`
	Criteria    []Criterion  `json:"criteria"`
	CreatedAt   time.Time    `json:"created_at"`
}

// Criterion is one measurable requirement of a target, for one kind of
// establishment (and optionally a level or an education-priority label).
type Criterion struct {
	ID    int64  `json:"id"`
	Key   string `json:"key"`
	Label string `json:"label"`
	// EstablishmentType is a territory type (ecole, college, lycee...);
	// empty: every establishment.
	EstablishmentType string `json:"establishment_type"`
	// Level restricts to establishments whose nature contains it
	// ("MATERNELLE", "ELEMENTAIRE"); empty: every level.
	Level string `json:"level"`
	// Priority: "", "REP", "REP+", "any" (REP or REP+), "none".
	Priority string `json:"priority"`
	Metric   Metric `json:"metric"`
	// Param is the age in years for recent_devices.
	Param     int     `json:"param"`
	Threshold float64 `json:"threshold"`
	// UnitPriceCents overrides the price list: per device for the fleet
	// metrics, per establishment (a lump sum) for the declared ones.
	UnitPriceCents int64 `json:"unit_price_cents"`
	Position       int   `json:"position"`
}

// Factor is a component of the priority score.
type Factor string

const (
	FactorGap          Factor = "gap"
	FactorREP          Factor = "rep"
	FactorRural        Factor = "rural"
	FactorConnectivity Factor = "connectivity"
	FactorSurvey       Factor = "survey"
	FactorAge          Factor = "age"
)

// Factors lists the factors in display order.
var factorList = []Factor{FactorGap, FactorREP, FactorRural, FactorConnectivity, FactorSurvey, FactorAge}

// Factors returns the factors (a copy).
func Factors() []Factor { return append([]Factor(nil), factorList...) }

// Label is the factor's French name.
func (f Factor) Label() string {
	switch f {
	case FactorGap:
		return "Écart à la cible"
	case FactorREP:
		return "Éducation prioritaire (REP/REP+)"
	case FactorRural:
		return "Commune rurale"
	case FactorConnectivity:
		return "Connectivité insuffisante"
	case FactorSurvey:
		return "Faible maturité numérique"
	case FactorAge:
		return "Âge du parc"
	}
	return string(f)
}

// Weights are the priority weights, by factor.
type Weights map[Factor]float64

// DefaultWeights is what a collectivité starts from.
func DefaultWeights() Weights {
	return Weights{FactorGap: 40, FactorREP: 20, FactorRural: 10, FactorConnectivity: 10, FactorSurvey: 10, FactorAge: 10}
}

// OperationKind is one of the five kinds of operations.
type OperationKind string

const (
	OpWorks       OperationKind = "works"
	OpProcurement OperationKind = "procurement"
	OpDeployment  OperationKind = "deployment"
	OpGoLive      OperationKind = "go-live"
	OpAcceptance  OperationKind = "acceptance"
)

// OperationKinds lists the kinds in their usual order.
var operationKinds = []OperationKind{OpWorks, OpProcurement, OpDeployment, OpGoLive, OpAcceptance}

// OperationKinds returns the kinds (a copy).
func OperationKinds() []OperationKind { return append([]OperationKind(nil), operationKinds...) }

// Label is the kind's French name.
func (k OperationKind) Label() string {
	switch k {
	case OpWorks:
		return "Travaux"
	case OpProcurement:
		return "Achat"
	case OpDeployment:
		return "Déploiement"
	case OpGoLive:
		return "Mise en service"
	case OpAcceptance:
		return "Recette"
	}
	return string(k)
}

// Valid reports whether k is known.
func (k OperationKind) Valid() bool {
	for _, o := range operationKinds {
		if o == k {
			return true
		}
	}
	return false
}

// OpStatus is where an operation stands.
type OpStatus string

const (
	OpPlanned    OpStatus = "planned"
	OpInProgress OpStatus = "in-progress"
	OpDone       OpStatus = "done"
	OpCancelled  OpStatus = "cancelled"
)

// Label is the status's French name.
func (s OpStatus) Label() string {
	switch s {
	case OpPlanned:
		return "Prévue"
	case OpInProgress:
		return "En cours"
	case OpDone:
		return "Terminée"
	case OpCancelled:
		return "Annulée"
	}
	return string(s)
}

// Valid reports whether s is known.
func (s OpStatus) Valid() bool {
	return s == OpPlanned || s == OpInProgress || s == OpDone || s == OpCancelled
}

// Phase labels of the waves.
var phaseLabels = map[string]string{
	"experimentation": "Expérimentation", "pilots": "Établissements pilotes", "generalisation": "Généralisation", "cycle": "Cycle",
}

// PhaseLabel is a phase's French name.
func PhaseLabel(p string) string {
	if l, ok := phaseLabels[p]; ok {
		return l
	}
	return p
}

// Plan is a deployment plan.
type Plan struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Strategy    string      `json:"strategy"` // phases or cycles
	Description string      `json:"description"`
	Waves       []Wave      `json:"waves"`
	Operations  []Operation `json:"operations"`
	CreatedAt   time.Time   `json:"created_at"`
}

// Wave is a group of establishments going through the plan together.
type Wave struct {
	ID             int64    `json:"id"`
	Position       int      `json:"position"`
	Phase          string   `json:"phase"`
	Name           string   `json:"name"`
	StartsOn       string   `json:"starts_on"`
	EndsOn         string   `json:"ends_on"`
	Establishments []string `json:"establishments"`
	// Communes, on input, adds every establishment of these communes (INSEE
	// codes) in the caller's scope: a cycle is communes joining together.
	Communes []string `json:"communes,omitempty"`
}

// Operation is a dated task of a plan.
type Operation struct {
	ID             int64         `json:"id"`
	WaveID         int64         `json:"wave_id,omitempty"`
	Kind           OperationKind `json:"kind"`
	Title          string        `json:"title"`
	StartsOn       string        `json:"starts_on"`
	EndsOn         string        `json:"ends_on"`
	Owner          string        `json:"owner"`
	Status         OpStatus      `json:"status"`
	DependsOn      []int64       `json:"depends_on"`
	Establishments []string      `json:"establishments"`
	AssetIDs       []int64       `json:"asset_ids"`
}

// Funder pays a budget line.
type Funder string

const (
	FunderAuthority Funder = "collectivite"
	FunderState     Funder = "etat"
	FunderOther     Funder = "autre"
)

// Label is the funder's French name.
func (f Funder) Label() string {
	switch f {
	case FunderAuthority:
		return "Collectivité"
	case FunderState:
		return "État (programmes nationaux)"
	case FunderOther:
		return "Autres financeurs"
	}
	return string(f)
}

// BudgetLine is one amount of the programme.
type BudgetLine struct {
	ID             int64  `json:"id"`
	Year           int    `json:"year"`
	Funder         Funder `json:"funder"`
	Nature         string `json:"nature"` // investment or operating
	Label          string `json:"label"`
	PlannedCents   int64  `json:"planned_cents"`
	CommittedCents int64  `json:"committed_cents"`
	SpentCents     int64  `json:"spent_cents"`
}

// NatureLabel is the nature's French name.
func NatureLabel(n string) string {
	if n == "operating" {
		return "Fonctionnement"
	}
	return "Investissement"
}

// Scenario is a way to reach a target: how often devices are renewed and
// over how many years the target is generalised.
type Scenario struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	TargetID        int64  `json:"target_id"`
	RenewYears      int    `json:"renew_years"`
	GeneraliseYears int    `json:"generalise_years"`
	StartYear       int    `json:"start_year"`
	Horizon         int    `json:"horizon"`
}
