-- Tenant schema step 21: active licenses indexed by the hour their appliance was last
-- heard from, not the instant (issue 17).
--
-- `heartbeat_state_active_seen` held `last_seen_at`, which every heartbeat changes: each
-- heartbeat moved its license's entry, a write to a random page of the index besides the
-- state row's own. The sweep (the offline grace), the sweep's next due time and the
-- dashboard's silent appliances only need the index to find licenses not heard from
-- since some instant; they read the exact `last_seen_at` of the few it finds.
--
-- `seen_hour` is the hour of `last_seen_at`, in hours since the Unix epoch (UTC), kept
-- by the trigger below; an appliance's entry in the index now moves once an hour at
-- most. The queries ask for `seen_hour <= ` the hour of their instant and then for the
-- exact `last_seen_at`.
-- Frozen: a released step never changes; a change to the schema is a new step.
ALTER TABLE heartbeat_state ADD COLUMN seen_hour INTEGER;
UPDATE heartbeat_state SET seen_hour = unixepoch(last_seen_at) / 3600
    WHERE last_seen_at IS NOT NULL;

DROP INDEX heartbeat_state_active_seen;
CREATE INDEX heartbeat_state_active_seen_hour ON heartbeat_state(seen_hour) WHERE active = 1;

-- Compares the hours as text (the first 13 characters of a time licd writes), so a
-- heartbeat in the same hour as the last one costs no date parsing.
CREATE TRIGGER heartbeat_state_seen_hour AFTER UPDATE OF last_seen_at ON heartbeat_state
WHEN substr(NEW.last_seen_at, 1, 13) IS NOT substr(OLD.last_seen_at, 1, 13) BEGIN
    UPDATE heartbeat_state SET seen_hour = unixepoch(NEW.last_seen_at) / 3600
        WHERE license_id = NEW.license_id;
END;
