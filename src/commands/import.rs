//! `qinqing import FILE`: calls the import use case and prints what it did.
//!
//! Policy: by default a file with any error changes nothing and the command fails;
//! `--skip-invalid` applies the good rows and reports the rest; `--dry-run` only
//! validates.

use anyhow::Result;

use crate::cli::ImportArgs;
use crate::service::Context;
use crate::service::import::{self, ImportOptions, ImportStatus};

pub async fn run(ctx: &Context, args: ImportArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let opts = ImportOptions {
        sheet: args.sheet,
        staff: args.staff,
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        deactivate_missing: args.deactivate_missing,
        confirm_corrections: args.confirm_corrections,
    };
    let outcome = import::import_file(&store, &args.file, &opts, ctx.clock.now()).await?;
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
                "imported {}: {} added, {} changed, {} unchanged, {} staff, {} event(s) recorded{}{}",
                args.file.display(),
                s.added,
                s.changed,
                s.unchanged,
                s.staff,
                s.events,
                if s.corrected > 0 {
                    format!("; {} ID number(s) corrected in place", s.corrected)
                } else {
                    String::new()
                },
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
