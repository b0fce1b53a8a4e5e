//! Checking a bureau's set-up (`qinqing check`): the config, the holiday calendar,
//! the rules and their test cases, and the stored roster.

use anyhow::Result;
use chrono::Datelike;
use serde::Serialize;

use super::Context;
use crate::roster::summary::{RosterSummary, summarise};

#[derive(Debug, Serialize)]
pub struct CheckReport {
    #[serde(flatten)]
    pub roster: RosterSummary,
    pub max_persons_per_staff: usize,
    pub rules: Vec<crate::rules::Rule>,
    pub rule_tests: Vec<crate::rules::CaseResult>,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    pub ok: bool,
}

/// Checks the set-up. With `startup` (`check --startup`, systemd's ExecStartPre
/// and ExecReload), only what would stop the daemon from starting is an error (an
/// invalid config or holiday file, an unreachable store, an unreadable rules
/// folder, no usable channel); rule errors, failing rule tests and roster problems
/// are warnings, since the daemon keeps the last good rules and roster.
pub async fn check(ctx: &Context, startup: bool) -> Result<CheckReport> {
    let mut errors: Vec<String> = ctx.config.validate();
    let mut warnings = Vec::new();
    // Errors the daemon survives (it keeps the last good rules and roster).
    let mut soft: Vec<String> = Vec::new();
    if let Some(dir) = &ctx.config.rules.path
        && let Err(e) = std::fs::read_dir(dir)
    {
        errors.push(format!(
            "rules.path = {}: 规则文件夹无法读取 ({e}) (the rules folder cannot be read)",
            dir.display()
        ));
    }
    match crate::delivery::channels::build(&ctx.config.channels, ctx.clock.clone()) {
        Err(e) => errors.push(format!("channel configuration: {e}")),
        Ok(chans) if chans.is_empty() && startup => errors.push(
            "no channel is configured: add [channels.console] or another channel to the config"
                .into(),
        ),
        Ok(_) => {}
    }

    let calendar = match super::work_calendar(&ctx.config) {
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

    let loaded = calendar
        .as_ref()
        .map(|cal| super::load_rules(&ctx.config, cal.clone()));
    let (rules, rule_tests) = match &loaded {
        Some(loaded) => {
            for e in &loaded.errors {
                soft.push(e.to_string());
            }
            let tests = loaded.run_cases();
            for t in &tests {
                if !t.passed {
                    soft.push(format!("rule test {} failed: {}", t.name, t.message));
                }
            }
            (loaded.rules.clone(), tests)
        }
        None => (Vec::new(), Vec::new()),
    };

    let store = ctx.store().await?;
    // roster.path (and roster.staff) as the daemon would import them: a dry run.
    if let Some(path) = &ctx.config.roster.path {
        let opts = super::import::ImportOptions {
            sheet: ctx.config.roster.sheet.clone(),
            staff: ctx.config.roster.staff.clone(),
            dry_run: true,
            skip_invalid: false,
            deactivate_missing: false,
            confirm_corrections: false,
            max_bytes: Some(ctx.config.roster.max_bytes),
        };
        match super::import::import_file(&store, path, &opts, ctx.clock.now()).await {
            Ok(out) => {
                let n = out.row_errors.len();
                for g in crate::roster::group_errors(&out.row_errors).iter().take(20) {
                    let rows: Vec<String> = g.rows.iter().take(3).map(|r| r.to_string()).collect();
                    soft.push(format!(
                        "roster.path = {}: 「{}」{}: {}行,例如第{}行",
                        path.display(),
                        g.column,
                        g.reason,
                        g.rows.len(),
                        rows.join("、")
                    ));
                }
                if n > 0 {
                    soft.push(format!(
                        "roster.path = {}: {n} error(s) in {} row(s); the daemon keeps the last good roster \
                         until they are fixed (qinqing import {} --errors 错误.xlsx lists them all)",
                        path.display(),
                        out.bad_rows,
                        path.display()
                    ));
                }
                warnings.extend(out.warnings.iter().map(|w| format!("roster.path: {w}")));
            }
            Err(e) => soft.push(format!(
                "roster.path = {}: {e:#} (the daemon keeps the last good roster)",
                path.display()
            )),
        }
    }
    // The rules proved on data: made-up persons of every kind, and the roster.
    if let Some(loaded) = &loaded
        && !loaded.rules.is_empty()
    {
        let (errs, warns) = prove_rules(&store, loaded, this_year).await?;
        soft.extend(errs);
        warnings.extend(warns);
    }
    let snapshot = store.load_roster().await?;
    let max = ctx.config.limits.max_persons_per_staff;
    let roster = summarise(&snapshot, max);
    for u in &roster.unknown_staff {
        soft.push(format!(
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
    // Staff who look after persons but have no 上级: their overdue work escalates
    // back to themselves.
    let mut looked_after: Vec<&str> = snapshot
        .persons
        .iter()
        .filter(|p| p.active && p.person.facts.deceased_on.is_none())
        .flat_map(|p| p.person.staff.iter().map(String::as_str))
        .collect();
    looked_after.sort_unstable();
    looked_after.dedup();
    let alone: Vec<&str> = snapshot
        .staff
        .iter()
        .filter(|s| s.active && s.staff.supervisor.as_deref().is_none_or(str::is_empty))
        .map(|s| s.staff.number.as_str())
        .filter(|n| looked_after.binary_search(n).is_ok())
        .collect();
    let fallback = ctx
        .config
        .escalation
        .fallback
        .as_deref()
        .filter(|f| !f.trim().is_empty());
    if !alone.is_empty() {
        warnings.push(match fallback {
            Some(f) => format!(
                "staff with persons but no 上级: {}; their overdue work escalates to the \
                 [escalation] fallback {f} (set 上级 in the staff sheet)",
                alone.join(", ")
            ),
            None => format!(
                "staff with persons but no 上级: {}; their overdue work escalates to nobody and \
                 is recorded as unrouted (set 上级 in the staff sheet, or [escalation] fallback)",
                alone.join(", ")
            ),
        });
    }
    if let Some(f) = fallback
        && !snapshot
            .staff
            .iter()
            .any(|s| s.active && s.staff.number == f)
    {
        soft.push(format!(
            "[escalation] fallback = {f:?} is not a 工号 in the staff list"
        ));
    }
    if ctx.config.http.links_base().is_none() {
        warnings.push(
            "links are off: [http] base_url is unset, so messages carry no acknowledgement or \
             worklist links (staff answer with qinqing ack 提醒编号)"
                .into(),
        );
    } else if ctx.config.http.listen.is_none() {
        warnings.push(
            "[http] base_url is set but [http] listen is not: the links in messages lead nowhere"
                .into(),
        );
    }
    if startup {
        warnings.extend(soft);
    } else {
        errors.extend(soft);
    }
    let ok = errors.is_empty();
    Ok(CheckReport {
        roster,
        max_persons_per_staff: max,
        rules,
        rule_tests,
        warnings,
        errors,
        ok,
    })
}

/// Runs every rule over made-up persons covering every category × rank × self-care
/// × flag combination the getters can see, for this year and next, and over every
/// active person in the store. Returns (errors, warnings): a runtime error or limit
/// hit, grouped, with the persons' 编号; a rule that yields no occasion for anyone
/// in the store is a warning.
async fn prove_rules(
    store: &crate::store::Store,
    rules: &crate::rules::RuleSet,
    year: i32,
) -> Result<(Vec<String>, Vec<String>)> {
    use crate::roster::{Category, Person, PersonRecord, Rank, RosterSnapshot, SelfCare};
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let years = year..=year + 1;
    let documents = store.documents().await?;

    // Made-up persons: every combination, with birthdays spread over the year.
    let mut persons = Vec::new();
    let mut id = 0i64;
    for cat in Category::ALL {
        for rank in Rank::ALL {
            for care in [SelfCare::Full, SelfCare::Partial, SelfCare::None] {
                for flags in 0u8..16 {
                    id += 1;
                    let birth = chrono::NaiveDate::from_ymd_opt(
                        1920 + (id % 45) as i32,
                        (id % 12) as u32 + 1,
                        (id % 28) as u32 + 1,
                    )
                    .expect("a valid date");
                    let mut p = Person::new("试运行", birth, cat, rank);
                    p.number = Some(format!("试{id}"));
                    p.staff = vec!["S001".into()];
                    p.facts.self_care = care;
                    p.facts.lives_alone = flags & 1 != 0;
                    p.facts.hardship = flags & 2 != 0;
                    p.facts.empty_nest = flags & 4 != 0;
                    p.facts.widowed = flags & 8 != 0;
                    p.facts.lunar_birthday = id % 2 == 0;
                    persons.push(PersonRecord {
                        id,
                        person: p,
                        active: true,
                        version: 1,
                        imported: None,
                    });
                }
            }
        }
    }
    let made_up = crate::planner::PlanningRoster::from_snapshot(
        &RosterSnapshot {
            persons,
            staff: Vec::new(),
            events: Vec::new(),
        },
        documents.clone(),
    );
    let mut cache = crate::rules::OccasionCache::default();
    let (made_up_occasions, errs) =
        crate::planner::occasions(rules, &made_up, years.clone(), &mut cache);
    let mut seen = std::collections::HashSet::new();
    for e in &errs {
        if seen.insert((e.rule.clone(), e.line, e.message.clone())) {
            let n = errs
                .iter()
                .filter(|x| x.rule == e.rule && x.line == e.line && x.message == e.message)
                .map(|x| x.person_id)
                .collect::<std::collections::HashSet<_>>()
                .len();
            errors.push(format!(
                "rule {}{}: {} — fails for {n} made-up person(s) (试运行 of every category, rank, \
                 self-care and flag)",
                e.rule,
                e.line.map(|l| format!(" 第{l}行")).unwrap_or_default(),
                e.message
            ));
        }
    }

    // The roster itself.
    let roster = super::plan::Planning::default()
        .roster(
            store,
            chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January"),
        )
        .await?;
    let mut tos: std::collections::BTreeSet<(usize, String)> = made_up_occasions
        .iter()
        .flat_map(|(_, ri, list)| list.iter().filter_map(|o| Some((*ri, o.to.clone()?))))
        .collect();
    if !roster.persons.is_empty() {
        let mut cache = crate::rules::OccasionCache::default();
        let (occ, errs) = crate::planner::occasions(rules, &roster, years, &mut cache);
        tos.extend(
            occ.iter()
                .flat_map(|(_, ri, list)| list.iter().filter_map(|o| Some((*ri, o.to.clone()?)))),
        );
        errors.extend(
            super::preview::describe_errors(store, &errs)
                .await?
                .into_iter()
                .map(|e| format!("rule error on the roster: {e}")),
        );
        for (ri, rule) in rules.rules.iter().enumerate().filter(|(_, r)| r.enabled) {
            let any = occ.iter().any(|(_, r, list)| *r == ri && !list.is_empty());
            if !any {
                warnings.push(format!(
                    "rule {} ({}) yields no occasion for anyone in the roster this year or next",
                    rule.id, rule.file
                ));
            }
        }
    }
    // Every `to:` a rule gave must name a role or a 工号 of the staff list.
    let mut roles: Vec<&str> = roster
        .staff
        .values()
        .filter_map(|s| s.role.as_deref())
        .flat_map(|r| r.split(['、', ',', ',', ';', ';', '/', ' ']))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    for (ri, to) in tos {
        if matches!(to.as_str(), "staff" | "联系人" | "supervisor" | "上级")
            || roster.staff.contains_key(&to)
            || roles.contains(&to.as_str())
        {
            continue;
        }
        let rule = &rules.rules[ri];
        let line = std::fs::read_to_string(&rule.file)
            .ok()
            .and_then(|text| {
                text.lines()
                    .position(|l| l.contains("to:") && l.contains(&format!("\"{to}\"")))
            })
            .map(|i| format!(" 第{}行", i + 1))
            .unwrap_or_default();
        let mut known = vec!["staff", "supervisor"];
        known.extend(roles.iter().copied());
        let message = format!(
            "rule {} ({}{line}): to: {to:?} 不是工作人员名单里的角色或工号{};可写 {} 或一个工号 \
             (unknown recipient {to:?})",
            rule.id,
            rule.file,
            crate::rules::suggest(&to, &known),
            known.join("、"),
        );
        if roster.staff.is_empty() {
            warnings.push(format!(
                "{message};工作人员名单还是空的,导入花名册后请再运行 qinqing check"
            ));
        } else {
            errors.push(message);
        }
    }
    Ok((errors, warnings))
}
