-- Tenant schema step 22: three indexes a license paid for and no query needs, and the
-- times of license keys, activations and installations as whole microseconds (issue 17,
-- bytes per license). Every row keeps its id and its values.
--
-- `license_keys_license` found a license's keys by its id (36 characters in every key
-- row and again in the index, about 90 bytes a license). A license now names its
-- current key (`licenses.key_id`) and each key the one it replaced (`prev_id`): the
-- current key is one lookup by rowid, the history a walk back from it.
--
-- `activations.secret_hash` was UNIQUE, an index of 32-byte hashes (about 47 bytes an
-- activation) that only the heartbeat's lookup by secret read. That lookup knows the
-- license (it is in the heartbeat's path) and now looks among the license's activations
-- (`activations_license`). A secret is 256 random bits: two activations never share one.
--
-- `installations` kept its rows by rowid with an index of `install_id` beside them
-- (about 24 bytes an installation); it is now kept by `install_id` alone (WITHOUT
-- ROWID). Nothing refers to an installation's rowid.
--
-- The times of the three tables were text, 27 characters each ("2026-01-01T09:00:00.000000Z");
-- they are now microseconds since 1970-01-01 UTC (`store::micros`): 8 bytes, the same
-- order, the same instant. Every time licd wrote is in its one form (`store::ts`); one
-- that is not (a row edited by hand) stops the upgrade at the constraint
-- `a_time_is_not_in_licds_form`, with every row as it was, instead of being read wrong.
-- (Step 24 does the same for a license's own times.)
--
-- SQLite cannot drop a constraint or change a table's kind in place: the tables are
-- rebuilt, as step 13 rebuilt `activations`. A copy aside holds its rows in the order
-- they are read back (a table's rowid order); a refill sorts only where that is not
-- the order the new table keeps (keys, read by license for `prev_id`; installations,
-- now kept by their id), so an upgrade does not sort a million rows for nothing. Rows
-- of other tables point at activation ids; foreign keys are checked at commit, when the
-- rows are back. Dropping a table fires none of its triggers; they are made again below
-- as they were.
-- Frozen: a released step never changes; a change to the schema is a new step.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE times_22 (
    t TEXT CONSTRAINT a_time_is_not_in_licds_form CHECK (t IS NULL)
);
INSERT INTO times_22 SELECT t FROM (
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
DROP TABLE times_22;

-- License keys: the chain.
CREATE TABLE license_keys_before_22 AS
    SELECT id, license_id, license_key, reason, issued_at, issued_by, superseded_at,
           lag(id) OVER (PARTITION BY license_id ORDER BY id) AS prev_id
    FROM license_keys;
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
INSERT INTO license_keys (id, prev_id, license_key, reason, issued_at, issued_by, superseded_at)
    SELECT id, prev_id, license_key, reason, unixepoch(issued_at) * 1000000 + CAST(substr(issued_at, 21, 6) AS INTEGER), issued_by,
           unixepoch(superseded_at) * 1000000 + CAST(substr(superseded_at, 21, 6) AS INTEGER)
    FROM license_keys_before_22 ORDER BY id;
-- The license's current key: its newest, as `license_keys_license` found it.
ALTER TABLE licenses ADD COLUMN key_id INTEGER REFERENCES license_keys(id);
UPDATE licenses SET key_id = newest.id
    FROM (SELECT license_id, max(id) AS id FROM license_keys_before_22 GROUP BY license_id)
        AS newest
    WHERE newest.license_id = licenses.id;
DROP TABLE license_keys_before_22;

-- Activations: no unique index of secrets. Dropping the table checks, for each of its
-- rows, the rows of other tables that point at it (and the insert below again): the
-- columns that point at an activation and have no index of their own get one for the
-- step, or each check would read the whole table (hours for 100,000 activations).
CREATE INDEX step_22_heartbeat_state_activation ON heartbeat_state(activation_id);
CREATE INDEX step_22_directives_activation ON directives(activation_id);
CREATE INDEX step_22_license_bundles_activation ON license_bundles(activation_id);
CREATE TABLE activations_before_22 AS SELECT * FROM activations;
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
    FROM activations_before_22;
DROP TABLE activations_before_22;
DROP INDEX step_22_heartbeat_state_activation;
DROP INDEX step_22_directives_activation;
DROP INDEX step_22_license_bundles_activation;
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

-- Installations: kept by their id.
CREATE TABLE installations_before_22 AS SELECT * FROM installations;
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
    FROM installations_before_22 ORDER BY install_id;
DROP TABLE installations_before_22;
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
