//! One function per subcommand: load what it needs, call the library, print.
//! The only layer (with `app`) that uses `anyhow`.

mod calendar;
mod check;
mod doc;
pub mod import;
mod preview;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::cli::{Cli, Command};
use crate::clock::{Clock, FixedClock, SystemClock, china};
use crate::config::{Config, DEFAULT_CONFIG_PATH};
use crate::store::Store;

/// What every command starts from.
pub struct Ctx {
    pub config: Config,
    pub database_url: String,
    pub clock: Arc<dyn Clock>,
}

impl Ctx {
    pub async fn store(&self) -> Result<Store> {
        Store::connect_with(&self.database_url, self.config.database.max_connections)
            .await
            .with_context(|| format!("opening {}", crate::store::redact_url(&self.database_url)))
    }
}

/// Runs the parsed command; the exit code is 0 unless an error is returned.
pub async fn run(cli: Cli) -> Result<i32> {
    let ctx = context(&cli)?;
    match cli.command {
        Command::Import(args) => import::run(&ctx, args).await,
        Command::Check(args) => check::run(&ctx, args).await,
        Command::Calendar(args) => calendar::run(&ctx, args),
        Command::Preview(args) => preview::run(&ctx, args).await,
        Command::Doc(cmd) => doc::run_doc(&ctx, cmd).await,
        Command::Contact(cmd) => doc::run_contact(&ctx, cmd).await,
        Command::Run(args) => crate::app::run(&ctx, args).await,
        Command::Status(args) => crate::app::status(&ctx, args).await,
        Command::Ack(args) => crate::app::ack(&ctx, args).await,
        Command::TestSend(args) => crate::app::test_send(&ctx, args).await,
    }
}

fn context(cli: &Cli) -> Result<Ctx> {
    let config_path: Option<PathBuf> = match &cli.config {
        Some(p) => {
            if !p.exists() {
                bail!("config file {} does not exist (--config)", p.display());
            }
            Some(p.clone())
        }
        None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|p| p.exists()),
    };
    let config = Config::load(config_path.as_deref())?;
    let database_url = match &cli.database {
        Some(url) => url.clone(),
        None => match &config.database.url {
            Some(url) if !url.is_empty() => url.expose().to_string(),
            _ => default_database_url()?,
        },
    };
    Ok(Ctx {
        config,
        database_url,
        clock: clock_from_env()?,
    })
}

/// An SQLite file in the platform data directory (e.g. ~/.local/share/qinqing/).
fn default_database_url() -> Result<String> {
    let dirs = directories::ProjectDirs::from("", "", "qinqing")
        .context("cannot find a home directory for the default database; pass --database")?;
    let path: &Path = dirs.data_dir();
    Ok(format!("sqlite://{}", path.join("qinqing.db").display()))
}

/// `QINQING_NOW` (RFC 3339 or a date) fixes the clock for every command: for tests
/// and for trying things out. Unset, the wall clock is used.
pub fn clock_from_env() -> Result<Arc<dyn Clock>> {
    match std::env::var("QINQING_NOW") {
        Ok(v) if !v.is_empty() => Ok(Arc::new(parse_now(&v).context("QINQING_NOW")?)),
        _ => Ok(Arc::new(SystemClock)),
    }
}

/// `2026-09-18T08:30:00+08:00`, `2026-09-18T08:30:00` (Asia/Shanghai) or `2026-09-18` (08:30).
pub fn parse_now(s: &str) -> Result<FixedClock> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(FixedClock(t.with_timezone(&china())));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(FixedClock(china().from_local_datetime(&t).unwrap()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = d.and_hms_opt(8, 30, 0).unwrap();
        return Ok(FixedClock(china().from_local_datetime(&t).unwrap()));
    }
    bail!("{s:?} is not a time like 2026-09-18T08:30:00+08:00")
}
