-- Keys of the single sign-on server, generated at first start: the RS256
-- key that signs OpenID Connect id_tokens (PKCS#8 PEM, in clear: whoever
-- reads the database or its backups can sign tokens, so protect them as the
-- password hashes) and the secret behind pairwise subjects and CAS
-- identifiers.
CREATE TABLE sso_keys (
    name TEXT PRIMARY KEY,
    kid TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Services allowed to receive CAS tickets: a URL prefix or an anchored
-- regular expression, and the attributes released to them.
CREATE TABLE sso_cas_services (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    match_kind TEXT NOT NULL,
    pattern TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    attributes TEXT NOT NULL DEFAULT '',
    username TEXT NOT NULL DEFAULT 'pairwise',
    created_at TIMESTAMP NOT NULL
);

-- Service tickets, by the hash of their value: single use (deleted by the
-- validation that reads them), bound to the service URL they were issued
-- for, shared by every process.
CREATE TABLE sso_cas_tickets (
    ticket_hash TEXT PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES sso_cas_services(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    from_new_login BOOLEAN NOT NULL DEFAULT 0,
    auth_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sso_cas_tickets_expires ON sso_cas_tickets(expires_at);

-- OpenID Connect relying parties. Confidential clients keep the SHA-256 of
-- a generated secret; public clients have none and must use PKCE.
CREATE TABLE sso_oidc_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL DEFAULT '',
    public BOOLEAN NOT NULL DEFAULT 0,
    redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);

-- Authorization codes, by hash. A used code stays until it expires so that
-- a replay is recognised and revokes the tokens it gave.
CREATE TABLE sso_oidc_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES sso_oidc_clients(client_id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT NOT NULL DEFAULT '',
    code_challenge TEXT NOT NULL DEFAULT '',
    auth_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX sso_oidc_codes_expires ON sso_oidc_codes(expires_at);

-- Opaque access tokens for the userinfo endpoint, by hash.
CREATE TABLE sso_oidc_tokens (
    token_hash TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES sso_oidc_clients(client_id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sso_oidc_tokens_code ON sso_oidc_tokens(code_hash);
CREATE INDEX sso_oidc_tokens_expires ON sso_oidc_tokens(expires_at);
