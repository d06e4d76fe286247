package catalog

import (
	"context"
	"fmt"
	"time"
)

// OfferedService is a service an establishment may ask for through a
// signed convention in force: its active request types and whether the
// convention promises levels for each kind.
type OfferedService struct {
	ServiceID          int64
	Code, Name, Family string
	AgreementReference string
	RequestTypes       []RequestType
	// Promised lists the request kinds ("incident", "request") the
	// convention sets levels for; a request type of another kind has no
	// deadline.
	Promised map[string]bool
}

// Offer lists the services signed conventions in force at instant at
// cover for an establishment, for the new-ticket form. Like Coverage it
// checks no permission: the helpdesk asks for an establishment it already
// authorized the caller to open tickets for.
func (s *Service) Offer(ctx context.Context, establishmentID int64, at time.Time) ([]OfferedService, error) {
	day := DateOf(at.In(s.loc))
	subs, err := s.store.Subscriptions(ctx, establishmentID, day)
	if err != nil {
		return nil, fmt.Errorf("offer of establishment %d: %w", establishmentID, err)
	}
	var out []OfferedService
	seen := map[int64]bool{}
	for _, sub := range subs {
		if sub.AgreementStatus != AgreementSigned || day.String() < sub.ValidFrom.String() || seen[sub.Service.ServiceID] {
			continue
		}
		seen[sub.Service.ServiceID] = true
		list, err := s.store.Services(ctx, "s.id = ?", []any{sub.Service.ServiceID})
		if err != nil {
			return nil, err
		}
		if len(list) == 0 || list[0].Status == StatusRetired {
			continue
		}
		o := OfferedService{ServiceID: sub.Service.ServiceID, Code: list[0].Code, Name: list[0].Name, Family: sub.Family,
			AgreementReference: sub.AgreementReference, Promised: map[string]bool{}}
		for _, rt := range list[0].RequestTypes {
			if rt.Active {
				o.RequestTypes = append(o.RequestTypes, rt)
			}
		}
		for _, l := range sub.Service.Levels {
			o.Promised[l.RequestKind] = true
		}
		out = append(out, o)
	}
	return out, nil
}
