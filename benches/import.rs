//! Roster import benchmark: a synthetic 100,000-row CSV roster parsed, reconciled and
//! applied to a fresh SQLite file (synchronous=FULL), then imported again unchanged,
//! then again with 1% of the rows changed. Prints rows per second for each step and
//! peak memory. `QINQING_BENCH_ROWS` sets the size; `QINQING_TEST_DATABASE_URL`
//! (a PostgreSQL URL) adds a PostgreSQL run into a fresh database.
//!
//! Run: `cargo bench --bench import`

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Instant;

use qinqing::roster::reconcile::reconcile;
use qinqing::roster::{ParseOptions, parse_path};
use qinqing::store::Store;

fn check_char(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

fn roster_csv(rows: usize, changed_every: Option<usize>) -> String {
    let mut s = String::with_capacity(rows * 160);
    s.push_str("编号,姓名,身份证号,出生日期,农历生日,类别,职级,联系电话,党支部,自理能力,独居,住院日期,联系人\n");
    let cats = ["离休", "退休", "退休", "退休", "遗属"];
    let ranks = ["厅级", "副厅级", "县处级", "副处级", "科级", "其他"];
    for i in 0..rows {
        let year = 1925 + (i % 40);
        let month = 1 + (i / 40) % 12;
        let day = 1 + (i / 480) % 28;
        let seq = i % 1000;
        let body = format!("370102{year:04}{month:02}{day:02}{seq:03}");
        let id = format!("{body}{}", check_char(&body));
        let hospital = match changed_every {
            Some(n) if i % n == 0 => "2026-03-01",
            _ => "",
        };
        let _ = writeln!(
            s,
            "B{i:06},测试{i},{id},{year}-{month:02}-{day:02},{},{},{},139{:08},{},{},{},{hospital},S{:04}",
            if i % 7 == 0 { "是" } else { "否" },
            cats[i % 5],
            ranks[i % 6],
            i,
            if i % 3 == 0 { "第一党支部" } else { "" },
            if i % 4 == 0 { "半自理" } else { "自理" },
            if i % 9 == 0 { "是" } else { "否" },
            i % 3000
        );
    }
    s
}

fn staff_csv() -> String {
    let mut s = String::from("工号,姓名,手机,上级\n");
    for i in 0..3000 {
        let _ = writeln!(s, "S{i:04},工作人员{i},1380000{i:04},");
    }
    s
}

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
    std::fs::write(&staff_path, staff_csv()).unwrap();
    for (step, changed) in [
        ("first import", None),
        ("unchanged re-import", None),
        ("1% changed", Some(100)),
    ] {
        let path = dir.join(format!("roster-{}.csv", step.len()));
        std::fs::write(&path, roster_csv(rows, changed)).unwrap();
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
