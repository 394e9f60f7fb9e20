-- Tenant schema step 14: a license's heartbeat history is a chain, not an index (issue
-- 17). Each heartbeat row points at the license's heartbeat before it (`prev_id`), and
-- the activation keeps the newest one it answered (`last_heartbeat_id`); a license's
-- history is walked from the newest id of its activations. The secondary index
-- `heartbeats_license` was one random page written per heartbeat; the history table is
-- now append-only (rows are added at its end and pruned from its start).
-- Frozen: a released step never changes; a change to the schema is a new step.

ALTER TABLE heartbeats ADD COLUMN prev_id INTEGER;
ALTER TABLE activations ADD COLUMN last_heartbeat_id INTEGER;

-- The chain of the rows already kept, while the index still finds them.
UPDATE heartbeats SET prev_id = (
    SELECT max(p.id) FROM heartbeats p
    WHERE p.license_id = heartbeats.license_id AND p.id < heartbeats.id);
UPDATE activations SET last_heartbeat_id = (
    SELECT max(h.id) FROM heartbeats h WHERE h.license_id = activations.license_id);

DROP INDEX heartbeats_license;
