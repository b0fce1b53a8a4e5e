//! Re-import as an upsert keyed by 身份证号 (or 编号): works out, purely, what a
//! parsed roster changes in the stored one and which person events the change means.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::roster::{Person, Staff};
use crate::store::{ImportPlan, ImportSummary, RosterSnapshot};

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
                plan.reassign
                    .push((key.to_string(), p.staff.clone(), false));
            }
            Some((old, active)) => {
                if *old == p && *active {
                    summary.unchanged += 1;
                    continue;
                }
                summary.changed += 1;
                events_for_change(old, p, today, &mut plan.events);
                if old.staff != p.staff {
                    plan.reassign.push((key.to_string(), p.staff.clone(), true));
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

fn events_for_new(p: &Person, today: NaiveDate, out: &mut Vec<(String, String, NaiveDate)>) {
    let key = p.key().to_string();
    if let Some(d) = p.hospitalised_since {
        out.push((key.clone(), event::HOSPITALISED.into(), d));
    }
    if let Some(d) = p.deceased_on {
        out.push((key.clone(), event::DECEASED.into(), d));
    }
    if p.hardship {
        out.push((key, event::HARDSHIP.into(), today));
    }
}

fn events_for_change(
    old: &Person,
    new: &Person,
    today: NaiveDate,
    out: &mut Vec<(String, String, NaiveDate)>,
) {
    let key = new.key().to_string();
    match (old.hospitalised_since, new.hospitalised_since) {
        (None, Some(d)) => out.push((key.clone(), event::HOSPITALISED.into(), d)),
        (Some(_), None) => out.push((key.clone(), event::DISCHARGED.into(), today)),
        (Some(a), Some(b)) if a != b => {
            // A new stay: the old one ended, a new one began.
            out.push((key.clone(), event::DISCHARGED.into(), b.min(today)));
            out.push((key.clone(), event::HOSPITALISED.into(), b));
        }
        _ => {}
    }
    match (old.deceased_on, new.deceased_on) {
        (None, Some(d)) => out.push((key.clone(), event::DECEASED.into(), d)),
        (Some(a), Some(b)) if a != b => out.push((key.clone(), event::DECEASED.into(), b)),
        _ => {}
    }
    match (old.hardship, new.hardship) {
        (false, true) => out.push((key, event::HARDSHIP.into(), today)),
        (true, false) => out.push((key, event::HARDSHIP_CLEARED.into(), today)),
        _ => {}
    }
}
