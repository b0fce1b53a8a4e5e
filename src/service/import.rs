//! Importing a roster file: parse, check, reconcile with the store, apply; and the
//! daemon's follower of `roster.path`, which imports the file only when it changed.
//!
//! Policy: by default a file with any error changes nothing and the command fails;
//! `--skip-invalid` applies the good rows and reports the rest; `--dry-run` only
//! validates.

use std::collections::HashSet;

use anyhow::{Context, Result};

use crate::config::RosterConfig;
use crate::roster::reconcile::{ReconcileOptions, reconcile};
use crate::roster::{ImportSummary, ParseOptions, RosterFile, parse_path};
use crate::store::Store;

pub struct ImportOptions {
    pub sheet: Option<String>,
    pub staff: Option<std::path::PathBuf>,
    pub dry_run: bool,
    pub skip_invalid: bool,
    pub deactivate_missing: bool,
    /// Apply probable ID-number corrections of rows without 编号.
    pub confirm_corrections: bool,
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

/// Parses `file` and applies it according to the policy. Used by `qinqing import`
/// and by [`import_if_changed`].
pub async fn import_file(
    store: &Store,
    file: &std::path::Path,
    opts: &ImportOptions,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<ImportOutcome> {
    let today = now.date_naive();
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
    let mut errors: Vec<String> = parsed.errors.iter().map(|e| e.to_string()).collect();
    let persons: Vec<_> = parsed.persons.into_iter().map(|r| r.person).collect();
    let staff: Vec<_> = parsed.staff.into_iter().map(|r| r.staff).collect();
    let snapshot = store.load_roster().await?;
    let reconcile_opts = ReconcileOptions {
        deactivate_missing: opts.deactivate_missing,
        confirm_corrections: opts.confirm_corrections,
    };
    let (plan, summary) = reconcile(&snapshot, &persons, &staff, today, reconcile_opts);
    let mut warnings = parsed.warnings;
    warnings.extend(summary.probable_corrections.iter().cloned());
    // Two stored persons named by one row: nothing is applied, whatever the policy.
    let conflicted = !summary.conflicts.is_empty();
    errors.extend(
        summary
            .conflicts
            .iter()
            .map(|c| format!("{}: {c}", file.display())),
    );
    let status = if opts.dry_run {
        ImportStatus::DryRun
    } else if conflicted || (!errors.is_empty() && !opts.skip_invalid) {
        ImportStatus::Rejected
    } else {
        store.apply_import(&plan, now).await?;
        ImportStatus::Applied
    };
    Ok(ImportOutcome {
        status,
        summary,
        errors,
        warnings,
        valid_persons: persons.len(),
    })
}

/// Store keys of the last roster file imported by the daemon and its errors.
pub const ROSTER_ERRORS: &str = "roster_errors";
const ROSTER_FILE: &str = "roster_file";

/// Imports `roster.path` (with `roster.staff`) with the same checks as `qinqing
/// import`, when either file changed since their last import (an unchanged file must not undo what a `qinqing
/// import` of another file changed since). A file with errors is not applied; its
/// errors are kept for `qinqing status`. Problems are logged, never returned: the
/// daemon keeps the last good roster.
pub async fn import_if_changed(
    store: &Store,
    roster: &RosterConfig,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<()> {
    let Some(path) = &roster.path else {
        return Ok(());
    };
    // The roster and, when it has its own file, the staff list: a change to either
    // is imported.
    let mut fingerprint = String::new();
    for (file, key) in std::iter::once((path.as_path(), "roster.path"))
        .chain(roster.staff.as_deref().map(|p| (p, "roster.staff")))
    {
        match std::fs::read(file) {
            Ok(bytes) => {
                use sha2::Digest;
                fingerprint.push_str(&format!(
                    "{}|{}|",
                    file.display(),
                    hex::encode(sha2::Sha256::digest(&bytes))
                ));
            }
            Err(e) => {
                tracing::error!(file = %file.display(), "cannot be read: {e} ({key})");
                return Ok(());
            }
        }
    }
    if store.get_meta(ROSTER_FILE).await?.as_deref() == Some(fingerprint.as_str()) {
        tracing::debug!(file = %path.display(), "roster file unchanged since its last import");
        return Ok(());
    }
    let opts = ImportOptions {
        sheet: roster.sheet.clone(),
        staff: roster.staff.clone(),
        dry_run: false,
        skip_invalid: false,
        deactivate_missing: false,
        confirm_corrections: false,
    };
    match import_file(store, path, &opts, now).await {
        Ok(out) => {
            for w in &out.warnings {
                tracing::warn!("roster: {w}");
            }
            if out.status == ImportStatus::Rejected {
                for e in &out.errors {
                    tracing::error!("roster: {e}");
                }
                tracing::error!(file = %path.display(), errors = out.errors.len(),
                    "roster file has errors and was not applied; the last good roster stays in use");
            } else {
                let s = &out.summary;
                tracing::info!(file = %path.display(), added = s.added, changed = s.changed,
                    unchanged = s.unchanged, events = s.events, "roster imported");
            }
            store
                .set_meta(ROSTER_ERRORS, &serde_json::to_string(&out.errors)?)
                .await?;
            store.set_meta(ROSTER_FILE, &fingerprint).await?;
        }
        Err(e) => {
            tracing::error!(file = %path.display(), "roster could not be read: {e:#}");
            store
                .set_meta(ROSTER_ERRORS, &serde_json::to_string(&[format!("{e:#}")])?)
                .await?;
        }
    }
    Ok(())
}
