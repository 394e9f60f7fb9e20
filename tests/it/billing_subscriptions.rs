//! Subscriptions against real servers (HTTPS where it says so), real databases, a real
//! SMTP sink and the portal's forms: the seed's purchase from the Install ID to the key,
//! installed in a second licd that trusts the vendor's JWKS; purchase orders; partial
//! payments; renewals delivered to the appliance in its next lease; dunning to
//! suspension and back; cancel at period end and undo; upgrades whose preview is what
//! is charged; decreases at renewal; co-terming; gapless numbers under 50 concurrent
//! purchases; and who may see and do what.

use crate::harness::*;
use crate::licensing::{activate, directive_kinds, heartbeat, lease_of};
use crate::portal_auth::{
    Browser, PASSWORD, customer, location, mail_for, server, server_with, text_body,
};
use crate::smtp_sink::SmtpSink;
use chrono::{DateTime, Duration, Utc};
use licd::config::Signup;
use licd::service::organizations::{self, CustomerActor};
use licd::service::subscriptions::{self, PurchaseInput};
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};
use std::sync::Arc;

const OWNER: &str = "olga@acme.example";
const ORG_MAIL: &str = "ops@acme.example";
const INSTALL: &str = "install-7f3a";

fn api(s: &TestServer, method: Method, path: &str) -> reqwest::blocking::RequestBuilder {
    s.client()
        .request(method, s.url(path))
        .bearer_auth(s.admin_token())
}

#[track_caller]
fn ok(r: Response) -> Value {
    let status = r.status();
    let text = r.text().unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Yearly 100.00 EUR per internal and 50.00 per external user, monthly a tenth; 19 %
/// tax; at least 5 internal users; net 14; renewal invoices 30 days ahead; 14 days of
/// dunning.
fn set_prices(s: &TestServer, purchase_orders: bool) {
    ok(api(s, Method::PUT, "/api/v1/billing/price-list")
        .json(&json!({
            "currency": "EUR",
            "internal_monthly_minor": 1000, "internal_yearly_minor": 10000,
            "external_monthly_minor": 500, "external_yearly_minor": 5000,
            "min_internal_users": 5,
            "tax_rule": {"default_rate_bp": 1900, "rates_bp": {"AT": 2000}},
            "payment_terms_days": 14, "allow_purchase_order": purchase_orders,
            "bank_details": "Acme Licensing GmbH\nIBAN DE00 1234 5678 9012 3456 78",
            "renewal_days_before": 30, "dunning_grace_days": 14,
        }))
        .send()
        .unwrap());
}

/// A verified owner signed in, and their organization (made with the form).
fn owner_with_org(s: &TestServer) -> (Browser<'_>, i64) {
    customer(s, OWNER, true);
    let b = Browser::new(s);
    assert_eq!(b.sign_in(OWNER, PASSWORD).status(), 303);
    let r = b.post(
        "/portal/organizations/new",
        "/portal/organizations",
        &[("name", "Acme GmbH"), ("notification_email", ORG_MAIL)],
    );
    let to = location(&r);
    let org = to
        .trim_start_matches("/portal/organizations/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (b, org)
}

fn db(s: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap()
}

/// The owner as the services name them.
fn owner(s: &TestServer) -> CustomerActor {
    let id = db(s)
        .query_row("SELECT id FROM customers WHERE email = ?1", [OWNER], |r| {
            r.get(0)
        })
        .unwrap();
    CustomerActor {
        id,
        email: OWNER.into(),
    }
}

fn org_path(org: i64) -> String {
    format!("/portal/organizations/{org}")
}

/// *Continue* then *Pay and subscribe*; returns the checkout page and the answer.
fn purchase(b: &Browser<'_>, org: i64, fields: &[(&str, &str)]) -> (String, Response) {
    let from = format!("{}/purchase", org_path(org));
    let r = b.post(&from, &format!("{from}/checkout"), fields);
    let status = r.status();
    let checkout = r.text().unwrap();
    assert_eq!(status, 200, "{checkout}");
    (checkout, b.post(&from, &from, fields))
}

fn buy(b: &Browser<'_>, org: i64, install: &str, internal: &str, external: &str) -> Response {
    purchase(
        b,
        org,
        &[
            ("install_id", install),
            ("internal_users", internal),
            ("external_users", external),
            ("period", "yearly"),
        ],
    )
    .1
}

fn invoices_of(s: &TestServer, org: i64) -> Vec<Value> {
    let v = ok(api(
        s,
        Method::GET,
        &format!("/api/v1/billing/invoices?organization_id={org}"),
    )
    .send()
    .unwrap());
    v["items"].as_array().unwrap().clone()
}

/// The organization's newest invoice.
fn newest_invoice(s: &TestServer, org: i64) -> Value {
    invoices_of(s, org).into_iter().next().expect("an invoice")
}

fn pay(s: &TestServer, invoice: i64, amount: i64, key: &str) -> Value {
    ok(api(
        s,
        Method::POST,
        &format!("/api/v1/billing/invoices/{invoice}/payments"),
    )
    .json(
        &json!({"amount_minor": amount, "received_on": s.clock.now_utc().date_naive(),
                  "reference": format!("bank {key}"), "idempotency_key": key}),
    )
    .send()
    .unwrap())
}

fn subscriptions(s: &TestServer) -> Vec<Value> {
    ok(api(s, Method::GET, "/api/v1/billing/subscriptions")
        .send()
        .unwrap())["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn only_subscription(s: &TestServer) -> Value {
    let all = subscriptions(s);
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

fn license(s: &TestServer, id: &str) -> Value {
    ok(api(s, Method::GET, &format!("/api/v1/licenses/{id}"))
        .send()
        .unwrap())
}

/// Moves the clock and runs the scheduled jobs (billing runs with the sweep).
fn later(s: &TestServer, by: Duration) {
    s.clock.advance(by);
    licd::jobs::run_due(&s.app);
}

/// Signs the owner in again (a session ends after hours; the tests move days).
fn again(b: &Browser<'_>) {
    assert_eq!(b.sign_in(OWNER, PASSWORD).status(), 303);
}

fn day(t: &Value) -> String {
    t.as_str().unwrap()[..10].to_owned()
}

/// A purchase paid in full.
struct Paid {
    sub: Value,
    lic: Value,
    sid: i64,
    lic_id: String,
    /// The end of the paid period.
    end: DateTime<Utc>,
}

fn bought_and_paid(s: &TestServer, b: &Browser<'_>, org: i64) -> Paid {
    assert_eq!(buy(b, org, INSTALL, "10", "2").status(), 303);
    let inv = newest_invoice(s, org);
    pay(
        s,
        inv["id"].as_i64().unwrap(),
        inv["total_minor"].as_i64().unwrap(),
        "first",
    );
    let sub = only_subscription(s);
    let lic_id = sub["license_id"].as_str().unwrap().to_owned();
    Paid {
        lic: license(s, &lic_id),
        sid: sub["id"].as_i64().unwrap(),
        end: sub["current_period_end"].as_str().unwrap().parse().unwrap(),
        lic_id,
        sub,
    }
}

#[test]
fn the_seed_purchase_from_install_id_to_a_key_the_customers_own_licd_installs() {
    let sink = SmtpSink::start();
    let s = server_with(&sink, |c| {
        c.tls.enabled = true;
        c.portal.signup = Signup::InviteOnly;
    });
    assert!(s.base.starts_with("https://"));
    set_prices(&s, false);

    // The customer's own deployment: a second licd that trusts the vendor's JWKS.
    let jwks = s
        .client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let jwks_dir = tempfile::tempdir().unwrap();
    let jwks_path = jwks_dir.path().join("vendor.jwks.json");
    std::fs::write(&jwks_path, jwks).unwrap();
    let own = TestServer::start_in(tempfile::tempdir().unwrap(), move |c| {
        c.licensing.trusted_issuers = vec![jwks_path];
    });
    let install_id = own.app.tenants.public().unwrap().install_id.clone();

    let (b, org) = owner_with_org(&s);
    let page = b.page(&org_path(org));
    assert!(page.contains("Purchase license"), "{page}");
    let form = b.page(&format!("{}/purchase", org_path(org)));
    assert!(form.contains("Enterprise &gt; Licenses"), "{form}");

    // A bad Install ID and too few users are named; nothing is made.
    let from = format!("{}/purchase", org_path(org));
    let r = b.post(
        &from,
        &format!("{from}/checkout"),
        &[
            ("install_id", "bad id!"),
            ("internal_users", "10"),
            ("period", "yearly"),
        ],
    );
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("install_id: must be"));
    let r = b.post(
        &from,
        &format!("{from}/checkout"),
        &[
            ("install_id", &install_id),
            ("internal_users", "2"),
            ("period", "yearly"),
        ],
    );
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .unwrap()
            .contains("the minimum is 5 internal users")
    );
    assert!(subscriptions(&s).is_empty());

    // Continue: the checkout; Pay and subscribe: the seed's message.
    let (checkout, r) = purchase(
        &b,
        org,
        &[
            ("install_id", &install_id),
            ("internal_users", "10"),
            ("external_users", "2"),
            ("period", "yearly"),
            ("license_name", "Plant 7"),
        ],
    );
    assert!(
        checkout.contains("1,309.00 EUR") || checkout.contains("1309.00 EUR"),
        "{checkout}"
    );
    assert!(checkout.contains("Pay and subscribe"));
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(to, format!("{}?notice=purchased", org_path(org)));
    let landed = b.page(&to);
    assert!(
        landed.contains("Successful purchase. Your license will appear here once we&#x27;ve validated your payment. If it doesn&#x27;t, please contact us.")
            || landed.contains("Successful purchase. Your license will appear here once we've validated your payment. If it doesn't, please contact us."),
        "{landed}"
    );
    let sub = only_subscription(&s);
    assert_eq!(sub["status"], "pending");
    assert_eq!(sub["license_id"], Value::Null);

    // The invoice is emailed to the organization, with its link.
    let inv = newest_invoice(&s, org);
    assert_eq!(inv["state"], "open");
    assert_eq!(inv["total_minor"], 130900);
    let number = inv["number"].as_str().unwrap().to_owned();
    let mail = mail_for(&s, &sink, ORG_MAIL);
    let m = mail
        .iter()
        .find(|m| m.data.contains(&number))
        .expect("the invoice email");
    let body = text_body(m);
    assert!(
        body.contains(&format!(
            "/portal/organizations/{org}/invoices/{}",
            inv["id"]
        )),
        "{body}"
    );

    // Half is paid: nothing yet. The rest: active, and the license is issued.
    let id = inv["id"].as_i64().unwrap();
    let first = pay(&s, id, 60000, "half");
    assert_eq!(first["became_paid"], false);
    assert_eq!(only_subscription(&s)["license_id"], Value::Null);
    let rest = pay(&s, id, 70900, "rest");
    assert_eq!(rest["became_paid"], true);
    let sub = only_subscription(&s);
    assert_eq!(sub["status"], "active");
    let lic = license(&s, sub["license_id"].as_str().unwrap());
    assert_eq!(lic["install_id"], install_id.as_str());
    assert_eq!(lic["organization_id"], org);
    assert_eq!(lic["name"], "Plant 7");
    assert_eq!(
        (
            lic["internal_users"].as_i64(),
            lic["external_users"].as_i64()
        ),
        (Some(10), Some(2))
    );
    // Paid for a year from today; the key runs 14 days of dunning and 30 more beyond.
    let today = s.clock.now_utc().date_naive();
    assert_eq!(day(&sub["current_period_start"]), today.to_string());
    let end = today.checked_add_months(chrono::Months::new(12)).unwrap();
    assert_eq!(day(&sub["current_period_end"]), end.to_string());
    assert_eq!(
        day(&lic["expires_at"]),
        (end + Duration::days(44)).to_string()
    );
    let key = lic["license_key"].as_str().unwrap().to_owned();

    // Monthly recurring revenue: (10 × 100.00 + 2 × 50.00) a year ÷ 12, rounded once.
    let summary = ok(api(&s, Method::GET, "/api/v1/billing/summary")
        .send()
        .unwrap());
    assert_eq!(summary["mrr_minor"], 9167, "{summary}");
    assert_eq!(summary["recurring_subscriptions"], 1);

    // It is on the organization page with its key, and the organization is told.
    let page = b.page(&org_path(org));
    assert!(page.contains("Plant 7"), "{page}");
    let details = b.page(&format!(
        "{}/licenses/{}",
        org_path(org),
        lic["id"].as_str().unwrap()
    ));
    assert!(details.contains(&key));
    let mail = mail_for(&s, &sink, ORG_MAIL);
    assert!(
        mail.iter()
            .any(|m| m.data.contains("New license for Acme GmbH")),
        "license notice"
    );

    // The customer's own licd installs it, checked offline against the vendor's JWKS
    // (its clock, which stands still, a little after the vendor's).
    own.clock.set(s.clock.now_utc() + Duration::minutes(1));
    let r = own
        .client()
        .post(own.url("/api/v1/enterprise/licenses"))
        .bearer_auth(own.admin_token())
        .json(&json!({"license_key": key}))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap());

    // Audited as the customer and staff did it.
    let trail: Vec<String> =
        crate::portal_auth::audited(&s, &format!("subscription:{}", sub["id"]))
            .into_iter()
            .map(|(a, _)| a)
            .collect();
    assert!(
        trail.contains(&"subscription.purchase".to_owned()),
        "{trail:?}"
    );
    assert!(
        trail.contains(&"subscription.purchase_applied".to_owned()),
        "{trail:?}"
    );
}

#[test]
fn a_purchase_order_issues_the_license_before_payment_and_dunning_follows_its_terms() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s, false);
    let (b, org) = owner_with_org(&s);
    let po = [
        ("install_id", INSTALL),
        ("internal_users", "10"),
        ("period", "yearly"),
        ("payment_method", "purchase_order"),
        ("po_number", "PO-4711"),
    ];
    // Not while the price list refuses purchase orders.
    let (_, r) = (
        String::new(),
        b.post(
            &format!("{}/purchase", org_path(org)),
            &format!("{}/purchase/checkout", org_path(org)),
            &po,
        ),
    );
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .unwrap()
            .contains("does not accept purchase orders")
    );

    set_prices(&s, true);
    let (checkout, r) = purchase(&b, org, &po);
    assert!(checkout.contains("Purchase order PO-4711"), "{checkout}");
    assert_eq!(r.status(), 303);
    let inv = newest_invoice(&s, org);
    assert_eq!(inv["payment_method"], "purchase_order");
    let id = inv["id"].as_i64().unwrap();

    // Staff accept it: the license is issued, the invoice stays open.
    let d = ok(api(
        &s,
        Method::POST,
        &format!("/api/v1/billing/invoices/{id}/accept-purchase-order"),
    )
    .send()
    .unwrap());
    assert_eq!(d["state"], "open");
    let sub = only_subscription(&s);
    assert_eq!(sub["status"], "active");
    let lic_id = sub["license_id"].as_str().unwrap().to_owned();
    assert_eq!(license(&s, &lic_id)["state"], "issued");
    expect_problem(
        api(
            &s,
            Method::POST,
            &format!("/api/v1/billing/invoices/{id}/accept-purchase-order"),
        )
        .send()
        .unwrap(),
        409,
        "subscription_state",
    );

    // Unpaid past its due date (14 days) and the dunning grace (14 more): suspended.
    later(&s, Duration::days(20));
    assert_eq!(only_subscription(&s)["status"], "active");
    later(&s, Duration::days(9));
    assert_eq!(only_subscription(&s)["status"], "canceled");
    let l = license(&s, &lic_id);
    assert_eq!(l["state"], "suspended", "{l}");

    // Paid at last: active again, the license too.
    pay(&s, id, inv["total_minor"].as_i64().unwrap(), "po-paid");
    assert_eq!(only_subscription(&s)["status"], "active");
    assert_eq!(license(&s, &lic_id)["state"], "issued");
}

#[test]
fn a_paid_renewal_delivers_the_new_key_in_the_next_lease() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s, false);
    let (b, org) = owner_with_org(&s);
    let Paid {
        lic, lic_id, end, ..
    } = bought_and_paid(&s, &b, org);
    let act = ok(activate(&s, &lic, "fp-box-1"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();
    let old_key = lic["license_key"].as_str().unwrap().to_owned();

    // 31 days before the end nothing; 30 days before, the renewal invoice (emailed).
    later(&s, end - s.clock.now_utc() - Duration::days(31));
    assert_eq!(invoices_of(&s, org).len(), 1);
    later(&s, Duration::days(1));
    let all = invoices_of(&s, org);
    assert_eq!(all.len(), 2, "{all:?}");
    let renewal = &all[0];
    assert_eq!(renewal["total_minor"], 130900);
    let mail = mail_for(&s, &sink, ORG_MAIL);
    assert!(
        mail.iter()
            .any(|m| m.data.contains(renewal["number"].as_str().unwrap()))
    );
    // The next run issues no second one.
    later(&s, Duration::hours(2));
    assert_eq!(invoices_of(&s, org).len(), 2);

    // Paid: a new key with the new expiry, the same license.
    pay(&s, renewal["id"].as_i64().unwrap(), 130900, "renewal");
    let after = license(&s, &lic_id);
    let new_key = after["license_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, old_key);
    let new_end = end
        .date_naive()
        .checked_add_months(chrono::Months::new(12))
        .unwrap();
    assert_eq!(
        day(&after["expires_at"]),
        (new_end + Duration::days(44)).to_string()
    );
    let sub = only_subscription(&s);
    assert_eq!(day(&sub["current_period_end"]), new_end.to_string());
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys[0]["license_key"], new_key.as_str());
    assert_eq!(keys[0]["reason"], "renew");
    assert!(
        keys[1]["superseded_at"].is_string(),
        "the old key is no longer current"
    );

    // The appliance's next heartbeat carries the new key.
    let hb = ok(heartbeat(&s, &lic_id, &secret, "fp-box-1", 1));
    let lease = lease_of(&hb);
    assert!(
        directive_kinds(&lease).contains(&"install_key".to_owned()),
        "{lease}"
    );
    assert!(lease.to_string().contains(&new_key));
}

#[test]
fn an_unpaid_renewal_goes_past_due_then_suspends_and_a_payment_reactivates() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s, false);
    let (b, org) = owner_with_org(&s);
    let Paid {
        sub, lic_id, end, ..
    } = bought_and_paid(&s, &b, org);

    later(&s, end - s.clock.now_utc() + Duration::hours(1));
    assert_eq!(only_subscription(&s)["status"], "past_due");
    assert_eq!(
        license(&s, &lic_id)["state"],
        "issued",
        "valid through the dunning grace"
    );
    later(&s, Duration::days(14));
    assert_eq!(only_subscription(&s)["status"], "canceled");
    assert_eq!(license(&s, &lic_id)["state"], "suspended");

    let renewal = newest_invoice(&s, org);
    assert_eq!(renewal["state"], "open");
    pay(
        &s,
        renewal["id"].as_i64().unwrap(),
        renewal["total_minor"].as_i64().unwrap(),
        "late",
    );
    assert_eq!(only_subscription(&s)["status"], "active");
    let l = license(&s, &lic_id);
    assert_eq!(l["state"], "issued", "{l}");
    let trail: Vec<String> =
        crate::portal_auth::audited(&s, &format!("subscription:{}", sub["id"]))
            .into_iter()
            .map(|(a, d)| format!("{a} {d}"))
            .collect();
    // Past due and canceled by the scheduler, restored by the payment: all audited.
    let by_system = trail
        .iter()
        .filter(|t| *t == "subscription.status system")
        .count();
    assert_eq!(by_system, 2, "{trail:?}");
    assert!(
        trail.contains(&"subscription.renewal_applied staff:admin@example.com".to_owned()),
        "{trail:?}"
    );
}

#[test]
fn canceled_it_stays_valid_to_the_period_end_is_not_renewed_and_can_be_undone() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s, false);
    let (b, org) = owner_with_org(&s);
    let Paid {
        lic_id, sid, end, ..
    } = bought_and_paid(&s, &b, org);
    let subs_page = format!("{}/subscriptions", org_path(org));
    let billing = format!("{}/billing", org_path(org));

    // Cancel from the Billing page; then undo; then cancel again.
    let page = b.page(&billing);
    assert!(page.contains("Cancel subscription"), "{page}");
    let r = b.post(&billing, &format!("{subs_page}/{sid}/cancel"), &[]);
    assert_eq!(
        location(&r),
        format!("{billing}?notice=subscription_canceled")
    );
    assert_eq!(only_subscription(&s)["cancel_at_period_end"], true);
    assert_eq!(license(&s, &lic_id)["subscription"]["status"], "canceled");
    let page = b.page(&billing);
    assert!(page.contains("Undo cancellation"), "{page}");
    let r = b.post(&billing, &format!("{subs_page}/{sid}/resume"), &[]);
    assert_eq!(
        location(&r),
        format!("{billing}?notice=subscription_resumed")
    );
    assert_eq!(license(&s, &lic_id)["subscription"]["status"], "active");

    // The renewal invoice comes; canceling now voids it.
    later(&s, end - s.clock.now_utc() - Duration::days(10));
    again(&b);
    let renewal = newest_invoice(&s, org);
    assert_eq!(renewal["state"], "open");
    b.post(&billing, &format!("{subs_page}/{sid}/cancel"), &[]);
    let voided = invoices_of(&s, org)
        .into_iter()
        .find(|i| i["id"] == renewal["id"])
        .unwrap();
    assert_eq!(voided["state"], "void");

    // Valid to the end; not renewed; then it ends and the license is suspended.
    later(&s, Duration::days(9));
    assert_eq!(license(&s, &lic_id)["state"], "issued");
    assert_eq!(invoices_of(&s, org).len(), 2, "no new renewal invoice");
    later(&s, Duration::days(1) + Duration::hours(1));
    assert_eq!(only_subscription(&s)["status"], "ended");
    assert_eq!(license(&s, &lic_id)["state"], "suspended");
    again(&b);
    // Nothing to undo now.
    let r = b.post(&billing, &format!("{subs_page}/{sid}/resume"), &[]);
    assert_eq!(r.status(), 409);
}

#[test]
fn an_upgrade_is_charged_as_previewed_and_a_decrease_waits_for_the_renewal() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s, false);
    let (b, org) = owner_with_org(&s);
    let Paid {
        lic_id, sid, end, ..
    } = bought_and_paid(&s, &b, org);
    later(&s, Duration::days(100));
    again(&b);

    // The preview page, then the same through the service: what is charged.
    let change = format!("{}/subscriptions/{sid}/change", org_path(org));
    let page = b.page(&format!("{change}?internal_users=20&external_users=2"));
    assert!(page.contains("Confirm"), "{page}");
    let t = s.app.tenants.public().unwrap();
    let by = owner(&s);
    let preview =
        subscriptions::preview_change(&t, s.clock.now_utc(), &by, org, sid, 20, 2).unwrap();
    let quote = preview.quote.as_ref().unwrap();
    assert!(
        page.contains(&licd::service::invoices::show("EUR", quote.total_minor)),
        "{page}"
    );
    let r = b.post(
        &change,
        &change,
        &[("internal_users", "20"), ("external_users", "2")],
    );
    assert_eq!(r.status(), 303);
    let inv = newest_invoice(&s, org);
    assert_eq!(
        inv["total_minor"].as_i64().unwrap(),
        quote.total_minor,
        "preview = charge"
    );
    // 10 more users for the rest of the period: 1000.00 EUR a year, prorated by days.
    let days_total = preview.days_total.unwrap();
    let days_left = preview.days_remaining.unwrap();
    assert_eq!(
        days_left,
        (end.date_naive() - s.clock.now_utc().date_naive()).num_days()
    );
    let net = (100_000 * days_left + days_total / 2) / days_total;
    assert!(
        (quote.subtotal_minor - net).abs() <= 1,
        "{} vs {net}",
        quote.subtotal_minor
    );
    assert_eq!(
        license(&s, &lic_id)["internal_users"],
        10,
        "not before it is paid"
    );

    pay(
        &s,
        inv["id"].as_i64().unwrap(),
        quote.total_minor,
        "upgrade",
    );
    let l = license(&s, &lic_id);
    assert_eq!(l["internal_users"], 20, "the same license, reissued");
    assert_eq!(l["keys"][0]["reason"], "change");
    assert_eq!(subscriptions(&s).len(), 1);

    // A decrease charges nothing now and is what the renewal invoices.
    let r = b.post(
        &change,
        &change,
        &[("internal_users", "8"), ("external_users", "0")],
    );
    assert_eq!(
        location(&r),
        format!("{}/billing?notice=decrease_scheduled", org_path(org))
    );
    assert_eq!(invoices_of(&s, org).len(), 2);
    assert_eq!(license(&s, &lic_id)["internal_users"], 20);
    later(&s, end - s.clock.now_utc() - Duration::days(29));
    let renewal = newest_invoice(&s, org);
    assert_eq!(renewal["total_minor"], 95200, "8 × 100.00 + 19 %");
    pay(&s, renewal["id"].as_i64().unwrap(), 95200, "renewal");
    assert_eq!(license(&s, &lic_id)["internal_users"], 8);
    again(&b);

    // Below the minimum, or one up and one down: refused with the reason.
    let r = b.post(
        &change,
        &change,
        &[("internal_users", "2"), ("external_users", "0")],
    );
    assert_eq!(r.status(), 422);
    let r = b.post(
        &change,
        &change,
        &[("internal_users", "9"), ("external_users", "0")],
    );
    assert_eq!(r.status(), 303);
    let r = b.post(
        &change,
        &change,
        &[("internal_users", "20"), ("external_users", "0")],
    );
    assert_eq!(r.status(), 303, "a raise while a decrease waits");
}

#[test]
fn a_co_termed_purchase_is_prorated_to_the_same_renewal_date() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s, false);
    let (b, org) = owner_with_org(&s);
    let first = bought_and_paid(&s, &b, org).sub;
    later(&s, Duration::days(73));
    again(&b);
    let fid = first["id"].as_i64().unwrap().to_string();
    let (checkout, r) = purchase(
        &b,
        org,
        &[
            ("install_id", INSTALL),
            ("internal_users", "5"),
            ("coterm_with", &fid),
        ],
    );
    assert!(checkout.contains("co-termed"), "{checkout}");
    assert_eq!(r.status(), 303);
    let inv = newest_invoice(&s, org);
    pay(
        &s,
        inv["id"].as_i64().unwrap(),
        inv["total_minor"].as_i64().unwrap(),
        "coterm",
    );
    let all = subscriptions(&s);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["current_period_end"], first["current_period_end"]);
    // Less than a year of 5 users (500.00 EUR before tax).
    assert!(inv["subtotal_minor"].as_i64().unwrap() < 50000);
    // The installation's capacity is the sum.
    let l = license(&s, all[0]["license_id"].as_str().unwrap());
    assert_eq!(l["install_id"], INSTALL);
}

#[test]
fn fifty_concurrent_purchases_get_gapless_invoice_numbers() {
    let s = TestServer::start();
    set_prices(&s, false);
    customer(&s, OWNER, true);
    let t = s.app.tenants.public().unwrap();
    let by = owner(&s);
    let org = organizations::create(&t, s.clock.now_utc(), &by, "Acme GmbH", ORG_MAIL).unwrap();
    let app = Arc::clone(&s.app);
    let now = s.clock.now_utc();
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let (app, by) = (Arc::clone(&app), by.clone());
            std::thread::spawn(move || {
                let t = app.tenants.public().unwrap();
                let input = PurchaseInput {
                    install_id: format!("install-{i}"),
                    internal_users: 5,
                    period: "monthly".into(),
                    ..PurchaseInput::default()
                };
                subscriptions::purchase(&app, &t, now, &by, org, &input)
                    .unwrap()
                    .invoice_number
            })
        })
        .collect();
    let mut numbers: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    numbers.sort();
    let year = now.format("%Y");
    let want: Vec<String> = (1..=50).map(|n| format!("INV-{year}-{n:06}")).collect();
    assert_eq!(numbers, want);
}

#[test]
fn members_see_subscriptions_owners_act_and_outsiders_get_nothing() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s, false);
    let (b, org) = owner_with_org(&s);
    let sid = bought_and_paid(&s, &b, org).sid;
    let subs_page = format!("{}/subscriptions", org_path(org));
    let billing = format!("{}/billing", org_path(org));

    // A member (added by the service) sees the list without the owners' buttons.
    let member_id = customer(&s, "mia@acme.example", true);
    db(&s)
        .execute(
            "INSERT INTO memberships (organization_id, customer_id, role, created_at) VALUES (?1, ?2, 'member', ?3)",
            rusqlite::params![org, member_id, s.clock.now_utc().to_rfc3339()],
        )
        .unwrap();
    let m = Browser::new(&s);
    m.sign_in("mia@acme.example", PASSWORD);
    let page = m.page(&billing);
    assert!(
        page.contains(INSTALL) && !page.contains("Cancel subscription"),
        "{page}"
    );
    let r = m.post(&billing, &format!("{subs_page}/{sid}/cancel"), &[]);
    assert_eq!(r.status(), 403);
    assert_eq!(m.get(&format!("{}/purchase", org_path(org))).status(), 403);

    // Someone else: 404 everywhere.
    customer(&s, "eve@else.example", true);
    let e = Browser::new(&s);
    e.sign_in("eve@else.example", PASSWORD);
    assert_eq!(e.get(&billing).status(), 404);
    assert_eq!(e.get(&format!("{}/purchase", org_path(org))).status(), 404);
    assert_eq!(e.get(&format!("{subs_page}/{sid}/change")).status(), 404);
    let r = e.post("/portal/", &format!("{subs_page}/{sid}/cancel"), &[]);
    assert_eq!(r.status(), 404);
    assert_eq!(only_subscription(&s)["cancel_at_period_end"], false);
}
