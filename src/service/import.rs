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
    /// `roster.max_bytes`: a larger file is refused before it is read.
    pub max_bytes: Option<u64>,
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
    /// The row errors as parsed (the file-level ones are only in `errors`).
    pub row_errors: Vec<crate::roster::RowError>,
    /// Rows with at least one error.
    pub bad_rows: usize,
    /// Whether the file (or `--staff`) gave a staff list.
    pub staff_sheet_present: bool,
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
        max_bytes: opts.max_bytes,
    };
    let file_ = file.to_path_buf();
    let parsed: RosterFile = tokio::task::spawn_blocking(move || parse_path(&file_, &parse_opts))
        .await
        .context("roster parser panicked")??;
    let mut errors: Vec<String> = parsed.errors.iter().map(|e| e.to_string()).collect();
    let row_errors = parsed.errors.clone();
    let bad_rows = {
        let mut rows: Vec<(&str, Option<&str>, usize)> = parsed
            .errors
            .iter()
            .map(|e| (e.file.as_str(), e.sheet.as_deref(), e.row))
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows.len()
    };
    let staff_sheet_present = parsed.staff_sheet_present;
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
        row_errors,
        bad_rows,
        staff_sheet_present,
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
) -> Result<RosterState> {
    let Some(path) = &roster.path else {
        return Ok(RosterState::Usable);
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
                let message = format!(
                    "{key} = {}: 花名册文件无法读取({e});上一次导入的花名册继续使用 \
                     (the roster file cannot be read; the last good roster stays in use)",
                    file.display()
                );
                tracing::error!("{message}");
                store
                    .set_meta(ROSTER_ERRORS, &serde_json::to_string(&[&message])?)
                    .await?;
                return Ok(RosterState::Unreadable(message));
            }
        }
    }
    if store.get_meta(ROSTER_FILE).await?.as_deref() == Some(fingerprint.as_str()) {
        tracing::debug!(file = %path.display(), "roster file unchanged since its last import");
        // Readable again after a failed read: its errors are gone.
        if store
            .get_meta(ROSTER_ERRORS)
            .await?
            .is_some_and(|e| e.contains("花名册文件无法读取"))
        {
            store.set_meta(ROSTER_ERRORS, "[]").await?;
        }
        return Ok(RosterState::Usable);
    }
    let opts = ImportOptions {
        sheet: roster.sheet.clone(),
        staff: roster.staff.clone(),
        dry_run: false,
        skip_invalid: false,
        deactivate_missing: false,
        confirm_corrections: false,
        max_bytes: Some(roster.max_bytes),
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
            let message = format!("{e:#}");
            store
                .set_meta(ROSTER_ERRORS, &serde_json::to_string(&[&message])?)
                .await?;
            return Ok(RosterState::Unreadable(message));
        }
    }
    Ok(RosterState::Usable)
}

/// What the daemon's follower found of `roster.path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterState {
    /// Imported, unchanged, or rejected for bad rows (the last good roster stays).
    Usable,
    /// The file is missing or cannot be read (said in `status`).
    Unreadable(String),
}
