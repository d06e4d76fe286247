package sso

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// errUnregistered is the French answer to a service nobody registered.
var errUnregistered = problem.New(http.StatusForbidden, "cas_unregistered_service",
	"Ce service n'est pas autorisé à utiliser la connexion unique de Socle. Si vous pensez qu'il devrait l'être, contactez l'administrateur de la plateforme.")

// CASServiceFor returns the enabled service whose pattern admits the URL.
func (s *Service) CASServiceFor(ctx context.Context, serviceURL string) (CASService, error) {
	if serviceURL == "" || len(serviceURL) > 2048 {
		return CASService{}, errUnregistered
	}
	list, err := s.store.CASServices(ctx, true)
	if err != nil {
		return CASService{}, err
	}
	for _, c := range list {
		if c.matches(serviceURL) {
			return c, nil
		}
	}
	return CASService{}, errUnregistered
}

func (c CASService) matches(serviceURL string) bool {
	switch c.Match {
	case MatchPrefix:
		return strings.HasPrefix(serviceURL, c.Pattern)
	case MatchRegex:
		re, err := compilePattern(c.Pattern)
		return err == nil && re.MatchString(serviceURL)
	}
	return false
}

// IssueTicket gives p a service ticket for a registered service URL.
func (s *Service) IssueTicket(ctx context.Context, p *auth.Principal, serviceURL string, fromNewLogin bool) (string, error) {
	if p.IsAnonymous() {
		return "", problem.Unauthenticated()
	}
	svc, err := s.CASServiceFor(ctx, serviceURL)
	if err != nil {
		return "", err
	}
	now := s.now()
	ticket := "ST-" + randomSecret(32)
	t := casTicket{ServiceID: svc.ID, Service: serviceURL, UserID: p.User.ID, FromNewLogin: fromNewLogin,
		AuthTime: authTime(p, now), ExpiresAt: now.Add(TicketTTL)}
	if err := s.store.CreateTicket(ctx, hashSecret(ticket), t, now); err != nil {
		return "", fmt.Errorf("store service ticket: %w", err)
	}
	return ticket, nil
}

// authTime is when the person last presented credentials.
func authTime(p *auth.Principal, now time.Time) time.Time {
	if p.User.LastLoginAt != nil {
		return *p.User.LastLoginAt
	}
	return now
}

// CAS validation error codes (CAS protocol 3.0, §2.5.3).
const (
	casInvalidRequest    = "INVALID_REQUEST"
	casInvalidTicketSpec = "INVALID_TICKET_SPEC"
	casInvalidTicket     = "INVALID_TICKET"
	casInvalidService    = "INVALID_SERVICE"
	casInternalError     = "INTERNAL_ERROR"
)

// CASError is a validation failure, answered as cas:authenticationFailure.
type CASError struct{ Code, Message string }

func (e *CASError) Error() string { return e.Code + ": " + e.Message }

// Attribute is one released attribute, possibly multi-valued.
type Attribute struct {
	Name   string
	Values []string
}

// Validation is a successful ticket validation.
type Validation struct {
	User         string
	Attributes   []Attribute
	AuthTime     time.Time
	FromNewLogin bool
}

// ValidateTicket checks a service ticket for a service. Whatever the
// outcome, the ticket is spent: a ticket is valid for one validation
// attempt only.
func (s *Service) ValidateTicket(ctx context.Context, ticket, serviceURL string, renew bool) (Validation, error) {
	if ticket == "" || serviceURL == "" {
		return Validation{}, &CASError{casInvalidRequest, "Les paramètres ticket et service sont obligatoires."}
	}
	if !strings.HasPrefix(ticket, "ST-") {
		return Validation{}, &CASError{casInvalidTicketSpec, "Ticket de type inconnu : " + truncate(ticket, 32)}
	}
	t, err := s.store.TakeTicket(ctx, hashSecret(ticket))
	if errors.Is(err, sql.ErrNoRows) {
		return Validation{}, &CASError{casInvalidTicket, "Ticket " + truncate(ticket, 32) + " inconnu ou déjà utilisé."}
	}
	if err != nil {
		s.log.Error("take cas ticket", "err", err)
		return Validation{}, &CASError{casInternalError, "Erreur interne du serveur CAS."}
	}
	now := s.now()
	if !now.Before(t.ExpiresAt) {
		return Validation{}, &CASError{casInvalidTicket, "Ticket " + truncate(ticket, 32) + " expiré."}
	}
	if t.Service != serviceURL {
		return Validation{}, &CASError{casInvalidService, "Le ticket a été délivré pour un autre service."}
	}
	if renew && !t.FromNewLogin {
		return Validation{}, &CASError{casInvalidTicket, "Le ticket ne provient pas d'une authentification renouvelée."}
	}
	svc, err := s.store.CASService(ctx, t.ServiceID)
	if err != nil || !svc.Enabled || !svc.matches(serviceURL) {
		return Validation{}, &CASError{casInvalidService, "Ce service n'est plus autorisé."}
	}
	p, err := s.auth.Principal(ctx, t.UserID)
	if err != nil || p.User.Disabled {
		return Validation{}, &CASError{casInvalidTicket, "Le compte n'est plus actif."}
	}
	k, err := s.keys(ctx)
	if err != nil {
		s.log.Error("load sso keys", "err", err)
		return Validation{}, &CASError{casInternalError, "Erreur interne du serveur CAS."}
	}
	v := Validation{AuthTime: t.AuthTime, FromNewLogin: t.FromNewLogin}
	switch svc.Username {
	case UsernameEmail:
		v.User = p.User.Email
	default:
		v.User = k.pairwise("cas:"+strconv.FormatInt(svc.ID, 10), p.User.ID)
	}
	for _, a := range svc.Attributes {
		switch a {
		case AttrEmail:
			v.Attributes = append(v.Attributes, Attribute{a, []string{p.User.Email}})
		case AttrDisplayName:
			v.Attributes = append(v.Attributes, Attribute{a, []string{p.User.DisplayName}})
		case AttrRole:
			var roles []string
			for _, g := range p.Grants {
				if !slices.Contains(roles, string(g.Role)) {
					roles = append(roles, string(g.Role))
				}
			}
			v.Attributes = append(v.Attributes, Attribute{a, roles})
		case AttrUAI:
			if s.opts.UAIs == nil {
				continue
			}
			uais, err := s.opts.UAIs(ctx, p)
			if err != nil {
				s.log.Error("uai attribute", "user_id", p.User.ID, "err", err)
				return Validation{}, &CASError{casInternalError, "Erreur interne du serveur CAS."}
			}
			v.Attributes = append(v.Attributes, Attribute{a, uais})
		}
	}
	return v, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// casXML writes a CAS serviceResponse. Version 2 gives cas:user only;
// version 3 adds cas:attributes.
func casXML(v Validation, verr error, version int) []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	b.WriteString("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">\n")
	if verr != nil {
		ce, ok := verr.(*CASError)
		if !ok {
			ce = &CASError{casInternalError, "Erreur interne du serveur CAS."}
		}
		fmt.Fprintf(&b, "  <cas:authenticationFailure code=\"%s\">%s</cas:authenticationFailure>\n", esc(ce.Code), esc(ce.Message))
	} else {
		b.WriteString("  <cas:authenticationSuccess>\n")
		fmt.Fprintf(&b, "    <cas:user>%s</cas:user>\n", esc(v.User))
		if version >= 3 {
			b.WriteString("    <cas:attributes>\n")
			fmt.Fprintf(&b, "      <cas:authenticationDate>%s</cas:authenticationDate>\n", v.AuthTime.UTC().Format(time.RFC3339))
			fmt.Fprintf(&b, "      <cas:longTermAuthenticationRequestTokenUsed>false</cas:longTermAuthenticationRequestTokenUsed>\n")
			fmt.Fprintf(&b, "      <cas:isFromNewLogin>%t</cas:isFromNewLogin>\n", v.FromNewLogin)
			for _, a := range v.Attributes {
				for _, val := range a.Values {
					fmt.Fprintf(&b, "      <cas:%s>%s</cas:%s>\n", a.Name, esc(val), a.Name)
				}
			}
			b.WriteString("    </cas:attributes>\n")
		}
		b.WriteString("  </cas:authenticationSuccess>\n")
	}
	b.WriteString("</cas:serviceResponse>\n")
	return b.Bytes()
}
