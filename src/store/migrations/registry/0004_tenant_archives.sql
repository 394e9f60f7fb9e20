-- Registry schema step 4: deleting a tenant archives it. A tenant row now also goes
-- `deleting` (routing stopped; its database and files being moved to
-- deleted/<schema_name>-<time>/), `deleted` (archived: the row keeps the schema_name and
-- Install ID taken until `licd tenant purge` removes archive and row) and `restoring`
-- (its archive being moved back). `archive` is the archive's directory under the data
-- directory, `deleted_at` when deletion began, `archived_domains` the host names it had
-- (a JSON array; they are free for other tenants while it is deleted).
-- SQLite cannot change a CHECK in place, so `tenants` is rebuilt; `domains` and
-- `recovery_keys` (which reference it, ON DELETE CASCADE) are set aside first and
-- rebuilt the same after, so dropping the old `tenants` cascades to nothing.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TEMP TABLE domains_kept AS SELECT domain, schema_name, created_at FROM domains;
DROP TABLE domains;
CREATE TEMP TABLE recovery_keys_kept AS
    SELECT id, schema_name, email, secret_hash, created_at, expires_at, used_at FROM recovery_keys;
DROP TABLE recovery_keys;

CREATE TABLE tenants_new (
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
INSERT INTO tenants_new (schema_name, name, install_id, created_at, state, failure)
    SELECT schema_name, name, install_id, created_at, state, failure FROM tenants;
DROP TABLE tenants;
ALTER TABLE tenants_new RENAME TO tenants;

CREATE TABLE domains (
    domain      TEXT PRIMARY KEY COLLATE NOCASE,
    schema_name TEXT NOT NULL REFERENCES tenants(schema_name) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);
INSERT INTO domains (domain, schema_name, created_at)
    SELECT domain, schema_name, created_at FROM domains_kept;
DROP TABLE domains_kept;

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
INSERT INTO recovery_keys (id, schema_name, email, secret_hash, created_at, expires_at, used_at)
    SELECT id, schema_name, email, secret_hash, created_at, expires_at, used_at FROM recovery_keys_kept;
DROP TABLE recovery_keys_kept;
