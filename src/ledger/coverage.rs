//! Coverage (落实情况): how each occasion of a period stands on a given day, and
//! the counts per staff member and rule that the year-end assessment reads.
//!
//! An occasion is *done* when a contact acknowledges or satisfies it (see
//! [`ClosingContacts::closed_on`]), counting only work done on or before `as_of`;
//! *on time* when that was on or before its deadline, *late* after it; not done, it
//! is *paused* when its person was paused over its deadline, else *missed* when the
//! deadline is before `as_of`, else *open*.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::{ClosingContacts, OccasionTerms};

/// An occasion as coverage counts it.
#[derive(Debug, Clone, Copy)]
pub struct CoveredOccasion<'a> {
    pub terms: OccasionTerms<'a>,
    pub rule: &'a str,
    /// The occasion date, or the end of its window.
    pub deadline: NaiveDate,
    /// The staff members it counts for (those its reminders went to last).
    pub staff: &'a [String],
    /// Its person was paused over its deadline.
    pub paused: bool,
}

/// Where one occasion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    OnTime,
    Late,
    Missed,
    Open,
    Paused,
}

/// Counts of occasions by standing; `due` is their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub due: u64,
    pub on_time: u64,
    pub late: u64,
    pub missed: u64,
    pub open: u64,
    pub paused: u64,
}

impl Counts {
    fn add(&mut self, s: Standing) {
        self.due += 1;
        match s {
            Standing::OnTime => self.on_time += 1,
            Standing::Late => self.late += 1,
            Standing::Missed => self.missed += 1,
            Standing::Open => self.open += 1,
            Standing::Paused => self.paused += 1,
        }
    }

    /// Done, on time or late: the 人次 of the year-end figures.
    pub fn done(&self) -> u64 {
        self.on_time + self.late
    }
}

/// Where `o` stands on `as_of`.
pub fn standing(o: &CoveredOccasion<'_>, closing: &ClosingContacts, as_of: NaiveDate) -> Standing {
    match closing.closed_on(o.terms, as_of) {
        Some(done) if done <= o.deadline => Standing::OnTime,
        Some(_) => Standing::Late,
        None if o.paused => Standing::Paused,
        None if o.deadline < as_of => Standing::Missed,
        None => Standing::Open,
    }
}

/// The counts per (staff member, rule), each occasion counted for every staff
/// member it is for, and per rule, each occasion counted once.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub by_staff: BTreeMap<(String, String), Counts>,
    pub by_rule: BTreeMap<String, Counts>,
}

pub fn tally(
    occasions: &[CoveredOccasion<'_>],
    closing: &ClosingContacts,
    as_of: NaiveDate,
) -> Tally {
    let mut t = Tally::default();
    for o in occasions {
        let s = standing(o, closing, as_of);
        t.by_rule.entry(o.rule.to_string()).or_default().add(s);
        for staff in o.staff {
            t.by_staff
                .entry((staff.clone(), o.rule.to_string()))
                .or_default()
                .add(s);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Contact, NewContact, Outcome};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn contact(person_id: i64, kind: &str, on: &str, reference: Option<&str>) -> Contact {
        Contact {
            id: 1,
            entry: NewContact {
                person_id,
                staff_number: None,
                on: d(on),
                kind: kind.into(),
                note: None,
                reference: reference.map(str::to_string),
                outcome: Outcome::Done,
            },
            recorded_at: String::new(),
        }
    }

    #[test]
    fn each_standing_and_the_counts() {
        let kinds = ["call".to_string(), "visit".to_string()];
        let a = ["S1".to_string()];
        let ab = ["S1".to_string(), "S2".to_string()];
        let festival = |key: &'static str, person_id, staff: &'static [String]| CoveredOccasion {
            terms: OccasionTerms {
                occasion_key: key,
                person_id,
                occasion_on: d("2026-09-25"),
                satisfied_by: &[],
                window: None,
            },
            rule: "festival-visit",
            deadline: d("2026-09-25"),
            staff,
            paused: false,
        };
        let a: &'static [String] = Box::leak(Box::new(a));
        let ab: &'static [String] = Box::leak(Box::new(ab));
        let call = CoveredOccasion {
            terms: OccasionTerms {
                occasion_key: "m1",
                person_id: 5,
                occasion_on: d("2026-09-01"),
                satisfied_by: &kinds,
                window: Some((d("2026-09-01"), d("2026-09-30"))),
            },
            rule: "monthly-call",
            deadline: d("2026-09-30"),
            staff: a,
            paused: false,
        };
        let mut paused = festival("f5", 5, a);
        paused.paused = true;
        let occasions = [
            festival("f1", 1, a),  // acknowledged on the day: on time
            festival("f2", 2, ab), // acknowledged after: late, for both staff
            festival("f3", 3, a),  // nothing: missed
            festival("f4", 4, a),  // acknowledged after as_of: missed
            paused,
            call, // an unscheduled call in the month: on time
        ];
        let closing = ClosingContacts::new(&[
            contact(1, "visit", "2026-09-25", Some("f1")),
            contact(2, "visit", "2026-09-29", Some("f2")),
            contact(4, "visit", "2026-10-09", Some("f4")),
            contact(5, "call", "2026-09-12", None),
        ]);
        let t = tally(&occasions, &closing, d("2026-10-05"));
        let s1 = t.by_staff[&("S1".into(), "festival-visit".into())];
        assert_eq!(
            s1,
            Counts {
                due: 5,
                on_time: 1,
                late: 1,
                missed: 2,
                open: 0,
                paused: 1
            }
        );
        assert_eq!(t.by_staff[&("S2".into(), "festival-visit".into())].late, 1);
        assert_eq!(t.by_rule["festival-visit"].due, 5, "each occasion once");
        assert_eq!(t.by_staff[&("S1".into(), "monthly-call".into())].on_time, 1);
        // Before the deadline nothing is missed yet.
        let t = tally(&occasions, &closing, d("2026-09-20"));
        let s1 = t.by_staff[&("S1".into(), "festival-visit".into())];
        assert_eq!((s1.open, s1.missed, s1.paused), (4, 0, 1));
        assert_eq!(t.by_staff[&("S1".into(), "monthly-call".into())].on_time, 1);
    }
}
