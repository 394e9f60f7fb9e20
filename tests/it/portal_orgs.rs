//! Organizations in the portal, against a real server and a real SMTP sink: an owner
//! creates one and invites by email; the invited person accepts from the link in the
//! captured message (a new account signs up with the address locked; an existing one
//! signs in; another account is told so and not added); invitations expire, are
//! revoked, are resent with a new link and are single use; the last owner stays;
//! members see licenses and keys, owners manage; nobody outside sees anything (404).

use crate::harness::*;
use crate::portal_auth::{
    Browser, PASSWORD, audited, customer, link_in, location, mail_for, server, text_body,
};
use crate::smtp_sink::SmtpSink;
use chrono::Duration;
use licd::config::Signup;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const OWNER: &str = "olga@acme.example";
const NEW: &str = "nina@acme.example";

/// A browser signed in as a verified customer made by the service.
fn signed_in<'a>(s: &'a TestServer, email: &str) -> Browser<'a> {
    customer(s, email, true);
    let b = Browser::new(s);
    let r = b.sign_in(email, PASSWORD);
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    b
}

/// Creates an organization through the form; returns its id.
fn create_org(b: &Browser<'_>, name: &str) -> i64 {
    let r = b.post(
        "/portal/organizations/new",
        "/portal/organizations",
        &[("name", name), ("notification_email", "ops@acme.example")],
    );
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    let to = location(&r);
    assert!(to.ends_with("?notice=organization_created"), "{to}");
    to.trim_start_matches("/portal/organizations/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn org_path(org: i64) -> String {
    format!("/portal/organizations/{org}")
}

/// Posts a form of the organization page.
fn act(b: &Browser<'_>, org: i64, what: &str, fields: &[(&str, &str)]) -> Response {
    b.post(&org_path(org), &format!("{}{what}", org_path(org)), fields)
}

fn invite(b: &Browser<'_>, org: i64, email: &str, role: &str) -> Response {
    act(b, org, "/invitations", &[("email", email), ("role", role)])
}

/// The path and query of the newest invitation link emailed to `to`.
fn invitation_link(s: &TestServer, sink: &SmtpSink, to: &str) -> String {
    let mail = mail_for(s, sink, to);
    let m = mail.last().unwrap_or_else(|| panic!("an email to {to}"));
    link_in(m, "/portal/invitation").1
}

fn issue_license(s: &TestServer, org: Option<i64>, name: &str) -> Value {
    let now = s.clock.now_utc();
    let r = s
        .client()
        .post(s.url("/api/v1/licenses"))
        .bearer_auth(s.admin_token())
        .json(&json!({
            "name": name, "install_id": format!("I-{name}"), "organization_id": org,
            "internal_users": 25, "external_users": 5,
            "expires_at": (now + Duration::days(365)).to_rfc3339(),
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().unwrap()
}

fn status(r: Response) -> u16 {
    r.status().as_u16()
}

#[test]
fn an_invited_new_customer_signs_up_from_the_email_and_sees_the_license_key() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let owner = signed_in(&s, OWNER);
    // No organization yet: the home asks to create one.
    let home = owner.page("/portal/");
    assert!(home.contains("id=\"no-organizations\""), "{home}");
    let org = create_org(&owner, "Acme Ltd");
    let license = issue_license(&s, Some(org), "Plant7");
    issue_license(&s, None, "Elsewhere");

    // The owner's page: the license with its expiry, the owner as member.
    let page = owner.page(&org_path(org));
    assert!(
        page.contains("Plant7") && !page.contains("Elsewhere"),
        "{page}"
    );
    let expires = license["expires_at"].as_str().unwrap()[..10].to_owned();
    assert!(page.contains(&expires), "the expiry date is listed: {page}");
    assert!(page.contains(OWNER));

    // Invite: the seed's message, and the pending invitation listed.
    let r = invite(&owner, org, NEW, "member");
    assert_eq!(status(r), 303);
    let page = owner.page(&format!("{}?notice=invitation_sent", org_path(org)));
    assert!(page.contains("The invitation has been sent."), "{page}");
    let pending = page.split("id=\"invitations\"").nth(1).unwrap();
    assert!(pending.contains(NEW) && pending.contains(OWNER) && !pending.contains("customer:"));

    // The email's link: a new account signs up with the address locked.
    let link = invitation_link(&s, &sink, NEW);
    let m = mail_for(&s, &sink, NEW).pop().unwrap();
    assert!(text_body(&m).contains("Acme Ltd"));
    let nina = Browser::new(&s);
    let invitation = nina.page(&link);
    assert!(
        invitation.contains("id=\"invitation-signup\""),
        "{invitation}"
    );
    assert!(invitation.contains(&format!("value=\"{NEW}\" readonly")));
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let r = nina.post(
        &link,
        "/portal/invitation/signup",
        &[
            ("token", &token),
            ("display_name", "Nina"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(status_of(&r), 303);
    assert_eq!(
        location(&r),
        format!("{}?notice=invitation_accepted", org_path(org))
    );

    // Signed in, verified by the invitation, a member who sees the license and its key.
    let page = nina.page(&org_path(org));
    assert!(page.contains("Plant7") && page.contains("member"), "{page}");
    assert!(
        !page.contains("id=\"invite\""),
        "members do not see the invite form"
    );
    let details = nina.page(&format!(
        "{}/licenses/{}",
        org_path(org),
        license["id"].as_str().unwrap()
    ));
    let key = license["license_key"].as_str().unwrap();
    assert!(details.contains(key), "{details}");
    assert!(details.contains("aria-label=\"Copy license key\""));

    // The link was single use; the acceptance is audited by the new customer.
    assert_eq!(status(nina.get(&link)), 404);
    let actions = audited(&s, &format!("organization:{org}"));
    assert!(
        actions.contains(&("invitation.accept".into(), format!("customer:{NEW}"))),
        "{actions:?}"
    );
    assert!(actions.contains(&("invitation.create".into(), format!("customer:{OWNER}"))));

    // The owner removes the member: the organization is gone for her (404, not 403).
    let nina_id: i64 = rusqlite::Connection::open(s.data_dir().join("tenants/public.db"))
        .unwrap()
        .query_row("SELECT id FROM customers WHERE email = ?1", [NEW], |r| {
            r.get(0)
        })
        .unwrap();
    let r = act(&owner, org, &format!("/members/{nina_id}/remove"), &[]);
    assert_eq!(status(r), 303);
    assert_eq!(status(nina.get(&org_path(org))), 404);
    let lic = format!(
        "{}/licenses/{}",
        org_path(org),
        license["id"].as_str().unwrap()
    );
    assert_eq!(status(nina.get(&lic)), 404);
    assert!(actions_for(&s, org).contains(&"organization.member_remove".to_owned()));
}

fn status_of(r: &Response) -> u16 {
    r.status().as_u16()
}

fn actions_for(s: &TestServer, org: i64) -> Vec<String> {
    audited(s, &format!("organization:{org}"))
        .into_iter()
        .map(|(a, _)| a)
        .collect()
}

#[test]
fn an_invitation_is_for_its_address_only_and_expires_is_revoked_and_resent() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let owner = signed_in(&s, OWNER);
    let org = create_org(&owner, "Acme Ltd");

    // Someone signed in with another address is told so and not added.
    assert_eq!(status(invite(&owner, org, NEW, "member")), 303);
    let link = invitation_link(&s, &sink, NEW);
    let other = signed_in(&s, "someone@else.example");
    let page = other.page(&link);
    assert!(page.contains("id=\"wrong-account\""), "{page}");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let r = other.post(&link, "/portal/invitation", &[("token", &token)]);
    assert_eq!(status_of(&r), 403);
    assert!(r.text().unwrap().contains("this invitation is for"));
    assert_eq!(status(other.get(&org_path(org))), 404);

    // The invited address has an account: it signs in, then accepts.
    customer(&s, NEW, true);
    let nina = Browser::new(&s);
    let page = nina.page(&link);
    assert!(page.contains("id=\"sign-in-to-accept\""), "{page}");
    assert_eq!(status(nina.sign_in(NEW, PASSWORD)), 303);
    let r = nina.post(&link, "/portal/invitation", &[("token", &token)]);
    assert_eq!(status_of(&r), 303);
    assert!(nina.page(&org_path(org)).contains("Acme Ltd"));
    // Twice: the token is used up.
    let r = nina.post(&org_path(org), "/portal/invitation", &[("token", &token)]);
    assert_eq!(status_of(&r), 404);
    // Inviting a member again is refused.
    let r = invite(&owner, org, NEW, "owner");
    assert_eq!(status_of(&r), 409);
    assert!(
        r.text()
            .unwrap()
            .contains("is a member of Acme Ltd already")
    );
    assert!(
        audited(&s, &format!("organization:{org}"))
            .contains(&("invitation.accept".to_owned(), format!("customer:{NEW}")))
    );

    // Expiry: 7 days by default.
    assert_eq!(
        status(invite(&owner, org, "late@acme.example", "member")),
        303
    );
    let late = invitation_link(&s, &sink, "late@acme.example");
    s.clock.advance(Duration::days(7) + Duration::minutes(1));
    let r = Browser::new(&s).get(&late);
    assert_eq!(status_of(&r), 410);
    assert!(r.text().unwrap().contains("expired"));
    // (A week on, the owner's session has ended too.)
    assert_eq!(status(owner.sign_in(OWNER, PASSWORD)), 303);

    // Resend: a new link, the old one dead; not again within a minute.
    let page = owner.page(&org_path(org));
    let inv_id: i64 = page
        .split("/invitations/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = act(&owner, org, &format!("/invitations/{inv_id}/resend"), &[]);
    assert_eq!(status_of(&r), 303);
    let fresh = invitation_link(&s, &sink, "late@acme.example");
    assert_ne!(fresh, late);
    assert_eq!(status(Browser::new(&s).get(&late)), 404);
    assert_eq!(status(Browser::new(&s).get(&fresh)), 200);
    let r = act(&owner, org, &format!("/invitations/{inv_id}/resend"), &[]);
    assert_eq!(status_of(&r), 429);

    // Revoked: the link stops working.
    let r = act(&owner, org, &format!("/invitations/{inv_id}/revoke"), &[]);
    assert_eq!(status_of(&r), 303);
    assert_eq!(status(Browser::new(&s).get(&fresh)), 404);
    let actions = actions_for(&s, org);
    for a in [
        "invitation.create",
        "invitation.accept",
        "invitation.resend",
        "invitation.revoke",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a}: {actions:?}");
    }
}

#[test]
fn the_last_owner_stays_members_cannot_manage_and_outsiders_see_nothing() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let owner = signed_in(&s, OWNER);
    let owner_id = 1;
    let org = create_org(&owner, "Acme Ltd");
    let license = issue_license(&s, Some(org), "Plant7");
    let lic_path = format!(
        "{}/licenses/{}",
        org_path(org),
        license["id"].as_str().unwrap()
    );

    // The only owner cannot leave, be removed or be demoted.
    for (what, fields) in [
        ("/leave".to_owned(), vec![]),
        (format!("/members/{owner_id}/remove"), vec![]),
        (
            format!("/members/{owner_id}/role"),
            vec![("role", "member")],
        ),
    ] {
        let r = act(&owner, org, &what, &fields);
        assert_eq!(status_of(&r), 409, "{what}");
        assert!(r.text().unwrap().contains("an organization needs an owner"));
    }

    // A member: views, but every owner's action is refused (403, with the code's title).
    assert_eq!(status(invite(&owner, org, NEW, "member")), 303);
    let link = invitation_link(&s, &sink, NEW);
    let member_id = customer(&s, NEW, true);
    let member = Browser::new(&s);
    assert_eq!(status(member.sign_in(NEW, PASSWORD)), 303);
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert_eq!(
        status(member.post(&link, "/portal/invitation", &[("token", &token)])),
        303
    );
    assert_eq!(status(member.get(&lic_path)), 200);
    let owner_only: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            String::new(),
            vec![("name", "Mine"), ("notification_email", "m@acme.example")],
        ),
        (
            "/invitations".into(),
            vec![("email", "x@acme.example"), ("role", "owner")],
        ),
        (format!("/members/{owner_id}/remove"), vec![]),
        (
            format!("/members/{member_id}/role"),
            vec![("role", "owner")],
        ),
        (format!("/members/{owner_id}/transfer"), vec![]),
        ("/invitations/1/resend".into(), vec![]),
        ("/invitations/1/revoke".into(), vec![]),
        ("/deletion-request".into(), vec![("reason", "")]),
    ];
    for (what, fields) in &owner_only {
        let r = act(&member, org, what, fields);
        assert_eq!(status_of(&r), 403, "member {what}");
        assert!(
            r.text()
                .unwrap()
                .contains("only an owner of this organization")
        );
    }

    // Outsiders: 404 on the page, the license, and every action.
    let outsider = signed_in(&s, "eve@elsewhere.example");
    assert_eq!(status(outsider.get(&org_path(org))), 404);
    assert_eq!(status(outsider.get(&lic_path)), 404);
    for (what, fields) in &owner_only {
        let r = outsider.post("/portal/", &format!("{}{what}", org_path(org)), fields);
        assert_eq!(status_of(&r), 404, "outsider {what}");
    }
    // A license of the organization under another organization's path: 404 too.
    let own = create_org(&outsider, "Eve Corp");
    let r = outsider.get(&format!(
        "{}/licenses/{}",
        org_path(own),
        license["id"].as_str().unwrap()
    ));
    assert_eq!(status_of(&r), 404);

    // Ownership is handed over explicitly; then the old owner may leave.
    let r = act(&owner, org, &format!("/members/{member_id}/transfer"), &[]);
    assert_eq!(status_of(&r), 303);
    let page = member.page(&org_path(org));
    assert!(page.contains("id=\"invite\""), "the new owner manages");
    let r = act(&owner, org, "/leave", &[]);
    assert_eq!(status_of(&r), 303);
    assert_eq!(status(owner.get(&org_path(org))), 404);
}

#[test]
fn an_owner_asks_staff_to_delete_the_organization() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let owner = signed_in(&s, OWNER);
    let org = create_org(&owner, "Acme Ltd");
    let r = act(
        &owner,
        org,
        "/deletion-request",
        &[("reason", "we merged with Umbrella")],
    );
    assert_eq!(status_of(&r), 303);
    let page = owner.page(&org_path(org));
    assert!(page.contains("id=\"deletion-requested\""), "{page}");
    // Staff who manage organizations are told, with a link to the console's page.
    let staff_mail: Vec<_> = mail_for(&s, &sink, "admin@example.com");
    let m = staff_mail.last().expect("staff are emailed");
    let text = text_body(m);
    assert!(
        text.contains("we merged with Umbrella") && text.contains("Acme Ltd"),
        "{text}"
    );
    let (_, path) = link_in(m, "/customers/organizations/");
    assert_eq!(path, format!("/customers/organizations/{org}"));
}
