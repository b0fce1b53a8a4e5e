//! The CLI layer: one function per subcommand that parses its arguments, calls a
//! use case in `service` (or, for `run`, the daemon in `app`) and prints. Nothing
//! but `main.rs` imports this module; it holds no business logic.

mod calendar;
mod check;
mod cover;
mod doc;
mod event;
mod import;
mod preview;
mod records;
mod report;
mod table;
mod xlsx;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use crate::cli::{Cli, Command};
use crate::clock::{Clock, FixedClock, RunningClock, SystemClock};
use crate::config::{Config, DEFAULT_CONFIG_PATH};
use crate::service::Context;

/// Runs the parsed command; the exit code is 0 unless an error is returned.
pub async fn run(cli: Cli) -> Result<i32> {
    // Neither needs a config or a database.
    match &cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "qinqing", &mut std::io::stdout());
            return Ok(0);
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(0);
        }
        _ => {}
    }
    let ctx = context(&cli)?;
    match cli.command {
        Command::Import(args) => import::run(&ctx, args).await,
        Command::Check(args) => check::run(&ctx, args).await,
        Command::Calendar(args) => calendar::run(&ctx, args),
        Command::Preview(args) => preview::run(&ctx, args).await,
        Command::Doc(cmd) => doc::run_doc(&ctx, cmd).await,
        Command::Contact(cmd) => doc::run_contact(&ctx, cmd).await,
        Command::Event(cmd) => event::run(&ctx, cmd).await,
        Command::Report(cmd) => report::run(&ctx, cmd).await,
        Command::Delegate(args) => cover::delegate(&ctx, args).await,
        Command::Pause(args) => cover::pause(&ctx, args).await,
        Command::Assign(args) => cover::assign(&ctx, args).await,
        Command::Run(args) => {
            // --now, else QINQING_NOW: `--once` runs at that instant; the daemon
            // starts its clock there and lets it run at real speed.
            let start = match &args.now {
                Some(s) => Some(
                    FixedClock::parse(s)
                        .map_err(anyhow::Error::msg)
                        .context("--now")?,
                ),
                None => fixed_from_env()?,
            };
            if args.once {
                let ctx = match start {
                    Some(t) => Context {
                        clock: Arc::new(t),
                        ..ctx
                    },
                    None => ctx,
                };
                crate::app::run_once(ctx).await
            } else {
                let ctx = match start {
                    Some(t) => Context {
                        clock: Arc::new(RunningClock::starting_at(t.0)),
                        ..ctx
                    },
                    None => ctx,
                };
                crate::app::run_daemon(ctx).await
            }
        }
        Command::Status(args) => records::status(&ctx, args).await,
        Command::Ack(args) => records::ack(&ctx, args).await,
        Command::TestSend(args) => records::test_send(&ctx, args).await,
        Command::Link(args) => records::link(&ctx, args).await,
        Command::Completions { .. } | Command::Man => unreachable!("handled before the context"),
    }
}

fn context(cli: &Cli) -> Result<Context> {
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
    Ok(Context {
        config: Arc::new(config),
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

/// `QINQING_NOW` (RFC 3339 or a date) fixes "now" for every command, for tests and
/// trials (the daemon starts its clock there and lets it run). Unset: the wall clock.
fn clock_from_env() -> Result<Arc<dyn Clock>> {
    Ok(match fixed_from_env()? {
        Some(c) => Arc::new(c),
        None => Arc::new(SystemClock),
    })
}

fn fixed_from_env() -> Result<Option<FixedClock>> {
    match std::env::var("QINQING_NOW") {
        Ok(v) if !v.is_empty() => Ok(Some(
            FixedClock::parse(&v)
                .map_err(anyhow::Error::msg)
                .context("QINQING_NOW")?,
        )),
        _ => Ok(None),
    }
}

/// A CSV field, quoted when it holds a comma, quote or newline; a field that would
/// start a formula in Excel is prefixed with an apostrophe.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
