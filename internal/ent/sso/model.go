// Package sso makes Socle the single sign-on server of the territory's
// services: a CAS server (protocol 2.0 and 3.0) and an OpenID Connect
// provider (authorization code flow with PKCE). Both rest on the Socle
// session: a service sends the browser here, the person logs in once on
// /connexion, and every registered service gets a ticket or a code.
//
// Identifiers given to services are pairwise by default: an HMAC of the
// account id and the service (CAS) or client (OIDC), keyed by a secret
// generated at first start. Two services cannot join what they know of one
// pupil by the identifier, and nobody outside learns the account id. A
// service that must match existing accounts may be given the e-mail
// (username "email") instead, deliberately, by the administrator who
// registers it.
//
// The login itself can be delegated to an external OpenID Connect provider
// (ÉduConnect, an academic directory): see Delegation for the flow and the
// rules that link an external identity to a local account.
package sso

import (
	"context"
	"embed"
	"io/fs"
	"slices"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of this package (after auth's: tickets and codes
// reference accounts).
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // only on a wrong literal directory name
	}
	return db.MigrationSet{Component: "sso", FS: sub}
}

// Options configure the server.
type Options struct {
	// Issuer is the public base URL of this Socle, without a trailing
	// slash (https://ent.example.fr): the OIDC issuer, and the root of the
	// discovery document's endpoints.
	Issuer string
	// UAIs returns the UAI codes of the establishments a person belongs to,
	// for the "uai" CAS attribute; nil leaves the attribute out.
	UAIs func(ctx context.Context, p *auth.Principal) ([]string, error)
	// Delegation, when its issuer is set, lets people log in through an
	// external OpenID Connect provider such as ÉduConnect.
	Delegation Delegation
}

// Lifetimes. CAS recommends that a service ticket live no longer than five
// minutes; an authorization code is exchanged at once by a server, so a
// short life costs nothing.
const (
	TicketTTL      = 5 * time.Minute
	CodeTTL        = 2 * time.Minute
	AccessTokenTTL = 10 * time.Minute
	IDTokenTTL     = 10 * time.Minute
)

// Attribute names a CAS service may receive.
const (
	AttrEmail       = "email"
	AttrDisplayName = "displayName"
	AttrRole        = "role"
	AttrUAI         = "uai"
)

// Attributes lists every attribute a service may be given.
var Attributes = []string{AttrEmail, AttrDisplayName, AttrRole, AttrUAI}

// Username says what a CAS service receives as cas:user.
type Username string

const (
	// UsernamePairwise: a stable identifier proper to the service.
	UsernamePairwise Username = "pairwise"
	// UsernameEmail: the account's e-mail, for services that match existing
	// accounts by it.
	UsernameEmail Username = "email"
)

// MatchKind says how a service URL is compared with a registered pattern.
type MatchKind string

const (
	// MatchPrefix: the service URL starts with the pattern, which must be an
	// absolute http(s) URL with a path ("https://app.example.fr/").
	MatchPrefix MatchKind = "prefix"
	// MatchRegex: the whole service URL matches the regular expression
	// (anchored at both ends by the server).
	MatchRegex MatchKind = "regex"
)

// CASService is a service registered to receive CAS tickets.
type CASService struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Match      MatchKind `json:"match"`
	Pattern    string    `json:"pattern"`
	Enabled    bool      `json:"enabled"`
	Attributes []string  `json:"attributes"`
	Username   Username  `json:"username"`
	CreatedAt  time.Time `json:"created_at"`
}

// Releases reports whether the service is given the attribute.
func (s CASService) Releases(attr string) bool { return slices.Contains(s.Attributes, attr) }

// OIDC scopes this provider knows.
const (
	ScopeOpenID  = "openid"
	ScopeProfile = "profile"
	ScopeEmail   = "email"
)

// Scopes lists the scopes a client may be allowed.
var Scopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail}

// OIDCClient is a registered relying party.
type OIDCClient struct {
	ClientID     string    `json:"client_id"`
	Name         string    `json:"name"`
	Public       bool      `json:"public"`
	RedirectURIs []string  `json:"redirect_uris"`
	Scopes       []string  `json:"scopes"`
	Enabled      bool      `json:"enabled"`
	CreatedAt    time.Time `json:"created_at"`
	secretHash   string
}
