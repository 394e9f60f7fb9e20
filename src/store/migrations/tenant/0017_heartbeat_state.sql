-- Tenant schema step 17: what every heartbeat changes is kept in a narrow row of its
-- own, one per license (issue 17). A heartbeat used to rewrite three wide pages at
-- random: its license's row (`last_seen_at`, `last_heartbeat_id`), that row's entry in
-- `licenses_active_seen`, and its activation's row (`last_seq`, `last_lease_hash`). It
-- now rewrites one `heartbeat_state` row (about 140 bytes) and its entry in that row's
-- index of when active appliances were heard from; the activation's row is written
-- when another activation of the license takes over the state row.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE heartbeat_state (
    license_id        TEXT PRIMARY KEY REFERENCES licenses(id),
    last_seen_at      TEXT,
    last_heartbeat_id INTEGER,
    -- The activation whose lease chain the next two hold; any other activation's chain
    -- is in its own row (`activations.last_seq`, `activations.last_lease_hash`).
    activation_id     INTEGER REFERENCES activations(id),
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_lease_hash   TEXT NOT NULL DEFAULT '',
    -- 1 while the license's state is `active` (kept by the triggers below), for the
    -- partial index.
    active            INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
) WITHOUT ROWID;

INSERT INTO heartbeat_state (license_id, last_seen_at, last_heartbeat_id, active)
    SELECT id, last_seen_at, last_heartbeat_id, state = 'active' FROM licenses;

DROP TRIGGER fleet_license_added;
DROP TRIGGER fleet_license_heard;
DROP INDEX licenses_active_seen;
ALTER TABLE licenses DROP COLUMN last_heartbeat_id;
ALTER TABLE licenses DROP COLUMN last_seen_at;

-- Active licenses by when their appliance was last heard from (never: first): the
-- sweep's offline grace and the dashboard's silent appliances.
CREATE INDEX heartbeat_state_active_seen ON heartbeat_state(last_seen_at) WHERE active = 1;

-- Every license has its state row, made with it.
CREATE TRIGGER heartbeat_state_made AFTER INSERT ON licenses BEGIN
    INSERT INTO heartbeat_state (license_id, active) VALUES (NEW.id, NEW.state = 'active');
END;

CREATE TRIGGER heartbeat_state_active AFTER UPDATE OF state ON licenses
WHEN (OLD.state = 'active') IS NOT (NEW.state = 'active') BEGIN
    UPDATE heartbeat_state SET active = (NEW.state = 'active') WHERE license_id = NEW.id;
END;

CREATE TRIGGER fleet_license_added AFTER INSERT ON licenses BEGIN
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
    INSERT INTO fleet_license_days (day, issued) VALUES (substr(NEW.issued_at, 1, 10), 1)
        ON CONFLICT (day) DO UPDATE SET issued = issued + 1;
END;

CREATE TRIGGER fleet_license_heard AFTER UPDATE OF last_seen_at ON heartbeat_state
WHEN NEW.last_seen_at IS NOT NULL
    AND substr(NEW.last_seen_at, 1, 10) > coalesce(substr(OLD.last_seen_at, 1, 10), '') BEGIN
    INSERT INTO fleet_appliance_days (day, appliances) VALUES (substr(NEW.last_seen_at, 1, 10), 1)
        ON CONFLICT (day) DO UPDATE SET appliances = appliances + 1;
END;
