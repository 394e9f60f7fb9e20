-- Tenant schema step 13: appliances that never reach licd (issue 16). An offline
-- activation is an ordinary activations row (so rebind, revoke and the fleet pages work
-- unchanged) with the appliance's own key and the request's nonce beside it; bundles
-- licd signs for such a box are numbered per license; usage reports carried back across
-- the air gap are kept once per (license, box, report_seq).
-- Frozen: a released step never changes; a change to the schema is a new step.

-- An activation can now end because its appliance released it (offline deactivation).
-- SQLite cannot change a CHECK in place: the table is rebuilt with its rows and ids.
-- Rows of other tables point at those ids; foreign keys are checked at commit, when the
-- rows are back.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE activations_before_13 AS SELECT * FROM activations;
DROP TABLE activations;
CREATE TABLE activations (
    id                INTEGER PRIMARY KEY,
    license_id        TEXT NOT NULL REFERENCES licenses(id),
    fingerprint       TEXT NOT NULL,
    hostname          TEXT,
    secret_hash       BLOB NOT NULL UNIQUE,
    created_at        TEXT NOT NULL,
    superseded_at     TEXT,
    superseded_reason TEXT CHECK (superseded_reason IN ('reactivated', 'rebind', 'revoked', 'released')),
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_lease_hash   TEXT NOT NULL DEFAULT ''
);
INSERT INTO activations (id, license_id, fingerprint, hostname, secret_hash, created_at,
                         superseded_at, superseded_reason, last_seq, last_lease_hash)
    SELECT id, license_id, fingerprint, hostname, secret_hash, created_at,
           superseded_at, superseded_reason, last_seq, last_lease_hash
    FROM activations_before_13;
DROP TABLE activations_before_13;
CREATE INDEX activations_license ON activations(license_id);

-- Until when the lease of an offline activation lets its box run (NULL: the license is
-- held online, or by nobody): while it runs, no missing heartbeat locks the license.
ALTER TABLE licenses ADD COLUMN offline_until TEXT;
-- The last bundle number of the license (renewals and revocations share it; 0: none).
ALTER TABLE licenses ADD COLUMN bundle_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE offline_activations (
    activation_id        INTEGER PRIMARY KEY REFERENCES activations(id),
    license_id           TEXT NOT NULL REFERENCES licenses(id),
    fingerprint          TEXT NOT NULL,
    -- The appliance's public key (JWK, JSON) and its RFC 7638 thumbprint.
    appliance_key        TEXT NOT NULL,
    appliance_kid        TEXT NOT NULL,
    -- A request is answered once.
    request_nonce        TEXT NOT NULL UNIQUE,
    created_at           TEXT NOT NULL,
    -- The response must be applied before this; the lease runs until lease_expires_at.
    response_deadline    TEXT NOT NULL,
    lease_expires_at     TEXT NOT NULL,
    -- The license key the box was last given (response or renewal bundle).
    license_key          TEXT NOT NULL,
    -- Offline deactivation: when its proof was recorded, its nonce (accepted once) and
    -- the user counts when the box stopped.
    released_at          TEXT,
    release_nonce        TEXT UNIQUE,
    final_internal_users INTEGER,
    final_external_users INTEGER
);
CREATE INDEX offline_activations_license ON offline_activations(license_id, fingerprint);

CREATE TABLE license_bundles (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL REFERENCES licenses(id),
    bundle_seq    INTEGER NOT NULL CHECK (bundle_seq >= 1),
    kind          TEXT NOT NULL CHECK (kind IN ('renewal', 'revocation')),
    -- The offline activation a renewal's lease belongs to (NULL for a revocation).
    activation_id INTEGER REFERENCES activations(id),
    -- The license key a renewal carries.
    license_key   TEXT,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    UNIQUE (license_id, bundle_seq)
);

CREATE TABLE usage_reports (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL REFERENCES licenses(id),
    fingerprint   TEXT NOT NULL,
    report_seq    INTEGER NOT NULL CHECK (report_seq >= 1),
    -- Chain hash of the report token, and the previous report's as the report names it.
    report_hash   TEXT NOT NULL,
    prev_report   TEXT NOT NULL,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    peak_internal INTEGER NOT NULL CHECK (peak_internal >= 0),
    peak_external INTEGER NOT NULL CHECK (peak_external >= 0),
    -- Daily peaks and the clock rollbacks the box saw (JSON arrays, as reported).
    daily         TEXT NOT NULL,
    rollbacks     TEXT NOT NULL,
    -- Report seqs below this one licd has not received when it arrived (JSON array).
    missing_seqs  TEXT NOT NULL DEFAULT '[]',
    -- Whether prev_report did not match the report licd holds before it.
    chain_break   INTEGER NOT NULL DEFAULT 0 CHECK (chain_break IN (0, 1)),
    received_at   TEXT NOT NULL,
    received_by   TEXT NOT NULL,
    UNIQUE (license_id, fingerprint, report_seq)
);
CREATE INDEX usage_reports_license ON usage_reports(license_id, received_at);
