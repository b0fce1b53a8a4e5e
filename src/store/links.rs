//! Links in messages: their table (hashes only).

use chrono::{DateTime, FixedOffset, NaiveDate};
use sqlx::Row;

use super::{Result, Store, date_str, parse_date};
use crate::links::{Link, LinkKind, NewLink};

impl Store {
    /// Stores links minted outside a digest (`qinqing link`).
    pub async fn add_links(&self, links: &[NewLink], now: DateTime<FixedOffset>) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        insert_links(&mut tx, links, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The link with this token hash, whatever its state.
    pub async fn link_by_hash(&self, token_hash: &str) -> Result<Option<Link>> {
        let row = sqlx::query(
            "SELECT id, token_hash, kind, staff_number, occasion_key, expires_on, revoked_at \
             FROM links WHERE token_hash = $1",
        )
        .bind(token_hash.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Link {
                id: r.try_get(0)?,
                link: NewLink {
                    token_hash: r.try_get(1)?,
                    kind: LinkKind::parse(&r.try_get::<String, _>(2)?).unwrap_or(LinkKind::Ack),
                    staff_number: r.try_get(3)?,
                    occasion_key: r.try_get(4)?,
                    expires_on: parse_date(&r.try_get::<String, _>(5)?)?,
                },
                revoked: r.try_get::<Option<String>, _>(6)?.is_some(),
            })
        })
        .transpose()
    }

    /// Ends every link of a staff member; returns how many were still working.
    pub async fn revoke_links(
        &self,
        staff_number: &str,
        today: NaiveDate,
        now: DateTime<FixedOffset>,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE links SET revoked_at = $1 \
             WHERE staff_number = $2 AND revoked_at IS NULL AND expires_on >= $3",
        )
        .bind(now.to_rfc3339())
        .bind(staff_number.to_string())
        .bind(date_str(today))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}

/// Inserts `links` inside the caller's transaction (a digest and its links are
/// stored together, or neither is).
pub(super) async fn insert_links(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    links: &[NewLink],
    now: DateTime<FixedOffset>,
) -> Result<()> {
    for chunk in links.chunks(200) {
        let sql = format!(
            "INSERT INTO links (token_hash, kind, staff_number, occasion_key, expires_on, created_at) \
             VALUES {}",
            super::values_groups(chunk.len(), 6, 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for l in chunk {
            q = q
                .bind(l.token_hash.clone())
                .bind(l.kind.as_str())
                .bind(l.staff_number.clone())
                .bind(l.occasion_key.clone())
                .bind(date_str(l.expires_on))
                .bind(now.to_rfc3339());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
