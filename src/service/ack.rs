//! Acknowledging a reminder by the reference (提醒编号) printed in its message: the
//! occasion is recorded as done in the ledger and its later stages are cancelled.

use anyhow::{Result, bail};
use chrono::{DateTime, FixedOffset};

use crate::ledger::NewContact;
use crate::store::{Store, StoredReminder};

/// What `ack` was asked.
#[derive(Debug, Clone)]
pub struct AckRequest {
    pub reference: String,
    /// 工号 of who did the work; default: the reminder's recipient.
    pub by: Option<String>,
    /// The day the work was done; default: today. Never in the future.
    pub on: Option<chrono::NaiveDate>,
    /// call, visit or deliver; default: what the reminder asked for.
    pub kind: Option<&'static str>,
    /// 身份证号 or 编号 the occasion must belong to (`contact add --ref`).
    pub person: Option<String>,
    pub note: Option<String>,
}

/// What `ack` did.
#[derive(Debug, Clone)]
pub struct AckOutcome {
    pub reference: String,
    pub title: String,
    /// The contact kind recorded: call, visit or deliver.
    pub contact_kind: &'static str,
    pub on: chrono::NaiveDate,
    /// None: the occasion was already acknowledged, and nothing was recorded.
    pub cancelled: Option<usize>,
    /// The acknowledgement that was there first, when nothing was recorded.
    pub already: Option<crate::ledger::Contact>,
}

/// Records the acknowledgement at `now` and cancels the occasion's planned stages.
pub async fn ack(
    store: &Store,
    req: &AckRequest,
    now: DateTime<FixedOffset>,
) -> Result<AckOutcome> {
    let reference = req.reference.trim().to_uppercase();
    let stages = store.reminders_by_reference(&reference).await?;
    if stages.is_empty() {
        bail!("no reminder with reference {reference}; check the 编号 in the message");
    }
    if let Some(by) = &req.by
        && !store.staff_numbers().await?.iter().any(|s| s == by)
    {
        bail!("--by: no staff member with 工号 {by}");
    }
    let key = pick_occasion(&reference, &stages, req.by.as_deref())?;
    let first = &stages
        .iter()
        .find(|s| *s.reminder.occasion_key == *key)
        .expect("a stage of the chosen occasion")
        .reminder;
    let contact_kind = req.kind.unwrap_or_else(|| contact_kind(&first.kind));
    let today = now.date_naive();
    let on = req.on.unwrap_or(today);
    if on > today {
        bail!("--on {on} is in the future (today is {today})");
    }
    if let Some(person) = &req.person {
        let id = store.person_id(person).await?;
        if id != Some(first.person_id) {
            bail!(
                "--ref {reference} is {} ({}), not --person {}",
                first.title,
                first.occasion_on,
                crate::mask::id_number(person)
            );
        }
    }
    let by = req.by.clone().unwrap_or_else(|| first.recipient.clone());
    let cancelled = record_done(
        store,
        &stages,
        &key,
        Done {
            by: &by,
            on,
            kind: contact_kind,
            note: req.note.clone(),
        },
        now,
    )
    .await?;
    let already = match cancelled {
        Some(_) => None,
        None => store
            .acknowledgements(std::slice::from_ref(&key))
            .await?
            .into_iter()
            .filter(|c| c.entry.outcome == crate::ledger::Outcome::Done)
            .min_by_key(|c| c.id),
    };
    Ok(AckOutcome {
        reference,
        title: first.title.to_string(),
        contact_kind,
        on,
        cancelled,
        already,
    })
}

/// The contact kind that does a reminder of `kind`'s work: call, deliver or visit.
pub fn contact_kind(kind: &str) -> &'static str {
    match kind {
        "call" => "call",
        "deliver" => "deliver",
        _ => "visit",
    }
}

/// Work done for an occasion: by whom, on which day, of which kind.
pub struct Done<'a> {
    pub by: &'a str,
    pub on: chrono::NaiveDate,
    pub kind: &'static str,
    pub note: Option<String>,
}

/// Records `done` as the acknowledgement of occasion `key` (whose stored stages are
/// `stages`) and cancels its stages still planned; returns how many it cancelled,
/// or None when the occasion was already acknowledged (nothing is recorded: the
/// store keeps one acknowledgement per occasion, whoever answers at the same time).
/// `qinqing ack` and the acknowledgement page both record through here.
pub async fn record_done(
    store: &Store,
    stages: &[StoredReminder],
    key: &str,
    done: Done<'_>,
    now: DateTime<FixedOffset>,
) -> Result<Option<usize>> {
    let first = &stages
        .iter()
        .find(|s| *s.reminder.occasion_key == *key)
        .expect("a stage of the occasion")
        .reminder;
    let recorded = store
        .add_contact(
            &NewContact {
                person_id: first.person_id,
                staff_number: Some(done.by.to_string()),
                on: done.on,
                kind: done.kind.into(),
                note: done.note,
                reference: Some(key.to_string()),
                outcome: crate::ledger::Outcome::Done,
            },
            now,
        )
        .await?;
    if recorded.is_none() {
        return Ok(None);
    }
    let open: Vec<i64> = stages
        .iter()
        .filter(|s| {
            *s.reminder.occasion_key == *key && s.status == crate::planner::ReminderStatus::Planned
        })
        .map(|s| s.id)
        .collect();
    store.cancel_reminders(&open, "acknowledged", now).await?;
    Ok(Some(open.len()))
}

/// A 6-character reference can, rarely, name two occasions: prefer the one sent to
/// `by`, then the ones still open; refuse to guess beyond that.
fn pick_occasion(reference: &str, stages: &[StoredReminder], by: Option<&str>) -> Result<String> {
    let keys_where = |pred: &dyn Fn(&StoredReminder) -> bool| -> Vec<String> {
        let mut k: Vec<String> = stages
            .iter()
            .filter(|s| pred(s))
            .map(|s| s.reminder.occasion_key.to_string())
            .collect();
        k.sort();
        k.dedup();
        k
    };
    let mut left = keys_where(&|_| true);
    if left.len() > 1
        && let Some(by) = by
    {
        let k = keys_where(&|s| s.reminder.recipient == by);
        if !k.is_empty() {
            left = k;
        }
    }
    if left.len() > 1 {
        let k = keys_where(&|s| {
            left.iter().any(|l| **l == *s.reminder.occasion_key)
                && s.status == crate::planner::ReminderStatus::Planned
        });
        if !k.is_empty() {
            left = k;
        }
    }
    if left.len() > 1 {
        let list: Vec<String> = stages
            .iter()
            .map(|s| &s.reminder)
            .filter(|r| left.iter().any(|l| **l == *r.occasion_key))
            .map(|r| format!("{} {} → {}", r.occasion_on, r.title, r.recipient))
            .collect();
        bail!(
            "reference {reference} names {} occasions; add --by 工号 to say whose:\n  {}",
            left.len(),
            list.join("\n  ")
        );
    }
    Ok(left.remove(0))
}
