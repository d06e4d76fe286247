package catalog

import (
	"context"
	"embed"
	"io/fs"
	"time"

	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the catalogue. It references the territory's
// organizations and the accounts of auth, so it runs after both.
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err)
	}
	return db.MigrationSet{Component: "catalog", FS: sub}
}

// ServiceStatus is where a service stands in its life.
type ServiceStatus string

const (
	StatusStudy      ServiceStatus = "study"
	StatusProduction ServiceStatus = "production"
	StatusRetired    ServiceStatus = "retired"
)

// Label is the status's French name.
func (s ServiceStatus) Label() string {
	switch s {
	case StatusStudy:
		return "À l'étude"
	case StatusProduction:
		return "En production"
	case StatusRetired:
		return "Retiré"
	}
	return string(s)
}

func (s ServiceStatus) valid() bool {
	return s == StatusStudy || s == StatusProduction || s == StatusRetired
}

// Request kinds: what a ticket is, and what a service level is set for.
const (
	KindIncident = "incident"
	KindRequest  = "request"
)

// KindLabel is the French name of a request kind.
func KindLabel(kind string) string {
	switch kind {
	case KindIncident:
		return "Incident"
	case KindRequest:
		return "Demande"
	}
	return kind
}

// IMAC operations a request may be: install, move, add, change.
var IMACOperations = []string{"install", "move", "add", "change"}

// IMACLabel is the French name of an IMAC operation.
func IMACLabel(op string) string {
	switch op {
	case "install":
		return "Installation"
	case "move":
		return "Déménagement"
	case "add":
		return "Ajout"
	case "change":
		return "Modification"
	}
	return op
}

// Family groups services in the catalogue ("Poste de travail", "Réseau").
type Family struct {
	ID          int64      `json:"id"`
	OwnerID     int64      `json:"owner_id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Position    int        `json:"position"`
	Services    []Offering `json:"services,omitempty"`
}

// Offering is a service of the catalogue. It is not called Service because
// that name is, in every domain package, the type holding the rules.
type Offering struct {
	ID           int64         `json:"id"`
	FamilyID     int64         `json:"family_id"`
	FamilyName   string        `json:"family"`
	OwnerID      int64         `json:"owner_id"`
	OwnerName    string        `json:"owner_name"`
	Code         string        `json:"code"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Status       ServiceStatus `json:"status"`
	RequestTypes []RequestType `json:"request_types"`
}

// RequestType is what can be asked of a service: an incident, or a request
// (IMAC for the fleet operations).
type RequestType struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	IMAC   string `json:"imac,omitempty"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
}

// AgreementKind is a convention-cadre or a convention de service.
type AgreementKind string

const (
	KindFramework AgreementKind = "framework"
	KindService   AgreementKind = "service"
)

// Label is the kind's French name.
func (k AgreementKind) Label() string {
	if k == KindFramework {
		return "Convention-cadre"
	}
	return "Convention de service"
}

// AgreementStatus is where a convention stands.
type AgreementStatus string

const (
	AgreementDraft      AgreementStatus = "draft"
	AgreementSigned     AgreementStatus = "signed"
	AgreementExpired    AgreementStatus = "expired"
	AgreementTerminated AgreementStatus = "terminated"
)

// Label is the status's French name.
func (s AgreementStatus) Label() string {
	switch s {
	case AgreementDraft:
		return "Projet"
	case AgreementSigned:
		return "Signée"
	case AgreementExpired:
		return "Expirée"
	case AgreementTerminated:
		return "Résiliée"
	}
	return string(s)
}

func (s AgreementStatus) valid() bool {
	return s == AgreementDraft || s == AgreementSigned || s == AgreementExpired || s == AgreementTerminated
}

// Coverage modes of a convention.
const (
	CoverageListed     = "listed"
	CoverageMaintained = "maintained"
)

// NearExpiryDays is how long before its end a signed convention is flagged,
// leaving a quarter to renegotiate it.
const NearExpiryDays = 90

// Party is an organization named by a convention.
type Party struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Document is the signed convention as uploaded.
type Document struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
}

// Agreement is a convention between two organizations: Provider (party A)
// delivers the services and owns it, Beneficiary (party B) receives them.
type Agreement struct {
	ID          int64           `json:"id"`
	Kind        AgreementKind   `json:"kind"`
	Reference   string          `json:"reference"`
	Title       string          `json:"title"`
	Provider    Party           `json:"provider"`
	Beneficiary Party           `json:"beneficiary"`
	FrameworkID int64           `json:"framework_id,omitempty"`
	ValidFrom   Date            `json:"valid_from"`
	ValidUntil  Date            `json:"valid_until"`
	Status      AgreementStatus `json:"status"`
	SignedOn    string          `json:"signed_on,omitempty"`
	// Coverage is "listed" (Establishments) or "maintained" (every
	// establishment CoverageAuthority maintains, now and later).
	Coverage          string           `json:"coverage"`
	CoverageAuthority *Party           `json:"coverage_authority,omitempty"`
	Establishments    []Establishment  `json:"establishments,omitempty"`
	SurveyEnabled     bool             `json:"survey_enabled"`
	Document          *Document        `json:"document,omitempty"`
	Services          []CoveredService `json:"services,omitempty"`
	// NearExpiry is set on a signed convention ending within
	// NearExpiryDays.
	NearExpiry bool `json:"near_expiry"`
}

// EffectiveStatus is the status a reader should see: a signed convention
// past its end date is expired even before anyone updates it.
func (a Agreement) EffectiveStatus(today Date) AgreementStatus {
	if a.Status == AgreementSigned && a.ValidUntil.days() < today.days() {
		return AgreementExpired
	}
	return a.Status
}

// Establishment is a school named by a convention or a catalogue page.
type Establishment struct {
	ID   int64  `json:"id"`
	UAI  string `json:"uai"`
	Name string `json:"name"`
}

// Team is a support team: the hotline (N1), the proximity technicians (N2),
// a contractor (N3).
type Team struct {
	ID         int64  `json:"id"`
	OrgID      int64  `json:"org_id"`
	Name       string `json:"name"`
	Level      string `json:"level"`
	Contractor bool   `json:"contractor"`
	Email      string `json:"email,omitempty"`
}

// CoveredService is a service a convention covers, with its delivery model
// and its levels.
type CoveredService struct {
	ID           int64          `json:"id"`
	ServiceID    int64          `json:"service_id"`
	ServiceCode  string         `json:"service_code"`
	ServiceName  string         `json:"service_name"`
	CalendarID   int64          `json:"calendar_id"`
	CalendarName string         `json:"calendar_name"`
	N1           *Team          `json:"n1_team,omitempty"`
	N2           *Team          `json:"n2_team,omitempty"`
	N3           *Team          `json:"n3_team,omitempty"`
	Levels       []ServiceLevel `json:"levels"`
}

// ServiceLevel is a promise: time to own and time to resolve, for a
// request kind and a priority (1 very high .. 5 very low).
type ServiceLevel struct {
	RequestKind string `json:"request_kind"`
	Priority    int    `json:"priority"`
	TTO         Delay  `json:"tto"`
	TTR         Delay  `json:"ttr"`
}

// Priorities are the ticket priorities levels are set for.
var Priorities = []int{1, 2, 3, 4, 5}

// PriorityLabel is the French name of a priority.
func PriorityLabel(p int) string {
	switch p {
	case 1:
		return "1 – Très haute"
	case 2:
		return "2 – Haute"
	case 3:
		return "3 – Normale"
	case 4:
		return "4 – Basse"
	case 5:
		return "5 – Très basse"
	}
	return "?"
}

// Coverage is what the convention covering an establishment promises for a
// service. The helpdesk reads it when a ticket is opened or requalified.
type Coverage struct {
	AgreementID, AgreementServiceID    int64
	AgreementReference, AgreementTitle string
	CalendarID                         int64
	Calendar                           *Calendar
	// Levels: RequestKind "incident"|"request", Priority 1..5.
	Levels                       []ServiceLevel
	N1TeamID, N2TeamID, N3TeamID int64
	SurveyEnabled                bool
}

// Targets returns the levels for a request kind and priority.
func (c *Coverage) Targets(kind string, priority int) (tto, ttr Delay, ok bool) {
	if c == nil {
		return Delay{}, Delay{}, false
	}
	for _, l := range c.Levels {
		if l.RequestKind == kind && l.Priority == priority {
			return l.TTO, l.TTR, true
		}
	}
	return Delay{}, Delay{}, false
}

// BusinessCalendar is a calendar as stored, with its owner; Calendar
// compiles it.
type BusinessCalendar struct {
	ID      int64  `json:"id"`
	OwnerID int64  `json:"owner_id"`
	Owner   string `json:"owner_name"`
	Name    string `json:"name"`
	// Spec is the definition; its ClosedDuringSchoolHolidays follows
	// SchoolHolidayZone.
	Spec              Spec   `json:"spec"`
	SchoolHolidayZone string `json:"school_holiday_zone,omitempty"`
}

// Measure is the service level actually measured for a service at a school
// over a period.
type Measure struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Tickets int       `json:"tickets"`
	// TTOMet and TTRMet are the shares (0..1) of tickets within target.
	TTOMet float64 `json:"tto_met"`
	TTRMet float64 `json:"ttr_met"`
}

// MeasuredLevels is implemented by the helpdesk, which owns the tickets;
// the catalogue only shows its figures. It is given after construction
// (SetMeasuredLevels) because the helpdesk is built on the catalogue.
type MeasuredLevels interface {
	MeasuredLevels(ctx context.Context, establishmentID, serviceID int64, from, to time.Time) (Measure, error)
}

// Subscription is a service an establishment receives, under a convention.
type Subscription struct {
	AgreementID        int64           `json:"agreement_id"`
	AgreementReference string          `json:"agreement_reference"`
	AgreementTitle     string          `json:"agreement_title"`
	AgreementStatus    AgreementStatus `json:"agreement_status"`
	ValidFrom          Date            `json:"valid_from"`
	ValidUntil         Date            `json:"valid_until"`
	Coverage           string          `json:"coverage"`
	Service            CoveredService  `json:"service"`
	Family             string          `json:"family"`
	// Measured3 and Measured12 are the last 3 and 12 months; nil while
	// no MeasuredLevels is wired ("mesure indisponible").
	Measured3  *Measure `json:"measured_3_months,omitempty"`
	Measured12 *Measure `json:"measured_12_months,omitempty"`
}

// KindLabel is the French name of the request type's kind (for templates).
func (r RequestType) KindLabel() string { return KindLabel(r.Kind) }

// IMACLabel is the French name of the request type's IMAC operation.
func (r RequestType) IMACLabel() string { return IMACLabel(r.IMAC) }

// KindLabel is the kind's French name, for templates.
func (l ServiceLevel) KindLabel() string { return KindLabel(l.RequestKind) }

// FrenchDate writes d as 31/12/2025.
func (d Date) FrenchDate() string { return frDate(d) }
