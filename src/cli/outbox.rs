//! `licd outbox ...`: the email outbox of a tenant, for operators of air-gapped sites
//! (no SMTP server: messages wait here, and their links are handed over by other means).

use super::open_existing;
use super::tenant::cli_actor;
use anyhow::{Result, anyhow};
use clap::Subcommand;
use licd::config::Config;
use licd::service::outbox::{self, OutboxMessage};

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List the newest messages (at most 200): id, state, attempts, recipient, subject.
    List {
        /// The tenant's schema_name.
        #[arg(long, default_value = "public")]
        tenant: String,
    },
    /// Show one message: its headers, state, last error and text body (with its links).
    Show {
        /// The message's id (from `licd outbox list`).
        id: i64,
        /// The tenant's schema_name.
        #[arg(long, default_value = "public")]
        tenant: String,
    },
    /// Record that a message was delivered by other means, so it is never sent
    /// (audited as cli:<user>).
    MarkSent {
        /// The message's id.
        id: i64,
        /// The tenant's schema_name.
        #[arg(long, default_value = "public")]
        tenant: String,
    },
    /// Put a test message into the outbox (sent by the running server's email-delivery
    /// job when email.smtp_url is set).
    SendTest {
        /// The address to send it to.
        #[arg(long)]
        to: String,
        /// The tenant's schema_name.
        #[arg(long, default_value = "public")]
        tenant: String,
    },
}

fn line(m: &OutboxMessage) -> String {
    format!(
        "{:>6}  {:<7}  {:>2}  {:<32}  {}",
        m.id, m.state, m.attempts, m.to_address, m.subject
    )
}

fn details(m: &OutboxMessage) -> String {
    let mut s = format!(
        "id:        {}\nkind:      {}\nto:        {}\nsubject:   {}\ncreated:   {}\nstate:     {}\nattempts:  {}\n",
        m.id,
        m.kind,
        m.to_address,
        m.subject,
        m.created_at.to_rfc3339(),
        m.state,
        m.attempts
    );
    if m.state == "pending" {
        s.push_str(&format!("next try:  {}\n", m.next_attempt_at.to_rfc3339()));
    }
    if let Some(e) = &m.last_error {
        s.push_str(&format!("error:     {e}\n"));
    }
    if let Some(at) = m.sent_at {
        let by = m.sent_by.as_deref().unwrap_or("smtp");
        s.push_str(&format!("sent:      {} ({by})\n", at.to_rfc3339()));
    }
    s.push('\n');
    s.push_str(&m.body_text);
    s
}

pub fn run(config: Config, cmd: OutboxCommand) -> Result<()> {
    let app = open_existing(config)?;
    let name = match &cmd {
        OutboxCommand::List { tenant }
        | OutboxCommand::Show { tenant, .. }
        | OutboxCommand::MarkSent { tenant, .. }
        | OutboxCommand::SendTest { tenant, .. } => tenant.clone(),
    };
    let tenant = app
        .tenants
        .get(&name)
        .ok_or_else(|| anyhow!("no ready tenant {name:?} (see `licd tenant list`)"))?;
    let now = app.clock.now();
    match cmd {
        OutboxCommand::List { .. } => {
            let all = outbox::list(&tenant)?;
            if all.is_empty() {
                println!("the outbox of {name} is empty");
            }
            for m in &all {
                println!("{}", line(m));
            }
        }
        OutboxCommand::Show { id, .. } => print!("{}", details(&outbox::show(&tenant, id)?)),
        OutboxCommand::MarkSent { id, .. } => {
            let m = outbox::mark_sent(&tenant, now, &cli_actor(), id)?;
            println!("message {} to {} marked sent", m.id, m.to_address);
        }
        OutboxCommand::SendTest { to, .. } => {
            let id = outbox::send_test(&tenant, now, &cli_actor(), &to)?;
            println!(
                "test message {id} to {to} is in the outbox; the server sends it when email.smtp_url is set"
            );
        }
    }
    Ok(())
}
