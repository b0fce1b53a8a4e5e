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

/// Store key of when the daemon last (re)loaded its rules.
pub const RULES_LOADED_AT: &str = "rules_loaded_at";

/// What `GET /healthz` says: ok, degraded (a rule error, failed deliveries, no tick
/// for 26 hours) or failing (the store cannot be read).
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub status: &'static str,
    /// "ok", or the store's error.
    pub store: String,
    pub last_tick: Option<String>,
    pub last_tick_at: Option<String>,
    pub last_tick_age_secs: Option<i64>,
    pub rules: RulesHealth,
    pub roster_errors: usize,
    pub deliveries: DeliveryHealth,
}

#[derive(Debug, Clone, Serialize)]
pub struct RulesHealth {
    pub loaded: Vec<String>,
    pub reloaded_at: Option<String>,
    pub errors: Vec<crate::rules::LoadError>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct DeliveryHealth {
    pub pending: i64,
    pub failed: i64,
}

/// A tick older than this is a sign the daemon is not planning.
const STALE_TICK_SECS: i64 = 26 * 3600;

/// How long `/healthz` waits for the store before it says failing.
pub const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub async fn health(
    store: &Store,
    rules: &crate::rules::RuleSet,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Health {
    let rules_health = |reloaded_at| RulesHealth {
        loaded: rules.rules.iter().map(|r| r.id.clone()).collect(),
        reloaded_at,
        errors: rules.errors.clone(),
    };
    let read = async {
        let last_tick = plan::last_tick(store).await?;
        let last_tick_at = plan::last_tick_at(store).await?;
        let counts = store.outbox_counts().await?;
        let roster_errors = errors(store, ROSTER_ERRORS).await?.len();
        let reloaded_at = store.get_meta(RULES_LOADED_AT).await?;
        Ok::<_, anyhow::Error>((last_tick, last_tick_at, counts, roster_errors, reloaded_at))
    };
    // A store that is down makes every connection attempt wait (the pool retries
    // until its acquire timeout): health answers within HEALTH_TIMEOUT regardless.
    let read = async {
        tokio::time::timeout(HEALTH_TIMEOUT, read)
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "the store did not answer within {} s",
                    HEALTH_TIMEOUT.as_secs()
                ))
            })
    };
    match read.await {
        Err(e) => Health {
            status: "failing",
            store: format!("{e:#}"),
            last_tick: None,
            last_tick_at: None,
            last_tick_age_secs: None,
            rules: rules_health(None),
            roster_errors: 0,
            deliveries: DeliveryHealth::default(),
        },
        Ok((last_tick, last_tick_at, counts, roster_errors, reloaded_at)) => {
            let age = last_tick_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| (now - t).num_seconds());
            let degraded = !rules.errors.is_empty()
                || counts.failed > 0
                || age.is_none_or(|a| a > STALE_TICK_SECS);
            Health {
                status: if degraded { "degraded" } else { "ok" },
                store: "ok".into(),
                last_tick,
                last_tick_at,
                last_tick_age_secs: age,
                rules: rules_health(reloaded_at),
                roster_errors,
                deliveries: DeliveryHealth {
                    pending: counts.pending,
                    failed: counts.failed,
                },
            }
        }
    }
}
