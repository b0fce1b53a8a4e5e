//! What closes an occasion: an acknowledgement carrying its key, or (for rules that
//! say `satisfied_by`) any contact of those kinds for that person inside the
//! occasion's window (the monthly call: any call or visit that month).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::Contact;

/// The facts of an occasion that its closure depends on.
#[derive(Debug, Clone, Copy)]
pub struct OccasionTerms<'a> {
    pub occasion_key: &'a str,
    pub person_id: i64,
    pub occasion_on: NaiveDate,
    /// Contact kinds that satisfy the occasion; empty: only an acknowledgement does.
    pub satisfied_by: &'a [String],
    /// The days in which such a contact counts; None: the occasion's day.
    pub window: Option<(NaiveDate, NaiveDate)>,
}

/// The recorded contacts, indexed for the closure check.
pub struct ClosingContacts {
    /// person id → contacts (kind, date)
    by_person: HashMap<i64, Vec<(String, NaiveDate)>>,
    /// occasion key → the first day it was acknowledged
    acks: HashMap<String, NaiveDate>,
}

impl ClosingContacts {
    pub fn new(contacts: &[Contact]) -> ClosingContacts {
        let mut by_person: HashMap<i64, Vec<(String, NaiveDate)>> = HashMap::new();
        let mut acks: HashMap<String, NaiveDate> = HashMap::new();
        for c in contacts
            .iter()
            .map(|c| &c.entry)
            .filter(|c| c.outcome == super::Outcome::Done)
        {
            by_person
                .entry(c.person_id)
                .or_default()
                .push((c.kind.clone(), c.on));
            if let Some(r) = &c.reference {
                let first = acks.entry(r.clone()).or_insert(c.on);
                *first = (*first).min(c.on);
            }
        }
        ClosingContacts { by_person, acks }
    }

    /// No recorded work: nothing is closed.
    pub fn is_empty(&self) -> bool {
        self.by_person.is_empty() && self.acks.is_empty()
    }

    /// True when the occasion is closed as of `day`: nothing of it should be sent.
    pub fn closes(&self, o: OccasionTerms<'_>, day: NaiveDate) -> bool {
        self.closed_on(o, day).is_some()
    }

    /// The day the work that closes the occasion was done, counting only work done
    /// on or before `day`: its acknowledgement, or the first contact that satisfies
    /// it (a kind it is `satisfied_by`, inside its window), whichever came first.
    pub fn closed_on(&self, o: OccasionTerms<'_>, day: NaiveDate) -> Option<NaiveDate> {
        let ack = self.acks.get(o.occasion_key).copied().filter(|d| *d <= day);
        if o.satisfied_by.is_empty() {
            return ack;
        }
        let (from, to) = o.window.unwrap_or((o.occasion_on, o.occasion_on));
        let satisfied = self.by_person.get(&o.person_id).and_then(|cs| {
            cs.iter()
                .filter(|(kind, on)| {
                    o.satisfied_by.iter().any(|k| k == kind)
                        && *on >= from
                        && *on <= to
                        && *on <= day
                })
                .map(|(_, on)| *on)
                .min()
        });
        match (ack, satisfied) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn contact(kind: &str, on: &str, reference: Option<&str>) -> Contact {
        Contact {
            id: 1,
            entry: super::super::NewContact {
                person_id: 7,
                staff_number: None,
                on: d(on),
                kind: kind.into(),
                note: None,
                reference: reference.map(str::to_string),
                outcome: super::super::Outcome::Done,
            },
            recorded_at: String::new(),
        }
    }

    #[test]
    fn ack_closes_from_its_day_on() {
        let c = ClosingContacts::new(&[contact("visit", "2026-09-20", Some("k"))]);
        let o = OccasionTerms {
            occasion_key: "k",
            person_id: 7,
            occasion_on: d("2026-09-25"),
            satisfied_by: &[],
            window: None,
        };
        assert!(!c.closes(o, d("2026-09-19")));
        assert!(c.closes(o, d("2026-09-20")));
    }

    #[test]
    fn an_attempt_not_done_closes_nothing() {
        let mut tried = contact("visit", "2026-09-20", Some("k"));
        tried.entry.outcome = super::super::Outcome::NotDone;
        let c = ClosingContacts::new(&[tried]);
        let kinds = ["visit".to_string()];
        let o = OccasionTerms {
            occasion_key: "k",
            person_id: 7,
            occasion_on: d("2026-09-20"),
            satisfied_by: &kinds,
            window: None,
        };
        assert!(!c.closes(o, d("2026-09-21")));
    }

    #[test]
    fn contact_in_window_satisfies() {
        let c = ClosingContacts::new(&[contact("call", "2026-06-10", None)]);
        let kinds = ["call".to_string(), "visit".to_string()];
        let o = OccasionTerms {
            occasion_key: "m",
            person_id: 7,
            occasion_on: d("2026-06-30"),
            satisfied_by: &kinds,
            window: Some((d("2026-06-01"), d("2026-06-30"))),
        };
        assert!(c.closes(o, d("2026-06-15")));
        assert!(
            !c.closes(o, d("2026-06-09")),
            "not before the call was made"
        );
        let july = OccasionTerms {
            window: Some((d("2026-07-01"), d("2026-07-31"))),
            ..o
        };
        assert!(!c.closes(july, d("2026-07-15")));
        let other = OccasionTerms { person_id: 8, ..o };
        assert!(!c.closes(other, d("2026-06-15")));
    }
}
