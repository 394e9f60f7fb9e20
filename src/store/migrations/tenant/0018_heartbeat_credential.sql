-- Tenant schema step 18: a heartbeat finds its activation in the license's state row
-- (issue 17). It used to look its secret up in `activations`' unique index, read the
-- activation row, then the license through its key's index: four B-trees before the
-- state row, each at a random page. The state row now also keeps a digest of the
-- credential that last heartbeated for the activation whose lease chain it holds (the
-- secret's hash and the box's fingerprint, `service::secrets::credential_digest`), so a
-- heartbeat that presents the same credential and fingerprint again reads the state row
-- by its license id (from the URL) and the license, and nothing else.
--
-- The digest is a shortcut, never the record: NULL until a heartbeat has gone the long
-- way, and cleared whenever an activation of the license changes, or the state row
-- takes another activation's chain (`leases::record`). A heartbeat whose digest does not
-- match goes the long way, which gives every refusal.
-- Frozen: a released step never changes; a change to the schema is a new step.

ALTER TABLE heartbeat_state ADD COLUMN credential_digest BLOB;

CREATE TRIGGER heartbeat_credential_changed
AFTER UPDATE OF license_id, fingerprint, secret_hash, superseded_at, superseded_reason
ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_id IN (OLD.license_id, NEW.license_id) AND credential_digest IS NOT NULL;
END;

CREATE TRIGGER heartbeat_credential_removed AFTER DELETE ON activations BEGIN
    UPDATE heartbeat_state SET credential_digest = NULL
    WHERE license_id = OLD.license_id AND credential_digest IS NOT NULL;
END;
