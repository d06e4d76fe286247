// Package space is the personal document space ("espace documentaire"):
// folders and files of each person with a quota per profile, a trash with
// restore, earlier versions of overwritten files, a JSON API, a page "Mes
// documents" and a WebDAV endpoint. Metadata lives in the database; content
// lives behind the Blobs interface (local disk or S3-compatible storage).
// Each class and group also has a shared space, open to its members only.
package space

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the spaces. Owners are auth users, so it runs
// after auth.
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err)
	}
	return db.MigrationSet{Component: "space", FS: sub}
}

// OwnerKind says who a space belongs to.
type OwnerKind string

const (
	OwnerUser OwnerKind = "user"
	// OwnerClass and OwnerGroup are the shared spaces of a class and of a
	// group (owner_id: the id of the class or group in the people model).
	OwnerClass OwnerKind = "class"
	OwnerGroup OwnerKind = "group"
)

// GroupSpace is a class or group whose shared space a person may open.
type GroupSpace struct {
	ID   int64
	Name string
	// Kind is OwnerClass or OwnerGroup; empty means OwnerGroup.
	Kind OwnerKind
}

// Memberships says which class and group spaces a person belongs to (the
// people model, through an adapter the app wires). It is asked on every
// request, so that a membership that ends closes the space at once.
type Memberships interface {
	SpacesOf(ctx context.Context, userID int64) ([]GroupSpace, error)
}

const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
)

// Config is the policy of the spaces, built once by the app.
type Config struct {
	// QuotaByRole gives the quota of a person by profile; a person with
	// several roles gets the largest.
	QuotaByRole map[auth.Role]int64
	// DefaultQuota applies to people with none of the roles above.
	DefaultQuota int64
	// MaxVersions is how many earlier contents of a file are kept.
	MaxVersions int
	// TempDir receives WebDAV uploads until they are committed.
	TempDir string
	// GroupQuota gives the quota of a class or group space by kind.
	GroupQuota map[OwnerKind]int64
	// Memberships gives the class and group spaces of a person; nil: no
	// shared spaces, only personal ones.
	Memberships Memberships
}

// DefaultConfig is the policy unless configured otherwise.
func DefaultConfig() Config {
	return Config{
		QuotaByRole: map[auth.Role]int64{
			auth.RolePupil:             1 * GiB,
			auth.RoleParent:            256 * MiB,
			auth.RoleTeacher:           5 * GiB,
			auth.RoleEstablishmentHead: 5 * GiB,
			auth.RolePlatformAdmin:     5 * GiB,
		},
		DefaultQuota: 2 * GiB,
		MaxVersions:  10,
		GroupQuota:   map[OwnerKind]int64{OwnerClass: 5 * GiB, OwnerGroup: 2 * GiB},
	}
}

// Space is a tree of folders and files with a quota.
type Space struct {
	ID        int64     `json:"id"`
	OwnerKind OwnerKind `json:"owner_kind"`
	OwnerID   int64     `json:"owner_id"`
	Name      string    `json:"name"`
	Quota     int64     `json:"quota_bytes"`
	Used      int64     `json:"used_bytes"`
	// Folder is where the space appears in WebDAV below /dav/ ("" for the
	// personal space at its root, "Classes/6e A" for a class).
	Folder string `json:"folder"`
	// mayPurge: the caller may delete for good from the trash (in a shared
	// space, pupils may only trash, so a class's work cannot be destroyed
	// by one pupil).
	mayPurge bool
}

// Shared reports whether the space is a class or group space.
func (s Space) Shared() bool { return s.OwnerKind == OwnerClass || s.OwnerKind == OwnerGroup }

// MayPurge reports whether the caller may empty this space's trash for good.
func (s Space) MayPurge() bool { return s.mayPurge }

// KindLabel names the kind of space for people.
func (s Space) KindLabel() string {
	switch s.OwnerKind {
	case OwnerClass:
		return "Classe"
	case OwnerGroup:
		return "Groupe"
	}
	return "Personnel"
}

// Node is a folder or a file.
type Node struct {
	ID          int64      `json:"id"`
	SpaceID     int64      `json:"-"`
	ParentID    int64      `json:"parent_id,omitempty"` // 0: at the root
	Name        string     `json:"name"`
	IsDir       bool       `json:"is_dir"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256,omitempty"`
	ContentType string     `json:"content_type,omitempty"`
	StorageKey  string     `json:"-"`
	ETag        string     `json:"etag"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
	TrashedWith int64      `json:"-"`
}

// Version is an earlier content of a file.
type Version struct {
	ID          int64     `json:"id"`
	NodeID      int64     `json:"node_id"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	ContentType string    `json:"content_type"`
	StorageKey  string    `json:"-"`
	WrittenAt   time.Time `json:"written_at"`
	ArchivedAt  time.Time `json:"archived_at"`
}

// MaxNameBytes bounds a name (most file systems stop at 255 bytes).
const MaxNameBytes = 255

// MaxDepth bounds how deep folders nest, so a path lookup stays cheap.
const MaxDepth = 64

var (
	errQuota = problem.New(http.StatusInsufficientStorage, "quota_exceeded",
		"Espace de stockage insuffisant : votre quota est atteint. Videz la corbeille ou supprimez des fichiers.")
	errDeniedType = problem.New(http.StatusUnsupportedMediaType, "file_type_denied",
		"Ce type de fichier (programme exécutable ou script) n'est pas accepté dans l'espace documentaire.")
	errExists   = problem.Conflict("name_taken", "Un élément porte déjà ce nom dans ce dossier.")
	errNotDir   = problem.Conflict("not_a_folder", "La destination n'est pas un dossier.")
	errIsDir    = problem.Conflict("is_a_folder", "Cet élément est un dossier.")
	errCycle    = problem.Conflict("move_into_itself", "Impossible de déplacer un dossier dans lui-même.")
	errTooDeep  = problem.Invalid("too_deep", "Trop de dossiers imbriqués.")
	errNotFound = problem.NotFound("Document")
)

// windowsReserved are the base names Windows refuses, whatever the extension.
var windowsReserved = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true}

func invalidName(msg string) *problem.Error {
	return problem.Invalid("invalid_name", msg).Field("name", msg)
}

// ValidateName checks a folder or file name. Names are never used as disk
// paths (content is stored under random keys), but they travel to every
// client's file system through WebDAV and downloads, so they must be valid
// there too.
func ValidateName(name string) error {
	switch {
	case name == "":
		return invalidName("Le nom ne peut pas être vide.")
	case name == "." || name == "..":
		return invalidName("« . » et « .. » ne sont pas des noms valides.")
	case len(name) > MaxNameBytes:
		return invalidName("Le nom est trop long (255 octets au plus).")
	case !utf8.ValidString(name):
		return invalidName("Le nom contient des caractères invalides.")
	case strings.ContainsAny(name, `/\`):
		return invalidName("Le nom ne peut pas contenir « / » ni « \\ ».")
	case strings.ContainsAny(name, `<>:"|?*`):
		return invalidName(`Le nom ne peut pas contenir les caractères < > : " | ? * (refusés par Windows).`)
	case strings.HasSuffix(name, " ") || strings.HasSuffix(name, "."):
		return invalidName("Le nom ne peut pas finir par une espace ou un point (refusé par Windows).")
	}
	for _, r := range name {
		if r == 0 || unicode.IsControl(r) {
			return invalidName("Le nom contient des caractères de contrôle.")
		}
	}
	base, _, _ := strings.Cut(name, ".")
	if windowsReserved[strings.ToUpper(strings.TrimSpace(base))] {
		return invalidName("Ce nom est réservé par Windows (CON, PRN, AUX, NUL, COM1, LPT1...).")
	}
	return nil
}

// SizeLabel is the size written for people.
func (n Node) SizeLabel() string { return HumanSize(n.Size) }

// UsedLabel and QuotaLabel are the usage written for people.
func (s Space) UsedLabel() string  { return HumanSize(s.Used) }
func (s Space) QuotaLabel() string { return HumanSize(s.Quota) }
