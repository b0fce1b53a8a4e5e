//! The reminder record: one stage of an occasion for one recipient, its kind and

//! stored status, its stable key and reference, its title and output order.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::ledger::OccasionTerms;

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

/// The part of a second-level escalation's stage key after the occasion key.
pub const SECOND_ESCALATION: &str = ":escalate2:";

/// The recipient of an escalation nobody can receive (no 上级 and no
/// `[escalation] fallback`): stored, never sent, shown by `status` as unrouted.
pub const UNROUTED: &str = "";

/// Where a stored reminder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReminderStatus {
    /// Waiting for its day, or for a delivery to succeed.
    Planned,
    Sent,
    /// Acknowledged, satisfied, made moot (a death, a reassignment) or replaced.
    Cancelled,
    /// Its day passed while nothing could send it, and its rule's catch-up policy
    /// says it is no longer worth sending.
    Missed,
    /// Every channel that could reach the recipient failed.
    Failed,
    /// An escalation whose occasion was never reminded (reason `not_reminded` in
    /// the note): not sent, and the occasion stays open.
    Unsent,
}

impl ReminderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderStatus::Planned => "planned",
            ReminderStatus::Sent => "sent",
            ReminderStatus::Cancelled => "cancelled",
            ReminderStatus::Missed => "missed",
            ReminderStatus::Failed => "failed",
            ReminderStatus::Unsent => "unsent",
        }
    }

    pub fn parse(s: &str) -> Option<ReminderStatus> {
        Some(match s {
            "planned" => ReminderStatus::Planned,
            "sent" => ReminderStatus::Sent,
            "cancelled" => ReminderStatus::Cancelled,
            "missed" => ReminderStatus::Missed,
            "failed" => ReminderStatus::Failed,
            "unsent" => ReminderStatus::Unsent,
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
    /// The occasion's sub-key (a document id; "" for most rules): the last part of
    /// `occasion_key`, which is `{rule}:{person_id}:{occasion_on}:{sub_key}`.
    pub fn sub_key(&self) -> &str {
        let head = format!("{}:{}:{}:", self.rule, self.person_id, self.occasion_on);
        self.occasion_key.strip_prefix(head.as_str()).unwrap_or("")
    }

    /// An escalation's level: 1 to the supervisor, 2 (`escalate_again_after`) to
    /// the supervisor's supervisor; None for a reminder. Read off the stage key.
    pub fn level(&self) -> Option<u8> {
        match self.stage {
            StageKind::Remind => None,
            StageKind::Escalate if self.key.contains(SECOND_ESCALATION) => Some(2),
            StageKind::Escalate => Some(1),
        }
    }

    /// The end of the occasion's window when it has one (the monthly call: the
    /// month's last day), else the occasion's date.
    pub fn deadline(&self) -> NaiveDate {
        self.window.map(|(_, end)| end).unwrap_or(self.occasion_on)
    }

    /// The day the work is due: the deadline for urgent rules, else the last working
    /// day on or before it (中秋 9月25日 is a holiday: due 9月24日).
    pub fn due_on(&self, calendar: &WorkCalendar) -> NaiveDate {
        if self.urgent {
            self.deadline()
        } else {
            calendar.workday_on_or_before(self.deadline())
        }
    }

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

/// FNV-1a: stable across Rust versions and processes, unlike `DefaultHasher`, so
/// it can name things that are stored (references, idempotency keys).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

/// A stage key as 128 bits, for sets of a tick's keys (a festival day at a province
/// is 742,000 of them; the keys themselves would take about 100 MiB). Two
/// independently seeded 64-bit hashes: a collision among a tick's keys is about as
/// likely as 1 in 10^26. Not stored, not stable across releases.
pub fn key_hash(key: &str) -> u128 {
    use std::hash::BuildHasher;
    let a = foldhash::quality::FixedState::with_seed(0x5151_0001).hash_one(key);
    let b = foldhash::quality::FixedState::with_seed(0x9e37_79b9).hash_one(key);
    (a as u128) << 64 | b as u128
}

/// A short, stable reference for an occasion: 6 characters, no look-alikes.
pub fn reference(occasion_key: &str) -> String {
    reference_code(occasion_key)
        .iter()
        .map(|&b| b as char)
        .collect()
}

/// [`reference`] as its 6 ASCII bytes, for writers that allocate nothing per line.
pub fn reference_code(occasion_key: &str) -> [u8; 6] {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let h = stable_hash(occasion_key.as_bytes());
    std::array::from_fn(|i| ALPHABET[((h >> (i * 5)) & 31) as usize])
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

/// The output order's key: by remind day, then recipient, then the rest for
/// stability (occasion day, rule, person, stage, lead).
pub type Order<'a> = (
    NaiveDate,
    &'a str,
    NaiveDate,
    &'a str,
    &'a str,
    StageKind,
    Option<i64>,
);

impl Reminder {
    /// Its key in the output order.
    pub fn order(&self) -> Order<'_> {
        (
            self.remind_on,
            &self.recipient,
            self.occasion_on,
            &self.rule,
            &self.person,
            self.stage,
            self.lead_days,
        )
    }
}

/// Sort order for output: [`Reminder::order`] (stable, so equal keys keep the
/// order they were made in).
pub fn sort(stages: &mut [Reminder]) {
    use rayon::slice::ParallelSliceMut;
    stages.par_sort_by(|a, b| a.order().cmp(&b.order()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_tell_a_tick_of_keys_apart() {
        let keys: Vec<String> = (0..200_000)
            .map(|i| format!("festival-visit:{i}:2026-09-25::remind7:S{:04}", i % 3030))
            .collect();
        let hashes: std::collections::HashSet<u128> = keys.iter().map(|k| key_hash(k)).collect();
        assert_eq!(hashes.len(), keys.len());
        assert_eq!(key_hash(&keys[7]), key_hash(&keys[7].clone()));
    }

    #[test]
    fn sub_key_is_the_tail_of_the_occasion_key() {
        let mut r = Reminder {
            key: "k".into(),
            occasion_key: "document-delivery:7:2026-09-18:12".into(),
            reference: "ABC234".into(),
            rule: "document-delivery".into(),
            person_id: 7,
            person: "P7".into(),
            person_name: "李某某".into(),
            occasion_on: "2026-09-18".parse().unwrap(),
            stage: StageKind::Remind,
            lead_days: Some(1),
            remind_on: "2026-09-17".parse().unwrap(),
            recipient: "S001".into(),
            title: "送文".into(),
            kind: "deliver".into(),
            urgent: false,
            satisfied_by: Vec::new().into(),
            window: None,
            channels: Vec::new().into(),
            after_death: false,
        };
        assert_eq!(r.sub_key(), "12");
        r.occasion_key = "monthly-call:7:2026-09-18:".into();
        r.rule = "monthly-call".into();
        assert_eq!(r.sub_key(), "");
        // A rule id or sub-key with ':' in it still splits right.
        r.occasion_key = "a:b:7:2026-09-18:x:y".into();
        r.rule = "a:b".into();
        assert_eq!(r.sub_key(), "x:y");
    }
}
