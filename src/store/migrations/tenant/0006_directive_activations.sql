-- Tenant schema step 6: directives belong to an activation (issue 10, item A).
-- Frozen: a released step never changes; a change to the schema is a new step.

ALTER TABLE directives ADD COLUMN activation_id INTEGER REFERENCES activations(id);

-- Older rows cannot tell which activation a carried directive went to (seq counts per
-- activation). Those not yet acknowledged start over with the license's current
-- activation (or wait for the next one): delivered once more rather than lost.
UPDATE directives
SET first_seq = NULL,
    activation_id = (SELECT max(a.id) FROM activations a
                     WHERE a.license_id = directives.license_id AND a.superseded_at IS NULL)
WHERE acked_at IS NULL;

CREATE INDEX directives_activation ON directives(activation_id) WHERE acked_at IS NULL;
