-- Tenant schema step 19: a heartbeat reuses its installation's assessment (issue 17).
-- Every heartbeat re-assessed its installation: it read the installation row and the
-- licenses of its Install ID (two more B-trees, each at a random page) and assessed
-- them, to find, nearly always, the stage the last heartbeat found. The license's state
-- row now also keeps the stage its last heartbeat's assessment gave, with when it was
-- made, until when time alone cannot change it (the next moment a license becomes
-- valid, expires, or lapses, capacity comes within the expiry warning, or a violation
-- reaches its next stage: `violation::steady_until`), and the usage it was made with.
-- Times are whole seconds since 1970: `assessed_at` rounded up, `assessed_until` down.
-- The stage is its place in the order none, expiry_soon, admin_warning, users_warning,
-- read_only (0 to 4): a CHECK of a text column against a list of names would build a
-- table of the names on every heartbeat's write of the row (an `IN` list of more than
-- two values), a third of that write's cost.
--
-- Like the credential's digest (step 18), it is a shortcut, never the record: a
-- heartbeat reuses it only inside that window and with the same usage, and the
-- triggers below forget it (`assessed_at` NULL) whenever anything it was made from
-- changes: the installation row (usage, condition, stage, violation), a license of that
-- Install ID (added, removed, or changed in any column its capacity reads), or the
-- licensing settings (stage durations, grace). Anything else assesses afresh.
-- Frozen: a released step never changes; a change to the schema is a new step.

ALTER TABLE heartbeat_state ADD COLUMN assessed_at INTEGER;
ALTER TABLE heartbeat_state ADD COLUMN assessed_until INTEGER;
ALTER TABLE heartbeat_state ADD COLUMN assessed_stage INTEGER
    CHECK (assessed_stage BETWEEN 0 AND 4);
ALTER TABLE heartbeat_state ADD COLUMN assessed_internal_users INTEGER;
ALTER TABLE heartbeat_state ADD COLUMN assessed_external_users INTEGER;

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

CREATE TRIGGER heartbeat_assessment_settings_added AFTER INSERT ON settings
WHEN NEW.key = 'licensing' BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL WHERE assessed_at IS NOT NULL;
END;

CREATE TRIGGER heartbeat_assessment_settings_changed AFTER UPDATE ON settings
WHEN NEW.key = 'licensing' BEGIN
    UPDATE heartbeat_state SET assessed_at = NULL WHERE assessed_at IS NOT NULL;
END;
