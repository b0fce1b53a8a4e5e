//! `qinqing preview --from --to`: calls the preview use case and prints its stages
//! as a table, JSON lines or CSV.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Format, PreviewArgs};
use crate::planner::{self, Reminder};
use crate::service::Context;
use crate::service::preview::{PreviewRequest, compare, preview};

pub async fn run(ctx: &Context, args: PreviewArgs) -> Result<i32> {
    let req = PreviewRequest {
        from: args.from,
        to: args.to,
        rule: args.rule,
        person: args.person,
    };
    if let Some(dir) = &args.compare {
        return run_compare(ctx, req, dir, args.format).await;
    }
    let out = preview(ctx, req).await?;
    for e in &out.load_errors {
        eprintln!("rule not loaded: {e}");
    }
    for e in out.rule_errors.iter().take(20) {
        eprintln!("rule error: {e}");
    }
    if out.rule_errors.len() > 20 {
        eprintln!("… and {} more rule errors", out.rule_errors.len() - 20);
    }
    let stages = out.reminders;
    match args.format {
        Format::Json => {
            for s in &stages {
                println!("{}", json_line(s, &out.calendar));
            }
        }
        Format::Csv => print_csv(&stages),
        Format::Table => print_table(&stages),
    }
    // What could be printed was; a rule that failed for anyone is still a failure.
    if !out.rule_errors.is_empty() || !out.load_errors.is_empty() {
        eprintln!(
            "preview is incomplete: {} rule file(s) not loaded, {} rule error(s)",
            out.load_errors.len(),
            out.rule_errors.len()
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

fn json_line(s: &Reminder, calendar: &crate::calendar::WorkCalendar) -> serde_json::Value {
    let mut line = json!({
        "remind_on": s.remind_on.to_string(),
        "occasion_on": s.occasion_on.to_string(),
        "due_on": s.due_on(calendar).to_string(),
        "kind": s.kind,
        "rule": s.rule,
        "person": s.person,
        "recipient": s.recipient,
        "stage": s.stage.as_str(),
        "lead_days": s.lead_days,
        "title": s.title,
        "urgent": s.urgent,
        "reference": s.reference,
    });
    if let Some(level) = s.level() {
        line["level"] = level.into();
    }
    line
}

fn print_csv(stages: &[Reminder]) {
    println!("remind_on,occasion_on,rule,person,recipient,stage,lead_days,title,reference");
    for s in stages {
        println!(
            "{},{},{},{},{},{},{},{},{}",
            s.remind_on,
            s.occasion_on,
            super::csv_field(&s.rule),
            super::csv_field(&s.person),
            super::csv_field(&s.recipient),
            s.stage.as_str(),
            s.lead_days.map(|l| l.to_string()).unwrap_or_default(),
            super::csv_field(&s.title),
            s.reference
        );
    }
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
