//! The province case on PostgreSQL: a roster of 1,000,000 persons imported (COPY),
//! then a festival morning (2026-09-18, the 中秋 visits' reminder day) planned and
//! dispatched by two instances at once, each a process of its own (this binary run
//! as a child) with its own pool, to one loopback webhook that counts each
//! `Idempotency-Key` it receives.
//!
//! Prints each step's wall time and each child's peak memory; fails if a message was
//! received twice, if the sink received other than what the instances recorded as
//! sent, or if anything is left pending.
//!
//! `cargo bench --bench province` with `QINQING_TEST_DATABASE_URL` (a PostgreSQL URL
//! whose user may create databases; the bench makes and drops
//! `qinqing_province_bench`). `QINQING_BENCH_SIZES=100000` for a smaller roster.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{DateTime, FixedOffset};

use common::*;
use qinqing::calendar::WorkCalendar;
use qinqing::rules::RuleSet;
use qinqing::service::plan::Planning;
use qinqing::store::Store;

const CHILD: &str = "QINQING_BENCH_PROVINCE_CHILD";
const DATABASE: &str = "qinqing_province_bench";

/// 10:00 on the day the 中秋 visits are reminded (a Friday, a working day).
fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-09-18T10:00:00+08:00").unwrap()
}

fn main() {
    if let Ok(step) = std::env::var(CHILD) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(child(&step));
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("province: a benchmark; run it with `cargo bench --bench province`");
        return;
    }
    let Ok(admin) = std::env::var("QINQING_TEST_DATABASE_URL") else {
        println!("province: set QINQING_TEST_DATABASE_URL to a PostgreSQL URL; skipped");
        return;
    };
    let n = *sizes(&[1_000_000]).iter().max().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(parent(&admin, n));
}

/// The bench's database URL on the server of `admin`.
fn bench_url(admin: &str) -> String {
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    format!("{base}/{DATABASE}")
}

async fn parent(admin: &str, n: usize) {
    println!(
        "== province: {} persons on PostgreSQL, festival morning {} by two instances ==",
        with_commas(n as u64),
        now().date_naive()
    );
    let server = sqlx::PgPool::connect(admin)
        .await
        .expect("admin connection");
    admin_sql(
        &server,
        &format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
    )
    .await;
    admin_sql(&server, &format!("CREATE DATABASE {DATABASE}")).await;
    let url = bench_url(admin);

    // 1. Import (COPY into the staging table, then one upsert).
    let plan = import_plan(n, now().date_naive());
    let store = Store::connect(&url).await.expect("bench database");
    reset_peak();
    let t0 = Instant::now();
    store.apply_import(&plan, now()).await.unwrap();
    let t_import = t0.elapsed().as_secs_f64();
    println!(
        "  import {} persons / {} staff (COPY)        {t_import:>7.1} s  (target ≤ 60 s: {})",
        with_commas(plan.upsert_persons.len() as u64),
        with_commas(plan.upsert_staff.len() as u64),
        if t_import <= 60.0 { "met" } else { "NOT met" }
    );
    drop(plan);

    // 2. Both instances tick at once: one plans, the other finds the lock taken.
    let t0 = Instant::now();
    let ticks = both(&url, "tick", None);
    let t_tick = t0.elapsed().as_secs_f64();
    for t in &ticks {
        println!("    {t}");
    }
    println!("  planning, two instances at once             {t_tick:>7.1} s");

    // 3. Both dispatch at once to one sink.
    let (hook, received, keys) = sink_with_keys().await;
    let t0 = Instant::now();
    let rounds = tokio::task::spawn_blocking({
        let url = url.clone();
        move || both(&url, "dispatch", Some(&hook))
    })
    .await
    .unwrap();
    let t_dispatch = t0.elapsed().as_secs_f64();
    for r in &rounds {
        println!("    {r}");
    }
    let got = received.load(Ordering::Relaxed);
    let (distinct, twice) = {
        let keys = keys.lock().unwrap();
        (keys.len(), keys.values().filter(|&&c| c > 1).count())
    };
    let sent: u64 = rounds.iter().filter_map(|r| field(r, "sent")).sum::<u64>();
    let counts = store.outbox_counts().await.unwrap();
    println!(
        "  dispatch, two instances at once             {t_dispatch:>7.1} s  {} messages, {} keys, {twice} received twice",
        with_commas(got),
        with_commas(distinct as u64)
    );
    println!(
        "  => import + plan + dispatch {:.1} s; outbox: {} sent, {} pending, {} failed",
        t_import + t_tick + t_dispatch,
        counts.sent,
        counts.pending,
        counts.failed
    );
    store.close().await;
    admin_sql(
        &server,
        &format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
    )
    .await;
    assert_eq!(twice, 0, "a message was delivered twice");
    assert_eq!(got, sent, "the sink received what the instances sent");
    assert_eq!(counts.pending, 0, "nothing left pending");
}

async fn admin_sql(server: &sqlx::PgPool, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(server)
        .await
        .unwrap();
}

/// `key=N` from a child's report line.
fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}

/// Runs `step` in two child processes at once; returns their report lines.
fn both(url: &str, step: &str, hook: Option<&str>) -> Vec<String> {
    let exe = std::env::current_exe().expect("current exe");
    let children: Vec<_> = (0..2)
        .map(|i| {
            let mut c = Command::new(&exe);
            c.env(CHILD, step)
                .env("QINQING_BENCH_PROVINCE_URL", url)
                .env("QINQING_BENCH_PROVINCE_NAME", format!("instance {}", i + 1))
                .stdout(Stdio::piped());
            if let Some(h) = hook {
                c.env("QINQING_BENCH_PROVINCE_HOOK", h);
            }
            c.spawn().expect("spawn bench child")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("bench child");
            assert!(out.status.success(), "bench child {step} failed");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        })
        .collect()
}

async fn child(step: &str) {
    let url = std::env::var("QINQING_BENCH_PROVINCE_URL").unwrap();
    let name = std::env::var("QINQING_BENCH_PROVINCE_NAME").unwrap();
    let store = Store::connect(&url).await.expect("bench database");
    let t0 = Instant::now();
    match step {
        "tick" => {
            let rules = Arc::new(RuleSet::builtin(WorkCalendar::builtin()));
            let t = Planning::default()
                .tick(&store, rules, now(), 7)
                .await
                .unwrap();
            println!(
                "{name}: tick {:.1} s, skipped={} planned={} peak {:.0} MiB",
                t0.elapsed().as_secs_f64(),
                t.skipped,
                t.planned,
                peak_mib()
            );
        }
        "dispatch" => {
            let hook = std::env::var("QINQING_BENCH_PROVINCE_HOOK").unwrap();
            let d = dispatcher(&store, hook, true).await;
            let r = d.round(now()).await.unwrap();
            println!(
                "{name}: round {:.1} s, digests={} sent={} failed={} peak {:.0} MiB",
                t0.elapsed().as_secs_f64(),
                r.digests,
                r.sent,
                r.failed + r.retried,
                peak_mib()
            );
        }
        other => panic!("unknown step {other}"),
    }
    store.close().await;
}
