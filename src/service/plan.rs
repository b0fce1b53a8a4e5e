//! The planning tick (a use case): reads the roster, documents and rules, computes
//! the reminder stages due up to today, and writes them to the outbox under their
//! unique keys. The daemon and `run --once` call it; `now` comes from their clock.
//!
//! Catch-up: the last completed tick is stored. What fell due since then, or was
//! dated in the past by an event entered late, is planned late (marked late) when
//! the rule's catch-up policy says it is still worth sending, else recorded as
//! missed (see `planner::TickWindow`). A new store plans from its first tick on,
//! except urgent rules. Planned stages that no longer apply (a death, a
//! reassignment, an inactive person) are cancelled.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use rayon::prelude::*;

use crate::planner::{self, PlanningRoster, PlanningRosterBuilder, Reminder, ReminderStatus};
use crate::rules::{OccasionCache, RuleSet};
use crate::store::{Store, StoreError};

const LAST_TICK: &str = "last_tick";
const FIRST_TICK: &str = "first_tick";
const LAST_TICK_AT: &str = "last_tick_at";

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct TickReport {
    /// Another daemon on the same PostgreSQL database was planning: nothing done.
    pub skipped: bool,
    pub today: Option<NaiveDate>,
    pub from: Option<NaiveDate>,
    pub planned: u64,
    pub missed: u64,
    pub cancelled: usize,
    pub rule_errors: usize,
}

/// The planning tick's state between ticks: the occasion cache and the roster as
/// last read.
#[derive(Default, Clone)]
pub struct Planning {
    cache: Arc<Mutex<OccasionCache>>,
    roster: Arc<tokio::sync::Mutex<Option<CachedRoster>>>,
}

/// (the day and the store's change stamp when read, the roster): read again on a
/// new day or when the persons, assignments, events, documents or staff changed.
type CachedRoster = (String, Arc<PlanningRoster>);

impl Planning {
    /// Plans the stages due up to `now`'s day, as the only planner on the database
    /// (see `Store::as_sole_planner`); a tick skipped for another daemon's says so.
    pub async fn tick(
        &self,
        store: &Store,
        rules: Arc<RuleSet>,
        now: DateTime<FixedOffset>,
        catch_up_days: i64,
    ) -> Result<TickReport, StoreError> {
        // The planning itself, run only while this daemon holds the planner lock.
        let plan = async {
            let today = now.date_naive();
            let last = store
                .get_meta(LAST_TICK)
                .await?
                .and_then(|s| s.parse::<NaiveDate>().ok());
            let first = match store
                .get_meta(FIRST_TICK)
                .await?
                .and_then(|s| s.parse::<NaiveDate>().ok())
            {
                Some(f) => f,
                None => {
                    store.set_meta(FIRST_TICK, &today.to_string()).await?;
                    today
                }
            };
            // On time and normal catch-up: [from, today]. Late events, windows and
            // escalations reach further back (see planner::TickWindow).
            let from = (today - chrono::Duration::days(catch_up_days))
                .max(first)
                .min(today);
            let downtime_from = last
                .map(|l| l + chrono::Duration::days(1))
                .filter(|d| *d < today);
            let window =
                planner::TickWindow::new(&rules, today, first, downtime_from, catch_up_days);
            let roster = self.roster(store, today).await?;
            let lo = (0..rules.rules.len())
                .map(|ri| window.remind_from(ri))
                .chain(downtime_from)
                .min()
                .unwrap_or(from)
                .min(from);
            // Last year's occasions matter only while their escalations can still fall
            // due (early in the year); next year's for reminders sent ahead of it.
            let reach_back = rules
                .rules
                .iter()
                .filter_map(|r| {
                    r.escalate_after
                        .map(|a| a + r.escalate_again_after.unwrap_or(0))
                })
                .max()
                .unwrap_or(0)
                + 31;
            let first_year = (lo - chrono::Duration::days(reach_back)).year();
            let years = first_year..=today.year() + 1;
            // The day's stages are built and stored a batch at a time (at most two
            // batches in hand), so a festival day at a province's scale is never
            // held whole; only the keys are kept, for what the tick cancels.
            let cache = self.cache.clone();
            let (batches_tx, mut batches) =
                tokio::sync::mpsc::channel::<(Vec<Reminder>, Vec<Reminder>)>(1);
            let building = {
                let rules = rules.clone();
                let window = window.clone();
                tokio::task::spawn_blocking(move || {
                    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
                    cache.retain_from(*years.start());
                    let (occ, errors) = planner::occasions(&rules, &roster, years, &mut cache);
                    planner::tick_batches(
                        &rules,
                        &roster,
                        &occ,
                        rules.calendar(),
                        &window,
                        planner::TICK_BATCH,
                        // The receiver is gone only when storing failed: stop.
                        |plan, miss| batches_tx.blocking_send((plan, miss)).is_ok(),
                    );
                    errors
                })
            };
            let (mut late, mut new_planned, mut new_missed) = (0, 0, 0);
            // The tick's keys, hashed (planner::key_hash): what cancel_stale keeps.
            let mut valid: HashSet<u128> = HashSet::new();
            let mut missed_keys: Vec<String> = Vec::new();
            while let Some((planned, missed)) = batches.recv().await {
                late += planned.iter().filter(|s| s.remind_on < today).count();
                valid.extend(planned.iter().map(|s| planner::key_hash(&s.key)));
                valid.extend(missed.iter().map(|s| planner::key_hash(&s.key)));
                missed_keys.extend(missed.iter().map(|s| s.key.clone()));
                new_missed += store
                    .insert_reminders(&missed, ReminderStatus::Missed, today, now)
                    .await?;
                new_planned += store
                    .insert_reminders(&planned, ReminderStatus::Planned, today, now)
                    .await?;
            }
            let errors = building.await.expect("planning task panicked");
            for e in &errors {
                crate::metrics::rule_error(&e.rule);
            }
            for e in errors.iter().take(10) {
                tracing::warn!(rule = %e.rule, person = e.person_id, line = ?e.line, column = ?e.column,
                    "rule error: {}", crate::mask::text(&e.message));
            }
            if errors.len() > 10 {
                tracing::warn!(
                    more = errors.len() - 10,
                    "more rule errors; `qinqing preview` lists them"
                );
            }
            let inserted = new_planned + new_missed;
            let rule_ids: Vec<String> = rules.rules.iter().map(|r| r.id.clone()).collect();
            // A script error for a person is no reason to cancel what was planned for them.
            let keep: HashSet<(String, i64)> = errors
                .iter()
                .map(|e| (e.rule.clone(), e.person_id))
                .collect();
            let cancelled = store
                .cancel_stale(from, today, &rule_ids, &valid, &keep, now)
                .await?;
            // Planned but unsent reminders no longer worth sending: those the window
            // judged missed, and those older than their rule's window.
            let mut stale = store.mark_missed(&missed_keys, now).await?;
            let before: Vec<(String, NaiveDate)> = rules
                .rules
                .iter()
                .enumerate()
                .map(|(ri, r)| (r.id.clone(), window.remind_from(ri)))
                .collect();
            stale += store.mark_missed_before(&before, now).await?;
            if stale > 0 {
                tracing::warn!(
                    stale,
                    "planned reminders no longer worth sending recorded as missed"
                );
            }
            if late > 0 {
                tracing::info!(
                    late,
                    "reminders planned late (an event entered late, or downtime)"
                );
            }
            if last.is_none_or(|l| l < today) {
                store.set_meta(LAST_TICK, &today.to_string()).await?;
            }
            store.set_meta(LAST_TICK_AT, &now.to_rfc3339()).await?;
            let report = TickReport {
                skipped: false,
                today: Some(today),
                from: Some(from),
                planned: new_planned,
                missed: new_missed,
                cancelled,
                rule_errors: errors.len(),
            };
            tracing::info!(
                today = %today, from = %from, new_stages = inserted, missed = new_missed, cancelled,
                rule_errors = errors.len(), "planning tick done"
            );
            Ok(report)
        };
        let planned = store.as_sole_planner(plan).await?;
        Ok(planned.unwrap_or_else(|| {
            tracing::info!("another daemon is planning on this database; tick skipped");
            TickReport {
                skipped: true,
                ..TickReport::default()
            }
        }))
    }
}

impl Planning {
    /// The roster as planning needs it: the one read last time while the store's
    /// change stamp and the day are the same, else read again (streamed and cut down
    /// as it comes, so a large roster is never held as full rows). Read at least once
    /// a day whatever the stamp says.
    pub async fn roster(
        &self,
        store: &Store,
        today: NaiveDate,
    ) -> Result<Arc<PlanningRoster>, StoreError> {
        let mut kept = self.roster.lock().await;
        let stamp = format!("{today}|{}", store.change_stamp().await?);
        if let Some((s, r)) = kept.as_ref()
            && *s == stamp
        {
            return Ok(r.clone());
        }
        // Let the old one go before reading the new one.
        *kept = None;
        let mut builder = PlanningRosterBuilder::new(store.documents().await?);
        store
            .plan_rows(1 << 16, |batch| {
                off_runtime(|| builder.add(batch.into_par_iter()))
            })
            .await?;
        let roster = Arc::new(builder.finish(&store.load_staff().await?));
        *kept = Some((stamp, roster.clone()));
        Ok(roster)
    }
}

/// Runs CPU-heavy `f` (rayon over a batch of persons) without stalling the other
/// tasks of a multi-threaded runtime; inline on a current-thread runtime.
fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// The date of the last completed tick, if any.
pub async fn last_tick(store: &Store) -> Result<Option<String>, StoreError> {
    store.get_meta(LAST_TICK).await
}

/// When the last tick ran (RFC 3339), if any.
pub async fn last_tick_at(store: &Store) -> Result<Option<String>, StoreError> {
    store.get_meta(LAST_TICK_AT).await
}

/// One planning tick now, outside the daemon, with the configured calendar and
/// rules: after `event add` or `assign`, so what they mean is in the outbox at once
/// (a running daemon sends it on its next round). Rule files that do not load are
/// left out, as the daemon would.
pub async fn plan_now(ctx: &super::Context, store: &Store) -> anyhow::Result<TickReport> {
    let calendar = super::work_calendar(&ctx.config)?;
    let rules = super::load_rules(&ctx.config, calendar);
    for e in &rules.errors {
        tracing::warn!("rule not loaded: {e}");
    }
    Ok(Planning::default()
        .tick(
            store,
            Arc::new(rules),
            ctx.clock.now(),
            ctx.config.schedule.catch_up_days,
        )
        .await?)
}
