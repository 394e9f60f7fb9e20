//! One test per schema step: a database of the version before the step, holding rows in
//! that version's shape, is upgraded to today's version; its rows are still there and the
//! step did what it says. Seeds are plain SQL in each version's shape, so they never
//! follow later changes of the code.

use super::{Object, empty, objects};
use licd::store::migrate::{Outcome, REGISTRY, TENANT, bring_up_to_date, user_version};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::Path;

/// Rows a tenant database holds at each version, in that version's shape: `SEEDS[n - 1]`
/// goes in right after step n ran, so later steps always run on data. A new step adds
/// its seed here and its test below.
const SEEDS: &[&str] = &[
    // Version 1: staff (one still holding a one-time password, one disabled), a session,
    // tokens, the start of an audit chain.
    "INSERT INTO staff_users (id, email, display_name, role, password_hash, must_change_password, disabled_at, created_at, updated_at) VALUES
       (1, 'admin@example.com', 'Admin', 'super_admin', '$argon2id$v=19$m=19456,t=2,p=1$YWRtaW4$aGFzaA', 0, NULL, '2026-01-01T09:00:00.000000Z', '2026-01-01T09:00:00.000000Z'),
       (2, 'new@example.com', 'New', 'support', '$argon2id$v=19$m=19456,t=2,p=1$bmV3$aGFzaA', 1, NULL, '2026-01-02T09:00:00.000000Z', '2026-01-03T10:30:00.000000Z'),
       (3, 'gone@example.com', '', 'onboarding', '$argon2id$v=19$m=19456,t=2,p=1$Z29uZQ$aGFzaA', 0, '2026-01-04T09:00:00.000000Z', '2026-01-02T09:00:00.000000Z', '2026-01-04T09:00:00.000000Z');
     INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, remote_addr) VALUES
       (1, x'aa01', 1, '2026-01-05T09:00:00.000000Z', '2026-01-05T21:00:00.000000Z', '192.0.2.1');
     INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at, revoked_at) VALUES
       (1, 1, 'ci', 'licd_ab12', x'bb01', '2026-01-05T09:00:00.000000Z', NULL, NULL),
       (2, 2, 'old', 'licd_cd34', x'bb02', '2026-01-05T09:00:00.000000Z', '2026-02-01T00:00:00.000000Z', '2026-01-06T00:00:00.000000Z');
     INSERT INTO audit_log (id, at, actor, action, target, details, prev_hash, hash) VALUES
       (1, '2026-01-01T09:00:00.000000Z', 'cli', 'staff.create', 'staff:1', '{}', '', 'h1'),
       (2, '2026-01-05T09:00:00.000000Z', 'staff:1', 'token.create', 'token:1', '{\"name\":\"ci\"}', 'h1', 'h2');",
    // Version 2: a signing key; L1 moved from box-a to box-b, L2 suspended and its only
    // activation replaced; heartbeats; directives acknowledged, waiting, and waiting for
    // no activation; events, a provisioning token, a setting.
    "INSERT INTO signing_keys (kid, status, public_jwk, sealed_private, created_at, rotated_at, retired_at) VALUES
       ('k1', 'active', '{\"kty\":\"EC\"}', x'5e01', '2026-01-01T09:00:00.000000Z', NULL, NULL);
     INSERT INTO licenses (id, name, install_id, organization, internal_users, external_users, features, flags, not_before, expires_at, issued_at, kid, license_key, state, suspend_reason, bound_fingerprint, activated_at, last_seen_at, subscription_status, subscription_period_end, revoked_at, revoke_reason, updated_at) VALUES
       ('L1', 'Plant 7', 'I1', 'Acme', 50, 10, '[\"sso\"]', '[]', '2026-01-01T00:00:00.000000Z', '2027-01-01T00:00:00.000000Z', '2026-01-01T09:00:00.000000Z', 'k1', 'key.L1', 'active', NULL, 'box-b', '2026-01-02T09:00:00.000000Z', '2026-01-06T09:00:00.000000Z', 'none', NULL, NULL, NULL, '2026-01-06T09:00:00.000000Z'),
       ('L2', 'Plant 8', 'I1', '', 5, 0, '[]', '[\"trial\"]', '2026-01-01T00:00:00.000000Z', '2026-07-01T00:00:00.000000Z', '2026-01-01T09:00:00.000000Z', 'k1', 'key.L2', 'suspended', 'staff', 'box-c', '2026-01-02T09:00:00.000000Z', NULL, 'active', '2026-02-01T00:00:00.000000Z', NULL, NULL, '2026-01-06T09:00:00.000000Z');
     INSERT INTO activations (id, license_id, fingerprint, hostname, secret_hash, created_at, superseded_at, superseded_reason, last_seq, last_lease_hash) VALUES
       (1, 'L1', 'box-a', 'a.example', x'ac01', '2026-01-02T09:00:00.000000Z', '2026-01-04T09:00:00.000000Z', 'rebind', 5, 'lh1'),
       (2, 'L1', 'box-b', NULL, x'ac02', '2026-01-04T09:00:00.000000Z', NULL, NULL, 2, 'lh2'),
       (3, 'L2', 'box-c', NULL, x'ac03', '2026-01-02T09:00:00.000000Z', '2026-01-03T09:00:00.000000Z', 'reactivated', 1, '');
     INSERT INTO heartbeats (id, license_id, at, fingerprint, seq, internal_users, external_users, state) VALUES
       (1, 'L1', '2026-01-03T09:00:00.000000Z', 'box-a', 4, 12, 3, 'active'),
       (2, 'L1', '2026-01-06T09:00:00.000000Z', 'box-b', 1, NULL, NULL, 'active');
     INSERT INTO directives (id, license_id, kind, message, created_at, created_by, first_seq, acked_at) VALUES
       (1, 'L1', 'message', 'old news', '2026-01-02T10:00:00.000000Z', 'staff:1', 3, '2026-01-03T09:00:00.000000Z'),
       (2, 'L1', 'message', 'hello', '2026-01-03T10:00:00.000000Z', 'staff:1', 5, NULL),
       (3, 'L1', 'unlock', '', '2026-01-05T10:00:00.000000Z', 'staff:1', NULL, NULL),
       (4, 'L2', 'message', 'waiting', '2026-01-02T10:00:00.000000Z', 'staff:1', 2, NULL);
     INSERT INTO license_events (id, license_id, at, event, from_state, to_state, actor, detail) VALUES
       (1, 'L1', '2026-01-01T09:00:00.000000Z', 'issue', NULL, 'issued', 'staff:1', ''),
       (2, 'L1', '2026-01-02T09:00:00.000000Z', 'activate', 'issued', 'active', 'appliance', 'box-a');
     INSERT INTO provisioning_tokens (id, name, prefix, token_hash, template, max_uses, uses, expires_at, created_at, created_by, revoked_at) VALUES
       (1, 'factory', 'lpt_ab', x'9001', '{}', 10, 2, NULL, '2026-01-01T09:00:00.000000Z', 'staff:1', NULL);
     INSERT INTO settings (key, value) VALUES ('licensing.offline_grace_days', '7');",
    // Version 3: an installation over its limit, its events, one of licd's own licenses.
    "INSERT INTO installations (install_id, internal_users, external_users, usage_at, condition, violation_since, stage, updated_at) VALUES
       ('I1', 60, 3, '2026-01-06T09:00:00.000000Z', 'over_limit', '2026-01-06T09:00:00.000000Z', 'admin_warning', '2026-01-06T09:00:00.000000Z');
     INSERT INTO installation_events (id, install_id, at, kind, internal_users, external_users, stage, condition) VALUES
       (1, 'I1', '2026-01-06T09:00:00.000000Z', 'usage', 60, 3, NULL, NULL),
       (2, 'I1', '2026-01-06T09:00:00.000000Z', 'stage', NULL, NULL, 'admin_warning', 'over_limit');
     INSERT INTO enterprise_licenses (id, license_key, name, organization, internal_users, external_users, not_before, expires_at, installed_at, installed_by) VALUES
       ('E1', 'key.E1', 'licd', 'Vendor', 10, 0, '2026-01-01T00:00:00.000000Z', '2027-01-01T00:00:00.000000Z', '2026-01-01T09:00:00.000000Z', 'staff:1');",
    // Version 4: box-b's client certificate.
    "INSERT INTO client_certs (sha256, activation_id, license_id, issued_at, not_after) VALUES
       ('c0ffee', 2, 'L1', '2026-01-04T09:00:00.000000Z', '2027-01-08T00:00:00.000000Z');",
    // Version 5: nothing new; step 5 itself recorded new@example.com's one-time password.
    "",
    // Version 6: a directive for box-b.
    "INSERT INTO directives (id, license_id, kind, message, created_at, created_by, first_seq, acked_at, activation_id) VALUES
       (5, 'L1', 'message', 'for box-b', '2026-01-07T10:00:00.000000Z', 'staff:1', NULL, NULL, 2);",
    // Version 7: L1 renewed; its new key on its way to box-b; L2's suspension noted.
    "INSERT INTO license_keys (id, license_id, kid, license_key, reason, issued_at, issued_by, superseded_at) VALUES
       (3, 'L1', 'k1', 'key.L1.2', 'renew', '2026-01-08T09:00:00.000000Z', 'staff:1', NULL);
     UPDATE license_keys SET superseded_at = '2026-01-08T09:00:00.000000Z' WHERE id = 1;
     UPDATE licenses SET license_key = 'key.L1.2' WHERE id = 'L1';
     INSERT INTO directives (id, license_id, kind, message, created_at, created_by, first_seq, acked_at, activation_id, license_key, replaced_at) VALUES
       (6, 'L1', 'install_key', 'install the renewed key', '2026-01-08T09:00:00.000000Z', 'staff:1', NULL, NULL, 2, 'key.L1.2', NULL);
     UPDATE licenses SET suspend_note = 'unpaid' WHERE id = 'L2';",
    // Version 8: a heartbeat from box-b (its trigger counts it in its hour).
    "INSERT INTO heartbeats (id, license_id, at, fingerprint, seq, internal_users, external_users, state) VALUES
       (3, 'L1', '2026-01-07T10:00:00.000000Z', 'box-b', 2, 12, 3, 'active');",
    // Version 9: a message waiting in the outbox, and one sent.
    "INSERT INTO outbox (id, created_at, kind, to_address, subject, body_text, body_html, state, attempts, next_attempt_at, last_error, sent_at, sent_by, dedupe_key) VALUES
       (1, '2026-01-08T09:00:00.000000Z', 'invitation', 'a@example.com', 'Join', 'text', '<p>html</p>', 'pending', 1, '2026-01-08T09:01:00.000000Z', 'connection refused', NULL, NULL, 'invite:1'),
       (2, '2026-01-08T09:00:00.000000Z', 'invitation', 'b@example.com', 'Join', 'text', '<p>html</p>', 'sent', 1, '2026-01-08T09:00:00.000000Z', NULL, '2026-01-08T09:00:05.000000Z', NULL, NULL);",
    // Version 10: a customer who owns an organization that owns L1 (with a session and
    // a used verification link), an invitation, and a service account.
    "INSERT INTO customers (id, email, display_name, password_hash, email_verified_at, disabled_at, created_at, updated_at) VALUES
       (1, 'owner@example.com', 'Owner', '$argon2id$x', '2026-01-09T09:00:00.000000Z', NULL, '2026-01-09T09:00:00.000000Z', '2026-01-09T09:00:00.000000Z');
     INSERT INTO customer_sessions (id, token_hash, customer_id, created_at, expires_at, remote_addr) VALUES
       (1, x'cc01', 1, '2026-01-09T09:00:00.000000Z', '2026-01-09T21:00:00.000000Z', '192.0.2.7');
     INSERT INTO customer_links (id, token_hash, customer_id, purpose, created_at, expires_at, used_at) VALUES
       (1, x'dd01', 1, 'verify_email', '2026-01-09T08:00:00.000000Z', '2026-01-10T08:00:00.000000Z', '2026-01-09T09:00:00.000000Z');
     INSERT INTO organizations (id, name, notification_email, created_at, updated_at) VALUES
       (1, 'Acme', 'ops@acme.example', '2026-01-09T09:00:00.000000Z', '2026-01-09T09:00:00.000000Z');
     INSERT INTO memberships (organization_id, customer_id, role, created_at) VALUES (1, 1, 'owner', '2026-01-09T09:00:00.000000Z');
     INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by, created_at, sent_at, expires_at) VALUES
       (1, 1, 'new@acme.example', 'member', x'00', 'customer:owner@example.com', '2026-01-09T09:00:00.000000Z', '2026-01-09T09:00:00.000000Z', '2026-01-16T09:00:00.000000Z');
     UPDATE licenses SET organization_id = 1 WHERE id = 'L1';
     INSERT INTO staff_users (id, email, role, password_hash, created_at, updated_at, kind) VALUES
       (9, 'ci@vendor.example', 'support', '', '2026-01-09T09:00:00.000000Z', '2026-01-09T09:00:00.000000Z', 'service');",
    // Version 11: Acme's billing account, a subscription for L1, the price list, an
    // open invoice with a line, partly paid, partly credited.
    "INSERT INTO price_list (id, currency, internal_monthly_minor, internal_yearly_minor, external_monthly_minor, external_yearly_minor, min_internal_users, min_external_users, tax_rule, payment_terms_days, allow_purchase_order, bank_details, renewal_days_before, dunning_grace_days, updated_at, updated_by) VALUES
       (1, 'EUR', 1000, 10000, 500, 5000, 5, 0, '{\"default_rate_bp\":1900}', 30, 1, 'IBAN DE00', 30, 14, '2026-01-10T09:00:00.000000Z', 'staff:admin@example.com');
     INSERT INTO billing_accounts (organization_id, legal_name, address, country, created_at, updated_at) VALUES
       (1, 'Acme GmbH', 'Street 1', 'DE', '2026-01-10T09:00:00.000000Z', '2026-01-10T09:00:00.000000Z');
     INSERT INTO subscriptions (id, organization_id, license_id, install_id, license_name, internal_users, external_users, period, current_period_start, current_period_end, status, created_at, updated_at) VALUES
       (1, 1, 'L1', 'I1', 'Plant 7', 50, 10, 'yearly', '2026-01-10T00:00:00.000000Z', '2027-01-10T00:00:00.000000Z', 'active', '2026-01-10T09:00:00.000000Z', '2026-01-10T09:00:00.000000Z');
     INSERT INTO invoices (id, organization_id, subscription_id, state, number, currency, subtotal_minor, tax_minor, total_minor, amount_paid, amount_credited, issued_at, due_at, created_at, created_by, updated_at) VALUES
       (1, 1, 1, 'draft', NULL, 'EUR', 10000, 1900, 11900, 5000, 900, '2026-01-10T09:00:00.000000Z', '2026-02-09T09:00:00.000000Z', '2026-01-10T09:00:00.000000Z', 'staff:admin@example.com', '2026-01-10T09:00:00.000000Z');
     INSERT INTO invoice_lines (id, invoice_id, position, kind, description, quantity, unit_minor, amount_minor, tax_rate_bp, tax_minor) VALUES
       (1, 1, 1, 'internal_users', 'Internal users', 1, 10000, 10000, 1900, 1900);
     UPDATE invoices SET state = 'open', number = 'INV-2026-000001' WHERE id = 1;
     INSERT INTO invoice_counters (year, last) VALUES (2026, 1);
     INSERT INTO payments (id, invoice_id, amount_minor, received_on, reference, method, recorded_by, recorded_at, idempotency_key) VALUES
       (1, 1, 5000, '2026-01-15', 'bank ref 1', 'bank_transfer', 'staff:admin@example.com', '2026-01-15T09:00:00.000000Z', 'k1');
     INSERT INTO credit_notes (id, invoice_id, number, reason, amount_minor, lines, created_at, created_by) VALUES
       (1, 1, 'CN-INV-2026-000001-1', 'goodwill', 900, '[]', '2026-01-16T09:00:00.000000Z', 'staff:admin@example.com');",
    // Version 12: the subscription's anchor, and what its invoice pays for (applied).
    "UPDATE subscriptions SET anchor_date = '2026-01-10' WHERE id = 1;
     INSERT INTO subscription_invoices (invoice_id, subscription_id, purpose, internal_users, external_users, period_start, period_end, applied_at) VALUES
       (1, 1, 'purchase', 50, 10, '2026-01-10T00:00:00.000000Z', '2027-01-10T00:00:00.000000Z', '2026-01-15T09:00:00.000000Z');",
    // Version 13: box-b held L1 offline, had a renewal bundle, sent a usage report and
    // released the license.
    "UPDATE activations SET superseded_at = '2026-01-11T09:00:00.000000Z', superseded_reason = 'released' WHERE id = 2;
     UPDATE licenses SET bundle_seq = 1, offline_until = NULL WHERE id = 'L1';
     INSERT INTO offline_activations (activation_id, license_id, fingerprint, appliance_key, appliance_kid, request_nonce, created_at, response_deadline, lease_expires_at, license_key, released_at, release_nonce, final_internal_users, final_external_users) VALUES
       (2, 'L1', 'box-b', '{\"kty\":\"EC\"}', 'ak1', 'n1', '2026-01-04T09:00:00.000000Z', '2026-01-18T09:00:00.000000Z', '2026-04-04T09:00:00.000000Z', 'key.L1', '2026-01-11T09:00:00.000000Z', 'r1', 12, 3);
     INSERT INTO license_bundles (id, license_id, bundle_seq, kind, activation_id, license_key, created_at, created_by) VALUES
       (1, 'L1', 1, 'renewal', 2, 'key.L1', '2026-01-09T09:00:00.000000Z', 'staff:1');
     INSERT INTO usage_reports (id, license_id, fingerprint, report_seq, report_hash, prev_report, period_start, period_end, peak_internal, peak_external, daily, rollbacks, missing_seqs, chain_break, received_at, received_by) VALUES
       (1, 'L1', 'box-b', 1, 'rh1', '', '2026-01-04T09:00:00.000000Z', '2026-01-10T09:00:00.000000Z', 12, 3, '[]', '[]', '[]', 0, '2026-01-10T10:00:00.000000Z', 'staff:1');",
    // Version 14: box-b heartbeats once more, chained to L1's heartbeat 3.
    "INSERT INTO heartbeats (id, license_id, at, fingerprint, seq, internal_users, external_users, state, prev_id) VALUES
       (4, 'L1', '2026-01-11T08:00:00.000000Z', 'box-b', 3, 12, 3, 'active', 3);
     UPDATE activations SET last_heartbeat_id = 4 WHERE id = 2;",
    // Version 15: L4 issued, its key only in license_keys.
    "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before, expires_at, issued_at, kid, state, updated_at) VALUES
       ('L4', 'Plant 9', 'I1', 1, 0, '2026-01-12T00:00:00.000000Z', '2027-01-12T00:00:00.000000Z', '2026-01-12T09:00:00.000000Z', 'k1', 'issued', '2026-01-12T09:00:00.000000Z');
     INSERT INTO license_keys (id, license_id, kid, license_key, reason, issued_at, issued_by, superseded_at) VALUES
       (4, 'L4', 'k1', 'key.L4', 'issue', '2026-01-12T09:00:00.000000Z', 'staff:1', NULL);",
    // Version 16: box-b heartbeats again; the head of L1's chain is in its license row.
    "INSERT INTO heartbeats (id, license_id, at, fingerprint, seq, internal_users, external_users, state, prev_id) VALUES
       (5, 'L1', '2026-01-13T08:00:00.000000Z', 'box-b', 4, 12, 3, 'active', 4);
     UPDATE licenses SET last_heartbeat_id = 5 WHERE id = 'L1';",
    // Version 17: L4 activated on box-d, which heartbeats once; its state row holds
    // its lease chain.
    "INSERT INTO activations (id, license_id, fingerprint, hostname, secret_hash, created_at, last_seq, last_lease_hash) VALUES
       (4, 'L4', 'box-d', NULL, x'ac04', '2026-01-13T09:00:00.000000Z', 0, '');
     UPDATE licenses SET state = 'active', bound_fingerprint = 'box-d', activated_at = '2026-01-13T09:00:00.000000Z'
         WHERE id = 'L4';
     INSERT INTO heartbeats (id, license_id, at, fingerprint, seq, internal_users, external_users, state, prev_id) VALUES
       (6, 'L4', '2026-01-13T09:05:00.000000Z', 'box-d', 1, 1, 0, 'active', NULL);
     UPDATE heartbeat_state SET last_seen_at = '2026-01-13T09:05:00.000000Z', last_heartbeat_id = 6,
         activation_id = 4, last_seq = 1, last_lease_hash = 'lh4' WHERE license_id = 'L4';",
    // Version 18: box-d heartbeats again, by the digest of its credential.
    "UPDATE heartbeat_state SET credential_digest = x'd4d4', last_seq = 2, last_lease_hash = 'lh4b'
         WHERE license_id = 'L4';",
    // Version 19: box-d heartbeats again and reuses its installation's assessment.
    "UPDATE heartbeat_state SET last_seq = 3, last_lease_hash = 'lh4c', assessed_at = 1768300000,
         assessed_until = 1769500000, assessed_stage = 2, assessed_internal_users = 1,
         assessed_external_users = 0
         WHERE license_id = 'L4';",
    // Version 20: L5 is issued to start later than its issue.
    "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before, expires_at, issued_at, kid, state) VALUES
       ('L5', 'Plant 10', 'I1', 1, 0, '2026-03-01T00:00:00.000000Z', '2027-03-01T00:00:00.000000Z', '2026-01-14T09:00:00.000000Z', 'k1', 'issued');
     INSERT INTO license_keys (id, license_id, license_key, reason, issued_at, issued_by, superseded_at) VALUES
       (5, 'L5', 'key.L5', 'issue', '2026-01-14T09:00:00.000000Z', 'staff:1', NULL);",
    // Version 21: box-d heartbeats again, on a later day.
    "INSERT INTO heartbeats (id, license_id, at, fingerprint, seq, internal_users, external_users, state, prev_id) VALUES
       (7, 'L4', '2026-01-15T10:30:00.000000Z', 'box-d', 4, 1, 0, 'active', 6);
     UPDATE heartbeat_state SET last_seen_at = '2026-01-15T10:30:00.000000Z', last_heartbeat_id = 7,
         last_seq = 4, last_lease_hash = 'lh4d'
         WHERE license_id = 'L4';",
    // Version 22: L5 renewed, its new key after its first; I1's users counted again; the
    // times of keys and installations in microseconds (2026-01-16T09:00:00Z).
    "UPDATE license_keys SET superseded_at = 1768554000000000 WHERE id = 5;
     INSERT INTO license_keys (id, prev_id, license_key, reason, issued_at, issued_by, superseded_at) VALUES
       (6, 5, 'key.L5.2', 'renew', 1768554000000000, 'staff:1', NULL);
     UPDATE licenses SET key_id = 6 WHERE id = 'L5';
     UPDATE installations SET internal_users = 2, usage_at = 1768554000000000,
         updated_at = 1768554000000000 WHERE install_id = 'I1';",
    // Version 23: a second signing key, now active; L5 reissued with it.
    "UPDATE signing_keys SET status = 'verifying', rotated_at = '2026-01-17T09:00:00.000000Z'
         WHERE kid = 'k1';
     INSERT INTO signing_keys (kid, status, public_jwk, sealed_private, created_at, no) VALUES
       ('k2', 'active', '{\"kty\":\"EC\"}', x'5e02', '2026-01-17T09:00:00.000000Z', 2);
     UPDATE license_keys SET superseded_at = 1768640400000000 WHERE id = 6;
     INSERT INTO license_keys (id, prev_id, license_key, reason, issued_at, issued_by, superseded_at) VALUES
       (7, 6, 'key.L5.3', 'reissue', 1768640400000000, 'staff:1', NULL);
     UPDATE licenses SET key_id = 7, signed_by = 2 WHERE id = 'L5';",
    // Version 24: L5 activated by box-e, its times as microseconds; I1's usage counted
    // again.
    "UPDATE licenses SET state = 'active', bound_fingerprint = 'box-e',
         activated_at = 1768640400123456 WHERE id = 'L5';
     INSERT INTO activations (id, license_id, fingerprint, hostname, secret_hash, created_at) VALUES
       (5, 'L5', 'box-e', NULL, x'ac05', 1768640400123456);
     UPDATE installations SET internal_users = 3, usage_at = 1768726800000000,
         updated_at = 1768726800000000 WHERE install_id = 'I1';",
    // Version 25: box-e heartbeats, by its license's number and at microseconds
    // (2026-01-18T09:00:00.5Z).
    "UPDATE heartbeat_state SET last_seen_at = 1768726800500000, activation_id = 5,
         last_seq = 1, last_lease_hash = 'lh5'
         WHERE license_no = (SELECT no FROM licenses WHERE id = 'L5');",
];

/// Columns that a step rewrites or moves on purpose, by step: an upgrade across that step
/// may change or drop them, and the step's own test checks how.
const REWRITES: &[(i64, &str, &str)] = &[
    (6, "directives", "first_seq"),
    (15, "licenses", "license_key"),
    (16, "activations", "last_heartbeat_id"),
    (17, "licenses", "last_seen_at"),
    (17, "licenses", "last_heartbeat_id"),
    (20, "license_keys", "kid"),
    (20, "licenses", "updated_at"),
    (22, "license_keys", "license_id"),
    (22, "license_keys", "issued_at"),
    (22, "license_keys", "superseded_at"),
    (22, "activations", "created_at"),
    (22, "activations", "superseded_at"),
    (22, "installations", "usage_at"),
    (22, "installations", "violation_since"),
    (22, "installations", "updated_at"),
    (23, "licenses", "kid"),
    (24, "licenses", "not_before"),
    (24, "licenses", "expires_at"),
    (24, "licenses", "issued_at"),
    (24, "licenses", "activated_at"),
    (24, "licenses", "subscription_period_end"),
    (24, "licenses", "revoked_at"),
    (24, "licenses", "offline_until"),
    (25, "heartbeat_state", "license_id"),
    (25, "activations", "license_id"),
    (25, "heartbeat_state", "last_seen_at"),
];

/// A tenant database at `version`, made by running steps 1 to `version` as plain SQL,
/// each followed by its seed.
fn tenant_at(version: i64) -> Connection {
    assert_eq!(SEEDS.len() as i64, TENANT.version, "a seed for every step");
    let c = empty();
    for (n, step) in TENANT.numbered_steps().take_while(|(n, _)| *n <= version) {
        // In a transaction of its own, as `bring_up_to_date` runs it.
        c.execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", step.sql))
            .unwrap();
        c.execute_batch(SEEDS[n as usize - 1]).unwrap();
    }
    c.pragma_update(None, "user_version", version).unwrap();
    c
}

/// A table's column names and its rows (each value in Debug form), sorted.
type Table = (Vec<String>, Vec<Vec<String>>);

fn snapshot(c: &Connection) -> BTreeMap<String, Table> {
    objects(c)
        .into_iter()
        .filter(|o| o.kind == "table")
        .map(|o| {
            let mut st = c.prepare(&format!("SELECT * FROM \"{}\"", o.name)).unwrap();
            let cols: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
            let mut rows: Vec<Vec<String>> = st
                .query_map([], |r| {
                    (0..cols.len())
                        .map(|i| Ok(format!("{:?}", r.get::<_, rusqlite::types::Value>(i)?)))
                        .collect()
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            rows.sort();
            (o.name, (cols, rows))
        })
        .collect()
}

/// Upgrades a tenant database of `from` (with its seeds) to today's version and checks
/// that every row it held is still there with the values it had, except the columns
/// later steps rewrite on purpose. Returns the upgraded database.
fn upgrade_from(from: i64) -> Connection {
    let mut c = tenant_at(from);
    let before = snapshot(&c);
    assert_eq!(
        bring_up_to_date(&mut c, &TENANT, Path::new("old.db")).unwrap(),
        Outcome::Upgraded { from }
    );
    let after = snapshot(&c);
    for (table, (cols, rows)) in before {
        let rewritten = |col: &str| {
            REWRITES
                .iter()
                .any(|(step, t, c)| *step > from && *t == table && *c == col)
        };
        let kept: Vec<&String> = cols.iter().filter(|c| !rewritten(c)).collect();
        let (now_cols, now_rows) = after
            .get(&table)
            .unwrap_or_else(|| panic!("table {table} is gone after upgrading from {from}"));
        let project = |cols: &[String], rows: &[Vec<String>]| -> Vec<Vec<String>> {
            let idx: Vec<usize> = kept
                .iter()
                .map(|k| {
                    cols.iter().position(|c| c == *k).unwrap_or_else(|| {
                        panic!("column {table}.{k} is gone after upgrading from {from}")
                    })
                })
                .collect();
            let mut out: Vec<Vec<String>> = rows
                .iter()
                .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
                .collect();
            out.sort();
            out
        };
        assert!(
            !rows.is_empty(),
            "no seed rows in {table} at version {from}"
        );
        assert_eq!(
            project(now_cols, now_rows),
            project(&cols, &rows),
            "rows of {table} after upgrading from {from}"
        );
    }
    c
}

fn names(c: &Connection, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = objects(c)
        .into_iter()
        .filter(|o| o.kind == kind)
        .map(|o| o.name)
        .collect();
    v.sort();
    v
}

/// Step 1, the foundation as first released: exactly the version-1 tables, indexes and
/// triggers; version-1 rows carried all the way keep the audit log append-only.
#[test]
fn step_1_foundation() {
    let c = tenant_at(1);
    assert_eq!(
        names(&c, "table"),
        ["api_tokens", "audit_log", "sessions", "staff_users"]
    );
    assert_eq!(
        names(&c, "index"),
        [
            "api_tokens_user",
            "audit_log_action",
            "audit_log_actor",
            "audit_log_at",
            "sessions_expiry",
            "sessions_user"
        ]
    );
    assert_eq!(
        names(&c, "trigger"),
        ["audit_log_no_delete", "audit_log_no_update"]
    );
    let c = upgrade_from(1);
    for sql in [
        "UPDATE audit_log SET actor = 'x' WHERE id = 1",
        "DELETE FROM audit_log WHERE id = 2",
    ] {
        let err = c.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}

/// Step 2, licensing: version-1 rows stay; the new tables hold licenses signed by a
/// known key only.
#[test]
fn step_2_licensing() {
    let c = upgrade_from(1);
    c.execute_batch(
        "INSERT INTO signing_keys (kid, status, public_jwk, sealed_private, created_at, no)
         VALUES ('k9', 'active', '{}', x'00', 't', 9);
         INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
           expires_at, issued_at, signed_by, state)
         VALUES ('L9', 'n', 'I9', 1, 0, 't', 't', 't', 9, 'issued');",
    )
    .unwrap();
    let err = c
        .execute(
            "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
               expires_at, issued_at, signed_by, state)
             VALUES ('L10', 'n', 'I9', 1, 0, 't', 't', 't', 99, 'issued')",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
}

/// Step 3, installations: licensing rows stay; an installation starts unlicensed with
/// no stage.
#[test]
fn step_3_installations() {
    let c = upgrade_from(2);
    c.execute(
        "INSERT INTO installations (install_id, updated_at) VALUES ('I9', 't')",
        [],
    )
    .unwrap();
    let (condition, stage): (String, String) = c
        .query_row(
            "SELECT condition, stage FROM installations WHERE install_id = 'I9'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((condition.as_str(), stage.as_str()), ("unlicensed", "none"));
    let indexes = names(&c, "index");
    assert!(
        indexes.contains(&"licenses_expiry".into())
            && indexes.contains(&"licenses_not_before".into()),
        "{indexes:?}"
    );
}

/// Step 4, client certificates: one per existing activation, none for an unknown one.
#[test]
fn step_4_client_certs() {
    let c = upgrade_from(3);
    let insert =
        "INSERT INTO client_certs (sha256, activation_id, license_id, issued_at, not_after)
                  VALUES (?1, ?2, 'L1', 't', 't')";
    c.execute(insert, rusqlite::params!["beef", 1]).unwrap();
    let err = c.execute(insert, rusqlite::params!["f00d", 1]).unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    let err = c
        .execute(insert, rusqlite::params!["f00d", 99])
        .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
}

/// Step 5, one-time passwords: a password still pending counts from the account's last
/// change; accounts without one get no row.
#[test]
fn step_5_one_time_passwords() {
    let c = upgrade_from(4);
    let rows: Vec<(i64, String)> = c
        .prepare("SELECT user_id, issued_at FROM one_time_passwords ORDER BY user_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows, vec![(2, "2026-01-03T10:30:00.000000Z".to_owned())]);
}

/// Step 6: directives not yet acknowledged start over with the license's current
/// activation (or wait for the next one); acknowledged ones are left alone.
#[test]
fn step_6_directive_activations() {
    let c = upgrade_from(5);
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = c
        .prepare("SELECT id, activation_id, first_seq FROM directives ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, None, Some(3)),
            (2, Some(2), None),
            (3, Some(2), None),
            (4, None, None)
        ]
    );
    assert!(names(&c, "index").contains(&"directives_activation".into()));
}

/// Step 7: every license's current key becomes its first recorded key (with the actor
/// of its issue event, when there is one); directives and licenses gain their columns.
#[test]
fn step_7_license_keys() {
    let c = upgrade_from(6);
    // (Its `kid` column, dropped again by step 20, is not read.)
    let rows: Vec<(String, String, String, String, Option<String>)> = c
        .prepare(&format!(
            "{KEY_OWNERS} SELECT o.license_id, k.license_key, k.reason, k.issued_by,
                     k.superseded_at
                 FROM license_keys k JOIN owners o ON o.id = k.id ORDER BY k.id"
        ))
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let row = |l: &str, key: &str, by: &str| {
        (
            l.to_owned(),
            key.to_owned(),
            "issue".to_owned(),
            by.to_owned(),
            None,
        )
    };
    assert_eq!(
        rows,
        vec![row("L1", "key.L1", "staff:1"), row("L2", "key.L2", "")]
    );
    let (key, replaced): (Option<String>, Option<String>) = c
        .query_row(
            "SELECT license_key, replaced_at FROM directives WHERE id = 5",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((key, replaced), (None, None));
    let note: Option<String> = c
        .query_row(
            "SELECT suspend_note FROM licenses WHERE id = 'L2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(note, None);
    // What a signing key signed is found by index (by the key's number since step 23).
    assert!(names(&c, "index").contains(&"licenses_signed_by".into()));
}

/// Step 8, the dashboard's aggregates: filled from the rows that exist (each equal to a
/// direct count of them), then kept by triggers in the transaction of each write.
#[test]
fn step_8_fleet_aggregates() {
    let c = upgrade_from(7);
    let pairs = |sql: &str| -> Vec<(String, i64)> {
        c.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let owned = |v: &[(&str, i64)]| -> Vec<(String, i64)> {
        v.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    };
    let hours =
        "SELECT hour, heartbeats FROM fleet_heartbeat_hours WHERE heartbeats > 0 ORDER BY hour";
    let days = "SELECT day, appliances FROM fleet_appliance_days ORDER BY day";
    let issued = "SELECT day, issued FROM fleet_license_days ORDER BY day";
    let states =
        "SELECT state, licenses FROM fleet_license_states WHERE licenses > 0 ORDER BY state";
    let stages = "SELECT stage, installations FROM fleet_installation_stages WHERE installations > 0 ORDER BY stage";
    let direct_hours = "SELECT substr(at, 1, 13) h, count(*) FROM heartbeats GROUP BY h ORDER BY h";
    let direct_states = "SELECT state, count(*) FROM licenses GROUP BY state ORDER BY state";
    let direct_stages = "SELECT stage, count(*) FROM installations GROUP BY stage ORDER BY stage";

    // The backfill.
    assert_eq!(pairs(hours), pairs(direct_hours));
    assert_eq!(
        pairs(hours),
        owned(&[("2026-01-03T09", 1), ("2026-01-06T09", 1)])
    );
    // Heard from: L1 and L2 activated on the 2nd; L1 heartbeats on the 3rd and 6th, box-b
    // activated on the 4th.
    assert_eq!(
        pairs(days),
        owned(&[
            ("2026-01-02", 2),
            ("2026-01-03", 1),
            ("2026-01-04", 1),
            ("2026-01-06", 1)
        ])
    );
    assert_eq!(pairs(issued), owned(&[("2026-01-01", 2)]));
    assert_eq!(pairs(states), pairs(direct_states));
    assert_eq!(pairs(stages), pairs(direct_stages));
    assert_eq!(pairs(stages), owned(&[("admin_warning", 1)]));

    // The triggers (as step 17 made them again, on the state row): a heartbeat in a
    // counted hour; L1 heard from twice on the 7th (one more appliance that day, once),
    // then locked; a state written again unchanged; the
    // installation's stage moves on; a new license is issued.
    c.execute_batch(
        "INSERT INTO heartbeats (license_id, at, fingerprint, seq, state)
           VALUES ('L1', '2026-01-06T09:30:00.000000Z', 'box-b', 3, 'active');
         UPDATE heartbeat_state SET last_seen_at = 1767772800000000 WHERE license_no = (SELECT no FROM licenses WHERE id = 'L1');
         UPDATE heartbeat_state SET last_seen_at = 1767776400000000 WHERE license_no = (SELECT no FROM licenses WHERE id = 'L1');
         UPDATE licenses SET state = 'locked' WHERE id = 'L1';
         UPDATE licenses SET state = 'suspended' WHERE id = 'L2';
         UPDATE installations SET stage = 'read_only' WHERE install_id = 'I1';
         INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
           expires_at, issued_at, signed_by, state)
         VALUES ('L3', 'n', 'I1', 1, 0, 't', 't', 1767787200000000, 1, 'issued');",
    )
    .unwrap();
    assert_eq!(
        pairs(hours),
        owned(&[("2026-01-03T09", 1), ("2026-01-06T09", 2)])
    );
    assert_eq!(pairs(hours), pairs(direct_hours));
    assert_eq!(pairs(days).last().unwrap(), &("2026-01-07".to_owned(), 1));
    assert_eq!(
        pairs(issued),
        owned(&[("2026-01-01", 2), ("2026-01-07", 1)])
    );
    assert_eq!(
        pairs(states),
        owned(&[("issued", 1), ("locked", 1), ("suspended", 1)])
    );
    assert_eq!(pairs(states), pairs(direct_states));
    assert_eq!(pairs(stages), owned(&[("read_only", 1)]));
    assert_eq!(pairs(stages), pairs(direct_stages));
}

/// Step 9, the outbox: an empty table that refuses an unknown state and a second
/// message for the same event, and allows any number without a dedupe key.
#[test]
fn step_9_outbox() {
    let c = upgrade_from(8);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM outbox"), 0);
    let insert = |state: &str, key: Option<&str>| {
        c.execute(
            "INSERT INTO outbox (created_at, kind, to_address, subject, body_text, body_html, state, next_attempt_at, dedupe_key)
             VALUES ('t', 'invitation', 'a@example.com', 's', 'b', 'h', ?1, 't', ?2)",
            rusqlite::params![state, key],
        )
    };
    insert("pending", Some("invite:1")).unwrap();
    assert!(
        insert("pending", Some("invite:1")).is_err(),
        "dedupe_key is unique"
    );
    insert("pending", None).unwrap();
    insert("pending", None).unwrap();
    assert!(insert("sending", None).is_err(), "state is checked");
    assert_eq!(count("SELECT count(*) FROM outbox"), 3);
    assert_eq!(
        count("SELECT attempts FROM outbox WHERE dedupe_key = 'invite:1'"),
        0
    );
}

/// Step 10, the customer portal: licenses and staff keep their rows (no organization,
/// every account a person), one pending invitation per address, roles are checked.
#[test]
fn step_10_customer_portal() {
    let c = upgrade_from(9);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM licenses WHERE organization_id IS NOT NULL"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM staff_users WHERE kind <> 'person'"),
        0
    );
    c.execute_batch(
        "INSERT INTO customers (id, email, password_hash, created_at, updated_at) VALUES (1, 'a@x.example', 'h', 't', 't');
         INSERT INTO organizations (id, name, notification_email, created_at, updated_at) VALUES (1, 'Acme', 'n@x.example', 't', 't');",
    )
    .unwrap();
    assert!(
        c.execute(
            "INSERT INTO customers (email, password_hash, created_at, updated_at) VALUES ('A@X.EXAMPLE', 'h', 't', 't')",
            []
        )
        .is_err(),
        "emails are unique without regard to case"
    );
    assert!(
        c.execute("INSERT INTO memberships VALUES (1, 1, 'admin', 't')", [])
            .is_err(),
        "roles are owner or member"
    );
    let invite = |hash: u8, state: &str| {
        c.execute(
            "INSERT INTO invitations (organization_id, email, role, token_hash, invited_by, created_at, sent_at, expires_at, state)
             VALUES (1, 'b@x.example', 'member', ?1, 'customer:a@x.example', 't', 't', 't', ?2)",
            rusqlite::params![vec![hash], state],
        )
    };
    invite(1, "pending").unwrap();
    assert!(invite(2, "pending").is_err(), "one pending per address");
    invite(3, "revoked").unwrap();
    assert!(
        c.execute("UPDATE staff_users SET kind = 'robot'", [])
            .is_err(),
        "kind is person or service"
    );
}

/// Step 11, the billing ledger: nothing is billed yet; an invoice has a number exactly
/// when it is finalised, and a finalised invoice's lines and totals never change.
#[test]
fn step_11_billing() {
    let c = upgrade_from(10);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM invoices"), 0);
    assert_eq!(count("SELECT count(*) FROM price_list"), 0);
    let t = "'2026-01-10T09:00:00.000000Z'";
    c.execute_batch(&format!(
        "INSERT INTO invoices (id, organization_id, state, currency, subtotal_minor, tax_minor, total_minor, created_at, created_by, updated_at)
           VALUES (1, 1, 'draft', 'EUR', 100, 19, 119, {t}, 'staff:1', {t});
         INSERT INTO invoice_lines (invoice_id, position, kind, description, quantity, unit_minor, amount_minor, tax_rate_bp, tax_minor)
           VALUES (1, 1, 'other', 'x', 1, 100, 100, 1900, 19);"
    ))
    .unwrap();
    assert!(
        c.execute("UPDATE invoices SET state = 'open' WHERE id = 1", [])
            .is_err(),
        "an open invoice has a number"
    );
    c.execute(
        "UPDATE invoices SET state = 'open', number = 'INV-2026-000001' WHERE id = 1",
        [],
    )
    .unwrap();
    assert!(
        c.execute("UPDATE invoices SET total_minor = 1 WHERE id = 1", [])
            .is_err(),
        "totals of a finalised invoice are fixed"
    );
    assert!(
        c.execute("UPDATE invoice_lines SET amount_minor = 1", [])
            .is_err(),
        "lines of a finalised invoice are fixed"
    );
    assert!(
        c.execute("DELETE FROM invoices WHERE id = 1", []).is_err(),
        "a finalised invoice is never deleted"
    );
    c.execute(
        "UPDATE invoices SET amount_paid = 119, state = 'paid' WHERE id = 1",
        [],
    )
    .unwrap();
    assert!(
        c.execute("INSERT INTO price_list (id, currency, internal_monthly_minor, internal_yearly_minor, external_monthly_minor, external_yearly_minor, payment_terms_days, renewal_days_before, dunning_grace_days, updated_at, updated_by) VALUES (2, 'EUR', 1, 1, 1, 1, 1, 1, 1, 't', 'x')", [])
            .is_err(),
        "one price list"
    );
}

/// Step 12, subscriptions that bill themselves: existing subscriptions have no anchor
/// yet and no invoice says what it pays for; a purpose is one of three.
#[test]
fn step_12_subscription_billing() {
    let c = upgrade_from(11);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM subscription_invoices"), 0);
    assert_eq!(
        count("SELECT count(*) FROM subscriptions WHERE anchor_date IS NULL"),
        1
    );
    assert!(
        c.execute("INSERT INTO subscription_invoices (invoice_id, subscription_id, purpose, internal_users, external_users, period_start, period_end) VALUES (1, 1, 'gift', 1, 0, 'a', 'b')", [])
            .is_err(),
        "a purpose is purchase, renewal or upgrade"
    );
    c.execute("INSERT INTO subscription_invoices (invoice_id, subscription_id, purpose, internal_users, external_users, period_start, period_end) VALUES (1, 1, 'renewal', 1, 0, 'a', 'b')", [])
        .unwrap();
}

/// Step 13, air-gapped appliances: activations keep their rows and ids through the
/// rebuild (and what points at them still does), and may now end `released`; licenses
/// have no offline lease and no bundle yet; a request nonce is answered once and a
/// report seq kept once per license and box.
#[test]
fn step_13_air_gapped_appliances() {
    let c = upgrade_from(12);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM activations"), 3);
    assert_eq!(
        count("SELECT count(*) FROM client_certs cc JOIN activations a ON a.id = cc.activation_id"),
        count("SELECT count(*) FROM client_certs")
    );
    assert_eq!(count("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    assert_eq!(
        count("SELECT count(*) FROM licenses WHERE offline_until IS NULL AND bundle_seq = 0"),
        count("SELECT count(*) FROM licenses")
    );
    c.execute(
        "UPDATE activations SET superseded_at = 't', superseded_reason = 'released' WHERE id = 2",
        [],
    )
    .unwrap();
    assert!(
        c.execute(
            "UPDATE activations SET superseded_reason = 'lost' WHERE id = 2",
            []
        )
        .is_err(),
        "a reason is one of four"
    );
    assert!(
        c.execute("DELETE FROM activations WHERE id = 2", [])
            .is_err(),
        "foreign keys still point at activations"
    );
    let offline = |id: i64, nonce: &str| {
        c.execute(
            "INSERT INTO offline_activations (activation_id, license_id, fingerprint, appliance_key, appliance_kid, request_nonce, created_at, response_deadline, lease_expires_at, license_key) VALUES (?1, 'L1', 'box-b', '{}', 'k', ?2, 't', 't', 't', 'key')",
            rusqlite::params![id, nonce],
        )
    };
    offline(2, "n1").unwrap();
    assert!(
        offline(1, "n1").is_err(),
        "a request nonce is answered once"
    );
    let report = || {
        c.execute(
            "INSERT INTO usage_reports (license_id, fingerprint, report_seq, report_hash, prev_report, period_start, period_end, peak_internal, peak_external, daily, rollbacks, received_at, received_by) VALUES ('L1', 'box-b', 1, 'h', '', 'a', 'b', 1, 0, '[]', '[]', 't', 'x')",
            [],
        )
    };
    report().unwrap();
    assert!(report().is_err(), "one report per (license, box, seq)");
}

#[test]
fn step_14_heartbeat_chain() {
    let c = upgrade_from(13);
    let rows = |sql: &str| -> Vec<(i64, Option<i64>)> {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    // Each license's heartbeats chained in id order; the head of each chain (kept by its
    // activations until step 16, by its license since) is its newest.
    assert_eq!(
        rows("SELECT id, prev_id FROM heartbeats ORDER BY id"),
        [(1, None), (2, Some(1)), (3, Some(2))]
    );
    assert_eq!(heads(&c), [("L1".into(), Some(3)), ("L2".into(), None)]);
    assert!(
        !names(&c, "index").contains(&"heartbeats_license".to_owned()),
        "the history table has no secondary index"
    );
}

/// How SQLite would run `sql`: the detail of each step of its query plan.
fn plan(c: &Connection, sql: &str) -> Vec<String> {
    c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// SQLite's plan for `sql` reads `index`.
fn assert_reads(c: &Connection, sql: &str, index: &str) {
    let steps = plan(c, sql);
    assert!(
        steps.iter().any(|p| p.contains(index)),
        "{index}: {steps:?}"
    );
}

/// A table's column names, in order.
fn columns(c: &Connection, table: &str) -> Vec<String> {
    c.prepare("SELECT name FROM pragma_table_info(?1)")
        .unwrap()
        .query_map([table], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// The state rows as the tests of steps 17 to 21 read them: by their license's id, and
/// when each was heard from as licd's text. Since step 25 they are kept by the license's
/// number, the time as microseconds.
const STATE: &str = "(SELECT l.id AS license_id, h.*,
        strftime('%Y-%m-%dT%H:%M:%S.', h.last_seen_at / 1000000, 'unixepoch')
            || printf('%06dZ', h.last_seen_at % 1000000) AS seen_text
    FROM heartbeat_state h JOIN licenses l ON l.no = h.license_no)";

/// The head of each license's heartbeat chain, by license (L1 and L2: those of the
/// seeds' licenses that have activations).
fn heads(c: &Connection) -> Vec<(String, Option<i64>)> {
    c.prepare(
        "SELECT l.id, h.last_heartbeat_id FROM licenses l
         LEFT JOIN heartbeat_state h ON h.license_no = l.no
         WHERE l.id IN ('L1', 'L2') ORDER BY l.id",
    )
    .unwrap()
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

#[test]
fn step_16_heartbeat_head_on_license() {
    // The head kept by L1's activations (heartbeat 4 since version 14) moves to L1.
    let c = upgrade_from(15);
    assert_eq!(heads(&c), [("L1".into(), Some(4)), ("L2".into(), None)]);
    let columns = columns(&c, "activations");
    assert!(
        !columns.contains(&"last_heartbeat_id".to_owned()),
        "the head is kept once, in the license row: {columns:?}"
    );
    // The organizations' soonest expiry is one index range: L1 (Acme's, in force)
    // is found, not the licenses of no organization.
    assert_reads(
        &c,
        "SELECT min(expires_at) FROM licenses
         INDEXED BY licenses_organization_live_expiry
         WHERE organization_id IS NOT NULL AND state NOT IN ('revoked', 'expired')
         AND expires_at > 1767225600000000",
        "licenses_organization_live_expiry",
    );
    let soonest: Option<i64> = c
        .query_row(
            "SELECT min(expires_at) FROM licenses INDEXED BY licenses_organization_live_expiry
             WHERE organization_id IS NOT NULL AND state NOT IN ('revoked', 'expired')
             AND expires_at > 1767225600000000",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // 2027-01-01T00:00:00Z (a license's times are microseconds since step 24).
    assert_eq!(soonest, Some(1_798_761_600_000_000));
}

/// Step 17: what a heartbeat changes moves to `heartbeat_state`, one row per license:
/// L1's last-seen instant and chain head go there; L2 and L4, never heard from, get an
/// empty row; each row knows whether its license is active, and keeps knowing; the
/// activations keep their own lease chains; the license row keeps neither column; the
/// index and the daily count of appliances heard from work on the state rows.
#[test]
fn step_17_heartbeat_state() {
    let c = upgrade_from(16);
    type StateRow = (String, Option<String>, Option<i64>, Option<i64>, i64);
    let state = |c: &Connection| -> Vec<StateRow> {
        c.prepare(&format!(
            "SELECT license_id, seen_text, last_heartbeat_id, activation_id, active
             FROM {STATE} ORDER BY license_id",
        ))
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    let l1_seen = Some("2026-01-06T09:00:00.000000Z".to_owned());
    assert_eq!(
        state(&c),
        [
            ("L1".to_owned(), l1_seen.clone(), Some(5), None, 1),
            ("L2".to_owned(), None, None, None, 0),
            ("L4".to_owned(), None, None, None, 0)
        ]
    );
    let columns = columns(&c, "licenses");
    assert!(
        !columns.contains(&"last_heartbeat_id".to_owned())
            && !columns.contains(&"last_seen_at".to_owned()),
        "{columns:?}"
    );
    let chains: Vec<(i64, i64, String)> = c
        .prepare("SELECT id, last_seq, last_lease_hash FROM activations ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        chains,
        [
            (1, 5, "lh1".to_owned()),
            (2, 2, "lh2".to_owned()),
            (3, 1, String::new())
        ]
    );
    // The partial index orders active licenses by when they were heard from (by the
    // day since step 21).
    assert_reads(
        &c,
        "SELECT count(*) FROM heartbeat_state INDEXED BY heartbeat_state_active_day
         WHERE active = 1 AND seen_day <= 20485 AND last_seen_at < 1769904000000000",
        "heartbeat_state_active_day",
    );
    // A license made later gets its row; one that stops being active, and starts again,
    // is followed.
    c.execute_batch(
        "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
           expires_at, issued_at, signed_by, state)
         VALUES ('L5', 'n', 'I1', 1, 0, 't', 't', '2026-01-20T12:00:00.000000Z', 1, 'issued');
         UPDATE licenses SET state = 'locked' WHERE id = 'L1';
         UPDATE licenses SET state = 'active' WHERE id = 'L2';",
    )
    .unwrap();
    assert_eq!(
        state(&c),
        [
            ("L1".to_owned(), l1_seen, Some(5), None, 0),
            ("L2".to_owned(), None, None, None, 1),
            ("L4".to_owned(), None, None, None, 0),
            ("L5".to_owned(), None, None, None, 0)
        ]
    );
    // Heard from again the same day, then on a new day: one more appliance that day,
    // counted once.
    let day = |d: &str| -> i64 {
        c.query_row(
            "SELECT coalesce((SELECT appliances FROM fleet_appliance_days WHERE day = ?1), 0)",
            [d],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (on_6th, on_20th) = (day("2026-01-06"), day("2026-01-20"));
    c.execute_batch(
        "UPDATE heartbeat_state SET last_seen_at = 1767693600000000 WHERE license_no = (SELECT no FROM licenses WHERE id = 'L1');
         UPDATE heartbeat_state SET last_seen_at = 1768896000000000 WHERE license_no = (SELECT no FROM licenses WHERE id = 'L1');
         UPDATE heartbeat_state SET last_seen_at = 1768899600000000 WHERE license_no = (SELECT no FROM licenses WHERE id = 'L1');",
    )
    .unwrap();
    assert_eq!(day("2026-01-06"), on_6th);
    assert_eq!(day("2026-01-20"), on_20th + 1);
}

/// Step 18: the state row keeps a digest of the credential last accepted for the
/// activation it holds the chain of. Upgraded rows have none (a heartbeat's first visit
/// goes the long way); any change to an activation of the license clears it, and so
/// does removing one; another license's digest stays.
#[test]
fn step_18_heartbeat_credential() {
    let c = upgrade_from(17);
    let digests = |c: &Connection| -> Vec<(String, Option<Vec<u8>>)> {
        c.prepare(&format!(
            "SELECT license_id, credential_digest FROM {STATE} ORDER BY license_id"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    assert!(
        digests(&c).iter().all(|(_, d)| d.is_none()),
        "{:?}",
        digests(&c)
    );
    let set = "UPDATE heartbeat_state SET credential_digest = x'01' WHERE license_no = (SELECT no FROM licenses WHERE id = 'L1');
               UPDATE heartbeat_state SET credential_digest = x'04' WHERE license_no = (SELECT no FROM licenses WHERE id = 'L4');";
    let held = |c: &Connection| -> Vec<String> {
        digests(c)
            .into_iter()
            .filter(|(_, d)| d.is_some())
            .map(|(l, _)| l)
            .collect()
    };
    // A lease chain moving to an activation's own row is no change to the activation.
    c.execute_batch(set).unwrap();
    c.execute_batch("UPDATE activations SET last_seq = 9, last_lease_hash = 'x' WHERE id = 4;")
        .unwrap();
    assert_eq!(held(&c), ["L1", "L4"]);
    // One no other row refers to, to remove.
    c.execute_batch(
        "INSERT INTO activations (id, license_no, fingerprint, secret_hash, created_at)
         SELECT 5, no, 'box-f', x'ac06', 1768867200000000 FROM licenses WHERE id = 'L4';",
    )
    .unwrap();
    for change in [
        "UPDATE activations SET superseded_at = '2026-01-20T00:00:00.000000Z', superseded_reason = 'rebind' WHERE id = 4;",
        "UPDATE activations SET fingerprint = 'box-e' WHERE id = 4;",
        "UPDATE activations SET secret_hash = x'ac05' WHERE id = 4;",
        "DELETE FROM activations WHERE id = 5;",
    ] {
        c.execute_batch(set).unwrap();
        c.execute_batch(change).unwrap();
        assert_eq!(held(&c), ["L1"], "{change}");
    }
}

/// Step 19: the state row keeps the stage of its installation's last assessment, for
/// the next heartbeat to reuse. Upgraded rows have none; the schema forgets it for every
/// license of an Install ID when the installation, or a license of it, changes in what
/// an assessment reads, and for every license when the licensing settings change.
/// Anything else keeps it, another installation's too.
#[test]
fn step_19_heartbeat_assessment() {
    let c = upgrade_from(18);
    let held = |c: &Connection| -> Vec<String> {
        c.prepare(&format!(
            "SELECT license_id FROM {STATE} WHERE assessed_at IS NOT NULL ORDER BY license_id",
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    assert!(held(&c).is_empty(), "{:?}", held(&c));
    // L5 and L6, on installation I2, to see it keep its own, and to remove.
    c.execute_batch(
        "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before, expires_at, issued_at, signed_by, state) VALUES
           ('L5', 'Plant 10', 'I2', 1, 0, '2026-01-12T00:00:00.000000Z', '2027-01-12T00:00:00.000000Z', '2026-01-12T09:00:00.000000Z', 1, 'issued'),
           ('L6', 'Plant 11', 'I2', 1, 0, '2026-01-12T00:00:00.000000Z', '2027-01-12T00:00:00.000000Z', '2026-01-12T09:00:00.000000Z', 1, 'issued');
         INSERT INTO installations (install_id, condition, stage, updated_at) VALUES ('I2', 'compliant', 'none', '2026-01-12T09:00:00.000000Z');",
    )
    .unwrap();
    let set = "UPDATE heartbeat_state SET assessed_at = 1768300000, assessed_until = NULL,
                   assessed_stage = 0
               WHERE license_no IN (SELECT no FROM licenses WHERE id IN ('L1', 'L4', 'L5'));";
    c.execute_batch(set).unwrap();
    assert_eq!(held(&c), ["L1", "L4", "L5"]);
    let kept = [
        "UPDATE heartbeat_state SET last_seen_at = 1768381200000000, last_seq = 4 WHERE license_no = (SELECT no FROM licenses WHERE id = 'L4');",
        "UPDATE licenses SET name = 'Plant 9b', revoke_reason = 'x' WHERE id = 'L4';",
        "UPDATE licenses SET suspend_note = 'checked' WHERE id = 'L2';",
        "INSERT INTO settings (key, value) VALUES ('enterprise', '{}');",
    ];
    for change in kept {
        c.execute_batch(change).unwrap();
        assert_eq!(held(&c), ["L1", "L4", "L5"], "{change}");
    }
    for change in [
        "UPDATE installations SET internal_users = 61 WHERE install_id = 'I1';",
        "UPDATE installations SET stage = 'users_warning' WHERE install_id = 'I1';",
        "UPDATE licenses SET state = 'revoked' WHERE id = 'L2';",
        "UPDATE licenses SET internal_users = 6 WHERE id = 'L2';",
        "UPDATE licenses SET expires_at = '2027-02-01T00:00:00.000000Z' WHERE id = 'L1';",
        "UPDATE licenses SET subscription_status = 'canceled' WHERE id = 'L2';",
        "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before, expires_at, issued_at, signed_by, state) VALUES
           ('L7', 'Plant 12', 'I1', 1, 0, '2026-01-12T00:00:00.000000Z', '2027-01-12T00:00:00.000000Z', '2026-01-12T09:00:00.000000Z', 1, 'issued');",
    ] {
        c.execute_batch(set).unwrap();
        c.execute_batch(change).unwrap();
        assert_eq!(held(&c), ["L5"], "{change}");
    }
    // A license moved from one installation to another: both forget.
    for change in [
        "UPDATE licenses SET install_id = 'I1' WHERE id = 'L6';",
        "UPDATE licenses SET install_id = 'I2' WHERE id = 'L6';",
    ] {
        c.execute_batch(set).unwrap();
        c.execute_batch(change).unwrap();
        assert!(held(&c).is_empty(), "{change}: {:?}", held(&c));
    }
    for change in [
        "DELETE FROM heartbeat_state WHERE license_no = (SELECT no FROM licenses WHERE id = 'L6'); DELETE FROM licenses WHERE id = 'L6';",
        "DELETE FROM installations WHERE install_id = 'I2';",
    ] {
        c.execute_batch(set).unwrap();
        c.execute_batch(change).unwrap();
        assert_eq!(held(&c), ["L1", "L4"], "{change}");
    }
    for change in [
        "INSERT INTO settings (key, value) VALUES ('licensing', '{}');",
        "UPDATE settings SET value = '{\"grace_days\":7}' WHERE key = 'licensing';",
    ] {
        c.execute_batch(set).unwrap();
        c.execute_batch(change).unwrap();
        assert!(held(&c).is_empty(), "{change}: {:?}", held(&c));
    }
}

/// Step 20: a key's `kid` and a license's `updated_at` are gone (their rows kept); the
/// list's index orders licenses by issue time alone (ties by rowid, which its entries
/// carry), the index by state holds only licenses that are not active, and the index of
/// starts only licenses issued to start after their issue; the list and the sweep's
/// query of starts use them, unsorted.
#[test]
fn step_20_leaner_licenses() {
    let c = upgrade_from(19);
    let definition = |name: &str| -> String {
        c.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    };
    for (index, ending) in [
        ("licenses_issued", "ON licenses(issued_at)"),
        ("licenses_not_before", "WHERE not_before > issued_at"),
        ("licenses_state", "WHERE state <> 'active'"),
    ] {
        assert!(definition(index).ends_with(ending), "{}", definition(index));
    }
    // A key's signing key is read from its header; a license's changes from its events.
    assert!(!columns(&c, "license_keys").contains(&"kid".to_owned()));
    assert!(!columns(&c, "licenses").contains(&"updated_at".to_owned()));
    // None of the upgraded licenses starts after its issue; one issued to does.
    let starting = |c: &Connection| -> Vec<String> {
        c.prepare(
            "SELECT id FROM licenses INDEXED BY licenses_not_before
             WHERE not_before > 0 AND not_before > issued_at ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    assert!(starting(&c).is_empty(), "{:?}", starting(&c));
    // Version 20's L5, as today's schema holds it (its signing key by number, step 23;
    // its times in microseconds, step 24: 2026-03-01, 2027-03-01, 2026-01-14T09:00).
    c.execute_batch(
        "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
           expires_at, issued_at, signed_by, state)
         VALUES ('L5', 'Plant 10', 'I1', 1, 0, 1772323200000000, 1803859200000000,
           1768381200000000, 1, 'issued');",
    )
    .unwrap();
    assert_eq!(starting(&c), ["L5"]);

    // The list, by issue time and (as `licenses::list` asks) in a state other than
    // active: each through its index, unsorted.
    for (index, sql) in [
        (
            "licenses_issued",
            "SELECT id FROM licenses WHERE issued_at < 1769904000000000
             ORDER BY issued_at DESC, rowid DESC LIMIT 10",
        ),
        (
            "licenses_state",
            "SELECT id FROM licenses WHERE state = 'revoked' AND state <> 'active'
             ORDER BY issued_at DESC, rowid DESC LIMIT 10",
        ),
    ] {
        let steps = plan(&c, sql);
        assert!(
            steps.iter().any(|p| p.contains(index))
                && !steps.iter().any(|p| p.contains("TEMP B-TREE")),
            "{steps:?}"
        );
    }
    assert_reads(
        &c,
        "SELECT min(not_before) FROM licenses WHERE not_before > 1767225600000000 AND not_before > issued_at",
        "licenses_not_before",
    );
}

/// Step 21: the index of active licenses by when they were heard from holds the day
/// (`seen_day`, filled from `last_seen_at`) instead of the instant. A trigger keeps the
/// day with the instant, and writes it only when the day changes: a heartbeat on the
/// same day as the last one moves nothing in the index. The sweep's queries use the
/// index.
#[test]
fn step_21_seen_day() {
    let c = upgrade_from(20);
    let days = |c: &Connection| -> Vec<(String, Option<String>, Option<i64>)> {
        c.prepare(&format!(
            "SELECT license_id, seen_text, seen_day FROM {STATE} ORDER BY license_id",
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    let seen = |at: &str, day: i64| (Some(at.to_owned()), Some(day));
    let row = |id: &str, (at, day): (Option<String>, Option<i64>)| (id.to_owned(), at, day);
    // 2026-01-06 and 2026-01-13: days 20,459 and 20,466 since 1970.
    assert_eq!(
        days(&c),
        [
            row("L1", seen("2026-01-06T09:00:00.000000Z", 20_459)),
            row("L2", (None, None)),
            row("L4", seen("2026-01-13T09:05:00.000000Z", 20_466)),
            row("L5", (None, None)),
        ]
    );
    let definition: String = c
        .query_row(
            "SELECT group_concat(sql) FROM sqlite_schema
             WHERE type = 'index' AND tbl_name = 'heartbeat_state' AND sql IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        definition,
        "CREATE INDEX heartbeat_state_active_day ON heartbeat_state(seen_day) WHERE active = 1"
    );

    // The day follows the instant; within a day only the instant is written (one row
    // changed, not two).
    let hear = |at: Option<&str>| -> i64 {
        let before = c
            .query_row("SELECT total_changes()", [], |r| r.get::<_, i64>(0))
            .unwrap();
        c.execute(
            "UPDATE heartbeat_state
             SET last_seen_at = unixepoch(?1) * 1000000 + CAST(substr(?1, 21, 6) AS INTEGER)
             WHERE license_no = (SELECT no FROM licenses WHERE id = 'L4')",
            [at],
        )
        .unwrap();
        c.query_row("SELECT total_changes()", [], |r| r.get::<_, i64>(0))
            .unwrap()
            - before
    };
    let l4 = |c: &Connection| days(c).into_iter().find(|r| r.0 == "L4").unwrap();
    assert_eq!(hear(Some("2026-01-13T23:59:59.999999Z")), 1);
    assert_eq!(
        l4(&c),
        row("L4", seen("2026-01-13T23:59:59.999999Z", 20_466))
    );
    // A new day: the day too, and the day's count of appliances heard from
    // (`fleet_appliance_days`, step 8).
    assert_eq!(hear(Some("2026-01-14T00:00:00.000000Z")), 3);
    assert_eq!(
        l4(&c),
        row("L4", seen("2026-01-14T00:00:00.000000Z", 20_467))
    );
    assert_eq!(hear(None), 2);
    assert_eq!(l4(&c), row("L4", (None, None)));
    // Version 21's seed, as it reads today.
    c.execute_batch(
        "UPDATE heartbeat_state SET last_seen_at = 1768473000000000, last_heartbeat_id = 7,
             last_seq = 4, last_lease_hash = 'lh4d'
         WHERE license_no = (SELECT no FROM licenses WHERE id = 'L4');",
    )
    .unwrap();
    assert_eq!(
        l4(&c),
        row("L4", seen("2026-01-15T10:30:00.000000Z", 20_468))
    );

    // The sweep's and `sweep_due`'s ranges, through the index.
    for sql in [
        "SELECT license_no FROM heartbeat_state INDEXED BY heartbeat_state_active_day
         WHERE active = 1 AND seen_day <= 20468 AND last_seen_at < 1768473600000000",
        "SELECT min(seen_day) FROM heartbeat_state WHERE active = 1 AND seen_day > 20468",
        "SELECT min(last_seen_at) FROM heartbeat_state WHERE active = 1 AND seen_day = 20468
           AND last_seen_at >= 1768472400000000",
    ] {
        assert_reads(&c, sql, "heartbeat_state_active_day");
    }
}

/// Step 22: no index of keys by license, of activations by secret, or of
/// installations beside their rows; every key still belongs to its license, in order.
#[test]
fn step_22_fewer_index_bytes() {
    let old = tenant_at(21);
    let owned: Vec<(i64, String)> = old
        .prepare("SELECT id, license_id FROM license_keys ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let c = upgrade_from(21);
    assert!(!columns(&c, "license_keys").contains(&"license_id".to_owned()));
    assert!(columns(&c, "licenses").contains(&"key_id".to_owned()));

    // Each key belongs to the license it belonged to, found from the license.
    let now_owned: Vec<(i64, String)> = c
        .prepare(&format!(
            "{KEY_OWNERS} SELECT id, license_id FROM owners ORDER BY id"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(now_owned, owned);
    // A license names its newest key, and each key the license's key before it.
    let links: Vec<(String, Option<i64>)> = c
        .prepare("SELECT id, key_id FROM licenses ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let newest = |l: &str| owned.iter().filter(|(_, o)| o == l).map(|(k, _)| *k).max();
    for (license, key) in &links {
        assert_eq!(*key, newest(license), "{license}");
    }
    for (key, license) in &owned {
        let prev: Option<i64> = c
            .query_row(
                "SELECT prev_id FROM license_keys WHERE id = ?1",
                [key],
                |r| r.get(0),
            )
            .unwrap();
        let expected = owned
            .iter()
            .filter(|(k, o)| o == license && k < key)
            .map(|(k, _)| *k)
            .max();
        assert_eq!(prev, expected, "key {key}");
    }

    // The indexes: none of keys, none of secrets, none beside the installations.
    let indexes = |table: &str| -> Vec<String> {
        c.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 ORDER BY name",
        )
        .unwrap()
        .query_map([table], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    assert!(indexes("license_keys").is_empty());
    assert_eq!(indexes("activations"), ["activations_license"]);
    assert_eq!(indexes("installations"), ["installations_violation"]);
    let installations: String = c
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'installations'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(installations.ends_with("WITHOUT ROWID"), "{installations}");
    assert_reads(
        &c,
        "SELECT a.id FROM activations a
         WHERE a.license_no = (SELECT no FROM licenses WHERE id = 'L4') AND a.secret_hash = x'ac04'",
        "activations_license",
    );

    // The triggers of the rebuilt tables work as before: an activation's change clears
    // its license's credential digest; an installation's change clears the assessments
    // of its licenses and moves its stage's count.
    let digest = |c: &Connection| -> Option<Vec<u8>> {
        c.query_row(
            "SELECT credential_digest FROM heartbeat_state WHERE license_no = (SELECT no FROM licenses WHERE id = 'L4')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(digest(&c), Some(vec![0xd4, 0xd4]));
    c.execute(
        "UPDATE activations SET hostname = 'd.example' WHERE id = 4",
        [],
    )
    .unwrap();
    assert_eq!(
        digest(&c),
        Some(vec![0xd4, 0xd4]),
        "not a credential's change"
    );
    c.execute(
        "UPDATE activations SET fingerprint = 'box-e' WHERE id = 4",
        [],
    )
    .unwrap();
    assert_eq!(digest(&c), None);
    let assessed = |c: &Connection| -> Option<i64> {
        c.query_row(
            "SELECT assessed_at FROM heartbeat_state WHERE license_no = (SELECT no FROM licenses WHERE id = 'L4')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    c.execute(
        "UPDATE heartbeat_state SET assessed_at = 1768300000
         WHERE license_no = (SELECT no FROM licenses WHERE id = 'L4')",
        [],
    )
    .unwrap();
    assert_eq!(assessed(&c), Some(1_768_300_000));
    let stages = |c: &Connection| -> Vec<(String, i64)> {
        c.prepare("SELECT stage, installations FROM fleet_installation_stages WHERE installations > 0 ORDER BY stage")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let before = stages(&c);
    let stage_of_i1: String = c
        .query_row(
            "SELECT stage FROM installations WHERE install_id = 'I1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let to = if stage_of_i1 == "read_only" {
        "none"
    } else {
        "read_only"
    };
    c.execute(
        "UPDATE installations SET stage = ?1 WHERE install_id = 'I1'",
        [to],
    )
    .unwrap();
    assert_eq!(assessed(&c), None);
    let after = stages(&c);
    let count =
        |v: &[(String, i64)], s: &str| v.iter().find(|(n, _)| n == s).map_or(0, |(_, k)| *k);
    assert_eq!(count(&after, to), count(&before, to) + 1);
    assert_eq!(
        count(&after, &stage_of_i1),
        count(&before, &stage_of_i1) - 1
    );
    c.execute(
        "INSERT INTO installations (install_id, updated_at) VALUES ('I9', 't')",
        [],
    )
    .unwrap();
    assert_eq!(count(&stages(&c), "none"), count(&after, "none") + 1);
    // Kept by its id: a second row of the same id is refused.
    assert!(
        c.execute(
            "INSERT INTO installations (install_id, updated_at) VALUES ('I9', 't')",
            []
        )
        .is_err()
    );
}

/// Step 23: a license names its signing key by the key's number; a license naming a
/// key licd does not have stops the upgrade instead of losing its `kid`.
#[test]
fn step_23_signed_by_number() {
    let mut c = tenant_at(22);
    c.execute_batch(
        "INSERT INTO signing_keys (kid, status, public_jwk, sealed_private, created_at) VALUES
           ('k0', 'retired', '{}', x'5e00', '2025-12-01T09:00:00.000000Z');
         UPDATE licenses SET kid = 'k0' WHERE id = 'L2';",
    )
    .unwrap();
    let before: Vec<(String, String)> = c
        .prepare("SELECT id, kid FROM licenses ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        bring_up_to_date(&mut c, &TENANT, Path::new("old.db")).unwrap(),
        Outcome::Upgraded { from: 22 }
    );
    assert!(!columns(&c, "licenses").contains(&"kid".to_owned()));
    // Numbered oldest first: k0 (made before k1) is 1.
    let numbers: Vec<(String, i64)> = c
        .prepare("SELECT kid, no FROM signing_keys ORDER BY no")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(numbers, [("k0".to_owned(), 1), ("k1".to_owned(), 2)]);
    // Each license's `kid`, read back through its number as `licenses::COLUMNS` does.
    let after: Vec<(String, String)> = c
        .prepare(
            "SELECT l.id, (SELECT kid FROM signing_keys WHERE no = l.signed_by)
             FROM licenses l ORDER BY l.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(after, before);
    assert_reads(
        &c,
        "SELECT l.id FROM licenses l WHERE l.signed_by = (SELECT no FROM signing_keys WHERE kid = 'k1')
             AND l.state NOT IN ('revoked', 'expired') ORDER BY l.issued_at, l.rowid LIMIT 10",
        "licenses_signed_by",
    );
    // A number names a signing key licd has.
    assert!(
        c.execute("UPDATE licenses SET signed_by = 9 WHERE id = 'L1'", [])
            .is_err()
    );

    // A license whose `kid` names no signing key (written with foreign keys off).
    let c = stops_at(
        22,
        "UPDATE licenses SET kid = 'gone' WHERE id = 'L1'",
        "a_license_names_an_unknown_signing_key",
    );
    assert_text(&c, "SELECT kid FROM licenses WHERE id = 'L1'", "gone");
}

/// A tenant at `version` with `edit` made by hand (foreign keys off, as such an edit may
/// have been made): its upgrade stops at the named `constraint` and leaves it at
/// `version`. Returned for the caller to see its rows as they were.
fn stops_at(version: i64, edit: &str, constraint: &str) -> Connection {
    let mut c = tenant_at(version);
    c.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; {edit}; PRAGMA foreign_keys = ON;"
    ))
    .unwrap();
    let err = bring_up_to_date(&mut c, &TENANT, Path::new("old.db")).unwrap_err();
    assert!(err.to_string().contains(constraint), "{edit}: {err}");
    assert_eq!(user_version(&c).unwrap(), version);
    c
}

/// The one text value `sql` reads is `want` (a value a stopped upgrade left as it was).
fn assert_text(c: &Connection, sql: &str, want: &str) {
    let got: String = c.query_row(sql, [], |r| r.get(0)).unwrap();
    assert_eq!(got, want, "{sql}");
}

/// Reads `columns` of `table` in a database before (`old`) and after (`new`) an upgrade,
/// row by row in the order of `key` (an expression): `key` is kept, each text time has
/// become the microseconds of its instant (`store::micros`), each NULL stayed NULL.
/// Returns how many times were compared.
fn times_became_micros(
    old: &Connection,
    new: &Connection,
    table: &str,
    key: &str,
    columns: &[&str],
) -> usize {
    use rusqlite::types::Value;
    let read = |c: &Connection| -> Vec<(Value, Vec<Value>)> {
        c.prepare(&format!(
            "SELECT {key}, {} FROM {table} ORDER BY {key}",
            columns.join(", ")
        ))
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                (1..=columns.len())
                    .map(|i| r.get(i))
                    .collect::<Result<_, _>>()?,
            ))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    let (before, after) = (read(old), read(new));
    assert_eq!(before.len(), after.len(), "{table}");
    let mut compared = 0;
    for ((k, texts), (k_now, now)) in before.iter().zip(&after) {
        assert_eq!(k, k_now, "{table}: {key} kept");
        for ((text, value), column) in texts.iter().zip(now).zip(columns) {
            match (text, value) {
                (Value::Null, Value::Null) => {}
                (Value::Text(t), Value::Integer(v)) => {
                    let instant = chrono::DateTime::parse_from_rfc3339(t).unwrap();
                    assert_eq!(*v, instant.timestamp_micros(), "{table}.{column}: {t}");
                    compared += 1;
                }
                other => panic!("{table} {k:?}.{column}: {other:?}"),
            }
        }
    }
    compared
}

/// Step 24: a license's times as microseconds, each the instant its text named; rows
/// keep their rowids, the table its indexes and triggers; a time not in licd's form
/// stops the upgrade with every row as it was.
#[test]
fn step_24_license_times_as_integers() {
    const TIMES: [&str; 7] = [
        "not_before",
        "expires_at",
        "issued_at",
        "activated_at",
        "subscription_period_end",
        "revoked_at",
        "offline_until",
    ];
    let objects_of = |c: &Connection| -> Vec<(String, String)> {
        c.prepare(
            "SELECT type, name FROM sqlite_schema WHERE tbl_name = 'licenses' ORDER BY type, name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    let old = tenant_at(23);
    let c = upgrade_from(23);
    // Each license keeps its rowid (the list's order of licenses issued in one instant).
    let set = times_became_micros(&old, &c, "licenses", "rowid || ' ' || id", &TIMES);
    assert!(set >= 12, "{set} times compared");
    assert_eq!(objects_of(&c), objects_of(&old), "indexes and triggers");

    // A license issued now counts on its day.
    let issued_on = |c: &Connection, day: &str| -> i64 {
        c.query_row(
            "SELECT coalesce((SELECT issued FROM fleet_license_days WHERE day = ?1), 0)",
            [day],
            |r| r.get(0),
        )
        .unwrap()
    };
    let before_day = issued_on(&c, "2026-01-20");
    c.execute(
        "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
           expires_at, issued_at, signed_by, state)
         VALUES ('L8', 'n', 'I1', 1, 0, 1768910400000000, 1800446400000000, 1768910400000000, 1,
           'issued')",
        [],
    )
    .unwrap();
    assert_eq!(issued_on(&c, "2026-01-20"), before_day + 1);
    assert_reads(
        &c,
        "SELECT id FROM licenses WHERE state NOT IN ('revoked', 'expired') AND expires_at <= 1800000000000000",
        "licenses_live_expiry",
    );

    // A time in another form (written by hand): the upgrade stops, nothing changed.
    let c = stops_at(
        23,
        "UPDATE licenses SET revoked_at = '2026-01-05T09:00:00Z' WHERE id = 'L2'",
        "a_license_time_is_not_in_licds_form",
    );
    assert_text(
        &c,
        "SELECT revoked_at FROM licenses WHERE id = 'L2'",
        "2026-01-05T09:00:00Z",
    );
}

/// Step 25: each license has a number, the rowid it had; its state row is kept by that
/// number and its activations name it, its appliance's last heartbeat time is the
/// microseconds of its instant; the triggers that keep the state rows work on numbers; a
/// time not in licd's form, or a state row or activation of no license, stops the
/// upgrade with every row as it was.
#[test]
fn step_25_license_numbers() {
    use rusqlite::types::Value;
    let old = tenant_at(24);
    let c = upgrade_from(24);
    let numbers = |c: &Connection, sql: &str| -> Vec<(i64, String)> {
        c.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let was = numbers(&old, "SELECT rowid, id FROM licenses ORDER BY id");
    assert_eq!(
        numbers(&c, "SELECT no, id FROM licenses ORDER BY id"),
        was,
        "each license numbered by its rowid"
    );
    assert_eq!(
        numbers(
            &c,
            "SELECT h.license_no, l.id FROM heartbeat_state h JOIN licenses l ON l.no = h.license_no
             ORDER BY l.id"
        ),
        was,
        "each license keeps its one state row"
    );
    // Each activation keeps its id and names its license's number.
    assert_eq!(
        numbers(
            &c,
            "SELECT a.id, l.id FROM activations a JOIN licenses l ON l.no = a.license_no ORDER BY a.id"
        ),
        numbers(&old, "SELECT id, license_id FROM activations ORDER BY id"),
    );
    // The same view of when each was heard from, in both shapes.
    old.execute_batch(
        "CREATE TEMP VIEW heard AS SELECT license_id AS id, last_seen_at FROM heartbeat_state",
    )
    .unwrap();
    c.execute_batch(
        "CREATE TEMP VIEW heard AS SELECT l.id, h.last_seen_at
         FROM heartbeat_state h JOIN licenses l ON l.no = h.license_no",
    )
    .unwrap();
    let set = times_became_micros(&old, &c, "heard", "id", &["last_seen_at"]);
    assert!(set >= 2, "{set} times compared");

    // The triggers, on numbers. A license issued gets its state row.
    let no_of = |id: &str| -> i64 {
        c.query_row("SELECT no FROM licenses WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    let state = |id: &str, column: &str| -> Value {
        c.query_row(
            &format!("SELECT {column} FROM heartbeat_state WHERE license_no = ?1"),
            [no_of(id)],
            |r| r.get(0),
        )
        .unwrap()
    };
    c.execute(
        "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
           expires_at, issued_at, signed_by, state)
         VALUES ('L8', 'n', 'I3', 1, 0, 1768910400000000, 1800446400000000, 1768910400000000, 2,
           'active')",
        [],
    )
    .unwrap();
    assert!(no_of("L8") > was.iter().map(|(n, _)| *n).max().unwrap());
    assert_eq!(state("L8", "active"), Value::Integer(1));
    // Heard from on a new day (2026-01-20T09:00:00Z): its day, and the day's count.
    let appliances_on = |day: &str| -> i64 {
        c.query_row(
            "SELECT coalesce((SELECT appliances FROM fleet_appliance_days WHERE day = ?1), 0)",
            [day],
            |r| r.get(0),
        )
        .unwrap()
    };
    c.execute(
        "UPDATE heartbeat_state SET last_seen_at = 1768899600000000 WHERE license_no = ?1",
        [no_of("L5")],
    )
    .unwrap();
    assert_eq!(state("L5", "seen_day"), Value::Integer(1768899600 / 86400));
    assert_eq!(appliances_on("2026-01-20"), 1);
    c.execute(
        "UPDATE heartbeat_state SET last_seen_at = 1768903200000000 WHERE license_no = ?1",
        [no_of("L5")],
    )
    .unwrap();
    assert_eq!(appliances_on("2026-01-20"), 1, "counted once a day");
    c.execute("UPDATE licenses SET state = 'locked' WHERE id = 'L5'", [])
        .unwrap();
    assert_eq!(state("L5", "active"), Value::Integer(0));
    // The shortcuts go when what they stand for changes.
    c.execute(
        "UPDATE heartbeat_state SET credential_digest = x'd5', assessed_at = 1768899600000000
         WHERE license_no IN (?1, ?2)",
        [no_of("L4"), no_of("L8")],
    )
    .unwrap();
    c.execute(
        "UPDATE activations SET superseded_at = 1768899600000000 WHERE id = 4",
        [],
    )
    .unwrap();
    assert_eq!(state("L4", "credential_digest"), Value::Null);
    assert_eq!(state("L8", "credential_digest"), Value::Blob(vec![0xd5]));
    c.execute(
        "UPDATE installations SET internal_users = 4 WHERE install_id = 'I1'",
        [],
    )
    .unwrap();
    assert_eq!(state("L4", "assessed_at"), Value::Null);
    assert_ne!(
        state("L8", "assessed_at"),
        Value::Null,
        "another installation"
    );
    // The heartbeat's lookup by secret reads the license's activations by number.
    assert_reads(
        &c,
        "SELECT a.id FROM licenses l JOIN activations a ON a.license_no = l.no
         WHERE l.id = 'L4' AND a.secret_hash = x'ac04'",
        "activations_license",
    );
    // The sweep's query of appliances silent since a day reads the index of days.
    assert_reads(
        &c,
        "SELECT l.id FROM heartbeat_state h INDEXED BY heartbeat_state_active_day
         JOIN licenses l ON l.no = h.license_no
         WHERE h.active = 1 AND h.seen_day <= 20470 AND h.last_seen_at < 1768600000000000",
        "heartbeat_state_active_day",
    );

    // A time in another form (written by hand): the upgrade stops, nothing changed.
    let c = stops_at(
        24,
        "UPDATE heartbeat_state SET last_seen_at = '2026-01-15 10:30' WHERE license_id = 'L4'",
        "a_heard_time_is_not_in_licds_form",
    );
    assert_text(
        &c,
        "SELECT last_seen_at FROM heartbeat_state WHERE license_id = 'L4'",
        "2026-01-15 10:30",
    );

    // A state row or an activation whose license is gone (deleted by hand, foreign keys
    // off): it stops.
    for orphan in [
        "INSERT INTO heartbeat_state (license_id, active) VALUES ('gone', 0)",
        "INSERT INTO activations (license_id, fingerprint, secret_hash, created_at)
         VALUES ('gone', 'box-x', x'ac09', 1768640400000000)",
    ] {
        stops_at(24, orphan, "a_row_names_an_unknown_license");
    }
}

/// Step 22 also: the times of license keys, activations and installations as
/// microseconds, each the instant its text named, every row kept; a time not in licd's
/// form stops the upgrade with every row as it was.
#[test]
fn step_22_key_activation_and_installation_times_as_integers() {
    const TIMES: [(&str, &str, &[&str]); 3] = [
        ("license_keys", "id", &["issued_at", "superseded_at"]),
        ("activations", "id", &["created_at", "superseded_at"]),
        (
            "installations",
            "install_id",
            &["usage_at", "violation_since", "updated_at"],
        ),
    ];
    let old = tenant_at(21);
    let c = upgrade_from(21);
    let set: usize = TIMES
        .iter()
        .map(|(table, key, columns)| times_became_micros(&old, &c, table, key, columns))
        .sum();
    assert!(set >= 15, "{set} times compared");
    // The violation index, as the sweep's next-due query reads it.
    assert_reads(
        &c,
        "SELECT min(violation_since) FROM installations WHERE violation_since > 1767225600000000",
        "installations_violation",
    );

    // A time in another form (written by hand): the upgrade stops, nothing changed.
    let c = stops_at(
        21,
        "UPDATE activations SET superseded_at = '2026-01-05 09:00' WHERE id = 3",
        "a_time_is_not_in_licds_form",
    );
    assert_text(
        &c,
        "SELECT superseded_at FROM activations WHERE id = 3",
        "2026-01-05 09:00",
    );
}

/// A tenant at version 21 with a fleet of `n` more licenses, each with its key, an
/// activation its state row holds the chain of, an acknowledged directive, a bundle and
/// an installation: every row another table points at, and the rows that point at it.
fn fleet_at_21(n: i64) -> Connection {
    let c = tenant_at(21);
    c.execute_batch(&format!(
        "CREATE TEMP TABLE n AS WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
             SELECT i FROM s;
         INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
             expires_at, issued_at, kid, state)
         SELECT 'F' || i, 'n', 'FI' || i, 1, 0, '2026-01-01T00:00:00.000000Z',
             '2027-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', 'k1', 'active' FROM n;
         INSERT INTO license_keys (license_id, license_key, reason, issued_at, issued_by)
         SELECT 'F' || i, 'key.F' || i, 'issue', '2026-01-01T00:00:00.000000Z', 'cli' FROM n;
         INSERT INTO activations (license_id, fingerprint, secret_hash, created_at)
         SELECT 'F' || i, 'box', randomblob(32), '2026-01-02T00:00:00.000000Z' FROM n;
         UPDATE heartbeat_state SET activation_id =
             (SELECT a.id FROM activations a WHERE a.license_id = heartbeat_state.license_id)
         WHERE license_id LIKE 'F%';
         INSERT INTO directives (license_id, kind, message, created_at, created_by, acked_at, activation_id)
         SELECT license_id, 'message', 'm', created_at, 'staff:1', created_at, id
         FROM activations WHERE license_id LIKE 'F%';
         INSERT INTO license_bundles (license_id, bundle_seq, kind, activation_id, license_key, created_at, created_by)
         SELECT license_id, 1, 'renewal', id, 'key', created_at, 'staff:1'
         FROM activations WHERE license_id LIKE 'F%';
         INSERT INTO installations (install_id, updated_at)
         SELECT 'FI' || i, '2026-01-02T00:00:00.000000Z' FROM n;
         DROP TABLE n;"
    ))
    .unwrap();
    c
}

/// Upgrading a fleet takes work in proportion to it: no step checks each row against a
/// whole table. (Step 22 dropped `activations` with the state rows pointing at them and
/// no index to find those by: each activation's row read every state row, hours for
/// 100,000 activations.) Counted in SQLite's virtual machine instructions, not time.
#[test]
fn upgrading_a_fleet_takes_work_in_proportion_to_it() {
    let work = |n: i64| -> u64 {
        let mut c = fleet_at_21(n);
        let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = counted.clone();
        c.progress_handler(
            1000,
            Some(move || {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                false
            }),
        );
        assert_eq!(
            bring_up_to_date(&mut c, &TENANT, Path::new("fleet.db")).unwrap(),
            Outcome::Upgraded { from: 21 }
        );
        counted.load(std::sync::atomic::Ordering::Relaxed)
    };
    let (small, large) = (work(500), work(2_000));
    // Four times the fleet: about four times the work (sorting adds a little); a check
    // of each row against a whole table would be sixteen.
    assert!(
        large < small * 6,
        "{small} thousand instructions for 500 licenses, {large} thousand for 2,000"
    );
}

/// The license each key row belongs to, as `owners (id, license_id)`: since step 22 a
/// license names its current key and each key the one it replaced.
const KEY_OWNERS: &str = "WITH RECURSIVE owners (id, license_id) AS (
        SELECT key_id, id FROM licenses WHERE key_id IS NOT NULL
        UNION ALL
        SELECT k.prev_id, owners.license_id FROM owners JOIN license_keys k ON k.id = owners.id
        WHERE k.prev_id IS NOT NULL
    )";

/// Every key row as `(license, key, reason, issued by, superseded at)`, in id order
/// (times in microseconds since step 22).
fn key_rows(c: &Connection) -> Vec<(String, String, String, String, Option<i64>)> {
    let mut st = c
        .prepare(&format!(
            "{KEY_OWNERS} SELECT o.license_id, k.license_key, k.reason, k.issued_by,
                     k.superseded_at
                 FROM license_keys k JOIN owners o ON o.id = k.id ORDER BY k.id"
        ))
        .unwrap();
    st.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

#[test]
fn step_15_license_key_once() {
    let c = upgrade_from(14);
    let columns = columns(&c, "licenses");
    assert!(columns.contains(&"signed_by".to_owned()));
    assert!(
        !columns.contains(&"license_key".to_owned()),
        "the key is no longer in the license row: {columns:?}"
    );
    // Each license's newest key row is the key its row held (L1 renewed at version 7).
    let newest: Vec<(String, String)> = c
        .prepare(
            "SELECT l.id, k.license_key FROM licenses l JOIN license_keys k ON k.id = l.key_id
             ORDER BY l.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let pair = |l: &str, k: &str| (l.to_owned(), k.to_owned());
    assert_eq!(newest, [pair("L1", "key.L1.2"), pair("L2", "key.L2")]);

    // A license row whose key is not its newest key row (edited by hand): its key is
    // kept as its newest, and the key it replaces is superseded then.
    let mut c = tenant_at(14);
    c.execute_batch(
        "UPDATE licenses SET license_key = 'key.L2.hand', updated_at = '2026-01-09T09:00:00.000000Z'
         WHERE id = 'L2'",
    )
    .unwrap();
    assert_eq!(
        bring_up_to_date(&mut c, &TENANT, Path::new("old.db")).unwrap(),
        Outcome::Upgraded { from: 14 }
    );
    let at = |s: &str| {
        Some(
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_micros(),
        )
    };
    let row = |l: &str, k: &str, why: &str, by: &str, sup: Option<i64>| {
        (
            l.to_owned(),
            k.to_owned(),
            why.to_owned(),
            by.to_owned(),
            sup,
        )
    };
    assert_eq!(
        key_rows(&c),
        [
            row(
                "L1",
                "key.L1",
                "issue",
                "staff:1",
                at("2026-01-08T09:00:00.000000Z")
            ),
            row(
                "L2",
                "key.L2",
                "issue",
                "",
                at("2026-01-09T09:00:00.000000Z")
            ),
            row("L1", "key.L1.2", "renew", "staff:1", None),
            row("L2", "key.L2.hand", "reissue", "system", None),
        ]
    );
}

/// Today's version: a database at it opens as current, with its rows untouched.
#[test]
fn todays_version_is_left_alone() {
    let mut c = tenant_at(TENANT.version);
    let before = snapshot(&c);
    assert_eq!(
        bring_up_to_date(&mut c, &TENANT, Path::new("today.db")).unwrap(),
        Outcome::Current
    );
    assert_eq!(snapshot(&c), before);
}

/// Upgraded from any version, a database has exactly the schema of a fresh one.
#[test]
fn every_version_upgrades_to_the_schema_of_a_fresh_database() {
    let mut fresh = empty();
    assert_eq!(
        bring_up_to_date(&mut fresh, &TENANT, Path::new("fresh.db")).unwrap(),
        Outcome::Created
    );
    let fresh: Vec<Object> = objects(&fresh);
    for from in 1..TENANT.version {
        let c = upgrade_from(from);
        assert_eq!(objects(&c), fresh, "upgraded from {from}");
    }
}

/// The registry's step 1: tenants and the host names that route to them (any case).
#[test]
fn registry_step_1_tenants_and_domains() {
    let mut c = empty();
    assert_eq!(
        bring_up_to_date(&mut c, &REGISTRY, Path::new("registry.db")).unwrap(),
        Outcome::Created
    );
    c.execute_batch(
        "INSERT INTO tenants (schema_name, name, install_id, created_at) VALUES ('public', 'Main', 'I1', 't');
         INSERT INTO domains (domain, schema_name, created_at) VALUES ('licd.example.com', 'public', 't');",
    )
    .unwrap();
    let tenant: String = c
        .query_row(
            "SELECT schema_name FROM domains WHERE domain = 'LICD.Example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tenant, "public");
}

/// The registry's step 2: the registry-level audit chain and tenant states. A version-1
/// registry keeps its tenants (all `ready`) and domains; the audit table starts empty
/// and is append-only like a tenant's.
#[test]
fn registry_step_2_audit_and_tenant_state() {
    let mut c = empty();
    let (_, step1) = REGISTRY.numbered_steps().next().unwrap();
    c.execute_batch(step1.sql).unwrap();
    c.execute_batch(
        "INSERT INTO tenants (schema_name, name, install_id, created_at) VALUES ('public', 'Main', 'I1', 't');
         INSERT INTO domains (domain, schema_name, created_at) VALUES ('licd.example.com', 'public', 't');
         PRAGMA user_version = 1;",
    )
    .unwrap();
    assert_eq!(
        bring_up_to_date(&mut c, &REGISTRY, Path::new("registry.db")).unwrap(),
        Outcome::Upgraded { from: 1 }
    );
    let kept: (String, String) = c
        .query_row(
            "SELECT t.install_id, d.domain FROM tenants t JOIN domains d USING (schema_name)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kept, ("I1".to_owned(), "licd.example.com".to_owned()));
    let state: (String, Option<String>) = c
        .query_row("SELECT state, failure FROM tenants", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(state, ("ready".to_owned(), None));
    let err = c
        .execute("UPDATE tenants SET state = 'gone'", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("CHECK"), "{err}");
    c.execute_batch(
        "INSERT INTO audit_log (id, at, actor, action, target, details, prev_hash, hash)
         VALUES (1, 't', 'tenancy_key:ops', 'tenant.list', 'tenants', '{}', 'g', 'h1');",
    )
    .unwrap();
    for change in [
        "UPDATE audit_log SET actor = 'x' WHERE id = 1",
        "DELETE FROM audit_log WHERE id = 1",
    ] {
        let err = c.execute(change, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{change}: {err}");
    }
}

/// The registry's step 4: deletion states and the archive columns. A version-3 registry
/// keeps its tenants, their states and failures, its domains and its recovery keys (with
/// foreign keys on, rebuilding `tenants` must not cascade to them); the new states are
/// accepted.
#[test]
fn registry_step_4_tenant_archives() {
    let mut c = empty();
    let steps: Vec<_> = REGISTRY.numbered_steps().take(3).collect();
    for (_, step) in &steps {
        c.execute_batch(step.sql).unwrap();
    }
    c.execute_batch(
        "INSERT INTO tenants (schema_name, name, install_id, created_at, state) VALUES ('public', 'Main', 'I1', 't', 'ready');
         INSERT INTO tenants (schema_name, name, install_id, created_at, state, failure) VALUES ('t_x', 'X', 'I2', 't', 'failed', 'why');
         INSERT INTO domains (domain, schema_name, created_at) VALUES ('licd.example.com', 'public', 't');
         INSERT INTO recovery_keys (id, schema_name, email, secret_hash, created_at, expires_at) VALUES (7, 'public', 'a@example.com', x'0102', 't', 'u');
         PRAGMA user_version = 3;",
    )
    .unwrap();
    assert_eq!(
        bring_up_to_date(&mut c, &REGISTRY, Path::new("registry.db")).unwrap(),
        Outcome::Upgraded { from: 3 }
    );
    let key: (i64, String, Vec<u8>) = c
        .query_row(
            "SELECT id, email, secret_hash FROM recovery_keys",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(key, (7, "a@example.com".to_owned(), vec![1, 2]));
    let kept: (String, String) = c
        .query_row(
            "SELECT t.install_id, d.domain FROM tenants t JOIN domains d USING (schema_name)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kept, ("I1".to_owned(), "licd.example.com".to_owned()));
    let failed: (String, Option<String>) = c
        .query_row(
            "SELECT state, failure FROM tenants WHERE schema_name = 't_x'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(failed, ("failed".to_owned(), Some("why".to_owned())));
    for state in ["deleting", "deleted", "restoring"] {
        c.execute(
            "UPDATE tenants SET state = ?1, archive = 'deleted/t_x-1' WHERE schema_name = 't_x'",
            [state],
        )
        .unwrap();
    }
    // The domain table still cascades from its tenant.
    c.execute("DELETE FROM tenants WHERE schema_name = 'public'", [])
        .unwrap();
    let left: (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM domains), (SELECT count(*) FROM recovery_keys)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(left, (0, 0));
}

/// The registry's step 5: the schedule of closed tenants. A version-4 registry keeps its
/// tenants and has no schedule rows (so every tenant is due at the first sweep after the
/// upgrade); a row per tenant, replaced in place.
#[test]
fn registry_step_5_tenant_schedule() {
    let mut c = empty();
    for (_, step) in REGISTRY.numbered_steps().take(4) {
        c.execute_batch(step.sql).unwrap();
    }
    c.execute_batch(
        "INSERT INTO tenants (schema_name, name, install_id, created_at) VALUES ('public', 'Main', 'I1', 't'), ('t_a', 'A', 'I2', 't');
         PRAGMA user_version = 4;",
    )
    .unwrap();
    assert_eq!(
        bring_up_to_date(&mut c, &REGISTRY, Path::new("registry.db")).unwrap(),
        Outcome::Upgraded { from: 4 }
    );
    let (tenants, rows): (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM tenant_schedule)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((tenants, rows), (2, 0));
    c.execute_batch(
        "INSERT INTO tenant_schedule (schema_name, due_at) VALUES ('t_a', '2026-01-01T00:00:00.000000Z');",
    )
    .unwrap();
    let err = c
        .execute(
            "INSERT INTO tenant_schedule (schema_name, due_at) VALUES ('t_a', 'x')",
            [],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("UNIQUE"), "{err}");
}
