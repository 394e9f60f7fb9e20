//! HTTPS with the local CA over real TLS: trust, names, redirects, bring-your-own
//! certificates, renewal without a restart, protocol versions, and appliance mTLS.

use crate::harness::*;
use crate::licensing::{Api, INSTALL};
use chrono::Duration;
use licd::clock::Clock;
use licd::config::{ApplianceMtls, Config};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

fn tls_on(c: &mut Config) {
    c.tls.enabled = true;
    c.tls.hostnames = vec!["licd.plant.example".into()];
}

fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

/// The SHA-256 of the leaf certificate a new connection is served.
fn served_leaf(s: &TestServer) -> String {
    let c = tls_client_builder(s.app.ca.cert_pem())
        .tls_info(true)
        .build()
        .unwrap();
    let r = c.get(s.url("/healthz")).send().unwrap();
    let info = r.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
    licd::pki::ca::der_sha256(info.peer_certificate().unwrap())
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn https_with_the_local_ca_for_names_and_addresses() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), tls_on);
    let port = port_of(&s.base);
    let trusting = s.client();

    // localhost, the loopback addresses and the configured host name are in the certificate.
    let r = trusting.get(s.url("/readyz")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let r = trusting
        .get(format!("https://127.0.0.1:{port}/readyz"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let named = tls_client_builder(s.app.ca.cert_pem())
        .resolve("licd.plant.example", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let r = named
        .get(format!("https://licd.plant.example:{port}/healthz"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // A host name outside the certificate fails.
    let other = tls_client_builder(s.app.ca.cert_pem())
        .resolve("other.example", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let err = other
        .get(format!("https://other.example:{port}/healthz"))
        .send()
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    // A client that does not trust the local CA fails.
    let untrusting = Client::builder().build().unwrap();
    let err = untrusting.get(s.url("/healthz")).send().unwrap_err();
    assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");

    // The exported CA is what the client trusted; its fingerprint is published with it.
    let ca = trusting.get(s.url("/ca.pem")).send().unwrap();
    assert_eq!(ca.text().unwrap(), s.app.ca.cert_pem());

    // Keys on disk are private.
    let dir = s.data_dir().join("ca");
    assert_eq!(mode(&dir.join("ca.key")), 0o600);
    assert_eq!(mode(&dir.join("server.key")), 0o600);

    // Signing in over TLS gives Secure cookies.
    let r = trusting
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Settings > TLS in the API: the CA, the certificate's names and expiry, the mTLS mode.
    let v: Value = trusting
        .get(s.url("/api/v1/tls"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["ca_fingerprint"], s.app.ca.fingerprint());
    assert_eq!(v["source"], "local_ca");
    assert_eq!(v["appliance_mtls"], "off");
    let names: Vec<&str> = v["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["localhost", "licd.plant.example", "127.0.0.1", "::1"]
    );
    assert!(v["not_after"].as_str().is_some() && v["renew_at"].as_str().is_some());
}

#[test]
fn plain_http_redirects_except_the_open_paths() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), tls_on);
    let http = s.http_base.clone().unwrap();
    let https_port = port_of(&s.base);
    let c = client();
    for open in ["/healthz", "/readyz", "/ca.pem"] {
        let r = c.get(format!("{http}{open}")).send().unwrap();
        assert_eq!(r.status(), 200, "{open}");
        assert!(r.headers().get("strict-transport-security").is_none());
    }
    let r = c.get(format!("{http}/login?next=%2Faudit")).send().unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(
        r.headers()["location"],
        format!("https://127.0.0.1:{https_port}/login?next=%2Faudit").as_str()
    );
    // Method-preserving, for API clients too; nothing is processed over plain HTTP.
    let r = c
        .post(format!("{http}/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 308);
    assert!(r.headers().get("set-cookie").is_none());
    // Following the redirect with the CA trusted lands on the HTTPS page.
    let follow = tls_client_builder(s.app.ca.cert_pem())
        .redirect(reqwest::redirect::Policy::limited(2))
        .build()
        .unwrap();
    let r = follow.get(format!("{http}/login")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.url().as_str().starts_with("https://127.0.0.1:"));
}

/// A raw rustls client limited to one protocol version: the handshake's version and the
/// chain the server sends.
fn handshake(
    s: &TestServer,
    version: &'static rustls::SupportedProtocolVersion,
) -> (rustls::ProtocolVersion, Vec<Vec<u8>>, String) {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            s.app.ca.cert_der().to_vec(),
        ))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(licd::pki::tls::provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port_of(&s.base))).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    let _ = tls.read_to_string(&mut reply);
    let chain = conn
        .peer_certificates()
        .unwrap()
        .iter()
        .map(|c| c.to_vec())
        .collect();
    (conn.protocol_version().unwrap(), chain, reply)
}

#[test]
fn only_tls_12_and_13_with_the_expected_chain() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), tls_on);
    let stored = std::fs::read_to_string(s.data_dir().join("ca/server.pem")).unwrap();
    let leaf = rustls::pki_types::pem::PemObject::from_pem_slice(stored.as_bytes())
        .map(|c: rustls::pki_types::CertificateDer<'_>| c.to_vec())
        .unwrap();
    for (version, expect) in [
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
    ] {
        let (got, chain, reply) = handshake(&s, version);
        assert_eq!(got, expect);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert_eq!(
            chain,
            vec![leaf.clone()],
            "the leaf, issued by the local CA"
        );
    }
    // openssl (scripts/test installs it) cannot get TLS 1.1 or 1.0 (README, "Checking TLS").
    let openssl = std::path::Path::new("/usr/bin/openssl");
    assert!(
        openssl.exists(),
        "/usr/bin/openssl is missing: scripts/test installs it"
    );
    {
        let ca = s.data_dir().join("ca/ca.pem");
        let connect = format!("127.0.0.1:{}", port_of(&s.base));
        let run = |extra: &[&str]| {
            let out = std::process::Command::new(openssl)
                .args(["s_client", "-connect", &connect, "-servername", "localhost"])
                .arg("-CAfile")
                .arg(&ca)
                .args(extra)
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let (ok, out) = run(&["-tls1_2", "-verify_return_error"]);
        assert!(ok && out.contains("Verify return code: 0 (ok)"), "{out}");
        for old in ["-tls1_1", "-tls1"] {
            let (ok, out) = run(&[old, "-cipher", "DEFAULT@SECLEVEL=0"]);
            assert!(!ok, "{old} was accepted: {out}");
        }
    }
}

#[test]
fn the_renewal_job_swaps_the_certificate_without_a_restart() {
    // Start 70 days ago: the first certificate (90 days) is due after 60.
    let real_now = licd::clock::SystemClock.now();
    let s = TestServer::start_at(
        tempfile::tempdir().unwrap(),
        Some(real_now - Duration::days(70)),
        tls_on,
    );
    let first = served_leaf(&s);
    let v: Value = Api::new(&s).ok(Api::new(&s).get("/api/v1/tls"));
    let renew_at = v["renew_at"].as_str().unwrap().to_owned();
    assert!(renew_at < real_now.to_rfc3339(), "{renew_at}");

    s.clock.set(real_now);
    assert!(licd::jobs::run_due(&s.app).contains(&"tls-renewal"));
    let now_served = served_leaf(&s);
    assert_ne!(now_served, first, "the renewed certificate is served");
    let pem = std::fs::read_to_string(s.data_dir().join("ca/server.pem")).unwrap();
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
        .map(|c: rustls::pki_types::CertificateDer<'_>| c.to_vec())
        .unwrap();
    assert_eq!(licd::pki::ca::der_sha256(&der), now_served, "and stored");
    assert_eq!(mode(&s.data_dir().join("ca/server.key")), 0o600);
    let audit =
        Api::new(&s).ok(Api::new(&s).get("/api/v1/audit?action=tls.server_certificate_renewed"));
    let entry = &audit["items"][0];
    assert_eq!(entry["actor"], "system");
    assert_eq!(entry["target"], now_served.as_str());
    assert_eq!(entry["details"]["previous_sha256"], first.as_str());

    // A restart keeps the renewed certificate.
    let dir = s.stop();
    let s = TestServer::start_at(dir, Some(real_now), tls_on);
    assert_eq!(served_leaf(&s), now_served);
}

/// A CA and a leaf for `byo.example` made elsewhere, written as PEM files.
fn own_certificate(dir: &std::path::Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Corporate CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["byo.example".into()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let (cert_file, key_file) = (dir.join("byo.pem"), dir.join("byo.key"));
    std::fs::write(&cert_file, leaf.pem() + &ca_cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    (ca_cert.pem(), cert_file, key_file)
}

#[test]
fn a_bring_your_own_certificate_is_served_and_bad_files_are_named() {
    let files = tempfile::tempdir().unwrap();
    let (byo_ca, cert_file, key_file) = own_certificate(files.path());
    let (c2, k2) = (cert_file.clone(), key_file.clone());
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), move |c| {
        tls_on(c);
        c.tls.cert_file = Some(c2);
        c.tls.key_file = Some(k2);
    });
    let port = port_of(&s.base);
    let c = tls_client_builder(&byo_ca)
        .resolve("byo.example", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let r = c
        .get(format!("https://byo.example:{port}/readyz"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = c
        .get(format!("https://byo.example:{port}/api/v1/tls"))
        .bearer_auth(s.admin_token())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["source"], "file");
    assert_eq!(v["renew_at"], Value::Null);
    let dir = s.stop();

    // Bad files stop startup with a message naming the problem.
    let start = |cert: &std::path::Path, key: &std::path::Path| {
        let mut config = test_config(dir.path());
        tls_on(&mut config);
        config.tls.cert_file = Some(cert.to_owned());
        config.tls.key_file = Some(key.to_owned());
        let mut app = licd::service::App::open(config, Arc::new(licd::clock::SystemClock)).unwrap();
        app.enable_tls().unwrap_err().report().to_string()
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let (_, _, other_key) = own_certificate(elsewhere.path());
    let err = start(&cert_file, &other_key);
    assert!(err.contains("does not belong to the certificate"), "{err}");
    let err = start(&files.path().join("missing.pem"), &key_file);
    assert!(err.contains("missing.pem"), "{err}");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = start(&cert_file, &key_file);
    assert!(err.contains("byo.key") && err.contains("mode 644"), "{err}");
    std::fs::write(&key_file, "not a key").unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = start(&cert_file, &key_file);
    assert!(err.contains("no usable private key"), "{err}");
}

#[test]
fn a_world_readable_server_key_stops_the_real_binary() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), tls_on);
    let dir = s.stop();
    let key = dir.path().join("ca/server.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = licd()
        .args(["serve", "--data-dir", dir.path().to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--listen-https", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("ca/server.key") && text.contains("mode 644"),
        "{text}"
    );
}

// ---- appliance mTLS ----

struct Appliance {
    key_pem: String,
    cert_pem: String,
}

fn csr() -> (rcgen::KeyPair, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(vec!["appliance.local".into()])
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    (key, csr)
}

fn activate_with_csr(s: &TestServer, license: &Value, fingerprint: &str) -> (Value, Appliance) {
    let (key, csr) = csr();
    let id = license["id"].as_str().unwrap();
    let r = s
        .client()
        .post(s.url(&format!("/api/v1/licenses/{id}/activate")))
        .json(&json!({
            "license_key": license["license_key"], "fingerprint": fingerprint,
            "install_id": license["install_id"], "csr": csr,
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    let cert_pem = v["client_certificate"].as_str().unwrap().to_owned();
    (
        v,
        Appliance {
            key_pem: key.serialize_pem(),
            cert_pem,
        },
    )
}

fn with_cert(s: &TestServer, a: &Appliance) -> Client {
    let identity =
        reqwest::Identity::from_pem(format!("{}{}", a.cert_pem, a.key_pem).as_bytes()).unwrap();
    tls_client_builder(s.app.ca.cert_pem())
        .identity(identity)
        .build()
        .unwrap()
}

fn beat(c: &Client, s: &TestServer, id: &str, fingerprint: &str, secret: Option<&str>) -> Response {
    let mut r = c
        .post(s.url(&format!("/api/v1/licenses/{id}/heartbeat")))
        .json(&json!({"fingerprint": fingerprint, "seq": 0}));
    if let Some(secret) = secret {
        r = r.bearer_auth(secret);
    }
    r.send().unwrap()
}

#[test]
fn appliance_mtls_required() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        tls_on(c);
        c.tls.appliance_mtls = ApplianceMtls::Required;
    });
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let (activated, box1) = activate_with_csr(&s, &license, "fp-box-1");

    // The certificate chains to the local CA and names the license and the machine.
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(box1.cert_pem.as_bytes())
        .map(|c: rustls::pki_types::CertificateDer<'_>| c.to_vec())
        .unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(s.app.ca.cert_der()).unwrap();
    assert_eq!(cert.issuer(), ca.subject());
    cert.verify_signature(Some(ca.public_key())).unwrap();
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        id
    );
    let sans = format!(
        "{:?}",
        cert.subject_alternative_name().unwrap().unwrap().value
    );
    assert!(sans.contains(&format!("urn:licd:license:{id}")), "{sans}");
    assert!(sans.contains("urn:licd:fingerprint:"), "{sans}");
    // Valid past the license's end (by the grace window and a day), so an expired
    // appliance can still be told.
    let cert_end = activated["client_certificate_expires_at"].as_str().unwrap();
    let license_end = license["expires_at"].as_str().unwrap();
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    assert_eq!(
        parse(cert_end) - parse(license_end),
        Duration::days(15),
        "{cert_end} vs {license_end}"
    );

    // A heartbeat with it succeeds; without it, it fails even with the secret.
    let c1 = with_cert(&s, &box1);
    let r = beat(&c1, &s, id, "fp-box-1", None);
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let secret = activated["activation_secret"].as_str().unwrap();
    expect_problem(
        beat(&s.client(), &s, id, "fp-box-1", Some(secret)),
        401,
        "client_certificate_required",
    );
    // The certificate authenticates only its own license.
    let other = api.issue(INSTALL, 365);
    let other_id = other["id"].as_str().unwrap();
    expect_problem(
        beat(&c1, &s, other_id, "fp-box-1", None),
        401,
        "client_certificate_unknown",
    );

    // Rebinding makes the old certificate stop working at once.
    let (_, box2) = activate_with_csr(&s, &other, "fp-box-2");
    let c2 = with_cert(&s, &box2);
    assert_eq!(beat(&c2, &s, other_id, "fp-box-2", None).status(), 200);
    api.ok(api.post(
        &format!("/api/v1/licenses/{other_id}/rebind"),
        json!({"fingerprint": "fp-box-3"}),
    ));
    let p = expect_problem(
        beat(&c2, &s, other_id, "fp-box-2", None),
        403,
        "client_certificate_revoked",
    );
    assert!(p["detail"].as_str().unwrap().contains("moved"), "{p}");

    // Revoking does too.
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "stolen appliance"}),
    ));
    let p = expect_problem(
        beat(&c1, &s, id, "fp-box-1", None),
        403,
        "client_certificate_revoked",
    );
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");

    // A malformed CSR is a clear error.
    let fresh = api.issue(INSTALL, 30);
    let r = s
        .client()
        .post(s.url(&format!(
            "/api/v1/licenses/{}/activate",
            fresh["id"].as_str().unwrap()
        )))
        .json(&json!({
            "license_key": fresh["license_key"], "fingerprint": "fp-9",
            "install_id": INSTALL, "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        }))
        .send()
        .unwrap();
    expect_problem(r, 400, "csr_invalid");
}

#[test]
fn appliance_mtls_optional_accepts_either_and_off_ignores_the_csr() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        tls_on(c);
        c.tls.appliance_mtls = ApplianceMtls::Optional;
    });
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let (activated, box1) = activate_with_csr(&s, &license, "fp-1");
    let secret = activated["activation_secret"].as_str().unwrap();
    assert_eq!(
        beat(&with_cert(&s, &box1), &s, id, "fp-1", None).status(),
        200
    );
    assert_eq!(
        beat(&s.client(), &s, id, "fp-1", Some(secret)).status(),
        200
    );
    drop(s);

    // Off (the default): a CSR is ignored and no certificate is returned.
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let (_, csr) = csr();
    let r = s
        .client()
        .post(s.url(&format!(
            "/api/v1/licenses/{}/activate",
            license["id"].as_str().unwrap()
        )))
        .json(&json!({
            "license_key": license["license_key"], "fingerprint": "fp-1",
            "install_id": INSTALL, "csr": csr,
        }))
        .send()
        .unwrap();
    let v: Value = api.ok(r);
    assert_eq!(v["client_certificate"], Value::Null);
}

#[test]
fn licd_ca_issue_writes_a_certificate_for_another_service() {
    let s = TestServer::start();
    let dir = s.stop();
    let out_dir = tempfile::tempdir().unwrap();
    let out = licd()
        .args(["ca", "issue", "--data-dir", dir.path().to_str().unwrap()])
        .args([
            "--name",
            "grafana.plant.example",
            "--ip",
            "10.0.0.7",
            "--days",
            "30",
        ])
        .arg("--out-dir")
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = out_dir.path().join("grafana.plant.example.pem");
    let key = out_dir.path().join("grafana.plant.example.key");
    assert_eq!(mode(&key), 0o600);
    let served = licd::pki::tls::ServerCert::from_files(&cert, &key).unwrap();
    assert_eq!(served.info.names, ["grafana.plant.example", "10.0.0.7"]);
    // Issuing again does not overwrite.
    let again = licd()
        .args(["ca", "issue", "--data-dir", dir.path().to_str().unwrap()])
        .args(["--name", "grafana.plant.example"])
        .arg("--out-dir")
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}
