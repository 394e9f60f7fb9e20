use crate::harness::*;
use licd::domain::permissions::Role;
use serde_json::{Value, json};

#[test]
fn changes_are_audited_filtered_and_paginated() {
    let s = TestServer::start();
    let token = s.admin_token();
    for i in 0..5 {
        let body = json!({"email": format!("user{i}@example.com"), "role": "onboarding"});
        let r = client()
            .post(s.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let get = |q: &str| -> Value {
        let r = client()
            .get(s.url(&format!("/api/v1/audit{q}")))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    };
    let creates = get("?action=user.create&actor=cli");
    // Five by the API (actor staff:admin@...), none by cli except harness-made ones.
    let api_creates = get(&format!("?action=user.create&actor=staff:{ADMIN_EMAIL}"));
    assert_eq!(api_creates["items"].as_array().unwrap().len(), 5);
    assert!(
        creates["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "cli")
    );
    let first = get(&format!(
        "?action=user.create&actor=staff:{ADMIN_EMAIL}&limit=2"
    ));
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["details"]["email"], "user4@example.com",
        "newest first"
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(&format!(
        "?action=user.create&actor=staff:{ADMIN_EMAIL}&limit=2&cursor={cursor}"
    ));
    assert_eq!(second["items"][0]["details"]["email"], "user2@example.com");
    let third_cursor = second["next_cursor"].as_str().unwrap();
    let third = get(&format!(
        "?action=user.create&actor=staff:{ADMIN_EMAIL}&limit=2&cursor={third_cursor}"
    ));
    assert_eq!(third["items"].as_array().unwrap().len(), 1);
    assert!(third["next_cursor"].is_null());
    // Time filters.
    let later = get("?since=2030-01-01T00:00:00Z");
    assert!(later["items"].as_array().unwrap().is_empty());
}

#[test]
fn the_chain_verifies_and_a_changed_byte_is_named() {
    let s = TestServer::start();
    let id = s.create_staff("a@example.com", Role::Support, "a-long-password-1");
    let tok = s.token_for(id);
    for name in ["one", "two", "three"] {
        let r = client()
            .post(s.url("/api/v1/tokens"))
            .bearer_auth(&tok)
            .json(&json!({"name": name}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let dir = s.stop();
    let data = dir.path().to_str().unwrap();
    let db = rusqlite::Connection::open(dir.path().join("tenants/public.db")).unwrap();
    let total: i64 = db
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    // The entry that records the token named "two".
    let two: i64 = db
        .query_row(
            "SELECT id FROM audit_log WHERE action = 'token.create' AND details LIKE '%\"two\"%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let out = run(licd().args(["audit", "verify", "--data-dir", data]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("public: audit chain intact ({total} entries)")),
        "{}",
        text(&out)
    );

    // The table refuses edits ...
    let err = db
        .execute("UPDATE audit_log SET actor = 'x' WHERE id = 4", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    // ... but someone with the file can drop the guard; the chain still tells.
    db.execute_batch("DROP TRIGGER audit_log_no_update")
        .unwrap();
    db.execute(
        "UPDATE audit_log SET details = replace(details, 'two', 'twO') WHERE id = ?1",
        [two],
    )
    .unwrap();
    drop(db);
    let out = run(licd().args(["audit", "verify", "--data-dir", data]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("BROKEN at entry {two}")),
        "{}",
        text(&out)
    );

    // A removed entry is named too.
    let db = rusqlite::Connection::open(dir.path().join("tenants/public.db")).unwrap();
    db.execute(
        "UPDATE audit_log SET details = replace(details, 'twO', 'two') WHERE id = ?1",
        [two],
    )
    .unwrap();
    db.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = 3;")
        .unwrap();
    drop(db);
    let out = run(licd().args(["audit", "verify", "--data-dir", data]));
    assert!(!out.status.success());
    assert!(text(&out).contains("entry 3 is missing"), "{}", text(&out));
}
