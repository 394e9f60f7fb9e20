//! The text and HTML of an outgoing message, made from one generic layout under
//! `assets/email/` (minijinja; the HTML is escaped, the text is not).

use super::{Result, ServiceError};
use minijinja::{Environment, context};
use serde::Serialize;
use std::sync::OnceLock;

/// A link the message asks its reader to open (an invitation, a reset).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EmailLink {
    pub label: String,
    pub url: String,
}

/// What a message says, before the layout: its heading, paragraphs and an optional
/// link, signed with the product's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    /// What caused it (`invitation`, `verification`, `test`, ...), for the outbox list.
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub link: Option<EmailLink>,
    /// The event this message belongs to, so that it is written at most once.
    pub dedupe_key: Option<String>,
}

/// The message's two bodies: plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bodies {
    pub text: String,
    pub html: String,
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        // The layout is part of the binary; a broken one fails the unit test below.
        for (name, source) in [
            (
                "message.txt",
                include_str!("../../assets/email/message.txt"),
            ),
            (
                "message.html",
                include_str!("../../assets/email/message.html"),
            ),
        ] {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "email template does not parse");
            }
        }
        env
    })
}

/// Renders a message's bodies; `product` signs it (the tenant's name).
pub fn render(product: &str, c: &EmailContent) -> Result<Bodies> {
    let ctx = context! {
        product => product,
        heading => &c.heading,
        paragraphs => &c.paragraphs,
        link => &c.link,
    };
    let one = |name: &str| -> Result<String> {
        env()
            .get_template(name)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| ServiceError::internal(format!("rendering email {name}"), e))
    };
    Ok(Bodies {
        text: one("message.txt")?,
        html: one("message.html")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bodies_carry_the_words_and_the_link_and_html_is_escaped() {
        let c = EmailContent {
            kind: "test".into(),
            to: "a@example.com".into(),
            subject: "Hello".into(),
            heading: "Welcome <friend>".into(),
            paragraphs: vec!["First & second.".into(), "Third.".into()],
            link: Some(EmailLink {
                label: "Accept".into(),
                url: "https://licd.example.com/portal/accept?t=a&b".into(),
            }),
            dedupe_key: None,
        };
        let b = render("Acme Licensing", &c).unwrap();
        assert!(b.text.contains("Welcome <friend>"), "{}", b.text);
        assert!(b.text.contains("First & second.\n"), "{}", b.text);
        assert!(
            b.text
                .contains("Accept:\nhttps://licd.example.com/portal/accept?t=a&b\n"),
            "{}",
            b.text
        );
        assert!(b.text.trim_end().ends_with("Acme Licensing"), "{}", b.text);
        assert!(b.html.contains("Welcome &lt;friend&gt;"), "{}", b.html);
        assert!(b.html.contains("First &amp; second."), "{}", b.html);
        assert!(
            b.html.contains(
                "href=\"https:&#x2f;&#x2f;licd.example.com&#x2f;portal&#x2f;accept?t=a&amp;b\""
            ) || b
                .html
                .contains("href=\"https://licd.example.com/portal/accept?t=a&amp;b\""),
            "{}",
            b.html
        );
        let no_link = render("P", &EmailContent { link: None, ..c }).unwrap();
        assert!(!no_link.text.contains("Accept"));
        assert!(!no_link.html.contains("<a "));
    }
}
