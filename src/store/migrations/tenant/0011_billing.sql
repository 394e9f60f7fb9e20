-- Tenant schema step 11: the billing ledger (issue 15). One price list per tenant;
-- billing details per organization (the billing customer); subscriptions; invoices
-- with their lines, gapless numbers per year, payments and credit notes. Amounts are
-- integers in the currency's minor units (domain::money). A finalised invoice (any
-- state but draft) never changes its lines or totals: the service refuses first, the
-- triggers below are defence in depth.
-- Frozen: a released step never changes; a change to the schema is a new step.

-- At most one row (id = 1): the tenant's price list.
CREATE TABLE price_list (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    currency               TEXT NOT NULL CHECK (length(currency) = 3),
    -- Per user and period, in minor units.
    internal_monthly_minor INTEGER NOT NULL CHECK (internal_monthly_minor >= 0),
    internal_yearly_minor  INTEGER NOT NULL CHECK (internal_yearly_minor >= 0),
    external_monthly_minor INTEGER NOT NULL CHECK (external_monthly_minor >= 0),
    external_yearly_minor  INTEGER NOT NULL CHECK (external_yearly_minor >= 0),
    min_internal_users     INTEGER NOT NULL DEFAULT 0 CHECK (min_internal_users >= 0),
    min_external_users     INTEGER NOT NULL DEFAULT 0 CHECK (min_external_users >= 0),
    -- The tax rule as JSON (rates in basis points by country, reverse charge ...).
    tax_rule               TEXT NOT NULL DEFAULT '{}',
    payment_terms_days     INTEGER NOT NULL CHECK (payment_terms_days >= 0),
    allow_purchase_order   INTEGER NOT NULL DEFAULT 0 CHECK (allow_purchase_order IN (0, 1)),
    bank_details           TEXT NOT NULL DEFAULT '',
    renewal_days_before    INTEGER NOT NULL CHECK (renewal_days_before >= 0),
    dunning_grace_days     INTEGER NOT NULL CHECK (dunning_grace_days >= 0),
    updated_at             TEXT NOT NULL,
    updated_by             TEXT NOT NULL
);

CREATE TABLE billing_accounts (
    organization_id  INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    legal_name       TEXT NOT NULL,
    address          TEXT NOT NULL DEFAULT '',
    phone            TEXT NOT NULL DEFAULT '',
    tax_id           TEXT NOT NULL DEFAULT '',
    tax_id_type      TEXT NOT NULL DEFAULT '',
    country          TEXT NOT NULL DEFAULT '',
    payment_method   TEXT NOT NULL DEFAULT 'bank_transfer'
                     CHECK (payment_method IN ('bank_transfer', 'purchase_order')),
    po_reference     TEXT NOT NULL DEFAULT '',
    billing_contact  TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE subscriptions (
    id                       INTEGER PRIMARY KEY,
    organization_id          INTEGER NOT NULL REFERENCES organizations(id),
    -- NULL until the license is issued (on the first payment).
    license_id               TEXT REFERENCES licenses(id),
    install_id               TEXT NOT NULL,
    license_name             TEXT NOT NULL,
    internal_users           INTEGER NOT NULL CHECK (internal_users >= 0),
    external_users           INTEGER NOT NULL CHECK (external_users >= 0),
    period                   TEXT NOT NULL CHECK (period IN ('monthly', 'yearly')),
    current_period_start     TEXT,
    current_period_end       TEXT,
    status                   TEXT NOT NULL
                             CHECK (status IN ('pending', 'active', 'past_due', 'canceled', 'ended')),
    cancel_at_period_end     INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    -- Quantities that take effect at the next renewal (a decrease waits for it).
    pending_internal_users   INTEGER CHECK (pending_internal_users >= 0),
    pending_external_users   INTEGER CHECK (pending_external_users >= 0),
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL
);
CREATE INDEX subscriptions_organization ON subscriptions(organization_id);
CREATE INDEX subscriptions_license ON subscriptions(license_id);

CREATE TABLE invoices (
    id               INTEGER PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organizations(id),
    subscription_id  INTEGER REFERENCES subscriptions(id),
    state            TEXT NOT NULL CHECK (state IN ('draft', 'open', 'paid', 'void')),
    -- INV-YYYY-NNNNNN, given when the invoice is finalised (gapless per year).
    number           TEXT UNIQUE,
    currency         TEXT NOT NULL CHECK (length(currency) = 3),
    subtotal_minor   INTEGER NOT NULL,
    tax_minor        INTEGER NOT NULL,
    total_minor      INTEGER NOT NULL,
    amount_paid      INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    amount_credited  INTEGER NOT NULL DEFAULT 0 CHECK (amount_credited >= 0),
    issued_at        TEXT,
    due_at           TEXT,
    payment_method   TEXT NOT NULL DEFAULT 'bank_transfer'
                     CHECK (payment_method IN ('bank_transfer', 'purchase_order')),
    po_number        TEXT NOT NULL DEFAULT '',
    -- The billing account and vendor details as they were when it was finalised.
    billing_snapshot TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    voided_at        TEXT,
    CHECK ((state = 'draft') = (number IS NULL))
);
CREATE INDEX invoices_organization ON invoices(organization_id);
CREATE INDEX invoices_state ON invoices(state, due_at);

CREATE TABLE invoice_lines (
    id            INTEGER PRIMARY KEY,
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('internal_users', 'external_users', 'minimum', 'adjustment', 'other')),
    description   TEXT NOT NULL,
    period_start  TEXT,
    period_end    TEXT,
    quantity      INTEGER NOT NULL,
    unit_minor    INTEGER NOT NULL,
    amount_minor  INTEGER NOT NULL,
    tax_rate_bp   INTEGER NOT NULL CHECK (tax_rate_bp BETWEEN 0 AND 10000),
    tax_minor     INTEGER NOT NULL,
    proration     INTEGER NOT NULL DEFAULT 0 CHECK (proration IN (0, 1)),
    UNIQUE (invoice_id, position)
);

-- The last number given per year: finalising increments it in the same write
-- transaction as the invoice takes it, so numbers are never skipped nor repeated.
CREATE TABLE invoice_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 0)
);

CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    invoice_id      INTEGER NOT NULL REFERENCES invoices(id),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    received_on     TEXT NOT NULL,
    reference       TEXT NOT NULL DEFAULT '',
    method          TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX payments_invoice ON payments(invoice_id);

CREATE TABLE credit_notes (
    id            INTEGER PRIMARY KEY,
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id),
    -- CN-<invoice number>-<n>.
    number        TEXT NOT NULL UNIQUE,
    reason        TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    -- The invoice lines it credits: [{"line_id": .., "amount_minor": ..}].
    lines         TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX credit_notes_invoice ON credit_notes(invoice_id);

-- Defence in depth: a finalised invoice's lines and totals never change.
CREATE TRIGGER invoices_finalised_totals BEFORE UPDATE OF currency, subtotal_minor, tax_minor, total_minor, number, organization_id, issued_at ON invoices
WHEN OLD.state <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;

CREATE TRIGGER invoices_finalised_no_delete BEFORE DELETE ON invoices
WHEN OLD.state <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;

CREATE TRIGGER invoice_lines_finalised_insert BEFORE INSERT ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = NEW.invoice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;

CREATE TRIGGER invoice_lines_finalised_update BEFORE UPDATE ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;

CREATE TRIGGER invoice_lines_finalised_delete BEFORE DELETE ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'invoice_finalized');
END;
