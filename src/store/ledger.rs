//! Documents (三必须) and the ledger's contacts (calls, visits, deliveries and
//! acknowledgements): their tables.

use chrono::{DateTime, FixedOffset, NaiveDate};
use sqlx::Row;

use super::{Result, Store, date_str, parse_date};
use crate::ledger::{Contact, NewContact, Outcome};
use crate::roster::{Category, Document, NewDocument, Rank};

impl Store {
    pub async fn add_document(&self, d: &NewDocument, now: DateTime<FixedOffset>) -> Result<i64> {
        let audience: Vec<&str> = d.audience.iter().map(|c| c.as_str()).collect();
        let row = sqlx::query(
            "INSERT INTO documents (title, issued_on, deadline, audience, min_rank, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(d.title.clone())
        .bind(date_str(d.issued_on))
        .bind(date_str(d.deadline))
        .bind(audience.join(","))
        .bind(d.min_rank.map(|r| r as i64))
        .bind(now.to_rfc3339())
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn documents(&self) -> Result<Vec<Document>> {
        let rows = sqlx::query(
            "SELECT id, title, issued_on, deadline, audience, min_rank FROM documents ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let audience: String = r.try_get(4)?;
                Ok(Document {
                    id: r.try_get(0)?,
                    title: r.try_get(1)?,
                    issued_on: parse_date(&r.try_get::<String, _>(2)?)?,
                    deadline: parse_date(&r.try_get::<String, _>(3)?)?,
                    audience: audience.split(',').filter_map(Category::parse).collect(),
                    min_rank: r.try_get::<Option<i64>, _>(5)?.map(Rank::from_i64),
                })
            })
            .collect()
    }

    /// Records a contact; returns its id, or None when it is an acknowledgement of
    /// an occasion already acknowledged (nothing is recorded then).
    pub async fn add_contact(
        &self,
        c: &NewContact,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "INSERT INTO contacts (person_id, staff_number, on_date, kind, note, reference, recorded_at, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (reference) WHERE outcome = 'done' AND reference IS NOT NULL DO NOTHING \
             RETURNING id",
        )
        .bind(c.person_id)
        .bind(c.staff_number.clone())
        .bind(date_str(c.on))
        .bind(c.kind.clone())
        .bind(c.note.clone())
        .bind(c.reference.clone())
        .bind(now.to_rfc3339())
        .bind(c.outcome.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok(r.try_get(0)?)).transpose()
    }

    /// Every contact logged between two dates, inclusive.
    pub async fn contacts_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Contact>> {
        let sql =
            format!("{CONTACT_SELECT} WHERE on_date >= $1 AND on_date <= $2 ORDER BY on_date, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(date_str(from))
            .bind(date_str(to))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(contact_from_row).collect()
    }

    /// The contacts of a person and/or by a staff member, done between two dates
    /// (each bound optional), by day done.
    pub async fn contacts_where(
        &self,
        person_id: Option<i64>,
        staff_number: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<Contact>> {
        let mut cond = vec!["1 = 1".to_string()];
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if person_id.is_some() {
            cond.push(format!("person_id = {}", next()));
        }
        if staff_number.is_some() {
            cond.push(format!("staff_number = {}", next()));
        }
        if from.is_some() {
            cond.push(format!("on_date >= {}", next()));
        }
        if to.is_some() {
            cond.push(format!("on_date <= {}", next()));
        }
        let sql = format!(
            "{CONTACT_SELECT} WHERE {} ORDER BY on_date, id",
            cond.join(" AND ")
        );
        let mut q = sqlx::query(super::sql_for(self.backend(), sql));
        if let Some(id) = person_id {
            q = q.bind(id);
        }
        if let Some(s) = staff_number {
            q = q.bind(s.to_string());
        }
        if let Some(d) = from {
            q = q.bind(date_str(d));
        }
        if let Some(d) = to {
            q = q.bind(date_str(d));
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(contact_from_row)
            .collect()
    }

    /// The contacts of these persons logged between two dates, inclusive.
    pub async fn contacts_of(
        &self,
        person_ids: &[i64],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Contact>> {
        let mut out = Vec::new();
        for chunk in person_ids.chunks(400) {
            let sql = format!(
                "{CONTACT_SELECT} WHERE on_date >= $1 AND on_date <= $2 AND person_id IN ({}) \
                 ORDER BY on_date, id",
                super::placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql))
                .bind(date_str(from))
                .bind(date_str(to));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(contact_from_row(&r)?);
            }
        }
        Ok(out)
    }

    /// The day of each person's last call or visit that was done, by anyone.
    pub async fn last_contacts(
        &self,
        person_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, NaiveDate>> {
        let mut out = std::collections::HashMap::new();
        for chunk in person_ids.chunks(400) {
            let sql = format!(
                "SELECT person_id, MAX(on_date) FROM contacts WHERE outcome = 'done' \
                 AND kind IN ('call', 'visit') AND person_id IN ({}) GROUP BY person_id",
                super::placeholders(chunk.len(), 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.insert(r.try_get(0)?, parse_date(&r.try_get::<String, _>(1)?)?);
            }
        }
        Ok(out)
    }

    /// Acknowledgements of these occasions, whatever their date.
    pub async fn acknowledgements(&self, occasion_keys: &[String]) -> Result<Vec<Contact>> {
        let mut out = Vec::new();
        for chunk in occasion_keys.chunks(400) {
            let sql = format!(
                "{CONTACT_SELECT} WHERE reference IN ({})",
                super::placeholders(chunk.len(), 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for k in chunk {
                q = q.bind(k.clone());
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(contact_from_row(&r)?);
            }
        }
        Ok(out)
    }
}

/// The columns a [`Contact`] is read from.
const CONTACT_SELECT: &str = "SELECT id, person_id, staff_number, on_date, kind, note, reference, outcome, recorded_at FROM contacts";

fn contact_from_row(r: &sqlx::any::AnyRow) -> Result<Contact> {
    Ok(Contact {
        id: r.try_get(0)?,
        entry: NewContact {
            person_id: r.try_get(1)?,
            staff_number: r.try_get(2)?,
            on: parse_date(&r.try_get::<String, _>(3)?)?,
            kind: r.try_get(4)?,
            note: r.try_get(5)?,
            reference: r.try_get(6)?,
            outcome: Outcome::parse(&r.try_get::<String, _>(7)?).unwrap_or_default(),
        },
        recorded_at: r.try_get(8)?,
    })
}
