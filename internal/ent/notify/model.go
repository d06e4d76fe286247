// Package notify is the ENT's notifications: a timeline per person (what
// was shared with me, a new assignment, a comment, a ticket update...),
// read and unread, a JSON feed for mobile clients, and e-mails sent at once
// or in daily or weekly digests, never during quiet hours.
//
// Domains do not import this package's tables: the application declares
// the notification types at wiring time (Declare) and hands each domain a
// small adapter that calls Notify.
package notify

import (
	"embed"
	"io/fs"
	"time"

	"socle/internal/platform/db"
	"socle/internal/platform/mail"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of notifications. Its tables reference users,
// so it runs after auth.Migrations().
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "notify", FS: sub}
}

// Frequency says when a person receives e-mail for a type. The timeline
// always shows every notification; the frequency governs e-mail only.
type Frequency string

const (
	Immediate Frequency = "immediate"
	Daily     Frequency = "daily"
	Weekly    Frequency = "weekly"
	Never     Frequency = "never"
)

// Frequencies lists the choices in the order the preferences page shows.
var Frequencies = []Frequency{Immediate, Daily, Weekly, Never}

// Valid reports whether f is a known frequency.
func (f Frequency) Valid() bool {
	switch f {
	case Immediate, Daily, Weekly, Never:
		return true
	}
	return false
}

// Label is the French name of the frequency.
func (f Frequency) Label() string {
	switch f {
	case Immediate:
		return "Courriel immédiat"
	case Daily:
		return "Résumé quotidien"
	case Weekly:
		return "Résumé hebdomadaire"
	case Never:
		return "Pas de courriel"
	}
	return string(f)
}

// Type is a kind of notification, declared at wiring time with the
// frequency people get until they choose another.
type Type struct {
	Key     string
	Label   string
	Default Frequency
}

// Notification is what a domain asks to tell people.
type Notification struct {
	Type  string
	Title string
	Body  string
	// Link is a path on this site ("/espace/12") or an absolute URL.
	Link string
}

// Item is one notification of a timeline.
type Item struct {
	ID        int64      `json:"id"`
	Type      string     `json:"type"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// Unread reports whether the item has not been read.
func (it Item) Unread() bool { return it.ReadAt == nil }

// Page is one page of a timeline, newest first. NextCursor, when not
// empty, fetches the following (older) page.
type Page struct {
	Items      []Item `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Unread     int    `json:"unread"`
}

// MaxPageSize bounds a timeline page.
const MaxPageSize = 100

// DefaultPageSize is a page when the client asks for no size.
const DefaultPageSize = 20

// Preference is the frequency of one type for a person.
type Preference struct {
	Type      string    `json:"type"`
	Label     string    `json:"label"`
	Frequency Frequency `json:"frequency"`
	Default   Frequency `json:"default"`
}

// Preferences are a person's e-mail choices.
type Preferences struct {
	// QuietHours holds e-mail back in the evening and at the weekend.
	QuietHours bool         `json:"quiet_hours"`
	Types      []Preference `json:"types"`
}

// PreferencesInput changes a person's choices; absent types keep theirs.
type PreferencesInput struct {
	QuietHours *bool                `json:"quiet_hours,omitempty"`
	Types      map[string]Frequency `json:"types,omitempty"`
}

// MailConfig is the outgoing SMTP server. It has the very fields of the
// application's mail settings (helpdesk.MailConfig), so the wiring passes
// them by conversion, notify.MailConfig(cfg.Mail), without this package
// depending on the helpdesk.
type MailConfig = mail.Config

// Options configures the service.
type Options struct {
	// Mail is the outgoing SMTP server; an empty Host records mails as
	// not sent.
	Mail MailConfig
	// BaseURL is the public address, for links in e-mails.
	BaseURL string
	// Quiet are the quiet hours; the zero value means DefaultQuietHours.
	Quiet QuietHours
	// PollInterval is how often the worker looks for due mail (default 30 s).
	PollInterval time.Duration
}
