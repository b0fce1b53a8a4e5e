//! Occasions into reminder stages: remind days moved to working days, escalations
//! to supervisors, a death respected, unique keys.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::calendar::WorkCalendar;
use crate::roster::Staff;
use crate::rules::{Occasion, PersonData, Rule, RuleSet};

use super::{PlanningRoster, Reminder, StageKind, reference, titled};

/// Expands occasions into stages.
pub fn stages(
    rules: &RuleSet,
    roster: &PlanningRoster,
    occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
) -> Vec<Reminder> {
    stages_between(
        rules,
        roster,
        occasions,
        cal,
        NaiveDate::MIN,
        NaiveDate::MAX,
    )
}

/// The stages whose remind day is in [`from`, `to`]: the same stages, in the same
/// order, as [`stages`] filtered on `remind_on`, but only those are ever built (a
/// tick needs a few days' stages out of years of occasions).
pub fn stages_between(
    rules: &RuleSet,
    roster: &PlanningRoster,
    occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Reminder> {
    occasions
        .par_chunks(256)
        .flat_map_iter(|chunk| {
            let mut out = Vec::new();
            for (pi, ri, list) in chunk {
                let person = &roster.persons[*pi];
                let rule = &rules.rules[*ri];
                for occ in list.iter() {
                    expand(rule, person, occ, &roster.staff, cal, (from, to), &mut out);
                }
            }
            out
        })
        .collect()
}

fn expand(
    rule: &Rule,
    person: &PersonData,
    occ: &Occasion,
    staff: &HashMap<String, Staff>,
    cal: &WorkCalendar,
    (from, to): (NaiveDate, NaiveDate),
    out: &mut Vec<Reminder>,
) {
    let died = person.person.deceased_on;
    let after_death_ok = rule.after_death;
    let alive_on = |d: NaiveDate| after_death_ok || died.is_none_or(|x| d <= x);
    if !alive_on(occ.date) {
        return;
    }
    let recipients = &person.person.staff;
    if recipients.is_empty() {
        return;
    }
    let wanted = |d: NaiveDate| d >= from && d <= to;
    // The days first, without allocating; the strings only for stages that are wanted.
    let count = match &occ.remind_on {
        Some(days) => days.len(),
        None => rule.remind_before.len(),
    };
    let raw = |i: usize| -> (i64, NaiveDate) {
        match &occ.remind_on {
            Some(days) => ((occ.date - days[i]).num_days(), days[i]),
            None => {
                let lead = rule.remind_before[i];
                (lead, occ.date - chrono::Duration::days(lead))
            }
        }
    };
    // The i-th remind day if it is the first with its lead, moved to a working day,
    // while the person lives, and in range.
    let remind = |i: usize| -> Option<(i64, NaiveDate)> {
        let (lead, day) = raw(i);
        if (0..i).any(|j| raw(j).0 == lead) {
            return None;
        }
        let day = if occ.urgent {
            day
        } else {
            cal.workday_on_or_before(day)
        };
        (alive_on(day) && wanted(day)).then_some((lead, day))
    };
    let escalation = rule.escalate_after.and_then(|after| {
        let day = occ.date + chrono::Duration::days(after);
        let day = if occ.urgent {
            day
        } else {
            cal.workday_on_or_after(day)
        };
        (alive_on(day) && wanted(day)).then_some(day)
    });
    if escalation.is_none() && !(0..count).any(|i| remind(i).is_some()) {
        return;
    }
    let occasion_key = format!(
        "{}:{}:{}:{}",
        rule.id, person.internal_id, occ.date, occ.key
    );
    let reference: Arc<str> = reference(&occasion_key).into();
    let occasion_key_shared: Arc<str> = occasion_key.as_str().into();
    let title: Arc<str> = titled(&person.person.name, &occ.title).into();
    let person_key: Arc<str> = person.key.as_ref().into();
    let person_name: Arc<str> = person.person.name.as_str().into();
    let sub_key: Arc<str> = occ.key.as_str().into();
    let kind: Arc<str> = occ.kind.as_str().into();
    let satisfied_by: Arc<[String]> = occ.satisfied_by.as_slice().into();
    let base = |stage: StageKind, lead: Option<i64>, day: NaiveDate, recipient: &str| {
        let mut key = String::with_capacity(occasion_key.len() + recipient.len() + 16);
        key.push_str(&occasion_key);
        match lead {
            Some(lead) => {
                use std::fmt::Write as _;
                let _ = write!(key, ":remind{lead}:");
            }
            None => key.push_str(":escalate:"),
        }
        key.push_str(recipient);
        Reminder {
            key,
            occasion_key: Arc::clone(&occasion_key_shared),
            reference: reference.clone(),
            rule: rule.shared_id.clone(),
            person_id: person.internal_id,
            person: person_key.clone(),
            person_name: person_name.clone(),
            occasion_on: occ.date,
            sub_key: sub_key.clone(),
            stage,
            lead_days: lead,
            remind_on: day,
            recipient: recipient.to_string(),
            title: title.clone(),
            kind: kind.clone(),
            urgent: occ.urgent,
            satisfied_by: satisfied_by.clone(),
            window: occ.window,
            channels: rule.shared_channels.clone(),
            after_death: rule.after_death,
        }
    };
    for (lead, day) in (0..count).filter_map(remind) {
        for r in recipients {
            out.push(base(StageKind::Remind, Some(lead), day, r));
        }
    }
    if let Some(day) = escalation {
        let mut bosses: Vec<&str> = Vec::new();
        for r in recipients {
            let boss = staff
                .get(r.as_str())
                .and_then(|s| s.supervisor.as_deref())
                .filter(|s| !s.is_empty())
                .unwrap_or(r);
            if !bosses.contains(&boss) {
                bosses.push(boss);
            }
        }
        for b in bosses {
            out.push(base(StageKind::Escalate, None, day, b));
        }
    }
}
