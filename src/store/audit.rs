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
