//! Late-entered events and catch-up, through the binary on every backend: a
//! hospital stay or a death entered days late is reminded at the next run, marked
//! late, while still useful.

use crate::support::*;

/// `run --once` at `at` with the built-in console sink; returns stdout (the digests).
fn run_once(db: &TestDb, at: &str) -> String {
    qinqing(db)
        .now(at)
        .args(["run", "--once", "--now", at])
        .run()
        .ok()
        .stdout
}

const AT: &str = "2026-09-16T08:30:00+08:00";

/// On a fresh store, 住院日期 12 days back: the hospital visit goes out now, late.
#[test]
fn a_hospital_stay_entered_late_is_reminded_at_once_on_a_fresh_store() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        r.persons.set(1, "住院日期", t("2026-09-04"));
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        let out = run_once(&db, AT);
        assert!(out.contains("住院看望"), "[{}] {out}", db.name());
        assert!(
            out.contains("原定9月4日提醒"),
            "[{}] not marked late: {out}",
            db.name()
        );
        // Once.
        let again = run_once(&db, "2026-09-16T10:30:00+08:00");
        assert!(
            !again.contains("住院看望"),
            "[{}] sent twice: {again}",
            db.name()
        );
    }
}

/// On a store that has run for a month, the same late entry is reminded the same way.
#[test]
fn a_hospital_stay_entered_late_is_reminded_on_a_running_store() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        for d in [1, 8, 15] {
            run_once(&db, &format!("2026-09-{d:02}T08:30:00+08:00"));
        }
        r.persons.set(1, "住院日期", t("2026-09-04"));
        qinqing(&db)
            .now(AT)
            .arg("import")
            .arg(r.save(&db, "v2.xlsx"))
            .run()
            .ok();
        let out = run_once(&db, AT);
        assert!(
            out.contains("住院看望") && out.contains("原定9月4日提醒"),
            "[{}] {out}",
            db.name()
        );
    }
}

/// 去世日期 10 days back → the condolence goes out; 40 days back → it does not
/// (after_death_days = 30).
#[test]
fn a_death_entered_late_is_reminded_within_after_death_days() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        r.persons.set(1, "去世日期", t("2026-09-06"));
        r.persons.set(2, "去世日期", t("2026-08-07"));
        let (recent, old) = (r.persons.text(1, "姓名"), r.persons.text(2, "姓名"));
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        let out = run_once(&db, AT);
        let condolences: Vec<&str> = out.lines().filter(|l| l.contains("吊唁")).collect();
        assert!(
            condolences.iter().any(|l| l.contains(&recent)),
            "[{}] {out}",
            db.name()
        );
        assert!(
            !condolences.iter().any(|l| l.contains(&old)),
            "[{}] a condolence 40 days late: {out}",
            db.name()
        );
    }
}

/// A late hospital stay of a person already discharged is not reminded.
#[test]
fn a_late_hospital_stay_after_discharge_is_not_reminded() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        run_once(&db, "2026-09-01T08:30:00+08:00");
        r.persons.set(1, "住院日期", t("2026-09-04"));
        qinqing(&db)
            .now("2026-09-10T08:30:00+08:00")
            .arg("import")
            .arg(r.save(&db, "v2.xlsx"))
            .run()
            .ok();
        // Discharged (住院日期 emptied) before anyone ran the daemon again.
        r.persons.set(1, "住院日期", X::Empty);
        qinqing(&db)
            .now("2026-09-12T08:30:00+08:00")
            .arg("import")
            .arg(r.save(&db, "v3.xlsx"))
            .run()
            .ok();
        let out = run_once(&db, AT);
        assert!(
            !out.contains("住院看望"),
            "[{}] reminded after discharge: {out}",
            db.name()
        );
    }
}

/// On a new store, an escalation falling due for an occasion that was never reminded
/// (the 9月1日 monthly call, before the store existed) is not sent: recorded `unsent`.
#[test]
fn a_new_store_escalates_nothing_it_never_reminded() {
    for db in backends() {
        let r = Roster::synthetic(4);
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        let at = "2026-09-21T08:30:00+08:00";
        let out = run_once(&db, at);
        assert!(
            !out.contains("【督办】"),
            "[{}] escalated: {out}",
            db.name()
        );
        let st = qinqing(&db)
            .now(at)
            .args(["status", "--format", "json"])
            .run()
            .ok()
            .json();
        assert!(
            st["reminders"]["unsent"].as_i64().unwrap_or(0) >= 4,
            "[{}] {st:#}",
            db.name()
        );
    }
}
