// Package governance ties the territory together: bodies (instances) and
// their meetings, decisions traceable to what they changed, projects
// proposed to the bodies, roadmaps whose objectives carry success
// indicators computed from live data or declared with evidence, committee
// files (HTML and PDF), the pseudonymized audience of the ENT and the
// transparency page of each collectivité.
package governance

import (
	"embed"
	"io/fs"
	"time"

	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of governance; it references organizations, so
// it runs after territory.Migrations().
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "governance", FS: sub}
}

// BodyKind is the kind of a body: the cycle the seeds describe.
type BodyKind string

const (
	BodySteering     BodyKind = "pilotage"     // comité de pilotage, chaired by the rector
	BodyStrategic    BodyKind = "strategique"  // arbitrates which projects start
	BodyCoordination BodyKind = "coordination" // with the collectivités, examines projects
	BodyOther        BodyKind = "autre"
)

// BodyKinds lists the kinds in the order the UI shows them.
var BodyKinds = []BodyKind{BodySteering, BodyStrategic, BodyCoordination, BodyOther}

// Label is the kind's French name.
func (k BodyKind) Label() string {
	switch k {
	case BodySteering:
		return "Comité de pilotage"
	case BodyStrategic:
		return "Comité stratégique"
	case BodyCoordination:
		return "Comité de coordination"
	case BodyOther:
		return "Autre instance"
	}
	return string(k)
}

// Valid reports whether k is known.
func (k BodyKind) Valid() bool {
	for _, x := range BodyKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Body is an instance of governance.
type Body struct {
	ID    int64    `json:"id"`
	OrgID int64    `json:"org_id"`
	Kind  BodyKind `json:"kind"`
	Name  string   `json:"name"`
	Chair string   `json:"chair"`
	Role  string   `json:"role"`
	// MinPerYear is the required frequency: at least this many meetings
	// held per calendar year.
	MinPerYear int `json:"min_per_year"`
	// RequiredData is the data the body must receive, one item a line.
	RequiredData string    `json:"required_data"`
	Members      []Member  `json:"members"`
	CreatedAt    time.Time `json:"created_at"`
}

// Member is a person or an organization sitting in a body.
type Member struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	OrgID   int64  `json:"org_id,omitempty"`
	OrgName string `json:"org_name,omitempty"`
	Role    string `json:"role"`
}

// Meeting is a séance of a body.
type Meeting struct {
	ID       int64     `json:"id"`
	BodyID   int64     `json:"body_id"`
	BodyName string    `json:"body_name"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Place    string    `json:"place"`
	Agenda   string    `json:"agenda"`
	Minutes  string    `json:"minutes"`
	// Held is set when the minutes are recorded: only a held meeting can
	// carry decisions.
	Held       bool         `json:"held"`
	Attendance []Attendance `json:"attendance"`
	Documents  []Document   `json:"documents"`
	Decisions  []Decision   `json:"decisions"`
}

// Attendance is whether a member attended a meeting.
type Attendance struct {
	MemberID int64  `json:"member_id"`
	Name     string `json:"name"`
	Present  bool   `json:"present"`
}

// Document is a document attached to a meeting (a link to where it lives).
type Document struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// DecisionKind is what a decision does.
type DecisionKind string

const (
	DecisionProjectExamined  DecisionKind = "project_examined"
	DecisionProjectStarted   DecisionKind = "project_started"
	DecisionProjectRejected  DecisionKind = "project_rejected"
	DecisionProjectPostponed DecisionKind = "project_postponed"
	DecisionTargetChanged    DecisionKind = "target_changed"
	DecisionBudgetArbitrated DecisionKind = "budget_arbitrated"
	DecisionOther            DecisionKind = "other"
)

// DecisionKinds lists the kinds in the order forms show them.
var DecisionKinds = []DecisionKind{DecisionProjectExamined, DecisionProjectStarted, DecisionProjectRejected,
	DecisionProjectPostponed, DecisionTargetChanged, DecisionBudgetArbitrated, DecisionOther}

// Label is the kind's French name.
func (k DecisionKind) Label() string {
	switch k {
	case DecisionProjectExamined:
		return "Projet examiné"
	case DecisionProjectStarted:
		return "Projet lancé"
	case DecisionProjectRejected:
		return "Projet refusé"
	case DecisionProjectPostponed:
		return "Projet ajourné"
	case DecisionTargetChanged:
		return "Cible modifiée"
	case DecisionBudgetArbitrated:
		return "Budget arbitré"
	case DecisionOther:
		return "Autre décision"
	}
	return string(k)
}

func (k DecisionKind) valid() bool {
	for _, x := range DecisionKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Decision is recorded at a held meeting; Before and After say what it
// changed (a project's status, an indicator's target, an amount).
type Decision struct {
	ID          int64        `json:"id"`
	MeetingID   int64        `json:"meeting_id"`
	Kind        DecisionKind `json:"kind"`
	Summary     string       `json:"summary"`
	ProjectID   int64        `json:"project_id,omitempty"`
	IndicatorID int64        `json:"indicator_id,omitempty"`
	Before      string       `json:"before"`
	After       string       `json:"after"`
	AmountCents int64        `json:"amount_cents"`
	CreatedBy   string       `json:"created_by"`
	CreatedAt   time.Time    `json:"created_at"`
}

// ProjectStatus is where a project stands in the cycle of the bodies.
type ProjectStatus string

const (
	ProjectProposed   ProjectStatus = "proposed"
	ProjectExamined   ProjectStatus = "examined"
	ProjectInProgress ProjectStatus = "in_progress"
	ProjectRejected   ProjectStatus = "rejected"
	ProjectPostponed  ProjectStatus = "postponed"
	ProjectEvaluated  ProjectStatus = "evaluated"
)

// Label is the status's French name.
func (s ProjectStatus) Label() string {
	switch s {
	case ProjectProposed:
		return "Proposé"
	case ProjectExamined:
		return "Examiné par le comité de coordination"
	case ProjectInProgress:
		return "Décidé et en cours"
	case ProjectRejected:
		return "Refusé"
	case ProjectPostponed:
		return "Ajourné"
	case ProjectEvaluated:
		return "Évalué"
	}
	return string(s)
}

// ProposerKind is who proposes a project.
type ProposerKind string

const (
	ProposerSchool    ProposerKind = "school"
	ProposerCommune   ProposerKind = "commune"
	ProposerDANE      ProposerKind = "dane"
	ProposerIncubator ProposerKind = "incubator"
)

// Label is the proposer kind's French name.
func (k ProposerKind) Label() string {
	switch k {
	case ProposerSchool:
		return "Établissement"
	case ProposerCommune:
		return "Commune"
	case ProposerDANE:
		return "DANE"
	case ProposerIncubator:
		return "Incubateur"
	}
	return string(k)
}

func (k ProposerKind) valid() bool {
	return k == ProposerSchool || k == ProposerCommune || k == ProposerDANE || k == ProposerIncubator
}

// Project is proposed to the bodies of a territory (OrgID).
type Project struct {
	ID            int64         `json:"id"`
	OrgID         int64         `json:"org_id"`
	ProposerOrgID int64         `json:"proposer_org_id"`
	ProposerName  string        `json:"proposer_name"`
	ProposerKind  ProposerKind  `json:"proposer_kind"`
	Title         string        `json:"title"`
	Description   string        `json:"description"`
	Benefits      string        `json:"benefits"`
	CostCents     int64         `json:"cost_cents"`
	Feasibility   string        `json:"feasibility"`
	Status        ProjectStatus `json:"status"`
	// IndicatorID is the roadmap indicator the project serves (0: none).
	IndicatorID int64            `json:"indicator_id,omitempty"`
	CreatedAt   time.Time        `json:"created_at"`
	History     []ProjectHistory `json:"history"`
}

// ProjectHistory is one step of a project, tied to the decision that made it.
type ProjectHistory struct {
	At         time.Time     `json:"at"`
	From       ProjectStatus `json:"from"`
	To         ProjectStatus `json:"to"`
	DecisionID int64         `json:"decision_id,omitempty"`
	Note       string        `json:"note"`
	Actor      string        `json:"actor"`
}

// Roadmap is a feuille de route: ambitions → targets → objectives.
type Roadmap struct {
	ID        int64         `json:"id"`
	OrgID     int64         `json:"org_id"`
	Title     string        `json:"title"`
	FirstYear int           `json:"first_year"`
	LastYear  int           `json:"last_year"`
	Items     []RoadmapItem `json:"items"`
}

// Item levels of a roadmap.
const (
	LevelAmbition  = "ambition"
	LevelTarget    = "target"
	LevelObjective = "objective"
)

// RoadmapItem is an ambition, a target or an objective (with its year and
// indicators).
type RoadmapItem struct {
	ID         int64       `json:"id"`
	ParentID   int64       `json:"parent_id,omitempty"`
	Level      string      `json:"level"`
	Title      string      `json:"title"`
	Year       int         `json:"year,omitempty"`
	Indicators []Indicator `json:"indicators,omitempty"`
}

// Frequency is how often an indicator is collected.
type Frequency string

const (
	Monthly   Frequency = "monthly"
	Quarterly Frequency = "quarterly"
	Yearly    Frequency = "yearly"
)

// Label is the frequency's French name.
func (f Frequency) Label() string {
	switch f {
	case Monthly:
		return "mensuelle"
	case Quarterly:
		return "trimestrielle"
	case Yearly:
		return "annuelle"
	}
	return string(f)
}

func (f Frequency) valid() bool { return f == Monthly || f == Quarterly || f == Yearly }

// SourceDeclared is the source of indicators Socle cannot measure: values
// are declared, with evidence, through a campaign.
const SourceDeclared = "declared"

// Indicator is a success indicator of an objective.
type Indicator struct {
	ID          int64     `json:"id"`
	ObjectiveID int64     `json:"objective_id"`
	Name        string    `json:"name"`
	Definition  string    `json:"definition"`
	Unit        string    `json:"unit"`
	Source      string    `json:"source"`
	Target      *float64  `json:"target_value"`
	HigherBest  bool      `json:"higher_is_better"`
	Frequency   Frequency `json:"frequency"`
}

// IndicatorValue is one recorded value of an indicator for a period; a
// value without data carries the reason instead (never 0).
type IndicatorValue struct {
	ID           int64     `json:"id"`
	IndicatorID  int64     `json:"indicator_id"`
	Period       string    `json:"period"`
	Value        *float64  `json:"value"`
	NoDataReason string    `json:"no_data_reason,omitempty"`
	Detail       string    `json:"detail,omitempty"`
	Origin       string    `json:"origin"` // computed | declared
	Evidence     string    `json:"evidence,omitempty"`
	Flagged      bool      `json:"flagged"`
	RecordedBy   string    `json:"recorded_by"`
	RecordedAt   time.Time `json:"recorded_at"`
}

// Campaign asks the holders of a role on an organization to declare an
// indicator at its frequency.
type Campaign struct {
	ID             int64     `json:"id"`
	IndicatorID    int64     `json:"indicator_id"`
	IndicatorName  string    `json:"indicator_name"`
	OrgID          int64     `json:"org_id"`
	RespondentRole string    `json:"respondent_role"`
	Frequency      Frequency `json:"frequency"`
	// DuePeriod is the period awaiting a declaration, "" when up to date.
	DuePeriod string `json:"due_period"`
}

// Alert says a body falls behind its required frequency.
type Alert struct {
	BodyID   int64  `json:"body_id"`
	BodyName string `json:"body_name"`
	Year     int    `json:"year"`
	Held     int    `json:"held"`
	Planned  int    `json:"planned"`
	Required int    `json:"required"`
	Message  string `json:"message"`
}
