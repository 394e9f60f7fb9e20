//! `licd backup` (and `--verify`) and `licd restore`, with progress on the terminal.

use super::check_owner;
use anyhow::{Result, bail};
use clap::Args;
use licd::clock::SystemClock;
use licd::config::Config;
use licd::store::layout::DataDir;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// A new (or empty) directory to write the backup to.
    #[arg(long, required_unless_present = "verify", conflicts_with = "verify")]
    pub out: Option<PathBuf>,
    /// Check a backup's manifest, checksums and databases without restoring it.
    #[arg(long, value_name = "BACKUP")]
    pub verify: Option<PathBuf>,
}

/// Progress on a terminal (a bar), or plain lines when stderr is not one.
struct CliProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl CliProgress {
    fn new() -> CliProgress {
        use std::io::IsTerminal;
        CliProgress {
            bar: std::io::stderr()
                .is_terminal()
                .then(|| indicatif::ProgressBar::new(0)),
        }
    }
}

impl licd::service::backup::Progress for CliProgress {
    fn begin(&self, what: &str, total_bytes: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total_bytes);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{msg:12} [{bar:40}] {bytes}/{total_bytes} {wide_msg}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(what.to_owned());
            }
            None => eprintln!("{what}: about {total_bytes} bytes"),
        }
    }

    fn done(&self, path: &str, bytes: u64) {
        match &self.bar {
            Some(bar) => bar.inc(bytes),
            None => eprintln!("  {path} ({bytes} bytes)"),
        }
    }

    fn end(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn backup(config: Config, args: BackupArgs) -> Result<()> {
    use licd::service::backup;
    let progress = CliProgress::new();
    if let Some(dir) = args.verify {
        let m = backup::verify(&dir, &progress)?;
        println!(
            "{}: backup is intact ({} files, {} bytes, made {} by licd {})",
            dir.display(),
            m.entries.len(),
            m.total_bytes(),
            m.created_at.to_rfc3339(),
            m.licd_version
        );
        return Ok(());
    }
    let Some(out) = args.out else {
        bail!("give --out DIR (or --verify BACKUP)");
    };
    let data = DataDir::new(&config.storage.data_dir);
    check_owner(data.root())?;
    let m = backup::backup(
        &data,
        &out,
        licd::clock::Clock::now(&SystemClock),
        &progress,
    )?;
    println!(
        "{}: {} files, {} bytes. It holds the signing keys' KEK and the CA's private key: store it like a private key.",
        out.display(),
        m.entries.len(),
        m.total_bytes()
    );
    Ok(())
}

pub fn restore(config: Config, from: PathBuf) -> Result<()> {
    let data = DataDir::new(&config.storage.data_dir);
    check_owner(data.root())?;
    let m = licd::service::backup::restore(&from, &data, &CliProgress::new())?;
    println!(
        "restored {} files into {} (backup of {} made {}); start licd on it",
        m.entries.len(),
        data.root().display(),
        m.source,
        m.created_at.to_rfc3339()
    );
    Ok(())
}
