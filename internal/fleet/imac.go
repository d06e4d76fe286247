package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// The fleet is the higher domain of the two: it implements the helpdesk's
// Fleet interface (IMAC requests applied when solved) and reads the tickets
// of an asset through Tickets; the helpdesk never imports the fleet.
var _ helpdesk.Fleet = (*Service)(nil)

// Tickets is the helpdesk as the asset page needs it.
type Tickets interface {
	TicketsOfAsset(ctx context.Context, p *auth.Principal, assetID int64) ([]helpdesk.AssetTicket, error)
}

// SetTickets connects the helpdesk; without it an asset lists no ticket.
func (s *Service) SetTickets(t Tickets) { s.tickets = t }

// AssetTickets lists the tickets naming an asset the caller may see.
func (s *Service) AssetTickets(ctx context.Context, p *auth.Principal, id int64) ([]helpdesk.AssetTicket, error) {
	scope, args := p.ScopeSQL(auth.PermFleetRead, "a.establishment_id")
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets a WHERE a.id = ? AND `+scope, append([]any{id}, args...)...).Scan(&n); err != nil {
		return nil, fmt.Errorf("asset %d: %w", id, err)
	}
	if n == 0 {
		return nil, problem.NotFound("Équipement")
	}
	if s.tickets == nil {
		return []helpdesk.AssetTicket{}, nil
	}
	return s.tickets.TicketsOfAsset(ctx, p, id)
}

// CheckAssets fails unless every id is an asset of the establishment. The
// helpdesk has already checked the caller may see the ticket; a requester
// without fleet rights may still name the device of their incident by the
// number on its label, and learns nothing of other schools' assets (an
// asset elsewhere reads as unknown).
func (s *Service) CheckAssets(ctx context.Context, _ *auth.Principal, establishmentID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, establishmentID)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM assets WHERE establishment_id = ? AND id IN (`+db.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("check assets: %w", err)
	}
	defer rows.Close()
	found := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		found[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if !found[id] {
			return problem.Invalid("unknown_asset", "Équipement n° "+strconv.FormatInt(id, 10)+" inconnu dans l'établissement du ticket.").
				Field("assets", "Équipement inconnu.")
		}
	}
	return nil
}

// CheckChange validates the values an IMAC request asks for.
func (s *Service) CheckChange(spec helpdesk.IMACSpec) error {
	if spec.State != "" && !State(spec.State).Valid() {
		return problem.Invalid("invalid_imac", "État inconnu : "+spec.State+".").Field("state", "État inconnu.")
	}
	if n := spec.NewAsset; n != nil && !Type(n.Type).Valid() {
		return problem.Invalid("invalid_imac", "Type d'équipement inconnu : "+n.Type+".").Field("new_asset", "Type inconnu.")
	}
	return nil
}

// ApplyIMAC applies a solved request to the fleet inside the helpdesk's
// transaction: the named assets take the new location and state, an
// install or add creates its device, and every asset's history names the
// ticket. The solver must manage the establishment's fleet; otherwise the
// ticket stays open.
func (s *Service) ApplyIMAC(ctx context.Context, tx *db.Tx, p *auth.Principal, ch helpdesk.IMACChange) (helpdesk.IMACResult, error) {
	var res helpdesk.IMACResult
	if !s.inScope(ctx, p, auth.PermFleetManage, ch.EstablishmentID) {
		return res, problem.New(403, "fleet_manage_required", "Résoudre cette demande modifie le parc : il faut le droit de gérer le parc de l'établissement.")
	}
	if err := s.CheckChange(ch.IMACSpec); err != nil {
		return res, err
	}
	actor := ch.Actor
	if actor == "" {
		actor = actorOf(p)
	}
	at := ch.At.UTC()
	why := "Ticket " + ch.TicketRef + " (" + strings.ToLower(helpdesk.IMACLabel(ch.Operation)) + ")"
	for _, id := range ch.Assets {
		old, err := s.store.Asset(ctx, tx, id, "a.establishment_id = ?", []any{ch.EstablishmentID})
		if errors.Is(err, sql.ErrNoRows) {
			return res, problem.Conflict("unknown_asset", "L'équipement n° "+strconv.FormatInt(id, 10)+" n'est plus dans l'établissement du ticket : corrigez les équipements du ticket.")
		}
		if err != nil {
			return res, fmt.Errorf("load asset %d: %w", id, err)
		}
		a := old
		if ch.Building != "" {
			a.Building = ch.Building
		}
		if ch.Room != "" {
			a.Room = ch.Room
		}
		switch {
		case ch.State != "":
			a.State = State(ch.State)
		case ch.Operation == helpdesk.OpInstall && (a.State == StateOrdered || a.State == StateInStock):
			// Installing a device taken from stock puts it in service.
			a.State = StateInUse
		}
		a.UpdatedAt = at
		if err := s.store.UpdateManual(ctx, tx, a); err != nil {
			return res, err
		}
		d := diffManual(old, a)
		if d == "" {
			d = "aucun changement"
		}
		if err := s.store.AddEvent(ctx, tx, id, at, actor, "imac", why+" : "+d); err != nil {
			return res, err
		}
	}
	if n := ch.NewAsset; n != nil {
		state := StateInUse
		if ch.State != "" {
			state = State(ch.State)
		}
		a := Asset{EstablishmentID: ch.EstablishmentID, Type: Type(n.Type), Name: n.Name, Manufacturer: n.Manufacturer,
			Model: n.Model, Serial: n.Serial, Building: ch.Building, Room: ch.Room, State: state, Source: "ticket",
			CreatedAt: at, UpdatedAt: at}
		id, err := s.store.InsertAsset(ctx, tx, a)
		if err != nil {
			return res, err
		}
		if err := s.store.AddEvent(ctx, tx, id, at, actor, "created", "Créé par le "+strings.ToLower(why[:1])+why[1:]+" : "+a.Type.Label()); err != nil {
			return res, err
		}
		res.CreatedAsset = id
	}
	res.Summary = fmt.Sprintf("%s appliqué(e) au parc : %d équipement(s) mis à jour", helpdesk.IMACLabel(ch.Operation), len(ch.Assets))
	if res.CreatedAsset != 0 {
		res.Summary += ", équipement n° " + strconv.FormatInt(res.CreatedAsset, 10) + " créé"
	}
	return res, nil
}
