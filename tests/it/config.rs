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

/// packaging/licd.toml lists every option with its default: uncommenting every
/// `#key = value` line gives exactly the defaults (with the packaged data dir), and
/// every key of the configuration appears in it.
#[test]
fn the_packaged_config_lists_every_option_with_its_default() {
    let packaged = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/licd.toml"),
    )
    .unwrap();
    let uncommented: String = packaged
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("licd.toml");
    std::fs::write(&file, &uncommented).unwrap();
    let loaded =
        licd::config::Config::load(Some(&file), &licd::config::Overrides::default()).unwrap();
    let mut expected = licd::config::Config::default();
    expected.storage.data_dir = "/var/lib/licd".into();
    assert_eq!(loaded, expected);

    // Every key, including unset ones (shown as examples), is named in the file.
    fn keys(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(m) = v {
            for (k, v) in m {
                match v {
                    serde_json::Value::Object(_) => keys(k, v, out),
                    _ => out.push(format!("{prefix}.{k}")),
                }
            }
        }
    }
    let mut all = Vec::new();
    keys(
        "",
        &serde_json::to_value(licd::config::Config::default()).unwrap(),
        &mut all,
    );
    assert!(all.len() >= 29, "{all:?}");
    for key in all {
        let name = key.rsplit('.').next().unwrap();
        assert!(
            packaged.contains(&format!("{name} = ")),
            "packaging/licd.toml does not mention {key}"
        );
    }
    // And the file as shipped passes check-config.
    let shipped = dir.path().join("shipped.toml");
    std::fs::write(&shipped, &packaged).unwrap();
    let out = run(licd().args(["check-config", shipped.to_str().unwrap()]));
    assert!(out.status.success(), "{}", text(&out));
}
