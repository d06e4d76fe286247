// Package privacy is data protection (RGPD) for the ENT's people, most of
// them minors: the export of everything a person's data is made of (a zip
// with a readable summary in French, a JSON file per domain and the
// person's files), deletion after a grace period during which it can be
// cancelled, the log of who read a pupil's data, and pseudonyms for
// statistics that must never carry a name.
//
// Each domain holding personal data is a Contributor registered at wiring
// time; this package imports none of them.
package privacy

import (
	"archive/zip"
	"context"
	"embed"
	"io/fs"
	"time"

	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of data protection. The account contributor
// reads auth's tables, so it runs after auth.Migrations().
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "privacy", FS: sub}
}

// Contributor is a domain that holds personal data. ExportPerson writes the
// person's data into the zip, under a folder named Name() (entries outside
// it are moved into it); ErasePerson removes or anonymises it for good.
// Both must hold for a person the domain knows nothing of (no-op).
type Contributor interface {
	Name() string
	ExportPerson(ctx context.Context, userID int64, zw *zip.Writer) error
	ErasePerson(ctx context.Context, userID int64) error
}

// Guardians tells whether a person is a legal guardian of a pupil; the
// people domain implements it through an adapter wired by the application.
type Guardians interface {
	IsGuardian(ctx context.Context, parentID, childID int64) (bool, error)
}

// Establishments gives the establishments a person belongs to beyond
// their roles (class memberships of the people domain), so that the
// administrators of a pupil's school can act for them. Optional: without
// it, the organizations of the person's roles are used.
type Establishments interface {
	EstablishmentsOf(ctx context.Context, userID int64) ([]int64, error)
}

// Deletion statuses.
const (
	StatusScheduled = "scheduled"
	StatusRunning   = "running"
	StatusCancelled = "cancelled"
	StatusDone      = "done"
)

// Deletion is a request to erase a person's data.
type Deletion struct {
	ID          int64      `json:"id"`
	UserID      int64      `json:"user_id"`
	Status      string     `json:"status"`
	RequestedBy int64      `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	DueAt       time.Time  `json:"due_at"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
}

// StatusLabel is the French name of the status.
func (d Deletion) StatusLabel() string {
	switch d.Status {
	case StatusScheduled:
		return "Suppression programmée"
	case StatusRunning:
		return "Suppression en cours"
	case StatusCancelled:
		return "Suppression annulée"
	case StatusDone:
		return "Données supprimées"
	}
	return d.Status
}

// Access is one read of a person's data by someone else.
type Access struct {
	ID int64 `json:"id"`
	// ReaderID is who read; ReaderName their name as the account has it.
	ReaderID   int64     `json:"reader_id"`
	ReaderName string    `json:"reader_name"`
	What       string    `json:"what"`
	At         time.Time `json:"at"`
}

// AccessPage is a page of the access log, newest first.
type AccessPage struct {
	Items      []Access `json:"items"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// Options configures the service.
type Options struct {
	// ArchiveDir keeps the export made before a deletion (in the data
	// directory, which backups cover).
	ArchiveDir string
	// GracePeriod is how long a deletion waits, cancellable (default 30
	// days).
	GracePeriod time.Duration
	// PollInterval is how often the worker runs due deletions (default 1 h).
	PollInterval time.Duration
	Guardians    Guardians
	// Establishments may be nil.
	Establishments Establishments
}
