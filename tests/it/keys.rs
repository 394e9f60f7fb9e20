//! Signing keys, the JWKS, independent JOSE verification, and the offline CLI tools.

use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate};
use serde_json::{Value, json};

fn jwks(s: &TestServer) -> Value {
    let r = client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

/// An independent JOSE implementation (the `jsonwebtoken` crate) verifies a licd license
/// key and a lease with nothing but the published JWKS.
#[test]
fn an_independent_jose_library_verifies_keys_and_leases_with_the_jwks() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let key = license["license_key"].as_str().unwrap();
    let set: JwkSet = serde_json::from_value(jwks(&s)).unwrap();
    let header = decode_header(key).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some("licd-license+jwt"));
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("kid in the JWKS");
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[format!("licd:install:{INSTALL}")]);
    v.validate_exp = false; // the license's window is checked against licd's test clock elsewhere
    let data = decode::<Value>(key, &DecodingKey::from_jwk(jwk).unwrap(), &v).unwrap();
    assert_eq!(data.claims["internal_users"], 50);
    assert_eq!(data.claims["jti"], license["id"]);
    assert_eq!(data.claims["ver"], 1);

    let act = api.ok(activate(&s, &license, "fp"));
    let lease = act["lease"].as_str().unwrap();
    let h = decode_header(lease).unwrap();
    assert_eq!(h.typ.as_deref(), Some("licd-lease+jwt"));
    let data = decode::<Value>(
        lease,
        &DecodingKey::from_jwk(set.find(h.kid.as_deref().unwrap()).unwrap()).unwrap(),
        &v,
    )
    .unwrap();
    assert_eq!(data.claims["fingerprint"], "fp");

    // A key with one changed claim fails the independent check too.
    let parts: Vec<&str> = key.split('.').collect();
    let mut claims = data.claims.clone();
    claims["internal_users"] = json!(5000);
    use base64::Engine;
    let forged_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&claims).unwrap());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert!(decode::<Value>(&forged, &DecodingKey::from_jwk(jwk).unwrap(), &v).is_err());
}

#[test]
fn rotation_keeps_old_keys_verifying_until_retired() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let old_license = api.issue(INSTALL, 365);
    let keys = api.ok(api.get("/api/v1/signing-keys"));
    let old_kid = keys["items"][0]["kid"].as_str().unwrap().to_owned();
    assert_eq!(keys["items"][0]["status"], "active");
    // The first key exists from the first start; the kid is its RFC 7638 thumbprint.
    let jwk = &keys["items"][0]["jwk"];
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    use base64::Engine;
    use sha2::Digest;
    let thumb = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(canonical.as_bytes()));
    assert_eq!(old_kid, thumb);

    let rotated = api.ok(api.post("/api/v1/signing-keys", json!({})));
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let new_license = api.issue(INSTALL, 365);
    assert_eq!(new_license["kid"], new_kid.as_str());
    assert_eq!(jwks(&s)["keys"].as_array().unwrap().len(), 2);
    // Old keys still verify: the old license activates.
    api.ok(activate(&s, &old_license, "fp-old"));
    // The active key cannot be retired.
    expect_problem(
        api.post(&format!("/api/v1/signing-keys/{new_kid}/retire"), json!({})),
        409,
        "signing_key_in_use",
    );
    expect_problem(
        api.post("/api/v1/signing-keys/nope/retire", json!({})),
        404,
        "not_found",
    );
    let list = api.ok(api.get("/api/v1/signing-keys"));
    let old = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .unwrap();
    assert_eq!(old["status"], "verifying");
    assert_eq!(old["live_licenses"], 1);
    let r = api.post(&format!("/api/v1/signing-keys/{old_kid}/retire"), json!({}));
    assert_eq!(r.status(), 204);
    assert_eq!(jwks(&s)["keys"].as_array().unwrap().len(), 1);
    let b = expect_problem(
        activate(&s, &old_license, "fp-old"),
        401,
        "license_key_invalid",
    );
    assert!(b["detail"].as_str().unwrap().contains("unknown key"), "{b}");
    api.ok(activate(&s, &new_license, "fp-new"));
    // Keys survive a restart (sealed under the KEK).
    let dir = s.stop();
    let s = TestServer::start_in(dir, |_| {});
    let api = Api::new(&s);
    assert_eq!(
        api.ok(api.get("/api/v1/signing-keys"))["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(api.issue(INSTALL, 30)["kid"], new_kid.as_str());
}

#[test]
fn private_keys_are_sealed_and_the_kek_is_guarded() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start();
    let kek = s.data_dir().join("keys/kek");
    assert_eq!(
        std::fs::metadata(&kek).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let dir = s.stop();
    // The database holds no private key in clear: the sealed blob does not contain the
    // PKCS#8 or raw key, and it opens only with the KEK.
    let db = rusqlite::Connection::open(dir.path().join("tenants/public.db")).unwrap();
    let sealed: Vec<u8> = db
        .query_row("SELECT sealed_private FROM signing_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sealed.len(), 12 + 32 + 16);
    drop(db);
    let data = dir.path().to_str().unwrap();
    // World-readable KEK: startup stops and names the file.
    std::fs::set_permissions(kek_path(&dir), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(licd().args(["serve", "--data-dir", data, "--listen", "127.0.0.1:0"]));
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("keys/kek") && t.contains("mode 644"), "{t}");
    // Missing KEK while keys exist: a clear error, not a new key.
    std::fs::remove_file(kek_path(&dir)).unwrap();
    let out = run(licd().args(["serve", "--data-dir", data, "--listen", "127.0.0.1:0"]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is missing but sealed signing keys exist"),
        "{}",
        text(&out)
    );
    assert!(!kek_path(&dir).exists());
}

fn kek_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("keys/kek")
}

#[test]
fn offline_cli_verify_inspect_sign_and_export() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let key = license["license_key"].as_str().unwrap().to_owned();
    let dir = s.stop();
    let data = dir.path().to_str().unwrap();
    let jwks_file = dir.path().join("jwks.json");
    let out = run(licd().args([
        "keys",
        "export",
        "--data-dir",
        data,
        "--out",
        jwks_file.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let pem_out = run(licd().args(["keys", "export", "--format", "pem", "--data-dir", data]));
    let pem = String::from_utf8(pem_out.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let pem_file = dir.path().join("pub.pem");
    std::fs::write(&pem_file, &pem).unwrap();

    let verify = |args: &[&str], k: &str| {
        let mut c = licd();
        c.args(["license", "verify"]).args(args).arg(k);
        run(&mut c)
    };
    let j = jwks_file.to_str().unwrap();
    // The license was issued on the test clock (2026-06-01) for a year: valid today.
    let ok = verify(&["--jwks", j, "--install-id", INSTALL], &key);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("VALID"));
    assert_eq!(
        verify(&["--public-key", pem_file.to_str().unwrap()], &key)
            .status
            .code(),
        Some(0)
    );
    let code = |o: std::process::Output| (o.status.code(), text(&o));
    let (c, t) = code(verify(&["--jwks", j], "not-a-key"));
    assert_eq!(c, Some(2), "{t}");
    assert!(t.contains("INVALID (malformed)"));
    let (c, t) = code(verify(&["--jwks", j, "--install-id", "other"], &key));
    assert_eq!(c, Some(5), "{t}");
    assert!(t.contains("wrong_install_id"));
    let mut parts: Vec<String> = key.split('.').map(str::to_owned).collect();
    parts[2] = crate::harness::flip_char(&parts[2]);
    assert_eq!(
        verify(&["--jwks", j], &parts.join(".")).status.code(),
        Some(4)
    );

    // Offline signing with a key file; unknown to the server's JWKS, known to its own PEM.
    let pair = licd::pki::KeyPair::generate().unwrap();
    let key_file = dir.path().join("signing.pem");
    std::fs::write(&key_file, pair.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let own_pub = dir.path().join("own.pem");
    std::fs::write(&own_pub, pair.public().to_pem().unwrap()).unwrap();
    let sign = |extra: &[&str]| {
        let mut c = licd();
        c.args([
            "license",
            "sign",
            "--key",
            key_file.to_str().unwrap(),
            "--install-id",
            INSTALL,
            "--name",
            "Offline",
            "--internal-users",
            "5",
        ])
        .args(extra);
        run(&mut c)
    };
    let out = sign(&["--days", "30"]);
    assert!(out.status.success(), "{}", text(&out));
    let signed = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(
        verify(&["--public-key", own_pub.to_str().unwrap()], &signed)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        verify(&["--jwks", j], &signed).status.code(),
        Some(3),
        "unknown key"
    );
    let past = sign(&["--expires-at", "2020-01-01T00:00:00Z"]);
    assert!(!past.status.success());
    assert!(text(&past).contains("expires_at"), "{}", text(&past));
    // Not yet valid and expired come from the key's own window.
    let not_yet = {
        let claims = licd::domain::license::LicenseClaims {
            iss: "x".into(),
            sub: "L".into(),
            jti: "L".into(),
            aud: format!("licd:install:{INSTALL}"),
            iat: 0,
            nbf: 4_000_000_000,
            exp: 4_100_000_000,
            name: "n".into(),
            org: String::new(),
            internal_users: 1,
            external_users: 0,
            features: vec![],
            flags: vec![],
            ver: 1,
        };
        licd::pki::jws::sign(&pair, "licd-license+jwt", &claims).unwrap()
    };
    assert_eq!(
        verify(&["--public-key", own_pub.to_str().unwrap()], &not_yet)
            .status
            .code(),
        Some(6)
    );
    let expired = {
        let (_, mut c) = licd::pki::verify::inspect(&not_yet).unwrap();
        c["nbf"] = json!(1_000_000_000);
        c["exp"] = json!(1_100_000_000);
        licd::pki::jws::sign(&pair, "licd-license+jwt", &c).unwrap()
    };
    assert_eq!(
        verify(&["--public-key", own_pub.to_str().unwrap()], &expired)
            .status
            .code(),
        Some(7)
    );

    // Inspect decodes without verifying, and says so; stdin works too.
    use std::io::Write;
    let mut child = licd()
        .args(["license", "inspect"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(key.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.starts_with("NOT VERIFIED"), "{t}");
    assert!(t.contains(&format!("licd:install:{INSTALL}")));
}
