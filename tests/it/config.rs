use crate::harness::*;

#[test]
fn check_config_accepts_a_good_file_and_names_a_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[server]\nlisten = \"127.0.0.1:9090\"\n[auth]\nsession_ttl_minutes = 60\n",
    )
    .unwrap();
    let out = run(licd().args(["check-config", good.to_str().unwrap()]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("127.0.0.1:9090"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisen = \"127.0.0.1:9090\"\n").unwrap();
    let out = run(licd().args(["check-config", bad.to_str().unwrap()]));
    assert!(!out.status.success());
    assert!(text(&out).contains("lisen"), "{}", text(&out));

    let wrong_type = dir.path().join("type.toml");
    std::fs::write(&wrong_type, "[storage]\nreaders = \"many\"\n").unwrap();
    let out = run(licd().args(["check-config", wrong_type.to_str().unwrap()]));
    assert!(!out.status.success());
    assert!(text(&out).contains("readers"), "{}", text(&out));

    let out = run(licd().args([
        "check-config",
        dir.path().join("missing.toml").to_str().unwrap(),
    ]));
    assert!(!out.status.success());
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
}

#[test]
fn environment_overrides_file_and_flags_override_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("licd.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:9090\"\n[storage]\ndata_dir = \"/from/file\"\n",
    )
    .unwrap();
    let out = run(licd()
        .args(["check-config", file.to_str().unwrap()])
        .env("LICD_SERVER__LISTEN", "127.0.0.1:9191")
        .env("LICD_TLS__HOSTNAMES", "[licd.plant.example]"));
    assert!(
        text(&out).contains("https    = 127.0.0.1:8443"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("http     = 127.0.0.1:9191 (redirects to HTTPS)"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("data_dir = /from/file"),
        "{}",
        text(&out)
    );
    let out = run(licd()
        .args([
            "check-config",
            file.to_str().unwrap(),
            "--data-dir",
            "/from/flag",
        ])
        .env("LICD_STORAGE__DATA_DIR", "/from/env"));
    assert!(
        text(&out).contains("data_dir = /from/flag"),
        "{}",
        text(&out)
    );
    // An unknown nested variable is an error naming it.
    let out = run(licd()
        .args(["check-config", file.to_str().unwrap()])
        .env("LICD_SERVER__LISTN", "x"));
    assert!(!out.status.success());
    assert!(text(&out).contains("listn"), "{}", text(&out));
    // A world-readable file gets a warning.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(licd().args(["check-config", file.to_str().unwrap()]));
    assert!(
        text(&out).contains("readable by every user"),
        "{}",
        text(&out)
    );
}

#[test]
fn json_logs_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(licd()
        .args([
            "init",
            "--log-format",
            "json",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .env("LICD_LOG", "info")
        .env("LICD_ADMIN_PASSWORD", "a-long-enough-password"));
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("{stderr}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["level"], "INFO");
}
