//! `qinqing import FILE`: calls the import use case and prints what it did.
//!
//! Policy: by default a file with any error changes nothing and the command fails;
//! `--skip-invalid` applies the good rows and reports the rest; `--dry-run` only
//! validates.

use anyhow::{Context as _, Result};

use crate::cli::ImportArgs;
use crate::service::Context;
use crate::service::import::{self, ImportOptions, ImportStatus};

pub async fn run(ctx: &Context, args: ImportArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let opts = ImportOptions {
        sheet: args.sheet.clone(),
        staff: args.staff.clone(),
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        deactivate_missing: args.deactivate_missing,
        confirm_corrections: args.confirm_corrections,
        max_bytes: Some(ctx.config.roster.max_bytes),
    };
    let outcome = {
        let work = import::import_file(&store, &args.file, &opts, ctx.clock.now());
        with_progress(&args.file, work).await?
    };
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    print_errors(&outcome, &args);
    if let Some(path) = &args.errors
        && !outcome.row_errors.is_empty()
    {
        write_errors(path, &args, &outcome, ctx)?;
        eprintln!(
            "all {} error(s) written to {} (每个错误一行;待修改表中的红色格子改好后可直接导入)",
            outcome.row_errors.len(),
            path.display()
        );
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
                "{}: {} error(s) in {} row(s); nothing was imported (fix the rows above, or use --skip-invalid to import the good rows)",
                args.file.display(),
                outcome.errors.len(),
                outcome
                    .bad_rows
                    .max(outcome.errors.len() - outcome.row_errors.len())
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
                    format!(
                        "; {} invalid row(s) skipped ({} error(s))",
                        outcome.bad_rows,
                        outcome.errors.len()
                    )
                }
            );
            Ok(0)
        }
    }
}

/// At most this many error lines go to the terminal; `--errors FILE` has them all.
const MAX_ERROR_LINES: usize = 50;

/// The errors, grouped: a kind of error on a few rows is listed row by row, on many
/// rows as one line with the count and the first rows.
fn print_errors(outcome: &import::ImportOutcome, args: &ImportArgs) {
    let mut lines: Vec<String> = Vec::new();
    for g in crate::roster::group_errors(&outcome.row_errors) {
        if g.rows.len() <= 3 {
            for e in outcome
                .row_errors
                .iter()
                .filter(|e| e.column == g.column && g.rows.contains(&e.row))
                .filter(|e| same_kind(&e.reason, &g.reason))
            {
                lines.push(e.to_string());
            }
        } else {
            let first: Vec<String> = g.rows.iter().take(3).map(|r| r.to_string()).collect();
            let file = outcome
                .row_errors
                .first()
                .map(|e| e.file.clone())
                .unwrap_or_default();
            let mut line = format!(
                "{file}: 「{}」{}: {}行,例如第{}行 ({} rows)",
                g.column,
                g.reason,
                g.rows.len(),
                first.join("、"),
                g.rows.len()
            );
            if g.reason.contains("不在工作人员名单中") && !outcome.staff_sheet_present {
                line.push_str(";文件中没有「工作人员」表,也没有给出 --staff (no 工作人员 sheet and no --staff given)");
            }
            lines.push(line);
        }
    }
    // Problems of the file as a whole (two stored persons named by one row).
    lines.extend(outcome.errors[outcome.row_errors.len()..].iter().cloned());
    let total = lines.len();
    for l in lines.iter().take(MAX_ERROR_LINES) {
        eprintln!("{l}");
    }
    if total > MAX_ERROR_LINES {
        eprintln!(
            "… {} more line(s); {}",
            total - MAX_ERROR_LINES,
            match &args.errors {
                Some(p) => format!("every error is in {}", p.display()),
                None => "--errors FILE.xlsx writes every error to a file".into(),
            }
        );
    }
}

/// Whether two reasons are of one kind (codes and numbers aside), as grouping says.
fn same_kind(a: &str, b: &str) -> bool {
    let strip = |s: &str| -> String { s.chars().filter(|c| !c.is_ascii_alphanumeric()).collect() };
    strip(a) == strip(b)
}

/// `--errors FILE`: every error, and (xlsx) the bad rows to fix.
fn write_errors(
    path: &std::path::Path,
    args: &ImportArgs,
    outcome: &import::ImportOutcome,
    ctx: &Context,
) -> Result<()> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut out = String::from("file,sheet,row,column,value,reason\n");
        for e in &outcome.row_errors {
            let f = [
                e.file.clone(),
                e.sheet.clone().unwrap_or_default(),
                e.row.to_string(),
                e.column.clone(),
                e.value.clone(),
                e.reason.clone(),
            ];
            let q: Vec<String> = f.iter().map(|x| super::csv_field(x)).collect();
            out.push_str(&q.join(","));
            out.push('\n');
        }
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(());
    }
    let wanted: std::collections::HashSet<usize> =
        outcome.row_errors.iter().map(|e| e.row).collect();
    let opts = crate::roster::ParseOptions {
        sheet: args.sheet.clone(),
        max_bytes: Some(ctx.config.roster.max_bytes),
        ..Default::default()
    };
    let raw =
        crate::roster::raw_rows(&args.file, &opts, &wanted).map_err(|e| anyhow::anyhow!("{e}"))?;
    super::xlsx::import_errors(&outcome.row_errors, &raw, path)
}

/// Runs the import; when it takes longer than a second and stderr is a terminal, a
/// spinner says it is working (nothing is drawn into a pipe or a log).
async fn with_progress<T>(
    file: &std::path::Path,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let bar = indicatif::ProgressBar::hidden();
    let shown = bar.clone();
    let name = file.display().to_string();
    let show = async move {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            shown.set_style(
                indicatif::ProgressStyle::with_template("{spinner} 正在导入 {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            shown.set_message(name);
            shown.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        std::future::pending::<()>().await;
    };
    let out = tokio::select! {
        out = work => out,
        _ = show => unreachable!("the spinner never finishes"),
    };
    bar.finish_and_clear();
    out
}
