-- Tenant schema step 8: small aggregate tables for the dashboard (issue 12, item 2), so
-- it never counts over every license or heartbeat. Triggers keep them in the same
-- transaction as the write that changes them, whichever code path writes; this step
-- also fills them from the rows that exist.
-- Frozen: a released step never changes; a change to the schema is a new step.

-- Heartbeats answered per UTC hour ('2026-06-01T09'). Pruning heartbeats leaves these
-- alone; the retention job prunes them itself (store::fleet::prune).
CREATE TABLE fleet_heartbeat_hours (
    hour       TEXT PRIMARY KEY,
    heartbeats INTEGER NOT NULL
) WITHOUT ROWID;

-- Appliances heard from per UTC day ('2026-06-01'): a license counts once a day, when
-- its last_seen_at (set by activation and heartbeat) moves to a later day.
CREATE TABLE fleet_appliance_days (
    day        TEXT PRIMARY KEY,
    appliances INTEGER NOT NULL
) WITHOUT ROWID;

-- Licenses issued per UTC day (the dashboard sums weeks).
CREATE TABLE fleet_license_days (
    day    TEXT PRIMARY KEY,
    issued INTEGER NOT NULL
) WITHOUT ROWID;

-- Licenses per stored state.
CREATE TABLE fleet_license_states (
    state    TEXT PRIMARY KEY,
    licenses INTEGER NOT NULL
) WITHOUT ROWID;

-- Installations per violation stage.
CREATE TABLE fleet_installation_stages (
    stage         TEXT PRIMARY KEY,
    installations INTEGER NOT NULL
) WITHOUT ROWID;

-- The rows that exist. Appliances per day: a license heard from that day by a heartbeat
-- or an activation.
INSERT INTO fleet_heartbeat_hours (hour, heartbeats)
    SELECT substr(at, 1, 13), count(*) FROM heartbeats GROUP BY substr(at, 1, 13);
INSERT INTO fleet_appliance_days (day, appliances)
    SELECT day, count(*) FROM (
        SELECT substr(at, 1, 10) AS day, license_id FROM heartbeats
        UNION SELECT substr(created_at, 1, 10), license_id FROM activations
        UNION SELECT substr(last_seen_at, 1, 10), id FROM licenses WHERE last_seen_at IS NOT NULL)
    GROUP BY day;
INSERT INTO fleet_license_days (day, issued)
    SELECT substr(issued_at, 1, 10), count(*) FROM licenses GROUP BY substr(issued_at, 1, 10);
INSERT INTO fleet_license_states (state, licenses)
    SELECT state, count(*) FROM licenses GROUP BY state;
INSERT INTO fleet_installation_stages (stage, installations)
    SELECT stage, count(*) FROM installations GROUP BY stage;

-- One small upsert per heartbeat: the heartbeat path's only extra write.
CREATE TRIGGER fleet_heartbeat_counted AFTER INSERT ON heartbeats BEGIN
    INSERT INTO fleet_heartbeat_hours (hour, heartbeats) VALUES (substr(NEW.at, 1, 13), 1)
        ON CONFLICT (hour) DO UPDATE SET heartbeats = heartbeats + 1;
END;

CREATE TRIGGER fleet_license_added AFTER INSERT ON licenses BEGIN
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
    INSERT INTO fleet_license_days (day, issued) VALUES (substr(NEW.issued_at, 1, 10), 1)
        ON CONFLICT (day) DO UPDATE SET issued = issued + 1;
    INSERT INTO fleet_appliance_days (day, appliances)
        SELECT substr(NEW.last_seen_at, 1, 10), 1 WHERE NEW.last_seen_at IS NOT NULL
        ON CONFLICT (day) DO UPDATE SET appliances = appliances + 1;
END;

CREATE TRIGGER fleet_license_state_changed AFTER UPDATE OF state ON licenses
WHEN OLD.state IS NOT NEW.state BEGIN
    UPDATE fleet_license_states SET licenses = licenses - 1 WHERE state = OLD.state;
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
END;

-- Once per license and day: only when last_seen_at moves to a later day.
CREATE TRIGGER fleet_license_heard AFTER UPDATE OF last_seen_at ON licenses
WHEN NEW.last_seen_at IS NOT NULL
    AND substr(NEW.last_seen_at, 1, 10) > coalesce(substr(OLD.last_seen_at, 1, 10), '') BEGIN
    INSERT INTO fleet_appliance_days (day, appliances) VALUES (substr(NEW.last_seen_at, 1, 10), 1)
        ON CONFLICT (day) DO UPDATE SET appliances = appliances + 1;
END;

CREATE TRIGGER fleet_license_removed AFTER DELETE ON licenses BEGIN
    UPDATE fleet_license_states SET licenses = licenses - 1 WHERE state = OLD.state;
END;

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
