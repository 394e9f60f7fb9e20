-- Registry schema step 2: the registry-level audit chain, and tenant creation as a state.
-- Every call of the tenancy API is recorded in audit_log with the tenancy key's name
-- (never the key), under the same hash-chain rules as each tenant's own audit_log
-- (domain::audit). A tenant is `creating` until its database, signing key and files
-- exist, then `ready`; `failed` (with `failure`) when creation stopped half-way, its
-- partial files removed. Existing tenants are ready.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log(action);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

ALTER TABLE tenants ADD COLUMN state TEXT NOT NULL DEFAULT 'ready'
    CHECK (state IN ('creating', 'ready', 'failed'));
ALTER TABLE tenants ADD COLUMN failure TEXT;
