//! The use cases, each written once: import a roster, run a planning tick, run a
//! dispatch round, acknowledge, record documents and contacts, status, check,
//! preview, test-send. The CLI (`commands`), the daemon (`app`) and `http` all call
//! these; none of them holds business logic of its own.
//!
//! A use case takes a [`Context`] (config, clock, where the store is) or the open
//! [`Store`], and returns data for its caller to print or serve. It never prints and
//! never reads the wall clock (the context's clock says what "now" is).

pub mod ack;
pub mod answer;
pub mod check;
pub mod cover;
pub mod coverage;
pub mod dispatch;
pub mod events;
pub mod import;
pub mod links;
pub mod metrics;
pub mod plan;
pub mod preview;
pub mod records;
pub mod reports;
pub mod status;
pub mod test_send;
pub mod worklist;

use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::calendar::WorkCalendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::rules::RuleSet;
use crate::store::Store;

/// What every use case starts from: the validated config, the database URL and the
/// clock. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub config: Arc<Config>,
    pub database_url: String,
    pub clock: Arc<dyn Clock>,
}

impl Context {
    /// Opens the store (and applies its migrations).
    pub async fn store(&self) -> Result<Store> {
        Store::connect_with(&self.database_url, self.config.database.max_connections)
            .await
            .with_context(|| format!("opening {}", crate::store::redact_url(&self.database_url)))
    }
}

/// The working-day calendar: built-in notices plus the override file, if any.
pub fn work_calendar(config: &Config) -> Result<WorkCalendar> {
    let cal = WorkCalendar::builtin();
    match &config.calendar.holidays {
        Some(path) => cal
            .load_overrides(path)
            .with_context(|| format!("calendar.holidays = {}", path.display())),
        None => Ok(cal),
    }
}

/// The rules folder from the config, or the shipped rules compiled into the binary,
/// with the config's defaults applied (see [`with_config_defaults`]).
pub fn load_rules(config: &Config, cal: WorkCalendar) -> RuleSet {
    let rules = match &config.rules.path {
        Some(dir) => RuleSet::load_dir(dir, cal, None),
        None => RuleSet::builtin(cal),
    };
    with_config_defaults(rules, config)
}

/// `[escalation] fallback`, and `schedule.second_escalation_days` for every rule
/// that escalates and does not set `escalate_again_after` itself.
pub fn with_config_defaults(mut rules: RuleSet, config: &Config) -> RuleSet {
    rules.escalation_fallback = config
        .escalation
        .fallback
        .clone()
        .filter(|f| !f.trim().is_empty());
    if let Some(days) = config.schedule.second_escalation_days.filter(|d| *d > 0) {
        for r in &mut rules.rules {
            if r.escalate_after.is_some() && r.escalate_again_after.is_none() {
                r.escalate_again_after = Some(days);
            }
        }
    }
    rules
}
