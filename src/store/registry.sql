-- GENERATED from the steps in src/store/migrations/registry/; do not edit.
-- `UPDATE_SCHEMA=1 cargo test --test it migrations::` rewrites this file; the tests
-- fail while it differs. Nothing runs it: a new database runs the steps. It shows a
-- registry database at schema version 5 as SQLite stores it (columns added by a later
-- step sit at the end of their table), each object with the step that made it.

-- tenants: step 1 (0001_tenants_and_domains.sql); changed by step 2 (0002_audit_and_tenant_state.sql); changed by step 4 (0004_tenant_archives.sql)
CREATE TABLE "tenants" (
    schema_name      TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    install_id       TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'ready'
        CHECK (state IN ('creating', 'ready', 'failed', 'deleting', 'deleted', 'restoring')),
    failure          TEXT,
    archive          TEXT,
    deleted_at       TEXT,
    archived_domains TEXT
);

-- domains: step 1 (0001_tenants_and_domains.sql)
CREATE TABLE domains (
    domain      TEXT PRIMARY KEY COLLATE NOCASE,
    schema_name TEXT NOT NULL REFERENCES tenants(schema_name) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);

-- audit_log: step 2 (0002_audit_and_tenant_state.sql)
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

-- recovery_keys: step 3 (0003_recovery_keys_and_public_name.sql)
CREATE TABLE recovery_keys (
    id          INTEGER PRIMARY KEY,
    schema_name TEXT NOT NULL REFERENCES tenants(schema_name) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX recovery_keys_tenant ON recovery_keys(schema_name);

-- tenant_schedule: step 5 (0005_tenant_schedule.sql)
CREATE TABLE tenant_schedule (
    schema_name TEXT PRIMARY KEY,
    due_at      TEXT NOT NULL
);
CREATE INDEX tenant_schedule_due ON tenant_schedule(due_at);
