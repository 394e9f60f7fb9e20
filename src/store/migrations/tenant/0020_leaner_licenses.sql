-- Tenant schema step 20: a license's rows and indexes made smaller (issue 17, bytes per
-- license).
--
-- `license_keys.kid` repeated the header of the key beside it, which names the signing
-- key that signed it (43 characters a key): the key's header is now where it is read
-- from. `licenses.kid`, the signing key of the current key, stays: it is what finds the
-- licenses a signing key signed.
--
-- `licenses.updated_at` was written by every change of a license and read by nothing:
-- each change is in `license_events` (state changes), `license_keys` (new keys) or the
-- audit log, with its time.
--
-- `licenses_issued` ordered the license list by (issued_at, id): the id's 36 characters
-- in every entry, only to order licenses issued in the same microsecond. The list now
-- orders those by rowid, the order they were written in, which every entry of an index
-- carries anyway.
--
-- `licenses_state` found the licenses in a state, newest first, for the list. Most
-- licenses are active, and the list finds those as well by walking `licenses_issued`;
-- the index now holds the others alone, and the list names its condition when it asks
-- for one of them.
--
-- `licenses_not_before` told the sweep when a license starts (`sweep_due`,
-- `sweep_candidates`). Only a license issued to start after its issue needs that: one
-- whose start is at or before its issue was assessed as started when it was issued. The
-- index now holds those alone, and the sweep's queries ask for those alone.
DROP INDEX licenses_state;
CREATE INDEX licenses_state ON licenses(state, issued_at) WHERE state <> 'active';
DROP INDEX licenses_issued;
CREATE INDEX licenses_issued ON licenses(issued_at);
DROP INDEX licenses_not_before;
CREATE INDEX licenses_not_before ON licenses(not_before) WHERE not_before > issued_at;
ALTER TABLE license_keys DROP COLUMN kid;
ALTER TABLE licenses DROP COLUMN updated_at;
