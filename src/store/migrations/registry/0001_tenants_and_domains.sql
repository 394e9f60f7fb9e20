-- Registry schema step 1: which tenants this server hosts and which host names route
-- to them (registry.db), as licd first released it.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE tenants (
    schema_name TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    install_id  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE domains (
    domain      TEXT PRIMARY KEY COLLATE NOCASE,
    schema_name TEXT NOT NULL REFERENCES tenants(schema_name) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);
