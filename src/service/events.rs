//! Recording what happened to a person (`event add`, `POST /api/v1/events`): 住院,
//! 出院, 去世, 困难, 反映问题. The event updates the person as a re-import showing
//! the same change would (see `roster::reconcile::event_effect`) and reaches the
//! rules as `p.events`; the caller plans at once (`plan::plan_now`) so an urgent
//! rule reminds the same day.

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::roster::reconcile::{RECORDABLE_EVENTS, event, event_effect};
use crate::store::Store;

/// An event as staff report it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct EventReport {
    /// 身份证号 or 编号.
    pub person: String,
    /// hospitalised, discharged, deceased, hardship or complaint.
    pub kind: String,
    pub on: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
}

/// What recording did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRecorded {
    /// 编号, else the masked ID number.
    pub person: String,
    pub name: String,
    pub kind: String,
    pub on: NaiveDate,
    /// False when the same event (person, kind, day) was already recorded.
    pub recorded: bool,
}

/// Checks and records an event; the day may not be in the future.
pub async fn record(
    store: &Store,
    e: &EventReport,
    now: DateTime<FixedOffset>,
) -> Result<EventRecorded> {
    let Some(effect) = event_effect(&e.kind, e.on) else {
        bail!(
            "--kind {}: 不是可以登记的事件, 请写 {} 之一 (unknown event kind)",
            e.kind,
            RECORDABLE_EVENTS.join("、")
        );
    };
    let today = now.date_naive();
    if e.on > today {
        bail!(
            "--on {}: 日期在今天({today})之后, 事件只能登记已经发生的 (an event cannot be in the future)",
            e.on
        );
    }
    let person_id = store.person_id(&e.person).await?.with_context(|| {
        format!(
            "--person: 没有身份证号或编号为 {} 的老同志 (no such person)",
            crate::mask::id_number(&e.person)
        )
    })?;
    let brief = store
        .persons_brief(&[person_id])
        .await?
        .remove(&person_id)
        .context("the person vanished while the event was recorded")?;
    if let Some(died) = brief.deceased_on
        && e.kind != event::DECEASED
        && e.on > died
    {
        bail!(
            "{} 已于 {died} 去世, 不能登记 {} 之后的{}事件 (the person died before this day)",
            brief.name,
            died,
            e.kind
        );
    }
    if e.kind == event::DISCHARGED {
        match brief.hospitalised_since {
            None => bail!(
                "{} 没有住院记录, 不能登记出院; 若已住院, 先登记 --kind hospitalised \
                 (not recorded as in hospital)",
                brief.name
            ),
            Some(since) if e.on < since => bail!(
                "--on {}: 出院日期早于住院日期 {since} (discharged before admitted)",
                e.on
            ),
            Some(_) => {}
        }
    }
    let recorded = store
        .record_person_event(person_id, &e.kind, e.on, e.note.as_deref(), effect, now)
        .await?;
    Ok(EventRecorded {
        person: brief.label(),
        name: brief.name,
        kind: e.kind.clone(),
        on: e.on,
        recorded,
    })
}
