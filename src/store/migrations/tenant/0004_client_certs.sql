-- Tenant schema step 4: client certificates issued to appliances at activation
-- (appliance mTLS).
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE client_certs (
    sha256        TEXT PRIMARY KEY,
    activation_id INTEGER NOT NULL UNIQUE REFERENCES activations(id),
    license_id    TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    not_after     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX client_certs_license ON client_certs(license_id);
