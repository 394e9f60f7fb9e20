-- Tenant schema step 21: active licenses indexed by the day their appliance was last
-- heard from, not the instant (issue 17).
--
-- `heartbeat_state_active_seen` held `last_seen_at`, which every heartbeat changes: each
-- heartbeat moved its license's entry, a write to a random page of the index besides the
-- state row's own. What the index is for is the sweep: the offline grace (days), and
-- when the sweep next has work in a closed tenant. Both look for licenses not heard from
-- since an instant about a grace ago, and read the exact `last_seen_at` of the few they
-- find. (The dashboard's appliances silent for longer than the heartbeat interval are
-- counted in memory: `store::heard`.)
--
-- `seen_day` is the day of `last_seen_at`, in days since the Unix epoch (UTC), kept by
-- the trigger below: an appliance's entry in the index moves at its first heartbeat of a
-- day, not at every one. The queries ask for `seen_day <=` the day of their instant,
-- then for the exact `last_seen_at`.
-- Frozen: a released step never changes; a change to the schema is a new step.
ALTER TABLE heartbeat_state ADD COLUMN seen_day INTEGER;
UPDATE heartbeat_state SET seen_day = unixepoch(last_seen_at) / 86400
    WHERE last_seen_at IS NOT NULL;

DROP INDEX heartbeat_state_active_seen;
CREATE INDEX heartbeat_state_active_day ON heartbeat_state(seen_day) WHERE active = 1;

-- Compares the days as text (the first 10 characters of a time licd writes), so a
-- heartbeat on the same day as the last one costs no date parsing.
CREATE TRIGGER heartbeat_state_seen_day AFTER UPDATE OF last_seen_at ON heartbeat_state
WHEN substr(NEW.last_seen_at, 1, 10) IS NOT substr(OLD.last_seen_at, 1, 10) BEGIN
    UPDATE heartbeat_state SET seen_day = unixepoch(NEW.last_seen_at) / 86400
        WHERE license_id = NEW.license_id;
END;
