//! The planner: occasions → reminder stages, each with a unique key.
//!
//! A stage is one reminder to one recipient on one day: a `remind` stage for each of
//! the rule's `remind_before` days (or the occasion's own `remind_on` days), and an
//! `escalate` stage to each assigned staff member's supervisor. Non-urgent remind
//! days move back to the previous working day and escalation days forward to the
//! next; urgent rules' days never move. Keys are built from (rule, internal person id,
//! occasion date, sub-key, stage, recipient), so re-planning is idempotent.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::roster::Staff;
use crate::rules::{Occasion, OccasionCache, PersonData, Rule, RuleSet, RunError};
use crate::store::{Contact, Document, RosterSnapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Remind,
    Escalate,
}

impl StageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Remind => "remind",
            StageKind::Escalate => "escalate",
        }
    }
}

/// One reminder stage for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// Unique key of this stage and recipient.
    pub key: String,
    /// Key of the occasion (rule, person, date, sub-key).
    pub occasion_key: String,
    /// Short reference printed in digests for `qinqing ack`.
    pub reference: String,
    pub rule: String,
    pub person_id: i64,
    /// 身份证号, or 编号 when there is none.
    pub person: String,
    pub person_name: String,
    pub occasion_on: NaiveDate,
    pub sub_key: String,
    pub stage: StageKind,
    /// Days before the occasion for `remind` (as the rule says, before any move to a
    /// working day); None for `escalate`.
    pub lead_days: Option<i64>,
    pub remind_on: NaiveDate,
    /// 工号 of who receives this stage.
    pub recipient: String,
    pub title: String,
    pub kind: String,
    pub urgent: bool,
    pub satisfied_by: Vec<String>,
    pub window: Option<(NaiveDate, NaiveDate)>,
    pub channels: Vec<String>,
}

/// The roster prepared for rule evaluation.
pub struct Roster {
    pub persons: Vec<Arc<PersonData>>,
    pub versions: Vec<i64>,
    pub staff: HashMap<String, Staff>,
    pub documents_version: u64,
}

impl Roster {
    /// Active persons only; inactive ones are not covered by any rule.
    pub fn from_snapshot(s: &RosterSnapshot, documents: Vec<Document>) -> Roster {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for d in &documents {
            (
                d.id,
                &d.title,
                d.issued_on,
                d.deadline,
                d.min_rank.map(|r| r as i64),
            )
                .hash(&mut h);
            for c in &d.audience {
                c.as_str().hash(&mut h);
            }
        }
        let documents_version = h.finish();
        let documents = Arc::new(documents);
        let mut events: HashMap<i64, Vec<(String, NaiveDate)>> = HashMap::new();
        for e in &s.events {
            events
                .entry(e.person_id)
                .or_default()
                .push((e.kind.clone(), e.on));
        }
        let mut persons = Vec::with_capacity(s.persons.len());
        let mut versions = Vec::with_capacity(s.persons.len());
        for sp in s.persons.iter().filter(|sp| sp.active) {
            persons.push(Arc::new(PersonData::new(
                sp.id,
                sp.person.clone(),
                sp.active,
                events.remove(&sp.id).unwrap_or_default(),
                documents.clone(),
            )));
            versions.push(sp.version);
        }
        let staff = s
            .staff
            .iter()
            .map(|st| (st.staff.number.clone(), st.staff.clone()))
            .collect();
        Roster {
            persons,
            versions,
            staff,
            documents_version,
        }
    }
}

/// A short, stable reference for an occasion: 6 characters, no look-alikes.
pub fn reference(occasion_key: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // FNV-1a: stable across Rust versions, unlike DefaultHasher.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in occasion_key.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (0..6)
        .map(|i| ALPHABET[((h >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// Evaluates every rule for every active person for each year in `years`, using and
/// filling `cache`. Script errors are returned, never fatal.
pub fn occasions(
    rules: &RuleSet,
    roster: &Roster,
    years: RangeInclusive<i32>,
    cache: &mut OccasionCache,
) -> (Vec<(usize, usize, Arc<Vec<Occasion>>)>, Vec<RunError>) {
    let years: Vec<i32> = years.collect();
    let cache_ro: &OccasionCache = cache;
    type Item = (
        usize,
        usize,
        i32,
        Result<Arc<Vec<Occasion>>, RunError>,
        bool,
    );
    let computed: Vec<Vec<Item>> = roster
        .persons
        .par_iter()
        .enumerate()
        .map(|(pi, person)| {
            let mut out = Vec::with_capacity(rules.rules.len() * years.len());
            if person.person.staff.is_empty() {
                return out;
            }
            for (ri, rule) in rules.rules.iter().enumerate() {
                for &year in &years {
                    let key = (
                        rule.hash,
                        person.internal_id,
                        roster.versions[pi],
                        roster.documents_version,
                        year,
                    );
                    match cache_ro.get(&key) {
                        Some(v) => out.push((pi, ri, year, Ok(v), false)),
                        None => {
                            let r = rules.eval(rule, person, year).map(Arc::new);
                            out.push((pi, ri, year, r, true));
                        }
                    }
                }
            }
            out
        })
        .collect();
    let mut result = Vec::new();
    let mut errors = Vec::new();
    for (pi, ri, year, r, fresh) in computed.into_iter().flatten() {
        match r {
            Ok(v) => {
                if fresh {
                    let rule = &rules.rules[ri];
                    let p = &roster.persons[pi];
                    cache.insert(
                        (
                            rule.hash,
                            p.internal_id,
                            roster.versions[pi],
                            roster.documents_version,
                            year,
                        ),
                        v.clone(),
                    );
                }
                result.push((pi, ri, v));
            }
            Err(e) => errors.push(e),
        }
    }
    (result, errors)
}

/// Expands occasions into stages.
pub fn stages(
    rules: &RuleSet,
    roster: &Roster,
    occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
) -> Vec<Stage> {
    let mut out = Vec::new();
    for (pi, ri, list) in occasions {
        let person = &roster.persons[*pi];
        let rule = &rules.rules[*ri];
        for occ in list.iter() {
            expand(rule, person, occ, &roster.staff, cal, &mut out);
        }
    }
    out
}

fn expand(
    rule: &Rule,
    person: &PersonData,
    occ: &Occasion,
    staff: &HashMap<String, Staff>,
    cal: &WorkCalendar,
    out: &mut Vec<Stage>,
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
    let occasion_key = format!(
        "{}:{}:{}:{}",
        rule.id, person.internal_id, occ.date, occ.key
    );
    let reference = reference(&occasion_key);
    let base =
        |stage: StageKind, lead: Option<i64>, day: NaiveDate, recipient: &str, tag: &str| Stage {
            key: format!("{occasion_key}:{tag}:{recipient}"),
            occasion_key: occasion_key.clone(),
            reference: reference.clone(),
            rule: rule.id.clone(),
            person_id: person.internal_id,
            person: person.key.clone(),
            person_name: person.person.name.clone(),
            occasion_on: occ.date,
            sub_key: occ.key.clone(),
            stage,
            lead_days: lead,
            remind_on: day,
            recipient: recipient.to_string(),
            title: occ.title.clone(),
            kind: occ.kind.clone(),
            urgent: occ.urgent,
            satisfied_by: occ.satisfied_by.clone(),
            window: occ.window,
            channels: rule.channels.clone(),
        };
    let reminds: Vec<(i64, NaiveDate)> = match &occ.remind_on {
        Some(days) => days
            .iter()
            .map(|d| ((occ.date - *d).num_days(), *d))
            .collect(),
        None => rule
            .remind_before
            .iter()
            .map(|lead| (*lead, occ.date - chrono::Duration::days(*lead)))
            .collect(),
    };
    let mut seen = HashSet::new();
    for (lead, day) in reminds {
        if !seen.insert(lead) {
            continue;
        }
        let day = if occ.urgent {
            day
        } else {
            cal.workday_on_or_before(day)
        };
        if !alive_on(day) {
            continue;
        }
        for r in recipients {
            out.push(base(
                StageKind::Remind,
                Some(lead),
                day,
                r,
                &format!("remind{lead}"),
            ));
        }
    }
    if let Some(after) = rule.escalate_after {
        let day = occ.date + chrono::Duration::days(after);
        let day = if occ.urgent {
            day
        } else {
            cal.workday_on_or_after(day)
        };
        if alive_on(day) {
            let mut bosses: Vec<&str> = Vec::new();
            for r in recipients {
                let boss = staff
                    .get(r)
                    .and_then(|s| s.supervisor.as_deref())
                    .filter(|s| !s.is_empty())
                    .unwrap_or(r);
                if !bosses.contains(&boss) {
                    bosses.push(boss);
                }
            }
            for b in bosses {
                out.push(base(StageKind::Escalate, None, day, b, "escalate"));
            }
        }
    }
}

/// Whether a logged contact satisfies an occasion's stage on `day`, or an
/// acknowledgement (a contact carrying the occasion's reference) closed it.
pub struct Closures {
    /// person id → contacts (kind, date)
    contacts: HashMap<i64, Vec<(String, NaiveDate)>>,
    /// occasion reference → the date it was acknowledged
    acks: HashMap<String, NaiveDate>,
}

impl Closures {
    pub fn new(contacts: &[Contact]) -> Closures {
        let mut by_person: HashMap<i64, Vec<(String, NaiveDate)>> = HashMap::new();
        let mut acks = HashMap::new();
        for c in contacts {
            by_person
                .entry(c.person_id)
                .or_default()
                .push((c.kind.clone(), c.on));
            if let Some(r) = &c.reference {
                let e = acks.entry(r.clone()).or_insert(c.on);
                if c.on < *e {
                    *e = c.on;
                }
            }
        }
        Closures {
            contacts: by_person,
            acks,
        }
    }

    /// True when the stage should not be sent as of `day`.
    pub fn closes(&self, s: &Stage, day: NaiveDate) -> bool {
        if self.acks.get(&s.reference).is_some_and(|d| *d <= day) {
            return true;
        }
        if s.satisfied_by.is_empty() {
            return false;
        }
        let (from, to) = s.window.unwrap_or((s.occasion_on, s.occasion_on));
        self.contacts.get(&s.person_id).is_some_and(|cs| {
            cs.iter().any(|(kind, on)| {
                s.satisfied_by.iter().any(|k| k == kind) && *on >= from && *on <= to && *on <= day
            })
        })
    }
}

/// Years whose occasions can have stages in [from, to].
pub fn years_for(from: NaiveDate, to: NaiveDate) -> RangeInclusive<i32> {
    use chrono::Datelike;
    (from.year() - 1)..=(to.year() + 1)
}

/// Sort order for output: by day, then recipient, then the rest for stability.
pub fn sort(stages: &mut [Stage]) {
    stages.sort_by(|a, b| {
        (
            a.remind_on,
            &a.recipient,
            a.occasion_on,
            &a.rule,
            &a.person,
            a.stage,
            a.lead_days,
        )
            .cmp(&(
                b.remind_on,
                &b.recipient,
                b.occasion_on,
                &b.rule,
                &b.person,
                b.stage,
                b.lead_days,
            ))
    });
}
