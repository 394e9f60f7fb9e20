-- GENERATED from the steps in src/store/migrations/tenant/; do not edit.
-- `UPDATE_SCHEMA=1 cargo test --test it migrations::` rewrites this file; the tests
-- fail while it differs. Nothing runs it: a new database runs the steps. It shows a
-- tenant database at schema version 25 as SQLite stores it (columns added by a later
-- step sit at the end of their table), each object with the step that made it.

-- staff_users: step 1 (0001_foundation.sql); changed by step 10 (0010_customer_portal.sql)
CREATE TABLE staff_users (
    id                   INTEGER PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name         TEXT NOT NULL DEFAULT '',
    role                 TEXT NOT NULL CHECK (role IN ('super_admin', 'support', 'onboarding')),
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    disabled_at          TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
, kind TEXT NOT NULL DEFAULT 'person'
    CHECK (kind IN ('person', 'service')));

-- sessions: step 1 (0001_foundation.sql)
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    remote_addr TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- api_tokens: step 1 (0001_foundation.sql)
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- audit_log: step 1 (0001_foundation.sql)
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
CREATE INDEX audit_log_actor ON audit_log(actor);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- signing_keys: step 2 (0002_licensing.sql); changed by step 23 (0023_signed_by_number.sql)
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    status         TEXT NOT NULL CHECK (status IN ('active', 'verifying', 'retired')),
    public_jwk     TEXT NOT NULL,
    sealed_private BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    rotated_at     TEXT,
    retired_at     TEXT
, no INTEGER);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(status) WHERE status = 'active';
-- step 23 (0023_signed_by_number.sql)
CREATE UNIQUE INDEX signing_keys_no ON signing_keys(no);

-- licenses: step 2 (0002_licensing.sql); changed by step 7 (0007_license_keys.sql); changed by step 10 (0010_customer_portal.sql); changed by step 13 (0013_air_gapped_appliances.sql); changed by step 15 (0015_license_key_once.sql); changed by step 16 (0016_heartbeat_head_on_license.sql); changed by step 17 (0017_heartbeat_state.sql); changed by step 20 (0020_leaner_licenses.sql); changed by step 22 (0022_fewer_index_bytes.sql); changed by step 23 (0023_signed_by_number.sql); changed by step 24 (0024_license_times_as_integers.sql); changed by step 25 (0025_license_numbers.sql)
CREATE TABLE licenses (
    -- Its number: what the tables of its hot path name it by (`heartbeat_state`).
    no                      INTEGER PRIMARY KEY,
    id                      TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    install_id              TEXT NOT NULL,
    organization            TEXT NOT NULL DEFAULT '',
    internal_users          INTEGER NOT NULL,
    external_users          INTEGER NOT NULL,
    features                TEXT NOT NULL DEFAULT '[]',
    flags                   TEXT NOT NULL DEFAULT '[]',
    -- Times: microseconds since 1970-01-01T00:00:00Z.
    not_before              INTEGER NOT NULL,
    expires_at              INTEGER NOT NULL,
    issued_at               INTEGER NOT NULL,
    -- The signing key of its current key (`signing_keys.no`), and that key.
    signed_by               INTEGER REFERENCES signing_keys(no),
    key_id                  INTEGER REFERENCES license_keys(id),
    state                   TEXT NOT NULL CHECK (state IN ('issued', 'active', 'locked', 'suspended', 'revoked', 'expired')),
    suspend_reason          TEXT CHECK (suspend_reason IN ('staff', 'subscription')),
    suspend_note            TEXT,
    bound_fingerprint       TEXT,
    activated_at            INTEGER,
    subscription_status     TEXT NOT NULL DEFAULT 'none' CHECK (subscription_status IN ('none', 'active', 'past_due', 'canceled')),
    subscription_period_end INTEGER,
    revoked_at              INTEGER,
    revoke_reason           TEXT,
    organization_id         INTEGER REFERENCES organizations(id),
    offline_until           INTEGER,
    bundle_seq              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX licenses_install ON licenses(install_id);
-- step 20 (0020_leaner_licenses.sql)
CREATE INDEX licenses_issued ON licenses(issued_at);
-- step 20 (0020_leaner_licenses.sql)
CREATE INDEX licenses_state ON licenses(state, issued_at) WHERE state <> 'active';
CREATE INDEX licenses_live_expiry ON licenses(expires_at) WHERE state NOT IN ('revoked', 'expired');
CREATE INDEX licenses_billing ON licenses(subscription_status) WHERE subscription_status IN ('past_due', 'canceled');
CREATE INDEX licenses_suspended ON licenses(suspend_reason) WHERE state = 'suspended';
-- step 3 (0003_installations.sql)
CREATE INDEX licenses_expiry ON licenses(expires_at);
-- step 20 (0020_leaner_licenses.sql)
CREATE INDEX licenses_not_before ON licenses(not_before) WHERE not_before > issued_at;
-- step 24 (0024_license_times_as_integers.sql)
CREATE TRIGGER fleet_license_added AFTER INSERT ON licenses BEGIN
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
    INSERT INTO fleet_license_days (day, issued)
        VALUES (date(NEW.issued_at / 1000000, 'unixepoch'), 1)
        ON CONFLICT (day) DO UPDATE SET issued = issued + 1;
END;
-- step 8 (0008_fleet_aggregates.sql)
CREATE TRIGGER fleet_license_state_changed AFTER UPDATE OF state ON licenses
WHEN OLD.state IS NOT NEW.state BEGIN
    UPDATE fleet_license_states SET licenses = licenses - 1 WHERE state = OLD.state;
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
END;
-- step 8 (0008_fleet_aggregates.sql)
CREATE TRIGGER fleet_license_removed AFTER DELETE ON licenses BEGIN
    UPDATE fleet_license_states SET licenses = licenses - 1 WHERE state = OLD.state;
END;
-- step 10 (0010_customer_portal.sql)
CREATE INDEX licenses_organization ON licenses(organization_id) WHERE organization_id IS NOT NULL;
-- step 16 (0016_heartbeat_head_on_license.sql)
CREATE INDEX licenses_organization_live_expiry ON licenses(expires_at)
    WHERE organization_id IS NOT NULL AND state NOT IN ('revoked', 'expired');
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_state_made AFTER INSERT ON licenses BEGIN
    INSERT INTO heartbeat_state (license_no, active) VALUES (NEW.no, NEW.state = 'active');
END;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_state_active AFTER UPDATE OF state ON licenses
WHEN (OLD.state = 'active') IS NOT (NEW.state = 'active') BEGIN
    UPDATE heartbeat_state SET active = (NEW.state = 'active') WHERE license_no = NEW.no;
END;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_assessment_license_added AFTER INSERT ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id = NEW.install_id);
END;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_assessment_license_changed
AFTER UPDATE OF install_id, state, suspend_reason, internal_users, external_users, not_before,
    expires_at, bound_fingerprint, subscription_status, subscription_period_end, offline_until
ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id IN (OLD.install_id, NEW.install_id));
END;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_assessment_license_removed AFTER DELETE ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id = OLD.install_id);
END;
-- step 23 (0023_signed_by_number.sql)
CREATE INDEX licenses_signed_by ON licenses(signed_by);

-- activations: step 2 (0002_licensing.sql); changed by step 13 (0013_air_gapped_appliances.sql); changed by step 14 (0014_heartbeat_chain.sql); changed by step 16 (0016_heartbeat_head_on_license.sql); changed by step 22 (0022_fewer_index_bytes.sql); changed by step 25 (0025_license_numbers.sql)
CREATE TABLE activations (
    id                INTEGER PRIMARY KEY,
    license_no        INTEGER NOT NULL REFERENCES licenses(no),
    fingerprint       TEXT NOT NULL,
    hostname          TEXT,
    secret_hash       BLOB NOT NULL,
    -- Times: microseconds since 1970-01-01T00:00:00Z.
    created_at        INTEGER NOT NULL,
    superseded_at     INTEGER,
    superseded_reason TEXT CHECK (superseded_reason IN ('reactivated', 'rebind', 'revoked', 'released')),
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_lease_hash   TEXT NOT NULL DEFAULT ''
);
-- step 25 (0025_license_numbers.sql)
CREATE INDEX activations_license ON activations(license_no);
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_credential_changed
AFTER UPDATE OF license_no, fingerprint, secret_hash, superseded_at, superseded_reason
ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_no IN (OLD.license_no, NEW.license_no) AND credential_digest IS NOT NULL;
END;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_credential_removed AFTER DELETE ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_no = OLD.license_no AND credential_digest IS NOT NULL;
END;

-- heartbeats: step 2 (0002_licensing.sql); changed by step 14 (0014_heartbeat_chain.sql)
CREATE TABLE heartbeats (
    id             INTEGER PRIMARY KEY,
    license_id     TEXT NOT NULL,
    at             TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    internal_users INTEGER,
    external_users INTEGER,
    state          TEXT NOT NULL
, prev_id INTEGER);
-- step 8 (0008_fleet_aggregates.sql)
CREATE TRIGGER fleet_heartbeat_counted AFTER INSERT ON heartbeats BEGIN
    INSERT INTO fleet_heartbeat_hours (hour, heartbeats) VALUES (substr(NEW.at, 1, 13), 1)
        ON CONFLICT (hour) DO UPDATE SET heartbeats = heartbeats + 1;
END;

-- directives: step 2 (0002_licensing.sql); changed by step 6 (0006_directive_activations.sql); changed by step 7 (0007_license_keys.sql)
CREATE TABLE directives (
    id           INTEGER PRIMARY KEY,
    license_id   TEXT NOT NULL REFERENCES licenses(id),
    kind         TEXT NOT NULL CHECK (kind IN ('lock', 'unlock', 'message', 'install_key')),
    message      TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    first_seq    INTEGER,
    acked_at     TEXT
, activation_id INTEGER REFERENCES activations(id), license_key TEXT, replaced_at TEXT);
CREATE INDEX directives_pending ON directives(license_id) WHERE acked_at IS NULL;
-- step 6 (0006_directive_activations.sql)
CREATE INDEX directives_activation ON directives(activation_id) WHERE acked_at IS NULL;

-- license_events: step 2 (0002_licensing.sql)
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

-- provisioning_tokens: step 2 (0002_licensing.sql)
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

-- settings: step 2 (0002_licensing.sql)
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- step 19 (0019_heartbeat_assessment.sql)
CREATE TRIGGER heartbeat_assessment_settings_added AFTER INSERT ON settings
WHEN NEW.key = 'licensing' BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL WHERE assessed_at IS NOT NULL;
END;
-- step 19 (0019_heartbeat_assessment.sql)
CREATE TRIGGER heartbeat_assessment_settings_changed AFTER UPDATE ON settings
WHEN NEW.key = 'licensing' BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL WHERE assessed_at IS NOT NULL;
END;

-- installations: step 3 (0003_installations.sql); changed by step 22 (0022_fewer_index_bytes.sql)
CREATE TABLE installations (
    install_id      TEXT PRIMARY KEY,
    internal_users  INTEGER,
    external_users  INTEGER,
    -- Times: microseconds since 1970-01-01T00:00:00Z.
    usage_at        INTEGER,
    condition       TEXT NOT NULL DEFAULT 'unlicensed'
                    CHECK (condition IN ('unlicensed', 'compliant', 'over_limit', 'no_valid_license')),
    violation_since INTEGER,
    stage           TEXT NOT NULL DEFAULT 'none'
                    CHECK (stage IN ('none', 'expiry_soon', 'admin_warning', 'users_warning', 'read_only')),
    updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX installations_violation ON installations(violation_since) WHERE violation_since IS NOT NULL;
-- step 8 (0008_fleet_aggregates.sql)
CREATE TRIGGER fleet_installation_added AFTER INSERT ON installations BEGIN
    INSERT INTO fleet_installation_stages (stage, installations) VALUES (NEW.stage, 1)
        ON CONFLICT (stage) DO UPDATE SET installations = installations + 1;
END;
-- step 8 (0008_fleet_aggregates.sql)
CREATE TRIGGER fleet_installation_stage_changed AFTER UPDATE OF stage ON installations
WHEN OLD.stage IS NOT NEW.stage BEGIN
    UPDATE fleet_installation_stages SET installations = installations - 1 WHERE stage = OLD.stage;
    INSERT INTO fleet_installation_stages (stage, installations) VALUES (NEW.stage, 1)
        ON CONFLICT (stage) DO UPDATE SET installations = installations + 1;
END;
-- step 8 (0008_fleet_aggregates.sql)
CREATE TRIGGER fleet_installation_removed AFTER DELETE ON installations BEGIN
    UPDATE fleet_installation_stages SET installations = installations - 1 WHERE stage = OLD.stage;
END;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_assessment_installation_changed AFTER UPDATE ON installations BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id IN (OLD.install_id, NEW.install_id));
END;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_assessment_installation_removed AFTER DELETE ON installations BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id = OLD.install_id);
END;

-- installation_events: step 3 (0003_installations.sql)
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

-- enterprise_licenses: step 3 (0003_installations.sql)
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

-- client_certs: step 4 (0004_client_certs.sql)
CREATE TABLE client_certs (
    sha256        TEXT PRIMARY KEY,
    activation_id INTEGER NOT NULL UNIQUE REFERENCES activations(id),
    license_id    TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    not_after     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX client_certs_license ON client_certs(license_id);

-- one_time_passwords: step 5 (0005_one_time_passwords.sql)
CREATE TABLE one_time_passwords (
    user_id   INTEGER PRIMARY KEY REFERENCES staff_users(id) ON DELETE CASCADE,
    issued_at TEXT NOT NULL
);

-- license_keys: step 7 (0007_license_keys.sql); changed by step 20 (0020_leaner_licenses.sql); changed by step 22 (0022_fewer_index_bytes.sql)
CREATE TABLE license_keys (
    id            INTEGER PRIMARY KEY,
    -- The key this one replaced (NULL for a license's first key).
    prev_id       INTEGER REFERENCES license_keys(id),
    license_key   TEXT NOT NULL,
    reason        TEXT NOT NULL CHECK (reason IN ('issue', 'renew', 'change', 'reissue')),
    -- Times: microseconds since 1970-01-01T00:00:00Z.
    issued_at     INTEGER NOT NULL,
    issued_by     TEXT NOT NULL,
    superseded_at INTEGER
);

-- fleet_heartbeat_hours: step 8 (0008_fleet_aggregates.sql)
CREATE TABLE fleet_heartbeat_hours (
    hour       TEXT PRIMARY KEY,
    heartbeats INTEGER NOT NULL
) WITHOUT ROWID;

-- fleet_appliance_days: step 8 (0008_fleet_aggregates.sql)
CREATE TABLE fleet_appliance_days (
    day        TEXT PRIMARY KEY,
    appliances INTEGER NOT NULL
) WITHOUT ROWID;

-- fleet_license_days: step 8 (0008_fleet_aggregates.sql)
CREATE TABLE fleet_license_days (
    day    TEXT PRIMARY KEY,
    issued INTEGER NOT NULL
) WITHOUT ROWID;

-- fleet_license_states: step 8 (0008_fleet_aggregates.sql)
CREATE TABLE fleet_license_states (
    state    TEXT PRIMARY KEY,
    licenses INTEGER NOT NULL
) WITHOUT ROWID;

-- fleet_installation_stages: step 8 (0008_fleet_aggregates.sql)
CREATE TABLE fleet_installation_stages (
    stage         TEXT PRIMARY KEY,
    installations INTEGER NOT NULL
) WITHOUT ROWID;

-- outbox: step 9 (0009_outbox.sql)
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    -- What caused it: invitation, verification, password_reset, ...
    kind            TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- pending -> sent, or failed after the last attempt. The job claims a message
    -- before it talks SMTP by counting the attempt and moving next_attempt_at past the
    -- backoff in a committed transaction, so no other run takes it meanwhile.
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    -- Who marked it sent by hand (staff:..., cli:...); NULL when SMTP delivered it.
    sent_by         TEXT,
    -- One message per event: a second enqueue with the same key is not written.
    dedupe_key      TEXT UNIQUE
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- customers: step 10 (0010_customer_portal.sql)
CREATE TABLE customers (
    id                INTEGER PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name      TEXT NOT NULL DEFAULT '',
    -- argon2id PHC string.
    password_hash     TEXT NOT NULL,
    -- NULL until the customer proves the address (a verification link, or an
    -- invitation accepted by a new account). Nothing else works before.
    email_verified_at TEXT,
    disabled_at       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- customer_sessions: step 10 (0010_customer_portal.sql)
CREATE TABLE customer_sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    remote_addr TEXT
);
CREATE INDEX customer_sessions_customer ON customer_sessions(customer_id);
CREATE INDEX customer_sessions_expiry ON customer_sessions(expires_at);

-- customer_links: step 10 (0010_customer_portal.sql)
CREATE TABLE customer_links (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX customer_links_customer ON customer_links(customer_id, purpose);

-- organizations: step 10 (0010_customer_portal.sql)
CREATE TABLE organizations (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT NOT NULL,
    notification_email    TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    -- An owner asked staff to delete it (deleting is not self-service).
    deletion_requested_at TEXT,
    deletion_requested_by TEXT
);
CREATE INDEX organizations_name ON organizations(name COLLATE NOCASE);

-- memberships: step 10 (0010_customer_portal.sql)
CREATE TABLE memberships (
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, customer_id)
);
CREATE INDEX memberships_customer ON memberships(customer_id);

-- invitations: step 10 (0010_customer_portal.sql)
CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email           TEXT NOT NULL COLLATE NOCASE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    token_hash      BLOB NOT NULL UNIQUE,
    -- Who invited, as the audit log names them (customer:<email>, staff:<email>).
    invited_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT NOT NULL,
    sends           INTEGER NOT NULL DEFAULT 1,
    expires_at      TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'accepted', 'revoked')),
    accepted_by     INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    closed_at       TEXT
);
CREATE INDEX invitations_organization ON invitations(organization_id, state);
CREATE UNIQUE INDEX invitations_pending ON invitations(organization_id, email)
    WHERE state = 'pending';

-- price_list: step 11 (0011_billing.sql)
CREATE TABLE price_list (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    currency               TEXT NOT NULL CHECK (length(currency) = 3),
    -- Per user and period, in minor units.
    internal_monthly_minor INTEGER NOT NULL CHECK (internal_monthly_minor >= 0),
    internal_yearly_minor  INTEGER NOT NULL CHECK (internal_yearly_minor >= 0),
    external_monthly_minor INTEGER NOT NULL CHECK (external_monthly_minor >= 0),
    external_yearly_minor  INTEGER NOT NULL CHECK (external_yearly_minor >= 0),
    min_internal_users     INTEGER NOT NULL DEFAULT 0 CHECK (min_internal_users >= 0),
    min_external_users     INTEGER NOT NULL DEFAULT 0 CHECK (min_external_users >= 0),
    -- The tax rule as JSON (rates in basis points by country, reverse charge ...).
    tax_rule               TEXT NOT NULL DEFAULT '{}',
    payment_terms_days     INTEGER NOT NULL CHECK (payment_terms_days >= 0),
    allow_purchase_order   INTEGER NOT NULL DEFAULT 0 CHECK (allow_purchase_order IN (0, 1)),
    bank_details           TEXT NOT NULL DEFAULT '',
    renewal_days_before    INTEGER NOT NULL CHECK (renewal_days_before >= 0),
    dunning_grace_days     INTEGER NOT NULL CHECK (dunning_grace_days >= 0),
    updated_at             TEXT NOT NULL,
    updated_by             TEXT NOT NULL
);

-- billing_accounts: step 11 (0011_billing.sql)
CREATE TABLE billing_accounts (
    organization_id  INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    legal_name       TEXT NOT NULL,
    address          TEXT NOT NULL DEFAULT '',
    phone            TEXT NOT NULL DEFAULT '',
    tax_id           TEXT NOT NULL DEFAULT '',
    tax_id_type      TEXT NOT NULL DEFAULT '',
    country          TEXT NOT NULL DEFAULT '',
    payment_method   TEXT NOT NULL DEFAULT 'bank_transfer'
                     CHECK (payment_method IN ('bank_transfer', 'purchase_order')),
    po_reference     TEXT NOT NULL DEFAULT '',
    billing_contact  TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- subscriptions: step 11 (0011_billing.sql); changed by step 12 (0012_subscription_billing.sql)
CREATE TABLE subscriptions (
    id                       INTEGER PRIMARY KEY,
    organization_id          INTEGER NOT NULL REFERENCES organizations(id),
    -- NULL until the license is issued (on the first payment).
    license_id               TEXT REFERENCES licenses(id),
    install_id               TEXT NOT NULL,
    license_name             TEXT NOT NULL,
    internal_users           INTEGER NOT NULL CHECK (internal_users >= 0),
    external_users           INTEGER NOT NULL CHECK (external_users >= 0),
    period                   TEXT NOT NULL CHECK (period IN ('monthly', 'yearly')),
    current_period_start     TEXT,
    current_period_end       TEXT,
    status                   TEXT NOT NULL
                             CHECK (status IN ('pending', 'active', 'past_due', 'canceled', 'ended')),
    cancel_at_period_end     INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    -- Quantities that take effect at the next renewal (a decrease waits for it).
    pending_internal_users   INTEGER CHECK (pending_internal_users >= 0),
    pending_external_users   INTEGER CHECK (pending_external_users >= 0),
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL
, anchor_date TEXT);
CREATE INDEX subscriptions_organization ON subscriptions(organization_id);
CREATE INDEX subscriptions_license ON subscriptions(license_id);
-- step 12 (0012_subscription_billing.sql)
CREATE INDEX subscriptions_period_end ON subscriptions(status, current_period_end);

-- invoices: step 11 (0011_billing.sql)
CREATE TABLE invoices (
    id               INTEGER PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organizations(id),
    subscription_id  INTEGER REFERENCES subscriptions(id),
    state            TEXT NOT NULL CHECK (state IN ('draft', 'open', 'paid', 'void')),
    -- INV-YYYY-NNNNNN, given when the invoice is finalised (gapless per year).
    number           TEXT UNIQUE,
    currency         TEXT NOT NULL CHECK (length(currency) = 3),
    subtotal_minor   INTEGER NOT NULL,
    tax_minor        INTEGER NOT NULL,
    total_minor      INTEGER NOT NULL,
    amount_paid      INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    amount_credited  INTEGER NOT NULL DEFAULT 0 CHECK (amount_credited >= 0),
    issued_at        TEXT,
    due_at           TEXT,
    payment_method   TEXT NOT NULL DEFAULT 'bank_transfer'
                     CHECK (payment_method IN ('bank_transfer', 'purchase_order')),
    po_number        TEXT NOT NULL DEFAULT '',
    -- The billing account and vendor details as they were when it was finalised.
    billing_snapshot TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    voided_at        TEXT,
    CHECK ((state = 'draft') = (number IS NULL))
);
CREATE INDEX invoices_organization ON invoices(organization_id);
CREATE INDEX invoices_state ON invoices(state, due_at);
CREATE TRIGGER invoices_finalised_totals BEFORE UPDATE OF currency, subtotal_minor, tax_minor, total_minor, number, organization_id, issued_at ON invoices
WHEN OLD.state <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;
CREATE TRIGGER invoices_finalised_no_delete BEFORE DELETE ON invoices
WHEN OLD.state <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;

-- invoice_lines: step 11 (0011_billing.sql)
CREATE TABLE invoice_lines (
    id            INTEGER PRIMARY KEY,
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('internal_users', 'external_users', 'minimum', 'adjustment', 'other')),
    description   TEXT NOT NULL,
    period_start  TEXT,
    period_end    TEXT,
    quantity      INTEGER NOT NULL,
    unit_minor    INTEGER NOT NULL,
    amount_minor  INTEGER NOT NULL,
    tax_rate_bp   INTEGER NOT NULL CHECK (tax_rate_bp BETWEEN 0 AND 10000),
    tax_minor     INTEGER NOT NULL,
    proration     INTEGER NOT NULL DEFAULT 0 CHECK (proration IN (0, 1)),
    UNIQUE (invoice_id, position)
);
CREATE TRIGGER invoice_lines_finalised_insert BEFORE INSERT ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = NEW.invoice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;
CREATE TRIGGER invoice_lines_finalised_update BEFORE UPDATE ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;
CREATE TRIGGER invoice_lines_finalised_delete BEFORE DELETE ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;

-- invoice_counters: step 11 (0011_billing.sql)
CREATE TABLE invoice_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 0)
);

-- payments: step 11 (0011_billing.sql)
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    invoice_id      INTEGER NOT NULL REFERENCES invoices(id),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    received_on     TEXT NOT NULL,
    reference       TEXT NOT NULL DEFAULT '',
    method          TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX payments_invoice ON payments(invoice_id);

-- credit_notes: step 11 (0011_billing.sql)
CREATE TABLE credit_notes (
    id            INTEGER PRIMARY KEY,
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id),
    -- CN-<invoice number>-<n>.
    number        TEXT NOT NULL UNIQUE,
    reason        TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    -- The invoice lines it credits: [{"line_id": .., "amount_minor": ..}].
    lines         TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX credit_notes_invoice ON credit_notes(invoice_id);

-- subscription_invoices: step 12 (0012_subscription_billing.sql)
CREATE TABLE subscription_invoices (
    invoice_id       INTEGER PRIMARY KEY REFERENCES invoices(id),
    subscription_id  INTEGER NOT NULL REFERENCES subscriptions(id),
    purpose          TEXT NOT NULL CHECK (purpose IN ('purchase', 'renewal', 'upgrade')),
    -- The user counts the subscription has once this invoice is applied.
    internal_users   INTEGER NOT NULL CHECK (internal_users >= 0),
    external_users   INTEGER NOT NULL CHECK (external_users >= 0),
    -- The period it pays for (an upgrade: the rest of the current period).
    period_start     TEXT NOT NULL,
    period_end       TEXT NOT NULL,
    -- When its effect was applied (paid, or its purchase order accepted); NULL before.
    applied_at       TEXT,
    po_accepted_at   TEXT,
    po_accepted_by   TEXT
);
CREATE INDEX subscription_invoices_subscription ON subscription_invoices(subscription_id, purpose, period_start);

-- offline_activations: step 13 (0013_air_gapped_appliances.sql)
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

-- license_bundles: step 13 (0013_air_gapped_appliances.sql)
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

-- usage_reports: step 13 (0013_air_gapped_appliances.sql)
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

-- heartbeat_state: step 17 (0017_heartbeat_state.sql); changed by step 18 (0018_heartbeat_credential.sql); changed by step 19 (0019_heartbeat_assessment.sql); changed by step 21 (0021_seen_day.sql); changed by step 25 (0025_license_numbers.sql)
CREATE TABLE heartbeat_state (
    license_no              INTEGER PRIMARY KEY REFERENCES licenses(no),
    -- When its appliance was last heard from: microseconds since 1970-01-01T00:00:00Z.
    last_seen_at            INTEGER,
    last_heartbeat_id       INTEGER,
    -- The activation whose lease chain the next two hold; any other activation's chain
    -- is in its own row (`activations.last_seq`, `activations.last_lease_hash`).
    activation_id           INTEGER REFERENCES activations(id),
    last_seq                INTEGER NOT NULL DEFAULT 0,
    last_lease_hash         TEXT NOT NULL DEFAULT '',
    -- 1 while the license's state is `active` (kept by the triggers below), for the
    -- partial index.
    active                  INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    credential_digest       BLOB,
    assessed_at             INTEGER,
    assessed_until          INTEGER,
    assessed_stage          INTEGER CHECK (assessed_stage BETWEEN 0 AND 4),
    assessed_internal_users INTEGER,
    assessed_external_users INTEGER,
    -- The day of `last_seen_at`, in days since 1970-01-01 (trigger `heartbeat_state_seen_day`).
    seen_day                INTEGER
);
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER fleet_license_heard AFTER UPDATE OF last_seen_at ON heartbeat_state
WHEN NEW.last_seen_at / 86400000000 > coalesce(OLD.last_seen_at / 86400000000, -1) BEGIN
    INSERT INTO fleet_appliance_days (day, appliances)
        VALUES (date(NEW.last_seen_at / 1000000, 'unixepoch'), 1)
        ON CONFLICT (day) DO UPDATE SET appliances = appliances + 1;
END;
-- step 21 (0021_seen_day.sql)
CREATE INDEX heartbeat_state_active_day ON heartbeat_state(seen_day) WHERE active = 1;
-- step 25 (0025_license_numbers.sql)
CREATE TRIGGER heartbeat_state_seen_day AFTER UPDATE OF last_seen_at ON heartbeat_state
WHEN NEW.last_seen_at / 86400000000 IS NOT OLD.last_seen_at / 86400000000 BEGIN
    UPDATE heartbeat_state SET seen_day = NEW.last_seen_at / 86400000000
        WHERE license_no = NEW.license_no;
END;
