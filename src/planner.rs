//! The planner: occasions → reminder stages, each with a unique key.
//!
//! A stage is one reminder to one recipient on one day: a `remind` stage for each of
//! the rule's `remind_before` days (or the occasion's own `remind_on` days), and an
//! `escalate` stage to each assigned staff member's supervisor. Non-urgent remind
//! days move back to the previous working day and escalation days forward to the
//! next; urgent rules' days never move. Keys are built from (rule, internal person id,
//! occasion date, sub-key, stage, recipient), so re-planning is idempotent.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::ledger::OccasionTerms;
use crate::roster::Staff;
use crate::roster::{Document, PlanRow, RosterSnapshot, StaffRecord};
use crate::rules::{
    Interner, Memo, Occasion, OccasionCache, PersonData, Rule, RuleSet, RunError, SharedDocuments,
};

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

    pub fn parse(s: &str) -> Option<StageKind> {
        match s {
            "remind" => Some(StageKind::Remind),
            "escalate" => Some(StageKind::Escalate),
            _ => None,
        }
    }
}

/// Where a stored reminder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReminderStatus {
    /// Waiting for its day, or for a delivery to succeed.
    Planned,
    Sent,
    /// Acknowledged, satisfied, made moot (a death, a reassignment) or replaced.
    Cancelled,
    /// Its day passed while the daemon was down for longer than `catch_up_days`.
    Missed,
    /// Every channel that could reach the recipient failed.
    Failed,
}

impl ReminderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderStatus::Planned => "planned",
            ReminderStatus::Sent => "sent",
            ReminderStatus::Cancelled => "cancelled",
            ReminderStatus::Missed => "missed",
            ReminderStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ReminderStatus> {
        Some(match s {
            "planned" => ReminderStatus::Planned,
            "sent" => ReminderStatus::Sent,
            "cancelled" => ReminderStatus::Cancelled,
            "missed" => ReminderStatus::Missed,
            "failed" => ReminderStatus::Failed,
            _ => return None,
        })
    }
}

/// One reminder stage for one recipient: the one record the planner makes, the store
/// keeps (as a `store::StoredReminder` with its id and status) and the dispatcher
/// sends. What its occasion, person and rule give is
/// shared (`Arc`) between the occasion's stages: a full year for a large roster is
/// tens of millions of stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    /// Unique key of this stage and recipient.
    pub key: String,
    /// Key of the occasion (rule, person, date, sub-key).
    pub occasion_key: Arc<str>,
    /// Short reference printed in digests for `qinqing ack`.
    pub reference: Arc<str>,
    pub rule: Arc<str>,
    pub person_id: i64,
    /// 身份证号, or 编号 when there is none.
    pub person: Arc<str>,
    pub person_name: Arc<str>,
    pub occasion_on: NaiveDate,
    pub sub_key: Arc<str>,
    pub stage: StageKind,
    /// Days before the occasion for `remind` (as the rule says, before any move to a
    /// working day); None for `escalate`.
    pub lead_days: Option<i64>,
    pub remind_on: NaiveDate,
    /// 工号 of who receives this stage.
    pub recipient: String,
    pub title: Arc<str>,
    pub kind: Arc<str>,
    pub urgent: bool,
    pub satisfied_by: Arc<[String]>,
    pub window: Option<(NaiveDate, NaiveDate)>,
    pub channels: Arc<[String]>,
    /// The rule's reminders go out after the person's death (the condolence visit);
    /// every other reminder is cancelled by a death.
    pub after_death: bool,
}

impl Reminder {
    /// What decides whether recorded work closed this reminder's occasion.
    pub fn terms(&self) -> OccasionTerms<'_> {
        OccasionTerms {
            occasion_key: &self.occasion_key,
            person_id: self.person_id,
            occasion_on: self.occasion_on,
            satisfied_by: &self.satisfied_by,
            window: self.window,
        }
    }
}

/// The roster prepared for rule evaluation.
pub struct Roster {
    pub persons: Vec<Arc<PersonData>>,
    pub versions: Vec<i64>,
    pub staff: HashMap<String, Staff>,
    pub documents_version: u64,
}

impl Roster {
    /// Active persons only; inactive ones are not covered by any rule. (The tick and
    /// `preview` stream the roster instead: `Store::plan_rows` into [`RosterBuilder`].)
    pub fn from_snapshot(s: &RosterSnapshot, documents: Vec<Document>) -> Roster {
        let mut events =
            events_by_person(s.events.iter().map(|e| (e.person_id, e.kind.clone(), e.on)));
        let persons: Vec<PlanRow> = s
            .persons
            .iter()
            .filter(|sp| sp.active)
            .map(|sp| {
                let evs = events.remove(&sp.id).unwrap_or_default();
                PlanRow {
                    id: sp.id,
                    version: sp.version,
                    person: sp.person.clone(),
                    events: evs,
                }
            })
            .collect();
        Roster::from_rows(persons.into_par_iter(), &s.staff, documents)
    }

    /// From active persons as they come (id, version, person, events in date order):
    /// each is cut down to what planning needs as it arrives, so a caller streaming
    /// rows never holds every full person at once.
    pub fn from_rows(
        persons: impl ParallelIterator<Item = PlanRow>,
        staff: &[StaffRecord],
        documents: Vec<Document>,
    ) -> Roster {
        let mut b = RosterBuilder::new(documents);
        b.add(persons);
        b.finish(staff)
    }
}

/// Builds a [`Roster`] from batches of rows (see `Store::plan_rows`).
pub struct RosterBuilder {
    documents: SharedDocuments,
    documents_version: u64,
    persons: Vec<Arc<PersonData>>,
    versions: Vec<i64>,
}

impl RosterBuilder {
    pub fn new(documents: Vec<Document>) -> RosterBuilder {
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
        RosterBuilder {
            documents_version: h.finish(),
            documents: SharedDocuments::new(Arc::new(documents)),
            persons: Vec::new(),
            versions: Vec::new(),
        }
    }

    /// Adds active persons, cut down to what planning needs, in parallel.
    pub fn add(&mut self, persons: impl ParallelIterator<Item = PlanRow>) {
        let documents = &self.documents;
        // Each rayon job interns the words it meets (communities, staff numbers…).
        let built: Vec<(Arc<PersonData>, i64)> = persons
            .map_init(Interner::default, |words, row| {
                let PlanRow {
                    id,
                    version,
                    person,
                    events,
                } = row;
                let p = PersonData::interning(id, person, true, events, documents, words);
                (Arc::new(p), version)
            })
            .collect();
        self.persons.reserve(built.len());
        self.versions.reserve(built.len());
        for (p, v) in built {
            self.persons.push(p);
            self.versions.push(v);
        }
    }

    pub fn finish(self, staff: &[StaffRecord]) -> Roster {
        let staff = staff
            .iter()
            .map(|st| (st.staff.number.clone(), st.staff.clone()))
            .collect();
        Roster {
            persons: self.persons,
            versions: self.versions,
            staff,
            documents_version: self.documents_version,
        }
    }
}

fn events_by_person(
    events: impl Iterator<Item = (i64, String, NaiveDate)>,
) -> HashMap<i64, Vec<(String, NaiveDate)>> {
    let mut by_person: HashMap<i64, Vec<(String, NaiveDate)>> = HashMap::new();
    for (id, kind, on) in events {
        by_person.entry(id).or_default().push((kind, on));
    }
    by_person
}

/// FNV-1a: stable across Rust versions and processes, unlike `DefaultHasher`, so
/// it can name things that are stored (references, idempotency keys).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

/// A short, stable reference for an occasion: 6 characters, no look-alikes.
pub fn reference(occasion_key: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let h = stable_hash(occasion_key.as_bytes());
    (0..6)
        .map(|i| ALPHABET[((h >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// (index in `roster.persons`, index in `rules.rules`, that rule's occasions for that
/// person), as [`occasions`] returns them.
pub type PlannedOccasions = Vec<(usize, usize, Arc<Vec<Occasion>>)>;

/// Evaluates every rule for every active person for each year in `years`, using and
/// filling `cache`. Script errors are returned, never fatal. Each item is (index in
/// `roster.persons`, index in `rules.rules`, occasions); lists with no occasion are
/// left out.
pub fn occasions(
    rules: &RuleSet,
    roster: &Roster,
    years: RangeInclusive<i32>,
    cache: &mut OccasionCache,
) -> (PlannedOccasions, Vec<RunError>) {
    let years: Vec<i32> = years.collect();
    let hashes: Vec<u64> = rules.rules.iter().map(|r| r.hash).collect();
    cache.prepare_memos(&hashes, roster.documents_version, &years);
    let cache_ro: &OccasionCache = cache;
    // memos[rule][year]
    let memos: Vec<Vec<Arc<std::sync::RwLock<Memo>>>> = rules
        .rules
        .iter()
        .map(|r| {
            years
                .iter()
                .map(|&y| {
                    cache_ro
                        .memo(r.hash, roster.documents_version, y)
                        .expect("memo prepared above")
                })
                .collect()
        })
        .collect();
    // Every empty result shares one allocation (most (person, rule) pairs have none).
    let empty = cache.empty();
    let slots: Vec<(u64, i32)> = rules
        .rules
        .iter()
        .flat_map(|r| years.iter().map(move |&y| (r.hash, y)))
        .collect();
    let layout = cache.layout(&slots);
    /// What one person's evaluations give: a non-empty list of occasions, their new
    /// cache entries when anything was computed afresh, or a script error.
    enum Out {
        List(u32, u16, Arc<Vec<Occasion>>),
        Cache(u32, Vec<Option<Arc<Vec<Occasion>>>>),
        Error(Box<RunError>),
    }
    let mut result = Vec::new();
    let mut errors = Vec::new();
    // In slices of the roster, so what is in flight stays small.
    for start in (0..roster.persons.len()).step_by(1 << 16) {
        let end = (start + (1 << 16)).min(roster.persons.len());
        let cache_ro: &OccasionCache = cache;
        let computed: Vec<Out> = roster.persons[start..end]
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, person)| {
                let pi = start + i;
                let mut out: Vec<Out> = Vec::new();
                if person.person.staff.is_empty() {
                    return out;
                }
                let version = roster.versions[pi];
                let cached = cache_ro.person(person.internal_id);
                let mut results = Vec::with_capacity(slots.len());
                let mut fresh = false;
                for (ri, rule) in rules.rules.iter().enumerate() {
                    for (yi, &year) in years.iter().enumerate() {
                        let v = match cache_ro.get(
                            cached,
                            rule.hash,
                            version,
                            roster.documents_version,
                            year,
                        ) {
                            Some(v) => v,
                            None => {
                                fresh = true;
                                let memo = &memos[ri][yi];
                                let hit = memo.read().ok().and_then(|m| m.lookup(person));
                                match hit {
                                    Some(v) => v,
                                    None => match rules.eval_traced(rule, person, year) {
                                        (Ok(v), trace) => {
                                            let v = if v.is_empty() {
                                                empty.clone()
                                            } else {
                                                Arc::new(v)
                                            };
                                            let steps = Memo::steps(trace);
                                            if let Ok(mut m) = memo.write() {
                                                m.insert_steps(steps, v.clone());
                                            }
                                            v
                                        }
                                        (Err(e), _) => {
                                            out.push(Out::Error(Box::new(e)));
                                            results.push(None);
                                            continue;
                                        }
                                    },
                                }
                            }
                        };
                        if !v.is_empty() {
                            out.push(Out::List(pi as u32, ri as u16, v.clone()));
                        }
                        results.push(Some(v));
                    }
                }
                if fresh {
                    out.push(Out::Cache(pi as u32, results));
                }
                out
            })
            .collect();
        for o in computed {
            match o {
                Out::List(pi, ri, v) => result.push((pi as usize, ri as usize, v)),
                Out::Cache(pi, results) => {
                    let p = &roster.persons[pi as usize];
                    cache.set_person(
                        p.internal_id,
                        roster.versions[pi as usize],
                        roster.documents_version,
                        &layout,
                        &results,
                    );
                }
                Out::Error(e) => errors.push(*e),
            }
        }
    }
    // Persons who left the roster (or lost their staff member) leave the cache.
    let planned = || roster.persons.iter().filter(|p| !p.person.staff.is_empty());
    if cache.persons_len() > planned().count() {
        let ids: std::collections::HashSet<i64> = planned().map(|p| p.internal_id).collect();
        cache.retain_persons(|id| ids.contains(&id));
    }
    (result, errors)
}

/// Expands occasions into stages.
pub fn stages(
    rules: &RuleSet,
    roster: &Roster,
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
    roster: &Roster,
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

/// The title staff read: the person's name, then the occasion's title ("张三 90岁寿辰"),
/// unless the rule already put the name in it.
pub fn titled(name: &str, title: &str) -> String {
    if name.is_empty() || title.contains(name) {
        title.to_string()
    } else {
        format!("{name} {title}")
    }
}

/// Years whose occasions can have stages in [from, to].
pub fn years_for(from: NaiveDate, to: NaiveDate) -> RangeInclusive<i32> {
    use chrono::Datelike;
    (from.year() - 1)..=(to.year() + 1)
}

/// Sort order for output: by day, then recipient, then the rest for stability.
pub fn sort(stages: &mut [Reminder]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::{Category, Person, Rank, SelfCare};
    use crate::roster::{PersonEvent, PersonRecord, StaffRecord};
    use std::collections::HashSet;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn person(id: i64, birth: &str, staff: &[&str]) -> PersonRecord {
        PersonRecord {
            id,
            active: true,
            version: 1,
            person: Person {
                number: Some(format!("P{id}")),
                name: format!("测试{id}"),
                sex: None,
                id_number: None,
                birth_date: d(birth),
                lunar_birthday: false,
                lunar_birth_date: None,
                category: Category::Lixiu,
                rank: Rank::Division,
                former_unit: None,
                phone: None,
                family_phone: None,
                address: None,
                community: None,
                party_branch: Some("第一党支部".into()),
                health: None,
                self_care: SelfCare::Full,
                lives_alone: false,
                empty_nest: false,
                widowed: false,
                hardship: false,
                hospitalised_since: None,
                deceased_on: None,
                staff: staff.iter().map(|s| s.to_string()).collect(),
                tags: vec![],
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
                mobile: None,
                email: None,
                wecom: None,
                dingtalk: None,
                feishu: None,
                supervisor: boss.map(Into::into),
                role: None,
                channels: vec![],
            },
        }
    }

    fn plan(snapshot: &RosterSnapshot, from: &str, to: &str) -> Vec<Reminder> {
        let rules = RuleSet::builtin(WorkCalendar::builtin());
        assert!(rules.errors.is_empty(), "{:?}", rules.errors);
        let roster = Roster::from_snapshot(snapshot, vec![]);
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
        let roster = Roster::from_snapshot(&s, vec![]);
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
        p.person.deceased_on = Some(d("2026-02-14"));
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
        let roster = Roster::from_snapshot(&s, vec![]);
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
            &Roster::from_snapshot(&two, vec![]),
            2026..=2026,
            &mut cache,
        );
        assert_eq!(cache.persons_len(), 2);
        assert_eq!(cache.len(), 2 * rules.rules.len());
        let one = snapshot(vec![person(2, "1946-05-01", &["S2"])]);
        occasions(
            &rules,
            &Roster::from_snapshot(&one, vec![]),
            2026..=2026,
            &mut cache,
        );
        assert_eq!(cache.persons_len(), 1);
        assert_eq!(cache.len(), rules.rules.len());
        assert!(cache.person(1).is_none());
    }
}
