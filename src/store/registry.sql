-- GENERATED from the steps in src/store/migrations/registry/; do not edit.
-- `UPDATE_SCHEMA=1 cargo test --test it migrations::` rewrites this file; the tests
-- fail while it differs. Nothing runs it: a new database runs the steps. It shows a
-- registry database at schema version 1 as SQLite stores it (columns added by a later
-- step sit at the end of their table), each object with the step that made it.

-- tenants: step 1 (0001_tenants_and_domains.sql)
CREATE TABLE tenants (
    schema_name TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    install_id  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

-- domains: step 1 (0001_tenants_and_domains.sql)
CREATE TABLE domains (
    domain      TEXT PRIMARY KEY COLLATE NOCASE,
    schema_name TEXT NOT NULL REFERENCES tenants(schema_name) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);
