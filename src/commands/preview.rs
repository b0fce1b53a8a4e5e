//! `qinqing preview --from --to`: calls the preview use case and prints its stages
//! as a table, JSON lines or CSV.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Format, PreviewArgs, ReportFormat, SummaryPeriod};
use crate::planner::{self, Reminder, StageRef};
use crate::service::Context;
use crate::service::preview::{
    Period, PreviewRequest, Summary, compare, preview, preview_stream, summary,
};

pub async fn run(ctx: &Context, args: PreviewArgs) -> Result<i32> {
    let req = PreviewRequest {
        from: args.from,
        to: args.to,
        rule: args.rule,
        person: args.person,
    };
    if args.summary {
        let by = match args.by {
            SummaryPeriod::Month => Period::Month,
            SummaryPeriod::Week => Period::Week,
        };
        return run_summary(ctx, req, by, args.format, &args.output).await;
    }
    let format = match args.format {
        ReportFormat::Table => Format::Table,
        ReportFormat::Json => Format::Json,
        ReportFormat::Csv => Format::Csv,
        ReportFormat::Xlsx => {
            anyhow::bail!("--format xlsx 只用于 --summary(工作量预测);逐条提醒请用 --format csv")
        }
    };
    if args.output.is_some() {
        anyhow::bail!("--output 只用于 --summary;逐条提醒请重定向输出,例如 > 预览.csv");
    }
    if let Some(dir) = &args.compare {
        return run_compare(ctx, req, dir, format).await;
    }
    if format != Format::Table {
        return run_streamed(ctx, req, format).await;
    }
    let out = preview(ctx, req).await?;
    print_table(&out.reminders);
    report_errors(&out.load_errors, &out.rule_errors)
}

/// JSON lines and CSV are written as the stages are made, a batch of whole remind
/// days at a time, through one buffered writer (the table needs every row for its
/// column widths, so it is built whole).
async fn run_streamed(ctx: &Context, req: PreviewRequest, format: Format) -> Result<i32> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
    if format == Format::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    // Lines are rendered in parallel, a few thousand to a buffer, and written in
    // order, a round of buffers at a time; the buffers are kept from round to round.
    const LINES: usize = 4096;
    const ROUND: usize = 8;
    let mut bufs: Vec<Vec<u8>> = (0..ROUND).map(|_| Vec::new()).collect();
    let s = preview_stream(ctx, req, move |batch| {
        use rayon::prelude::*;
        for round in batch.chunks(LINES * ROUND) {
            let n = round.len().div_ceil(LINES);
            bufs[..n]
                .par_iter_mut()
                .zip(round.par_chunks(LINES))
                .for_each(|(buf, chunk)| {
                    buf.clear();
                    for r in chunk {
                        match format {
                            Format::Json => write_json_line(buf, r),
                            _ => {
                                buf.extend_from_slice(csv_line(r).as_bytes());
                                buf.push(b'\n');
                            }
                        }
                    }
                });
            for buf in &bufs[..n] {
                out.write_all(buf)?;
            }
        }
        out.flush()
    })
    .await?;
    if let Some(e) = &s.sink_error
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        anyhow::bail!("cannot write the preview: {e}");
    }
    report_errors(&s.load_errors, &s.rule_errors)
}

/// Rule errors on stderr; exit 1 when any rule failed for anyone, after printing
/// what could be printed.
fn report_errors(load_errors: &[String], rule_errors: &[String]) -> Result<i32> {
    for e in load_errors {
        eprintln!("rule not loaded: {e}");
    }
    for e in rule_errors.iter().take(20) {
        eprintln!("rule error: {e}");
    }
    if rule_errors.len() > 20 {
        eprintln!("… and {} more rule errors", rule_errors.len() - 20);
    }
    if !rule_errors.is_empty() || !load_errors.is_empty() {
        eprintln!(
            "preview is incomplete: {} rule file(s) not loaded, {} rule error(s)",
            load_errors.len(),
            rule_errors.len()
        );
        return Ok(1);
    }
    Ok(0)
}

async fn run_compare(
    ctx: &Context,
    req: PreviewRequest,
    dir: &std::path::Path,
    format: Format,
) -> Result<i32> {
    let c = compare(ctx, req, dir).await?;
    for e in &c.load_errors {
        eprintln!("rule not loaded: {e}");
    }
    for e in c.rule_errors.iter().take(20) {
        eprintln!("rule error: {e}");
    }
    let number = |s: &Reminder| c.numbers.get(&s.person_id).cloned().unwrap_or_default();
    match format {
        Format::Json => {
            let stages = |list: &[Reminder]| -> Vec<serde_json::Value> {
                list.iter()
                    .map(|s| {
                        let mut v = json_line(s, &c.calendar);
                        v["person_number"] = number(s).into();
                        v
                    })
                    .collect()
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "by_rule_month": c.by_rule_month,
                    "added": stages(&c.added),
                    "removed": stages(&c.removed),
                }))?
            );
        }
        Format::Csv => {
            println!(
                "change,remind_on,occasion_on,rule,person_number,recipient,stage,lead_days,title"
            );
            for (change, list) in [("added", &c.added), ("removed", &c.removed)] {
                for s in list {
                    println!(
                        "{change},{},{},{},{},{},{},{},{}",
                        s.remind_on,
                        s.occasion_on,
                        super::csv_field(&s.rule),
                        super::csv_field(&number(s)),
                        super::csv_field(&s.recipient),
                        s.stage.as_str(),
                        s.lead_days.map(|l| l.to_string()).unwrap_or_default(),
                        super::csv_field(&s.title),
                    );
                }
            }
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = c
                .by_rule_month
                .iter()
                .map(|m| {
                    vec![
                        m.rule.clone(),
                        m.month.clone(),
                        format!("+{}", m.added),
                        format!("-{}", m.removed),
                    ]
                })
                .collect();
            print!(
                "{}",
                super::table::render(&["规则", "月份", "增加", "减少"], &rows)
            );
            for (label, list) in [("增加 added", &c.added), ("减少 removed", &c.removed)] {
                println!("{label}: {} 条", list.len());
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| {
                        vec![
                            s.remind_on.to_string(),
                            s.occasion_on.to_string(),
                            s.rule.to_string(),
                            number(s),
                            s.recipient.clone(),
                            stage_word(s).into(),
                            s.title.to_string(),
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    print!(
                        "{}",
                        super::table::render(
                            &[
                                "提醒日",
                                "事项日",
                                "规则",
                                "老同志编号",
                                "接收人",
                                "阶段",
                                "事项"
                            ],
                            &rows
                        )
                    );
                }
            }
        }
    }
    Ok(if c.load_errors.is_empty() && c.rule_errors.is_empty() {
        0
    } else {
        1
    })
}

fn stage_word(s: &Reminder) -> &'static str {
    if s.stage == planner::StageKind::Remind {
        "提醒"
    } else {
        "上报"
    }
}

/// A stage as a JSON line: the fields in alphabetical order, borrowed from the
/// stage (no map is built per line; a year's millions of lines are streamed).
#[derive(serde::Serialize)]
struct StageLine<'a> {
    due_on: chrono::NaiveDate,
    kind: &'a str,
    lead_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<u8>,
    occasion_on: chrono::NaiveDate,
    person: &'a str,
    recipient: &'a str,
    reference: &'a str,
    remind_on: chrono::NaiveDate,
    rule: &'a str,
    stage: &'static str,
    title: &'a str,
    urgent: bool,
}

fn stage_line<'a>(s: &'a Reminder, calendar: &crate::calendar::WorkCalendar) -> StageLine<'a> {
    StageLine {
        due_on: s.due_on(calendar),
        kind: &s.kind,
        lead_days: s.lead_days,
        level: s.level(),
        occasion_on: s.occasion_on,
        person: &s.person,
        recipient: &s.recipient,
        reference: &s.reference,
        remind_on: s.remind_on,
        rule: &s.rule,
        stage: s.stage.as_str(),
        title: &s.title,
        urgent: s.urgent,
    }
}

fn json_line(s: &Reminder, calendar: &crate::calendar::WorkCalendar) -> serde_json::Value {
    serde_json::to_value(stage_line(s, calendar)).expect("a stage serializes")
}

const CSV_HEADER: &str =
    "remind_on,occasion_on,rule,person,recipient,stage,lead_days,title,reference";

fn csv_line(s: &StageRef<'_>) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{}",
        s.remind_on(),
        s.occasion_on(),
        super::csv_field(s.rule_id()),
        super::csv_field(s.person_key()),
        super::csv_field(s.recipient()),
        s.spec.stage.as_str(),
        s.spec.lead_days.map(|l| l.to_string()).unwrap_or_default(),
        super::csv_field(&s.title_parts().concat()),
        std::str::from_utf8(&s.reference).expect("ASCII"),
    )
}

/// Writes the stage's JSON line (and its newline) to `buf` by hand: the bytes
/// `serde_json` writes for [`StageLine`], without building it (a province's year
/// is millions of lines).
fn write_json_line(buf: &mut Vec<u8>, s: &StageRef<'_>) {
    use std::io::Write as _;
    buf.extend_from_slice(b"{\"due_on\":");
    json_date(buf, s.due_on);
    buf.extend_from_slice(b",\"kind\":");
    json_str(buf, &[s.kind()]);
    buf.extend_from_slice(b",\"lead_days\":");
    match s.spec.lead_days {
        Some(l) => buf.extend_from_slice(itoa::Buffer::new().format(l).as_bytes()),
        None => buf.extend_from_slice(b"null"),
    }
    if let Some(level) = s.level() {
        let _ = write!(buf, ",\"level\":{level}");
    }
    buf.extend_from_slice(b",\"occasion_on\":");
    json_date(buf, s.occasion_on());
    buf.extend_from_slice(b",\"person\":");
    json_str(buf, &[s.person_key()]);
    buf.extend_from_slice(b",\"recipient\":");
    json_str(buf, &[s.recipient()]);
    buf.extend_from_slice(b",\"reference\":\"");
    buf.extend_from_slice(&s.reference);
    buf.extend_from_slice(b"\",\"remind_on\":");
    json_date(buf, s.remind_on());
    buf.extend_from_slice(b",\"rule\":");
    json_str(buf, &[s.rule_id()]);
    buf.extend_from_slice(b",\"stage\":\"");
    buf.extend_from_slice(s.spec.stage.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"title\":");
    json_str(buf, &s.title_parts());
    buf.extend_from_slice(if s.urgent() {
        b",\"urgent\":true}\n"
    } else {
        b",\"urgent\":false}\n"
    });
}

/// A date as JSON: `"2026-09-18"`, as chrono writes it.
fn json_date(buf: &mut Vec<u8>, d: chrono::NaiveDate) {
    buf.push(b'"');
    match crate::calendar::ymd_bytes(d) {
        Some(ymd) => buf.extend_from_slice(&ymd),
        None => {
            use std::io::Write as _;
            let _ = write!(buf, "{d}");
        }
    }
    buf.push(b'"');
}

/// The parts one after another as one JSON string, escaped as `serde_json`
/// escapes (`\"`, `\\`, the short escapes of \b \f \n \r \t, `\u00xx` for other
/// control characters; everything else as it is).
fn json_str(buf: &mut Vec<u8>, parts: &[&str]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    for part in parts {
        let bytes = part.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0..=0x1f => b"",
                _ => continue,
            };
            buf.extend_from_slice(&bytes[start..i]);
            if short.is_empty() {
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[(b >> 4) as usize]);
                buf.push(HEX[(b & 15) as usize]);
            } else {
                buf.extend_from_slice(short);
            }
            start = i + 1;
        }
        buf.extend_from_slice(&bytes[start..]);
    }
    buf.push(b'"');
}

fn print_table(stages: &[Reminder]) {
    let header = [
        "提醒日",
        "事项日",
        "规则",
        "接收人",
        "阶段",
        "提前",
        "编号",
        "事项",
    ];
    let rows: Vec<Vec<String>> = stages
        .iter()
        .map(|s| {
            vec![
                s.remind_on.to_string(),
                s.occasion_on.to_string(),
                s.rule.to_string(),
                s.recipient.clone(),
                if s.stage == planner::StageKind::Remind {
                    "提醒".into()
                } else {
                    "上报".into()
                },
                s.lead_days
                    .map(|l| format!("{l}天"))
                    .unwrap_or_else(|| "-".into()),
                s.reference.to_string(),
                s.title.to_string(),
            ]
        })
        .collect();
    print!("{}", super::table::render(&header, &rows));
    println!("共 {} 条 ({} stages)", rows.len(), rows.len());
}

/// `preview --summary`: the workload forecast.
async fn run_summary(
    ctx: &Context,
    req: PreviewRequest,
    by: Period,
    format: ReportFormat,
    output: &Option<std::path::PathBuf>,
) -> Result<i32> {
    let s = summary(ctx, req, by).await?;
    for e in &s.load_errors {
        eprintln!("rule not loaded: {e}");
    }
    for e in s.rule_errors.iter().take(20) {
        eprintln!("rule error: {e}");
    }
    let emit = |text: String| -> Result<()> {
        match output {
            Some(p) => {
                std::fs::write(p, text)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
                println!("written {}", p.display());
            }
            None => print!("{text}"),
        }
        Ok(())
    };
    match format {
        ReportFormat::Json => emit(serde_json::to_string_pretty(&s)? + "\n")?,
        ReportFormat::Csv => emit(summary_csv(&s))?,
        ReportFormat::Table => emit(summary_table(&s))?,
        ReportFormat::Xlsx => {
            let path = output.as_deref().ok_or_else(|| {
                anyhow::anyhow!("--format xlsx 需要 --output FILE, 例如 --output 2027年工作量.xlsx")
            })?;
            super::xlsx::workload(&s, path)?;
            println!("written {}", path.display());
        }
    }
    if let Some(worst) = s.over_limit.iter().max_by_key(|o| o.visits) {
        let staff: std::collections::BTreeSet<&str> =
            s.over_limit.iter().map(|o| o.staff.as_str()).collect();
        tracing::warn!(
            weeks = s.over_limit.len(),
            staff = staff.len(),
            max = s.max_visits_per_week,
            most = worst.visits,
            most_staff = %worst.staff,
            most_week = %worst.period,
            "staff weeks with more visits than limits.max_visits_per_week (listed in over_limit)"
        );
    }
    if !s.rule_errors.is_empty() || !s.load_errors.is_empty() {
        eprintln!(
            "summary is incomplete: {} rule file(s) not loaded, {} rule error(s)",
            s.load_errors.len(),
            s.rule_errors.len()
        );
        return Ok(1);
    }
    Ok(0)
}

fn summary_csv(s: &Summary) -> String {
    let mut out = String::from("period,staff,rule,occasions,reminders\n");
    for r in &s.rows {
        out += &format!(
            "{},{},{},{},{}\n",
            r.period,
            super::csv_field(&r.staff),
            super::csv_field(&r.rule),
            r.occasions,
            r.reminders
        );
    }
    out
}

fn summary_table(s: &Summary) -> String {
    let rows: Vec<Vec<String>> = s
        .rows
        .iter()
        .map(|r| {
            vec![
                r.period.clone(),
                r.staff.clone(),
                r.rule.clone(),
                r.occasions.to_string(),
                r.reminders.to_string(),
            ]
        })
        .collect();
    let mut out = super::table::render(&["周期", "工作人员", "规则", "事项", "提醒"], &rows);
    if s.over_limit.is_empty() {
        out += &format!(
            "\n没有工作人员一周走访超过 {} 次(limits.max_visits_per_week)。\n",
            s.max_visits_per_week
        );
    } else {
        out += &format!(
            "\n一周走访超过 {} 次(limits.max_visits_per_week)的工作人员:\n",
            s.max_visits_per_week
        );
        let rows: Vec<Vec<String>> = s
            .over_limit
            .iter()
            .map(|o| vec![o.period.clone(), o.staff.clone(), o.visits.to_string()])
            .collect();
        out += &super::table::render(&["周", "工作人员", "走访"], &rows);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use crate::planner::{DayIndex, PlanningRoster, occasions, years_for};
    use crate::roster::{Category, Person, PersonRecord, Rank, RosterSnapshot, Staff, StaffRecord};
    use crate::rules::{OccasionCache, RuleSet};

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for s in [
            "",
            "张三 90岁寿辰",
            "say \"hi\" \\ back",
            all_controls.as_str(),
            "\u{7f}\u{2028}\u{2029}é😀",
            "tail\n",
        ] {
            let mut buf = Vec::new();
            json_str(&mut buf, &[s]);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
        let mut buf = Vec::new();
        json_str(&mut buf, &["a\"", " ", "\tb"]);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            serde_json::to_string("a\" \tb").unwrap()
        );
    }

    /// The hand-written line is, byte for byte, what serde_json writes for the
    /// stage as the planner stores it, for a year of every shipped rule, with names
    /// that need escaping and a title that already holds the name.
    #[test]
    fn a_hand_written_line_is_the_serde_line() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let names = ["王\"小\"明", "李\\四", "赵\t五", ""];
        let persons = (1..=8)
            .map(|id| PersonRecord {
                id,
                active: true,
                version: 1,
                imported: None,
                person: Person {
                    number: Some(format!("P{id}")),
                    staff: vec![if id % 2 == 0 { "S1" } else { "S2" }.into()],
                    ..Person::new(
                        names[id as usize % names.len()].to_string(),
                        d(&format!("19{}-0{}-1{}", 36 + id, 1 + id % 9, id % 10)),
                        Category::Lixiu,
                        Rank::Division,
                    )
                },
            })
            .collect();
        let staff = |no: &str, boss: Option<&str>| StaffRecord {
            id: 0,
            active: true,
            staff: Staff {
                number: no.into(),
                name: no.into(),
                supervisor: boss.map(Into::into),
                ..Staff::default()
            },
        };
        let snapshot = RosterSnapshot {
            persons,
            staff: vec![
                staff("S1", Some("B1")),
                staff("S2", None),
                staff("B1", None),
            ],
            events: vec![],
        };
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        let roster = PlanningRoster::from_snapshot(&snapshot, vec![]);
        let (from, to) = (d("2026-01-01"), d("2026-12-31"));
        let (occ, _) = occasions(
            &rules,
            &roster,
            years_for(from, to),
            &mut OccasionCache::default(),
        );
        let cal = rules.calendar().clone();
        let index = DayIndex::new(&rules, &roster, &occ, &cal, from, to, 7);
        let (mut lines, mut escalations) = (0, 0);
        for (i, _, _) in index.ranges() {
            for s in index.refs(i, &rules, &roster, &occ, &cal, |_, _| true) {
                let mut buf = Vec::new();
                write_json_line(&mut buf, &s);
                let mut want = serde_json::to_vec(&stage_line(&s.to_reminder(), &cal)).unwrap();
                want.push(b'\n');
                assert_eq!(
                    String::from_utf8(buf).unwrap(),
                    String::from_utf8(want).unwrap()
                );
                lines += 1;
                escalations += s.level().is_some() as usize;
            }
        }
        assert!(lines > 50, "{lines} lines");
        assert!(escalations > 0, "no escalation line was checked");
    }
}
