package helpdesk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// IMAC operations a request may carry (the catalogue's request type says
// which): install, move, add, change.
const (
	OpInstall = "install"
	OpMove    = "move"
	OpAdd     = "add"
	OpChange  = "change"
)

// IMACLabel is an operation's French name.
func IMACLabel(op string) string {
	switch op {
	case OpInstall:
		return "Installation"
	case OpMove:
		return "Déménagement"
	case OpAdd:
		return "Ajout"
	case OpChange:
		return "Modification"
	}
	return "Équipements concernés"
}

// maxTicketAssets bounds the assets one ticket names: a class moving rooms
// is a few dozen devices, not thousands.
const maxTicketAssets = 200

// NewAssetSpec is the device an install or add request brings into the
// fleet when solved.
type NewAssetSpec struct {
	Type         string `json:"type"`
	Name         string `json:"name,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Serial       string `json:"serial,omitempty"`
}

// IMACSpec is what a ticket says of the fleet: the assets concerned and,
// for a request, the change solving it applies to them.
type IMACSpec struct {
	Operation string `json:"operation,omitempty"`
	// Assets are asset ids of the ticket's establishment.
	Assets []int64 `json:"assets"`
	// Building and Room are the new location (move, or install/change).
	Building string `json:"building,omitempty"`
	Room     string `json:"room,omitempty"`
	// State is the new lifecycle state of the assets (change).
	State string `json:"state,omitempty"`
	// NewAsset is the device created by an install or add.
	NewAsset *NewAssetSpec `json:"new_asset,omitempty"`
	// AppliedAt is when solving the ticket applied the change; CreatedAsset
	// the asset it created.
	AppliedAt    *time.Time `json:"applied_at,omitempty"`
	CreatedAsset int64      `json:"created_asset,omitempty"`
}

// hasChange reports whether the spec asks the fleet to change anything.
func (s IMACSpec) hasChange() bool {
	return s.Building != "" || s.Room != "" || s.State != "" || s.NewAsset != nil
}

// IMACChange is what solving a ticket asks the fleet to do, inside the
// transaction that solves it.
type IMACChange struct {
	TicketID        int64
	TicketRef       string
	EstablishmentID int64
	IMACSpec
	// Actor is who solved the ticket (for the asset's history).
	Actor string
	At    time.Time
}

// IMACResult is what the fleet did.
type IMACResult struct {
	CreatedAsset int64
	// Summary is a French sentence for the ticket's history.
	Summary string
}

// Fleet is the equipment fleet as the helpdesk needs it: the fleet
// implements it and the application wires it with SetFleet. The helpdesk
// never imports the fleet (the fleet is the higher domain: it lists the
// tickets of an asset through the helpdesk).
type Fleet interface {
	// CheckAssets fails unless every id is an asset of the establishment
	// that p may read (problem errors, French).
	CheckAssets(ctx context.Context, p *auth.Principal, establishmentID int64, ids []int64) error
	// CheckChange validates the change a spec asks for (state, type...),
	// so that a request naming an impossible change is refused when it
	// is written, not when it is solved.
	CheckChange(spec IMACSpec) error
	// ApplyIMAC applies the change in tx, on behalf of p, who must be
	// allowed to manage the establishment's fleet.
	ApplyIMAC(ctx context.Context, tx *db.Tx, p *auth.Principal, change IMACChange) (IMACResult, error)
}

// SetFleet connects the fleet; without it tickets cannot name assets.
func (s *Service) SetFleet(f Fleet) { s.fleet = f }

// evIMAC is the event type of a change applied to the fleet.
const evIMAC = "imac"

// imacOperation is the operation a ticket's request type carries, "" when
// none.
func (s *Service) imacOperation(ctx context.Context, q db.Querier, t *Ticket) (string, error) {
	if t.RequestTypeID == 0 {
		return "", nil
	}
	var op string
	err := q.QueryRowContext(ctx, `SELECT imac FROM request_types WHERE id = ?`, t.RequestTypeID).Scan(&op)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return op, err
}

// SetIMAC names the assets a ticket concerns and, for a request, the
// change to apply when it is solved. Only someone who may work the ticket
// writes it, and only while it is open. An incident may name assets but
// asks for no change.
func (s *Service) SetIMAC(ctx context.Context, p *auth.Principal, ref string, spec IMACSpec) (IMACSpec, error) {
	if s.fleet == nil {
		return IMACSpec{}, problem.Conflict("fleet_unavailable", "Le parc n'est pas relié à l'assistance.")
	}
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return IMACSpec{}, err
	}
	// A requester may name the devices of their own ticket; the change
	// to make is a technician's, and a requester's save must not erase it.
	work, err := s.canWork(ctx, p, &t)
	if err != nil {
		return IMACSpec{}, err
	}
	if !work {
		if t.RequesterID != p.User.ID || spec.hasChange() {
			return IMACSpec{}, problem.Forbidden()
		}
		cur, err := s.store.imac(ctx, s.db, t.ID)
		if err != nil {
			return IMACSpec{}, err
		}
		if cur.hasChange() {
			return IMACSpec{}, problem.Forbidden()
		}
	}
	spec, err = s.normalizeIMAC(ctx, &t, spec)
	if err != nil {
		return IMACSpec{}, err
	}
	if err := s.fleet.CheckAssets(ctx, p, t.EstablishmentID, spec.Assets); err != nil {
		return IMACSpec{}, err
	}
	if spec.hasChange() {
		if err := s.fleet.CheckChange(spec); err != nil {
			return IMACSpec{}, err
		}
	}
	now := s.now().UTC()
	err = s.mutate(ctx, &t, func(tx *db.Tx) error {
		if !t.Status.open() {
			return problem.Conflict("ticket_closed", "Un ticket résolu ou clos ne change plus d'équipements.")
		}
		if err := s.store.saveIMAC(ctx, tx, t.ID, spec); err != nil {
			return err
		}
		return s.store.addEvent(ctx, tx, t.ID, Event{At: now, ActorID: p.User.ID, Type: evIMAC, To: spec.Operation,
			Detail: fmt.Sprintf("Équipements concernés : %d", len(spec.Assets))})
	})
	if err != nil {
		return IMACSpec{}, err
	}
	return spec, nil
}

// normalizeIMAC trims the spec, dedupes its assets and checks it fits the
// ticket: the operation is the request type's when it has one.
func (s *Service) normalizeIMAC(ctx context.Context, t *Ticket, spec IMACSpec) (IMACSpec, error) {
	spec.Building, spec.Room, spec.State = strings.TrimSpace(spec.Building), strings.TrimSpace(spec.Room), strings.TrimSpace(spec.State)
	spec.Operation = strings.TrimSpace(spec.Operation)
	spec.AppliedAt, spec.CreatedAsset = nil, 0
	if spec.NewAsset != nil {
		n := *spec.NewAsset
		n.Type, n.Name, n.Manufacturer = strings.TrimSpace(n.Type), strings.TrimSpace(n.Name), strings.TrimSpace(n.Manufacturer)
		n.Model, n.Serial = strings.TrimSpace(n.Model), strings.TrimSpace(n.Serial)
		spec.NewAsset = &n
	}
	ids := make([]int64, 0, len(spec.Assets))
	for _, id := range spec.Assets {
		if id > 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	spec.Assets = ids
	bad := func(code, msg, field, fmsg string) (IMACSpec, error) {
		return IMACSpec{}, problem.Invalid(code, msg).Field(field, fmsg)
	}
	if len(ids) > maxTicketAssets {
		return bad("too_many_assets", fmt.Sprintf("Un ticket nomme au plus %d équipements.", maxTicketAssets), "assets", "Trop d'équipements.")
	}
	op, err := s.imacOperation(ctx, s.db, t)
	if err != nil {
		return IMACSpec{}, err
	}
	switch {
	case op != "":
		if spec.Operation != "" && spec.Operation != op {
			return bad("imac_operation_mismatch", "Le type de demande du ticket est « "+IMACLabel(op)+" » : l'opération ne peut pas être changée.", "operation", "Opération du type de demande.")
		}
		spec.Operation = op
	case t.Kind == KindIncident || t.Kind == KindProblem:
		if spec.Operation != "" || spec.hasChange() {
			return bad("imac_not_request", "Un incident nomme les équipements en cause ; seule une demande (installation, déménagement, ajout, modification) change le parc.", "operation", "Réservé aux demandes.")
		}
	case spec.Operation != "" && !slices.Contains([]string{OpInstall, OpMove, OpAdd, OpChange}, spec.Operation):
		return bad("invalid_operation", "Opération inconnue : install, move, add ou change.", "operation", "Opération inconnue.")
	}
	switch spec.Operation {
	case "":
		if spec.hasChange() {
			return bad("operation_required", "Indiquez l'opération (install, move, add, change) pour changer le parc.", "operation", "Opération requise.")
		}
	case OpMove:
		if len(ids) == 0 || (spec.Building == "" && spec.Room == "") {
			return bad("invalid_imac", "Un déménagement nomme les équipements et leur nouvel emplacement (bâtiment, salle).", "room", "Nouvel emplacement requis.")
		}
		if spec.NewAsset != nil {
			return bad("invalid_imac", "Un déménagement ne crée pas d'équipement.", "new_asset", "Non prévu pour un déménagement.")
		}
	case OpChange:
		if len(ids) == 0 || !spec.hasChange() || spec.NewAsset != nil {
			return bad("invalid_imac", "Une modification nomme les équipements et le changement (état, emplacement).", "state", "Changement requis.")
		}
	case OpInstall, OpAdd:
		if spec.NewAsset == nil && len(ids) == 0 {
			return bad("invalid_imac", "Une installation ou un ajout décrit l'équipement à créer, ou nomme les équipements installés.", "new_asset", "Équipement requis.")
		}
	}
	return spec, nil
}

// IMAC returns what a ticket says of the fleet (an empty spec when
// nothing).
func (s *Service) IMAC(ctx context.Context, p *auth.Principal, ref string) (IMACSpec, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return IMACSpec{}, err
	}
	spec, err := s.store.imac(ctx, s.db, t.ID)
	if err != nil {
		return spec, err
	}
	if spec.Operation == "" {
		spec.Operation, err = s.imacOperation(ctx, s.db, &t)
	}
	return spec, err
}

// applyIMAC is called by SetStatus inside the transaction that moves the
// ticket: when the ticket leaves the open statuses for the first time with
// a change to make, the fleet applies it in the same transaction, so that a
// refused change leaves the ticket open and a solved ticket always has its
// change in the fleet. A ticket solved again after reopening does not
// apply it twice.
func (s *Service) applyIMAC(ctx context.Context, tx *db.Tx, p *auth.Principal, t *Ticket, now time.Time) error {
	if t.Status.open() {
		return nil
	}
	spec, err := s.store.imac(ctx, tx, t.ID)
	if err != nil {
		return err
	}
	if spec.AppliedAt != nil || !spec.hasChange() {
		return nil
	}
	if s.fleet == nil {
		return problem.Conflict("fleet_unavailable", "Le parc n'est pas relié à l'assistance : la demande ne peut pas être appliquée.")
	}
	res, err := s.fleet.ApplyIMAC(ctx, tx, p, IMACChange{TicketID: t.ID, TicketRef: t.Reference, EstablishmentID: t.EstablishmentID,
		IMACSpec: spec, Actor: p.User.Email, At: now})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ticket_imac SET applied_at = ?, created_asset_id = ? WHERE ticket_id = ?`,
		now, db.NullID(res.CreatedAsset), t.ID); err != nil {
		return fmt.Errorf("mark IMAC of %s applied: %w", t.Reference, err)
	}
	if res.CreatedAsset != 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_assets (ticket_id, asset_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, t.ID, res.CreatedAsset); err != nil {
			return fmt.Errorf("link created asset to %s: %w", t.Reference, err)
		}
	}
	return s.store.addEvent(ctx, tx, t.ID, Event{At: now, ActorID: p.User.ID, Type: evIMAC, To: "applied", Detail: res.Summary})
}

// AssetTicket is one ticket naming an asset.
type AssetTicket struct {
	Reference string    `json:"reference"`
	Kind      Kind      `json:"kind"`
	Title     string    `json:"title"`
	Status    Status    `json:"status"`
	Operation string    `json:"operation,omitempty"`
	Applied   bool      `json:"applied"`
	CreatedAt time.Time `json:"created_at"`
}

// KindLabel and StatusLabel are the French names pages show.
func (a AssetTicket) KindLabel() string   { return a.Kind.Label() }
func (a AssetTicket) StatusLabel() string { return a.Status.Label() }

// TicketsOfAsset lists the tickets naming an asset that p may see, newest
// first (the fleet checks p may see the asset itself).
func (s *Service) TicketsOfAsset(ctx context.Context, p *auth.Principal, assetID int64) ([]AssetTicket, error) {
	out := []AssetTicket{}
	if p.IsAnonymous() {
		return out, nil
	}
	cond, args := visible(p)
	rows, err := s.db.QueryContext(ctx, `SELECT t.reference, t.kind, t.title, t.status, COALESCE(i.operation, ''),
		CASE WHEN i.applied_at IS NULL THEN 0 ELSE 1 END, t.created_at
		FROM ticket_assets ta JOIN tickets t ON t.id = ta.ticket_id LEFT JOIN ticket_imac i ON i.ticket_id = t.id
		WHERE ta.asset_id = ? AND `+cond+` ORDER BY t.created_at DESC, t.id DESC LIMIT 500`, append([]any{assetID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("tickets of asset %d: %w", assetID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AssetTicket
		var applied int
		if err := rows.Scan(&a.Reference, &a.Kind, &a.Title, &a.Status, &a.Operation, &applied, &a.CreatedAt); err != nil {
			return nil, err
		}
		a.Applied = applied == 1
		out = append(out, a)
	}
	return out, rows.Err()
}

// saveIMAC replaces a ticket's assets and change.
func (s *Store) saveIMAC(ctx context.Context, tx *db.Tx, ticketID int64, spec IMACSpec) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_assets WHERE ticket_id = ?`, ticketID); err != nil {
		return fmt.Errorf("clear assets of ticket %d: %w", ticketID, err)
	}
	for _, id := range spec.Assets {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_assets (ticket_id, asset_id) VALUES (?, ?)`, ticketID, id); err != nil {
			return fmt.Errorf("add asset %d to ticket %d: %w", id, ticketID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_imac WHERE ticket_id = ?`, ticketID); err != nil {
		return fmt.Errorf("clear IMAC of ticket %d: %w", ticketID, err)
	}
	var n NewAssetSpec
	if spec.NewAsset != nil {
		n = *spec.NewAsset
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_imac (ticket_id, operation, building, room, state, new_type, new_name,
		new_manufacturer, new_model, new_serial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ticketID, spec.Operation, spec.Building, spec.Room, spec.State, n.Type, n.Name, n.Manufacturer, n.Model, n.Serial)
	if err != nil {
		return fmt.Errorf("save IMAC of ticket %d: %w", ticketID, err)
	}
	return nil
}

// imac reads a ticket's assets and change.
func (s *Store) imac(ctx context.Context, q db.Querier, ticketID int64) (IMACSpec, error) {
	spec := IMACSpec{Assets: []int64{}}
	var n NewAssetSpec
	var applied sql.NullTime
	var created sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT operation, building, room, state, new_type, new_name, new_manufacturer, new_model,
		new_serial, applied_at, created_asset_id FROM ticket_imac WHERE ticket_id = ?`, ticketID).Scan(&spec.Operation,
		&spec.Building, &spec.Room, &spec.State, &n.Type, &n.Name, &n.Manufacturer, &n.Model, &n.Serial, &applied, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return spec, fmt.Errorf("IMAC of ticket %d: %w", ticketID, err)
	default:
		if n.Type != "" {
			spec.NewAsset = &n
		}
		if applied.Valid {
			at := applied.Time
			spec.AppliedAt = &at
		}
		spec.CreatedAsset = created.Int64
	}
	rows, err := q.QueryContext(ctx, `SELECT asset_id FROM ticket_assets WHERE ticket_id = ? ORDER BY asset_id`, ticketID)
	if err != nil {
		return spec, fmt.Errorf("assets of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return spec, err
		}
		// The created asset is listed among the ticket's assets for the
		// asset page, not among those the change applies to.
		if id != spec.CreatedAsset {
			spec.Assets = append(spec.Assets, id)
		}
	}
	return spec, rows.Err()
}
