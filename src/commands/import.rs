//! `qinqing import FILE`: parse, check, reconcile with the store, apply.
//!
//! Policy: by default a file with any error changes nothing and the command fails;
//! `--skip-invalid` applies the good rows and reports the rest; `--dry-run` only
//! validates.

use std::collections::HashSet;

use anyhow::{Context, Result};

use super::Ctx;
use crate::cli::ImportArgs;
use crate::roster::{ParseOptions, RosterFile, parse_path, reconcile::reconcile};
use crate::store::{ImportSummary, Store};

pub async fn run(ctx: &Ctx, args: ImportArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let opts = ImportOptions {
        sheet: args.sheet,
        staff: args.staff,
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        deactivate_missing: args.deactivate_missing,
    };
    let outcome = import_file(&store, &args.file, &opts, ctx.clock.today()).await?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    for e in &outcome.errors {
        eprintln!("{e}");
    }
    let s = &outcome.summary;
    if !s.missing.is_empty() {
        let applied = outcome.status == ImportStatus::Applied;
        eprintln!(
            "{} person(s) in the store are missing from {} ({}): {}",
            s.missing.len(),
            args.file.display(),
            if applied && s.deactivated > 0 {
                "marked inactive"
            } else if s.deactivated > 0 {
                "not deactivated: nothing was changed"
            } else {
                "kept; --deactivate-missing marks them inactive"
            },
            s.missing
                .iter()
                .map(|k| crate::mask::id_number(k))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match outcome.status {
        ImportStatus::Rejected => {
            anyhow::bail!(
                "{}: {} error(s); nothing was imported (fix the rows above, or use --skip-invalid to import the good rows)",
                args.file.display(),
                outcome.errors.len()
            );
        }
        ImportStatus::DryRun => {
            println!(
                "dry run: {} persons and {} staff valid, {} error(s); would add {}, change {}, leave {} unchanged; nothing was changed",
                outcome.valid_persons,
                s.staff,
                outcome.errors.len(),
                s.added,
                s.changed,
                s.unchanged
            );
            Ok(if outcome.errors.is_empty() { 0 } else { 1 })
        }
        ImportStatus::Applied => {
            println!(
                "imported {}: {} added, {} changed, {} unchanged, {} staff, {} event(s) recorded{}",
                args.file.display(),
                s.added,
                s.changed,
                s.unchanged,
                s.staff,
                s.events,
                if outcome.errors.is_empty() {
                    String::new()
                } else {
                    format!("; {} invalid row(s) skipped", outcome.errors.len())
                }
            );
            Ok(0)
        }
    }
}

pub struct ImportOptions {
    pub sheet: Option<String>,
    pub staff: Option<std::path::PathBuf>,
    pub dry_run: bool,
    pub skip_invalid: bool,
    pub deactivate_missing: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ImportStatus {
    Applied,
    Rejected,
    DryRun,
}

pub struct ImportOutcome {
    pub status: ImportStatus,
    pub summary: ImportSummary,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub valid_persons: usize,
}

/// Parses `file` and applies it according to the policy. Used by the CLI and by the
/// daemon's roster watcher.
pub async fn import_file(
    store: &Store,
    file: &std::path::Path,
    opts: &ImportOptions,
    today: chrono::NaiveDate,
) -> Result<ImportOutcome> {
    let known: HashSet<String> = store.staff_numbers().await?.into_iter().collect();
    let parse_opts = ParseOptions {
        sheet: opts.sheet.clone(),
        staff_file: opts.staff.clone(),
        known_staff: known,
    };
    let file_ = file.to_path_buf();
    let parsed: RosterFile = tokio::task::spawn_blocking(move || parse_path(&file_, &parse_opts))
        .await
        .context("roster parser panicked")??;
    let errors: Vec<String> = parsed.errors.iter().map(|e| e.to_string()).collect();
    let persons: Vec<_> = parsed.persons.into_iter().map(|r| r.person).collect();
    let staff: Vec<_> = parsed.staff.into_iter().map(|r| r.staff).collect();
    let snapshot = store.load_roster().await?;
    let (plan, summary) = reconcile(&snapshot, &persons, &staff, today, opts.deactivate_missing);
    let status = if opts.dry_run {
        ImportStatus::DryRun
    } else if !errors.is_empty() && !opts.skip_invalid {
        ImportStatus::Rejected
    } else {
        store.apply_import(&plan).await?;
        ImportStatus::Applied
    };
    Ok(ImportOutcome {
        status,
        summary,
        errors,
        warnings: parsed.warnings,
        valid_persons: persons.len(),
    })
}
