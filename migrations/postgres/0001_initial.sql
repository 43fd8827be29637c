-- Central Auth schema, PostgreSQL dialect.

-- Same tables as the SQLite dialect; timestamps are BIGINT Unix milliseconds
-- and booleans BIGINT 0/1, which sqlx's Any driver decodes as on SQLite.

-- Reserves each email and username across pending, rejected and active
-- users, so uniqueness holds in the database even for concurrent requests.
CREATE TABLE account_names (
    user_id        TEXT PRIMARY KEY,
    email_lower    TEXT NOT NULL UNIQUE,
    username_lower TEXT NOT NULL UNIQUE
);

-- Registrations waiting for an admin (status 'pending') or turned down
-- ('rejected'; kept so the name stays reserved and mobile login can say why).
CREATE TABLE pending_users (
    user_id          TEXT PRIMARY KEY REFERENCES account_names (user_id),
    email            TEXT NOT NULL,
    username         TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    full_name        TEXT NOT NULL,
    phone            TEXT,
    status           TEXT NOT NULL DEFAULT 'pending',
    registered_at    BIGINT NOT NULL,
    rejected_at      BIGINT,
    rejected_by      TEXT,
    rejection_reason TEXT
);
CREATE INDEX pending_users_queue ON pending_users (status, registered_at, user_id);

CREATE TABLE active_users (
    user_id            TEXT PRIMARY KEY REFERENCES account_names (user_id),
    email              TEXT NOT NULL,
    username           TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    full_name          TEXT NOT NULL,
    phone              TEXT,
    auth_key_hash      TEXT UNIQUE,
    auth_key_issued_at BIGINT,
    is_active          BIGINT NOT NULL DEFAULT 1,
    registered_at      BIGINT NOT NULL,
    approved_at        BIGINT NOT NULL,
    approved_by        TEXT,
    deactivated_at     BIGINT,
    last_login         BIGINT
);
CREATE INDEX active_users_username ON active_users (username);

CREATE TABLE admins (
    admin_id       TEXT PRIMARY KEY,
    username       TEXT NOT NULL,
    username_lower TEXT NOT NULL UNIQUE,
    email          TEXT,
    password_hash  TEXT NOT NULL,
    is_active      BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    last_login     BIGINT
);

-- Admin bearer tokens, stored as SHA-256 only.
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    admin_id   TEXT NOT NULL REFERENCES admins (admin_id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);

CREATE TABLE registered_services (
    service_id     TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    name_lower     TEXT NOT NULL UNIQUE,
    description    TEXT,
    url            TEXT,
    api_key_hash   TEXT NOT NULL,
    is_active      BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    key_rotated_at BIGINT,
    deactivated_at BIGINT
);
CREATE INDEX registered_services_created ON registered_services (created_at, service_id);

-- One row per QR code. The token, the PIN are stored as hashes only.
CREATE TABLE qr_sessions (
    qr_id                TEXT PRIMARY KEY,
    token_hash           TEXT NOT NULL UNIQUE,
    service_id           TEXT NOT NULL REFERENCES registered_services (service_id),
    status               TEXT NOT NULL DEFAULT 'pending',
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    requester_ip         TEXT,
    requester_user_agent TEXT,
    user_id              TEXT REFERENCES active_users (user_id),
    scanned_at           BIGINT,
    scanner_ip           TEXT,
    pin_hash             TEXT,
    pin_expires_at       BIGINT,
    failed_attempts      BIGINT NOT NULL DEFAULT 0,
    verified_at          BIGINT,
    session_id           TEXT
);
CREATE INDEX qr_sessions_expiry ON qr_sessions (expires_at);

-- Live and ended login sessions; the JWT names one by its `sid`.
CREATE TABLE user_sessions (
    session_id          TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES active_users (user_id),
    service_id          TEXT NOT NULL REFERENCES registered_services (service_id),
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    idle_expires_at     BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    ended_at            BIGINT,
    ended_reason        TEXT
);
CREATE INDEX user_sessions_user ON user_sessions (user_id, ended_at);
CREATE INDEX user_sessions_service ON user_sessions (service_id, ended_at);

-- Every login attempt, successful or not.
CREATE TABLE login_history (
    id           BIGSERIAL PRIMARY KEY,
    user_id      TEXT,
    service_id   TEXT,
    qr_id        TEXT,
    session_id   TEXT UNIQUE,
    outcome      TEXT NOT NULL,
    login_at     BIGINT NOT NULL,
    logout_at    BIGINT,
    ended_reason TEXT,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX login_history_time ON login_history (login_at, id);
CREATE INDEX login_history_user ON login_history (user_id, login_at);
CREATE INDEX login_history_service ON login_history (service_id, login_at);

-- The operating hours: a single row (id = 1).
CREATE TABLE system_schedule (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    enabled      BIGINT NOT NULL,
    timezone     TEXT NOT NULL,
    opening_time TEXT NOT NULL,
    closing_time TEXT NOT NULL,
    days         TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT
);

-- Keys that sign session tokens. `slot` is 'current' for the one in use
-- (NULL once retired); its UNIQUE lets instances starting together agree on one.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    slot        TEXT UNIQUE,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
