//! Sending one message over SMTP (`lettre`, rustls; the blocking transport, used on
//! the job's thread only, never inside a database transaction).

use super::{Result, ServiceError};
use crate::config::{EmailConfig, SmtpSecurity};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// A message as the outbox hands it to SMTP.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// Makes the `Message-ID`, so that a message sent twice (see `outbox`) can be told
    /// apart from two messages by the receiver.
    pub message_id: String,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// The configured SMTP server and sender (`[email]`); absent when `email.smtp_url` is
/// unset.
pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
    /// Where the server is, for the log.
    pub server: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn startup(what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::startup(
        format!("the email settings ({what})"),
        std::io::Error::other(e.to_string()),
    )
}

impl SmtpMailer {
    /// Prepares the transport from `[email]` (checked by `Config::validate`); `None`
    /// without `smtp_url`. Nothing connects until the first message.
    pub fn from_config(c: &EmailConfig) -> Result<Option<SmtpMailer>> {
        let Some(endpoint) = c.endpoint().map_err(|e| startup("email.smtp_url", e))? else {
            return Ok(None);
        };
        let from: Mailbox = c
            .from
            .as_deref()
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|e| startup("email.from", e))?;
        let tls = || -> Result<TlsParameters> {
            let mut b = TlsParameters::builder(endpoint.host.clone());
            if let Some(ca) = &c.ca_file {
                let pem = std::fs::read(ca).map_err(|e| startup("email.ca_file", e))?;
                for cert in pem_certificates(&pem) {
                    let cert =
                        Certificate::from_pem(&cert).map_err(|e| startup("email.ca_file", e))?;
                    b = b.add_root_certificate(cert);
                }
            }
            b.build_rustls().map_err(|e| startup("TLS", e))
        };
        let security = match endpoint.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::Implicit => Tls::Wrapper(tls()?),
        };
        let mut builder = SmtpTransport::builder_dangerous(endpoint.host.clone())
            .port(endpoint.port)
            .tls(security)
            .timeout(Some(Duration::from_secs(c.timeout_secs)))
            .hello_name(ClientId::Domain(hello_name(&from)));
        if let Some(creds) = c
            .credentials()
            .map_err(|e| startup("email.smtp_password_file", e))?
        {
            builder = builder.credentials(Credentials::new(creds.username, creds.password));
        }
        Ok(Some(SmtpMailer {
            transport: builder.build(),
            from,
            server: format!("{}:{}", endpoint.host, endpoint.port),
        }))
    }

    /// Sends one message; the error says why it was not accepted (kept in the outbox as
    /// its `last_error`).
    pub fn send(&self, m: &Outgoing<'_>) -> std::result::Result<(), String> {
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| format!("recipient {:?}: {e}", m.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject)
            .message_id(Some(format!(
                "<{}@{}>",
                m.message_id,
                self.from.email.domain()
            )))
            .multipart(MultiPart::alternative_plain_html(
                m.text.to_owned(),
                m.html.to_owned(),
            ))
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| format!("{}: {}", self.server, error_chain(&e)))
    }
}

/// The EHLO name: the sender's domain (the machine's own name may not resolve).
fn hello_name(from: &Mailbox) -> String {
    from.email.domain().to_owned()
}

/// An error and its causes in one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        next = cause.source();
    }
    s
}

/// Each `-----BEGIN CERTIFICATE-----` block of a PEM file.
fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(pem);
    text.split_inclusive(END)
        .filter_map(|chunk| {
            let start = chunk.find("-----BEGIN CERTIFICATE-----")?;
            chunk
                .ends_with(END)
                .then(|| chunk.as_bytes()[start..].to_vec())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_files_are_split_into_certificates() {
        let one = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        let two = format!("# site CA\n{one}\n\n{one}\n");
        assert_eq!(pem_certificates(two.as_bytes()).len(), 2);
        assert_eq!(pem_certificates(one.as_bytes())[0], one.as_bytes());
        assert!(pem_certificates(b"nothing").is_empty());
    }

    #[test]
    fn no_smtp_url_means_no_mailer() {
        assert!(
            SmtpMailer::from_config(&EmailConfig::default())
                .unwrap()
                .is_none()
        );
        let c = EmailConfig {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            from: Some("Licensing <licd@example.com>".into()),
            ..Default::default()
        };
        let m = SmtpMailer::from_config(&c).unwrap().unwrap();
        assert_eq!(m.server, "127.0.0.1:2525");
        assert_eq!(hello_name(&m.from), "example.com");
    }
}
