-- Tenant schema step 24: a license's times as whole microseconds since 1970-01-01 UTC
-- (issue 17, bytes per license).
--
-- A license row held seven times as text, 27 characters each ("2026-01-01T09:00:00.000000Z");
-- at least four are set on every activated license, and three indexes hold one of
-- them in every entry (`licenses_issued`, `licenses_expiry`, `licenses_live_expiry`).
-- An integer of microseconds takes 8 bytes, orders the same, and reads back as the
-- same instant (`store::micros`, `store::from_micros`): about 130 bytes a license.
--
-- Every time licd wrote is in its one form (`store::ts`); one that is not (a row edited
-- by hand) stops the upgrade at the constraint `a_license_time_is_not_in_licds_form`,
-- with every row as it was, instead of being read wrong.
--
-- SQLite cannot change a column's type in place: the table is rebuilt with its rows,
-- their rowids (the license list orders licenses issued in the same microsecond by
-- rowid) and their values, and its indexes and triggers are made again as they were;
-- the count of licenses issued a day (`fleet_license_days`) takes the day from the
-- integer. Dropping the table checks, for each row, the rows of other tables that point
-- at it: `directives.license_id`, whose own index holds only pending directives, gets
-- one for the step.
-- Frozen: a released step never changes; a change to the schema is a new step.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE license_times_24 (
    t TEXT CONSTRAINT a_license_time_is_not_in_licds_form CHECK (t IS NULL)
);
INSERT INTO license_times_24 SELECT t FROM (
    SELECT not_before AS t FROM licenses
    UNION ALL SELECT expires_at FROM licenses
    UNION ALL SELECT issued_at FROM licenses
    UNION ALL SELECT activated_at FROM licenses
    UNION ALL SELECT subscription_period_end FROM licenses
    UNION ALL SELECT revoked_at FROM licenses
    UNION ALL SELECT offline_until FROM licenses
) WHERE t IS NOT NULL AND NOT (
    typeof(t) = 'text' AND length(t) = 27
    AND t GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'
    AND unixepoch(t) IS NOT NULL
);
DROP TABLE license_times_24;

CREATE INDEX step_24_directives_license ON directives(license_id);
CREATE TABLE licenses_before_24 AS SELECT rowid AS row_id, * FROM licenses;
DROP TABLE licenses;
CREATE TABLE licenses (
    id                      TEXT PRIMARY KEY,
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
INSERT INTO licenses (rowid, id, name, install_id, organization, internal_users, external_users,
                      features, flags, not_before, expires_at, issued_at, signed_by, key_id,
                      state, suspend_reason, suspend_note, bound_fingerprint, activated_at,
                      subscription_status, subscription_period_end, revoked_at, revoke_reason,
                      organization_id, offline_until, bundle_seq)
    SELECT row_id, id, name, install_id, organization, internal_users, external_users,
           features, flags,
           unixepoch(not_before) * 1000000 + CAST(substr(not_before, 21, 6) AS INTEGER),
           unixepoch(expires_at) * 1000000 + CAST(substr(expires_at, 21, 6) AS INTEGER),
           unixepoch(issued_at) * 1000000 + CAST(substr(issued_at, 21, 6) AS INTEGER),
           signed_by, key_id, state, suspend_reason, suspend_note, bound_fingerprint,
           unixepoch(activated_at) * 1000000 + CAST(substr(activated_at, 21, 6) AS INTEGER),
           subscription_status,
           unixepoch(subscription_period_end) * 1000000 + CAST(substr(subscription_period_end, 21, 6) AS INTEGER),
           unixepoch(revoked_at) * 1000000 + CAST(substr(revoked_at, 21, 6) AS INTEGER),
           revoke_reason, organization_id,
           unixepoch(offline_until) * 1000000 + CAST(substr(offline_until, 21, 6) AS INTEGER),
           bundle_seq
    FROM licenses_before_24;
DROP TABLE licenses_before_24;
DROP INDEX step_24_directives_license;

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
    INSERT INTO heartbeat_state (license_id, active) VALUES (NEW.id, NEW.state = 'active');
END;
CREATE TRIGGER heartbeat_state_active AFTER UPDATE OF state ON licenses
WHEN (OLD.state = 'active') IS NOT (NEW.state = 'active') BEGIN
    UPDATE heartbeat_state SET active = (NEW.state = 'active') WHERE license_id = NEW.id;
END;
CREATE TRIGGER heartbeat_assessment_license_added AFTER INSERT ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_id IN
        (SELECT id FROM licenses WHERE install_id = NEW.install_id);
END;
CREATE TRIGGER heartbeat_assessment_license_changed
AFTER UPDATE OF install_id, state, suspend_reason, internal_users, external_users, not_before,
    expires_at, bound_fingerprint, subscription_status, subscription_period_end, offline_until
ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_id IN
        (SELECT id FROM licenses WHERE install_id IN (OLD.install_id, NEW.install_id));
END;
CREATE TRIGGER heartbeat_assessment_license_removed AFTER DELETE ON licenses BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_id IN
        (SELECT id FROM licenses WHERE install_id = OLD.install_id);
END;
