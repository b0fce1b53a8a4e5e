//! Pauses and delegations (cover for absence): their tables.

use chrono::{DateTime, FixedOffset, NaiveDate};
use sqlx::Row;

use super::{Result, Store, date_str, parse_date};
use crate::ledger::cover::{Delegation, Pause};

impl Store {
    pub async fn add_pause(&self, p: &Pause, now: DateTime<FixedOffset>) -> Result<()> {
        sqlx::query(
            "INSERT INTO pauses (person_id, from_on, until_on, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.person_id)
        .bind(date_str(p.from))
        .bind(p.until.map(date_str))
        .bind(p.reason.clone())
        .bind(now.to_rfc3339())
        .execute(self.pool())
        .await?;
        // Planning and the dispatcher see the change (the person's version moves).
        sqlx::query("UPDATE persons SET version = version + 1 WHERE id = $1")
            .bind(p.person_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every pause, in the order recorded.
    pub async fn pauses(&self) -> Result<Vec<Pause>> {
        let rows =
            sqlx::query("SELECT person_id, from_on, until_on, reason FROM pauses ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Pause {
                    person_id: r.try_get(0)?,
                    from: parse_date(&r.try_get::<String, _>(1)?)?,
                    until: match r.try_get::<Option<String>, _>(2)? {
                        Some(s) => Some(parse_date(&s)?),
                        None => None,
                    },
                    reason: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn add_delegation(&self, d: &Delegation, now: DateTime<FixedOffset>) -> Result<()> {
        sqlx::query(
            "INSERT INTO delegations (staff_number, to_staff, from_on, until_on, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(d.staff.clone())
        .bind(d.to.clone())
        .bind(date_str(d.from))
        .bind(date_str(d.until))
        .bind(now.to_rfc3339())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The delegations that cover any day from `from` on, in the order recorded.
    pub async fn delegations_from(&self, from: NaiveDate) -> Result<Vec<Delegation>> {
        let rows = sqlx::query(
            "SELECT staff_number, to_staff, from_on, until_on FROM delegations \
             WHERE until_on >= $1 ORDER BY id",
        )
        .bind(date_str(from))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delegation {
                    staff: r.try_get(0)?,
                    to: r.try_get(1)?,
                    from: parse_date(&r.try_get::<String, _>(2)?)?,
                    until: parse_date(&r.try_get::<String, _>(3)?)?,
                })
            })
            .collect()
    }
}
