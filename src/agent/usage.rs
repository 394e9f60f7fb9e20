//! The vendor's `usage_command`: run with `/bin/sh -c` and a timeout, its standard output
//! parsed as `{"internal_users":N,"external_users":M}`.

use licd_client::formats::UserCounts;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Why the counts could not be read; the message says what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("usage_command could not start: {0}")]
    Spawn(std::io::Error),
    #[error("usage_command did not finish within {0} s and was killed")]
    Timeout(u64),
    #[error("usage_command exited with {status}: {stderr}")]
    Failed { status: String, stderr: String },
    #[error(
        "usage_command printed {got:?}, not {{\"internal_users\":N,\"external_users\":M}}: {why}"
    )]
    Unreadable { got: String, why: String },
}

/// The most output read from the command.
const MAX_OUTPUT: u64 = 64 * 1024;

/// Runs `command` and parses its counts.
pub fn read_counts(command: &str, timeout: Duration) -> Result<UserCounts, UsageError> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(UsageError::Spawn)?;
    // Read both pipes on their own threads so a chatty command cannot block on a full
    // pipe while we wait for it.
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    let status = match wait_with_timeout(&mut child, timeout) {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(UsageError::Timeout(timeout.as_secs()));
        }
    };
    let stdout = out.map(join).unwrap_or_default();
    let stderr = err.map(join).unwrap_or_default();
    if !status.success() {
        return Err(UsageError::Failed {
            status: status.to_string(),
            stderr: stderr.trim().chars().take(300).collect(),
        });
    }
    parse_counts(&stdout)
}

/// Parses the command's output.
pub fn parse_counts(text: &str) -> Result<UserCounts, UsageError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Counts {
        internal_users: u32,
        external_users: u32,
    }
    serde_json::from_str::<Counts>(text.trim())
        .map(|c| UserCounts {
            internal_users: c.internal_users,
            external_users: c.external_users,
        })
        .map_err(|e| UsageError::Unreadable {
            got: text.trim().chars().take(200).collect(),
            why: e.to_string(),
        })
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.by_ref().take(MAX_OUTPUT).read_to_end(&mut buf);
        // Drain the rest so the command does not block writing it.
        let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn join(h: std::thread::JoinHandle<String>) -> String {
    h.join().unwrap_or_default()
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let step = Duration::from_millis(20);
    let mut waited = Duration::ZERO;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if waited < timeout => {
                std::thread::sleep(step);
                waited += step;
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_read_from_the_command() {
        let c = read_counts(
            "echo '{\"internal_users\": 12, \"external_users\": 3}'",
            Duration::from_secs(5),
        )
        .expect("counts");
        assert_eq!((c.internal_users, c.external_users), (12, 3));
    }

    #[test]
    fn a_failing_slow_or_garbled_command_is_an_error_that_says_so() {
        let e = read_counts("echo oops >&2; exit 3", Duration::from_secs(5)).expect_err("exit 3");
        assert!(e.to_string().contains("oops"), "{e}");
        let e = read_counts("sleep 5", Duration::from_millis(200)).expect_err("slow");
        assert!(matches!(e, UsageError::Timeout(_)), "{e}");
        let e = read_counts("echo '{\"internal_users\": -1}'", Duration::from_secs(5))
            .expect_err("garbled");
        assert!(e.to_string().contains("internal_users"), "{e}");
    }
}
