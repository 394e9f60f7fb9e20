-- Tenant schema step 2: licensing (seed 002): signing keys, licenses, activations,
-- heartbeats, directives, license events, provisioning tokens, settings.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    status         TEXT NOT NULL CHECK (status IN ('active', 'verifying', 'retired')),
    public_jwk     TEXT NOT NULL,
    sealed_private BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    rotated_at     TEXT,
    retired_at     TEXT
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(status) WHERE status = 'active';

CREATE TABLE licenses (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    install_id              TEXT NOT NULL,
    organization            TEXT NOT NULL DEFAULT '',
    internal_users          INTEGER NOT NULL,
    external_users          INTEGER NOT NULL,
    features                TEXT NOT NULL DEFAULT '[]',
    flags                   TEXT NOT NULL DEFAULT '[]',
    not_before              TEXT NOT NULL,
    expires_at              TEXT NOT NULL,
    issued_at               TEXT NOT NULL,
    kid                     TEXT NOT NULL REFERENCES signing_keys(kid),
    license_key             TEXT NOT NULL,
    state                   TEXT NOT NULL CHECK (state IN ('issued', 'active', 'locked', 'suspended', 'revoked', 'expired')),
    suspend_reason          TEXT CHECK (suspend_reason IN ('staff', 'subscription')),
    bound_fingerprint       TEXT,
    activated_at            TEXT,
    last_seen_at            TEXT,
    subscription_status     TEXT NOT NULL DEFAULT 'none' CHECK (subscription_status IN ('none', 'active', 'past_due', 'canceled')),
    subscription_period_end TEXT,
    revoked_at              TEXT,
    revoke_reason           TEXT,
    updated_at              TEXT NOT NULL
);
CREATE INDEX licenses_install ON licenses(install_id);
CREATE INDEX licenses_issued ON licenses(issued_at, id);
CREATE INDEX licenses_state ON licenses(state, issued_at);
-- What the sweep looks for, each a small index range:
CREATE INDEX licenses_live_expiry ON licenses(expires_at) WHERE state NOT IN ('revoked', 'expired');
CREATE INDEX licenses_active_seen ON licenses(last_seen_at) WHERE state = 'active';
CREATE INDEX licenses_billing ON licenses(subscription_status) WHERE subscription_status IN ('past_due', 'canceled');
CREATE INDEX licenses_suspended ON licenses(suspend_reason) WHERE state = 'suspended';

CREATE TABLE activations (
    id                INTEGER PRIMARY KEY,
    license_id        TEXT NOT NULL REFERENCES licenses(id),
    fingerprint       TEXT NOT NULL,
    hostname          TEXT,
    secret_hash       BLOB NOT NULL UNIQUE,
    created_at        TEXT NOT NULL,
    superseded_at     TEXT,
    superseded_reason TEXT CHECK (superseded_reason IN ('reactivated', 'rebind', 'revoked')),
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_lease_hash   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX activations_license ON activations(license_id);

CREATE TABLE heartbeats (
    id             INTEGER PRIMARY KEY,
    license_id     TEXT NOT NULL,
    at             TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    internal_users INTEGER,
    external_users INTEGER,
    state          TEXT NOT NULL
);
CREATE INDEX heartbeats_license ON heartbeats(license_id, id);

CREATE TABLE directives (
    id           INTEGER PRIMARY KEY,
    license_id   TEXT NOT NULL REFERENCES licenses(id),
    kind         TEXT NOT NULL CHECK (kind IN ('lock', 'unlock', 'message', 'install_key')),
    message      TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    first_seq    INTEGER,
    acked_at     TEXT
);
CREATE INDEX directives_pending ON directives(license_id) WHERE acked_at IS NULL;

CREATE TABLE license_events (
    id         INTEGER PRIMARY KEY,
    license_id TEXT NOT NULL,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX license_events_license ON license_events(license_id, id);

CREATE TABLE provisioning_tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    template   TEXT NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
