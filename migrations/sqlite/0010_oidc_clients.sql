-- A service as an OpenID Connect client (issue 14). No row: the service is
-- not an OIDC client. `allowed_scopes` is space-separated, as OAuth writes
-- scopes; `client_type` is `confidential` or `public`.
CREATE TABLE oidc_clients (
    service_id     TEXT PRIMARY KEY REFERENCES registered_services (service_id),
    client_type    TEXT NOT NULL,
    require_pkce   INTEGER NOT NULL,
    allowed_scopes TEXT NOT NULL,
    id_token_alg   TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- Where a client may send people: `login` after authorization,
-- `post_logout` after end_session. Matched exactly; `position` keeps the
-- admin's order.
CREATE TABLE oidc_redirect_uris (
    service_id TEXT NOT NULL REFERENCES oidc_clients (service_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    uri        TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (service_id, kind, uri)
);
