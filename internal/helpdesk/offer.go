package helpdesk

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// OfferedService is a service an establishment subscribes to through a
// signed convention in force, as the new-ticket form offers it.
type OfferedService struct {
	ServiceID          int64
	Name, Family       string
	AgreementReference string
	Types              []OfferedType
}

// OfferedType is a request type of an offered service; Promised says the
// convention sets deadlines for its kind.
type OfferedType struct {
	ID         int64
	Name, Kind string
	Promised   bool
}

// OfferSource lists what an establishment subscribes to. The level source
// may implement it (CatalogLevels does); without it the form offers no
// service and every ticket has no deadline.
type OfferSource interface {
	OfferFor(ctx context.Context, establishmentID int64, at time.Time) ([]OfferedService, error)
}

// OfferFor implements OfferSource with the catalogue's conventions.
func (a CatalogLevels) OfferFor(ctx context.Context, establishmentID int64, at time.Time) ([]OfferedService, error) {
	list, err := a.Catalog.Offer(ctx, establishmentID, at)
	if err != nil {
		return nil, err
	}
	out := make([]OfferedService, 0, len(list))
	for _, o := range list {
		os := OfferedService{ServiceID: o.ServiceID, Name: o.Name, Family: o.Family, AgreementReference: o.AgreementReference}
		for _, rt := range o.RequestTypes {
			os.Types = append(os.Types, OfferedType{ID: rt.ID, Name: rt.Name, Kind: rt.Kind, Promised: o.Promised[rt.Kind]})
		}
		out = append(out, os)
	}
	return out, nil
}

// Offer returns the establishment named by uai and the services it
// subscribes to, for a caller who may open tickets there; anything else is
// not found.
func (s *Service) Offer(ctx context.Context, p *auth.Principal, uai string) (int64, []OfferedService, error) {
	if p.IsAnonymous() || !p.Has(auth.PermTicketCreate) {
		return 0, nil, problem.NotFound("Établissement")
	}
	id, err := s.store.establishmentByUAI(ctx, strings.ToUpper(strings.TrimSpace(uai)))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, problem.NotFound("Établissement")
	}
	if err != nil {
		return 0, nil, err
	}
	if ok, err := s.auth.Allowed(ctx, p, auth.PermTicketCreate, id); err != nil {
		return 0, nil, err
	} else if !ok {
		return 0, nil, problem.NotFound("Établissement")
	}
	src, ok := s.levels.(OfferSource)
	if !ok {
		return id, nil, nil
	}
	offer, err := src.OfferFor(ctx, id, s.now())
	return id, offer, err
}

// defaultUAI is the establishment a caller may open tickets for, when
// there is only one, so the form starts there.
func (s *Service) defaultUAI(ctx context.Context, p *auth.Principal) string {
	id, err := s.onlyEstablishment(ctx, p)
	if err != nil || id == 0 {
		return ""
	}
	uai, err := s.store.uaiOf(ctx, id)
	if err != nil {
		return ""
	}
	return uai
}

func (s *Store) uaiOf(ctx context.Context, establishmentID int64) (string, error) {
	var uai string
	err := s.db.QueryRowContext(ctx, `SELECT uai FROM establishments WHERE org_id = ?`, establishmentID).Scan(&uai)
	return uai, err
}
