//! The planner: occasions → reminder stages, each with a unique key.
//!
//! A stage is one reminder to one recipient on one day: a `remind` stage for each of
//! the rule's `remind_before` days (or the occasion's own `remind_on` days), and an
//! `escalate` stage to each assigned staff member's supervisor. Non-urgent remind
//! days move back to the previous working day and escalation days forward to the
//! next; urgent rules' days never move. Keys are built from (rule, internal person id,
//! occasion date, sub-key, stage, recipient), so re-planning is idempotent.
//!
//! Files: `reminder` (the record, its key, reference, title and order), `roster`
//! (the planning roster), `evaluate` (rules × persons × years, cached), `stages`

//! (occasions → stages). Knows nothing of the store, delivery, services or HTTP.

mod evaluate;
mod reminder;
mod roster;
mod stages;

pub use evaluate::{OCCASION_PART, PlannedOccasions, occasions, occasions_each, years_for};
pub use reminder::{
    Reminder, ReminderStatus, SECOND_ESCALATION, StageKind, UNROUTED, key_hash, reference,
    reference_code, sort, stable_hash, titled,
};
pub use roster::{PlanningRoster, PlanningRosterBuilder};
pub use stages::{
    DayIndex, OrderRanks, StageRef, StageSpec, TICK_BATCH, TickWindow, URGENT_CATCH_UP_DAYS,
    Verdict, fold_refs, sort_refs, stages, stages_between, tick_batches, tick_stages,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use crate::roster::{Category, Person, Rank};
    use crate::roster::{PersonEvent, PersonRecord, StaffRecord};
    use crate::roster::{RosterSnapshot, Staff};
    use crate::rules::{OccasionCache, RuleSet};
    use chrono::NaiveDate;
    use std::collections::HashSet;
    use std::sync::Arc;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn person(id: i64, birth: &str, staff: &[&str]) -> PersonRecord {
        PersonRecord {
            id,
            active: true,
            version: 1,
            imported: None,
            person: Person {
                number: Some(format!("P{id}")),
                party_branch: Some("第一党支部".into()),
                staff: staff.iter().map(|s| s.to_string()).collect(),
                ..Person::new(
                    format!("测试{id}"),
                    d(birth),
                    Category::Lixiu,
                    Rank::Division,
                )
            },
        }
    }

    fn staff(no: &str, boss: Option<&str>) -> StaffRecord {
        StaffRecord {
            id: 0,
            active: true,
            staff: Staff {
                number: no.into(),
                name: no.into(),
                supervisor: boss.map(Into::into),
                ..Staff::default()
            },
        }
    }

    fn plan(snapshot: &RosterSnapshot, from: &str, to: &str) -> Vec<Reminder> {
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        assert!(rules.errors.is_empty(), "{:?}", rules.errors);
        let roster = PlanningRoster::from_snapshot(snapshot, vec![]);
        let mut cache = OccasionCache::default();
        let (from, to) = (d(from), d(to));
        let (occ, errors) = occasions(&rules, &roster, years_for(from, to), &mut cache);
        assert!(errors.is_empty(), "{errors:?}");
        let mut s: Vec<Reminder> = stages(&rules, &roster, &occ, rules.calendar())
            .into_iter()
            .filter(|s| s.remind_on >= from && s.remind_on <= to)
            .collect();
        sort(&mut s);
        s
    }

    fn snapshot(persons: Vec<PersonRecord>) -> RosterSnapshot {
        RosterSnapshot {
            persons,
            staff: vec![
                staff("S1", Some("B1")),
                staff("S2", Some("B1")),
                staff("B1", None),
            ],
            events: vec![],
        }
    }

    #[test]
    fn replanning_gives_the_same_keys() {
        let s = snapshot(vec![
            person(1, "1936-01-02", &["S1"]),
            person(2, "1946-05-01", &["S2"]),
        ]);
        let a: Vec<String> = plan(&s, "2026-01-01", "2026-12-31")
            .into_iter()
            .map(|x| x.key)
            .collect();
        let b: Vec<String> = plan(&s, "2026-01-01", "2026-12-31")
            .into_iter()
            .map(|x| x.key)
            .collect();
        assert!(!a.is_empty());
        assert_eq!(a, b);
        let unique: HashSet<&String> = a.iter().collect();
        assert_eq!(unique.len(), a.len(), "stage keys are unique");
    }

    #[test]
    fn stages_between_is_stages_filtered() {
        let s = snapshot(vec![
            person(1, "1936-01-02", &["S1"]),
            person(2, "1946-05-01", &["S1", "S2"]),
        ]);
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        let roster = PlanningRoster::from_snapshot(&s, vec![]);
        let mut cache = OccasionCache::default();
        let (occ, _) = occasions(&rules, &roster, 2025..=2027, &mut cache);
        let all = stages(&rules, &roster, &occ, rules.calendar());
        for (from, to) in [("2026-01-01", "2026-01-31"), ("2026-09-01", "2026-09-01")] {
            let (from, to) = (d(from), d(to));
            let want: Vec<&Reminder> = all
                .iter()
                .filter(|x| x.remind_on >= from && x.remind_on <= to)
                .collect();
            let got = stages_between(&rules, &roster, &occ, rules.calendar(), from, to);
            assert!(!want.is_empty());
            assert_eq!(got.iter().collect::<Vec<_>>(), want);
        }
    }

    /// Borrowed stages sorted on packed numbers come in the order of the stored
    /// stages' sort, ties (one person's two occasions of a rule on one day) kept in
    /// the order they were made.
    #[test]
    fn borrowed_stages_sort_as_stored_ones() {
        let s = snapshot(
            (1..=60)
                .map(|i| {
                    let staff: &[&str] = match i % 3 {
                        0 => &["S1"],
                        1 => &["S2", "S1"],
                        _ => &["S2"],
                    };
                    person(
                        i,
                        &format!("19{:02}-0{}-1{}", 26 + i % 40, 1 + i % 9, i % 10),
                        staff,
                    )
                })
                .collect(),
        );
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        let roster = PlanningRoster::from_snapshot(&s, vec![]);
        let mut cache = OccasionCache::default();
        let (from, to) = (d("2026-01-01"), d("2026-12-31"));
        let (occ, _) = occasions(&rules, &roster, years_for(from, to), &mut cache);
        let cal = rules.calendar().clone();
        let ranks = OrderRanks::new(&rules, &roster);
        for days in [7, 400] {
            let index = DayIndex::new(&rules, &roster, &occ, &cal, from, to, days);
            let mut checked = 0;
            for (i, a, b) in index.ranges() {
                let mut refs = index.refs(i, &rules, &roster, &occ, &cal, |_, _| true);
                let mut want = stages_between(&rules, &roster, &occ, &cal, a, b);
                sort(&mut want);
                sort_refs(&mut refs, &ranks);
                let got: Vec<Reminder> = refs.iter().map(|r| r.to_reminder()).collect();
                assert_eq!(got, want, "{a}..{b}");
                checked += got.len();
            }
            assert!(checked > 500, "{checked}");
        }
    }

    /// The daemon's tick stores its stages a batch at a time: whatever the batch
    /// size, the batches hold the stages of the whole tick, in its order.
    #[test]
    fn tick_batches_are_the_tick_in_pieces() {
        let s = snapshot(
            (1..=40)
                .map(|i| person(i, &format!("19{:02}-09-2{}", 26 + i % 40, i % 8), &["S1"]))
                .collect(),
        );
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        let roster = PlanningRoster::from_snapshot(&s, vec![]);
        let mut cache = OccasionCache::default();
        let (occ, _) = occasions(&rules, &roster, 2025..=2027, &mut cache);
        // 2026-09-18: the 中秋 reminders (a week ahead) and the birthdays' fall due;
        // two days of downtime before it.
        let today = d("2026-09-18");
        let window = TickWindow::new(&rules, today, d("2026-01-01"), Some(d("2026-09-16")), 7);
        let (plan, miss) = tick_stages(&rules, &roster, &occ, rules.calendar(), &window);
        assert!(plan.len() > 40, "{}", plan.len());
        for batch in [1, 7, 100] {
            let (mut p, mut m, mut calls) = (Vec::new(), Vec::new(), 0);
            tick_batches(
                &rules,
                &roster,
                &occ,
                rules.calendar(),
                &window,
                batch,
                |a, b| {
                    assert!(!a.is_empty() || !b.is_empty(), "no empty batch");
                    calls += 1;
                    p.extend(a);
                    m.extend(b);
                    true
                },
            );
            assert_eq!(p, plan, "batch {batch}");
            assert_eq!(m, miss, "batch {batch}");
            assert!(calls > 1, "batch {batch}: {calls} call(s)");
        }
        let mut calls = 0;
        tick_batches(
            &rules,
            &roster,
            &occ,
            rules.calendar(),
            &window,
            1,
            |_, _| {
                calls += 1;
                false
            },
        );
        assert_eq!(calls, 1, "stops when told to");
    }

    #[test]
    fn birthday_on_2_january_is_reminded_the_year_before() {
        let s = snapshot(vec![person(1, "1936-01-02", &["S1"])]);
        let got: Vec<(NaiveDate, Option<i64>)> = plan(&s, "2025-12-01", "2026-01-10")
            .into_iter()
            .filter(|x| &*x.rule == "birthday-milestone" && x.stage == StageKind::Remind)
            .map(|x| (x.remind_on, x.lead_days))
            .collect();
        // 2025-12-26 is a Friday (a working day); 2026-01-01 is 元旦, so the 1-day
        // reminder moves back to 2025-12-31.
        assert_eq!(
            got,
            vec![(d("2025-12-26"), Some(7)), (d("2025-12-31"), Some(1))]
        );
    }

    #[test]
    fn leap_day_birthday_in_a_leap_year_and_a_common_year() {
        let s = snapshot(vec![person(1, "1936-02-29", &["S1"])]);
        let occ = |from: &str, to: &str| -> Vec<NaiveDate> {
            plan(&s, from, to)
                .into_iter()
                .filter(|x| &*x.rule == "birthday-milestone" && x.stage == StageKind::Remind)
                .map(|x| x.occasion_on)
                .collect()
        };
        assert_eq!(occ("2026-01-01", "2026-12-31")[0], d("2026-02-28"));
        assert_eq!(occ("2028-01-01", "2028-12-31")[0], d("2028-02-29"));
    }

    #[test]
    fn january_spring_festival_reminder_moves_back_to_a_working_day() {
        // 春节 2023-01-22: reminder 7 days before = 2023-01-15 (a Sunday) → Friday 2023-01-13.
        let s = snapshot(vec![person(1, "1930-05-01", &["S1"])]);
        let got: Vec<NaiveDate> = plan(&s, "2023-01-01", "2023-01-31")
            .into_iter()
            .filter(|x| &*x.rule == "festival-visit" && x.stage == StageKind::Remind)
            .map(|x| x.remind_on)
            .collect();
        assert_eq!(got, vec![d("2023-01-13")]);
    }

    #[test]
    fn escalation_goes_once_to_a_shared_supervisor() {
        let s = snapshot(vec![person(1, "1930-05-01", &["S1", "S2"])]);
        let esc: Vec<Reminder> = plan(&s, "2026-02-01", "2026-02-28")
            .into_iter()
            .filter(|x| &*x.rule == "festival-visit" && x.stage == StageKind::Escalate)
            .collect();
        assert_eq!(esc.len(), 1, "{esc:?}");
        assert_eq!(esc[0].recipient, "B1");
        // 春节 2026-02-17 + 3 = 02-20, inside the break (02-15..02-23) → next working day.
        assert_eq!(esc[0].remind_on, d("2026-02-24"));
        assert_eq!(esc[0].lead_days, None);
    }

    #[test]
    fn death_stops_everything_but_the_condolence_and_urgent_days_do_not_move() {
        let mut p = person(1, "1930-05-01", &["S1"]);
        p.person.facts.deceased_on = Some(d("2026-02-14"));
        let mut s = snapshot(vec![p]);
        s.events.push(PersonEvent {
            person_id: 1,
            kind: "deceased".into(),
            on: d("2026-02-14"),
        });
        let all = plan(&s, "2026-01-01", "2026-12-31");
        assert!(
            all.iter()
                .all(|x| &*x.rule == "condolence" || x.remind_on <= d("2026-02-14"))
        );
        assert!(
            all.iter()
                .all(|x| &*x.rule == "condolence" || x.occasion_on <= d("2026-02-14"))
        );
        let c: Vec<&Reminder> = all.iter().filter(|x| &*x.rule == "condolence").collect();
        // Urgent: reminded on the day of death (a Saturday), escalated 3 days after
        // the occasion (02-15 + 3 = 02-18, inside the Spring Festival break), unmoved.
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].remind_on, c[0].lead_days), (d("2026-02-14"), Some(1)));
        assert_eq!(c[1].remind_on, d("2026-02-18"));
    }

    #[test]
    fn no_staff_no_stage() {
        let s = snapshot(vec![person(1, "1930-05-01", &[])]);
        assert!(plan(&s, "2026-01-01", "2026-12-31").is_empty());
    }

    #[test]
    fn cached_occasions_are_reused() {
        let s = snapshot(vec![person(1, "1936-01-02", &["S1"])]);
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        let roster = PlanningRoster::from_snapshot(&s, vec![]);
        let mut cache = OccasionCache::default();
        let (a, _) = occasions(&rules, &roster, 2026..=2026, &mut cache);
        let filled = cache.len();
        assert_eq!(filled, rules.rules.len());
        let (b, _) = occasions(&rules, &roster, 2026..=2026, &mut cache);
        assert_eq!(cache.len(), filled);
        assert!(
            a.iter().zip(&b).all(|(x, y)| Arc::ptr_eq(&x.2, &y.2)),
            "second tick reuses cached occasions"
        );
    }

    #[test]
    fn persons_who_leave_the_roster_leave_the_cache() {
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        let mut cache = OccasionCache::default();
        let two = snapshot(vec![
            person(1, "1936-01-02", &["S1"]),
            person(2, "1946-05-01", &["S2"]),
        ]);
        occasions(
            &rules,
            &PlanningRoster::from_snapshot(&two, vec![]),
            2026..=2026,
            &mut cache,
        );
        assert_eq!(cache.persons_len(), 2);
        assert_eq!(cache.len(), 2 * rules.rules.len());
        let one = snapshot(vec![person(2, "1946-05-01", &["S2"])]);
        occasions(
            &rules,
            &PlanningRoster::from_snapshot(&one, vec![]),
            2026..=2026,
            &mut cache,
        );
        assert_eq!(cache.persons_len(), 1);
        assert_eq!(cache.len(), rules.rules.len());
        assert!(cache.person(1).is_none());
    }
}
