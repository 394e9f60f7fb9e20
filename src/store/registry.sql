-- registry.db: which tenants this server hosts and which host names route to them.

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
