-- Tenant schema step 10: the customer portal (issue 14). Customers are the vendor's
-- customers, a principal of their own beside staff; they belong to organizations as
-- owner or member, and organizations own licenses (an organization is the billing
-- customer of the next step). Staff accounts gain a kind: a service account has API
-- tokens but no password and no console access, and is not a licensed user.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE customers (
    id                INTEGER PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name      TEXT NOT NULL DEFAULT '',
    -- argon2id PHC string.
    password_hash     TEXT NOT NULL,
    -- NULL until the customer proves the address (a verification link, or an
    -- invitation accepted by a new account). Nothing else works before.
    email_verified_at TEXT,
    disabled_at       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE customer_sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    remote_addr TEXT
);
CREATE INDEX customer_sessions_customer ON customer_sessions(customer_id);
CREATE INDEX customer_sessions_expiry ON customer_sessions(expires_at);

-- Single-use links sent by email: verify an address, reset a password. Only the
-- SHA-256 of the token is kept; a new link of the same purpose replaces the old one.
CREATE TABLE customer_links (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX customer_links_customer ON customer_links(customer_id, purpose);

CREATE TABLE organizations (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT NOT NULL,
    notification_email    TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    -- An owner asked staff to delete it (deleting is not self-service).
    deletion_requested_at TEXT,
    deletion_requested_by TEXT
);
CREATE INDEX organizations_name ON organizations(name COLLATE NOCASE);

CREATE TABLE memberships (
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, customer_id)
);
CREATE INDEX memberships_customer ON memberships(customer_id);

-- An invitation is bound to the invited address; its token is single use and only its
-- SHA-256 is kept (resending rotates it).
CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email           TEXT NOT NULL COLLATE NOCASE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    token_hash      BLOB NOT NULL UNIQUE,
    -- Who invited, as the audit log names them (customer:<email>, staff:<email>).
    invited_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT NOT NULL,
    sends           INTEGER NOT NULL DEFAULT 1,
    expires_at      TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'accepted', 'revoked')),
    accepted_by     INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    closed_at       TEXT
);
CREATE INDEX invitations_organization ON invitations(organization_id, state);
-- One pending invitation per address and organization.
CREATE UNIQUE INDEX invitations_pending ON invitations(organization_id, email)
    WHERE state = 'pending';

-- A license may belong to an organization (its members see it, and its key, in the
-- portal). The free-text `organization` stays: it is what the signed key says.
ALTER TABLE licenses ADD COLUMN organization_id INTEGER REFERENCES organizations(id);
CREATE INDEX licenses_organization ON licenses(organization_id) WHERE organization_id IS NOT NULL;

-- person: signs in to the console; service: API tokens only, never counted as a user.
ALTER TABLE staff_users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person'
    CHECK (kind IN ('person', 'service'));
