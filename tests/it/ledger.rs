//! The ledger as staff and administrators record and read it: `ack` with the day
//! and kind of the work, `contact add` with and without `--ref`, `contact list`,
//! on every backend. Monday 2026-06-01: the month's calls go out.

use serde_json::Value;

use crate::daemon_support::*;
use crate::support::*;

const AT: &str = "2026-06-01T08:40:00+08:00";
const LATER: &str = "2026-06-03T10:00:00+08:00";

fn contacts(s: &Setup, extra: &[&str]) -> Vec<Value> {
    s.cmd(LATER)
        .args(["contact", "list", "--format", "json"])
        .args(extra)
        .run()
        .ok()
        .json_lines()
}

#[test]
fn ack_with_day_and_kind_records_once_and_contact_list_shows_the_occasion() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        s.once(AT);
        let calls = s.preview("2026-06-01", "2026-06-01");
        let first = &calls[0];
        let reference = first["reference"].as_str().unwrap();
        let label = s.label();

        // A visit done on 06-02 and entered on 06-03.
        let done = s
            .cmd(LATER)
            .args(["ack", reference, "--on", "2026-06-02", "--kind", "visit"])
            .run()
            .ok();
        assert!(
            done.stdout.contains("acknowledged on 2026-06-02"),
            "[{label}] {done:?}"
        );
        // Twice: nothing more, and it says by whom and when.
        let again = s.cmd(LATER).args(["ack", reference]).run().ok();
        assert!(
            again.stdout.contains(&format!(
                "already acknowledged by {} on 2026-06-02",
                first["recipient"].as_str().unwrap()
            )),
            "[{label}] {again:?}"
        );
        // Never in the future.
        let future = s
            .cmd(LATER)
            .args(["ack", reference, "--on", "2026-06-04"])
            .run()
            .fails();
        assert!(
            future.stderr.contains("in the future"),
            "[{label}] {future:?}"
        );

        let rows = contacts(&s, &[]);
        assert_eq!(rows.len(), 1, "[{label}] one ledger row: {rows:#?}");
        let r = &rows[0];
        assert_eq!(r["kind"], "visit");
        assert_eq!(r["outcome"], "done");
        assert_eq!(r["done_on"], "2026-06-02");
        assert!(
            r["entered_at"]
                .as_str()
                .unwrap()
                .starts_with("2026-06-03T10:00:00")
        );
        assert_eq!(r["rule"], "monthly-call");
        assert_eq!(r["title"], first["title"]);
        assert_eq!(r["occasion_on"], "2026-06-01");
        assert_eq!(r["on_time"], true, "done before the month's end");
        assert!(r["person"].as_str().unwrap().starts_with('T'), "编号: {r}");
    }
}

#[test]
fn contact_add_records_unscheduled_work_and_with_ref_acknowledges() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        s.once(AT);
        let label = s.label();
        let calls = s.preview("2026-06-01", "2026-06-01");
        // An unscheduled delivery: in the ledger, no occasion.
        s.cmd(LATER)
            .args([
                "contact",
                "add",
                "--person",
                "T0001",
                "--staff",
                "S002",
                "--kind",
                "deliver",
                "--on",
                "2026-06-02",
                "--note",
                "=送报纸",
            ])
            .run()
            .ok();
        // With --ref, for the right person: acknowledges it.
        let call = calls
            .iter()
            .find(|c| {
                c["title"]
                    .as_str()
                    .unwrap()
                    .starts_with(&Roster::synthetic(6).persons.text(1, "姓名"))
            })
            .expect("T0002's call");
        let reference = call["reference"].as_str().unwrap();
        let wrong = s
            .cmd(LATER)
            .args([
                "contact", "add", "--person", "T0001", "--staff", "S003", "--kind", "call",
                "--ref", reference,
            ])
            .run()
            .fails();
        assert!(wrong.stderr.contains("not --person"), "[{label}] {wrong:?}");
        let ok = s
            .cmd(LATER)
            .args([
                "contact", "add", "--person", "T0002", "--staff", "S003", "--kind", "call",
                "--ref", reference,
            ])
            .run()
            .ok();
        assert!(ok.stdout.contains("acknowledged"), "[{label}] {ok:?}");

        let rows = contacts(&s, &["--staff", "S002"]);
        assert_eq!(rows.len(), 1, "[{label}] {rows:#?}");
        assert_eq!(rows[0]["kind"], "deliver");
        assert_eq!(rows[0]["rule"], Value::Null);
        assert_eq!(rows[0]["on_time"], Value::Null);
        assert_eq!(rows[0]["note"], "=送报纸");
        let t2 = contacts(&s, &["--person", "T0002"]);
        assert_eq!(t2.len(), 1, "[{label}] {t2:#?}");
        assert_eq!(t2[0]["rule"], "monthly-call");
        assert_eq!(t2[0]["staff"], "S003");
        // CSV: a note that looks like a formula is text.
        let csv = s
            .cmd(LATER)
            .args(["contact", "list", "--format", "csv", "--to", "2026-06-02"])
            .run()
            .ok()
            .stdout;
        assert!(csv.contains(",'=送报纸"), "[{label}] {csv}");
        assert!(csv.starts_with("person,name,staff,kind,outcome,done_on"));
    }
}

/// `check` names the staff members who look after persons but have no 上级: their
/// overdue work would escalate to themselves.
#[test]
fn check_warns_of_staff_without_a_supervisor() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        let s002 = (0..r.staff.rows.len())
            .find(|&i| r.staff.text(i, "工号") == "S002")
            .unwrap();
        r.staff.set(s002, "上级", X::Empty);
        import(&db, &r.save(&db, "r.xlsx"), &[]).ok();
        let c = check_json(&db);
        let warnings = c["warnings"].to_string();
        assert!(
            warnings.contains("no 上级: S002;"),
            "[{}] {warnings}",
            db.name()
        );
        // S001 has no 上级 either, but looks after nobody.
        assert!(!warnings.contains("S001"), "[{}] {warnings}", db.name());
    }
}
