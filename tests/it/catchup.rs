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

/// A store down ten days (2026-06-26 to 07-05, `catch_up_days = 2`): at the restart
/// the escalation that fell due meanwhile for a reminded, unanswered birthday goes
/// out once; a birthday that passed unreminded is skipped (and never escalated);
/// July's monthly calls go out late, marked.
#[test]
fn after_ten_days_down_open_escalations_go_once_past_birthdays_skip_calls_go_late() {
    use crate::daemon_support::*;
    use std::collections::BTreeMap;
    for db in backends() {
        let mut r = roster(3, "");
        // T0100 turns 80 on 06-24 (reminded 06-17 and 06-23, escalated after 06-27);
        // T0101 turns 80 on 07-03, while the store is down.
        for (no, name, birth, seq) in [
            ("T0100", "钱学礼", ymd(1946, 6, 24), 301),
            ("T0101", "孙志远", ymd(1946, 7, 3), 303),
        ] {
            r.persons.push(BTreeMap::from([
                ("编号", t(no)),
                ("姓名", t(name)),
                ("身份证号", t(id_number("370102", birth, seq))),
                ("出生日期", t(birth.format("%Y-%m-%d").to_string())),
                ("类别", t("退休")),
                ("职级", t("科级")),
                ("独居", t("否")),
                ("联系人", t("S002")),
            ]));
        }
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &r, "catch_up_days = 2", &console(&out));
        s.import("2026-06-01T08:00:00+08:00");
        let plan = s.preview("2026-06-01", "2026-07-31");
        let escalation = plan
            .iter()
            .find(|r| {
                r["rule"] == "birthday-milestone"
                    && r["title"].as_str().unwrap_or("").contains("钱学礼")
                    && r["stage"] == "escalate"
            })
            .unwrap_or_else(|| panic!("[{}] no escalation for T0100: {plan:#?}", s.label()))
            .clone();
        let escalate_on = escalation["remind_on"].as_str().unwrap().to_string();
        assert!(
            ("2026-06-26".."2026-07-06").contains(&escalate_on.as_str()),
            "[{}] the escalation must fall in the downtime: {escalate_on}",
            s.label()
        );
        let calls: Vec<&serde_json::Value> = plan
            .iter()
            .filter(|r| r["rule"] == "monthly-call" && r["remind_on"] == "2026-07-01")
            .collect();
        assert_eq!(calls.len(), 5, "[{}] {plan:#?}", s.label());

        for day in ["06-01", "06-17", "06-22", "06-23", "06-25"] {
            s.once(&format!("2026-{day}T08:40:00+08:00"));
        }
        let before = console_lines(&out).len();
        s.once("2026-07-06T08:40:00+08:00");
        let lines: Vec<String> = console_lines(&out)[before..]
            .iter()
            .flat_map(message_lines)
            .collect();
        let reference = escalation["reference"].as_str().unwrap();
        let escalated: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("【督办】") && l.contains(reference))
            .collect();
        assert_eq!(escalated.len(), 1, "[{}] {lines:#?}", s.label());
        // It names whose work it is and how late (due 06-24, sent 07-06).
        assert!(
            escalated[0]
                .contains("【督办】干事乙负责的 钱学礼 80岁寿辰(6月24日)已逾期12天,请督促落实"),
            "[{}] {}",
            s.label(),
            escalated[0]
        );
        let past = plan
            .iter()
            .find(|r| {
                r["rule"] == "birthday-milestone"
                    && r["title"].as_str().unwrap_or("").contains("孙志远")
            })
            .unwrap();
        let past_ref = past["reference"].as_str().unwrap();
        assert!(
            !lines.iter().any(|l| l.contains(past_ref)),
            "[{}] a birthday past during the downtime was sent: {lines:#?}",
            s.label()
        );
        for call in &calls {
            let want = format!(
                "〔迟发:原定7月1日提醒〕 提醒编号{}",
                call["reference"].as_str().unwrap()
            );
            assert_eq!(
                lines.iter().filter(|l| l.ends_with(&want)).count(),
                1,
                "[{}] {want} in {lines:#?}",
                s.label()
            );
        }
        // Once: a second run the same day sends nothing more.
        let sent = console_lines(&out).len();
        s.once("2026-07-06T11:00:00+08:00");
        assert_eq!(
            console_lines(&out).len(),
            sent,
            "[{}] sent twice",
            s.label()
        );
    }
}
