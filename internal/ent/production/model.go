// Package production holds the ENT's collaborative productions (pad, wiki,
// blog, mind map, timeline, wall): who owns them, who they are shared with,
// the teachers' assignments that ask for them, their exports and the usage
// figures. The content itself lives in a Yjs document of the collaboration
// engine, named after the production's id (/collab/{id}).
//
// # Document layout per kind
//
// Browser editors and the server read and write the same shared types:
//
//   - pad: Y.XmlFragment "content" whose children are Y.XmlElement
//     "paragraph", "heading" (attribute "level" "1".."6") and "bullet_list" /
//     "ordered_list" (children "list_item"); paragraphs, headings and list
//     items hold one Y.XmlText whose formatting attributes are the
//     ProseMirror marks: "strong" {}, "em" {}, "link" {"href": url}.
//     Y.XmlElement "image" (no children; attributes "src": the URL, a
//     media of the production /productions/{id}/medias/{ref} or an
//     http(s) address, and "alt": its text alternative, "" when
//     decorative) is a block of its own.
//   - wiki: Y.Map "titles" page id → title (string), Y.Map "pages" page id →
//     Y.XmlFragment laid out like the pad's "content"; pages sort by id;
//     a link to another page has the href "#page-<id>".
//   - pad and wiki: Y.Map "authors" Yjs client id (decimal string) →
//     display name, written by the editors for the authorship colours; the
//     server ignores it.
//   - blog: Y.Array "posts" of Y.Map {id, title, body (plain text, paragraphs
//     separated by blank lines), image (URL, "" for none), author, status
//     ("draft" | "submitted" | "published" | "rejected"), created (RFC 3339),
//     comments: Y.Array of Y.Map {id, author, text, status, created}}. The
//     statuses are the editors' view: what readers see is what the owner or
//     a manager published through the server (moderation.go).
//   - mindmap: Y.Map "nodes" id → Y.Map {text, parent (id, "" for the root),
//     color, collapsed (bool), x, y (numbers: the node's centre relative to
//     its parent's, so that moving a node moves its branch)}.
//   - timeline: Y.Array "events" of Y.Map {start, end (ISO dates, end empty
//     for a point event), title, text, image (URL)}.
//   - wall: Y.Array "cards" of Y.Map {text, image, link (URLs), x, y
//     (numbers), column (string, "" when placed freely)}.
//
// Every text is plain text: markup only lives in the formatting attributes,
// so exports escape it and imports never carry live HTML.
package production

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"time"

	"socle/internal/ent/collab"
	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the productions.
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "production", FS: sub}
}

// Kind is the type of a production.
type Kind string

// The six kinds.
const (
	Pad      Kind = "pad"
	Wiki     Kind = "wiki"
	Blog     Kind = "blog"
	MindMap  Kind = "mindmap"
	Timeline Kind = "timeline"
	Wall     Kind = "wall"
)

// Kinds lists the kinds in display order.
var Kinds = []Kind{Pad, Wiki, Blog, MindMap, Timeline, Wall}

// Valid reports whether k is one of the six kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Label is the French name of the kind.
func (k Kind) Label() string {
	switch k {
	case Pad:
		return "Pad (texte collaboratif)"
	case Wiki:
		return "Wiki"
	case Blog:
		return "Blog"
	case MindMap:
		return "Carte mentale"
	case Timeline:
		return "Frise chronologique"
	case Wall:
		return "Mur collaboratif"
	}
	return string(k)
}

// Role is what a share allows.
type Role string

// Share roles, from the weakest.
const (
	RoleRead       Role = "read"
	RoleContribute Role = "contribute"
	RoleManage     Role = "manage"
	// RoleOwner is never stored on a share: it is the owner's access.
	RoleOwner Role = "owner"
)

func (r Role) rank() int {
	switch r {
	case RoleRead:
		return 1
	case RoleContribute:
		return 2
	case RoleManage:
		return 3
	case RoleOwner:
		return 4
	}
	return 0
}

// Label is the French name of the role.
func (r Role) Label() string {
	switch r {
	case RoleRead:
		return "Lecture"
	case RoleContribute:
		return "Contribution"
	case RoleManage:
		return "Gestion"
	case RoleOwner:
		return "Propriétaire"
	}
	return string(r)
}

// Target kinds of a share.
const (
	TargetUser  = "user"
	TargetClass = "class"
	TargetGroup = "group"
)

// Production is one collaborative production.
type Production struct {
	ID        int64     `json:"id"`
	Kind      Kind      `json:"kind"`
	Title     string    `json:"title"`
	OwnerID   int64     `json:"owner_id"`
	OwnerName string    `json:"owner_name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Role is the caller's access to it.
	Role Role `json:"role"`
	// DocumentURL is the collaboration endpoint of its Yjs document.
	DocumentURL  string `json:"document_url"`
	AssignmentID *int64 `json:"assignment_id,omitempty"`
	Trashed      bool   `json:"trashed"`
}

// DocID is the production's Yjs document name.
func (p Production) DocID() string { return docID(p.ID) }

// Share gives a person, a class or a group a role on a production.
type Share struct {
	ID         int64     `json:"id"`
	TargetKind string    `json:"target_kind"`
	TargetID   int64     `json:"target_id"`
	TargetName string    `json:"target_name"`
	Role       Role      `json:"role"`
	CreatedBy  int64     `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewProduction is the input of Create.
type NewProduction struct {
	Kind  Kind   `json:"kind"`
	Title string `json:"title"`
}

// NewShare is the input of Share.
type NewShare struct {
	TargetKind string `json:"target_kind"`
	TargetID   int64  `json:"target_id"`
	Role       Role   `json:"role"`
}

// Detail is a production with its shares (visible to managers only).
type Detail struct {
	Production
	Shares []Share `json:"shares"`
}

// Lists are the caller's productions.
type Lists struct {
	Mine       []Production `json:"mine"`
	SharedWith []Production `json:"shared_with_me"`
}

// Group is what the productions need of a class or group of the directory.
type Group struct {
	ID              int64
	Name            string
	Kind            string // "class" | "group"
	EstablishmentID int64
	Level           string
	Archived        bool
	// Pupils are the current pupil members (not the teachers).
	Pupils []int64
}

// Directory is the part of the directory ([4/8]) productions consume.
type Directory interface {
	// CanReach applies the communication rules between two people.
	CanReach(ctx context.Context, fromUserID, toUserID int64) (bool, error)
	// GroupsOfUser lists the current classes and groups of a person.
	GroupsOfUser(ctx context.Context, userID int64) ([]Group, error)
	// Group finds a class or group, archived or not; ErrNoGroup if absent.
	Group(ctx context.Context, id int64) (Group, error)
	// MembersOfGroup lists the current members of a class or group.
	MembersOfGroup(ctx context.Context, groupID int64) ([]int64, error)
	// EstablishmentsOf lists the establishments a person belongs to.
	EstablishmentsOf(ctx context.Context, userID int64) ([]int64, error)
	// DisplayName names a person ("" when unknown).
	DisplayName(ctx context.Context, userID int64) (string, error)
}

// Notifier sends notifications (timeline + e-mail, [4/8]).
type Notifier interface {
	Notify(ctx context.Context, userIDs []int64, n Notification) error
}

// Notification is what Notifier sends; Type is "assignment" or "share".
type Notification struct {
	Type, Title, Body, Link string
}

// Documents is the collaboration engine ([5/8]).
type Documents interface {
	Apply(ctx context.Context, docID string, fn func(d *yjs.Doc, tx *yjs.Tx) error) error
	Read(ctx context.Context, docID string, fn func(d *yjs.Doc) error) error
	// Reauthorize re-checks open connections after a share change.
	Reauthorize(docID string)
	// State is the whole document as one Yjs update (versions).
	State(ctx context.Context, docID string) ([]byte, error)
	// Subscribe delivers the documents' changes (versions, progress).
	Subscribe(docID string, buffer int) (<-chan collab.Change, func())
	// Forget deletes a document for good (erasure).
	Forget(ctx context.Context, docID string) error
}

// ErrNoGroup is what Directory.Group answers for an unknown group.
var ErrNoGroup = problem.NotFound("Classe ou groupe")

// Errors with stable codes.
var (
	errNotFound        = problem.NotFound("Production")
	errBadKind         = problem.Invalid("invalid_kind", "Type de production inconnu : choisissez pad, wiki, blog, carte mentale, frise ou mur.")
	errBadTitle        = problem.Invalid("invalid_title", "Le titre est obligatoire (200 caractères au plus).")
	errBadRole         = problem.Invalid("invalid_role", "Rôle de partage inconnu : lecture, contribution ou gestion.")
	errBadTarget       = problem.Invalid("invalid_share_target", "Destinataire du partage inconnu : une personne, une classe ou un groupe.")
	errOutsideRules    = problem.New(http.StatusForbidden, "share_outside_rules", "Partage refusé : les règles de communication de votre établissement ne vous permettent pas de partager avec cette personne.")
	errNotMember       = problem.New(http.StatusForbidden, "share_not_member", "Partage refusé : vous ne pouvez partager qu'avec une classe ou un groupe dont vous êtes membre.")
	errArchivedGroup   = problem.Invalid("group_archived", "Cette classe ou ce groupe a été archivé lors du passage à la nouvelle année scolaire : choisissez une classe ou un groupe de l'année en cours.")
	errBadFormat       = problem.Invalid("invalid_format", "Format d'export non disponible pour ce type de production.")
	errNoAssignee      = problem.Invalid("assignment_no_assignee", "Choisissez une classe, un groupe ou des élèves.")
	errBadDue          = problem.Invalid("assignment_invalid_due", "Date de rendu invalide (format AAAA-MM-JJ).")
	errAssignNotFound  = problem.NotFound("Travail demandé")
	errCannotShareSelf = problem.Invalid("share_self", "Vous êtes déjà propriétaire de cette production.")
)

// Assignment is a teacher's request for productions.
type Assignment struct {
	ID           int64  `json:"id"`
	TeacherID    int64  `json:"teacher_id"`
	Title        string `json:"title"`
	Instructions string `json:"instructions"`
	// Kind is empty when left to the pupils' choice.
	Kind      Kind      `json:"kind,omitempty"`
	Mode      string    `json:"mode"` // "individual" | "teams"
	Due       string    `json:"due,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Teams     []Team    `json:"teams"`
}

// Team is the pupils who make one production of an assignment.
type Team struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Members      []int64 `json:"members"`
	ProductionID *int64  `json:"production_id,omitempty"`
	// Progress: the production's last change, when one exists.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	Size      int        `json:"size"`
}

// NewAssignment is the input of Assign. Exactly one of GroupID or PupilIDs
// names who is asked; Teams (lists of pupil ids) apply in "teams" mode, else
// the group's members or the pupils form teams of TeamSize (1: individual).
type NewAssignment struct {
	Title        string    `json:"title"`
	Instructions string    `json:"instructions"`
	Kind         Kind      `json:"kind,omitempty"`
	Mode         string    `json:"mode"`
	Due          string    `json:"due,omitempty"`
	GroupID      int64     `json:"group_id,omitempty"`
	PupilIDs     []int64   `json:"pupil_ids,omitempty"`
	Teams        [][]int64 `json:"teams,omitempty"`
	TeamSize     int       `json:"team_size,omitempty"`
}

// Usage are counts of collective productions, never names.
type Usage struct {
	Total       int            `json:"total"`
	Collective  int            `json:"collective"`
	CrossSchool int            `json:"cross_school"`
	Cycle3      int            `json:"cycle3"`
	ByKind      map[string]int `json:"by_kind"`
	ByMonth     map[string]int `json:"by_month"`
	ByLevel     map[string]int `json:"by_level"`
}
