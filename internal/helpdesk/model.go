package helpdesk

import (
	"context"
	"embed"
	"io/fs"
	"time"

	"socle/internal/catalog"
	"socle/internal/platform/db"
	"socle/internal/platform/mail"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the helpdesk. It references accounts, the
// territory's organizations and the catalogue's services and teams, so it
// runs after all three.
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "helpdesk", FS: sub}
}

// Kind is what a ticket is about.
type Kind string

const (
	KindIncident Kind = "incident"
	// KindRequest covers service requests, IMAC operations included (the
	// request type says which).
	KindRequest Kind = "request"
	KindProblem Kind = "problem"
	KindChange  Kind = "change"
)

// Kinds lists the ticket kinds in the order forms show them.
var Kinds = []Kind{KindIncident, KindRequest, KindProblem, KindChange}

// Label is the kind's French name.
func (k Kind) Label() string {
	switch k {
	case KindIncident:
		return "Incident"
	case KindRequest:
		return "Demande"
	case KindProblem:
		return "Problème"
	case KindChange:
		return "Changement"
	}
	return string(k)
}

func (k Kind) valid() bool {
	return k == KindIncident || k == KindRequest || k == KindProblem || k == KindChange
}

// Status is where a ticket stands.
type Status string

const (
	StatusNew      Status = "new"
	StatusAssigned Status = "assigned"
	StatusPlanned  Status = "planned"
	StatusPending  Status = "pending"
	StatusSolved   Status = "solved"
	StatusClosed   Status = "closed"
)

// Statuses lists the statuses in their usual order.
var Statuses = []Status{StatusNew, StatusAssigned, StatusPlanned, StatusPending, StatusSolved, StatusClosed}

// Label is the status's French name.
func (s Status) Label() string {
	switch s {
	case StatusNew:
		return "Nouveau"
	case StatusAssigned:
		return "En cours (attribué)"
	case StatusPlanned:
		return "En cours (planifié)"
	case StatusPending:
		return "En attente"
	case StatusSolved:
		return "Résolu"
	case StatusClosed:
		return "Clos"
	}
	return string(s)
}

func (s Status) valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// open reports whether work remains on a ticket in this status.
func (s Status) open() bool { return s != StatusSolved && s != StatusClosed }

// Pending reasons. A reply of the requester resumes only a ticket waiting
// for the requester; a ticket waiting for a supplier stays paused.
const (
	ReasonRequester  = "requester"
	ReasonThirdParty = "third_party"
	ReasonOther      = "other"
)

// ReasonLabel is a pending reason's French name.
func ReasonLabel(r string) string {
	switch r {
	case ReasonRequester:
		return "En attente du demandeur"
	case ReasonThirdParty:
		return "En attente d'un tiers (fournisseur, prestataire)"
	case ReasonOther:
		return "En attente (autre motif)"
	}
	return r
}

// Support levels a ticket is held at.
const (
	LevelN1 = "N1"
	LevelN2 = "N2"
	LevelN3 = "N3"
)

// Levels is what a convention promises for one ticket.
type Levels struct {
	AgreementServiceID int64
	AgreementReference string
	Calendar           *catalog.Calendar
	TTO, TTR           catalog.Delay
	// N1TeamID.. are the teams of the delivery model; 0 when not set.
	N1TeamID, N2TeamID, N3TeamID int64
	SurveyEnabled                bool
}

// LevelSource finds the levels that apply to a ticket; the catalogue
// implements it through an adapter wired by the application. A nil result
// with a nil error means no convention covers the ticket.
type LevelSource interface {
	LevelsFor(ctx context.Context, establishmentID, serviceID int64, kind string, priority int, at time.Time) (*Levels, error)
}

// MailConfig is the outgoing SMTP server. An empty Host disables sending:
// notifications are still recorded (with their Message-ID), not sent.
type MailConfig = mail.Config

// Options configures the service.
type Options struct {
	// FilesRoot is the directory attachments and quarantined messages are
	// stored under (helpdesk/...).
	FilesRoot string
	Mail      MailConfig
	// BaseURL is the public address of the site, for links in e-mails.
	BaseURL string
	// MaxAttachmentBytes bounds one attachment (default 20 MiB).
	MaxAttachmentBytes int64
	// MaxMailBytes bounds an incoming message turned into a ticket; bigger
	// ones (up to four times more) are quarantined (default 10 MiB).
	MaxMailBytes int64
	// OutboxBackoff is the wait after a first failed delivery, doubled at
	// each further failure up to an hour (default 30 s); after
	// OutboxMaxAttempts failures (default 10) a message is given up and
	// shown to administrators.
	OutboxBackoff     time.Duration
	OutboxMaxAttempts int
	// Timeline, when set, also puts what the helpdesk mails about a ticket
	// on the timeline of the people it mails, once the change is committed.
	Timeline TicketTimeline
}

// TicketTimeline receives, after the commit, each notification the
// helpdesk mailed about a ticket (the ENT's timeline, wired by the app).
type TicketTimeline interface {
	TicketEvent(ctx context.Context, email, ref, subject string) error
}

// Ticket is a ticket as lists and pages show it.
type Ticket struct {
	ID              int64     `json:"-"`
	Reference       string    `json:"reference"`
	Kind            Kind      `json:"kind"`
	Title           string    `json:"title"`
	Description     string    `json:"description"`
	RequesterID     int64     `json:"requester_id,omitempty"`
	RequesterEmail  string    `json:"requester_email,omitempty"`
	RequesterName   string    `json:"requester_name,omitempty"`
	EstablishmentID int64     `json:"establishment_id"`
	UAI             string    `json:"uai"`
	Establishment   string    `json:"establishment_name"`
	ServiceID       int64     `json:"service_id,omitempty"`
	RequestTypeID   int64     `json:"request_type_id,omitempty"`
	Urgency         int       `json:"urgency"`
	Impact          int       `json:"impact"`
	Priority        int       `json:"priority"`
	Status          Status    `json:"status"`
	PendingReason   string    `json:"pending_reason,omitempty"`
	Level           string    `json:"level"`
	TeamID          int64     `json:"team_id,omitempty"`
	TechnicianID    int64     `json:"technician_id,omitempty"`
	TechnicianName  string    `json:"technician_name,omitempty"`
	AgreementSvcID  int64     `json:"agreement_service_id,omitempty"`
	TTODue          time.Time `json:"tto_due,omitzero"`
	TTRDue          time.Time `json:"ttr_due,omitzero"`
	TTOMet          *bool     `json:"tto_met,omitempty"`
	TTRMet          *bool     `json:"ttr_met,omitempty"`
	SolvedAt        time.Time `json:"solved_at,omitzero"`
	ClosedAt        time.Time `json:"closed_at,omitzero"`
	SurveyEnabled   bool      `json:"survey_enabled"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Event is one recorded change of a ticket.
type Event struct {
	ID      int64     `json:"-"`
	At      time.Time `json:"at"`
	ActorID int64     `json:"actor_id,omitempty"`
	Type    string    `json:"type"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// Event types.
const (
	evStatus    = "status"
	evLevel     = "level" // service level (convention targets) in force
	evAssign    = "assign"
	evEscalate  = "escalate"
	evPriority  = "priority"
	evSLAWarn   = "sla_warning"
	evSLABreach = "sla_breach"
	evLink      = "link"
)

// Followup is a message on a ticket; private ones are for technicians only.
type Followup struct {
	ID          int64     `json:"id"`
	AuthorID    int64     `json:"author_id,omitempty"`
	AuthorEmail string    `json:"author_email,omitempty"`
	AuthorName  string    `json:"author_name,omitempty"`
	Body        string    `json:"body"`
	Private     bool      `json:"private"`
	Source      string    `json:"source"`
	CreatedAt   time.Time `json:"created_at"`
}

// Attachment is a file attached to a ticket.
type Attachment struct {
	ID          int64     `json:"id"`
	FollowupID  int64     `json:"followup_id,omitempty"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	storageKey  string
}

// Link kinds between tickets.
const (
	LinkRelated   = "related"
	LinkDuplicate = "duplicate"
	// LinkProblem: an incident (from) caused by a problem (to).
	LinkProblem = "problem"
	// LinkChange: a problem (from) solved by a change (to).
	LinkChange = "change"
)

// Link is a link from or to another ticket.
type Link struct {
	Kind      string `json:"kind"`
	Reference string `json:"reference"`
	Title     string `json:"title"`
	Status    Status `json:"status"`
	// Outgoing is true when this ticket is the link's "from" side.
	Outgoing bool `json:"outgoing"`
}

// Intervention is an on-site visit.
type Intervention struct {
	ID              int64     `json:"id"`
	TechnicianID    int64     `json:"technician_id,omitempty"`
	StartsAt        time.Time `json:"starts_at"`
	DurationMinutes int       `json:"duration_minutes"`
	TravelMinutes   int       `json:"travel_minutes"`
	Notes           string    `json:"notes,omitempty"`
}

// Holding is a stretch during which a level, team or technician held the
// ticket.
type Holding struct {
	Level        string    `json:"level"`
	TeamID       int64     `json:"team_id,omitempty"`
	TechnicianID int64     `json:"technician_id,omitempty"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to,omitzero"`
	Seconds      Seconds   `json:"duration_seconds"`
}

// Clocks is what a ticket page shows of its service levels: the clocks
// computed now from the events, and what they are computed against.
type Clocks struct {
	// Engagement is false when no convention covers the ticket: the page
	// says "pas d'engagement de service" rather than showing nothing.
	Engagement         bool   `json:"engagement"`
	Message            string `json:"message,omitempty"`
	AgreementReference string `json:"agreement_reference,omitempty"`
	SLA
}

// Detail is a ticket with everything its page shows.
type Detail struct {
	Ticket
	Clocks        Clocks         `json:"clocks"`
	Followups     []Followup     `json:"followups"`
	Events        []Event        `json:"events"`
	Holdings      []Holding      `json:"holdings"`
	Links         []Link         `json:"links"`
	Attachments   []Attachment   `json:"attachments"`
	Interventions []Intervention `json:"interventions"`
	// CanWork is whether the caller may act on the ticket as a technician.
	CanWork bool `json:"-"`
}

// NewTicket is what Create needs.
type NewTicket struct {
	Kind Kind `json:"kind"`
	// UAI or EstablishmentID names the establishment.
	UAI             string `json:"uai"`
	EstablishmentID int64  `json:"establishment_id"`
	ServiceID       int64  `json:"service_id"`
	RequestTypeID   int64  `json:"request_type_id"`
	Title           string `json:"title"`
	Description     string `json:"description"`
	Urgency         int    `json:"urgency"`
	Impact          int    `json:"impact"`
}

// Filter selects tickets for a list.
type Filter struct {
	Status       Status
	UAI          string
	ServiceID    int64
	TechnicianID int64
	TeamID       int64
	Priority     int
	From, To     time.Time
	// Sort: "created" (default, newest first), "-created", "priority",
	// "ttr_due".
	Sort          string
	Limit, Offset int
}

// ListResult is a page of tickets.
type ListResult struct {
	// Total is counted up to ListCountCap+1; TotalCapped says the count
	// stopped there ("plus de 10 000").
	Total       int      `json:"total"`
	TotalCapped bool     `json:"total_capped"`
	Items       []Ticket `json:"items"`
}

// Report is the quality of service of a month.
type Report struct {
	OrgID  int64  `json:"org_id"`
	Month  string `json:"month"`
	Opened int    `json:"opened"`
	Solved int    `json:"solved"`
	// TTOCompliance and TTRCompliance are percentages of tickets within
	// target among those measured; nil when none was measured.
	TTOCompliance *float64 `json:"tto_compliance_percent"`
	TTRCompliance *float64 `json:"ttr_compliance_percent"`
	// MeanResolve and P90Resolve are wall-clock times from opening to
	// solution of the tickets solved in the month.
	MeanResolve   Seconds  `json:"mean_resolve_seconds"`
	P90Resolve    Seconds  `json:"p90_resolve_seconds"`
	Satisfaction  *float64 `json:"satisfaction"`
	SurveyAnswers int      `json:"survey_answers"`
}

// QuarantinedMail is an incoming message that became neither a ticket nor a
// follow-up.
type QuarantinedMail struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	Sender     string    `json:"sender"`
	Subject    string    `json:"subject"`
	Reason     string    `json:"reason"`
	Size       int64     `json:"size"`
}
