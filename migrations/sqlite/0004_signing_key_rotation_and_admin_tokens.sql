-- Signing key rotation: a retired key keeps only its public half (the
-- private half is erased when it retires) and stays in the JWKS until the
-- last token it signed can have expired, counted from `retired_at`.
-- Keys stored before this migration are current: none has retired yet.
ALTER TABLE signing_keys ADD COLUMN retired_at INTEGER;

-- Admin bearer tokens as the console lists them: a public id to revoke one
-- by (the hash stays the lookup key and never leaves the server), when it
-- was last used and the address it was issued to.
ALTER TABLE admin_sessions ADD COLUMN token_id TEXT;
ALTER TABLE admin_sessions ADD COLUMN last_used_at INTEGER;
ALTER TABLE admin_sessions ADD COLUMN created_from TEXT;
UPDATE admin_sessions SET token_id = substr(token_hash, 1, 16);
CREATE UNIQUE INDEX admin_sessions_token_id ON admin_sessions (token_id);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id, created_at);
