//! `qinqing report coverage|ledger|audit`: call the report use case and write it
//! as a table, CSV, JSON or an Excel workbook, to the terminal or `--output`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

use crate::cli::{AuditArgs, Format, ReportCommand, ReportFormat};
use crate::service::Context;
use crate::service::coverage::{Coverage, CoverageQuery, month_period, year_period};
use crate::service::records::ContactLine;
use crate::service::reports;

pub async fn run(ctx: &Context, cmd: ReportCommand) -> Result<i32> {
    let store = ctx.store().await?;
    let now = ctx.clock.now();
    let who = reports::os_user();
    match cmd {
        ReportCommand::Coverage(a) => {
            let (from, to) = match (&a.month, a.year, a.from, a.to) {
                (Some(m), _, _, _) => month_period(m)?,
                (None, Some(y), _, _) => year_period(y)?,
                (None, None, Some(f), Some(t)) => (f, t),
                _ => bail!("give --month YYYY-MM, --year YYYY, or --from DATE --to DATE"),
            };
            let q = CoverageQuery {
                from,
                to,
                as_of: a.as_of.unwrap_or_else(|| ctx.clock.today()),
                staff: a.staff,
            };
            let titles = reports::rule_titles(&ctx.config);
            let c = reports::coverage_for(&store, &q, &titles, &who, now).await?;
            let names: HashMap<String, String> = store
                .staff_list()
                .await?
                .into_iter()
                .map(|s| (s.number, s.name))
                .collect();
            match a.format {
                ReportFormat::Xlsx => {
                    let path = xlsx_output(&a.output)?;
                    super::xlsx::coverage(&c, &names, path)?;
                    println!("written {}", path.display());
                }
                ReportFormat::Json => emit(&a.output, serde_json::to_string_pretty(&c)? + "\n")?,
                ReportFormat::Csv => emit(&a.output, coverage_csv(&c))?,
                ReportFormat::Table => emit(&a.output, coverage_table(&c, &names))?,
            }
        }
        ReportCommand::Ledger(a) => {
            if a.to < a.from {
                bail!("--to {} is before --from {}", a.to, a.from);
            }
            let lines =
                reports::ledger_for(&store, Some(a.from), Some(a.to), a.staff, None, &who, now)
                    .await?;
            match a.format {
                ReportFormat::Xlsx => {
                    let path = xlsx_output(&a.output)?;
                    super::xlsx::ledger(&lines, path)?;
                    println!("written {}", path.display());
                }
                ReportFormat::Json => emit(&a.output, contacts_text(&lines, Format::Json))?,
                ReportFormat::Csv => emit(&a.output, contacts_text(&lines, Format::Csv))?,
                ReportFormat::Table => emit(&a.output, contacts_text(&lines, Format::Table))?,
            }
        }
        ReportCommand::Audit(a) => audit(&store, a).await?,
    }
    Ok(0)
}

async fn audit(store: &crate::store::Store, a: AuditArgs) -> Result<()> {
    let entries = reports::audit(store, a.from).await?;
    match a.format {
        Format::Json => {
            for e in &entries {
                println!("{}", serde_json::to_string(e)?);
            }
        }
        Format::Csv => {
            println!("at,who,what,rows");
            for e in &entries {
                println!(
                    "{},{},{},{}",
                    super::csv_field(&e.at),
                    super::csv_field(&e.who),
                    super::csv_field(&e.what),
                    e.rows
                );
            }
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| {
                    vec![
                        e.at.clone(),
                        e.who.clone(),
                        e.rows.to_string(),
                        e.what.clone(),
                    ]
                })
                .collect();
            print!(
                "{}",
                super::table::render(&["时间", "操作人", "行数", "内容"], &rows)
            );
        }
    }
    Ok(())
}

fn xlsx_output(output: &Option<std::path::PathBuf>) -> Result<&Path> {
    output
        .as_deref()
        .context("--format xlsx 需要 --output FILE, 例如 --output 2026年9月落实情况.xlsx")
}

/// Prints `text`, or writes it to `output`.
fn emit(output: &Option<std::path::PathBuf>, text: String) -> Result<()> {
    match output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
            println!("written {}", p.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn coverage_csv(c: &Coverage) -> String {
    let mut out = String::from("staff,rule,due,on_time,late,missed,open,paused\n");
    for r in &c.rows {
        let n = &r.counts;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            super::csv_field(&r.staff),
            super::csv_field(&r.rule),
            n.due,
            n.on_time,
            n.late,
            n.missed,
            n.open,
            n.paused
        ));
    }
    out
}

/// The year-end wording first, then per staff member and rule, per rule, and the
/// monthly calls.
fn coverage_table(c: &Coverage, names: &HashMap<String, String>) -> String {
    let mut out = format!("{} 至 {} 落实情况(截至 {})\n", c.from, c.to, c.as_of);
    for f in c.figures() {
        out.push_str(&format!("{} {} {}\n", f.label, f.count, f.unit));
    }
    out.push('\n');
    let counts = |n: &crate::ledger::coverage::Counts| {
        [n.due, n.on_time, n.late, n.missed, n.open, n.paused].map(|x| x.to_string())
    };
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r| {
            let mut v = vec![
                r.staff.clone(),
                names.get(&r.staff).cloned().unwrap_or_default(),
                r.rule.clone(),
            ];
            v.extend(counts(&r.counts));
            v
        })
        .collect();
    out.push_str(&super::table::render(
        &[
            "工号",
            "姓名",
            "规则",
            "应办",
            "按时",
            "逾期办",
            "未办",
            "未到期",
            "暂停",
        ],
        &rows,
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = c
        .totals
        .iter()
        .map(|t| {
            let mut v = vec![t.title.clone(), t.rule.clone()];
            v.extend(counts(&t.counts));
            v
        })
        .collect();
    out.push_str(&super::table::render(
        &[
            "规则名称",
            "规则",
            "应办",
            "按时",
            "逾期办",
            "未办",
            "未到期",
            "暂停",
        ],
        &rows,
    ));
    out.push_str(&format!(
        "\n联系登记: 走访 {} 次, 电话 {} 次, 送文 {} 次\n",
        c.contacts.visit, c.contacts.call, c.contacts.deliver
    ));
    if !c.monthly_call.is_empty() {
        let rows: Vec<Vec<String>> = c
            .monthly_call
            .iter()
            .map(|m| {
                vec![
                    m.staff.clone(),
                    names.get(&m.staff).cloned().unwrap_or_default(),
                    m.persons.to_string(),
                    m.called.to_string(),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&super::table::render(
            &["工号", "姓名", "应联系(人·月)", "已联系(人·月)"],
            &rows,
        ));
    }
    out
}

/// 走访, 电话, 送文 for call, visit, deliver.
pub fn kind_word(kind: &str) -> &str {
    match kind {
        "visit" => "走访",
        "call" => "电话",
        "deliver" => "送文",
        other => other,
    }
}

/// Contacts as `contact list` and `report ledger` print them.
pub fn contacts_text(lines: &[ContactLine], format: Format) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut out = String::new();
    match format {
        Format::Json => {
            for l in lines {
                out.push_str(&serde_json::to_string(l).expect("serialisable"));
                out.push('\n');
            }
        }
        Format::Csv => {
            out.push_str(
                "person,name,staff,kind,outcome,done_on,entered_at,rule,title,occasion_on,on_time,note\n",
            );
            for l in lines {
                let fields = [
                    l.person.clone(),
                    l.name.clone(),
                    opt(&l.staff),
                    l.kind.clone(),
                    l.outcome.to_string(),
                    l.done_on.to_string(),
                    l.entered_at.clone(),
                    opt(&l.rule),
                    opt(&l.title),
                    l.occasion_on.map(|d| d.to_string()).unwrap_or_default(),
                    l.on_time.map(|b| b.to_string()).unwrap_or_default(),
                    opt(&l.note),
                ];
                let quoted: Vec<String> = fields.iter().map(|f| super::csv_field(f)).collect();
                out.push_str(&quoted.join(","));
                out.push('\n');
            }
        }
        Format::Table => {
            if lines.is_empty() {
                out.push_str("no contacts\n");
            }
            for l in lines {
                let what = match l.outcome {
                    "not_done" => format!("{} 未能完成", l.kind),
                    _ => l.kind.clone(),
                };
                let occasion = match (&l.title, l.on_time) {
                    (Some(t), Some(true)) => format!("{t} 按时"),
                    (Some(t), Some(false)) => format!("{t} 逾期"),
                    (Some(t), None) => t.clone(),
                    (None, _) => "(日常联系)".into(),
                };
                out.push_str(&format!(
                    "{}  {:<10} {:<8} {:<6} {:<14} {}{}\n",
                    l.done_on,
                    l.person,
                    l.name,
                    opt(&l.staff),
                    what,
                    occasion,
                    l.note
                        .as_deref()
                        .map(|n| format!("  {n}"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    out
}
