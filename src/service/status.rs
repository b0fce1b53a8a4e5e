//! What the daemon has done and what is stuck: the last tick, the outbox by status,
//! failing deliveries and the roster file's errors (`qinqing status`, `/healthz`).

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
}

pub async fn status(store: &Store) -> Result<StatusReport> {
    Ok(StatusReport {
        last_tick: plan::last_tick(store).await?,
        last_tick_at: plan::last_tick_at(store).await?,
        deliveries: store.outbox_counts().await?,
        reminders: store.reminder_counts().await?,
        failures: store.troubled_deliveries(50).await?,
        roster_errors: store
            .get_meta(ROSTER_ERRORS)
            .await?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
    })
}
