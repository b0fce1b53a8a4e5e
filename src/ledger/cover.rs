//! Cover for absence (服务断档): a pause holds a person's non-urgent reminders
//! while they are away (异地居住, travelling with family); a delegation routes a
//! staff member's reminders, escalations and worklist to a colleague while the
//! staff member is away (leave, training, illness). Both are inclusive date ranges.

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pause {
    pub person_id: i64,
    pub from: NaiveDate,
    /// None: until lifted.
    pub until: Option<NaiveDate>,
    pub reason: String,
}

impl Pause {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delegation {
    /// 工号 of who is away.
    pub staff: String,
    /// 工号 of who covers.
    pub to: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

impl Delegation {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.until
    }
}

/// Who receives what is addressed to `staff` on `day`: the colleague covering for
/// them (the latest delegation that covers the day), else `staff`. One hop only,
/// so two colleagues covering for each other never loop.
pub fn covering<'a>(staff: &'a str, day: NaiveDate, delegations: &'a [Delegation]) -> &'a str {
    delegations
        .iter()
        .rev()
        .find(|d| d.staff == staff && d.covers(day))
        .map_or(staff, |d| d.to.as_str())
}

/// Whether `person_id` is paused on `day`.
pub fn paused(person_id: i64, day: NaiveDate, pauses: &[Pause]) -> bool {
    pauses
        .iter()
        .any(|p| p.person_id == person_id && p.covers(day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_delegation_routes_inside_its_days_only() {
        let ds = [Delegation {
            staff: "S002".into(),
            to: "S003".into(),
            from: d("2026-06-08"),
            until: d("2026-06-12"),
        }];
        assert_eq!(covering("S002", d("2026-06-07"), &ds), "S002");
        assert_eq!(covering("S002", d("2026-06-08"), &ds), "S003");
        assert_eq!(covering("S002", d("2026-06-12"), &ds), "S003");
        assert_eq!(covering("S002", d("2026-06-13"), &ds), "S002");
        assert_eq!(covering("S003", d("2026-06-10"), &ds), "S003");
    }

    #[test]
    fn an_open_pause_lasts_until_lifted() {
        let ps = [Pause {
            person_id: 7,
            from: d("2026-06-08"),
            until: None,
            reason: "异地居住".into(),
        }];
        assert!(!paused(7, d("2026-06-07"), &ps));
        assert!(paused(7, d("2027-01-01"), &ps));
        assert!(!paused(8, d("2026-06-10"), &ps));
    }
}
