-- Tenant schema step 12: subscriptions that bill themselves (issue 15). What paying an
-- invoice of a subscription does (purchase, renewal, upgrade) is written beside the
-- invoice when it is made, and applied once: when it is paid, or earlier when staff
-- accept its purchase order. Periods are counted from an anchor day, so a subscription
-- begun on the 31st comes back to the 31st after a short month.
-- Frozen: a released step never changes; a change to the schema is a new step.

-- The first period's start day (YYYY-MM-DD); NULL while pending.
ALTER TABLE subscriptions ADD COLUMN anchor_date TEXT;

CREATE TABLE subscription_invoices (
    invoice_id       INTEGER PRIMARY KEY REFERENCES invoices(id),
    subscription_id  INTEGER NOT NULL REFERENCES subscriptions(id),
    purpose          TEXT NOT NULL CHECK (purpose IN ('purchase', 'renewal', 'upgrade')),
    -- The user counts the subscription has once this invoice is applied.
    internal_users   INTEGER NOT NULL CHECK (internal_users >= 0),
    external_users   INTEGER NOT NULL CHECK (external_users >= 0),
    -- The period it pays for (an upgrade: the rest of the current period).
    period_start     TEXT NOT NULL,
    period_end       TEXT NOT NULL,
    -- When its effect was applied (paid, or its purchase order accepted); NULL before.
    applied_at       TEXT,
    po_accepted_at   TEXT,
    po_accepted_by   TEXT
);
CREATE INDEX subscription_invoices_subscription ON subscription_invoices(subscription_id, purpose, period_start);

-- The scheduler's look for renewals and period ends.
CREATE INDEX subscriptions_period_end ON subscriptions(status, current_period_end);
