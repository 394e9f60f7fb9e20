//! Verifies a license key offline against licd's public keys.
//!
//! ```text
//! cargo run -p licd-client --example verify_key -- jwks.json license.key [INSTALL_ID]
//! ```
//!
//! `jwks.json` is what licd serves at `/.well-known/jwks.json`. Exit status 0 when the
//! key verifies, 1 with the reason otherwise.

use chrono::{DateTime, Utc};
use licd_client::formats::Jwks;
use licd_client::keys::public_keys;
use licd_client::verify::verify_license;
use std::process::ExitCode;

/// The application reads the clock, once, and passes the time in: the library never
/// does.
#[allow(clippy::disallowed_methods)]
fn now() -> DateTime<Utc> {
    Utc::now()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(jwks_file), Some(key_file)) = (args.first(), args.get(1)) else {
        eprintln!("usage: verify_key JWKS_FILE LICENSE_KEY_FILE [INSTALL_ID]");
        return ExitCode::from(2);
    };
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    let result = read(jwks_file)
        .and_then(|text| {
            serde_json::from_str::<Jwks>(&text).map_err(|e| format!("{jwks_file}: not a JWKS: {e}"))
        })
        .and_then(|jwks| {
            let key = read(key_file)?;
            verify_license(
                &key,
                &public_keys(&jwks),
                args.get(2).map(String::as_str),
                now(),
            )
            .map_err(|e| format!("{e} ({})", e.kind()))
        });
    match result {
        Ok(claims) => {
            println!(
                "valid: license {} for {} ({} internal, {} external users; features: {})",
                claims.jti,
                claims.org,
                claims.internal_users,
                claims.external_users,
                claims.features.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("not valid: {why}");
            ExitCode::FAILURE
        }
    }
}
