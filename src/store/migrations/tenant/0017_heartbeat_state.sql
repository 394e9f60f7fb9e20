-- Tenant schema step 17: what every heartbeat changes is kept in a narrow row of its
-- own, one per license heard from (issue 17). A heartbeat used to rewrite three wide
-- pages at random: its license's row (`last_seen_at`, `last_heartbeat_id`), that row's
-- entry in `licenses_active_seen`, and its activation's row (`last_seq`,
-- `last_lease_hash`). It now rewrites one `heartbeat_state` row (about 100 bytes, some
-- 20 to a page). The license row keeps a mark (`last_seen_mark`, which the sweep's and
-- the dashboard's index orders) that a heartbeat moves only once it is a minute old or
-- of another day; the activation's row is written when another activation of the
-- license takes over the state row.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE heartbeat_state (
    license_id        TEXT PRIMARY KEY REFERENCES licenses(id),
    last_seen_at      TEXT,
    last_heartbeat_id INTEGER,
    -- The activation whose lease chain the next two hold; any other activation's chain
    -- is in its own row (`activations.last_seq`, `activations.last_lease_hash`).
    activation_id     INTEGER REFERENCES activations(id),
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_lease_hash   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

INSERT INTO heartbeat_state (license_id, last_seen_at, last_heartbeat_id)
    SELECT id, last_seen_at, last_heartbeat_id FROM licenses
    WHERE last_seen_at IS NOT NULL OR last_heartbeat_id IS NOT NULL;

DROP TRIGGER fleet_license_added;
DROP TRIGGER fleet_license_heard;
DROP INDEX licenses_active_seen;
ALTER TABLE licenses DROP COLUMN last_heartbeat_id;
ALTER TABLE licenses RENAME COLUMN last_seen_at TO last_seen_mark;

-- When the license's appliance was heard from, to within a minute: its last heartbeat
-- (`heartbeat_state.last_seen_at`) was at this instant or less than a minute after it,
-- on the same day. The sweep and the dashboard find the appliances heard from too long
-- ago through it, and read the exact instant for those within a minute of the limit.
CREATE INDEX licenses_active_seen ON licenses(last_seen_mark) WHERE state = 'active';

CREATE TRIGGER fleet_license_added AFTER INSERT ON licenses BEGIN
    INSERT INTO fleet_license_states (state, licenses) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET licenses = licenses + 1;
    INSERT INTO fleet_license_days (day, issued) VALUES (substr(NEW.issued_at, 1, 10), 1)
        ON CONFLICT (day) DO UPDATE SET issued = issued + 1;
    INSERT INTO fleet_appliance_days (day, appliances)
        SELECT substr(NEW.last_seen_mark, 1, 10), 1 WHERE NEW.last_seen_mark IS NOT NULL
        ON CONFLICT (day) DO UPDATE SET appliances = appliances + 1;
END;

CREATE TRIGGER fleet_license_heard AFTER UPDATE OF last_seen_mark ON licenses
WHEN NEW.last_seen_mark IS NOT NULL
    AND substr(NEW.last_seen_mark, 1, 10) > coalesce(substr(OLD.last_seen_mark, 1, 10), '') BEGIN
    INSERT INTO fleet_appliance_days (day, appliances) VALUES (substr(NEW.last_seen_mark, 1, 10), 1)
        ON CONFLICT (day) DO UPDATE SET appliances = appliances + 1;
END;
