use crate::harness::*;

/// Every file under assets/static is embedded and served with an ETag; a matching
/// If-None-Match gets 304.
#[test]
fn every_embedded_static_file_is_served_with_etag() {
    let s = TestServer::start();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/static");
    let mut n = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let r = client()
            .get(s.url(&format!("/static/{name}")))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        assert_eq!(
            r.bytes().unwrap().as_ref(),
            std::fs::read(&path).unwrap().as_slice()
        );
        let r = client()
            .get(s.url(&format!("/static/{name}")))
            .header("if-none-match", &etag)
            .send()
            .unwrap();
        assert_eq!(r.status(), 304, "{name}");
        n += 1;
    }
    assert!(n >= 2);
    expect_problem(
        client().get(s.url("/static/nope.css")).send().unwrap(),
        404,
        "not_found",
    );
}

#[test]
fn security_headers_on_every_kind_of_response() {
    let s = TestServer::start();
    for path in [
        "/login",
        "/healthz",
        "/api/v1/me",
        "/static/app.css",
        "/no-such-thing",
    ] {
        let r = client().get(s.url(path)).send().unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(
            h["permissions-policy"]
                .to_str()
                .unwrap()
                .contains("camera=()")
        );
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert_eq!(h["cross-origin-resource-policy"], "same-origin", "{path}");
        assert_eq!(h["x-xss-protection"], "0", "{path}");
        assert!(h.contains_key("cache-control"), "{path}");
    }
    let r = client().get(s.url("/login")).send().unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
}
