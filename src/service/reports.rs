//! Reports as use cases: coverage and the ledger for a caller (the CLI or the API)
//! that is named in the audit log, and the audit log itself.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, FixedOffset, NaiveDate};

use super::coverage::{Coverage, CoverageQuery, coverage};
use super::records::{ContactFilter, ContactLine, list_contacts};
use crate::store::{AuditEntry, Store};

/// The rule titles (规则名称) of the configured rules, by id.
pub fn rule_titles(config: &crate::config::Config) -> HashMap<String, String> {
    let cal =
        super::work_calendar(config).unwrap_or_else(|_| crate::calendar::WorkCalendar::builtin());
    super::load_rules(config, cal)
        .rules
        .iter()
        .map(|r| (r.id.clone(), r.title.clone()))
        .collect()
}

/// The coverage report, written to the audit log as read by `who`.
pub async fn coverage_for(
    store: &Store,
    q: &CoverageQuery,
    titles: &HashMap<String, String>,
    who: &str,
    now: DateTime<FixedOffset>,
) -> Result<Coverage> {
    let c = coverage(store, q, titles).await?;
    let what = format!(
        "report coverage from={} to={} as_of={}{}",
        q.from,
        q.to,
        q.as_of,
        q.staff
            .as_ref()
            .map(|s| format!(" staff={s}"))
            .unwrap_or_default()
    );
    store.add_audit(who, &what, c.rows.len(), now).await?;
    Ok(c)
}

/// The ledger (台账) of a period: every contact and attempt, by day done; written
/// to the audit log as read by `who`.
pub async fn ledger_for(
    store: &Store,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    staff: Option<String>,
    person: Option<String>,
    who: &str,
    now: DateTime<FixedOffset>,
) -> Result<Vec<ContactLine>> {
    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    let what = format!(
        "report ledger from={} to={}{}{}",
        day(from),
        day(to),
        staff
            .as_ref()
            .map(|s| format!(" staff={s}"))
            .unwrap_or_default(),
        person
            .as_ref()
            .map(|p| format!(" person={}", crate::mask::id_number(p)))
            .unwrap_or_default()
    );
    let filter = ContactFilter {
        person,
        staff,
        from,
        to,
    };
    let lines = list_contacts(store, &filter).await?;
    store.add_audit(who, &what, lines.len(), now).await?;
    Ok(lines)
}

/// The audit log from `from` on.
pub async fn audit(store: &Store, from: Option<NaiveDate>) -> Result<Vec<AuditEntry>> {
    Ok(store.audit_entries(from).await?)
}

/// Who runs a CLI command, for the audit log: the OS user.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .map(|u| format!("os:{u}"))
        .unwrap_or_else(|_| "os:unknown".into())
}
