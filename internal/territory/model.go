// Package territory is the referential of the territory: organizations of
// the State and of the collectivités, establishments with their identifiers,
// who maintains what, enrolments per school year, the school calendar and
// the carte scolaire, and the imports of the national open data that fill it.
package territory

import (
	"embed"
	"io/fs"
	"strings"
	"time"

	"socle/internal/platform/db"
	"socle/internal/platform/text"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the territory.
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err)
	}
	return db.MigrationSet{Component: "territory", FS: sub}
}

// Kind is the kind of an organization.
type Kind string

const (
	KindAcademy       Kind = "academy"
	KindDSDEN         Kind = "dsden"
	KindDANE          Kind = "dane"
	KindRegion        Kind = "region"
	KindDepartement   Kind = "departement"
	KindEPCI          Kind = "epci"
	KindCommune       Kind = "commune"
	KindEstablishment Kind = "establishment"
)

// Label is the kind's French name.
func (k Kind) Label() string {
	switch k {
	case KindAcademy:
		return "Académie"
	case KindDSDEN:
		return "DSDEN"
	case KindDANE:
		return "DANE"
	case KindRegion:
		return "Région"
	case KindDepartement:
		return "Département"
	case KindEPCI:
		return "EPCI / métropole"
	case KindCommune:
		return "Commune"
	case KindEstablishment:
		return "Établissement"
	}
	return string(k)
}

// IsAuthority reports whether the kind is a collectivité.
func (k Kind) IsAuthority() bool {
	return k == KindRegion || k == KindDepartement || k == KindEPCI || k == KindCommune
}

// Organization is any node of the territory.
type Organization struct {
	ID          int64  `json:"id"`
	Kind        Kind   `json:"kind"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	ParentID    int64  `json:"parent_id,omitempty"`
	HolidayZone string `json:"holiday_zone,omitempty"`
}

// Type is the broad type of an establishment.
type Type string

const (
	TypeEcole   Type = "ecole"
	TypeCollege Type = "college"
	TypeLycee   Type = "lycee"
	TypeEREA    Type = "erea"
	TypeOther   Type = "autre"
	// TypeUnknown: the directory leaves the type empty for some rows (higher
	// education schools); they are valid and kept.
	TypeUnknown Type = ""
)

// Types lists the filterable types.
var Types = []Type{TypeEcole, TypeCollege, TypeLycee, TypeEREA, TypeOther}

// Label is the type's French name.
func (t Type) Label() string {
	switch t {
	case TypeEcole:
		return "École"
	case TypeCollege:
		return "Collège"
	case TypeLycee:
		return "Lycée"
	case TypeEREA:
		return "EREA"
	case TypeOther:
		return "Autre"
	}
	return "Non précisé"
}

// Sector is public or private.
type Sector string

const (
	SectorPublic  Sector = "public"
	SectorPrivate Sector = "prive"
)

// Label is the sector's French name.
func (s Sector) Label() string {
	switch s {
	case SectorPublic:
		return "Public"
	case SectorPrivate:
		return "Privé"
	}
	return "Non précisé"
}

// Priority is the education-priority label.
type Priority string

const (
	PriorityNone    Priority = ""
	PriorityREP     Priority = "REP"
	PriorityREPPlus Priority = "REP+"
)

// Status is whether the establishment is open.
type Status string

const (
	StatusOpen    Status = "open"
	StatusClosing Status = "closing"
	StatusClosed  Status = "closed"
)

// Label is the status's French name.
func (s Status) Label() string {
	switch s {
	case StatusOpen:
		return "Ouvert"
	case StatusClosing:
		return "À fermer"
	case StatusClosed:
		return "Fermé"
	}
	return string(s)
}

// Establishment is a school or another establishment of the directory.
type Establishment struct {
	ID              int64    `json:"id"`
	UAI             string   `json:"uai"`
	Name            string   `json:"name"`
	Type            Type     `json:"type"`
	NatureCode      string   `json:"nature_code,omitempty"`
	NatureLabel     string   `json:"nature_label,omitempty"`
	Sector          Sector   `json:"sector"`
	PrivateContract string   `json:"private_contract,omitempty"`
	Priority        Priority `json:"priority"`
	Status          Status   `json:"status"`
	Address1        string   `json:"address1,omitempty"`
	Address2        string   `json:"address2,omitempty"`
	Address3        string   `json:"address3,omitempty"`
	PostalCode      string   `json:"postal_code,omitempty"`
	CommuneCode     string   `json:"commune_code,omitempty"`
	CommuneName     string   `json:"commune_name,omitempty"`
	DepartementCode string   `json:"departement_code,omitempty"`
	AcademyCode     string   `json:"academy_code,omitempty"`
	Latitude        *float64 `json:"latitude,omitempty"`
	Longitude       *float64 `json:"longitude,omitempty"`
	Phone           string   `json:"phone,omitempty"`
	Email           string   `json:"email,omitempty"`
	Website         string   `json:"website,omitempty"`
	SIRET           string   `json:"siret,omitempty"`
	Circonscription string   `json:"circonscription,omitempty"`
	OpenedOn        string   `json:"opened_on,omitempty"`
	DirectoryPupils *int     `json:"directory_pupils,omitempty"`
	// Responsible is the collectivité that maintains the establishment (nil
	// for private establishments and those no rule assigns).
	Responsible *OrgRef `json:"responsible,omitempty"`
	// Academy is the académie in charge of pedagogy.
	Academy *OrgRef `json:"academy,omitempty"`
	Sites   []Site  `json:"sites,omitempty"`
}

// OrgRef names another organization.
type OrgRef struct {
	ID   int64  `json:"id"`
	Kind Kind   `json:"kind"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// Site is another address of an establishment published on several lines.
type Site struct {
	Name        string `json:"name"`
	Address     string `json:"address,omitempty"`
	PostalCode  string `json:"postal_code,omitempty"`
	CommuneCode string `json:"commune_code,omitempty"`
	CommuneName string `json:"commune_name,omitempty"`
}

// Enrolment is the pupils (and classes) of an establishment for a year.
type Enrolment struct {
	UAI        string         `json:"uai"`
	SchoolYear string         `json:"school_year"`
	Source     string         `json:"source"`
	Pupils     int            `json:"pupils"`
	Classes    *int           `json:"classes,omitempty"`
	Levels     map[string]int `json:"levels,omitempty"`
	Priority   Priority       `json:"priority,omitempty"`
}

// Holiday is a school-holiday period of the national calendar. EndsAt is the
// day classes resume.
type Holiday struct {
	Description string    `json:"description"`
	Population  string    `json:"population,omitempty"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	Academy     string    `json:"academy"`
	Zone        string    `json:"zone"`
	SchoolYear  string    `json:"school_year"`
}

// SchoolSector is a line of the carte scolaire.
type SchoolSector struct {
	CommuneCode  string `json:"commune_code"`
	CommuneName  string `json:"commune_name"`
	Locality     string `json:"locality,omitempty"`
	Street       string `json:"street,omitempty"`
	NumberFrom   string `json:"number_from,omitempty"`
	NumberTo     string `json:"number_to,omitempty"`
	Parity       string `json:"parity,omitempty"`
	CollegeUAI   string `json:"college_uai"`
	SingleSector bool   `json:"single_sector"`
}

// NormalizeZone spells a holiday zone as the national calendar does: "B",
// "b" and "zone B" all become "Zone B"; other zones ("Corse", "Réunion")
// are kept as they are.
func NormalizeZone(z string) string {
	z = strings.TrimSpace(z)
	letter := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(z, "Zone"), "zone"))
	if len(letter) == 1 && strings.Contains("ABCabc", letter) {
		return "Zone " + strings.ToUpper(letter)
	}
	return z
}

// uaiLetters is the check alphabet of UAI codes: the letter is
// uaiLetters[n mod 23] where n is the 7-digit number.
const uaiLetters = "ABCDEFGHJKLMNPRSTUVWXYZ"

// ValidUAI reports whether s is 7 digits and the right check letter.
func ValidUAI(s string) bool {
	if len(s) != 8 {
		return false
	}
	n := 0
	for i := 0; i < 7; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return s[7] == uaiLetters[n%23]
}

// UAICheckLetter returns the check letter for a 7-digit number.
func UAICheckLetter(n int) byte { return uaiLetters[n%23] }

// NormalizeUAI upper-cases and trims a UAI as typed by a person.
func NormalizeUAI(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// MaintainingKind is the kind of collectivité that maintains a public
// establishment of type t: communes run the écoles, départements the
// collèges, régions the lycées and EREA. Empty when no rule applies.
func MaintainingKind(t Type) Kind {
	switch t {
	case TypeEcole:
		return KindCommune
	case TypeCollege:
		return KindDepartement
	case TypeLycee, TypeEREA:
		return KindRegion
	}
	return ""
}

// SearchKey folds text for accent- and case-insensitive search (see
// text.SearchKey).
func SearchKey(parts ...string) string { return text.SearchKey(parts...) }
