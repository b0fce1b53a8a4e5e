//! Dispatch benchmark, on a SQLite file with `synchronous=FULL` (what
//! `Store::connect("sqlite://…")` sets) and a loopback webhook sink answering 200.
//!
//! 1. 10,000 and 100,000 planned reminders, one message each (`schedule.digest =
//!    false`), dispatched by `Dispatcher::round`: deliveries per second and peak memory
//!    (VmHWM), each size in its own child process so the peaks compare.
//! 2. A festival day with digests on: a 100,000-person roster (about 3,000 staff), the
//!    planning tick and then the dispatch round to the generic webhook.
//!
//! `cargo bench --bench dispatch`; `QINQING_BENCH_SIZES=10000` runs part 1 with that
//! many reminders and part 2 with that many persons; `QINQING_BENCH_FESTIVAL_ONLY=1`
//! skips part 1. Prints figures; asserts only that everything was delivered. The
//! time of each SQL statement comes from sqlx's statement log.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use common::*;
use qinqing::calendar::WorkCalendar;
use qinqing::planner::{Reminder, ReminderStatus, StageKind};
use qinqing::roster::NewDocument;
use qinqing::rules::RuleSet;
use qinqing::service::plan::Planning;
use qinqing::store::Store;

const CHILD: &str = "QINQING_BENCH_DISPATCH_CHILD";

/// Time spent in each SQL statement, from sqlx's own statement log (`sqlx::query`
/// events carry a 4-word summary and the execution time), to show where a round's
/// time goes without touching the store.
#[derive(Clone, Default)]
struct SqlTimes(Arc<std::sync::Mutex<std::collections::HashMap<String, (u64, f64)>>>);

impl SqlTimes {
    fn install(&self) {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::{Layer, filter::Targets};
        let filter = Targets::new().with_target("sqlx::query", tracing::Level::TRACE);
        let subscriber = tracing_subscriber::registry().with(self.clone().with_filter(filter));
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    }

    fn take(&self) -> Vec<(String, u64, f64)> {
        let mut map = self.0.lock().unwrap();
        let mut v: Vec<_> = map.drain().map(|(k, (n, t))| (k, n, t)).collect();
        v.sort_by(|a, b| b.2.total_cmp(&a.2));
        v
    }

    /// Prints the statements that took most of `wall` seconds.
    fn report(&self, wall: f64) {
        let v = self.take();
        let total: f64 = v.iter().map(|x| x.2).sum();
        let count: u64 = v.iter().map(|x| x.1).sum();
        println!(
            "  SQL time by statement ({} statements, {total:.1} s of {wall:.1} s wall; the rest is commits' fsync, HTTP and CPU):",
            with_commas(count)
        );
        for (summary, n, secs) in v.iter().take(10) {
            println!(
                "    {secs:>7.2} s {:>9} x {:>8.3} ms  {summary}",
                with_commas(*n),
                secs * 1e3 / *n as f64
            );
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SqlTimes {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        #[derive(Default)]
        struct Fields {
            summary: String,
            statement: String,
            secs: f64,
        }
        impl tracing::field::Visit for Fields {
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                match f.name() {
                    "summary" => self.summary = v.to_string(),
                    // The full SQL (when longer than the summary): keep enough words
                    // to tell statements apart.
                    "db.statement" => {
                        self.statement = v.split_whitespace().take(12).collect::<Vec<_>>().join(" ")
                    }
                    _ => {}
                }
            }
            fn record_f64(&mut self, f: &tracing::field::Field, v: f64) {
                if f.name() == "elapsed_secs" {
                    self.secs = v;
                }
            }
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "summary" && self.summary.is_empty() {
                    self.summary = format!("{v:?}").trim_matches('"').to_string();
                }
            }
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let key = if f.statement.is_empty() {
            f.summary
        } else {
            f.statement
        };
        let mut map = self.0.lock().unwrap();
        let e = map.entry(key).or_default();
        e.0 += 1;
        e.1 += f.secs;
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (part, n) = spec.split_once(':').expect("part:size");
        let n: usize = n.parse().expect("size");
        let sql = SqlTimes::default();
        sql.install();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        match part {
            "plain" => rt.block_on(plain(n, sql)),
            "festival" => rt.block_on(festival(n, sql)),
            other => panic!("unknown part {other}"),
        }
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs harness-less benches too: not this one.
        println!("dispatch: a benchmark; run it with `cargo bench --bench dispatch`");
        return;
    }
    let sizes = sizes(&[10_000, 100_000]);
    println!(
        "qinqing dispatch bench: SQLite synchronous=FULL, loopback webhook, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let exe = std::env::current_exe().expect("current exe");
    let mut ok = true;
    let mut runs: Vec<String> = sizes.iter().map(|n| format!("plain:{n}")).collect();
    runs.push(format!("festival:{}", sizes.iter().max().unwrap()));
    if std::env::var_os("QINQING_BENCH_FESTIVAL_ONLY").is_some() {
        runs.retain(|r| r.starts_with("festival"));
    }
    for spec in runs {
        let status = std::process::Command::new(&exe)
            .env(CHILD, &spec)
            .status()
            .expect("spawn bench child");
        if !status.success() {
            eprintln!("bench child {spec} failed: {status}");
            ok = false;
        }
    }
    if !ok {
        std::process::exit(1);
    }
}

/// 10:00 on the day the 中秋 visits are reminded (a Friday, a working day).
fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-09-18T10:00:00+08:00").unwrap()
}

async fn open_store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    Store::connect(&url).await.expect("open SQLite store")
}

/// Part 1: `n` planned reminders, one message each.
async fn plain(n: usize, sql: SqlTimes) {
    println!();
    println!(
        "== {} reminders, one message each (schedule.digest = false) ==",
        with_commas(n as u64)
    );
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let today = now().date_naive();
    let persons = n.div_ceil(4);
    let plan = import_plan(persons, today);
    let staff: Vec<String> = plan.upsert_staff.iter().map(|s| s.number.clone()).collect();
    let t0 = Instant::now();
    store.apply_import(&plan, now()).await.unwrap();
    let import_secs = t0.elapsed().as_secs_f64();
    drop(plan);
    // Four reminders per person: a visit, a call, a document and an escalation.
    let rows: Vec<Reminder> = (0..n)
        .map(|i| {
            let person = (i / 4) as i64 + 1;
            let (rule, stage, title, kind) = match i % 4 {
                0 => ("festival-visit", "remind", "中秋走访慰问", "visit"),
                1 => ("monthly-call", "remind", "9月电话联系", "call"),
                2 => (
                    "document-delivery",
                    "remind",
                    "送文到家:关于开展重阳节敬老活动的通知",
                    "deliver",
                ),
                _ => ("birthday-milestone", "escalate", "90岁寿辰", "visit"),
            };
            let occasion_key = format!("{rule}:{person}:2026-09-25:");
            Reminder {
                key: format!("{occasion_key}:{stage}:{i}"),
                reference: qinqing::planner::reference(&occasion_key).into(),
                occasion_key: occasion_key.into(),
                rule: rule.into(),
                person_id: person,
                person: "".into(),
                person_name: "".into(),
                occasion_on: ymd(2026, 9, 25),
                stage: StageKind::parse(stage).expect("stage"),
                lead_days: (stage == "remind").then_some(7),
                remind_on: today,
                recipient: staff[(i * 7) % staff.len()].clone(),
                title: format!("{title}{person}").into(),
                kind: kind.into(),
                urgent: false,
                satisfied_by: Vec::new().into(),
                window: None,
                channels: Vec::new().into(),
                after_death: false,
            }
        })
        .collect();
    let t0 = Instant::now();
    let inserted = store
        .insert_reminders(&rows, ReminderStatus::Planned, today, now())
        .await
        .unwrap();
    let insert_secs = t0.elapsed().as_secs_f64();
    assert_eq!(inserted, n as u64);
    drop(rows);
    println!(
        "  set-up: import {} persons / {} staff {import_secs:.1} s; insert_reminders {} rows {insert_secs:.1} s",
        with_commas(persons as u64),
        with_commas(staff.len() as u64),
        with_commas(n as u64)
    );

    let (url, received) = sink().await;
    let d = dispatcher(&store, url, false).await;
    let before_rss = rss_mib();
    reset_peak();
    sql.take();
    let t0 = Instant::now();
    let report = d.round(now()).await.unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let peak = peak_mib();
    let got = received.load(Ordering::Relaxed);
    println!(
        "  Dispatcher::round: {secs:.1} s, {} digests, {} sent, {} received by the sink, {} cancelled (deceased or inactive persons), {} failed/retried",
        with_commas(report.digests as u64),
        with_commas(report.sent as u64),
        with_commas(got),
        report.cancelled,
        report.failed + report.retried
    );
    println!(
        "  => {:.0} deliveries/s; memory: rss {before_rss:.0} MiB before the round, peak {peak:.0} MiB during it (+{:.0} MiB)",
        got as f64 / secs,
        peak - before_rss
    );
    sql.report(secs);
    assert_eq!(
        got + report.cancelled as u64,
        n as u64,
        "every reminder delivered once or cancelled"
    );
    store.close().await;
}

/// Where the tick's time and memory go: its steps replayed one by one on the same
/// store (nothing is written), and the same tick with `stages_between`, a moved
/// snapshot and a warm occasion cache (the daemon's steady state: yesterday's tick
/// filled the cache).
async fn tick_breakdown(store: &Store, rules: &Arc<RuleSet>, today: NaiveDate) {
    use qinqing::planner::{self, PlanningRosterBuilder};
    use qinqing::rules::OccasionCache;
    use rayon::prelude::*;
    println!("  the tick's planning steps replayed (nothing written):");
    let step = |name: &str, t0: Instant| {
        println!(
            "    {name:<58} {:>6.1} s  rss {:>6.0} MiB  peak {:>6.0} MiB",
            t0.elapsed().as_secs_f64(),
            rss_mib(),
            peak_mib()
        )
    };
    reset_peak();
    let t0 = Instant::now();
    let load = || async {
        let mut builder = PlanningRosterBuilder::new(store.documents().await.unwrap());
        store
            .plan_rows(1 << 16, |batch| builder.add(batch.into_par_iter()))
            .await
            .unwrap();
        builder.finish(&store.load_staff().await.unwrap())
    };
    let roster = load().await;
    step("plan_rows → PlanningRosterBuilder (streamed, lean)", t0);
    let rules = rules.clone();
    let (rules, cache, years) = tokio::task::spawn_blocking(move || {
        let years = planner::years_for(today, today);
        let cal = rules.calendar().clone();
        let mut cache = OccasionCache::default();
        let t0 = Instant::now();
        let (occ, _) = planner::occasions(&rules, &roster, years.clone(), &mut cache);
        step(&format!("occasions {years:?}, cold cache"), t0);
        let t0 = Instant::now();
        let due = planner::stages_between(&rules, &roster, &occ, &cal, today, today);
        step(
            &format!(
                "stages_between(today, today) ({} stages)",
                with_commas(due.len() as u64)
            ),
            t0,
        );
        (rules, cache, years)
    })
    .await
    .unwrap();
    println!("  the same tick as the daemon would run it the next day (warm cache):");
    reset_peak();
    let t0 = Instant::now();
    let roster = load().await;
    tokio::task::spawn_blocking(move || {
        let mut cache = cache;
        let cal = rules.calendar().clone();
        let (occ, _) = planner::occasions(&rules, &roster, years, &mut cache);
        let due = planner::stages_between(&rules, &roster, &occ, &cal, today, today);
        step(
            &format!(
                "load + occasions (warm) + stages_between ({})",
                with_commas(due.len() as u64)
            ),
            t0,
        );
    })
    .await
    .unwrap();
}

/// Part 2: a festival day, digests on, a roster of `n` persons.
async fn festival(n: usize, sql: SqlTimes) {
    println!();
    println!(
        "== festival day {} with digests: {} persons ==",
        now().date_naive(),
        with_commas(n as u64)
    );
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let today = now().date_naive();
    let plan = import_plan(n, today);
    let t0 = Instant::now();
    store.apply_import(&plan, now()).await.unwrap();
    for d in documents()
        .into_iter()
        .filter(|d| d.deadline.year() == YEAR)
    {
        store
            .add_document(
                &NewDocument {
                    title: d.title,
                    issued_on: d.issued_on,
                    deadline: d.deadline,
                    audience: d.audience,
                    min_rank: d.min_rank,
                },
                now(),
            )
            .await
            .unwrap();
    }
    println!(
        "  set-up: import {} persons / {} staff {:.1} s",
        with_commas(plan.upsert_persons.len() as u64),
        with_commas(plan.upsert_staff.len() as u64),
        t0.elapsed().as_secs_f64()
    );
    drop(plan);

    let rules = Arc::new(RuleSet::builtin(WorkCalendar::builtin()));
    let (url, received) = sink().await;
    let d = dispatcher(&store, url, true).await;
    reset_peak();
    sql.take();
    let t0 = Instant::now();
    let tick = Planning::default()
        .tick(&store, rules.clone(), now(), 7)
        .await
        .unwrap();
    let tick_secs = t0.elapsed().as_secs_f64();
    println!(
        "  planning tick: {tick_secs:.1} s, {} reminders planned for {} (rss {:.0} MiB, peak {:.0} MiB)",
        with_commas(tick.planned),
        today,
        rss_mib(),
        peak_mib()
    );
    sql.report(tick_secs);
    tick_breakdown(&store, &rules, today).await;
    sql.take();
    let t1 = Instant::now();
    let report = d.round(now()).await.unwrap();
    let dispatch_secs = t1.elapsed().as_secs_f64();
    let got = received.load(Ordering::Relaxed);
    println!(
        "  Dispatcher::round: {dispatch_secs:.1} s, {} digests ({} received by the sink), {} cancelled, {} failed/retried",
        with_commas(report.digests as u64),
        with_commas(got),
        report.cancelled,
        report.failed + report.retried
    );
    sql.report(dispatch_secs);
    let total = tick_secs + dispatch_secs;
    println!(
        "  => festival day, plan + dispatch: {total:.1} s (target < 30 s: {}); peak memory {:.0} MiB",
        if total < 30.0 { "met" } else { "MISSED" },
        peak_mib()
    );
    assert_eq!(got, report.sent as u64);
    store.close().await;
}
