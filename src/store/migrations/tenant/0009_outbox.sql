-- Tenant schema step 9: the email outbox (issue 14, groundwork). A message is written in
-- the same transaction as the change that causes it, and sent later by the
-- email-delivery job; with no SMTP server configured it stays here, where staff can
-- read it (Administration > Outbox, `licd outbox`) and hand its links over.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    -- What caused it: invitation, verification, password_reset, ...
    kind            TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- pending -> sent, or failed after the last attempt. The job claims a message
    -- before it talks SMTP by counting the attempt and moving next_attempt_at past the
    -- backoff in a committed transaction, so no other run takes it meanwhile.
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    -- Who marked it sent by hand (staff:..., cli:...); NULL when SMTP delivered it.
    sent_by         TEXT,
    -- One message per event: a second enqueue with the same key is not written.
    dedupe_key      TEXT UNIQUE
);

-- What the delivery job looks for.
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
