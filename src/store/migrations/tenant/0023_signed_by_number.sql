-- Tenant schema step 23: a license names the signing key of its current key by a small
-- number, not by its `kid` (issue 17, bytes per license).
--
-- `licenses.kid` held the key's 43-character thumbprint in every license row, and
-- `licenses_kid` again in every entry: about 100 bytes a license, to tell which of a
-- tenant's few signing keys signed it (the signing keys page, and reissuing what a key
-- signed before it retires). Each signing key now has a number (`signing_keys.no`,
-- 1 for the oldest, never reused), and a license holds that number (`signed_by`,
-- indexed by `licenses_signed_by`). The `kid` is read from `signing_keys`.
-- Frozen: a released step never changes; a change to the schema is a new step.
ALTER TABLE signing_keys ADD COLUMN no INTEGER;
UPDATE signing_keys SET no = (
    SELECT count(*) FROM signing_keys older
    WHERE older.created_at < signing_keys.created_at
       OR (older.created_at = signing_keys.created_at AND older.kid <= signing_keys.kid)
);
CREATE UNIQUE INDEX signing_keys_no ON signing_keys(no);

ALTER TABLE licenses ADD COLUMN signed_by INTEGER REFERENCES signing_keys(no);
UPDATE licenses SET signed_by = (SELECT no FROM signing_keys WHERE kid = licenses.kid);
-- A license whose `kid` names no signing key (foreign keys were off when it was
-- written) stops the upgrade here, with its `kid` still in place, instead of losing it.
CREATE TEMP TABLE unknown_signers (kid TEXT CONSTRAINT a_license_names_an_unknown_signing_key CHECK (kid IS NULL));
INSERT INTO unknown_signers SELECT kid FROM licenses WHERE signed_by IS NULL;
DROP TABLE unknown_signers;
DROP INDEX licenses_kid;
ALTER TABLE licenses DROP COLUMN kid;
CREATE INDEX licenses_signed_by ON licenses(signed_by);
