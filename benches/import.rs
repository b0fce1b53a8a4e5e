//! Roster import benchmark: a synthetic 100,000-row CSV roster parsed, reconciled and
//! applied to a fresh SQLite file (synchronous=FULL), then imported again unchanged,
//! then again with 1% of the rows changed. Prints rows per second for each step and
//! peak memory. `QINQING_BENCH_ROWS` sets the size; `QINQING_TEST_DATABASE_URL`
//! (a PostgreSQL URL) adds a PostgreSQL run into a fresh database.
//!
//! Run: `cargo bench --bench import`

mod common;

use std::collections::HashSet;
use std::time::Instant;

use common::{roster_csv, staff_csv};

use qinqing::roster::reconcile::reconcile;
use qinqing::roster::{ParseOptions, parse_path};
use qinqing::store::Store;

/// Staff members of the synthetic roster (about 33 persons each at 100,000).
const STAFF: usize = 3000;

fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn run(label: &str, url: &str, rows: usize, dir: &std::path::Path) {
    let store = Store::connect(url).await.expect("database");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let staff_path = dir.join("staff.csv");
    std::fs::write(&staff_path, staff_csv(STAFF)).unwrap();
    for (step, changed) in [
        ("first import", None),
        ("unchanged re-import", None),
        ("1% changed", Some(100)),
    ] {
        let path = dir.join(format!("roster-{}.csv", step.len()));
        std::fs::write(&path, roster_csv(rows, STAFF, changed)).unwrap();
        let t0 = Instant::now();
        let opts = ParseOptions {
            sheet: None,
            staff_file: Some(staff_path.clone()),
            known_staff: HashSet::new(),
            max_bytes: None,
        };
        let parsed = parse_path(&path, &opts).expect("parse");
        assert!(parsed.errors.is_empty(), "{}", parsed.errors[0]);
        let t_parse = t0.elapsed();
        let persons: Vec<_> = parsed.persons.into_iter().map(|r| r.person).collect();
        let staff: Vec<_> = parsed.staff.into_iter().map(|r| r.staff).collect();
        let t1 = Instant::now();
        let snapshot = store.load_roster().await.expect("load");
        let (plan, summary) = reconcile(&snapshot, &persons, &staff, today, Default::default());
        let at = qinqing::clock::FixedClock::parse("2026-03-01T08:30:00+08:00")
            .expect("time")
            .0;
        store.apply_import(&plan, at).await.expect("apply");
        let t_store = t1.elapsed();
        let total = t0.elapsed().as_secs_f64();
        println!(
            "{label:<10} {step:<20} rows {rows:>7}  parse {:>6.2}s  store {:>6.2}s  total {:>6.2}s  {:>8.0} rows/s  (added {}, changed {}, unchanged {}, events {})  peak {:.0} MB",
            t_parse.as_secs_f64(),
            t_store.as_secs_f64(),
            total,
            rows as f64 / total,
            summary.added,
            summary.changed,
            summary.unchanged,
            summary.events,
            peak_mb()
        );
    }
    store.close().await;
}

fn main() {
    // `cargo test --all-targets` runs harness-less benches too: only run under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    qinqing::logging::init(qinqing::config::LogFormat::Text);
    let rows: usize = std::env::var("QINQING_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        run("sqlite", &url, rows, dir.path()).await;
        if let Ok(admin) = std::env::var("QINQING_TEST_DATABASE_URL") {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!("qq_bench_{}", std::process::id());
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .expect("postgres");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            run("postgres", &format!("{base}/{name}"), rows, dir.path()).await;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    });
}
