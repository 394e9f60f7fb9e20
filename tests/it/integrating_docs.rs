//! docs/integrating.md tells the truth: its Python example, taken from the document
//! itself, verifies a real license key and a real lease with a standard JOSE library
//! (PyJWT) and refuses a lease offered as a license key (`typ`); its Rust example is the
//! one the workspace builds.
//!
//! Python comes from the machine (`python3`); PyJWT is installed into a virtualenv under
//! `target/` the first time (the test command needs PyPI once, or the venv cached).

use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The first ```python block of docs/integrating.md.
fn documented_example() -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/integrating.md"))
            .expect("docs/integrating.md");
    let start = doc
        .find("```python\n")
        .expect("a python block in docs/integrating.md")
        + 10;
    let len = doc[start..].find("```").expect("the python block ends");
    doc[start..start + len].to_owned()
}

/// A python with PyJWT: `target/py-jose`, made on first use.
fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-jose");
    let py = venv.join("bin/python");
    let has_jwt = |py: &Path| {
        Command::new(py)
            .args(["-c", "import jwt, cryptography"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_jwt(&py) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(made.success(), "python3 -m venv {}", venv.display());
        let pip = Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pyjwt[crypto]>=2.8,<3",
            ])
            .status()
            .expect("pip runs");
        assert!(pip.success(), "pip install pyjwt[crypto]");
    }
    assert!(has_jwt(&py), "PyJWT is importable from {}", py.display());
    py
}

#[test]
fn pyjwt_verifies_a_license_key_and_a_lease_as_documented() {
    // PyJWT checks `nbf` and `exp` against the real clock.
    let now = licd::clock::Clock::now(&licd::clock::SystemClock);
    let s = TestServer::start_at(tempfile::tempdir().unwrap(), Some(now), |_| {});
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 30);
    let activated = api.ok(activate(&s, &license, "fp-python-1"));
    let jwks = api.ok(api.get("/.well-known/jwks.json"));

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("verify_licd.py");
    std::fs::write(&script, documented_example()).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let jwks_file = write("jwks.json", &jwks.to_string());
    let key_file = write("license.key", license["license_key"].as_str().unwrap());
    let lease_file = write("lease.jwt", activated["lease"].as_str().unwrap());
    let py = python();
    let verify = |key: &Path, lease: &Path, fingerprint: &str| {
        Command::new(&py)
            .arg(&script)
            .arg(&jwks_file)
            .arg(key)
            .arg(lease)
            .args([INSTALL, fingerprint])
            .output()
            .unwrap()
    };

    let ok = verify(&key_file, &lease_file, "fp-python-1");
    assert!(ok.status.success(), "{}", text(&ok));
    let out: serde_json::Value =
        serde_json::from_slice(&ok.stdout).expect("the example prints JSON");
    assert_eq!(out["license_id"], license["id"]);
    assert_eq!(out["internal_users"], 50);
    assert_eq!(out["features"], serde_json::json!(["sso"]));
    assert_eq!(out["lease_state"], "active");
    assert_eq!(out["lease_seq"], 1);

    // A lease offered as the license key: its signature is good, its typ is not.
    let swapped = verify(&lease_file, &lease_file, "fp-python-1");
    assert!(!swapped.status.success());
    assert!(
        text(&swapped).contains("not a licd-license+jwt"),
        "{}",
        text(&swapped)
    );

    // The lease of another box.
    let foreign = verify(&key_file, &lease_file, "fp-python-2");
    assert!(!foreign.status.success());
    assert!(text(&foreign).contains("fingerprint"), "{}", text(&foreign));

    // One character changed in the key's payload: the signature no longer holds.
    let altered = write(
        "altered.key",
        &flip_char(license["license_key"].as_str().unwrap()),
    );
    let bad = verify(&altered, &lease_file, "fp-python-1");
    assert!(!bad.status.success(), "{}", text(&bad));
}

/// The Rust example in docs/integrating.md is the example the workspace builds.
#[test]
fn the_documented_rust_example_is_the_one_that_is_built() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/integrating.md")).unwrap();
    let start = doc.find("```rust\n").expect("a rust block") + 8;
    // The example's own doc comment holds fences (`//! ```text`): the block ends at a
    // fence alone on its line.
    let len = doc[start..].find("\n```\n").expect("the rust block ends") + 1;
    let example =
        std::fs::read_to_string(root.join("crates/licd-client/examples/appliance.rs")).unwrap();
    assert_eq!(
        doc[start..start + len],
        example,
        "copy crates/licd-client/examples/appliance.rs into docs/integrating.md"
    );
}
