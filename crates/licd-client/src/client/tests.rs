//! Against real HTTP servers on loopback: a small one in a thread answering what each
//! test needs (licd's own replies are tested end to end in licd's integration tests).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::verify::tests::{lease_claims, now};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;

/// What the server saw of one request: the head (request line and headers) and body.
struct Seen {
    head: String,
    body: String,
}

/// Serves `response` (a whole HTTP/1.1 response) once per connection, `count` times,
/// over TLS when `tls` is given; the requests come back on the channel.
fn serve(
    response: String,
    count: usize,
    tls: Option<Arc<ServerConfig>>,
) -> (SocketAddr, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..count {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let seen = match &tls {
                None => answer(tcp, &response),
                Some(config) => {
                    let conn = ServerConnection::new(config.clone()).unwrap();
                    answer(StreamOwned::new(conn, tcp), &response)
                }
            };
            if let Some(seen) = seen {
                let _ = tx.send(seen);
            }
        }
    });
    (addr, rx)
}

fn answer<S: Read + Write>(mut stream: S, response: &str) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    stream.write_all(response.as_bytes()).ok()?;
    stream.flush().ok()?;
    Some(Seen { head, body })
}

fn http(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn json(status: &str, body: &str) -> String {
    http(status, "application/json", body)
}

fn client(addr: SocketAddr) -> Client {
    Client::new(&format!("http://{addr}/"), None, Duration::from_secs(5)).unwrap()
}

fn lease_reply() -> LeaseReply {
    LeaseReply {
        license_id: "L-1".into(),
        state: "active".into(),
        lease: "a.b.c".into(),
        claims: lease_claims(1, "", now()),
    }
}

#[test]
fn jwks_is_read() {
    let jwks = Jwks {
        keys: vec![crate::keys::ApplianceKey::generate().unwrap().public_jwk()],
    };
    let (addr, seen) = serve(
        json("200 OK", &serde_json::to_string(&jwks).unwrap()),
        1,
        None,
    );
    assert_eq!(client(addr).jwks().unwrap(), jwks);
    assert!(
        seen.recv()
            .unwrap()
            .head
            .starts_with("GET /.well-known/jwks.json ")
    );
}

#[test]
fn activate_sends_the_request_and_reads_the_flattened_reply() {
    let reply = serde_json::json!({
        "activation_secret": "lact_s",
        "client_certificate": null,
        "client_certificate_expires_at": null,
        "license_id": "L-1",
        "state": "active",
        "lease": "a.b.c",
        "claims": lease_claims(1, "", now()),
    });
    let (addr, seen) = serve(json("200 OK", &reply.to_string()), 1, None);
    let request = ActivateRequest {
        license_key: "k.e.y".into(),
        fingerprint: "fp-1".into(),
        install_id: "inst-1".into(),
        hostname: None,
        csr: None,
    };
    let activated = client(addr).activate("L 1/x", &request).unwrap();
    assert_eq!(activated.activation_secret, "lact_s");
    assert_eq!(activated.lease, lease_reply());
    let seen = seen.recv().unwrap();
    assert!(
        seen.head
            .starts_with("POST /api/v1/licenses/L%201%2Fx/activate "),
        "{}",
        seen.head
    );
    let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    // licd denies unknown fields: absent options are left out, not null.
    assert_eq!(
        body,
        serde_json::json!({"license_key": "k.e.y", "fingerprint": "fp-1", "install_id": "inst-1"})
    );
}

#[test]
fn heartbeat_sends_the_secret_seq_and_counts() {
    let reply = serde_json::to_string(&lease_reply()).unwrap();
    let (addr, seen) = serve(json("200 OK", &reply), 2, None);
    let c = client(addr);
    let counts = UserCounts {
        internal_users: 4,
        external_users: 2,
    };
    assert_eq!(
        c.heartbeat("L-1", "lact_s", "fp-1", 3, Some(counts))
            .unwrap(),
        lease_reply()
    );
    let first = seen.recv().unwrap();
    assert!(
        first
            .head
            .to_ascii_lowercase()
            .contains("authorization: bearer lact_s")
    );
    let body: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"fingerprint": "fp-1", "seq": 3, "internal_users": 4, "external_users": 2})
    );
    c.heartbeat("L-1", "lact_s", "fp-1", 3, None).unwrap();
    let body: serde_json::Value = serde_json::from_str(&seen.recv().unwrap().body).unwrap();
    assert_eq!(body, serde_json::json!({"fingerprint": "fp-1", "seq": 3}));
}

#[test]
fn a_problem_is_a_refusal_with_its_code() {
    let problem = r#"{"type":"urn:licd:problem:license_revoked","title":"Revoked","status":403,"detail":"license L-1 is revoked","code":"license_revoked"}"#;
    let (addr, _seen) = serve(
        http("403 Forbidden", "application/problem+json", problem),
        1,
        None,
    );
    let err = client(addr)
        .heartbeat("L-1", "lact_s", "fp", 1, None)
        .unwrap_err();
    assert_eq!(
        err,
        ClientError::Refused {
            status: 403,
            code: "license_revoked".into(),
            detail: "license L-1 is revoked".into()
        }
    );
    assert!(!err.is_out_of_touch());
}

#[test]
fn garbage_answers_are_bad_responses() {
    for response in [
        json("200 OK", "{not json"),
        json("200 OK", r#"{"keys": "no"}"#),
        http("502 Bad Gateway", "text/html", "<html>proxy error</html>"),
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc".to_owned(),
    ] {
        let (addr, _seen) = serve(response.clone(), 1, None);
        let err = client(addr).jwks().unwrap_err();
        assert!(err.is_out_of_touch(), "{response}: {err}");
    }
    // Not even HTTP.
    let (addr, _seen) = serve("SSH-2.0-OpenSSH\r\n".to_owned(), 1, None);
    assert!(client(addr).jwks().unwrap_err().is_out_of_touch());
}

#[test]
fn silence_is_a_timeout_and_a_closed_port_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let held = std::thread::spawn(move || {
        let conn: Option<TcpStream> = listener.accept().ok().map(|(s, _)| s);
        std::thread::sleep(Duration::from_secs(2));
        drop(conn);
    });
    let slow = Client::new(&format!("http://{addr}"), None, Duration::from_millis(300)).unwrap();
    assert_eq!(slow.jwks().unwrap_err().kind(), "timeout");
    held.join().unwrap();

    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = client(closed).jwks().unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
}

#[test]
fn bad_configuration_is_refused() {
    for url in ["", "licd.example", "ftp://licd.example", "https://"] {
        let err = Client::new(url, None, Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.kind(), "config", "{url}");
    }
    for pem in [
        "",
        "not a pem",
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    ] {
        let err =
            Client::new("https://licd.example", Some(pem), Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.kind(), "config", "{pem:?}");
    }
}

/// A CA and a server configuration with a certificate it issued for 127.0.0.1.
fn site_ca() -> (String, Arc<ServerConfig>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, &ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let chain = vec![CertificateDer::from(cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    (ca_cert.pem(), Arc::new(config))
}

#[test]
fn the_site_ca_is_the_only_root() {
    let (ca_pem, config) = site_ca();
    let (other_ca, _) = site_ca();
    let body = serde_json::to_string(&Jwks::default()).unwrap();
    let (addr, _seen) = serve(json("200 OK", &body), 3, Some(config));
    let url = format!("https://{addr}");
    let trusted = Client::new(&url, Some(&ca_pem), Duration::from_secs(5)).unwrap();
    assert_eq!(trusted.jwks().unwrap(), Jwks::default());
    for ca in [Some(other_ca.as_str()), None] {
        let c = Client::new(&url, ca, Duration::from_secs(5)).unwrap();
        let err = c.jwks().unwrap_err();
        assert_eq!(err.kind(), "transport", "{err}");
    }
}
