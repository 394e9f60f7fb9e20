//! The email outbox against a real SMTP server on loopback (`smtp_sink`): a message
//! written by a use case is delivered once by the email-delivery job; with the server
//! down it is kept and retried with backoff, and sent once when it is back; with no
//! server configured (air-gapped) it stays pending for staff, who read it and mark it
//! sent from the command line.

use crate::harness::{ClockExt, TestServer, licd, run, text};
use crate::smtp_sink::{SinkTls, SmtpSink, unused_port};
use chrono::Duration;
use licd::service::Actor;
use licd::service::outbox::{self, OutboxMessage};

fn admin() -> Actor {
    Actor::Staff {
        id: 1,
        email: "admin@example.com".into(),
    }
}

/// A server whose `[email]` points at `smtp_url` (none: air-gapped).
fn server(smtp_url: Option<String>) -> TestServer {
    TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.email.smtp_url = smtp_url;
        c.email.from = Some("Acme Licensing <licensing@acme.test>".into());
    })
}

/// Moves the clock past the job's 5 s period and runs what is due.
fn run_jobs(s: &TestServer, after: Duration) {
    s.clock.advance(after);
    licd::jobs::run_due(&s.app);
}

fn message(s: &TestServer, id: i64) -> OutboxMessage {
    outbox::show(&s.app.tenants.public().unwrap(), id).unwrap()
}

fn queue_test_message(s: &TestServer, to: &str) -> i64 {
    let t = s.app.tenants.public().unwrap();
    outbox::send_test(&t, s.clock.now_utc(), &admin(), to).unwrap()
}

#[test]
fn a_queued_message_is_delivered_once_with_its_exact_content() {
    let sink = SmtpSink::start();
    let s = server(Some(sink.url()));
    let id = queue_test_message(&s, "Ops@Example.com");
    assert_eq!(message(&s, id).state, "pending");
    assert!(
        sink.messages().is_empty(),
        "nothing is sent before the job runs"
    );

    run_jobs(&s, Duration::seconds(5));
    let got = sink.messages();
    assert_eq!(got.len(), 1, "{got:#?}");
    let m = &got[0];
    assert_eq!(m.mail_from, "licensing@acme.test");
    assert_eq!(m.rcpt_to, ["ops@example.com"]);
    assert_eq!(m.header("To").as_deref(), Some("ops@example.com"));
    assert_eq!(
        m.header("From").as_deref(),
        Some("\"Acme Licensing\" <licensing@acme.test>")
    );
    let tenant_name = s.app.tenants.public().unwrap().name();
    assert_eq!(
        m.header("Subject"),
        Some(format!("Test message from {tenant_name}"))
    );
    assert_eq!(
        m.header("Message-ID").as_deref(),
        Some(format!("<outbox-public-{id}@acme.test>").as_str())
    );
    assert!(
        m.header("Content-Type")
            .is_some_and(|c| c.starts_with("multipart/alternative")),
        "{}",
        m.data
    );
    assert!(m.data.contains("Content-Type: text/plain"), "{}", m.data);
    assert!(m.data.contains("Content-Type: text/html"), "{}", m.data);
    assert!(
        m.data
            .contains("If you can read it, licd can send email to this address."),
        "{}",
        m.data
    );
    assert!(m.data.contains("staff:admin@example.com"), "{}", m.data);

    let sent = message(&s, id);
    assert_eq!(sent.state, "sent");
    assert_eq!(sent.attempts, 1);
    assert_eq!(sent.sent_by, None, "delivered by SMTP, not by hand");
    assert_eq!(sent.sent_at, Some(s.clock.now_utc()));

    // Later runs send nothing again.
    for _ in 0..3 {
        run_jobs(&s, Duration::hours(2));
    }
    assert_eq!(sink.messages().len(), 1);
}

/// STARTTLS and TLS from the first byte, against the sink's own CA: delivered when
/// `email.ca_file` names that CA; without it the certificate is not trusted and the
/// message waits (nothing goes out in plain text instead).
#[test]
fn starttls_and_smtps_deliver_to_a_server_whose_ca_is_configured() {
    for mode in [SinkTls::StartTls, SinkTls::Implicit] {
        let sink = SmtpSink::start_tls(mode);
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("smtp-ca.pem");
        std::fs::write(&ca, sink.ca_pem.as_ref().unwrap()).unwrap();
        let url = sink.url();
        let trusting = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
            c.email.smtp_url = Some(url.clone());
            c.email.from = Some("licensing@acme.test".into());
            c.email.ca_file = Some(ca.clone());
        });
        let id = queue_test_message(&trusting, "ops@example.com");
        run_jobs(&trusting, Duration::seconds(5));
        assert_eq!(message(&trusting, id).state, "sent", "{mode:?}");
        assert_eq!(sink.messages().len(), 1, "{mode:?}");
        assert_eq!(sink.messages()[0].rcpt_to, ["ops@example.com"]);

        let untrusting = server(Some(url));
        let id = queue_test_message(&untrusting, "ops@example.com");
        run_jobs(&untrusting, Duration::seconds(5));
        let m = message(&untrusting, id);
        assert_eq!(m.state, "pending", "{mode:?}");
        assert!(
            m.last_error
                .as_deref()
                .is_some_and(|e| e.contains("certificate")
                    || e.contains("Certificate")
                    || e.contains("UnknownIssuer")),
            "{mode:?}: {:?}",
            m.last_error
        );
        assert_eq!(sink.messages().len(), 1, "{mode:?}: nothing more arrived");
    }
}

#[test]
fn with_the_server_down_messages_wait_with_backoff_and_go_out_once_it_is_back() {
    let port = unused_port();
    let s = server(Some(format!("smtp://127.0.0.1:{port}")));
    let first = queue_test_message(&s, "a@example.com");
    let second = queue_test_message(&s, "b@example.com");

    run_jobs(&s, Duration::seconds(5));
    let failed_at = s.clock.now_utc();
    for id in [first, second] {
        let m = message(&s, id);
        assert_eq!(m.state, "pending");
        assert_eq!(m.attempts, 1);
        assert_eq!(m.next_attempt_at, failed_at + Duration::minutes(1));
        let err = m.last_error.unwrap_or_default();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    }

    // Not due yet: no second attempt within the minute.
    run_jobs(&s, Duration::seconds(30));
    assert_eq!(message(&s, first).attempts, 1);
    // The second attempt fails too; the wait doubles.
    run_jobs(&s, Duration::seconds(31));
    let m = message(&s, first);
    assert_eq!(m.attempts, 2);
    assert_eq!(m.next_attempt_at, s.clock.now_utc() + Duration::minutes(2));

    // The server comes back on the same port; nothing is sent before the retry is due.
    let sink = SmtpSink::start_on(port);
    run_jobs(&s, Duration::seconds(60));
    assert!(sink.messages().is_empty());
    run_jobs(&s, Duration::seconds(61));
    let got = sink.messages();
    let mut to: Vec<String> = got.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, ["a@example.com", "b@example.com"], "{got:#?}");
    for id in [first, second] {
        let m = message(&s, id);
        assert_eq!((m.state, m.attempts), ("sent", 3));
    }
    for _ in 0..3 {
        run_jobs(&s, Duration::hours(2));
    }
    assert_eq!(sink.messages().len(), 2, "none sent twice");
}

#[test]
fn a_message_is_given_up_after_the_last_attempt_and_never_sent_after() {
    let port = unused_port();
    let s = server(Some(format!("smtp://127.0.0.1:{port}")));
    let id = queue_test_message(&s, "a@example.com");
    for _ in 0..licd::domain::email::MAX_ATTEMPTS {
        run_jobs(&s, Duration::hours(1) + Duration::seconds(1));
    }
    let m = message(&s, id);
    assert_eq!((m.state, m.attempts), ("failed", 10));
    let sink = SmtpSink::start_on(port);
    run_jobs(&s, Duration::hours(2));
    assert!(sink.messages().is_empty());
    assert_eq!(message(&s, id).attempts, 10);
}

/// Air-gapped: no `email.smtp_url`. The job sends nothing and counts no attempt; the
/// CLI lists and shows the message with its text, and marks it sent (audited as
/// cli:<user>), after which it is never sent.
#[test]
fn without_smtp_messages_stay_in_the_outbox_for_the_cli() {
    let s = server(None);
    let id = queue_test_message(&s, "offline@example.com");
    run_jobs(&s, Duration::hours(3));
    let m = message(&s, id);
    assert_eq!((m.state, m.attempts, m.last_error), ("pending", 0, None));
    let dir = s.stop();
    let data = dir.path().to_str().unwrap().to_owned();
    let licd_at = |args: &[&str]| {
        let mut c = licd();
        c.arg("--data-dir")
            .arg(&data)
            .args(args)
            .env("USER", "operator");
        run(&mut c)
    };

    let out = licd_at(&["outbox", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = text(&out);
    assert!(
        listed.contains("offline@example.com") && listed.contains("pending"),
        "{listed}"
    );
    let out = licd_at(&["outbox", "show", &id.to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("If you can read it, licd can send email to this address."),
        "{}",
        text(&out)
    );
    let out = licd_at(&["outbox", "show", "999"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no message 999"), "{}", text(&out));

    let out = licd_at(&["outbox", "mark-sent", &id.to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = licd_at(&["outbox", "mark-sent", &id.to_string()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already sent"), "{}", text(&out));
    let out = licd_at(&["outbox", "show", &id.to_string()]);
    assert!(text(&out).contains("(cli:operator)"), "{}", text(&out));

    // A server with SMTP now: the message marked sent is not sent.
    let sink = SmtpSink::start();
    let s = TestServer::start_in(dir, |c| {
        c.email.smtp_url = Some(sink.url());
        c.email.from = Some("licensing@acme.test".into());
    });
    run_jobs(&s, Duration::seconds(5));
    assert!(sink.messages().is_empty());
    let filter = licd::service::audit::Filter {
        action: Some("outbox.".into()),
        ..Default::default()
    };
    let page =
        licd::service::audit::list(&s.app.tenants.public().unwrap(), filter, None, 10).unwrap();
    let seen: Vec<(String, String, String)> = page
        .items
        .iter()
        .map(|e| (e.action.clone(), e.actor.clone(), e.target.clone()))
        .collect();
    let target = format!("outbox:{id}");
    assert_eq!(
        seen,
        [
            (
                "outbox.mark_sent".into(),
                "cli:operator".into(),
                target.clone()
            ),
            (
                "outbox.test".into(),
                "staff:admin@example.com".into(),
                target
            ),
        ]
    );
}

#[test]
fn check_config_names_a_bad_email_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("licd.toml");
    for (toml, says) in [
        (
            "[email]\nsmtp_url = \"smtp://mail.example.com:2525\"\n",
            "email.from is needed",
        ),
        (
            "[email]\nsmtp_url = \"imap://mail\"\nfrom = \"a@b.test\"\n",
            "email.smtp_url",
        ),
        (
            "[email]\nsmtp_url = \"smtp://x\"\nfrom = \"a@b.test\"\nsmtp_username = \"u\"\n",
            "go together",
        ),
    ] {
        std::fs::write(&file, toml).unwrap();
        let out = run(licd().args(["check-config", file.to_str().unwrap()]));
        assert!(!out.status.success(), "{toml}");
        assert!(text(&out).contains(says), "{toml}: {}", text(&out));
    }
    std::fs::write(
        &file,
        "[email]\nsmtp_url = \"smtp://mail.example.com:587?tls=starttls\"\nfrom = \"Acme <a@b.test>\"\n",
    )
    .unwrap();
    let out = run(licd().args(["check-config", file.to_str().unwrap()]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("mail.example.com:587 (StartTls)"),
        "{}",
        text(&out)
    );
}

/// Administration > Outbox over real HTTP: the list shows state, recipient, subject,
/// attempts and the last error; a message's page shows its text; "Mark as sent" asks
/// first, then records it (audited as the staff member) and is refused a second time.
#[test]
fn the_outbox_page_lists_shows_and_marks_sent_after_a_confirmation() {
    let port = unused_port();
    let s = server(Some(format!("smtp://127.0.0.1:{port}")));
    let id = queue_test_message(&s, "page@example.com");
    run_jobs(&s, Duration::seconds(5));
    let (c, csrf) = crate::harness::api_login(
        &s,
        crate::harness::ADMIN_EMAIL,
        crate::harness::ADMIN_PASSWORD,
    );

    let list = c.get(s.url("/outbox")).send().unwrap();
    assert_eq!(list.status(), 200);
    let html = list.text().unwrap();
    let row = html
        .split(&format!("<tr id=\"outbox-{id}\">"))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row for message {id}: {html}"));
    for want in [
        "pending",
        "page@example.com",
        "Test message from",
        "<td>1</td>",
        &format!("127.0.0.1:{port}"),
    ] {
        assert!(row.contains(want), "{want} not in {row}");
    }
    assert!(html.contains("Outbox"), "in the navigation");

    let detail = c.get(s.url(&format!("/outbox/{id}"))).send().unwrap();
    assert_eq!(detail.status(), 200);
    let html = detail.text().unwrap();
    assert!(
        html.contains("If you can read it, licd can send email to this address."),
        "{html}"
    );
    assert!(html.contains("id=\"mark-sent\""), "{html}");

    // Without the confirmation: a page that asks, and nothing changes.
    let ask = c
        .post(s.url(&format!("/outbox/{id}/mark-sent")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(ask.status(), 200);
    let html = ask.text().unwrap();
    assert!(html.contains("Yes, mark it sent"), "{html}");
    assert_eq!(message(&s, id).state, "pending");

    let done = c
        .post(s.url(&format!("/outbox/{id}/mark-sent")))
        .form(&[("csrf", csrf.as_str()), ("confirmed", "1")])
        .send()
        .unwrap();
    assert_eq!(done.status(), 303);
    let to = done.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/outbox/{id}?notice=outbox_marked_sent"));
    let html = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(html.contains("licd will not send it"), "{html}");
    assert!(!html.contains("id=\"mark-sent\""), "{html}");
    assert!(html.contains("marked by staff:admin@example.com"), "{html}");
    let m = message(&s, id);
    assert_eq!(
        (m.state, m.sent_by.as_deref()),
        ("sent", Some("staff:admin@example.com"))
    );

    let again = c
        .post(s.url(&format!("/outbox/{id}/mark-sent")))
        .form(&[("csrf", csrf.as_str()), ("confirmed", "1")])
        .send()
        .unwrap();
    assert_eq!(again.status(), 409);
    assert!(again.text().unwrap().contains("already sent"));

    // The server is back: the message marked sent is never sent.
    let sink = SmtpSink::start_on(port);
    run_jobs(&s, Duration::hours(2));
    assert!(sink.messages().is_empty());
}
