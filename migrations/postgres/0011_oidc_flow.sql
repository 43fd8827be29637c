-- The OpenID Connect flow. Every secret (browser binding, code, token) is
-- stored as its SHA-256 only.

-- An authorization request waiting for its QR login: kept here so that its
-- parameters are never round-tripped through the browser. `browser_hash`
-- binds it to the browser that started it (a cookie holds the secret).
CREATE TABLE oidc_interactions (
    interaction_id  TEXT PRIMARY KEY,
    browser_hash    TEXT NOT NULL,
    service_id      TEXT NOT NULL REFERENCES registered_services (service_id),
    redirect_uri    TEXT NOT NULL,
    scope           TEXT NOT NULL,
    state           TEXT,
    nonce           TEXT,
    code_challenge  TEXT,
    qr_id           TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    completed_at    BIGINT
);
CREATE INDEX oidc_interactions_expiry ON oidc_interactions (expires_at);

-- Authorization codes: single use, bound to client, redirect URI and PKCE
-- challenge. The session is the login they were issued for: a second use
-- ends it, and with it every token issued from the code.
CREATE TABLE oidc_codes (
    code_hash       TEXT PRIMARY KEY,
    service_id      TEXT NOT NULL,
    session_id      TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scope           TEXT NOT NULL,
    nonce           TEXT,
    code_challenge  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);

-- Access and refresh tokens. All tokens of one login share its session:
-- ending the session (logout, deactivation, reuse of a code or of a rotated
-- refresh token) ends them all. `used_at` marks a rotated refresh token.
CREATE TABLE oidc_tokens (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    service_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX oidc_tokens_session ON oidc_tokens (session_id);
CREATE INDEX oidc_tokens_expiry ON oidc_tokens (expires_at);

-- Groups a user belongs to, given by admins, for the `groups` claim.
CREATE TABLE user_groups (
    user_id     TEXT NOT NULL REFERENCES active_users (user_id),
    group_name  TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name)
);

-- A QR code shown on Central Auth's own login page (an OIDC login): the
-- phone then tells the person to check for this server's address, not the
-- service's.
ALTER TABLE qr_sessions ADD COLUMN on_login_page BIGINT NOT NULL DEFAULT 0;
