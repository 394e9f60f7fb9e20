//! `licd ca issue` (issue 10, item 11): names are DNS names (RFC 1123, wildcard rules)
//! and never paths; the files always land inside `--out-dir`, and a refused name writes
//! nothing anywhere.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A data dir with a CA (the server made it), a parent dir and an `--out-dir` inside it.
struct Site {
    data: tempfile::TempDir,
    parent: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let s = TestServer::start();
        let data = s.stop();
        let parent = tempfile::tempdir().unwrap();
        std::fs::create_dir(parent.path().join("out")).unwrap();
        Site { data, parent }
    }

    fn out_dir(&self) -> PathBuf {
        self.parent.path().join("out")
    }

    fn issue(&self, names: &[&str]) -> Output {
        let mut cmd = licd();
        cmd.args(["ca", "issue", "--data-dir"])
            .arg(self.data.path())
            .arg("--out-dir")
            .arg(self.out_dir());
        for n in names {
            cmd.args(["--name", n]);
        }
        run(&mut cmd)
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            found.extend(files_under(&p));
        } else {
            found.push(p);
        }
    }
    found.sort();
    found
}

#[track_caller]
fn refused(out: &Output, naming: &str) {
    let t = text(out);
    assert!(!out.status.success(), "accepted: {t}");
    assert!(t.contains(naming), "the message names {naming:?}: {t}");
}

#[test]
fn a_path_as_name_is_refused_and_nothing_is_written() {
    let site = Site::new();
    let escaped = site.parent.path().join("escaped");
    let abs_dir = tempfile::tempdir().unwrap();
    let abs = abs_dir.path().join("abs");
    let abs = abs.to_str().unwrap();
    for name in [
        "../escaped",
        abs,
        "bad_name!",
        "a..b",
        "*",
        "*.com",
        "a.*.example",
    ] {
        let out = site.issue(&[name]);
        refused(&out, &format!("{name:?}"));
        assert!(text(&out).contains("--name"), "{}", text(&out));
    }
    // A bad second name refuses the whole request too.
    refused(
        &site.issue(&["ok.plant.example", "../escaped"]),
        "../escaped",
    );
    assert_eq!(files_under(site.parent.path()), Vec::<PathBuf>::new());
    assert!(!escaped.with_extension("pem").exists() && !escaped.with_extension("key").exists());
    assert_eq!(files_under(abs_dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn good_names_and_a_wildcard_are_issued_inside_the_out_dir() {
    let site = Site::new();
    let out = site.issue(&["Grafana.Plant.Example", "metrics.plant.example"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = site.issue(&["*.plant.example"]);
    assert!(out.status.success(), "{}", text(&out));
    let dir = site.out_dir();
    assert_eq!(
        files_under(site.parent.path()),
        vec![
            dir.join("_wildcard.plant.example.key"),
            dir.join("_wildcard.plant.example.pem"),
            dir.join("grafana.plant.example.key"),
            dir.join("grafana.plant.example.pem"),
        ]
    );
    let pem = std::fs::read(dir.join("_wildcard.plant.example.pem")).unwrap();
    let key = std::fs::read(dir.join("_wildcard.plant.example.key")).unwrap();
    let cert = licd::pki::tls::ServerCert::from_pem(&pem, &key).unwrap();
    assert_eq!(cert.info.names, ["*.plant.example"]);
    let pem = std::fs::read(dir.join("grafana.plant.example.pem")).unwrap();
    let key = std::fs::read(dir.join("grafana.plant.example.key")).unwrap();
    let cert = licd::pki::tls::ServerCert::from_pem(&pem, &key).unwrap();
    assert_eq!(
        cert.info.names,
        ["grafana.plant.example", "metrics.plant.example"]
    );
}
