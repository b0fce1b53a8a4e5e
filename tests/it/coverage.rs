//! `report coverage` on the public acceptance sample: the roster run as a daemon
//! would have run it from 15 August to 30 September 2026, two thirds of
//! September's occasions acknowledged, and the coverage the ledger issue defines,
//! computed by an independent implementation (tests/fixtures/coverage).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::daemon_support::console;
use crate::preview::acceptance_setup;
use crate::support::*;

/// The sample run and acknowledged as the fixture's README says.
fn september(db: &TestDb) {
    acceptance_setup(db);
    let config = db.path("qinqing.toml");
    std::fs::write(&config, console(&db.path("console.jsonl"))).unwrap();
    let mut day = ymd(2026, 8, 15);
    while day <= ymd(2026, 9, 30) {
        qinqing(db)
            .arg("--config")
            .arg(&config)
            .args(["run", "--once"])
            .now(&format!("{day}T08:30:00+08:00"))
            .run()
            .ok();
        day += chrono::Duration::days(1);
    }
    // The references of September's occasions, by (person, rule, occasion_on).
    let mut refs: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for l in preview(db, "2026-08-01", "2026-10-31", &[]) {
        let key = (
            l["person"].as_str().unwrap().to_string(),
            l["rule"].as_str().unwrap().to_string(),
            l["occasion_on"].as_str().unwrap().to_string(),
        );
        refs.insert(key, l["reference"].as_str().unwrap().to_string());
    }
    let acks = std::fs::read_to_string(fixture("coverage/acks.tsv")).unwrap();
    for line in acks.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let [person, rule, occasion_on, by, done_on, kind] = f[..] else {
            panic!("bad line {line:?}");
        };
        let key = (
            person.to_string(),
            rule.to_string(),
            occasion_on.to_string(),
        );
        let reference = refs
            .get(&key)
            .unwrap_or_else(|| panic!("[{}] no stage for {key:?}", db.name()));
        qinqing(db)
            .args([
                "ack", reference, "--by", by, "--on", done_on, "--kind", kind,
            ])
            .now("2026-10-05T10:00:00+08:00")
            .run()
            .ok();
    }
}

fn rows(v: &Value) -> BTreeSet<String> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["due"].as_u64() != Some(0))
        .map(|r| {
            let f = |k: &str| r[k].to_string();
            [
                "staff", "rule", "due", "on_time", "late", "missed", "open", "paused",
            ]
            .map(f)
            .join(" ")
        })
        .collect()
}

#[test]
fn acceptance_september_coverage() {
    for db in backends() {
        september(&db);
        for as_of in ["2026-09-20", "2026-10-05"] {
            let want: Value = serde_json::from_str(
                &std::fs::read_to_string(fixture(&format!(
                    "coverage/expected-2026-09-as-of-{as_of}.json"
                )))
                .unwrap(),
            )
            .unwrap();
            let got = qinqing(&db)
                .args(["report", "coverage", "--month", "2026-09", "--as-of", as_of])
                .args(["--format", "json"])
                .now("2026-10-05T10:00:00+08:00")
                .run()
                .ok()
                .json();
            let (w, g) = (rows(&want), rows(&got));
            assert_eq!(
                g.difference(&w).collect::<Vec<_>>(),
                w.difference(&g).collect::<Vec<_>>(),
                "[{}] as of {as_of}: rows (got-only on the left, expected-only on the right)",
                db.name()
            );
            assert_eq!(got["contacts"], want["contacts"], "[{}] {as_of}", db.name());
            assert_eq!(got["from"], "2026-09-01");
            assert_eq!(got["as_of"], as_of);
        }
        // The table leads with the year-end wording.
        let table = qinqing(&db)
            .args(["report", "coverage", "--month", "2026-09"])
            .now("2026-10-05T10:00:00+08:00")
            .run()
            .ok()
            .stdout;
        assert!(
            table.contains("节日走访慰问 10 人次"),
            "[{}] {table}",
            db.name()
        );
        assert!(table.contains("电话联系 30 次"), "[{}] {table}", db.name());
    }
}
