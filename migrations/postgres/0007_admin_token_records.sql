-- Each admin bearer token as the console lists it: the browser it was issued
-- to (beside `created_from`, its address). Tokens issued before sign-in
-- filled in `token_id` get one now, so every live token can be revoked.
ALTER TABLE admin_sessions ADD COLUMN created_agent TEXT;
UPDATE admin_sessions SET token_id = substr(token_hash, 1, 16) WHERE token_id IS NULL;
