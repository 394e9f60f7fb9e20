//! `[email]`: the SMTP server licd sends its outbox through. No `smtp_url` means an
//! air-gapped site: messages stay in the outbox, where staff read them.

use super::{ConfigError, group_or_world_readable};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `smtp://host[:port]` (plain, port 25), `smtp://host[:port]?tls=starttls` (STARTTLS
    /// required, port 25), or `smtps://host[:port]` (TLS from the start, port 465).
    /// Unset: nothing is sent; messages wait in the outbox.
    pub smtp_url: Option<String>,
    /// The user name to authenticate as (with `smtp_password_file`); unset: no AUTH.
    pub smtp_username: Option<String>,
    /// A file holding the SMTP password (one line); it must not be readable by group or
    /// others.
    pub smtp_password_file: Option<PathBuf>,
    /// The sender: `licd@example.com` or `Example Licensing <licd@example.com>`.
    /// Needed with `smtp_url`.
    pub from: Option<String>,
    /// A PEM file of certificate authorities to trust for the SMTP server's certificate,
    /// besides the system's (e.g. the site's own CA).
    pub ca_file: Option<PathBuf>,
    /// How long one SMTP conversation may take, in seconds (1 to 300; default 30).
    pub timeout_secs: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            smtp_url: None,
            smtp_username: None,
            smtp_password_file: None,
            from: None,
            ca_file: None,
            timeout_secs: 30,
        }
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (a relay on the same host or network).
    None,
    /// Plain text, then `STARTTLS` (required: no fall back to plain text).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// `email.smtp_url`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
}

/// The SMTP password, read from its file.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl EmailConfig {
    /// Where to send, or `None` when email is off (air-gapped).
    pub fn endpoint(&self) -> Result<Option<SmtpEndpoint>, ConfigError> {
        self.smtp_url.as_deref().map(parse_smtp_url).transpose()
    }

    /// The credentials to authenticate with, read from `smtp_password_file` (refused
    /// when the file is readable by group or others), or `None` without a user name.
    pub fn credentials(&self) -> Result<Option<SmtpCredentials>, ConfigError> {
        let (username, file) = match (&self.smtp_username, &self.smtp_password_file) {
            (None, None) => return Ok(None),
            (Some(u), Some(f)) => (u, f),
            _ => {
                return Err(ConfigError::Invalid(
                    "email.smtp_username and email.smtp_password_file go together: set both or neither".into(),
                ));
            }
        };
        let at = format!("email.smtp_password_file {}", file.display());
        if let Some(mode) = group_or_world_readable(file) {
            return Err(ConfigError::Invalid(format!(
                "{at} is readable by group or others (mode {mode:o}); make it 0600"
            )));
        }
        let text = std::fs::read_to_string(file)
            .map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
        let password = text.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            return Err(ConfigError::Invalid(format!("{at} is empty")));
        }
        Ok(Some(SmtpCredentials {
            username: username.clone(),
            password,
        }))
    }

    /// Checks the section: a readable URL, a sender when there is one, the password
    /// file, the timeout.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |msg: String| Err(ConfigError::Invalid(msg));
        if !(1..=300).contains(&self.timeout_secs) {
            return bad("email.timeout_secs must be between 1 and 300".into());
        }
        let endpoint = self.endpoint()?;
        self.credentials()?;
        match (&endpoint, self.from.as_deref().map(str::trim)) {
            (Some(_), None | Some("")) => {
                return bad(
                    "email.from is needed with email.smtp_url (the sender's address)".into(),
                );
            }
            (_, Some(from)) if !looks_like_mailbox(from) => {
                return bad(format!(
                    "email.from {from:?}: give an address (licd@example.com) or Name <licd@example.com>"
                ));
            }
            _ => {}
        }
        if let Some(ca) = &self.ca_file {
            let pem = std::fs::read_to_string(ca).map_err(|e| {
                ConfigError::Invalid(format!("email.ca_file {}: {e}", ca.display()))
            })?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return bad(format!(
                    "email.ca_file {}: no PEM certificate in it",
                    ca.display()
                ));
            }
        }
        Ok(())
    }
}

/// `address` or `Name <address>`, the address with one `@` and no spaces.
fn looks_like_mailbox(s: &str) -> bool {
    let address = match (s.rfind('<'), s.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        (None, None) => s,
        _ => return false,
    };
    matches!(address.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'))
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Reads `smtp://host[:port][?tls=starttls]` or `smtps://host[:port]`. Credentials in
/// the URL are refused (they belong in `smtp_password_file`).
pub fn parse_smtp_url(url: &str) -> Result<SmtpEndpoint, ConfigError> {
    let bad = |why: &str| {
        Err(ConfigError::Invalid(format!(
            "email.smtp_url {url:?}: {why}"
        )))
    };
    let lower = url.trim().to_ascii_lowercase();
    let (implicit, rest) = if let Some(rest) = lower.strip_prefix("smtps://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("smtp://") {
        (false, rest)
    } else {
        return bad("must start with smtp:// or smtps://");
    };
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains('@') {
        return bad(
            "put no user or password in the URL; use email.smtp_username and email.smtp_password_file",
        );
    }
    if authority
        .chars()
        .any(|c| matches!(c, '/' | '#' | '\\') || c.is_whitespace() || c.is_control())
    {
        return bad("must be scheme, host and optional port only");
    }
    let security = match (implicit, query) {
        (true, None) => SmtpSecurity::Implicit,
        (false, None) => SmtpSecurity::None,
        (false, Some("tls=starttls")) => SmtpSecurity::StartTls,
        (true, Some(_)) => return bad("smtps:// takes no ?tls= (it is TLS from the start)"),
        (false, Some(_)) => return bad("the only option is ?tls=starttls"),
    };
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, "")) => (h, None),
            Some((h, after)) => match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None => return bad("has something after the ] of the host"),
            },
            None => return bad("has an unclosed [ in the host"),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return bad("names no host");
    }
    let port = match port {
        None if implicit => 465,
        None => 25,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return bad("has a port that is not a number from 1 to 65535"),
        },
    };
    Ok(SmtpEndpoint {
        host: host.to_owned(),
        port,
        security,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(host: &str, port: u16, security: SmtpSecurity) -> SmtpEndpoint {
        SmtpEndpoint {
            host: host.into(),
            port,
            security,
        }
    }

    #[test]
    fn smtp_urls_are_read_with_their_default_ports() {
        use SmtpSecurity::*;
        let cases = [
            ("smtp://mail.example.com", ep("mail.example.com", 25, None)),
            ("smtp://127.0.0.1:2525", ep("127.0.0.1", 2525, None)),
            (
                "smtp://mail.example.com:587?tls=starttls",
                ep("mail.example.com", 587, StartTls),
            ),
            (
                "SMTPS://Mail.Example.com",
                ep("mail.example.com", 465, Implicit),
            ),
            ("smtps://[::1]:4650/", ep("::1", 4650, Implicit)),
        ];
        for (url, want) in cases {
            assert_eq!(parse_smtp_url(url).unwrap(), want, "{url}");
        }
    }

    #[test]
    fn bad_smtp_urls_are_named() {
        for (url, says) in [
            ("http://mail.example.com", "smtp:// or smtps://"),
            ("smtp://user:pw@mail.example.com", "no user or password"),
            ("smtp://mail.example.com?tls=required", "?tls=starttls"),
            ("smtps://mail.example.com?tls=starttls", "takes no ?tls="),
            ("smtp://:25", "names no host"),
            ("smtp://mail.example.com:0", "port"),
            ("smtp://mail.example.com:99999", "port"),
            (
                "smtp://mail.example.com/path",
                "scheme, host and optional port",
            ),
        ] {
            let err = parse_smtp_url(url).unwrap_err().to_string();
            assert!(
                err.contains(says) && err.contains("email.smtp_url"),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn a_sender_is_needed_with_a_server_and_must_be_an_address() {
        let mut c = EmailConfig {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            ..Default::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("email.from is needed"), "{err}");
        c.from = Some("licd".into());
        assert!(c.validate().unwrap_err().to_string().contains("email.from"));
        for ok in ["licd@example.com", "Example Licensing <licd@example.com>"] {
            c.from = Some(ok.into());
            c.validate().unwrap();
        }
        // Air-gapped: no server, no sender needed.
        EmailConfig::default().validate().unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_password_file_must_be_private_and_goes_with_a_user_name() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("smtp-password");
        std::fs::write(&file, "s3cret\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut c = EmailConfig {
            smtp_password_file: Some(file.clone()),
            ..Default::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("go together"), "{err}");
        c.smtp_username = Some("licd".into());
        let creds = c.credentials().unwrap().unwrap();
        assert_eq!(creds.password, "s3cret");
        assert!(!format!("{creds:?}").contains("s3cret"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("email.smtp_password_file") && err.contains("mode 640"),
            "{err}"
        );
    }
}
