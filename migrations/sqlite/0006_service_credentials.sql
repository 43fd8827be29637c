-- Whether a service must name itself on pin/verify (service_id + api_key)
-- and validate-session (service_id): a service that forgets would accept
-- another service's login. On for services registered from now on (the
-- domain sets it); off for those already there, so an upgrade breaks none.
ALTER TABLE registered_services ADD COLUMN require_credentials INTEGER NOT NULL DEFAULT 0;
