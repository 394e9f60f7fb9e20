-- Tenant schema step 15: a license's current key is stored once (issue 17). It was in
-- both `licenses.license_key` and the newest row of `license_keys`, about 700 bytes
-- each; it is now only in `license_keys`, and the license row, which every heartbeat
-- reads and rewrites, is half as large.
-- Frozen: a released step never changes; a change to the schema is a new step.

-- licd records every key it signs in `license_keys`, so a license's newest key row is
-- its current key. A license whose row says otherwise (edited by hand, say) keeps the
-- key it holds: it is recorded as its newest key, and the older ones are superseded.
INSERT INTO license_keys (license_id, kid, license_key, reason, issued_at, issued_by)
SELECT l.id, l.kid, l.license_key, 'reissue', l.updated_at, 'system'
FROM licenses l
WHERE l.license_key IS NOT (SELECT k.license_key FROM license_keys k
                            WHERE k.license_id = l.id ORDER BY k.id DESC LIMIT 1)
ORDER BY l.issued_at, l.id;
UPDATE license_keys SET superseded_at = (SELECT n.issued_at FROM license_keys n
                                         WHERE n.license_id = license_keys.license_id
                                         ORDER BY n.id DESC LIMIT 1)
WHERE superseded_at IS NULL
  AND id < (SELECT max(n.id) FROM license_keys n WHERE n.license_id = license_keys.license_id);

ALTER TABLE licenses DROP COLUMN license_key;
