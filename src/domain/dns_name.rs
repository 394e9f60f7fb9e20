//! DNS host names as certificates carry them (RFC 1123 labels, RFC 6125 wildcards).

use super::DomainError;

/// Longest name (RFC 1035, without the trailing dot).
pub const MAX_NAME: usize = 253;
/// Longest label.
pub const MAX_LABEL: usize = 63;

/// Checks a host name for a certificate and returns it lower-cased: labels of 1 to 63
/// `A-Z a-z 0-9 -`, not starting or ending with `-`, at most 253 characters in all. A
/// wildcard is allowed only as the whole left-most label (`*.plant.example`), and not
/// directly above a top-level domain (`*.com`). An IP address is not a host name.
pub fn check(field: &'static str, raw: &str) -> Result<String, DomainError> {
    let bad = |why: &str| DomainError::invalid(field, format!("{raw:?} {why}"));
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(bad("is empty"));
    }
    if name.len() > MAX_NAME {
        return Err(bad(&format!("is longer than {MAX_NAME} characters")));
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(bad("is an IP address, not a DNS name"));
    }
    let (wildcard, rest) = match name.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, name.as_str()),
    };
    let labels: Vec<&str> = rest.split('.').collect();
    for label in &labels {
        check_label(label).map_err(|why| bad(&why))?;
    }
    if wildcard && labels.len() < 2 {
        return Err(bad(
            "puts a wildcard directly above a top-level domain; use *.name.tld",
        ));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad("has an all-numeric top-level label"));
    }
    Ok(name)
}

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("has an empty label (two dots, or a dot at an end)".into());
    }
    if label.len() > MAX_LABEL {
        return Err(format!("has a label longer than {MAX_LABEL} characters"));
    }
    if label.contains('*') {
        return Err("has a wildcard that is not the whole left-most label".into());
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "contains {c:?}; a DNS name has only A-Z a-z 0-9 - and dots"
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("has a label that starts or ends with '-'".into());
    }
    Ok(())
}

/// A file name stem for a checked name: the wildcard label becomes `_wildcard`
/// (`*.plant.example` -> `_wildcard.plant.example`). A checked name has no path
/// separators and no empty labels, so the stem is a plain file name.
pub fn file_stem(checked: &str) -> String {
    match checked.strip_prefix("*.") {
        Some(rest) => format!("_wildcard.{rest}"),
        None => checked.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names() {
        for (raw, want) in [
            ("grafana.plant.example", "grafana.plant.example"),
            ("Grafana.Plant.Example", "grafana.plant.example"),
            ("localhost", "localhost"),
            ("*.plant.example", "*.plant.example"),
            ("a-b.c1.example", "a-b.c1.example"),
            ("1host.example", "1host.example"),
        ] {
            assert_eq!(check("name", raw).unwrap(), want);
        }
        let label = "a".repeat(63);
        assert!(check("name", &format!("{label}.example")).is_ok());
    }

    #[test]
    fn bad_names() {
        let long = format!("{}.example", vec!["a".repeat(63); 4].join("."));
        for raw in [
            "",
            "../escaped",
            "/tmp/abs",
            "bad_name!",
            "a..b",
            ".example",
            "example.",
            "-a.example",
            "a-.example",
            "*",
            "*.com",
            "a.*.example",
            "*x.example",
            "**.example",
            "*.*.example",
            "10.0.0.7",
            "::1",
            "host.123",
            "tab\tname",
            "caf\u{e9}.example",
            &"a".repeat(64),
            &long,
        ] {
            assert!(check("name", raw).is_err(), "{raw:?}");
        }
        let err = check("--name", "../escaped").unwrap_err().to_string();
        assert!(err.starts_with("--name: \"../escaped\""), "{err}");
    }

    #[test]
    fn stems() {
        assert_eq!(file_stem("*.plant.example"), "_wildcard.plant.example");
        assert_eq!(file_stem("grafana.example"), "grafana.example");
    }
}
