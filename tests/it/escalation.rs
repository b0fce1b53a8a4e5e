//! Escalation that reaches someone: the supervisor on the right working day, the
//! supervisor's supervisor after `schedule.second_escalation_days`, the
//! `[escalation] fallback` for staff without 上级, nobody after an
//! acknowledgement, and unrouted (shown by `status`) when there is no fallback.
//! June 2026: the monthly call is on Monday 06-01; 20 days later is Sunday 06-21,
//! so the first escalation goes on Monday 06-22, the second two days after it, on
//! Wednesday 06-24.

use serde_json::Value;

use crate::daemon_support::*;
use crate::support::*;

/// Staff: S001 (no 上级), S002 and S003 under S001, S004 the duty officer (no
/// 上级). Persons T0001–T0004; T0004 looked after by S001.
fn four_staff() -> Roster {
    let mut r = roster(4, "");
    r.staff.push(std::collections::BTreeMap::from([
        ("工号", t("S004")),
        ("姓名", t("值班员丁")),
        ("手机", t("13900000004")),
    ]));
    r.persons.set(3, "联系人", t("S001"));
    r
}

fn escalations(stages: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = stages
        .iter()
        .filter(|l| l["rule"] == "monthly-call" && l["stage"] == "escalate")
        .map(|l| {
            format!(
                "{} {} level {}",
                l["remind_on"].as_str().unwrap(),
                l["recipient"].as_str().unwrap(),
                l["level"]
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn two_levels_and_the_fallback() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let schedule = "second_escalation_days = 2\n\n[escalation]\nfallback = \"S004\"";
        let s = Setup::new(db, &four_staff(), schedule, &console(&out));
        s.import("2026-06-01T08:00:00+08:00");
        let label = s.label();
        let stages = s.preview("2026-06-01", "2026-06-30");
        assert_eq!(
            escalations(&stages),
            [
                "2026-06-22 S001 level 1", // S002's and S003's persons
                "2026-06-22 S004 level 1", // S001's person: the fallback
                "2026-06-24 S004 level 2", // S001's supervisor: none, so the fallback
            ],
            "[{label}] {stages:#?}"
        );
        // Nobody escalates to himself.
        assert!(
            !stages.iter().any(|l| l["stage"] == "escalate"
                && l["recipient"] == "S001"
                && l["person"].as_str() == Some(&four_staff().id(3))),
            "[{label}] S001's own person escalated to S001"
        );

        // Run it: T0001 (S002) is acknowledged on 06-22 after the first level went.
        let t1_ref = stages
            .iter()
            .find(|l| {
                l["rule"] == "monthly-call"
                    && l["person"].as_str() == Some(&four_staff().id(0))
                    && l["occasion_on"] == "2026-06-01"
            })
            .unwrap()["reference"]
            .as_str()
            .unwrap()
            .to_string();
        s.once("2026-06-01T08:40:00+08:00");
        let before = console_lines(&out).len();
        s.once("2026-06-22T08:40:00+08:00");
        let day22: Vec<Value> = console_lines(&out)[before..].to_vec();
        let to = |msgs: &[Value], staff: &str| -> Vec<String> {
            msgs.iter()
                .flat_map(|m| m["sections"].as_array().cloned().unwrap_or_default())
                .filter(|s| s["staff_no"] == staff)
                .flat_map(|s| s["lines"].as_array().cloned().unwrap_or_default())
                .filter_map(|l| l.as_str().map(String::from))
                .filter(|l| l.contains("【督办】"))
                .collect()
        };
        assert_eq!(
            to(&day22, "S001").len(),
            3,
            "[{label}] T0001–T0003: {day22:#?}"
        );
        assert_eq!(
            to(&day22, "S004").len(),
            1,
            "[{label}] T0004 to the fallback"
        );
        s.cmd("2026-06-22T10:00:00+08:00")
            .args(["ack", &t1_ref, "--by", "S002", "--on", "2026-06-22"])
            .run()
            .ok();
        let before = console_lines(&out).len();
        s.once("2026-06-23T08:40:00+08:00");
        assert_eq!(
            console_lines(&out).len(),
            before,
            "[{label}] nothing on 06-23"
        );
        s.once("2026-06-24T08:40:00+08:00");
        let day24: Vec<Value> = console_lines(&out)[before..].to_vec();
        let second = to(&day24, "S004");
        assert_eq!(
            second.len(),
            2,
            "[{label}] T0002, T0003 again, not T0001: {day24:#?}"
        );
        assert!(
            !second.iter().any(|l| l.contains("王建国")),
            "[{label}] acknowledged: no second level {second:?}"
        );
        assert!(to(&day24, "S001").is_empty(), "[{label}] {day24:#?}");
    }
}

#[test]
fn without_a_fallback_the_escalation_is_unrouted_and_status_says_so() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &four_staff(), "", &console(&out));
        s.import("2026-06-01T08:00:00+08:00");
        let label = s.label();
        let stages = s.preview("2026-06-01", "2026-06-30");
        let esc = escalations(&stages);
        assert_eq!(
            esc,
            ["2026-06-22  level 1", "2026-06-22 S001 level 1"],
            "[{label}]"
        );
        s.once("2026-06-01T08:40:00+08:00");
        s.once("2026-06-22T08:40:00+08:00");
        let st = s.status();
        let unrouted = st["unrouted"].as_array().unwrap();
        assert_eq!(unrouted.len(), 1, "[{label}] {st:#}");
        assert_eq!(unrouted[0]["rule"], "monthly-call");
        assert_eq!(reminders(&st, "unsent"), 1, "[{label}] {st:#}");
        let table = s.cmd(NOW).arg("status").run().ok().stdout;
        assert!(table.contains("unrouted escalations"), "[{label}] {table}");
        let check = s.cmd(NOW).args(["check", "--format", "json"]).run();
        assert!(
            check.stdout.contains("recorded as unrouted"),
            "[{label}] {check:?}"
        );
    }
}
