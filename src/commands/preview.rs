//! `qinqing preview --from --to`: every stage whose remind day falls in the range,
//! computed from the store as if the daemon had run each day; nothing is stored or sent.

use anyhow::Result;
use serde_json::json;
use unicode_width::UnicodeWidthStr;

use super::Ctx;
use crate::cli::{Format, PreviewArgs};
use rayon::prelude::*;

use crate::planner::{self, Closures, RosterBuilder, Stage};
use crate::rules::OccasionCache;

pub async fn run(ctx: &Ctx, args: PreviewArgs) -> Result<i32> {
    if args.to < args.from {
        anyhow::bail!("--to {} is before --from {}", args.to, args.from);
    }
    let cal = crate::app::work_calendar(&ctx.config)?;
    let rules = crate::app::load_rules(&ctx.config, cal.clone());
    for e in &rules.errors {
        eprintln!("rule not loaded: {e}");
    }
    if let Some(id) = &args.rule
        && rules.get(id).is_none()
    {
        anyhow::bail!("--rule: no loaded rule with id {id:?}");
    }
    let store = ctx.store().await?;
    let contacts = store
        .contacts_between(args.from - chrono::Duration::days(400), args.to)
        .await?;
    // The roster as the daemon's tick reads it (streamed, cut down as it comes);
    // --person (身份证号 or 编号) is matched on the rows before that.
    let want = args.person.as_ref().map(|p| p.trim().to_uppercase());
    let mut only = std::collections::HashSet::new();
    let mut builder = RosterBuilder::new(store.documents().await?);
    store
        .plan_rows(1 << 16, |batch| {
            if let Some(want) = &want {
                for (id, _, person, _) in &batch {
                    let number = person.number.as_deref().map(str::to_uppercase);
                    if person.key().to_uppercase() == *want || number.as_ref() == Some(want) {
                        only.insert(*id);
                    }
                }
            }
            builder.add(batch.into_par_iter());
        })
        .await?;
    let roster = builder.finish(&store.load_staff().await?);
    let only = want.map(|_| only);
    let stages = tokio::task::spawn_blocking(move || {
        let mut cache = OccasionCache::default();
        let (occ, errors) = planner::occasions(
            &rules,
            &roster,
            planner::years_for(args.from, args.to),
            &mut cache,
        );
        for e in errors.iter().take(20) {
            eprintln!("rule error: {e}");
        }
        if errors.len() > 20 {
            eprintln!("… and {} more rule errors", errors.len() - 20);
        }
        let closures = Closures::new(&contacts);
        let mut stages: Vec<Stage> =
            planner::stages_between(&rules, &roster, &occ, &cal, args.from, args.to)
                .into_iter()
                .filter(|s| args.rule.as_ref().is_none_or(|r| *s.rule == **r))
                .filter(|s| !closures.closes(s, s.remind_on))
                .collect();
        if let Some(ids) = &only {
            stages.retain(|s| ids.contains(&s.person_id));
        }
        planner::sort(&mut stages);
        stages
    })
    .await?;
    match args.format {
        Format::Json => {
            for s in &stages {
                println!("{}", json_line(s));
            }
        }
        Format::Csv => print_csv(&stages),
        Format::Table => print_table(&stages),
    }
    Ok(0)
}

fn json_line(s: &Stage) -> serde_json::Value {
    json!({
        "remind_on": s.remind_on.to_string(),
        "occasion_on": s.occasion_on.to_string(),
        "rule": s.rule,
        "person": s.person,
        "recipient": s.recipient,
        "stage": s.stage.as_str(),
        "lead_days": s.lead_days,
        "title": s.title,
        "urgent": s.urgent,
        "reference": s.reference,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn print_csv(stages: &[Stage]) {
    println!("remind_on,occasion_on,rule,person,recipient,stage,lead_days,title,reference");
    for s in stages {
        println!(
            "{},{},{},{},{},{},{},{},{}",
            s.remind_on,
            s.occasion_on,
            csv_field(&s.rule),
            csv_field(&s.person),
            csv_field(&s.recipient),
            s.stage.as_str(),
            s.lead_days.map(|l| l.to_string()).unwrap_or_default(),
            csv_field(&s.title),
            s.reference
        );
    }
}

fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn print_table(stages: &[Stage]) {
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
    let rows: Vec<[String; 8]> = stages
        .iter()
        .map(|s| {
            [
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
    let mut widths = header.map(UnicodeWidthStr::width);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(UnicodeWidthStr::width(c.as_str()));
        }
    }
    let line = |cells: &[&str]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cells.len() {
                    c.to_string()
                } else {
                    pad(c, widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(&header));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        println!("{}", line(&cells));
    }
    println!("共 {} 条 ({} stages)", rows.len(), rows.len());
}
