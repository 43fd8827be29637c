-- Growth limits. A pending registration remembers the address it came from
-- (IPv6 by its /64), so the pending queue can be capped per address, and
-- when the admins were told of it: past a few registrations an hour they
-- are told in one digest email instead of one email each.
ALTER TABLE pending_users ADD COLUMN registered_from TEXT;
ALTER TABLE pending_users ADD COLUMN admins_notified_at INTEGER;
-- Registrations queued before this migration were announced one by one.
UPDATE pending_users SET admins_notified_at = registered_at;
CREATE INDEX pending_users_from ON pending_users (registered_from, status);
CREATE INDEX pending_users_unnotified ON pending_users (admins_notified_at, status);
-- The purge finds ended and expired sessions by their idle expiry: a
-- session is over by then at the latest, and it is never renewed once ended.
CREATE INDEX user_sessions_idle_expiry ON user_sessions (idle_expires_at);
