//! `report coverage` and `report ledger` on a month seeded by hand, in every form,
//! with the Excel workbooks read back (calamine, and the sheet XML for the frozen
//! header), and the audit log of who exported what. June 2026: the month's calls go
//! out on Monday 06-01; 端午 is Friday 06-19.

use std::io::Read as _;

use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;

use crate::daemon_support::*;
use crate::support::*;

const START: &str = "2026-06-01T08:40:00+08:00";
const LATER: &str = "2026-07-06T10:00:00+08:00";

fn sheet_xml(path: &std::path::Path, n: usize) -> String {
    let f = std::fs::File::open(path).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut s = String::new();
    z.by_name(&format!("xl/worksheets/sheet{n}.xml"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn has_entry(path: &std::path::Path, name: &str) -> bool {
    let f = std::fs::File::open(path).unwrap();
    zip::ZipArchive::new(f).unwrap().by_name(name).is_ok()
}

/// The six persons' June calls (S002: T0001, T0003, T0005; S003: T0002, T0004,
/// T0006), worked by hand: T0001 acknowledged on time, T0002 late (after 06-30),
/// T0003 satisfied by an unscheduled visit, T0004 only an attempt (not_done),
/// T0005 and T0006 nothing.
fn seeded_june(s: &Setup) -> std::collections::HashMap<String, String> {
    s.once(START);
    let calls = s.preview("2026-06-01", "2026-06-01");
    let refs: std::collections::HashMap<String, String> = calls
        .iter()
        .filter(|l| l["rule"] == "monthly-call")
        .map(|l| {
            (
                l["title"].as_str().unwrap().chars().take(3).collect(),
                l["reference"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let by_name = |n: &str| refs[n].clone();
    s.cmd(LATER)
        .args([
            "ack",
            &by_name("王建国"),
            "--by",
            "S002",
            "--on",
            "2026-06-10",
            "--kind",
            "call",
        ])
        .run()
        .ok();
    s.cmd(LATER)
        .args([
            "ack",
            &by_name("李秀英"),
            "--by",
            "S003",
            "--on",
            "2026-07-02",
            "--kind",
            "call",
        ])
        .run()
        .ok();
    s.cmd(LATER)
        .args([
            "contact", "add", "--person", "T0003", "--staff", "S002", "--kind", "visit",
        ])
        .args(["--on", "2026-06-15", "--note", "=HYPERLINK(\"http://x\")"])
        .run()
        .ok();
    // An attempt that failed: in the ledger, closes nothing.
    s.cmd(LATER)
        .args([
            "contact", "add", "--person", "T0004", "--staff", "S003", "--kind", "call",
        ])
        .args([
            "--on",
            "2026-06-12",
            "--outcome",
            "not_done",
            "--note",
            "家中无人",
        ])
        .args(["--ref", &by_name("刘桂兰")])
        .run()
        .ok();
    refs
}

#[test]
fn coverage_of_a_month_seeded_by_hand() {
    for db in backends() {
        let s = Setup::new(
            db,
            &roster(6, ""),
            "",
            &console(&std::env::temp_dir().join("qq-r.jsonl")),
        );
        seeded_june(&s);
        let label = s.label();
        let report = |as_of: &str| -> Value {
            s.cmd(LATER)
                .args(["report", "coverage", "--month", "2026-06", "--as-of", as_of])
                .args(["--format", "json"])
                .run()
                .ok()
                .json()
        };
        let row = |v: &Value, staff: &str, rule: &str| -> Vec<u64> {
            let r = v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["staff"] == staff && r["rule"] == rule)
                .unwrap_or_else(|| panic!("[{label}] no row {staff} {rule}: {v:#}"));
            ["due", "on_time", "late", "missed", "open", "paused"]
                .iter()
                .map(|k| r[*k].as_u64().unwrap())
                .collect()
        };
        // As of 07-06: S002 has T0001 on time, T0003 on time (the visit), T0005 missed;
        // S003 has T0002 late, T0004 and T0006 missed.
        let v = report("2026-07-06");
        assert_eq!(
            row(&v, "S002", "monthly-call"),
            [3, 2, 0, 1, 0, 0],
            "[{label}] {v:#}"
        );
        assert_eq!(
            row(&v, "S003", "monthly-call"),
            [3, 0, 1, 2, 0, 0],
            "[{label}] {v:#}"
        );
        assert_eq!(v["contacts"]["visit"], 1, "[{label}] the unscheduled visit");
        assert_eq!(v["contacts"]["call"], 1, "[{label}] the call dated in June");
        let total = v["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["rule"] == "monthly-call")
            .unwrap();
        assert_eq!(total["title"], "每月电话联系");
        assert_eq!(total["due"], 6);
        // As of 06-20 the month is still open for what is not done; the late call
        // (07-02) does not count yet.
        let v = report("2026-06-20");
        assert_eq!(
            row(&v, "S002", "monthly-call"),
            [3, 2, 0, 0, 1, 0],
            "[{label}] {v:#}"
        );
        assert_eq!(
            row(&v, "S003", "monthly-call"),
            [3, 0, 0, 0, 3, 0],
            "[{label}] {v:#}"
        );
        // --staff keeps one staff member's rows.
        let v = s
            .cmd(LATER)
            .args([
                "report",
                "coverage",
                "--from",
                "2026-06-01",
                "--to",
                "2026-06-30",
            ])
            .args(["--staff", "S003", "--format", "json"])
            .run()
            .ok()
            .json();
        assert!(
            v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["staff"] == "S003"),
            "[{label}] {v:#}"
        );
        let mc = &v["monthly_call"][0];
        assert_eq!(
            (mc["staff"].as_str(), mc["persons"].as_u64()),
            (Some("S003"), Some(3))
        );
        assert_eq!(
            mc["called"], 0,
            "[{label}] the late call was in July: {v:#}"
        );

        // The workbook: summary with the year-end figures and a chart, headers,
        // frozen header, dates as dates.
        let book = s.path("coverage.xlsx");
        s.cmd(LATER)
            .args([
                "report", "coverage", "--month", "2026-06", "--format", "xlsx", "--output",
            ])
            .arg(&book)
            .run()
            .ok();
        let mut wb: Xlsx<_> = open_workbook(&book).unwrap();
        assert_eq!(wb.sheet_names(), ["汇总", "明细", "总计", "电话联系"]);
        let summary = wb.worksheet_range("汇总").unwrap();
        let cells: Vec<String> = summary.cells().map(|(_, _, c)| c.to_string()).collect();
        assert!(
            cells.iter().any(|c| c == "节日走访慰问"),
            "[{label}] {cells:?}"
        );
        assert!(cells.iter().any(|c| c == "电话联系"), "[{label}] {cells:?}");
        assert!(
            has_entry(&book, "xl/charts/chart1.xml"),
            "[{label}] the bar chart"
        );
        let detail = wb.worksheet_range("明细").unwrap();
        assert_eq!(detail.get((0, 0)), Some(&Data::String("工号".into())));
        assert_eq!(detail.get((0, 4)), Some(&Data::String("应办".into())));
        assert!(
            sheet_xml(&book, 2).contains("state=\"frozen\""),
            "[{label}] frozen header"
        );
        assert!(
            sheet_xml(&book, 2).contains("<autoFilter"),
            "[{label}] autofilter"
        );
    }
}

#[test]
fn ledger_export_keeps_notes_as_text_and_is_audited() {
    for db in backends() {
        let s = Setup::new(
            db,
            &roster(6, ""),
            "",
            &console(&std::env::temp_dir().join("qq-l.jsonl")),
        );
        seeded_june(&s);
        let label = s.label();
        let lines = s
            .cmd(LATER)
            .args([
                "report",
                "ledger",
                "--from",
                "2026-06-01",
                "--to",
                "2026-07-31",
            ])
            .args(["--format", "json"])
            .run()
            .ok()
            .json_lines();
        assert_eq!(
            lines.len(),
            4,
            "[{label}] two acknowledgements, the attempt, the visit: {lines:#?}"
        );
        assert_eq!(lines[0]["done_on"], "2026-06-10");
        assert_eq!(lines[1]["outcome"], "not_done", "[{label}] the attempt");
        assert_eq!(lines[1]["note"], "家中无人");
        assert_eq!(lines[1]["rule"], "monthly-call");
        assert_eq!(
            lines[2]["rule"],
            Value::Null,
            "[{label}] the unscheduled visit"
        );
        assert_eq!(lines[3]["on_time"], false, "[{label}] the late call");

        let book = s.path("ledger.xlsx");
        s.cmd(LATER)
            .args([
                "report",
                "ledger",
                "--from",
                "2026-06-01",
                "--to",
                "2026-07-31",
            ])
            .args(["--format", "xlsx", "--output"])
            .arg(&book)
            .run()
            .ok();
        let mut wb: Xlsx<_> = open_workbook(&book).unwrap();
        assert_eq!(wb.sheet_names(), ["台账"]);
        let r = wb.worksheet_range("台账").unwrap();
        assert_eq!(r.get((0, 0)), Some(&Data::String("编号".into())));
        assert_eq!(r.get((0, 11)), Some(&Data::String("备注".into())));
        assert_eq!(
            r.get((3, 11)),
            Some(&Data::String("=HYPERLINK(\"http://x\")".into())),
            "[{label}] the note is text"
        );
        assert!(
            matches!(r.get((1, 5)), Some(Data::DateTime(_))),
            "[{label}] {:?}",
            r.get((1, 5))
        );
        let formulas = wb.worksheet_formula("台账").unwrap();
        assert!(
            formulas.cells().all(|(_, _, f)| f.is_empty()),
            "[{label}] no formula in the sheet"
        );
        let xml = sheet_xml(&book, 1);
        assert!(xml.contains("state=\"frozen\""), "[{label}] frozen header");
        assert!(!xml.contains("<f>"), "[{label}] no formula");

        let audit = s
            .cmd(LATER)
            .args(["report", "audit", "--format", "json"])
            .run()
            .ok()
            .json_lines();
        let what: Vec<&str> = audit.iter().map(|a| a["what"].as_str().unwrap()).collect();
        assert!(
            what.iter()
                .filter(|w| w.starts_with("report ledger"))
                .count()
                == 2,
            "[{label}] {audit:#?}"
        );
        assert!(
            audit
                .iter()
                .all(|a| a["who"].as_str().unwrap().starts_with("os:"))
        );
        assert_eq!(audit[0]["rows"], 4);
    }
}
