//! Planning benchmark: a synthetic roster of 100,000 and 1,000,000 persons, a full
//! year of occasions and stages with the shipped Rhai rules, beside a native-Rust
//! version of the same six rules as the reference; then the daily tick on cached
//! occasions.
//!
//! `cargo bench --bench plan`; `QINQING_BENCH_SIZES=100000` for one smaller size.
//! Each size runs in its own child process so its peak memory (VmHWM) is its own.
//! Prints figures; asserts nothing about timings (it does fail if the Rhai and native
//! plans disagree).

mod common;

use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;

use common::*;
use qinqing::calendar::{self, WorkCalendar};
use qinqing::planner::{self, PlanningRoster};
use qinqing::rules::{Occasion, OccasionCache, PersonData, Rule, RuleSet};

const CHILD: &str = "QINQING_BENCH_PLAN_CHILD";

type Planned = Vec<(usize, usize, Arc<Vec<Occasion>>)>;

fn main() {
    if let Ok(n) = std::env::var(CHILD) {
        child(n.parse().expect("size"));
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs harness-less benches too: not this one.
        println!("plan: a benchmark; run it with `cargo bench --bench plan`");
        return;
    }
    let sizes = sizes(&[100_000, 1_000_000]);
    println!(
        "qinqing plan bench: {} rayon threads, year {YEAR}, sizes {:?}",
        rayon::current_num_threads(),
        sizes
    );
    if !run_children(CHILD, &sizes) {
        std::process::exit(1);
    }
}

// ---- the native reference: the eight shipped rules in plain Rust --------------------

#[derive(Clone, Copy, Debug)]
enum NativeRule {
    Festival,
    Birthday,
    MonthlyCall,
    Document,
    Hospital,
    Condolence,
    Complaint,
    Hardship,
}

impl NativeRule {
    fn of(rule: &Rule) -> NativeRule {
        match rule.id.as_str() {
            "festival-visit" => NativeRule::Festival,
            "birthday-milestone" => NativeRule::Birthday,
            "monthly-call" => NativeRule::MonthlyCall,
            "document-delivery" => NativeRule::Document,
            "hospital-visit" => NativeRule::Hospital,
            "condolence" => NativeRule::Condolence,
            "complaint-visit" => NativeRule::Complaint,
            "hardship-visit" => NativeRule::Hardship,
            other => panic!("no native version of rule {other}"),
        }
    }
}

fn occasion(rule: &Rule, date: NaiveDate, title: String, kind: &str) -> Occasion {
    Occasion {
        date,
        title,
        kind: kind.to_string(),
        key: String::new(),
        remind_on: None,
        urgent: rule.urgent,
        satisfied_by: Vec::new(),
        window: None,
        until: None,
        to: None,
    }
}

/// What `rules/<rule>.rhai`'s `occasions(p, year)` returns, computed natively.
fn native(
    which: NativeRule,
    rule: &Rule,
    p: &PersonData,
    year: i32,
    cal: &WorkCalendar,
) -> Vec<Occasion> {
    let mut out = Vec::new();
    match which {
        NativeRule::Festival => {
            use qinqing::roster::{Category, Rank};
            let covered = match p.person.facts.category {
                Category::Lixiu | Category::Yishu => true,
                Category::Tuixiu => {
                    p.person.facts.rank >= Rank::Division || p.person.facts.lives_alone
                }
            };
            if !covered {
                return out;
            }
            let member = p
                .person
                .party_branch
                .as_deref()
                .is_some_and(|b| !b.trim().is_empty());
            for f in ["春节", "七一", "中秋", "重阳"] {
                if f == "七一" && !member {
                    continue;
                }
                let d = calendar::festival(f, year).expect("festival in range");
                let mut o = occasion(rule, d, format!("{f}走访慰问"), "visit");
                o.key = f.to_string();
                out.push(o);
            }
        }
        NativeRule::Birthday => {
            for b in p.birthdays_in(year) {
                if b.age == 70 || b.age == 80 || b.age >= 90 {
                    out.push(occasion(rule, b.date, format!("{}岁寿辰", b.age), "visit"));
                }
            }
        }
        NativeRule::MonthlyCall => {
            for m in 1..=12u32 {
                let d = cal.first_workday_of_month(year, m);
                let mut o = occasion(rule, d, format!("{m}月电话联系"), "call");
                o.satisfied_by = vec!["call".into(), "visit".into()];
                let first = d.with_day(1).expect("first of month");
                let next = first
                    .checked_add_months(chrono::Months::new(1))
                    .expect("next month");
                o.window = Some((first, next.pred_opt().expect("last day")));
                out.push(o);
            }
        }
        NativeRule::Document => {
            use qinqing::roster::SelfCare;
            for doc in p.documents.iter() {
                let in_audience = doc.audience.contains(&p.person.facts.category)
                    && doc.min_rank.is_none_or(|r| p.person.facts.rank >= r);
                let needs = p.person.facts.self_care != SelfCare::Full
                    || p.person
                        .facts
                        .hospitalised_since
                        .is_some_and(|s| s <= doc.issued_on);
                if doc.deadline.year() != year || !in_audience || !needs {
                    continue;
                }
                let mut o = occasion(
                    rule,
                    doc.deadline,
                    format!("送文到家:{}", doc.title),
                    "deliver",
                );
                o.key = format!("doc-{}", doc.id);
                o.remind_on = Some(vec![
                    doc.issued_on,
                    doc.deadline - chrono::Duration::days(1),
                ]);
                out.push(o);
            }
        }
        NativeRule::Hospital => {
            for (kind, date) in &p.events {
                if kind == "hospitalised" {
                    let d = *date + chrono::Duration::days(2);
                    if d.year() == year {
                        let mut o = occasion(rule, d, "住院看望".to_string(), "visit");
                        o.remind_on = Some(vec![*date]);
                        o.key = date.to_string();
                        o.until = p
                            .events
                            .iter()
                            .filter(|(k, x)| k == "discharged" && x >= date)
                            .map(|(_, x)| *x)
                            .min();
                        out.push(o);
                    }
                }
            }
        }
        NativeRule::Complaint | NativeRule::Hardship => {
            let (want, days, title) = match which {
                NativeRule::Complaint => ("complaint", 3, "反映问题走访"),
                _ => ("hardship", 7, "困难帮扶走访"),
            };
            for (kind, date) in &p.events {
                if kind == want {
                    let d = *date + chrono::Duration::days(days);
                    if d.year() == year {
                        let mut o = occasion(rule, d, title.to_string(), "visit");
                        let remind =
                            if matches!(which, NativeRule::Hardship) && !cal.is_workday(*date) {
                                cal.next_workday(*date)
                            } else {
                                *date
                            };
                        o.remind_on = Some(vec![remind]);
                        o.key = date.to_string();
                        out.push(o);
                    }
                }
            }
        }
        NativeRule::Condolence => {
            if let Some(died) = p.person.facts.deceased_on {
                let d = died + chrono::Duration::days(1);
                if d.year() == year {
                    let mut o = occasion(rule, d, "吊唁".to_string(), "visit");
                    o.remind_on = Some(vec![died]);
                    out.push(o);
                }
            }
        }
    }
    out
}

/// The same shape and order as `planner::occasions` (person, rule, year), natively.
fn native_plan(rules: &RuleSet, roster: &PlanningRoster, years: RangeInclusive<i32>) -> Planned {
    let kinds: Vec<NativeRule> = rules.rules.iter().map(NativeRule::of).collect();
    let years: Vec<i32> = years.collect();
    let cal = rules.calendar();
    roster
        .persons
        .par_iter()
        .enumerate()
        .map(|(pi, p)| {
            let mut out = Vec::new();
            if p.person.staff.is_empty() {
                return out;
            }
            for (ri, rule) in rules.rules.iter().enumerate() {
                for &y in &years {
                    out.push((pi, ri, Arc::new(native(kinds[ri], rule, p, y, cal))));
                }
            }
            out
        })
        .flatten()
        .collect()
}

fn occasion_count(planned: &Planned) -> u64 {
    planned.iter().map(|(_, _, v)| v.len() as u64).sum()
}

/// Expands every occasion into stages in chunks, counting them (a full year of
/// stages for a large roster does not fit in memory at once). Also counts the
/// stages due on `day`.
fn count_stages(
    rules: &RuleSet,
    roster: &PlanningRoster,
    planned: &Planned,
    day: NaiveDate,
) -> (u64, u64) {
    let cal = rules.calendar();
    planned
        .par_chunks(1024)
        .map(|chunk| {
            let st = planner::stages(rules, roster, chunk, cal);
            let today = st.iter().filter(|s| s.remind_on == day).count() as u64;
            (st.len() as u64, today)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// Per-rule cost on one thread over the first `sample` persons, Rhai and native.
/// Returns the summed (rhai, native) µs per person over the rules measured.
fn per_rule(
    rules: &RuleSet,
    roster: &PlanningRoster,
    sample: usize,
    only: Option<&str>,
) -> (f64, f64) {
    let persons = &roster.persons[..sample.min(roster.persons.len())];
    let cal = rules.calendar();
    println!(
        "  per rule, one thread, {} persons, every call run (no memo):   rhai µs/call  native µs/call  ratio  occasions",
        persons.len()
    );
    let mut sums = (0.0, 0.0);
    for rule in rules
        .rules
        .iter()
        .filter(|r| only.is_none_or(|o| r.id == o))
    {
        let which = NativeRule::of(rule);
        let t0 = Instant::now();
        let mut count = 0usize;
        for p in persons {
            count += rules.eval(rule, p, YEAR).map(|v| v.len()).unwrap_or(0);
        }
        let rhai = t0.elapsed().as_secs_f64() * 1e6 / persons.len() as f64;
        let t0 = Instant::now();
        let mut native_count = 0usize;
        for p in persons {
            native_count += native(which, rule, p, YEAR, cal).len();
        }
        let nat = t0.elapsed().as_secs_f64() * 1e6 / persons.len() as f64;
        assert_eq!(count, native_count, "{}", rule.id);
        sums.0 += rhai;
        sums.1 += nat;
        println!(
            "    {:<36} {rhai:>12.2} {nat:>14.2} {:>6.0}x {count:>10}",
            rule.id,
            rhai / nat
        );
    }
    println!(
        "    {:<36} {:>12.2} {:>14.2} {:>6.0}x",
        "all six",
        sums.0,
        sums.1,
        sums.0 / sums.1
    );
    sums
}

fn child(n: usize) {
    println!();
    println!("== {} persons ==", with_commas(n as u64));
    let docs = documents();
    let n_staff = staff_count(n);
    let staff = stored_staff(n_staff);
    let base_rss = rss_mib();
    if !reset_peak() {
        println!("  (cannot reset VmHWM: peaks include start-up)");
    }
    let (rules, _) = phase("compile rules (RuleSet::builtin)", || {
        RuleSet::builtin(WorkCalendar::builtin())
    });
    assert!(rules.errors.is_empty(), "{:?}", rules.errors);
    assert_eq!(rules.rules.len(), 6);
    let years = YEAR..=YEAR;
    // The festival day the daily tick looks at: 7 days before 中秋 → reminders due.
    let festival_day = rules.calendar().workday_on_or_before(
        calendar::festival("中秋", YEAR).unwrap() - chrono::Duration::days(7),
    );

    // Synthetic persons generated and cut down to what planning needs one by one, as
    // rows streamed from the store would be: the full rows never all exist at once.
    let (roster, t_roster) = phase("synthetic roster → PlanningRoster::from_rows", || {
        let rows = (0..n).into_par_iter().filter_map(|i| {
            let (person, active, events) = person(i, n_staff);
            active.then(|| qinqing::roster::PlanRow {
                id: i as i64 + 1,
                version: 1,
                person,
                events,
            })
        });
        PlanningRoster::from_rows(rows, &staff, docs.clone())
    });
    let events: usize = roster.persons.iter().map(|p| p.events.len()).sum();
    println!(
        "  ({} active persons, {} staff, {} events, {} documents)",
        with_commas(roster.persons.len() as u64),
        with_commas(staff.len() as u64),
        with_commas(events as u64),
        docs.len()
    );
    let roster_rss = rss_mib() - base_rss;
    // QINQING_BENCH_PER_RULE=festival-visit: only that rule's breakdown, for a profiler.
    if let Ok(only) = std::env::var("QINQING_BENCH_PER_RULE")
        && !only.is_empty()
    {
        per_rule(&rules, &roster, 20_000, Some(&only));
        return;
    }

    // The shipped Rhai rules through the library: what the daemon does.
    let mut cache = OccasionCache::default();
    let ((occ, errors), t_rhai) = phase("rhai: planner::occasions (cold cache)", || {
        planner::occasions(&rules, &roster, years.clone(), &mut cache)
    });
    let rhai_count = occasion_count(&occ);
    let ((stage_count, _), t_stages) = phase("rhai: planner::stages (chunked, counted)", || {
        count_stages(&rules, &roster, &occ, festival_day)
    });
    let peak_full = peak_mib();
    let full = t_roster + t_rhai + t_stages;
    let memo_nodes: usize = (YEAR..=YEAR)
        .flat_map(|y| {
            let cache = &cache;
            rules.rules.iter().map(move |r| {
                cache
                    .memo(r.hash, roster.documents_version, y)
                    .map(|m| m.read().unwrap().len())
                    .unwrap_or(0)
            })
        })
        .sum();
    let occ_lists = occ.len();
    drop(occ);
    println!(
        "  occasions: {}  stages: {}  rule errors: {}  cache entries: {} ({} non-empty lists)  memo nodes: {}",
        with_commas(rhai_count),
        with_commas(stage_count),
        errors.len(),
        with_commas(cache.len() as u64),
        with_commas(occ_lists as u64),
        with_commas(memo_nodes as u64)
    );

    // The daily tick: the same roster and years again, every occasion from the cache,
    // then only the stages due that day.
    let ((occ2, errors2), t_tick) = phase("daily tick: planner::occasions (warm cache)", || {
        planner::occasions(&rules, &roster, years.clone(), &mut cache)
    });
    assert!(errors2.is_empty());
    assert_eq!(occasion_count(&occ2), rhai_count);
    let (due, t_tick_stages) = phase("daily tick: planner::stages_between(day, day)", || {
        planner::stages_between(
            &rules,
            &roster,
            &occ2,
            rules.calendar(),
            festival_day,
            festival_day,
        )
        .len() as u64
    });
    let peak_all = peak_mib();

    // The native reference, after the library's figures (it keeps every person's
    // occasions apart, so its own peak is higher), and the cost of running every
    // call without the memo.
    let (native_occ, t_native) = phase("native: occasions, 6 rules", || {
        native_plan(&rules, &roster, years.clone())
    });
    let native_count = occasion_count(&native_occ);
    drop(native_occ);
    let (per_call_rhai, per_call_native) = per_rule(&rules, &roster, 20_000, None);

    // Same plan? Counts always; every occasion compared on the smaller sizes.
    let mut mismatches = 0usize;
    if n <= 200_000 {
        let t0 = Instant::now();
        let reference: Planned = native_plan(&rules, &roster, years.clone())
            .into_iter()
            .filter(|(_, _, v)| !v.is_empty())
            .collect();
        assert_eq!(
            reference.len(),
            occ2.len(),
            "(person, rule) lists differ in number"
        );
        mismatches = reference
            .par_iter()
            .zip(occ2.par_iter())
            .filter(|(a, b)| a.0 != b.0 || a.1 != b.1 || a.2 != b.2)
            .count();
        println!(
            "  compared every occasion, native vs rhai: {mismatches} (person, rule) lists differ ({:.1} s)",
            t0.elapsed().as_secs_f64()
        );
    }
    drop(occ2);

    let ratio = t_rhai / t_native;
    let raw_ratio = per_call_rhai / per_call_native;
    println!("  -- summary ({} persons) --", with_commas(n as u64));
    println!(
        "  full year, rhai (roster + occasions + stages): {full:.2} s = {:.0} persons/s (occasions alone {:.0} persons/s)",
        n as f64 / full,
        n as f64 / t_rhai
    );
    println!(
        "  full year, native rules (same roster and stages): {:.2} s = {:.0} persons/s",
        t_roster + t_native + t_stages,
        n as f64 / (t_roster + t_native + t_stages)
    );
    println!(
        "  rhai/native ratio: {ratio:.1}x for the year's occasions through the planner (memo shares results between persons who read the same); {raw_ratio:.0}x per call with every call run"
    );
    println!(
        "  peak memory: {peak_full:.0} MiB after the full year, {peak_all:.0} MiB with the daily tick (before the native reference); the planning roster {roster_rss:.0} MiB, the process before it {base_rss:.0} MiB",
    );
    println!(
        "  daily tick on cached occasions: {t_tick:.2} s (+ {t_tick_stages:.2} s for the {} stages due on {festival_day})",
        with_commas(due)
    );
    println!(
        "  same occasion count native vs rhai: {}",
        if native_count == rhai_count && mismatches == 0 {
            "yes"
        } else {
            "NO"
        }
    );
    if n >= 1_000_000 {
        let scale = n as f64 / 1_000_000.0;
        let mark = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "  targets (1M): full year < 20 s: {}; its peak < 1 GB: {}; cached tick < 2 s: {}; ratio < 100x: {}",
            mark(full / scale < 20.0),
            mark(peak_full < 1000.0 * 1000.0 * 1000.0 / 1024.0 / 1024.0),
            mark(t_tick / scale < 2.0),
            mark(ratio < 100.0 && raw_ratio < 100.0)
        );
    }
    if native_count != rhai_count || mismatches != 0 {
        eprintln!("native and rhai plans differ");
        std::process::exit(2);
    }
}
