//! The payment gateway's route (`POST /api/v1/billing/payments`) over a real server with
//! real signed requests: the signature is computed here with `ring` as a gateway would
//! (not with licd's own signing code). A good signature pays the invoice as `gateway`;
//! bad, altered, stale and future signatures are refused; the same signed request twice
//! records one payment; a reused key with another payment is refused; partial payments
//! add up; either of two configured secrets works; without a secret the route is off.

use crate::billing_ledger::{draft, finalize, ok, org, set_prices};
use crate::harness::*;
use crate::portal_auth::audited;
use chrono::Duration;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A gateway secret (at least 32 characters).
pub(crate) const SECRET: &str = "gateway-secret-0123456789abcdefghij";
/// The next secret, while the first is rotated out.
const NEXT_SECRET: &str = "gateway-secret-next-9876543210zyxwvu";

/// A gateway secret file in `dir` holding `secrets` (mode 0600).
pub(crate) fn secret_file(dir: &Path, secrets: &[&str]) -> PathBuf {
    let file = dir.join("gateway.secret");
    std::fs::write(
        &file,
        format!("# the gateway's secrets\n{}\n", secrets.join("\n")),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

/// A server whose `billing.gateway_secret_file` holds `secrets`.
pub(crate) fn gateway_server(secrets: &[&str]) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), secrets);
    // The secrets are read when the server starts; the file may go after.
    TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.billing.gateway_secret_file = Some(file);
    })
}

/// `Licd-Signature` for `body` at unix time `t` with `secret`, as a gateway computes it.
fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(body);
    let mac = ring::hmac::sign(&key, &message);
    format!("t={t},v1={}", hex::encode(mac.as_ref()))
}

fn post(s: &TestServer, header: Option<&str>, body: &[u8]) -> RequestBuilder {
    let mut req = client()
        .post(s.url("/api/v1/billing/payments"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(h) = header {
        req = req.header("licd-signature", h);
    }
    req
}

/// `body` signed now (licd's clock) with `secret`.
pub(crate) fn signed(s: &TestServer, secret: &str, body: &[u8]) -> RequestBuilder {
    let h = signature(secret, s.clock.now_utc().timestamp(), body);
    post(s, Some(&h), body)
}

/// A confirmation of `amount` for invoice `number` under `key`.
fn confirmation(number: &str, amount: i64, key: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "tenant": "public", "invoice_number": number, "amount_minor": amount, "currency": "EUR",
        "received_on": "2026-06-02", "reference": "psp-tx-1", "idempotency_key": key,
        "method": "card",
    }))
    .unwrap()
}

/// A server with the gateway on and an open invoice of 1190.00 EUR: (server, id, number).
fn open_invoice(secrets: &[&str]) -> (TestServer, i64, String) {
    let s = gateway_server(secrets);
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let id = draft(&s, o);
    let number = finalize(&s, id)["number"].as_str().unwrap().to_owned();
    (s, id, number)
}

fn invoice(s: &TestServer, id: i64) -> Value {
    ok(s.client()
        .get(s.url(&format!("/api/v1/billing/invoices/{id}")))
        .bearer_auth(s.admin_token())
        .send()
        .unwrap())
}

fn unpaid(s: &TestServer, id: i64) {
    let inv = invoice(s, id);
    assert_eq!(inv["amount_paid"], 0, "{inv}");
    assert_eq!(inv["payments"].as_array().unwrap().len(), 0, "{inv}");
}

#[test]
fn a_signed_confirmation_pays_the_invoice_as_the_gateway() {
    let (s, id, number) = open_invoice(&[SECRET]);
    let r = ok(signed(&s, SECRET, &confirmation(&number, 119000, "psp-1"))
        .send()
        .unwrap());
    assert_eq!(r["became_paid"], true, "{r}");
    assert_eq!(r["repeated"], false);
    assert_eq!(r["invoice"]["state"], "paid");
    assert_eq!(r["payment"]["recorded_by"], "gateway");
    assert_eq!(r["payment"]["method"], "card");
    assert_eq!(r["payment"]["reference"], "psp-tx-1");
    assert_eq!(r["payment"]["idempotency_key"], "gateway:psp-1");
    assert_eq!(invoice(&s, id)["state"], "paid");
    let trail = audited(&s, &format!("invoice:{id}"));
    assert!(
        trail.contains(&("invoice.payment".to_owned(), "gateway".to_owned())),
        "{trail:?}"
    );
}

#[test]
fn bad_missing_and_altered_signatures_are_refused() {
    let (s, id, number) = open_invoice(&[SECRET]);
    let body = confirmation(&number, 119000, "psp-1");
    let now = s.clock.now_utc().timestamp();
    for header in [
        None,
        Some(String::new()),
        Some("nonsense".to_owned()),
        Some(format!("t={now}")),
        Some(format!("t={now},v1=zz")),
        Some(signature(NEXT_SECRET, now, &body)),
    ] {
        let r = post(&s, header.as_deref(), &body).send().unwrap();
        expect_problem(r, 401, "signature_invalid");
    }
    // The body altered after signing (another amount), and the time moved on an old MAC.
    let good = signature(SECRET, now, &body);
    let altered = confirmation(&number, 1, "psp-1");
    expect_problem(
        post(&s, Some(&good), &altered).send().unwrap(),
        401,
        "signature_invalid",
    );
    let moved = good.replacen(&now.to_string(), &(now + 1).to_string(), 1);
    expect_problem(
        post(&s, Some(&moved), &body).send().unwrap(),
        401,
        "signature_invalid",
    );
    // A staff token is no credential here, with or without a signature of its own.
    let r = post(&s, None, &body)
        .bearer_auth(s.admin_token())
        .send()
        .unwrap();
    expect_problem(r, 401, "signature_invalid");
    unpaid(&s, id);
}

#[test]
fn replays_are_refused_or_answer_the_first_payment() {
    let (s, id, number) = open_invoice(&[SECRET]);
    let body = confirmation(&number, 50000, "psp-1");
    let now = s.clock.now_utc().timestamp();
    // Outside the replay window (300 s by default), either way.
    for t in [now - 301, now + 301] {
        let p = expect_problem(
            post(&s, Some(&signature(SECRET, t, &body)), &body)
                .send()
                .unwrap(),
            401,
            "signature_expired",
        );
        assert!(p["detail"].as_str().unwrap().contains("300 seconds"), "{p}");
    }
    unpaid(&s, id);
    // The same signed request twice: one payment, the second answers it.
    let header = signature(SECRET, now - 300, &body);
    let first = ok(post(&s, Some(&header), &body).send().unwrap());
    assert_eq!(first["repeated"], false);
    let again = ok(post(&s, Some(&header), &body).send().unwrap());
    assert_eq!(again["repeated"], true);
    assert_eq!(again["payment"]["id"], first["payment"]["id"]);
    let inv = invoice(&s, id);
    assert_eq!(inv["amount_paid"], 50000);
    assert_eq!(inv["payments"].as_array().unwrap().len(), 1, "{inv}");
    // The same request later, once out of the window: refused before anything else.
    s.clock.advance(Duration::seconds(10));
    expect_problem(
        post(&s, Some(&header), &body).send().unwrap(),
        401,
        "signature_expired",
    );
}

#[test]
fn a_reused_key_with_another_payment_is_refused() {
    let (s, id, number) = open_invoice(&[SECRET]);
    ok(signed(&s, SECRET, &confirmation(&number, 50000, "psp-1"))
        .send()
        .unwrap());
    // Another amount, another reference, another method under the same key.
    let mut other_reference: Value =
        serde_json::from_slice(&confirmation(&number, 50000, "psp-1")).unwrap();
    other_reference["reference"] = json!("psp-tx-2");
    let mut other_method = other_reference.clone();
    other_method["reference"] = json!("psp-tx-1");
    other_method["method"] = json!("bank_transfer");
    for body in [
        confirmation(&number, 60000, "psp-1"),
        serde_json::to_vec(&other_reference).unwrap(),
        serde_json::to_vec(&other_method).unwrap(),
    ] {
        let r = signed(&s, SECRET, &body).send().unwrap();
        expect_problem(r, 409, "idempotency_key_reused");
    }
    assert_eq!(invoice(&s, id)["amount_paid"], 50000);
    // A staff key of the same name is another key (the gateway's have their own space).
    let staff = ok(s
        .client()
        .post(s.url(&format!("/api/v1/billing/invoices/{id}/payments")))
        .bearer_auth(s.admin_token())
        .json(&json!({"amount_minor": 1000, "received_on": "2026-06-02",
                      "idempotency_key": "psp-1"}))
        .send()
        .unwrap());
    assert_eq!(staff["repeated"], false);
}

#[test]
fn partial_payments_add_up_and_the_invoice_is_checked() {
    let (s, id, number) = open_invoice(&[SECRET]);
    let part = ok(signed(&s, SECRET, &confirmation(&number, 50000, "psp-1"))
        .send()
        .unwrap());
    assert_eq!(part["became_paid"], false);
    assert_eq!(part["invoice"]["amount_due"], 69000);
    // More than is left, another currency, an unknown invoice, no key, a wrong method.
    let too_much = confirmation(&number, 69001, "psp-2");
    expect_problem(
        signed(&s, SECRET, &too_much).send().unwrap(),
        422,
        "overpayment",
    );
    let mut usd: Value = serde_json::from_slice(&confirmation(&number, 100, "psp-3")).unwrap();
    usd["currency"] = json!("USD");
    let p = expect_problem(
        signed(&s, SECRET, &serde_json::to_vec(&usd).unwrap())
            .send()
            .unwrap(),
        422,
        "validation_failed",
    );
    assert!(p["detail"].as_str().unwrap().contains("EUR"), "{p}");
    expect_problem(
        signed(&s, SECRET, &confirmation("INV-2026-000999", 100, "psp-4"))
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    let mut no_key: Value = serde_json::from_slice(&confirmation(&number, 100, "x")).unwrap();
    no_key.as_object_mut().unwrap().remove("idempotency_key");
    expect_problem(
        signed(&s, SECRET, &serde_json::to_vec(&no_key).unwrap())
            .send()
            .unwrap(),
        422,
        "validation_failed",
    );
    let mut po: Value = serde_json::from_slice(&confirmation(&number, 100, "psp-5")).unwrap();
    po["method"] = json!("purchase_order");
    expect_problem(
        signed(&s, SECRET, &serde_json::to_vec(&po).unwrap())
            .send()
            .unwrap(),
        422,
        "validation_failed",
    );
    expect_problem(
        signed(&s, SECRET, b"{not json").send().unwrap(),
        400,
        "malformed_json",
    );
    // A confirmation signed for another tenant is refused here (no replay across tenants).
    let mut elsewhere: Value =
        serde_json::from_slice(&confirmation(&number, 100, "psp-x")).unwrap();
    elsewhere["tenant"] = json!("t_other");
    let p = expect_problem(
        signed(&s, SECRET, &serde_json::to_vec(&elsewhere).unwrap())
            .send()
            .unwrap(),
        422,
        "validation_failed",
    );
    assert!(p["detail"].as_str().unwrap().contains("t_other"), "{p}");
    // The rest, by the invoice's id this time: paid.
    let rest = serde_json::to_vec(&json!({
        "tenant": "public", "invoice_id": id, "amount_minor": 69000, "currency": "EUR",
        "received_on": "2026-06-03", "idempotency_key": "psp-6", "method": "bank_transfer",
    }))
    .unwrap();
    let paid = ok(signed(&s, SECRET, &rest).send().unwrap());
    assert_eq!(paid["became_paid"], true);
    assert_eq!(paid["invoice"]["state"], "paid");
    assert_eq!(paid["invoice"]["amount_paid"], 119000);
    // A paid invoice takes no more.
    expect_problem(
        signed(&s, SECRET, &confirmation(&number, 1, "psp-7"))
            .send()
            .unwrap(),
        409,
        "invoice_state",
    );
}

#[test]
fn either_of_two_secrets_works_while_one_is_rotated() {
    let (s, id, number) = open_invoice(&[SECRET, NEXT_SECRET]);
    let old = confirmation(&number, 10000, "psp-old");
    ok(signed(&s, SECRET, &old).send().unwrap());
    let new = confirmation(&number, 10000, "psp-new");
    ok(signed(&s, NEXT_SECRET, &new).send().unwrap());
    // A header with a MAC for each secret (as a gateway sends while rotating).
    let both_body = confirmation(&number, 10000, "psp-both");
    let now = s.clock.now_utc().timestamp();
    let mac = |secret| {
        signature(secret, now, &both_body)
            .split_once(",v1=")
            .unwrap()
            .1
            .to_owned()
    };
    let both = format!(
        "t={now},v1={},v1={}",
        mac("x".repeat(32).as_str()),
        mac(NEXT_SECRET)
    );
    ok(post(&s, Some(&both), &both_body).send().unwrap());
    assert_eq!(invoice(&s, id)["amount_paid"], 30000);
}

#[test]
fn the_body_is_limited_before_the_signature_is_checked() {
    let (s, id, _) = open_invoice(&[SECRET]);
    let big = vec![b' '; 65 * 1024];
    let r = signed(&s, SECRET, &big).send().unwrap();
    expect_problem(r, 413, "payload_too_large");
    unpaid(&s, id);
}

#[test]
fn without_a_secret_the_route_is_off() {
    let s = TestServer::start();
    let body = confirmation("INV-2026-000001", 100, "psp-1");
    for r in [
        post(&s, None, &body).send().unwrap(),
        signed(&s, SECRET, &body).send().unwrap(),
        post(&s, None, &body)
            .bearer_auth(s.admin_token())
            .send()
            .unwrap(),
    ] {
        let p = expect_problem(r, 404, "gateway_disabled");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("billing.gateway_secret_file"),
            "{p}"
        );
    }
}
