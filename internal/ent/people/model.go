// Package people is the ENT's directory: the people of each establishment
// (pupils, teachers, parents, staff, collectivité agents) on top of the
// platform's accounts, their classes and groups per school year, parent ↔
// child links, the feed ("alimentation") that keeps them in step with the
// school-management exports, the school-year rollover ("bascule") and the
// communication rules that decide who may reach whom.
//
// A person is an auth account (users) plus a profile row; every membership
// in an establishment carries the auth grant of the matching role, so the
// scope checks of every other domain work unchanged.
package people

import (
	"context"
	"embed"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of this package (after auth and territory).
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	return db.MigrationSet{Component: "people", FS: sub}
}

// Profile is what a person is to the school.
type Profile string

const (
	ProfilePupil   Profile = "pupil"
	ProfileTeacher Profile = "teacher"
	ProfileParent  Profile = "parent"
	ProfileStaff   Profile = "staff"
	ProfileAgent   Profile = "agent"
)

// Profiles lists the profiles in the order the UI shows them.
var Profiles = []Profile{ProfilePupil, ProfileTeacher, ProfileParent, ProfileStaff, ProfileAgent}

// Valid reports whether p is a known profile.
func (p Profile) Valid() bool {
	for _, q := range Profiles {
		if p == q {
			return true
		}
	}
	return false
}

// Label is the profile's French name.
func (p Profile) Label() string {
	switch p {
	case ProfilePupil:
		return "Élève"
	case ProfileTeacher:
		return "Enseignant"
	case ProfileParent:
		return "Parent"
	case ProfileStaff:
		return "Personnel"
	case ProfileAgent:
		return "Agent de collectivité"
	}
	return string(p)
}

// adult reports whether the profile is an adult's.
func (p Profile) adult() bool { return p != ProfilePupil }

// Function is a staff member's job in the establishment.
type Function string

const (
	FunctionHead           Function = "head"
	FunctionAdministration Function = "administration"
	FunctionVieScolaire    Function = "vie-scolaire"
)

// Label is the function's French name.
func (f Function) Label() string {
	switch f {
	case FunctionHead:
		return "Direction"
	case FunctionAdministration:
		return "Administration"
	case FunctionVieScolaire:
		return "Vie scolaire"
	}
	return string(f)
}

// Valid reports whether f is a known function (or none).
func (f Function) Valid() bool {
	return f == "" || f == FunctionHead || f == FunctionAdministration || f == FunctionVieScolaire
}

// RoleOf is the auth role a membership grants on its establishment, so
// that the scope checks of the whole platform follow the directory. Staff
// other than the head get the teacher's role: it reads the school's people
// (narrowed by the communication rules) and opens tickets, without the
// head's right to run the feed and the rollover. Collectivité agents get
// no role on the school from the directory: their rights on it come from
// their collectivité's grants.
func RoleOf(p Profile, f Function) auth.Role {
	switch p {
	case ProfilePupil:
		return auth.RolePupil
	case ProfileParent:
		return auth.RoleParent
	case ProfileTeacher:
		return auth.RoleTeacher
	case ProfileStaff:
		if f == FunctionHead {
			return auth.RoleEstablishmentHead
		}
		return auth.RoleTeacher
	}
	return ""
}

// Levels are the class levels from the first year of maternelle to the
// last of lycée, in order.
var Levels = []string{"PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2", "6e", "5e", "4e", "3e", "2nde", "1re", "Tle"}

// ParseLevel reads a level as school-management exports write it ("CM2",
// "6EME", "6e", "5°", "2NDE", "1ERE", "TERM", "T"), or the level at the start
// of a class name ("CM2 A", "6B", "TLE 3"). ok is false when none is found.
func ParseLevel(v string) (string, bool) {
	k := strings.ToUpper(strings.TrimSpace(fold(v)))
	if k == "" {
		return "", false
	}
	// Longest prefixes first, so that "CE1" is not read as "CE".
	prefixes := []struct{ p, level string }{
		{"TERMINALE", "Tle"}, {"TERM", "Tle"}, {"TLE", "Tle"},
		{"2NDE", "2nde"}, {"SECONDE", "2nde"}, {"2DE", "2nde"},
		{"1ERE", "1re"}, {"1RE", "1re"}, {"PREMIERE", "1re"},
		{"6EME", "6e"}, {"5EME", "5e"}, {"4EME", "4e"}, {"3EME", "3e"},
		{"CE1", "CE1"}, {"CE2", "CE2"}, {"CM1", "CM1"}, {"CM2", "CM2"}, {"CP", "CP"},
		{"PS", "PS"}, {"MS", "MS"}, {"GS", "GS"},
		{"6E", "6e"}, {"5E", "5e"}, {"4E", "4e"}, {"3E", "3e"},
		{"6", "6e"}, {"5", "5e"}, {"4", "4e"}, {"3", "3e"}, {"2", "2nde"}, {"1", "1re"}, {"T", "Tle"},
	}
	for _, c := range prefixes {
		if !strings.HasPrefix(k, c.p) {
			continue
		}
		rest := k[len(c.p):]
		// A bare digit or T must be followed by a separator or a class
		// letter, not by more digits ("35" is no level).
		if len(c.p) == 1 && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			continue
		}
		return c.level, true
	}
	return "", false
}

// LevelRank orders levels (-1 for an unknown one).
func LevelRank(l string) int {
	for i, x := range Levels {
		if x == l {
			return i
		}
	}
	return -1
}

// Person is a member of the directory.
type Person struct {
	UserID      int64      `json:"id"`
	Email       string     `json:"login"`
	DisplayName string     `json:"display_name"`
	Profile     Profile    `json:"profile"`
	Function    Function   `json:"function,omitempty"`
	INE         string     `json:"ine,omitempty"`
	LastName    string     `json:"last_name"`
	FirstName   string     `json:"first_name"`
	BirthDate   string     `json:"birth_date,omitempty"`
	Disabled    bool       `json:"disabled"`
	SuspendedAt *time.Time `json:"suspended_at,omitempty"`
}

// GroupRef names a class or a group, for the other domains (sharing,
// assignments, class spaces).
type GroupRef struct {
	ID              int64
	Name            string
	Kind            string // "class" | "group"
	SchoolYear      string
	EstablishmentID int64
}

// Group kinds and types.
const (
	KindClass = "class"
	KindGroup = "group"

	TypeSubject     = "subject"
	TypeProject     = "project"
	TypeClub        = "club"
	TypeCrossSchool = "cross-school"
)

// GroupTypes are the kinds of groups that are not classes.
var GroupTypes = []string{TypeSubject, TypeProject, TypeClub, TypeCrossSchool}

// GroupTypeLabel is a group type's French name.
func GroupTypeLabel(t string) string {
	switch t {
	case TypeSubject:
		return "Groupe de matière"
	case TypeProject:
		return "Projet"
	case TypeClub:
		return "Club"
	case TypeCrossSchool:
		return "Groupe inter-établissements"
	case "":
		return "Classe"
	}
	return t
}

// Group is a class or a group of one school year.
type Group struct {
	ID              int64      `json:"id"`
	EstablishmentID int64      `json:"establishment_id"`
	UAI             string     `json:"establishment"`
	SchoolYear      string     `json:"school_year"`
	Kind            string     `json:"kind"`
	Type            string     `json:"type,omitempty"`
	Name            string     `json:"name"`
	Level           string     `json:"level,omitempty"`
	ArchivedAt      *time.Time `json:"archived_at,omitempty"`
	Members         int        `json:"members"`
	// Establishments lists, for a cross-school group, the UAIs of every
	// establishment it spans.
	Establishments []string `json:"establishments,omitempty"`
}

// Member is a person in a group.
type Member struct {
	UserID      int64   `json:"id"`
	DisplayName string  `json:"display_name"`
	Profile     Profile `json:"profile"`
	Role        string  `json:"role"`
	Subject     string  `json:"subject,omitempty"`
}

// Membership is a person's place in an establishment.
type Membership struct {
	EstablishmentID int64    `json:"establishment_id"`
	UAI             string   `json:"establishment"`
	Name            string   `json:"name"`
	Profile         Profile  `json:"profile"`
	Function        Function `json:"function,omitempty"`
}

// SchoolYearOf is the school year a date falls in: from 1 August, the year
// that starts then ("2025-2026" from 1 August 2025 to 31 July 2026).
func SchoolYearOf(t time.Time) string {
	y := t.Year()
	if t.Month() < time.August {
		y--
	}
	return yearLabel(y)
}

func yearLabel(start int) string {
	return strconv.Itoa(start) + "-" + strconv.Itoa(start+1)
}

// ValidSchoolYear checks "2025-2026".
func ValidSchoolYear(y string) bool {
	if len(y) != 9 || y[4] != '-' {
		return false
	}
	a, b := atoi(y[:4]), atoi(y[5:])
	return a > 1900 && b == a+1
}

// NextSchoolYear is the year after y ("2025-2026" → "2026-2027").
func NextSchoolYear(y string) string {
	if !ValidSchoolYear(y) {
		return ""
	}
	return yearLabel(atoi(y[:4]) + 1)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// fold removes accents, for comparisons of names typed differently. The
// common Latin letters are mapped by hand: the feed folds several values
// per line, and a Unicode transformer per call would dominate its cost.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		if m, ok := unaccent(r); ok {
			b.WriteString(m)
			continue
		}
		// Anything else: decompose and drop the marks.
		out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), string(r))
		if err != nil {
			out = string(r)
		}
		b.WriteString(out)
	}
	return b.String()
}

// unaccent maps the accented letters of French and its neighbours.
func unaccent(r rune) (string, bool) {
	switch r {
	case 'à', 'â', 'ä', 'á', 'ã', 'å':
		return "a", true
	case 'À', 'Â', 'Ä', 'Á', 'Ã', 'Å':
		return "A", true
	case 'é', 'è', 'ê', 'ë':
		return "e", true
	case 'É', 'È', 'Ê', 'Ë':
		return "E", true
	case 'î', 'ï', 'í', 'ì':
		return "i", true
	case 'Î', 'Ï', 'Í', 'Ì':
		return "I", true
	case 'ô', 'ö', 'ó', 'ò', 'õ':
		return "o", true
	case 'Ô', 'Ö', 'Ó', 'Ò', 'Õ':
		return "O", true
	case 'ù', 'û', 'ü', 'ú':
		return "u", true
	case 'Ù', 'Û', 'Ü', 'Ú':
		return "U", true
	case 'ç':
		return "c", true
	case 'Ç':
		return "C", true
	case 'ñ':
		return "n", true
	case 'Ñ':
		return "N", true
	case 'ÿ', 'ý':
		return "y", true
	case 'Ÿ', 'Ý':
		return "Y", true
	case 'æ':
		return "ae", true
	case 'Æ':
		return "AE", true
	case 'œ':
		return "oe", true
	case 'Œ':
		return "OE", true
	case '’':
		return "'", true
	}
	return "", false
}

// NameKey is how a pupil is recognised without INE: last name, first name
// and birth date, folded (case, accents, spaces, hyphens and apostrophes
// ignored), so "Le Gall-Hervé" and "LE GALL HERVE" are the same.
func NameKey(last, first, birth string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(fold(s)) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return clean(last) + "|" + clean(first) + "|" + birth
}

// loginPart is a name made fit for a login: lower case, no accents,
// letters and digits only, words joined by hyphens.
func loginPart(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(fold(s)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// Deleter deletes a person once the grace period after their suspension
// has passed: in production the data-protection service, which exports
// their data first and then erases it everywhere.
type Deleter interface {
	DeletePerson(ctx context.Context, userID int64) error
}

// AccessLogger records who read a pupil's data.
type AccessLogger interface {
	RecordAccess(ctx context.Context, readerID, subjectID int64, what string) error
}

// ShareReporter lists the shares that point to groups (productions, files
// shared with a class), so that a rollover reports those it would leave
// pointing at archived groups instead of silently breaking them.
type ShareReporter interface {
	SharesToGroups(ctx context.Context, groupIDs []int64) ([]string, error)
}
