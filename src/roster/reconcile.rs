//! Re-import as an upsert: works out, purely, what a parsed roster changes in the
//! stored one and which person events the change means.
//!
//! A person stays one person across corrections: a row is matched first by 编号 (when
//! the file has one), then by 身份证号. When the 编号 matches a person whose 身份证号
//! differs, the ID number is corrected in place (an `id_corrected` event with the
//! masked old and new values); the person's internal id, and so every stage key,
//! stays. A row whose 编号 and 身份证号 point to two different stored persons is a
//! conflict naming both. Without 编号, a new ID number one or two digits away from a
//! missing person's, with the same name and birth date, is a probable correction:
//! applied with `confirm_corrections`, else imported as new and reported.

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
    pub upsert_persons: Vec<Upsert>,
    pub events: Vec<NewEvent>,
    /// Persons whose assigned staff list is new or changed.
    pub reassign: Vec<Reassignment>,
    /// Person keys to mark inactive.
    pub deactivate: Vec<String>,
    /// Corrected ID numbers: the stored person's key changes in place, before the
    /// upserts (which use the new key).
    pub rekey: Vec<Rekey>,
}

/// A person to store, and the file's row it came from (kept for the next import's
/// comparison).
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert {
    pub person: Person,
    pub imported: Person,
}

/// A stored person whose key (身份证号) is corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rekey {
    pub old_key: String,
    pub new_key: String,
}

/// How [`reconcile`] treats what is missing or probably corrected.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReconcileOptions {
    /// Mark persons missing from the file inactive.
    pub deactivate_missing: bool,
    /// Apply probable ID corrections (rows without 编号) instead of importing a new person.
    pub confirm_corrections: bool,
}

/// A person event an import records, for the person with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// 身份证号, or 编号 when there is none (`Person::key`).
    pub person_key: String,
    pub kind: String,
    pub on: NaiveDate,
    pub note: Option<String>,
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
    /// ID numbers corrected in place (matched by 编号, or confirmed).
    pub corrected: usize,
    /// Rows that are probably a corrected ID number of a missing person but were
    /// imported as new (no 编号, no `--confirm-corrections`), in words.
    pub probable_corrections: Vec<String>,
    /// Rows whose 编号 and 身份证号 point to two different stored persons: the import
    /// must not be applied.
    pub conflicts: Vec<String>,
}

/// Event kinds recorded on import.
pub mod event {
    pub const HOSPITALISED: &str = "hospitalised";
    pub const DISCHARGED: &str = "discharged";
    pub const DECEASED: &str = "deceased";
    pub const HARDSHIP: &str = "hardship";
    pub const HARDSHIP_CLEARED: &str = "hardship_cleared";
    pub const COMPLAINT: &str = "complaint";
    pub const ID_CORRECTED: &str = "id_corrected";
}

/// What a recorded event (`event add`) does to the person, as a re-import showing
/// the same change would: 住院 sets the admission day, 出院 clears it, 去世 sets the
/// day of death, 困难 marks the person; a complaint changes nothing but is an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventEffect {
    Nothing,
    HospitalisedSince(Option<NaiveDate>),
    DeceasedOn(NaiveDate),
    Hardship(bool),
}

/// The event kinds staff record with `event add`.
pub const RECORDABLE_EVENTS: [&str; 5] = [
    event::HOSPITALISED,
    event::DISCHARGED,
    event::DECEASED,
    event::HARDSHIP,
    event::COMPLAINT,
];

/// What recording an event of `kind` on `on` does to the person; None for a kind
/// staff cannot record.
pub fn event_effect(kind: &str, on: NaiveDate) -> Option<EventEffect> {
    Some(match kind {
        event::HOSPITALISED => EventEffect::HospitalisedSince(Some(on)),
        event::DISCHARGED => EventEffect::HospitalisedSince(None),
        event::DECEASED => EventEffect::DeceasedOn(on),
        event::HARDSHIP => EventEffect::Hardship(true),
        event::COMPLAINT => EventEffect::Nothing,
        _ => return None,
    })
}

/// Compares the parsed persons and staff with the stored roster.
pub fn reconcile(
    stored: &RosterSnapshot,
    persons: &[Person],
    staff: &[Staff],
    today: NaiveDate,
    opts: ReconcileOptions,
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

    let by_key: HashMap<&str, usize> = stored
        .persons
        .iter()
        .enumerate()
        .map(|(i, sp)| (sp.person.key(), i))
        .collect();
    let by_number: HashMap<&str, usize> = stored
        .persons
        .iter()
        .enumerate()
        .filter_map(|(i, sp)| sp.person.number.as_deref().map(|n| (n, i)))
        .collect();
    // Which stored person each row is, by 编号 first, then by 身份证号.
    let mut matched: Vec<Option<usize>> = Vec::with_capacity(persons.len());
    let mut seen: HashSet<usize> = HashSet::with_capacity(persons.len());
    for p in persons {
        let by_no = p.number.as_deref().and_then(|n| by_number.get(n).copied());
        let by_id = by_key.get(p.key()).copied();
        let m = match (by_no, by_id) {
            (Some(a), Some(b)) if a != b => {
                summary.conflicts.push(format!(
                    "编号 {} 是 {}, 身份证号 {} 却是另一人 {}: 请核对这一行的编号和身份证号 \
                     (row with 编号 {} and ID {} matches two different stored persons)",
                    p.number.as_deref().unwrap_or(""),
                    describe(&stored.persons[a].person),
                    crate::mask::id_number(p.key()),
                    describe(&stored.persons[b].person),
                    p.number.as_deref().unwrap_or(""),
                    crate::mask::id_number(p.key()),
                ));
                None
            }
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        if let Some(i) = m {
            seen.insert(i);
        }
        matched.push(m);
    }
    // Rows without 编号 that match nobody: perhaps a missing person's corrected ID.
    let mut unseen: HashMap<(&str, NaiveDate), Vec<usize>> = HashMap::new();
    for (i, sp) in stored.persons.iter().enumerate() {
        if !seen.contains(&i) {
            unseen
                .entry((sp.person.name.as_str(), sp.person.facts.birth_date))
                .or_default()
                .push(i);
        }
    }
    for (row, p) in persons.iter().enumerate() {
        if matched[row].is_some() || p.number.is_some() || p.id_number.is_none() {
            continue;
        }
        let candidates: Vec<usize> = unseen
            .get(&(p.name.as_str(), p.facts.birth_date))
            .into_iter()
            .flatten()
            .copied()
            .filter(|i| !seen.contains(i) && probably_same(&stored.persons[*i].person, p))
            .collect();
        if let [i] = candidates[..] {
            let old = &stored.persons[i].person;
            if opts.confirm_corrections {
                matched[row] = Some(i);
                seen.insert(i);
            } else {
                summary.probable_corrections.push(format!(
                    "{} 的身份证号 {} 与库中 {} 只差一两位, 可能是更正; 已作为新人导入. \
                     若是更正, 请用 --confirm-corrections 重新导入 \
                     (probably a corrected ID number; imported as a new person)",
                    p.name,
                    crate::mask::id_number(p.key()),
                    crate::mask::id_number(old.key()),
                ));
            }
        }
    }

    for (p, m) in persons.iter().zip(&matched) {
        let key = p.key();
        match m.map(|i| &stored.persons[i]) {
            None => {
                summary.added += 1;
                events_for_new(p, &mut plan.events);
                plan.upsert_persons.push(Upsert {
                    person: p.clone(),
                    imported: p.clone(),
                });
                plan.reassign.push(Reassignment {
                    person_key: key.to_string(),
                    staff: p.staff.clone(),
                    was_stored: false,
                });
            }
            Some(sp) => {
                let old = &sp.person;
                let file_row = p;
                let merged = merge(old, sp.imported.as_ref(), p);
                let p = &merged;
                if old == p && sp.active {
                    if sp.imported.as_ref() != Some(file_row) {
                        // Nothing to change, but remember the file's row.
                        plan.upsert_persons.push(Upsert {
                            person: p.clone(),
                            imported: file_row.clone(),
                        });
                    }
                    summary.unchanged += 1;
                    continue;
                }
                summary.changed += 1;
                if old.key() != key {
                    summary.corrected += 1;
                    plan.rekey.push(Rekey {
                        old_key: old.key().to_string(),
                        new_key: key.to_string(),
                    });
                    plan.events.push(NewEvent {
                        person_key: key.to_string(),
                        kind: event::ID_CORRECTED.to_string(),
                        on: today,
                        note: Some(format!(
                            "{} → {}",
                            crate::mask::id_number(old.key()),
                            crate::mask::id_number(key)
                        )),
                    });
                }
                events_for_change(old, p, today, &mut plan.events);
                if old.staff != p.staff {
                    plan.reassign.push(Reassignment {
                        person_key: key.to_string(),
                        staff: p.staff.clone(),
                        was_stored: true,
                    });
                }
                plan.upsert_persons.push(Upsert {
                    person: p.clone(),
                    imported: file_row.clone(),
                });
            }
        }
    }
    for (i, sp) in stored.persons.iter().enumerate() {
        let key = sp.person.key();
        if sp.active && !seen.contains(&i) {
            summary.missing.push(key.to_string());
            if opts.deactivate_missing {
                plan.deactivate.push(key.to_string());
            }
        }
    }
    summary.deactivated = plan.deactivate.len();
    summary.events = plan.events.len();
    (plan, summary)
}

/// What a re-import stores for a person: the stored person, with each column the
/// file changed since the last imported file taken from the file. A column the file
/// did not change keeps what `event add` or `assign` put there since. Without a
/// last imported file, the file is taken as it is.
fn merge(stored: &Person, last: Option<&Person>, file: &Person) -> Person {
    let Some(last) = last else {
        return file.clone();
    };
    if last == file {
        return stored.clone();
    }
    if last == stored {
        return file.clone();
    }
    let (Ok(mut out), Ok(last), Ok(file_v)) = (
        serde_json::to_value(stored),
        serde_json::to_value(last),
        serde_json::to_value(file),
    ) else {
        return file.clone();
    };
    merge_values(&mut out, &last, &file_v);
    serde_json::from_value(out).unwrap_or_else(|_| file.clone())
}

/// Column by column (objects field by field): where `file` differs from `last`,
/// `out` takes `file`'s value.
fn merge_values(out: &mut serde_json::Value, last: &serde_json::Value, file: &serde_json::Value) {
    use serde_json::Value;
    match (out, last, file) {
        (Value::Object(o), Value::Object(l), Value::Object(f)) => {
            for (k, fv) in f {
                let lv = l.get(k).unwrap_or(&Value::Null);
                match o.get_mut(k) {
                    Some(ov) => merge_values(ov, lv, fv),
                    None if lv != fv => {
                        o.insert(k.clone(), fv.clone());
                    }
                    None => {}
                }
            }
        }
        (o, l, f) => {
            if l != f {
                *o = f.clone();
            }
        }
    }
}

/// `张三(编号 P001, 身份证号 1***************2X)`, for messages.
fn describe(p: &Person) -> String {
    format!(
        "{}(编号 {}, 身份证号 {})",
        p.name,
        p.number.as_deref().unwrap_or("无"),
        p.id_number
            .as_deref()
            .map(crate::mask::id_number)
            .unwrap_or_else(|| "无".into())
    )
}

/// Same name and birth date, and ID numbers of one length that differ in one or
/// two places: a typo corrected, not another person.
fn probably_same(old: &Person, new: &Person) -> bool {
    let (Some(a), Some(b)) = (old.id_number.as_deref(), new.id_number.as_deref()) else {
        return false;
    };
    if old.name != new.name || old.facts.birth_date != new.facts.birth_date || a.len() != b.len() {
        return false;
    }
    let differ = a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count();
    (1..=2).contains(&differ)
}

impl NewEvent {
    fn new(person_key: String, kind: &str, on: NaiveDate) -> NewEvent {
        NewEvent {
            person_key,
            kind: kind.to_string(),
            on,
            note: None,
        }
    }
}

/// A person's first import is a baseline: it describes their state, so only the
/// dated facts become events, on their own dates (住院日期, 去世日期). A state such
/// as 困难 is not a change seen today and records nothing until a later import
/// changes it.
fn events_for_new(p: &Person, out: &mut Vec<NewEvent>) {
    let key = p.key().to_string();
    if let Some(d) = p.facts.hospitalised_since {
        out.push(NewEvent::new(key.clone(), event::HOSPITALISED, d));
    }
    if let Some(d) = p.facts.deceased_on {
        out.push(NewEvent::new(key, event::DECEASED, d));
    }
}

fn events_for_change(old: &Person, new: &Person, today: NaiveDate, out: &mut Vec<NewEvent>) {
    let key = new.key().to_string();
    match (old.facts.hospitalised_since, new.facts.hospitalised_since) {
        (None, Some(d)) => out.push(NewEvent::new(key.clone(), event::HOSPITALISED, d)),
        (Some(_), None) => out.push(NewEvent::new(key.clone(), event::DISCHARGED, today)),
        (Some(a), Some(b)) if a != b => {
            // A new stay: the old one ended, a new one began.
            out.push(NewEvent::new(key.clone(), event::DISCHARGED, b.min(today)));
            out.push(NewEvent::new(key.clone(), event::HOSPITALISED, b));
        }
        _ => {}
    }
    match (old.facts.deceased_on, new.facts.deceased_on) {
        (None, Some(d)) => out.push(NewEvent::new(key.clone(), event::DECEASED, d)),
        (Some(a), Some(b)) if a != b => out.push(NewEvent::new(key.clone(), event::DECEASED, b)),
        _ => {}
    }
    match (old.facts.hardship, new.facts.hardship) {
        (false, true) => out.push(NewEvent::new(key, event::HARDSHIP, today)),
        (true, false) => out.push(NewEvent::new(key, event::HARDSHIP_CLEARED, today)),
        _ => {}
    }
}
