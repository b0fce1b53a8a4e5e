//! The composition root: config → store → calendar → rules → channels → scheduler.
//! Holds no business logic; handles signals.

use anyhow::{Context, Result};

use crate::calendar::WorkCalendar;
use crate::cli::{AckArgs, RunArgs, StatusArgs, TestSendArgs};
use crate::commands::Ctx;
use crate::config::Config;
use crate::rules::RuleSet;

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

/// The rules folder from the config, or the shipped rules compiled into the binary.
pub fn load_rules(config: &Config, cal: WorkCalendar) -> RuleSet {
    match &config.rules.path {
        Some(dir) => RuleSet::load_dir(dir, cal, None),
        None => RuleSet::builtin(cal),
    }
}

pub async fn run(_ctx: &Ctx, _args: RunArgs) -> Result<i32> {
    anyhow::bail!("qinqing run: the daemon is not built yet (issue 5)")
}

pub async fn status(_ctx: &Ctx, _args: StatusArgs) -> Result<i32> {
    anyhow::bail!("qinqing status: not built yet (issue 5)")
}

pub async fn ack(_ctx: &Ctx, _args: AckArgs) -> Result<i32> {
    anyhow::bail!("qinqing ack: not built yet (issue 5)")
}

pub async fn test_send(_ctx: &Ctx, _args: TestSendArgs) -> Result<i32> {
    anyhow::bail!("qinqing test-send: not built yet (issue 5)")
}
