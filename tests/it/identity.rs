//! One person across corrections, a first import that is a baseline, and writers
//! that run at the same time: on every backend, through the binary.

use serde_json::Value;

use crate::support::*;

/// Reminder counts by status (`qinqing status --format json`).
fn reminder_counts(db: &TestDb, at: &str) -> Value {
    qinqing(db)
        .now(at)
        .args(["status", "--format", "json"])
        .run()
        .ok()
        .json()["reminders"]
        .clone()
}

/// `run --once` at `at`: plans and delivers to the console sink; returns stderr.
fn run_once(db: &TestDb, at: &str) -> String {
    qinqing(db)
        .now(at)
        .env("QINQING_LOG", "info")
        .args(["run", "--once", "--now", at])
        .run()
        .ok()
        .stderr
}

/// A valid 身份证号 one digit away from `id` (a typo in the sequence number).
fn corrected(id: &str) -> String {
    let mut first17: Vec<u8> = id.as_bytes()[..17].to_vec();
    first17[15] = if first17[15] == b'9' {
        b'8'
    } else {
        first17[15] + 1
    };
    let first17 = String::from_utf8(first17).unwrap();
    let check = id_check_char(&first17);
    format!("{first17}{check}")
}

/// A corrected ID number under the same 编号 is the same person: corrected in place,
/// no new person, and over a month of daily runs no stage is planned twice.
#[test]
fn corrected_id_number_with_the_same_number_is_the_same_person() {
    for db in backends() {
        let mut r = Roster::synthetic(6);
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        let days: Vec<String> = (1..=30)
            .map(|d| format!("2026-09-{d:02}T08:30:00+08:00"))
            .collect();
        for at in &days[..15] {
            run_once(&db, at);
        }
        let before = reminder_counts(&db, &days[14]);

        let old = r.id(0);
        let new = corrected(&old);
        assert_ne!(old, new);
        r.persons.set(0, "身份证号", t(new.clone()));
        let out = qinqing(&db)
            .now(&days[14])
            .arg("import")
            .arg(r.save(&db, "v2.xlsx"))
            .run()
            .ok();
        assert!(
            out.stdout.contains("0 added, 1 changed")
                && out.stdout.contains("1 ID number(s) corrected in place"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        assert_eq!(person_count(&db), 6, "[{}]", db.name());
        // Re-planning the days already planned adds nothing for the corrected person.
        let again = run_once(&db, &days[14]);
        assert!(again.contains("new_stages=0"), "[{}] {again}", db.name());
        assert_eq!(
            reminder_counts(&db, &days[14]),
            before,
            "[{}] the correction changed the outbox",
            db.name()
        );
        // The rest of the month: each stage once, under the corrected ID.
        for at in &days[15..] {
            run_once(&db, at);
        }
        let stages = preview(&db, "2026-09-01", "2026-09-30", &[]);
        assert!(
            stages.iter().all(|s| s["person"] != old.as_str()),
            "[{}] the old ID number is still planned",
            db.name()
        );
        let mut keys: Vec<String> = stages.iter().map(seven).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "[{}] a stage is planned twice", db.name());
        let c = check_json(&db);
        assert_eq!(c["active_persons"], 6, "[{}]", db.name());
    }
}

/// A row whose 编号 is one stored person and whose 身份证号 is another changes
/// nothing and names both.
#[test]
fn row_naming_two_stored_persons_is_rejected() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        let (second, born) = (r.id(1), r.persons.text(1, "出生日期"));
        r.persons.set(0, "身份证号", t(second));
        r.persons.set(0, "出生日期", t(born));
        r.persons.remove_row(1);
        let out = import(&db, &r.save(&db, "v2.xlsx"), &["--skip-invalid"]).fails();
        assert!(
            out.stderr.contains("T0001")
                && out.stderr.contains("王建国")
                && out.stderr.contains("李秀英"),
            "[{}] {}",
            db.name(),
            out.stderr
        );
        assert!(
            out.stderr.contains("nothing was imported"),
            "[{}] {}",
            db.name(),
            out.stderr
        );
    }
}

/// Without 编号, an ID number one digit away from a missing person's with the same
/// name and birth date is reported and imported as new; `--confirm-corrections`
/// corrects it in place.
#[test]
fn probable_correction_without_number_needs_confirmation() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        for i in 0..4 {
            r.persons.set(i, "编号", X::Empty);
        }
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        let new = corrected(&r.id(2));
        r.persons.set(2, "身份证号", t(new));
        let path = r.save(&db, "v2.xlsx");
        let out = import(&db, &path, &["--dry-run"]).ok();
        assert!(
            out.stderr.contains("可能是更正") && out.stderr.contains("--confirm-corrections"),
            "[{}] {}",
            db.name(),
            out.stderr
        );
        let out = import(&db, &path, &["--confirm-corrections"]).ok();
        assert!(
            out.stdout.contains("0 added, 1 changed")
                && out.stdout.contains("1 ID number(s) corrected"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        assert_eq!(person_count(&db), 4, "[{}]", db.name());
    }
}

/// The first import describes the state: 困难 records no event; a later import that
/// sets 困难 records one.
#[test]
fn first_import_is_a_baseline() {
    for db in backends() {
        let mut r = Roster::synthetic(6);
        r.persons.add_column("困难");
        for i in 0..3 {
            r.persons.set(i, "困难", t("是"));
        }
        let out = import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        assert!(
            out.stdout.contains("0 event(s) recorded"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        r.persons.set(4, "困难", t("是"));
        let out = import(&db, &r.save(&db, "v2.xlsx"), &[]).ok();
        assert!(
            out.stdout.contains("1 changed") && out.stdout.contains("1 event(s) recorded"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
    }
}

/// Five imports of the same changed roster at once record each event once.
#[test]
fn concurrent_imports_record_each_event_once() {
    for db in backends() {
        let mut r = Roster::synthetic(6);
        import(&db, &r.save(&db, "v1.xlsx"), &[]).ok();
        let sick = r.id(1);
        r.persons.set(1, "住院日期", t("2026-02-27"));
        let path = r.save(&db, "v2.xlsx");
        let children: Vec<_> = (0..5)
            .map(|i| {
                qinqing(&db)
                    .arg("import")
                    .arg(&path)
                    .spawn(&db.path(&format!("import{i}.log")))
            })
            .collect();
        for mut c in children {
            assert!(
                c.wait().unwrap().success(),
                "[{}] an import failed",
                db.name()
            );
        }
        let stages = preview(&db, "2026-02-20", "2026-03-31", &[]);
        let hv = stages
            .iter()
            .filter(|s| {
                s["rule"] == "hospital-visit"
                    && s["person"] == sick.as_str()
                    && s["stage"] == "remind"
            })
            .count();
        assert_eq!(hv, 1, "[{}] hospital visit planned {hv} times", db.name());
    }
}

/// Three `run --once` on a database that does not exist yet all succeed.
#[test]
fn concurrent_first_runs_on_a_new_database_succeed() {
    for db in backends() {
        let at = "2026-09-18T08:30:00+08:00";
        let children: Vec<_> = (0..3)
            .map(|i| {
                qinqing(&db)
                    .now(at)
                    .args(["run", "--once", "--now", at])
                    .spawn(&db.path(&format!("run{i}.log")))
            })
            .collect();
        for (i, mut c) in children.into_iter().enumerate() {
            let ok = c.wait().unwrap().success();
            let log = std::fs::read_to_string(db.path(&format!("run{i}.log"))).unwrap_or_default();
            assert!(ok, "[{}] run {i} failed: {log}", db.name());
        }
    }
}
