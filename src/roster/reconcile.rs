//! Re-import as an upsert keyed by 身份证号 (or 编号): works out, purely, what a
//! parsed roster changes in the stored one and which person events the change means.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::{Person, RosterSnapshot, Staff};

/// What an import changes; computed by [`reconcile`], applied by the store in one
/// transaction.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    pub today: NaiveDate,
    pub upsert_staff: Vec<Staff>,
    /// New or changed persons (a re-appearing inactive person is reactivated).
    pub upsert_persons: Vec<Person>,
    pub events: Vec<NewEvent>,
    /// Persons whose assigned staff list is new or changed.
    pub reassign: Vec<Reassignment>,
    /// Person keys to mark inactive.
    pub deactivate: Vec<String>,
}

/// A person event an import records, for the person with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// 身份证号, or 编号 when there is none (`Person::key`).
    pub person_key: String,
    pub kind: String,
    pub on: NaiveDate,
}

/// A person's new list of assigned staff (工号s, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub person_key: String,
    pub staff: Vec<String>,
    /// The person was stored before: their open assignments are closed first.
    pub was_stored: bool,
}

/// What an import did, for the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportSummary {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub staff: usize,
    pub events: usize,
    pub missing: Vec<String>,
    pub deactivated: usize,
}

/// Event kinds recorded on import.
pub mod event {
    pub const HOSPITALISED: &str = "hospitalised";
    pub const DISCHARGED: &str = "discharged";
    pub const DECEASED: &str = "deceased";
    pub const HARDSHIP: &str = "hardship";
    pub const HARDSHIP_CLEARED: &str = "hardship_cleared";
    pub const COMPLAINT: &str = "complaint";
}

/// Compares the parsed persons and staff with the stored roster.
pub fn reconcile(
    stored: &RosterSnapshot,
    persons: &[Person],
    staff: &[Staff],
    today: NaiveDate,
    deactivate_missing: bool,
) -> (ImportPlan, ImportSummary) {
    let mut plan = ImportPlan {
        today,
        ..ImportPlan::default()
    };
    let mut summary = ImportSummary::default();

    let stored_staff: HashMap<&str, &Staff> = stored
        .staff
        .iter()
        .map(|s| (s.staff.number.as_str(), &s.staff))
        .collect();
    for s in staff {
        if stored_staff.get(s.number.as_str()) != Some(&s) {
            plan.upsert_staff.push(s.clone());
        }
    }
    summary.staff = staff.len();

    let by_key: HashMap<&str, (&Person, bool)> = stored
        .persons
        .iter()
        .map(|sp| (sp.person.key(), (&sp.person, sp.active)))
        .collect();
    let mut seen: HashSet<&str> = HashSet::with_capacity(persons.len());
    for p in persons {
        let key = p.key();
        seen.insert(key);
        match by_key.get(key) {
            None => {
                summary.added += 1;
                events_for_new(p, today, &mut plan.events);
                plan.upsert_persons.push(p.clone());
                plan.reassign.push(Reassignment {
                    person_key: key.to_string(),
                    staff: p.staff.clone(),
                    was_stored: false,
                });
            }
            Some((old, active)) => {
                if *old == p && *active {
                    summary.unchanged += 1;
                    continue;
                }
                summary.changed += 1;
                events_for_change(old, p, today, &mut plan.events);
                if old.staff != p.staff {
                    plan.reassign.push(Reassignment {
                        person_key: key.to_string(),
                        staff: p.staff.clone(),
                        was_stored: true,
                    });
                }
                plan.upsert_persons.push(p.clone());
            }
        }
    }
    for sp in &stored.persons {
        let key = sp.person.key();
        if sp.active && !seen.contains(key) {
            summary.missing.push(key.to_string());
            if deactivate_missing {
                plan.deactivate.push(key.to_string());
            }
        }
    }
    summary.deactivated = plan.deactivate.len();
    summary.events = plan.events.len();
    (plan, summary)
}

impl NewEvent {
    fn new(person_key: String, kind: &str, on: NaiveDate) -> NewEvent {
        NewEvent {
            person_key,
            kind: kind.to_string(),
            on,
        }
    }
}

fn events_for_new(p: &Person, today: NaiveDate, out: &mut Vec<NewEvent>) {
    let key = p.key().to_string();
    if let Some(d) = p.hospitalised_since {
        out.push(NewEvent::new(key.clone(), event::HOSPITALISED, d));
    }
    if let Some(d) = p.deceased_on {
        out.push(NewEvent::new(key.clone(), event::DECEASED, d));
    }
    if p.hardship {
        out.push(NewEvent::new(key, event::HARDSHIP, today));
    }
}

fn events_for_change(old: &Person, new: &Person, today: NaiveDate, out: &mut Vec<NewEvent>) {
    let key = new.key().to_string();
    match (old.hospitalised_since, new.hospitalised_since) {
        (None, Some(d)) => out.push(NewEvent::new(key.clone(), event::HOSPITALISED, d)),
        (Some(_), None) => out.push(NewEvent::new(key.clone(), event::DISCHARGED, today)),
        (Some(a), Some(b)) if a != b => {
            // A new stay: the old one ended, a new one began.
            out.push(NewEvent::new(key.clone(), event::DISCHARGED, b.min(today)));
            out.push(NewEvent::new(key.clone(), event::HOSPITALISED, b));
        }
        _ => {}
    }
    match (old.deceased_on, new.deceased_on) {
        (None, Some(d)) => out.push(NewEvent::new(key.clone(), event::DECEASED, d)),
        (Some(a), Some(b)) if a != b => out.push(NewEvent::new(key.clone(), event::DECEASED, b)),
        _ => {}
    }
    match (old.hardship, new.hardship) {
        (false, true) => out.push(NewEvent::new(key, event::HARDSHIP, today)),
        (true, false) => out.push(NewEvent::new(key, event::HARDSHIP_CLEARED, today)),
        _ => {}
    }
}
