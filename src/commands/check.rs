//! `qinqing check`: the config, the calendar data, the rules (and their test cases)
//! and the stored roster, summarised. Exits non-zero when something must be fixed.

use anyhow::Result;

use crate::cli::{CheckArgs, Format};
use crate::roster::{Category, Rank};
use crate::service::Context;
use crate::service::check::{CheckReport, check};

pub async fn run(ctx: &Context, args: CheckArgs) -> Result<i32> {
    // `--rules DIR`: the same check, with that folder as rules.path.
    let edited;
    let ctx = match &args.rules {
        Some(dir) => {
            let mut config = (*ctx.config).clone();
            config.rules.path = Some(dir.clone());
            edited = Context {
                config: std::sync::Arc::new(config),
                database_url: ctx.database_url.clone(),
                clock: ctx.clock.clone(),
            };
            &edited
        }
        None => ctx,
    };
    let report = check(ctx, args.startup).await?;
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(if report.ok { 0 } else { 1 })
}

fn print_table(r: &CheckReport) {
    let s = &r.roster;
    println!(
        "花名册 roster: {} persons ({} active, {} deceased), {} staff",
        s.persons, s.active_persons, s.deceased, s.staff
    );
    let cats: Vec<String> = Category::ALL
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.as_str(),
                s.by_category.get(c.as_str()).copied().unwrap_or(0)
            )
        })
        .collect();
    println!("  类别 by category: {}", cats.join(", "));
    let ranks: Vec<String> = Rank::ALL
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.as_str(),
                s.by_rank.get(c.as_str()).copied().unwrap_or(0)
            )
        })
        .collect();
    println!("  职级 by rank: {}", ranks.join(", "));
    println!("  unassigned (无联系人): {}", s.unassigned);
    for p in &s.unassigned_persons {
        println!("    - {p}");
    }
    println!(
        "  staff over {} persons: {}",
        r.max_persons_per_staff,
        s.overloaded.len()
    );
    for o in &s.overloaded {
        println!("    - {} ({} persons)", o.staff, o.persons);
    }
    println!("rules: {}", r.rules.len());
    for rule in &r.rules {
        let off = if rule.enabled {
            ""
        } else {
            " [未启用 disabled: RULE 里 enabled: false]"
        };
        println!("  {} {} ({}){off}", rule.id, rule.title, rule.file);
    }
    if !r.rule_tests.is_empty() {
        println!("rule tests:");
        for t in &r.rule_tests {
            println!(
                "  {} {}{}",
                if t.passed { "pass" } else { "FAIL" },
                t.name,
                if t.passed {
                    String::new()
                } else {
                    format!(": {}", t.message)
                }
            );
        }
    }
    for w in &r.warnings {
        println!("warning: {w}");
    }
    for e in &r.errors {
        println!("error: {e}");
    }
    println!("{}", if r.ok { "check passed" } else { "check FAILED" });
}
