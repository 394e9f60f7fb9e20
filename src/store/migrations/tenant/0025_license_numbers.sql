-- Tenant schema step 25: a license's state row and its activations name it by number,
-- and its appliance's last heartbeat time is whole microseconds (issue 17, bytes per
-- license).
--
-- `heartbeat_state` was kept by the license's id (36 characters), which every entry of
-- its index of days (`heartbeat_state_active_day`) held again; the ids are random, so
-- rows arrived at random places and left its pages a third empty. An activation held
-- the id too, and so did every entry of `activations_license`. A license now has a
-- number, its rowid (`licenses.no`, as `signing_keys.no` numbers signing keys); its
-- state row is kept by that number (`heartbeat_state.license_no`) and its activations
-- name it (`activations.license_no`): a few bytes in each row and index entry where the
-- id took 37, state rows in the order licenses were issued. `last_seen_at` was text, 27
-- characters ("2026-01-01T09:00:00.000000Z"); it is now microseconds since 1970-01-01
-- UTC (`store::micros`), as the license's other times are since step 24. About 200
-- bytes a license in all.
--
-- Every time licd wrote is in its one form (`store::ts`); one that is not (a row edited
-- by hand) stops the upgrade at the constraint `a_heard_time_is_not_in_licds_form`, and
-- a state row or an activation of a license that does not exist at
-- `a_row_names_an_unknown_license`, with every row as it was, instead of being read
-- wrong or left behind.
--
-- SQLite cannot add a rowid alias or change a column in place: `licenses` is rebuilt
-- with its rows, their rowids (now `no`) and their values, as step 24 rebuilt it; its
-- id stays unique (`id TEXT NOT NULL UNIQUE`, the same index as before), so what points
-- at a license by id still does. `activations` (with their ids) and `heartbeat_state`
-- are rebuilt by number. The triggers of the three tables, and those of `installations`
-- that clear a license's assessment, are made again for the number. Dropping a table
-- checks, for each row, the rows of other tables that point at it: the columns that
-- point at a license or an activation and have no index of their own
-- (`directives.license_id`, `directives.activation_id`, `license_bundles.activation_id`)
-- get one for the step.
-- Frozen: a released step never changes; a change to the schema is a new step.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE heard_25 (
    t TEXT CONSTRAINT a_heard_time_is_not_in_licds_form CHECK (t IS NULL),
    license_id TEXT CONSTRAINT a_row_names_an_unknown_license CHECK (license_id IS NULL)
);
INSERT INTO heard_25 (t) SELECT last_seen_at FROM heartbeat_state
WHERE last_seen_at IS NOT NULL AND NOT (
    typeof(last_seen_at) = 'text' AND length(last_seen_at) = 27
    AND last_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'
    AND unixepoch(last_seen_at) IS NOT NULL
);
INSERT INTO heard_25 (license_id) SELECT license_id FROM heartbeat_state h
WHERE NOT EXISTS (SELECT 1 FROM licenses l WHERE l.id = h.license_id);
INSERT INTO heard_25 (license_id) SELECT license_id FROM activations a
WHERE NOT EXISTS (SELECT 1 FROM licenses l WHERE l.id = a.license_id);
DROP TABLE heard_25;

-- The state rows and the activations aside, with the number their license will have
-- (its rowid), each in the order its new table keeps (CROSS JOIN: that table outside).
CREATE TABLE heartbeat_state_before_25 AS
    SELECT l.rowid AS license_no, h.*
    FROM licenses l CROSS JOIN heartbeat_state h ON h.license_id = l.id
    ORDER BY l.rowid;
CREATE TABLE activations_before_25 AS
    SELECT a.*, l.rowid AS license_no
    FROM activations a CROSS JOIN licenses l ON l.id = a.license_id
    ORDER BY a.id;
DROP TABLE heartbeat_state;
DROP TRIGGER heartbeat_assessment_installation_changed;
DROP TRIGGER heartbeat_assessment_installation_removed;

CREATE INDEX step_25_directives_license ON directives(license_id);
CREATE INDEX step_25_directives_activation ON directives(activation_id);
CREATE INDEX step_25_license_bundles_activation ON license_bundles(activation_id);
DROP TABLE activations;
CREATE TABLE licenses_before_25 AS SELECT rowid AS row_id, * FROM licenses;
DROP TABLE licenses;
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
INSERT INTO licenses (no, id, name, install_id, organization, internal_users, external_users,
                      features, flags, not_before, expires_at, issued_at, signed_by, key_id,
                      state, suspend_reason, suspend_note, bound_fingerprint, activated_at,
                      subscription_status, subscription_period_end, revoked_at, revoke_reason,
                      organization_id, offline_until, bundle_seq)
    SELECT row_id, id, name, install_id, organization, internal_users, external_users,
           features, flags, not_before, expires_at, issued_at, signed_by, key_id,
           state, suspend_reason, suspend_note, bound_fingerprint, activated_at,
           subscription_status, subscription_period_end, revoked_at, revoke_reason,
           organization_id, offline_until, bundle_seq
    FROM licenses_before_25;
DROP TABLE licenses_before_25;

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
INSERT INTO activations (id, license_no, fingerprint, hostname, secret_hash, created_at,
                         superseded_at, superseded_reason, last_seq, last_lease_hash)
    SELECT id, license_no, fingerprint, hostname, secret_hash, created_at,
           superseded_at, superseded_reason, last_seq, last_lease_hash
    FROM activations_before_25;
DROP TABLE activations_before_25;
DROP INDEX step_25_directives_license;
DROP INDEX step_25_directives_activation;
DROP INDEX step_25_license_bundles_activation;

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
INSERT INTO heartbeat_state (license_no, last_seen_at, last_heartbeat_id, activation_id,
                             last_seq, last_lease_hash, active, credential_digest,
                             assessed_at, assessed_until, assessed_stage,
                             assessed_internal_users, assessed_external_users, seen_day)
    SELECT license_no,
           unixepoch(last_seen_at) * 1000000 + CAST(substr(last_seen_at, 21, 6) AS INTEGER),
           last_heartbeat_id, activation_id, last_seq, last_lease_hash, active,
           credential_digest, assessed_at, assessed_until, assessed_stage,
           assessed_internal_users, assessed_external_users, seen_day
    FROM heartbeat_state_before_25;
DROP TABLE heartbeat_state_before_25;

CREATE INDEX licenses_install ON licenses(install_id);
CREATE INDEX licenses_issued ON licenses(issued_at);
CREATE INDEX licenses_state ON licenses(state, issued_at) WHERE state <> 'active';
CREATE INDEX licenses_live_expiry ON licenses(expires_at) WHERE state NOT IN ('revoked', 'expired');
CREATE INDEX licenses_billing ON licenses(subscription_status) WHERE subscription_status IN ('past_due', 'canceled');
CREATE INDEX licenses_suspended ON licenses(suspend_reason) WHERE state = 'suspended';
CREATE INDEX licenses_expiry ON licenses(expires_at);
CREATE INDEX licenses_not_before ON licenses(not_before) WHERE not_before > issued_at;
CREATE INDEX licenses_organization ON licenses(organization_id) WHERE organization_id IS NOT NULL;
CREATE INDEX licenses_organization_live_expiry ON licenses(expires_at)
    WHERE organization_id IS NOT NULL AND state NOT IN ('revoked', 'expired');
CREATE INDEX licenses_signed_by ON licenses(signed_by);
CREATE INDEX activations_license ON activations(license_no);
CREATE INDEX heartbeat_state_active_day ON heartbeat_state(seen_day) WHERE active = 1;

CREATE TRIGGER fleet_license_added AFTER INSERT ON licenses BEGIN
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
    INSERT INTO fleet_license_days (day, issued)
        VALUES (date(NEW.issued_at / 1000000, 'unixepoch'), 1)
        ON CONFLICT (day) DO UPDATE SET issued = issued + 1;
END;
CREATE TRIGGER fleet_license_state_changed AFTER UPDATE OF state ON licenses
WHEN OLD.state IS NOT NEW.state BEGIN
    UPDATE fleet_license_states SET licenses = licenses - 1 WHERE state = OLD.state;
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
END;
CREATE TRIGGER fleet_license_removed AFTER DELETE ON licenses BEGIN
    UPDATE fleet_license_states SET licenses = licenses - 1 WHERE state = OLD.state;
END;
CREATE TRIGGER heartbeat_state_made AFTER INSERT ON licenses BEGIN
    INSERT INTO heartbeat_state (license_no, active) VALUES (NEW.no, NEW.state = 'active');
END;
CREATE TRIGGER heartbeat_state_active AFTER UPDATE OF state ON licenses
WHEN (OLD.state = 'active') IS NOT (NEW.state = 'active') BEGIN
    UPDATE heartbeat_state SET active = (NEW.state = 'active') WHERE license_no = NEW.no;
END;
CREATE TRIGGER heartbeat_assessment_license_added AFTER INSERT ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id = NEW.install_id);
END;
CREATE TRIGGER heartbeat_assessment_license_changed
AFTER UPDATE OF install_id, state, suspend_reason, internal_users, external_users, not_before,
    expires_at, bound_fingerprint, subscription_status, subscription_period_end, offline_until
ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id IN (OLD.install_id, NEW.install_id));
END;
CREATE TRIGGER heartbeat_assessment_license_removed AFTER DELETE ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id = OLD.install_id);
END;
CREATE TRIGGER heartbeat_credential_changed
AFTER UPDATE OF license_no, fingerprint, secret_hash, superseded_at, superseded_reason
ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_no IN (OLD.license_no, NEW.license_no) AND credential_digest IS NOT NULL;
END;
CREATE TRIGGER heartbeat_credential_removed AFTER DELETE ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_no = OLD.license_no AND credential_digest IS NOT NULL;
END;
CREATE TRIGGER heartbeat_assessment_installation_changed AFTER UPDATE ON installations BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id IN (OLD.install_id, NEW.install_id));
END;
CREATE TRIGGER heartbeat_assessment_installation_removed AFTER DELETE ON installations BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_no IN
        (SELECT no FROM licenses WHERE install_id = OLD.install_id);
END;
CREATE TRIGGER fleet_license_heard AFTER UPDATE OF last_seen_at ON heartbeat_state
WHEN NEW.last_seen_at / 86400000000 > coalesce(OLD.last_seen_at / 86400000000, -1) BEGIN
    INSERT INTO fleet_appliance_days (day, appliances)
        VALUES (date(NEW.last_seen_at / 1000000, 'unixepoch'), 1)
        ON CONFLICT (day) DO UPDATE SET appliances = appliances + 1;
END;
CREATE TRIGGER heartbeat_state_seen_day AFTER UPDATE OF last_seen_at ON heartbeat_state
WHEN NEW.last_seen_at / 86400000000 IS NOT OLD.last_seen_at / 86400000000 BEGIN
    UPDATE heartbeat_state SET seen_day = NEW.last_seen_at / 86400000000
        WHERE license_no = NEW.license_no;
END;
