-- Tenant schema step 25: the times of license keys, activations and installations as
-- whole microseconds since 1970-01-01 UTC, as a license's own since step 24 (issue 17,
-- bytes per license): 8 bytes where the text took 27, about 80 bytes a license with its
-- key, its activation and its installation.
--
-- As in step 24, a time not in licd's one form (`store::ts`) stops the upgrade at the
-- constraint `a_time_is_not_in_licds_form`, with every row as it was; the tables are
-- rebuilt with their rows, ids and values, their indexes and triggers made again as they
-- were. Dropping a table checks, for each of its rows, the rows that point at it: the
-- columns that do and have no index of their own get one for the step (a license's
-- current key, a key's predecessor; what points at an activation, as in step 22).
-- Frozen: a released step never changes; a change to the schema is a new step.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE times_25 (
    t TEXT CONSTRAINT a_time_is_not_in_licds_form CHECK (t IS NULL)
);
INSERT INTO times_25 SELECT t FROM (
    SELECT issued_at AS t FROM license_keys
    UNION ALL SELECT superseded_at FROM license_keys
    UNION ALL SELECT created_at FROM activations
    UNION ALL SELECT superseded_at FROM activations
    UNION ALL SELECT usage_at FROM installations
    UNION ALL SELECT violation_since FROM installations
    UNION ALL SELECT updated_at FROM installations
) WHERE t IS NOT NULL AND NOT (
    typeof(t) = 'text' AND length(t) = 27
    AND t GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'
    AND unixepoch(t) IS NOT NULL
);
DROP TABLE times_25;

-- License keys.
CREATE INDEX step_25_licenses_key ON licenses(key_id);
CREATE INDEX step_25_license_keys_prev ON license_keys(prev_id);
CREATE TABLE license_keys_before_25 AS SELECT * FROM license_keys;
DROP TABLE license_keys;
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
-- Refilling a table checks, for each row, the rows pointing at it (while any of the
-- dropped rows' are unmatched): the keys that name it as their predecessor too.
CREATE INDEX step_25_license_keys_prev_again ON license_keys(prev_id);
INSERT INTO license_keys (id, prev_id, license_key, reason, issued_at, issued_by, superseded_at)
    SELECT id, prev_id, license_key, reason, unixepoch(issued_at) * 1000000 + CAST(substr(issued_at, 21, 6) AS INTEGER), issued_by,
           unixepoch(superseded_at) * 1000000 + CAST(substr(superseded_at, 21, 6) AS INTEGER)
    FROM license_keys_before_25;
DROP TABLE license_keys_before_25;
DROP INDEX step_25_license_keys_prev_again;
DROP INDEX step_25_licenses_key;

-- Activations.
CREATE INDEX step_25_heartbeat_state_activation ON heartbeat_state(activation_id);
CREATE INDEX step_25_directives_activation ON directives(activation_id);
CREATE INDEX step_25_license_bundles_activation ON license_bundles(activation_id);
CREATE TABLE activations_before_25 AS SELECT * FROM activations;
DROP TABLE activations;
CREATE TABLE activations (
    id                INTEGER PRIMARY KEY,
    license_id        TEXT NOT NULL REFERENCES licenses(id),
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
INSERT INTO activations (id, license_id, fingerprint, hostname, secret_hash, created_at,
                         superseded_at, superseded_reason, last_seq, last_lease_hash)
    SELECT id, license_id, fingerprint, hostname, secret_hash, unixepoch(created_at) * 1000000 + CAST(substr(created_at, 21, 6) AS INTEGER),
           unixepoch(superseded_at) * 1000000 + CAST(substr(superseded_at, 21, 6) AS INTEGER), superseded_reason, last_seq, last_lease_hash
    FROM activations_before_25;
DROP TABLE activations_before_25;
DROP INDEX step_25_heartbeat_state_activation;
DROP INDEX step_25_directives_activation;
DROP INDEX step_25_license_bundles_activation;
CREATE INDEX activations_license ON activations(license_id);
CREATE TRIGGER heartbeat_credential_changed
AFTER UPDATE OF license_id, fingerprint, secret_hash, superseded_at, superseded_reason
ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_id IN (OLD.license_id, NEW.license_id) AND credential_digest IS NOT NULL;
END;
CREATE TRIGGER heartbeat_credential_removed AFTER DELETE ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_id = OLD.license_id AND credential_digest IS NOT NULL;
END;

-- Installations.
CREATE TABLE installations_before_25 AS SELECT * FROM installations;
DROP TABLE installations;
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
INSERT INTO installations (install_id, internal_users, external_users, usage_at, condition,
                           violation_since, stage, updated_at)
    SELECT install_id, internal_users, external_users, unixepoch(usage_at) * 1000000 + CAST(substr(usage_at, 21, 6) AS INTEGER), condition,
           unixepoch(violation_since) * 1000000 + CAST(substr(violation_since, 21, 6) AS INTEGER), stage, unixepoch(updated_at) * 1000000 + CAST(substr(updated_at, 21, 6) AS INTEGER)
    FROM installations_before_25;
DROP TABLE installations_before_25;
CREATE INDEX installations_violation ON installations(violation_since) WHERE violation_since IS NOT NULL;
CREATE TRIGGER fleet_installation_added AFTER INSERT ON installations BEGIN
    INSERT INTO fleet_installation_stages (stage, installations) VALUES (NEW.stage, 1)
        ON CONFLICT (stage) DO UPDATE SET installations = installations + 1;
END;
CREATE TRIGGER fleet_installation_stage_changed AFTER UPDATE OF stage ON installations
WHEN OLD.stage IS NOT NEW.stage BEGIN
    UPDATE fleet_installation_stages SET installations = installations - 1 WHERE stage = OLD.stage;
    INSERT INTO fleet_installation_stages (stage, installations) VALUES (NEW.stage, 1)
        ON CONFLICT (stage) DO UPDATE SET installations = installations + 1;
END;
CREATE TRIGGER fleet_installation_removed AFTER DELETE ON installations BEGIN
    UPDATE fleet_installation_stages SET installations = installations - 1 WHERE stage = OLD.stage;
END;
CREATE TRIGGER heartbeat_assessment_installation_changed AFTER UPDATE ON installations BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_id IN
        (SELECT id FROM licenses WHERE install_id IN (OLD.install_id, NEW.install_id));
END;
CREATE TRIGGER heartbeat_assessment_installation_removed AFTER DELETE ON installations BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL
    WHERE assessed_at IS NOT NULL AND license_id IN
        (SELECT id FROM licenses WHERE install_id = OLD.install_id);
END;
