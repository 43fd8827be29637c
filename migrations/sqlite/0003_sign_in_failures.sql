-- Password sign-in failures per account name, shared by every instance.
-- The key is 'mobile:<name>' or 'admin:<name>', the name as typed
-- (trimmed, case-folded), whether or not such an account exists. An
-- attempt is counted here before its password is checked, and a success
-- deletes the row.
CREATE TABLE sign_in_failures (
    account_key     TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_attempt_at);

-- Password sign-ins in the audit trail: which ('mobile' or 'admin'; NULL
-- for a QR login) and the name typed (admins, and unknown names, have no
-- user_id to join).
ALTER TABLE login_history ADD COLUMN sign_in TEXT;
ALTER TABLE login_history ADD COLUMN attempted_username TEXT;
