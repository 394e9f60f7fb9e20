-- Registry schema step 5: when each closed tenant next needs its scheduled work (health
-- sweep, heartbeat retention, session cleanup), so that the scheduler can tell "nothing
-- due" for every tenant without opening any tenant database. licd writes `due_at` when
-- it closes a tenant (from what the tenant holds) and removes the row when it opens one;
-- a tenant without a row is due at once (never closed cleanly, or older than this step).
-- No foreign key: a row of a tenant that no longer exists is ignored.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE tenant_schedule (
    schema_name TEXT PRIMARY KEY,
    due_at      TEXT NOT NULL
);
CREATE INDEX tenant_schedule_due ON tenant_schedule(due_at);
