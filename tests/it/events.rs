//! `event add`: a complaint reminded the same day, an event that updates the person
//! as a re-import would and stands against a re-import of the unchanged column.
//! Wednesday 2026-06-03, a working day.

use crate::daemon_support::*;
use crate::support::*;

const START: &str = "2026-06-01T08:40:00+08:00";
const AT: &str = "2026-06-03T10:00:00+08:00";
const SOON: &str = "2026-06-03T10:05:00+08:00";

#[test]
fn a_complaint_recorded_by_event_add_is_reminded_the_same_day() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        s.once(START);
        let label = s.label();
        let added = s
            .cmd(AT)
            .args(["event", "add", "--person", "T0002", "--kind", "complaint"])
            .args(["--on", "2026-06-03", "--note", "反映供暖问题"])
            .run()
            .ok();
        assert!(
            added.stdout.contains("complaint on 2026-06-03 recorded"),
            "[{label}] {added:?}"
        );
        assert!(
            added.stdout.contains("planned: 1 new"),
            "[{label}] {added:?}"
        );
        // The same event again changes nothing.
        let again = s
            .cmd(AT)
            .args(["event", "add", "--person", "T0002", "--kind", "complaint"])
            .args(["--on", "2026-06-03"])
            .run()
            .ok();
        assert!(
            again.stdout.contains("already recorded"),
            "[{label}] {again:?}"
        );
        s.once(SOON);
        let lines: Vec<String> = console_lines(&out)
            .iter()
            .flat_map(message_lines)
            .filter(|l| l.contains("反映问题走访"))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "[{label}] one complaint visit reminded: {lines:#?}"
        );
        assert!(lines[0].contains("李秀英"), "[{label}] {lines:?}");
        let stages = s.preview("2026-06-03", "2026-06-10");
        let visit: Vec<_> = stages
            .iter()
            .filter(|l| l["rule"] == "complaint-visit")
            .collect();
        assert_eq!(
            visit.len(),
            2,
            "[{label}] the reminder and its escalation: {visit:#?}"
        );
        assert_eq!(
            visit[0]["occasion_on"], "2026-06-06",
            "[{label}] within 3 days"
        );
        assert_eq!(visit[0]["recipient"], "S003");
        assert_eq!(
            visit[1]["recipient"], "S001",
            "[{label}] escalated to the 上级"
        );
        assert_eq!(visit[1]["remind_on"], "2026-06-07");
    }
}

#[test]
fn event_add_checks_what_it_is_given() {
    for db in backends() {
        let s = Setup::new(db, &roster(6, ""), "", &console(&db_path_dummy()));
        s.import(START);
        let label = s.label();
        let fail = |args: &[&str]| {
            s.cmd(AT)
                .args(["event", "add"])
                .args(args)
                .run()
                .fails()
                .stderr
        };
        let e = fail(&[
            "--person",
            "T0001",
            "--kind",
            "complaint",
            "--on",
            "2026-06-04",
        ]);
        assert!(e.contains("在今天(2026-06-03)之后"), "[{label}] {e}");
        let e = fail(&[
            "--person",
            "T9999",
            "--kind",
            "complaint",
            "--on",
            "2026-06-02",
        ]);
        assert!(e.contains("没有身份证号或编号为"), "[{label}] {e}");
        let e = fail(&[
            "--person",
            "T0001",
            "--kind",
            "discharged",
            "--on",
            "2026-06-02",
        ]);
        assert!(e.contains("没有住院记录"), "[{label}] {e}");
    }
}

fn db_path_dummy() -> std::path::PathBuf {
    std::env::temp_dir().join("qinqing-unused-console.jsonl")
}

/// A hospitalisation recorded by `event add` is planned, and a re-import of the
/// file (unchanged, or changed in another column) does not undo it; the file's
/// own change of that column does.
#[test]
fn an_event_stands_until_the_file_changes_that_column() {
    for db in backends() {
        let r = roster(6, "");
        let s = Setup::new(db, &r, "", &console(&db_path_dummy()));
        s.import(START);
        let label = s.label();
        let hospital = |s: &Setup| -> Vec<String> {
            s.preview("2026-06-01", "2026-06-30")
                .iter()
                .filter(|l| l["rule"] == "hospital-visit" && l["stage"] == "remind")
                .map(|l| format!("{} {}", l["person"], l["occasion_on"]))
                .collect()
        };
        s.cmd(AT)
            .args([
                "event",
                "add",
                "--person",
                "T0003",
                "--kind",
                "hospitalised",
            ])
            .args(["--on", "2026-06-02"])
            .run()
            .ok();
        let want = vec![format!("{:?} \"2026-06-04\"", r.id(2))];
        assert_eq!(hospital(&s), want, "[{label}] planned from the event");
        s.import(AT);
        assert_eq!(hospital(&s), want, "[{label}] the unchanged file keeps it");
        let mut changed = r.clone();
        changed.persons.set(2, "联系电话", t("13800009999"));
        s.rewrite_roster(&changed);
        s.import(AT);
        assert_eq!(hospital(&s), want, "[{label}] another column changed: kept");
        // The file now says 住院 2026-06-10 itself: the file's change is taken.
        changed.persons.set(2, "住院日期", t("2026-06-10"));
        s.rewrite_roster(&changed);
        s.import("2026-06-10T09:00:00+08:00");
        let got = hospital(&s);
        assert!(
            got.contains(&format!("{:?} \"2026-06-12\"", r.id(2))),
            "[{label}] the file's own change: {got:?}"
        );
    }
}
