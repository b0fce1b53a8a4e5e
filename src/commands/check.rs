//! `qinqing check`: the config, the calendar data, the rules (and their test cases)
//! and the stored roster, summarised. Exits non-zero when something must be fixed.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use chrono::Datelike;
use serde::Serialize;

use super::Ctx;
use crate::cli::{CheckArgs, Format};
use crate::roster::{Category, Rank};
use crate::store::RosterSnapshot;

#[derive(Debug, Serialize, Default)]
pub struct RosterSummary {
    pub persons: usize,
    pub active_persons: usize,
    pub deceased: usize,
    pub staff: usize,
    pub unassigned: usize,
    pub by_category: BTreeMap<String, usize>,
    pub by_rank: BTreeMap<String, usize>,
    /// Active persons with no assigned staff member: 身份证号 masked, or 编号.
    pub unassigned_persons: Vec<String>,
    /// Staff over `limits.max_persons_per_staff`.
    pub overloaded: Vec<StaffLoad>,
    /// 联系人 numbers that name no staff member.
    pub unknown_staff: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct StaffLoad {
    pub staff: String,
    pub persons: usize,
}

/// Active persons are those not marked inactive and not deceased.
pub fn summarise(s: &RosterSnapshot, max_per_staff: usize) -> RosterSummary {
    let mut out = RosterSummary {
        persons: s.persons.len(),
        staff: s.staff.len(),
        ..Default::default()
    };
    let known: HashMap<&str, ()> = s
        .staff
        .iter()
        .map(|x| (x.staff.number.as_str(), ()))
        .collect();
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    for sp in &s.persons {
        let p = &sp.person;
        if p.deceased_on.is_some() {
            out.deceased += 1;
        }
        if !sp.active || p.deceased_on.is_some() {
            continue;
        }
        out.active_persons += 1;
        *out.by_category
            .entry(p.category.as_str().into())
            .or_default() += 1;
        *out.by_rank.entry(p.rank.as_str().into()).or_default() += 1;
        if p.staff.is_empty() {
            out.unassigned += 1;
            out.unassigned_persons.push(match &p.id_number {
                Some(id) => crate::mask::id_number(id),
                None => p.key().to_string(),
            });
        }
        for st in &p.staff {
            *load.entry(st.as_str()).or_default() += 1;
            if !known.contains_key(st.as_str()) && !out.unknown_staff.contains(st) {
                out.unknown_staff.push(st.clone());
            }
        }
    }
    out.overloaded = load
        .into_iter()
        .filter(|(_, n)| *n > max_per_staff)
        .map(|(s, n)| StaffLoad {
            staff: s.to_string(),
            persons: n,
        })
        .collect();
    out
}

#[derive(Debug, Serialize)]
struct Report {
    #[serde(flatten)]
    roster: RosterSummary,
    max_persons_per_staff: usize,
    rules: Vec<crate::rules::RuleStatus>,
    rule_tests: Vec<crate::rules::CaseResult>,
    warnings: Vec<String>,
    errors: Vec<String>,
    ok: bool,
}

pub async fn run(ctx: &Ctx, args: CheckArgs) -> Result<i32> {
    let mut errors: Vec<String> = ctx.config.validate();
    let mut warnings = Vec::new();

    let calendar = match crate::app::work_calendar(&ctx.config) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(format!("{e:#}"));
            None
        }
    };
    let this_year = ctx.clock.today().year();
    if let Some(cal) = &calendar {
        for y in [this_year, this_year + 1] {
            if !cal.has_year(y) {
                warnings.push(format!(
                    "no State Council holiday notice for {y}: Monday–Friday count as working days; \
                     add the notice to the file named by calendar.holidays (see config/holidays.toml)"
                ));
            }
        }
    }

    let (rules, rule_tests) = match &calendar {
        Some(cal) => {
            let loaded = crate::app::load_rules(&ctx.config, cal.clone());
            for e in &loaded.errors {
                errors.push(e.to_string());
            }
            let tests = loaded.run_cases();
            for t in &tests {
                if !t.passed {
                    errors.push(format!("rule test {} failed: {}", t.name, t.message));
                }
            }
            (loaded.statuses(), tests)
        }
        None => (Vec::new(), Vec::new()),
    };

    let store = ctx.store().await?;
    let snapshot = store.load_roster().await?;
    let max = ctx.config.limits.max_persons_per_staff;
    let roster = summarise(&snapshot, max);
    for u in &roster.unknown_staff {
        errors.push(format!(
            "联系人 {u} is assigned persons but is not in the staff list"
        ));
    }
    if roster.unassigned > 0 {
        warnings.push(format!(
            "{} active person(s) have no assigned staff member (联系人) and get no reminders",
            roster.unassigned
        ));
    }
    for o in &roster.overloaded {
        warnings.push(format!(
            "staff {} looks after {} persons, over limits.max_persons_per_staff = {max}",
            o.staff, o.persons
        ));
    }
    let ok = errors.is_empty();
    let report = Report {
        roster,
        max_persons_per_staff: max,
        rules,
        rule_tests,
        warnings,
        errors,
        ok,
    };
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(if ok { 0 } else { 1 })
}

fn print_table(r: &Report) {
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
        println!("  {} {} ({})", rule.id, rule.title, rule.file);
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
