-- Identities of an external OpenID Connect provider (ÉduConnect, an
-- academic directory) linked to local accounts: one account per identity
-- and per provider. linked_by says how the link was made: 'email' (first
-- login, the provider's verified e-mail matched the account's) or 'admin'
-- (provisioned by an administrator).
CREATE TABLE sso_linked_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    linked_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP,
    PRIMARY KEY (issuer, subject)
);
CREATE UNIQUE INDEX sso_linked_identities_user ON sso_linked_identities(issuer, user_id);

-- Delegated logins in flight, by the hash of their state: the PKCE
-- verifier, the nonce expected in the id_token and where to go afterwards.
-- Single use, shared by every process behind a load balancer.
CREATE TABLE sso_delegation_states (
    state_hash TEXT PRIMARY KEY,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sso_delegation_states_expires ON sso_delegation_states(expires_at);
