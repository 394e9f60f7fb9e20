-- Tenant schema step 7: license renewal, change and reissue (issue 12, item 5).
-- Frozen: a released step never changes; a change to the schema is a new step.

-- Every signed key a license has had. The license row keeps the current one; here the
-- earlier ones stay, with the signing key, the time and who made each, and when a
-- newer one superseded it.
CREATE TABLE license_keys (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL REFERENCES licenses(id),
    kid           TEXT NOT NULL,
    license_key   TEXT NOT NULL,
    reason        TEXT NOT NULL CHECK (reason IN ('issue', 'renew', 'change', 'reissue')),
    issued_at     TEXT NOT NULL,
    issued_by     TEXT NOT NULL,
    superseded_at TEXT
);
CREATE INDEX license_keys_license ON license_keys(license_id, id);

-- The keys licenses hold today are their first.
INSERT INTO license_keys (license_id, kid, license_key, reason, issued_at, issued_by)
SELECT l.id, l.kid, l.license_key, 'issue', l.issued_at,
       coalesce((SELECT e.actor FROM license_events e
                 WHERE e.license_id = l.id AND e.event = 'issue' ORDER BY e.id LIMIT 1), '')
FROM licenses l ORDER BY l.issued_at, l.id;

-- An `install_key` directive carries the new key; a later one replaces one not yet
-- acknowledged (the appliance only needs the newest).
ALTER TABLE directives ADD COLUMN license_key TEXT;
ALTER TABLE directives ADD COLUMN replaced_at TEXT;

-- What staff wrote when suspending (shown on the license page).
ALTER TABLE licenses ADD COLUMN suspend_note TEXT;

-- The licenses a signing key signed (the retire page lists them).
CREATE INDEX licenses_kid ON licenses(kid);
