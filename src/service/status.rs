//! What the daemon has done and what is stuck: the last tick, the outbox by status,
//! failing deliveries and the errors of the roster, staff and holiday files the
//! daemon follows (`qinqing status`, `/healthz`).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::import::ROSTER_ERRORS;
use super::plan;
use crate::store::{FailedDelivery, OutboxCounts, Store};

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub last_tick: Option<String>,
    pub last_tick_at: Option<String>,
    pub deliveries: OutboxCounts,
    pub reminders: BTreeMap<String, i64>,
    pub failures: Vec<FailedDelivery>,
    pub roster_errors: Vec<String>,
    /// Why the daemon's last re-read of `calendar.holidays` was refused (it keeps
    /// the last good calendar).
    pub calendar_errors: Vec<String>,
    /// Escalations with nobody to go to: their staff member has no 上级 and there
    /// is no `[escalation] fallback`.
    pub unrouted: Vec<UnroutedEscalation>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct UnroutedEscalation {
    pub reference: String,
    pub rule: String,
    pub title: String,
    pub occasion_on: chrono::NaiveDate,
    pub remind_on: chrono::NaiveDate,
}

/// Store key of the holiday file's errors, written by the daemon.
pub const CALENDAR_ERRORS: &str = "calendar_errors";

pub async fn status(store: &Store) -> Result<StatusReport> {
    Ok(StatusReport {
        last_tick: plan::last_tick(store).await?,
        last_tick_at: plan::last_tick_at(store).await?,
        deliveries: store.outbox_counts().await?,
        reminders: store.reminder_counts().await?,
        failures: store.troubled_deliveries(50).await?,
        roster_errors: errors(store, ROSTER_ERRORS).await?,
        calendar_errors: errors(store, CALENDAR_ERRORS).await?,
        unrouted: store
            .unrouted_escalations(50)
            .await?
            .into_iter()
            .map(|s| UnroutedEscalation {
                reference: s.reminder.reference.to_string(),
                rule: s.reminder.rule.to_string(),
                title: s.reminder.title.to_string(),
                occasion_on: s.reminder.occasion_on,
                remind_on: s.reminder.remind_on,
            })
            .collect(),
    })
}

async fn errors(store: &Store, key: &str) -> Result<Vec<String>> {
    Ok(store
        .get_meta(key)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

/// Records (or, with none, clears) the holiday file's errors for `status`.
pub async fn record_calendar_errors(store: &Store, errors: &[String]) -> Result<()> {
    store
        .set_meta(CALENDAR_ERRORS, &serde_json::to_string(errors)?)
        .await?;
    Ok(())
}
