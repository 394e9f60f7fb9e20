//! `licd agent status` for a person: the status JSON as a few aligned lines.

use serde_json::Value;
use std::fmt::Write;

/// A duration in seconds as `3d 4h`, `2h 5m`, `40s`.
pub fn span(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m {}s", s % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The status as lines for a terminal.
pub fn render(status: &Value) -> String {
    let state = status["state"].as_str().unwrap_or("unknown");
    let headline = match state {
        "valid" => "valid: licensed".to_owned(),
        "grace" => format!(
            "grace: licd not reached; {} left (until {})",
            span(status["remaining_secs"].as_i64().unwrap_or(0)),
            text(&status["until"]).unwrap_or_default()
        ),
        "locked" => format!(
            "locked: {}",
            text(&status["reason"]).unwrap_or_else(|| "no reason given".into())
        ),
        "clock_rollback" => format!(
            "clock_rollback: the clock is {} behind what was seen ({})",
            span(status["by_secs"].as_i64().unwrap_or(0)),
            text(&status["signal"]).unwrap_or_default()
        ),
        "expired" => "expired: the license key has expired".to_owned(),
        "revoked" => "revoked: the license was revoked".to_owned(),
        "not_activated" => "not_activated: no lease yet".to_owned(),
        other => other.to_owned(),
    };
    let mut out = String::new();
    let mut row = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            let _ = writeln!(out, "{label:<18} {v}");
        }
    };
    row("State", Some(headline));
    row("License", text(&status["license_id"]));
    row("License expires", text(&status["license_expires_at"]));
    row(
        "Lease",
        text(&status["lease_seq"]).map(|s| format!("seq {s}")),
    );
    row("Lease expires", text(&status["lease_expires_at"]));
    row("Last contact", text(&status["last_contact"]));
    row("Stage", text(&status["stage"]));
    row("Banner", text(&status["banner"]));
    row(
        "Read-only",
        status["read_only"]
            .as_bool()
            .map(|b| if b { "yes" } else { "no" }.to_owned()),
    );
    row(
        "Users granted",
        match (
            status["internal_users"].as_u64(),
            status["external_users"].as_u64(),
        ) {
            (Some(i), Some(e)) => Some(format!("{i} internal, {e} external")),
            _ => None,
        },
    );
    row(
        "Features",
        status["features"].as_array().map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    if let Some(w) = status.get("clock_warning").filter(|w| !w.is_null()) {
        let detail = match (w["by_secs"].as_i64(), w["signal"].as_str()) {
            (Some(by), Some(signal)) => format!("clock {} behind ({signal})", span(by)),
            _ => w.to_string(),
        };
        row("Clock warning", Some(detail));
    }
    for m in status["messages"].as_array().into_iter().flatten() {
        let line = m
            .as_str()
            .map(str::to_owned)
            .or_else(|| m["text"].as_str().map(str::to_owned))
            .unwrap_or_else(|| m.to_string());
        row("Message", Some(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spans_read_well() {
        assert_eq!(span(40), "40s");
        assert_eq!(span(125), "2m 5s");
        assert_eq!(span(7500), "2h 5m");
        assert_eq!(span(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
    }

    #[test]
    fn grace_shows_the_time_left() {
        let text = render(&json!({
            "state": "grace", "remaining_secs": 7500, "until": "2026-12-17T09:00:00Z",
            "license_id": "L-1", "lease_seq": 4, "features": ["sso"], "read_only": false,
            "internal_users": 50, "external_users": 10,
            "messages": [{"id": 3, "at": "2026-12-03T09:00:00Z", "text": "hello"}],
        }));
        assert!(
            text.contains("grace: licd not reached; 2h 5m left"),
            "{text}"
        );
        assert!(text.contains("seq 4") && text.contains("sso") && text.contains("hello"));
        assert!(text.contains("50 internal, 10 external"), "{text}");
    }
}
