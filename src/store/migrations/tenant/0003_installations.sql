-- Tenant schema step 3: installations, their usage and violation state (seed 000), and
-- licd's own licenses.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE installations (
    install_id      TEXT PRIMARY KEY,
    internal_users  INTEGER,
    external_users  INTEGER,
    usage_at        TEXT,
    condition       TEXT NOT NULL DEFAULT 'unlicensed'
                    CHECK (condition IN ('unlicensed', 'compliant', 'over_limit', 'no_valid_license')),
    violation_since TEXT,
    stage           TEXT NOT NULL DEFAULT 'none'
                    CHECK (stage IN ('none', 'expiry_soon', 'admin_warning', 'users_warning', 'read_only')),
    updated_at      TEXT NOT NULL
);
CREATE INDEX installations_violation ON installations(violation_since) WHERE violation_since IS NOT NULL;

CREATE TABLE installation_events (
    id             INTEGER PRIMARY KEY,
    install_id     TEXT NOT NULL,
    at             TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('usage', 'stage')),
    internal_users INTEGER,
    external_users INTEGER,
    stage          TEXT,
    condition      TEXT
);
CREATE INDEX installation_events_install ON installation_events(install_id, id);

-- What the installation sweep looks for: licenses starting or ending in a period.
CREATE INDEX licenses_expiry ON licenses(expires_at);
CREATE INDEX licenses_not_before ON licenses(not_before);

-- licd's own licenses (Enterprise > Licenses), verified against licensing.trusted_issuers.
CREATE TABLE enterprise_licenses (
    id             TEXT PRIMARY KEY,
    license_key    TEXT NOT NULL,
    name           TEXT NOT NULL,
    organization   TEXT NOT NULL,
    internal_users INTEGER NOT NULL,
    external_users INTEGER NOT NULL,
    not_before     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    installed_at   TEXT NOT NULL,
    installed_by   TEXT NOT NULL
);
