-- Registry schema step 3: recovery keys, and one name for the default tenant.
-- A recovery key (issued through the tenancy API) is a one-time link to sign in to one
-- tenant as the staff account with one email. Only the SHA-256 of its secret is kept;
-- `used_at` is set when it is redeemed (single use), and it is void after `expires_at`.
-- The default tenant was created as "Default" while the API calls it `public`: an
-- untouched "Default" becomes "public", so the console and the API say the same.
-- Frozen: a released step never changes; a change to the schema is a new step.

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

UPDATE tenants SET name = 'public' WHERE schema_name = 'public' AND name = 'Default';
