//! `licd admin ...`: staff accounts and their API tokens, from the server host.

use super::open_existing;
use anyhow::{Context, Result};
use clap::Subcommand;
use licd::config::Config;
use licd::domain::permissions::Role;
use licd::service::staff::{NewStaffInput, StaffPatch};
use licd::service::{Actor, staff, tokens};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account; prints a one-time password.
    Create {
        /// The account's email address (its sign-in name).
        #[arg(long)]
        email: String,
        /// The account's role: super_admin, support or onboarding (see README, Roles).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The name shown in the console and the audit log (optional).
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Replace an account's password with a one-time password (printed), end its
    /// sessions and revoke its API tokens.
    ResetPassword {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Disable an account: it cannot sign in, its sessions end and its API tokens are
    /// revoked (enabling it again does not revive them).
    Disable {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account.
    Enable {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a staff account and print it (shown once).
    Create {
        /// The email address of the account the token acts as.
        #[arg(long)]
        email: String,
        /// A name for the token that says where it is used, e.g. `ci-deploy`.
        #[arg(long)]
        name: String,
        /// Days until it expires; default: never.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn run(config: Config, cmd: AdminCommand) -> Result<()> {
    let min_len = config.auth.min_password_length;
    let hours = config.auth.one_time_password_hours;
    let app = open_existing(config)?;
    let tenant = app.tenants.public()?;
    let now = app.clock.now();
    let actor = Actor::Cli;
    match cmd {
        AdminCommand::Create {
            email,
            role,
            display_name,
        } => {
            let input = NewStaffInput {
                email,
                display_name,
                role,
                password: None,
            };
            let created = staff::create(&tenant, now, &actor, input, min_len)?;
            println!("created {} ({})", created.user.email, created.user.role);
            if let Some(p) = created.one_time_password {
                println!(
                    "one-time password (must be changed at first sign-in, within {hours} hours): {p}"
                );
            }
        }
        AdminCommand::ResetPassword { email } => {
            let id = staff::id_by_email(&tenant, &email)?;
            let p = staff::reset_password(&tenant, now, &actor, id)?;
            println!(
                "one-time password for {email} (must be changed at next sign-in, within {hours} hours): {p}"
            );
            eprintln!("its sessions have ended and its API tokens are revoked");
        }
        AdminCommand::Disable { email } => {
            let id = staff::id_by_email(&tenant, &email)?;
            staff::update(
                &tenant,
                now,
                &actor,
                id,
                StaffPatch {
                    disabled: Some(true),
                    ..Default::default()
                },
            )?;
            println!(
                "disabled {email}; its sessions have ended and its API tokens are revoked (enabling it again does not revive them)"
            );
        }
        AdminCommand::Enable { email } => {
            let id = staff::id_by_email(&tenant, &email)?;
            staff::update(
                &tenant,
                now,
                &actor,
                id,
                StaffPatch {
                    disabled: Some(false),
                    ..Default::default()
                },
            )?;
            println!("enabled {email}");
        }
        AdminCommand::Token(TokenCommand::Create {
            email,
            name,
            expires_in_days,
        }) => {
            let id = staff::id_by_email(&tenant, &email)?;
            let expires = match expires_in_days {
                None => None,
                Some(d) => Some(
                    now.checked_add_signed(chrono::Duration::days(i64::from(d)))
                        .with_context(|| format!("--expires-in-days {d} is too far ahead"))?,
                ),
            };
            let created = tokens::create(&tenant, now, &actor, id, &name, expires)?;
            println!("{}", created.secret);
            if staff::get(&tenant, id)?.must_change_password {
                eprintln!(
                    "note: {email} must still change a one-time password; until then the token reaches only /api/v1/me and /api/v1/auth/password"
                );
            }
            eprintln!(
                "API token {:?} for {email}; it is shown only now. Send it as `Authorization: Bearer <token>`.",
                name
            );
        }
    }
    Ok(())
}
