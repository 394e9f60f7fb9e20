//! Bad input gets a 4xx problem+json with a stable code, never a 500.

use crate::harness::*;

#[test]
fn malformed_and_wrong_bodies_get_problem_json() {
    let s = TestServer::start();
    let token = s.admin_token();
    let c = client();
    let post = |body: &'static str, ct: &str| {
        c.post(s.url("/api/v1/users"))
            .bearer_auth(&token)
            .header("content-type", ct)
            .body(body)
            .send()
            .unwrap()
    };
    expect_problem(
        post("{\"email\": ", "application/json"),
        400,
        "malformed_json",
    );
    expect_problem(
        post("not json at all", "application/json"),
        400,
        "malformed_json",
    );
    expect_problem(
        post("{\"email\": 5, \"role\": \"support\"}", "application/json"),
        422,
        "validation_failed",
    );
    let b = expect_problem(
        post("{\"email\": \"a@b.c\"}", "application/json"),
        422,
        "validation_failed",
    );
    assert!(b["detail"].as_str().unwrap().contains("role"), "{b}");
    let b = expect_problem(
        post(
            "{\"email\": \"a@b.c\", \"role\": \"king\"}",
            "application/json",
        ),
        422,
        "validation_failed",
    );
    assert!(b["detail"].as_str().unwrap().contains("king"), "{b}");
    expect_problem(
        post(
            "{\"email\": \"a@b.c\", \"role\": \"support\", \"x\": 1}",
            "application/json",
        ),
        422,
        "validation_failed",
    );
    expect_problem(post("email=a", "text/plain"), 415, "unsupported_media_type");
    let big = "x".repeat(70 * 1024);
    let r = c
        .post(s.url("/api/v1/users"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"email\": \"{big}\"}}"))
        .send()
        .unwrap();
    expect_problem(r, 413, "payload_too_large");
    let b = expect_problem(
        post(
            "{\"email\": \"not-an-email\", \"role\": \"support\"}",
            "application/json",
        ),
        422,
        "validation_failed",
    );
    assert!(b["detail"].as_str().unwrap().starts_with("email"), "{b}");
}

#[test]
fn unknown_routes_methods_and_ids() {
    let s = TestServer::start();
    let token = s.admin_token();
    let c = client();
    expect_problem(
        c.get(s.url("/api/v1/nope"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        404,
        "route_not_found",
    );
    expect_problem(
        c.get(s.url("/nothing-here")).send().unwrap(),
        404,
        "route_not_found",
    );
    let r = c
        .put(s.url("/api/v1/users"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, POST");
    expect_problem(r, 405, "method_not_allowed");
    expect_problem(
        c.get(s.url("/api/v1/users/abc"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    expect_problem(
        c.get(s.url("/api/v1/users/424242"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    expect_problem(
        c.get(s.url("/api/v1/audit?limit=0"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        422,
        "validation_failed",
    );
    expect_problem(
        c.get(s.url("/api/v1/audit?limit=x"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        400,
        "bad_request",
    );
    expect_problem(
        c.get(s.url("/api/v1/audit?cursor=zz"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        422,
        "validation_failed",
    );
    // A browser asking for a missing page gets HTML.
    let r = c
        .get(s.url("/nothing-here"))
        .header("accept", "text/html")
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[test]
fn duplicate_email_is_a_conflict() {
    let s = TestServer::start();
    let token = s.admin_token();
    let body = serde_json::json!({"email": "Dup@Example.com", "role": "onboarding"});
    let r = client()
        .post(s.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().unwrap();
    assert_eq!(created["user"]["email"], "dup@example.com");
    assert!(created["one_time_password"].as_str().unwrap().len() >= 20);
    let body = serde_json::json!({"email": "dup@example.com", "role": "support"});
    let r = client()
        .post(s.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .unwrap();
    expect_problem(r, 409, "email_taken");
}
