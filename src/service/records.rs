//! Recording what staff report: documents to deliver (三必须) and contacts (calls,
//! visits, deliveries) in the ledger, and listing the ledger's contacts. Each checks
//! what it refers to before writing.

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::ledger::NewContact;
use crate::roster::NewDocument;
use crate::store::Store;

/// Registers a document; returns its id.
pub async fn add_document(
    store: &Store,
    doc: &NewDocument,
    now: DateTime<FixedOffset>,
) -> Result<i64> {
    if doc.audience.is_empty() {
        bail!("--audience is empty; give categories such as 离休,退休");
    }
    if doc.deadline < doc.issued_on {
        bail!(
            "--deadline {} is before --issued {}",
            doc.deadline,
            doc.issued_on
        );
    }
    Ok(store.add_document(doc, now).await?)
}

/// A contact to record, as staff report it.
#[derive(Debug, Clone)]
pub struct ContactReport {
    /// 身份证号 or 编号.
    pub person: String,
    /// 工号.
    pub staff: String,
    /// call, visit or deliver.
    pub kind: &'static str,
    pub on: NaiveDate,
    pub note: Option<String>,
    /// 提醒编号 of the occasion an attempt was for (a done contact with a reference
    /// goes through `ack`).
    pub reference: Option<String>,
    pub outcome: crate::ledger::Outcome,
}

/// Records a call or visit in the ledger, or an attempt that failed (`not_done`,
/// with its reason in the note), for an occasion or not. Never in the future.
pub async fn add_contact(
    store: &Store,
    c: &ContactReport,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    let person_id = store.person_id(&c.person).await?.with_context(|| {
        format!(
            "--person: no person with 身份证号 or 编号 {}",
            crate::mask::id_number(&c.person)
        )
    })?;
    if !store.staff_numbers().await?.contains(&c.staff) {
        bail!("--staff: no staff member with 工号 {}", c.staff);
    }
    if c.on > now.date_naive() {
        bail!(
            "--on {}: the day the work was done cannot be in the future",
            c.on
        );
    }
    let not_done = c.outcome == crate::ledger::Outcome::NotDone;
    if not_done && c.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        bail!("--outcome not_done 需要 --note 写明原因, 例如 --note 家中无人 (give the reason)");
    }
    let occasion_key = match &c.reference {
        Some(r) => {
            let stages = store.reminders_by_reference(r).await?;
            let Some(first) = stages.first() else {
                bail!("--ref {r}: 没有这个提醒编号 (no such reference)");
            };
            if first.reminder.person_id != person_id {
                bail!("--ref {r} is an occasion of another person, not of --person");
            }
            Some(first.reminder.occasion_key.to_string())
        }
        None => None,
    };
    store
        .add_contact(
            &NewContact {
                person_id,
                staff_number: Some(c.staff.clone()),
                on: c.on,
                kind: c.kind.into(),
                note: c.note.clone(),
                reference: occasion_key,
                outcome: c.outcome,
            },
            now,
        )
        .await?;
    Ok(())
}

/// What [`record_contact`] did.
pub enum ContactRecorded {
    /// A done contact for an occasion: its acknowledgement (or why nothing was recorded).
    Acknowledged(Box<super::ack::AckOutcome>),
    /// An unscheduled contact, or an attempt that was not done.
    Logged,
}

/// Records what staff report (`contact add`, `POST /api/v1/contacts`): a done
/// contact for an occasion acknowledges it, as `ack` does; anything else is logged.
pub async fn record_contact(
    store: &Store,
    c: &ContactReport,
    now: DateTime<FixedOffset>,
) -> Result<ContactRecorded> {
    match &c.reference {
        Some(reference) if c.outcome == crate::ledger::Outcome::Done => {
            let req = super::ack::AckRequest {
                reference: reference.clone(),
                by: Some(c.staff.clone()),
                on: Some(c.on),
                kind: Some(c.kind),
                person: Some(c.person.clone()),
                note: c.note.clone(),
            };
            Ok(ContactRecorded::Acknowledged(Box::new(
                super::ack::ack(store, &req, now).await?,
            )))
        }
        _ => {
            add_contact(store, c, now).await?;
            Ok(ContactRecorded::Logged)
        }
    }
}

/// Which contacts `contact list` shows.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    /// 身份证号 or 编号.
    pub person: Option<String>,
    /// 工号 of who did the work.
    pub staff: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One contact as the ledger lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContactLine {
    /// 编号, else the ID number (an administrator's listing).
    pub person: String,
    pub name: String,
    pub staff: Option<String>,
    pub kind: String,
    /// done or not_done.
    pub outcome: &'static str,
    /// The day the work was done.
    pub done_on: NaiveDate,
    /// When it was recorded (RFC 3339).
    pub entered_at: String,
    /// The occasion it answers; null for an unscheduled contact.
    pub rule: Option<String>,
    pub title: Option<String>,
    pub occasion_on: Option<NaiveDate>,
    /// Done on or before the occasion's deadline; null for an unscheduled contact.
    pub on_time: Option<bool>,
    pub note: Option<String>,
}

/// The contacts `filter` selects, by day done, with their persons and occasions.
pub async fn list_contacts(store: &Store, filter: &ContactFilter) -> Result<Vec<ContactLine>> {
    let person_id = match &filter.person {
        Some(p) => Some(store.person_id(p).await?.with_context(|| {
            format!(
                "--person: no person with 身份证号 or 编号 {}",
                crate::mask::id_number(p)
            )
        })?),
        None => None,
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        bail!("--to {to} is before --from {from}");
    }
    let contacts = store
        .contacts_where(person_id, filter.staff.as_deref(), filter.from, filter.to)
        .await?;
    let mut ids: Vec<i64> = contacts.iter().map(|c| c.entry.person_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let persons = store.persons_brief(&ids).await?;
    let keys: Vec<String> = contacts
        .iter()
        .filter_map(|c| c.entry.reference.clone())
        .collect();
    let occasions = store.occasions_by_key(&keys).await?;
    Ok(contacts
        .into_iter()
        .map(|c| {
            let p = persons.get(&c.entry.person_id);
            let occ = c.entry.reference.as_ref().and_then(|k| occasions.get(k));
            ContactLine {
                person: p
                    .map(|p| {
                        p.number
                            .clone()
                            .filter(|n| !n.is_empty())
                            .or(p.id_number.clone())
                    })
                    .unwrap_or_default()
                    .unwrap_or_default(),
                name: p.map(|p| p.name.clone()).unwrap_or_default(),
                staff: c.entry.staff_number.clone(),
                kind: c.entry.kind.clone(),
                outcome: c.entry.outcome.as_str(),
                done_on: c.entry.on,
                entered_at: c.recorded_at.clone(),
                rule: occ.map(|o| o.rule.to_string()),
                title: occ.map(|o| o.title.to_string()),
                occasion_on: occ.map(|o| o.occasion_on),
                on_time: occ
                    .filter(|_| c.entry.outcome == crate::ledger::Outcome::Done)
                    .map(|o| c.entry.on <= o.deadline()),
                note: c.entry.note.clone(),
            }
        })
        .collect())
}
