-- The durable email outbox: a message is written in the same transaction as
-- the change that causes it and sent by a background worker, with retries,
-- so no email the system owes is lost to a slow or broken mail server.
CREATE TABLE email_outbox (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- pending (to send or retry), sent, failed (refused for good by the server)
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- a worker's claim, so two instances never send the same message at once
    locked_until    BIGINT,
    sent_at         BIGINT
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at, id);
