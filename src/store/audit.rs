//! The audit log: who exported which report or read the API, when, and how many
//! rows it gave.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;
use sqlx::Row;

use super::{Result, Store, date_str};

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub who: String,
    pub what: String,
    pub rows: i64,
}

impl Store {
    pub async fn add_audit(
        &self,
        who: &str,
        what: &str,
        rows: usize,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit (at, who, what, rows) VALUES ($1, $2, $3, $4)")
            .bind(now.to_rfc3339())
            .bind(who.to_string())
            .bind(what.to_string())
            .bind(rows as i64)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Entries from `from` on (all when None), oldest first.
    pub async fn audit_entries(&self, from: Option<NaiveDate>) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT at, who, what, rows FROM audit WHERE at >= $1 ORDER BY id")
            .bind(from.map(date_str).unwrap_or_default())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get(0)?,
                    who: r.try_get(1)?,
                    what: r.try_get(2)?,
                    rows: r.try_get(3)?,
                })
            })
            .collect()
    }
}

/// What `/metrics` reads from the store at scrape time.
#[derive(Debug, Clone, Default)]
pub struct StoreFigures {
    /// Reminder stages ever planned, by rule.
    pub reminders_by_rule: Vec<(String, i64)>,
    /// Deliveries by (channel, status).
    pub deliveries: Vec<(String, String, i64)>,
    /// Send attempts beyond the first, by channel.
    pub retried: Vec<(String, i64)>,
    pub pending: i64,
    pub persons_active: i64,
    pub persons_inactive: i64,
    pub persons_deceased: i64,
}

impl Store {
    pub async fn figures(&self) -> Result<StoreFigures> {
        let mut f = StoreFigures::default();
        for r in sqlx::query("SELECT rule, COUNT(*) FROM reminders GROUP BY rule ORDER BY rule")
            .fetch_all(self.pool())
            .await?
        {
            f.reminders_by_rule.push((r.try_get(0)?, r.try_get(1)?));
        }
        for r in sqlx::query(
            "SELECT channel, status, COUNT(*), CAST(COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS BIGINT) \
             FROM deliveries GROUP BY channel, status ORDER BY channel, status",
        )
        .fetch_all(self.pool())
        .await?
        {
            let channel: String = r.try_get(0)?;
            let status: String = r.try_get(1)?;
            let n: i64 = r.try_get(2)?;
            let extra: i64 = r.try_get(3)?;
            if status == "pending" || status == "sending" {
                f.pending += n;
            }
            match f.retried.iter_mut().find(|(c, _)| *c == channel) {
                Some((_, x)) => *x += extra,
                None => f.retried.push((channel.clone(), extra)),
            }
            f.deliveries.push((channel, status, n));
        }
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM persons WHERE active = 1 AND deceased_on IS NULL), \
                    (SELECT COUNT(*) FROM persons WHERE active = 0 AND deceased_on IS NULL), \
                    (SELECT COUNT(*) FROM persons WHERE deceased_on IS NOT NULL)",
        )
        .fetch_one(self.pool())
        .await?;
        f.persons_active = r.try_get(0)?;
        f.persons_inactive = r.try_get(1)?;
        f.persons_deceased = r.try_get(2)?;
        Ok(f)
    }
}
