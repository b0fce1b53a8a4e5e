//! Answering a reminder from its acknowledgement link: what the page shows (the
//! elder, the occasion, what was already recorded) and recording the answer. A done
//! outcome acknowledges the occasion through the same path as `qinqing ack`;
//! `not_done` records the attempt and its reason and leaves the occasion open.

use anyhow::Result;
use chrono::{DateTime, FixedOffset, NaiveDate};

use super::ack::{self, Done};
use crate::calendar::WorkCalendar;
use crate::ledger::{Contact, NewContact, Outcome};
use crate::links::Link;
use crate::planner::{self, Reminder, StageKind};
use crate::store::{PersonBrief, Store, StoredReminder};

/// How many days back a visit may be entered late.
pub const MAX_DAYS_BACK: i64 = 30;

/// What the staff member answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Visited,
    Called,
    Delivered,
    NotDone,
}

impl Answer {
    /// The form values: `visited`, `called`, `delivered`, `not_done`.
    pub fn parse(s: &str) -> Option<Answer> {
        Some(match s {
            "visited" => Answer::Visited,
            "called" => Answer::Called,
            "delivered" => Answer::Delivered,
            "not_done" => Answer::NotDone,
            _ => return None,
        })
    }

    /// The button text.
    pub fn label(self) -> &'static str {
        match self {
            Answer::Visited => "已走访",
            Answer::Called => "已电话联系",
            Answer::Delivered => "已送达",
            Answer::NotDone => "未能完成",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Visited => "visited",
            Answer::Called => "called",
            Answer::Delivered => "delivered",
            Answer::NotDone => "not_done",
        }
    }

    pub const ALL: [Answer; 4] = [
        Answer::Visited,
        Answer::Called,
        Answer::Delivered,
        Answer::NotDone,
    ];

    fn contact_kind(self, occasion_kind: &str) -> &'static str {
        match self {
            Answer::Visited => "visit",
            Answer::Called => "call",
            Answer::Delivered => "deliver",
            Answer::NotDone => ack::contact_kind(occasion_kind),
        }
    }
}

/// One occasion as the pages show it.
#[derive(Debug, Clone)]
pub struct OccasionView {
    pub key: String,
    pub reference: String,
    pub rule: String,
    pub title: String,
    pub kind: String,
    pub occasion_on: NaiveDate,
    pub due_on: NaiveDate,
    pub urgent: bool,
    /// 工号 of the assigned staff member.
    pub staff: String,
    pub person: PersonBrief,
}

impl OccasionView {
    pub fn from_reminder(
        r: &Reminder,
        person: PersonBrief,
        calendar: &WorkCalendar,
    ) -> OccasionView {
        OccasionView {
            key: r.occasion_key.to_string(),
            reference: r.reference.to_string(),
            rule: r.rule.to_string(),
            title: r.title.to_string(),
            kind: r.kind.to_string(),
            occasion_on: r.occasion_on,
            due_on: r.due_on(calendar),
            urgent: r.urgent,
            staff: r.recipient.clone(),
            person,
        }
    }
}

/// The acknowledgement page's content.
#[derive(Debug, Clone)]
pub struct AckPage {
    pub occasion: OccasionView,
    /// The first done contact that acknowledged the occasion, if any.
    pub done: Option<Contact>,
    /// Attempts recorded as not done.
    pub attempts: Vec<Contact>,
}

/// What a POST did.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// A new acknowledgement.
    Done(Contact),
    /// An attempt not done; the occasion stays open.
    Attempt(Contact),
    /// The occasion was already acknowledged: nothing recorded.
    Already(Contact),
}

/// Why an answer was refused (shown on the page, in Chinese).
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    #[error("日期不能晚于今天({0})。")]
    Future(NaiveDate),
    #[error("日期最早可补录到{MAX_DAYS_BACK}天前({0})。")]
    TooOld(NaiveDate),
    #[error("选择“未能完成”时请填写原因,例如“老同志外出”。")]
    ReasonMissing,
    #[error("这条提醒已不存在。")]
    Gone,
}

/// The stored stages of the link's occasion.
async fn occasion_stages(store: &Store, key: &str) -> Result<Vec<StoredReminder>> {
    let mut stages = store
        .reminders_by_reference(&planner::reference(key))
        .await?;
    stages.retain(|s| *s.reminder.occasion_key == *key);
    Ok(stages)
}

/// Whose answer for which occasion: from an acknowledgement link, or from a
/// worklist link and a reference on that list.
#[derive(Debug, Clone)]
pub struct Target {
    /// 工号 of the staff member answering.
    pub staff: String,
    pub occasion_key: String,
}

impl Target {
    pub fn of_link(link: &Link) -> Option<Target> {
        Some(Target {
            staff: link.link.staff_number.clone(),
            occasion_key: link.link.occasion_key.clone()?,
        })
    }

    /// The occasion with this reference (提醒编号) reminded to `staff`, if any.
    pub async fn by_reference(
        store: &Store,
        staff: &str,
        reference: &str,
        today: chrono::NaiveDate,
    ) -> Result<Option<Target>> {
        let stages = store.reminders_by_reference(reference).await?;
        // Also an occasion of a colleague this staff member covers for today.
        let delegations = store.delegations_from(today).await?;
        Ok(stages
            .iter()
            .find(|s| {
                s.reminder.recipient == staff
                    || crate::ledger::cover::covering(&s.reminder.recipient, today, &delegations)
                        == staff
            })
            .map(|s| Target {
                staff: staff.to_string(),
                occasion_key: s.reminder.occasion_key.to_string(),
            }))
    }
}

/// The page for an occasion; None when it is gone.
pub async fn page(
    store: &Store,
    calendar: &WorkCalendar,
    target: &Target,
) -> Result<Option<AckPage>> {
    let key = target.occasion_key.as_str();
    let stages = occasion_stages(store, key).await?;
    let Some(first) = stages
        .iter()
        .find(|s| s.reminder.stage == StageKind::Remind)
        .or(stages.first())
    else {
        return Ok(None);
    };
    let r = &first.reminder;
    let mut persons = store.persons_brief(&[r.person_id]).await?;
    let Some(person) = persons.remove(&r.person_id) else {
        return Ok(None);
    };
    let mut view = OccasionView::from_reminder(r, person, calendar);
    view.staff = target.staff.clone();
    let contacts = store.acknowledgements(&[key.to_string()]).await?;
    let (done, attempts): (Vec<Contact>, Vec<Contact>) = contacts
        .into_iter()
        .partition(|c| c.entry.outcome == Outcome::Done);
    Ok(Some(AckPage {
        occasion: view,
        done: done.into_iter().min_by_key(|c| (c.entry.on, c.id)),
        attempts,
    }))
}

/// Records `answer` for the link's occasion, done on `on`, at `now`.
pub async fn record(
    store: &Store,
    target: &Target,
    answer: Answer,
    on: NaiveDate,
    note: Option<String>,
    now: DateTime<FixedOffset>,
) -> Result<std::result::Result<Recorded, Refused>> {
    let today = now.date_naive();
    if on > today {
        return Ok(Err(Refused::Future(today)));
    }
    let earliest = today - chrono::Duration::days(MAX_DAYS_BACK);
    if on < earliest {
        return Ok(Err(Refused::TooOld(earliest)));
    }
    let note = note
        .map(|n| n.trim().chars().take(500).collect::<String>())
        .filter(|n| !n.is_empty());
    if answer == Answer::NotDone && note.is_none() {
        return Ok(Err(Refused::ReasonMissing));
    }
    let key = target.occasion_key.as_str();
    let stages = occasion_stages(store, key).await?;
    let Some(first) = stages.first().map(|s| s.reminder.clone()) else {
        return Ok(Err(Refused::Gone));
    };
    let existing = store.acknowledgements(&[key.to_string()]).await?;
    if let Some(done) = existing
        .into_iter()
        .filter(|c| c.entry.outcome == Outcome::Done)
        .min_by_key(|c| (c.entry.on, c.id))
    {
        return Ok(Ok(Recorded::Already(done)));
    }
    let by = target.staff.as_str();
    let kind = answer.contact_kind(&first.kind);
    if answer == Answer::NotDone {
        store
            .add_contact(
                &NewContact {
                    person_id: first.person_id,
                    staff_number: Some(by.to_string()),
                    on,
                    kind: kind.into(),
                    note,
                    reference: Some(key.to_string()),
                    outcome: Outcome::NotDone,
                },
                now,
            )
            .await?;
    } else if ack::record_done(store, &stages, key, Done { by, on, kind, note }, now)
        .await?
        .is_none()
    {
        // Another answer won the race: show that one.
        let done = store
            .acknowledgements(&[key.to_string()])
            .await?
            .into_iter()
            .filter(|c| c.entry.outcome == Outcome::Done)
            .min_by_key(|c| c.id)
            .expect("the acknowledgement that was first");
        return Ok(Ok(Recorded::Already(done)));
    }
    let recorded = store
        .acknowledgements(&[key.to_string()])
        .await?
        .into_iter()
        .max_by_key(|c| c.id)
        .expect("the contact just recorded");
    Ok(Ok(if answer == Answer::NotDone {
        Recorded::Attempt(recorded)
    } else {
        Recorded::Done(recorded)
    }))
}
