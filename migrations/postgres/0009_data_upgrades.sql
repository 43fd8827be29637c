-- Upgrades of stored data that SQL alone cannot compute (they need the
-- domain's rules, in Rust): the server runs each once after the
-- migrations and records its name here. The first: reservation keys of
-- email addresses with a Unicode domain, rewritten to the A-label form
-- that `Email::normalized` now gives (issue 13).
CREATE TABLE data_upgrades (
    name TEXT PRIMARY KEY
);
