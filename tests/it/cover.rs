//! Cover for absence and reassignment: `delegate` routes a staff member's reminders
//! to a colleague and back, `pause` holds a person's non-urgent reminders (and the
//! coverage report shows them as paused, not missed), `assign` moves a person and
//! stands against a re-import of the unchanged file. June 2026: the monthly calls
//! go out on Monday 06-01 (S002: T0001, T0003, T0005; S003: T0002, T0004, T0006).

use serde_json::Value;

use crate::daemon_support::*;
use crate::support::*;

const AT: &str = "2026-06-01T08:40:00+08:00";
const BEFORE: &str = "2026-06-01T07:00:00+08:00";

/// The numbered reminder lines each staff member got in these messages, by 工号.
fn lines_by_staff(msgs: &[Value]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for m in msgs {
        for s in m["sections"].as_array().cloned().unwrap_or_default() {
            let no = s["staff_no"].as_str().unwrap_or_default().to_string();
            let lines = s["lines"].as_array().cloned().unwrap_or_default();
            out.entry(no).or_default().extend(
                lines
                    .iter()
                    .filter_map(|l| l.as_str().map(String::from))
                    .filter(|l| l.starts_with(|c: char| c.is_ascii_digit())),
            );
        }
    }
    out
}

#[test]
fn a_delegation_routes_the_reminders_to_the_colleague_and_back() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        s.import(BEFORE);
        let label = s.label();
        s.cmd(BEFORE)
            .args(["delegate", "--staff", "S002", "--to", "S003"])
            .args(["--from", "2026-06-01", "--until", "2026-06-07"])
            .run()
            .ok();
        s.once(AT);
        let got = lines_by_staff(&console_lines(&out));
        assert!(
            !got.contains_key("S002"),
            "[{label}] S002 is away: {got:#?}"
        );
        let s003 = &got["S003"];
        let covered = s003.iter().filter(|l| l.contains("(代干事乙)")).count();
        assert_eq!(
            covered, 3,
            "[{label}] S002's three calls, marked 代: {s003:#?}"
        );
        assert!(
            s003.iter()
                .any(|l| l.contains("李秀英") && !l.contains("代"))
        );
        // After the week, S002's own reminders come back to S002.
        let before = console_lines(&out).len();
        s.once("2026-07-01T08:40:00+08:00");
        let got = lines_by_staff(&console_lines(&out)[before..]);
        assert_eq!(got["S002"].len(), 3, "[{label}] back to S002: {got:#?}");
        assert!(
            got["S003"].iter().all(|l| !l.contains("代")),
            "[{label}] {got:#?}"
        );
        // Refused: an unknown colleague, or an end before the start.
        let e = s
            .cmd(BEFORE)
            .args(["delegate", "--staff", "S002", "--to", "S999"])
            .args(["--from", "2026-06-01", "--until", "2026-06-07"])
            .run()
            .fails();
        assert!(e.stderr.contains("S999"), "[{label}] {e:?}");
    }
}

#[test]
fn a_paused_persons_reminders_wait_and_coverage_shows_them_as_paused() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        s.import(BEFORE);
        let label = s.label();
        // T0001 away with no end; T0003 away until 06-10.
        s.cmd(BEFORE)
            .args(["pause", "--person", "T0001", "--from", "2026-06-01"])
            .args(["--reason", "异地居住"])
            .run()
            .ok();
        s.cmd(BEFORE)
            .args(["pause", "--person", "T0003", "--from", "2026-06-01"])
            .args(["--until", "2026-06-10", "--reason", "随子女外出"])
            .run()
            .ok();
        s.once(AT);
        let got = lines_by_staff(&console_lines(&out));
        let s002 = &got["S002"];
        assert_eq!(s002.len(), 1, "[{label}] only T0005's call: {s002:#?}");
        assert!(s002[0].contains("陈志强"), "[{label}] {s002:?}");
        // Held, not lost: T0003's call goes out when the pause ends.
        let before = console_lines(&out).len();
        s.once("2026-06-11T08:40:00+08:00");
        let got = lines_by_staff(&console_lines(&out)[before..]);
        let s002 = got.get("S002").cloned().unwrap_or_default();
        assert!(
            s002.iter().any(|l| l.contains("张德明")),
            "[{label}] T0003 after the pause: {got:#?}"
        );
        assert!(
            !s002.iter().any(|l| l.contains("王建国")),
            "[{label}] T0001 still paused"
        );
        let v = s
            .cmd("2026-07-06T10:00:00+08:00")
            .args([
                "report", "coverage", "--month", "2026-06", "--format", "json",
            ])
            .run()
            .ok()
            .json();
        let row = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["staff"] == "S002" && r["rule"] == "monthly-call")
            .unwrap()
            .clone();
        assert_eq!(row["paused"], 1, "[{label}] T0001: {row}");
        assert_eq!(row["missed"], 2, "[{label}] T0003 and T0005: {row}");
        assert_eq!(row["due"], 3);
    }
}

#[test]
fn assign_moves_the_person_and_stands_against_an_unchanged_reimport() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        s.import(BEFORE);
        let label = s.label();
        let moved = s
            .cmd(BEFORE)
            .args(["assign", "--person", "T0001", "--staff", "S003"])
            .run()
            .ok();
        assert!(
            moved.stdout.contains("assigned to S003"),
            "[{label}] {moved:?}"
        );
        // The daemon re-imports the unchanged roster file at its start.
        s.once(AT);
        let got = lines_by_staff(&console_lines(&out));
        assert!(
            got["S003"].iter().any(|l| l.contains("王建国")),
            "[{label}] T0001's call goes to S003: {got:#?}"
        );
        assert!(
            !got["S002"].iter().any(|l| l.contains("王建国")),
            "[{label}] {got:#?}"
        );
        // Work done by each stays under who did it; the history spans both.
        s.cmd("2026-06-02T10:00:00+08:00")
            .args(["contact", "add", "--person", "T0001", "--staff", "S002"])
            .args(["--kind", "visit", "--on", "2026-05-20"])
            .run()
            .ok();
        s.cmd("2026-06-02T10:00:00+08:00")
            .args(["contact", "add", "--person", "T0001", "--staff", "S003"])
            .args(["--kind", "call", "--on", "2026-06-02"])
            .run()
            .ok();
        let history = s
            .cmd("2026-06-02T10:00:00+08:00")
            .args(["contact", "list", "--person", "T0001", "--format", "json"])
            .run()
            .ok()
            .json_lines();
        let staff: Vec<&str> = history
            .iter()
            .map(|h| h["staff"].as_str().unwrap())
            .collect();
        assert_eq!(staff, ["S002", "S003"], "[{label}] {history:#?}");
        // T0003 moves on 06-02, after S002 was reminded: its open call follows to
        // S003 (planned late), and coverage counts it for S003 only.
        let before = console_lines(&out).len();
        s.cmd("2026-06-02T09:00:00+08:00")
            .args(["assign", "--person", "T0003", "--staff", "S003"])
            .run()
            .ok();
        s.once("2026-06-02T09:05:00+08:00");
        let got = lines_by_staff(&console_lines(&out)[before..]);
        assert!(
            got.get("S003")
                .is_some_and(|ls| ls.iter().any(|l| l.contains("张德明"))),
            "[{label}] T0003's open call goes to S003: {got:#?}"
        );
        let v = s
            .cmd("2026-06-02T10:00:00+08:00")
            .args([
                "report", "coverage", "--month", "2026-06", "--format", "json",
            ])
            .run()
            .ok()
            .json();
        let due = |staff: &str| {
            v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["staff"] == staff && r["rule"] == "monthly-call")
                .map_or(0, |r| r["due"].as_u64().unwrap())
        };
        assert_eq!((due("S002"), due("S003")), (1, 5), "[{label}] {v:#}");
        let e = s
            .cmd(BEFORE)
            .args(["assign", "--person", "T0001", "--staff", "S404"])
            .run()
            .fails();
        assert!(e.stderr.contains("S404"), "[{label}] {e:?}");
    }
}
