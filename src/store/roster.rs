//! Roster tables: persons, staff, assignments, person events. Loading is one query
//! per table; applying an import is a handful of multi-row statements per batch
//! inside one transaction, never a round trip per person.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Result, Store, StoreError, date_str, opt_date, parse_date, values_groups};
use crate::roster::reconcile::EventEffect;
use crate::roster::reconcile::{ImportPlan, Reassignment, Upsert};
use crate::roster::{
    Category, Person, PersonEvent, PersonRecord, PlanRow, Rank, RosterSnapshot, SelfCare, Sex,
    Staff, StaffRecord,
};

/// Rows per multi-row statement (28 columns × 400 rows stays under both backends'
/// parameter limits).
const BATCH: usize = 400;

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

fn person_from_row(row: &AnyRow) -> Result<(i64, Person, bool, i64)> {
    let person = person_columns(row, true)?;
    Ok((
        row.try_get("id")?,
        person,
        flag(row, "active")?,
        row.try_get("version")?,
    ))
}

/// The person of a `persons` row; the contact details (former unit, phones, address,
/// health) only when `contact` (planning selects without them).
fn person_columns(row: &AnyRow, contact: bool) -> Result<Person> {
    let category: String = row.try_get("category")?;
    let self_care: String = row.try_get("self_care")?;
    let sex: Option<String> = row.try_get("sex")?;
    let lunar: Option<String> = row.try_get("lunar_birth_date")?;
    let text = |col: &str| -> Result<Option<String>> {
        Ok(if contact { row.try_get(col)? } else { None })
    };
    Ok(Person {
        number: row.try_get("number")?,
        name: row.try_get("name")?,
        facts: crate::roster::Facts {
            sex: sex.as_deref().and_then(Sex::parse),
            birth_date: parse_date(&row.try_get::<String, _>("birth_date")?)?,
            lunar_birthday: flag(row, "lunar_birthday")?,
            lunar_birth_date: lunar.as_deref().and_then(|s| s.parse().ok()),
            category: Category::parse(&category)
                .ok_or_else(|| StoreError::Corrupt(format!("category {category:?}")))?,
            rank: Rank::from_i64(row.try_get("rank")?),
            self_care: SelfCare::parse(&self_care).unwrap_or_default(),
            lives_alone: flag(row, "lives_alone")?,
            empty_nest: flag(row, "empty_nest")?,
            widowed: flag(row, "widowed")?,
            hardship: flag(row, "hardship")?,
            hospitalised_since: opt_date(row, "hospitalised_since")?,
            deceased_on: opt_date(row, "deceased_on")?,
        },
        id_number: row.try_get("id_number")?,
        former_unit: text("former_unit")?,
        phone: text("phone")?,
        family_phone: text("family_phone")?,
        address: text("address")?,
        community: row.try_get("community")?,
        party_branch: row.try_get("party_branch")?,
        health: text("health")?,
        staff: Vec::new(),
        tags: split_list(&row.try_get::<String, _>("tags")?),
    })
}

/// The columns planning reads of the active persons `p` (`{}`: a further
/// condition; no phones, address, former unit or health notes) and their current
/// staff numbers in order, as one JSON array per person (SQLite's JSON functions; PostgreSQL's are put in by
/// `plan_rows_of`).
const PLAN_JSON_SELECT: &str = "SELECT json_array(p.id, p.version, p.number, p.name, p.sex, \
    p.id_number, p.birth_date, p.lunar_birthday, p.lunar_birth_date, p.category, p.rank, \
    p.community, p.party_branch, p.self_care, p.lives_alone, p.empty_nest, p.widowed, \
    p.hardship, p.hospitalised_since, p.deceased_on, p.tags, \
    (SELECT json_group_array(a.staff_number ORDER BY a.position, a.id) FROM assignments a \
     WHERE a.person_id = p.id AND a.until IS NULL)) AS plan \
    FROM persons p WHERE p.active = 1 {} ORDER BY p.id";

/// One row of [`PLAN_JSON_SELECT`], in its order.
#[derive(serde::Deserialize)]
struct PlanJson(
    i64,
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<String>,
    String,
    i64,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    String,
    Vec<String>,
);

/// (id, version, person with staff) from a [`PLAN_JSON_SELECT`] row: the columns
/// [`person_columns`] reads for planning.
fn plan_person_from_json(text: &str) -> Result<(i64, i64, Person)> {
    let PlanJson(
        id,
        version,
        number,
        name,
        sex,
        id_number,
        birth_date,
        lunar_birthday,
        lunar_birth_date,
        category,
        rank,
        community,
        party_branch,
        self_care,
        lives_alone,
        empty_nest,
        widowed,
        hardship,
        hospitalised_since,
        deceased_on,
        tags,
        staff,
    ) = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("planning row {text:?}: {e}")))?;
    let date = |s: Option<String>| -> Result<Option<NaiveDate>> {
        match s {
            Some(s) if !s.is_empty() => Ok(Some(parse_date(&s)?)),
            _ => Ok(None),
        }
    };
    let person = Person {
        number,
        name,
        facts: crate::roster::Facts {
            sex: sex.as_deref().and_then(Sex::parse),
            birth_date: parse_date(&birth_date)?,
            lunar_birthday: lunar_birthday != 0,
            lunar_birth_date: lunar_birth_date.as_deref().and_then(|s| s.parse().ok()),
            category: Category::parse(&category)
                .ok_or_else(|| StoreError::Corrupt(format!("category {category:?}")))?,
            rank: Rank::from_i64(rank),
            self_care: SelfCare::parse(&self_care).unwrap_or_default(),
            lives_alone: lives_alone != 0,
            empty_nest: empty_nest != 0,
            widowed: widowed != 0,
            hardship: hardship != 0,
            hospitalised_since: date(hospitalised_since)?,
            deceased_on: date(deceased_on)?,
        },
        id_number,
        former_unit: None,
        phone: None,
        family_phone: None,
        address: None,
        community,
        party_branch,
        health: None,
        staff,
        tags: split_list(&tags),
    };
    Ok((id, version, person))
}

const PERSON_COLS: &[&str] = &[
    "pkey",
    "number",
    "name",
    "sex",
    "id_number",
    "birth_date",
    "lunar_birthday",
    "lunar_birth_date",
    "category",
    "rank",
    "former_unit",
    "phone",
    "family_phone",
    "address",
    "community",
    "party_branch",
    "health",
    "self_care",
    "lives_alone",
    "empty_nest",
    "widowed",
    "hardship",
    "hospitalised_since",
    "deceased_on",
    "tags",
    "active",
    "updated_at",
    "imported",
];

const STAFF_COLS: &[&str] = &[
    "number",
    "name",
    "mobile",
    "email",
    "wecom",
    "dingtalk",
    "feishu",
    "supervisor",
    "role",
    "channels",
    "active",
    "updated_at",
];

/// One column's value of a person row, for binding or for COPY.
enum Value {
    Text(Option<String>),
    Int(i64),
}

/// A person's row in [`PERSON_COLS`] order.
fn person_values(u: &Upsert, now: &str) -> Result<Vec<Value>> {
    use Value::{Int, Text};
    let p = &u.person;
    let imported = serde_json::to_string(&u.imported)
        .map_err(|e| StoreError::Corrupt(format!("person as imported: {e}")))?;
    let text = |s: &str| Text(Some(s.to_string()));
    Ok(vec![
        text(p.key()),
        Text(p.number.clone()),
        text(&p.name),
        Text(p.facts.sex.map(|s| s.as_str().to_string())),
        Text(p.id_number.clone()),
        text(&date_str(p.facts.birth_date)),
        Int(p.facts.lunar_birthday as i64),
        Text(p.facts.lunar_birth_date.as_ref().map(ToString::to_string)),
        text(p.facts.category.as_str()),
        Int(p.facts.rank as i64),
        Text(p.former_unit.clone()),
        Text(p.phone.clone()),
        Text(p.family_phone.clone()),
        Text(p.address.clone()),
        Text(p.community.clone()),
        Text(p.party_branch.clone()),
        Text(p.health.clone()),
        text(p.facts.self_care.as_str()),
        Int(p.facts.lives_alone as i64),
        Int(p.facts.empty_nest as i64),
        Int(p.facts.widowed as i64),
        Int(p.facts.hardship as i64),
        Text(p.facts.hospitalised_since.map(date_str)),
        Text(p.facts.deceased_on.map(date_str)),
        text(&p.tags.join(",")),
        Int(1),
        text(now),
        Text(Some(imported)),
    ])
}

/// Appends one field in COPY's text format: `\N` for NULL, else the text with
/// backslash, tab, newline and carriage return escaped.
fn copy_field(out: &mut String, v: &Value) {
    match v {
        Value::Int(i) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{i}");
        }
        Value::Text(None) => out.push_str("\\N"),
        Value::Text(Some(t)) => {
            for c in t.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// Bytes of COPY data sent at a time.
const COPY_CHUNK: usize = 4 << 20;

/// PostgreSQL: streams the persons into `import_persons` with COPY on a connection
/// of its own (committed as it goes, under a fresh import id), then upserts them into
/// `persons` inside the import's transaction in file order and deletes them there.
/// If the transaction does not commit, the staged rows are deleted here or, after a
/// crash, by the next import after a day.
async fn upsert_persons_by_copy(
    pg: &sqlx::PgPool,
    tx: &mut Transaction<'_, Any>,
    persons: &[Upsert],
    now: &str,
) -> Result<()> {
    use sqlx::postgres::PgPoolCopyExt as _;
    if persons.is_empty() {
        return Ok(());
    }
    let import_id = format!(
        "{}-{}-{}",
        std::process::id(),
        now,
        IMPORTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let stale = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    sqlx::query("DELETE FROM import_persons WHERE staged_at < $1")
        .bind(&stale)
        .execute(pg)
        .await?;
    let staged = async {
        let mut copy = pg
            .copy_in_raw(&format!(
                "COPY import_persons (import_id, seq, staged_at, {}) FROM STDIN",
                PERSON_COLS.join(", ")
            ))
            .await?;
        let staged_at = chrono::Utc::now().to_rfc3339();
        let mut buf = String::with_capacity(COPY_CHUNK + 4096);
        for (seq, u) in persons.iter().enumerate() {
            use std::fmt::Write as _;
            let _ = write!(buf, "{import_id}\t{seq}\t{staged_at}");
            for v in person_values(u, now)? {
                buf.push('\t');
                copy_field(&mut buf, &v);
            }
            buf.push('\n');
            if buf.len() >= COPY_CHUNK {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                buf.reserve(COPY_CHUNK + 4096);
            }
        }
        if !buf.is_empty() {
            copy.send(buf.into_bytes()).await?;
        }
        copy.finish().await?;
        Ok::<(), StoreError>(())
    };
    let upserted = async {
        staged.await?;
        let cols = PERSON_COLS.join(", ");
        let updates: Vec<String> = PERSON_COLS
            .iter()
            .filter(|c| **c != "pkey")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO persons ({cols}) SELECT {cols} FROM import_persons \
             WHERE import_id = $1 ORDER BY seq \
             ON CONFLICT (pkey) DO UPDATE SET {}, version = persons.version + 1",
            updates.join(", ")
        )))
        .bind(&import_id)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM import_persons WHERE import_id = $1")
            .bind(&import_id)
            .execute(&mut **tx)
            .await?;
        Ok::<(), StoreError>(())
    };
    let result = upserted.await;
    if result.is_err() {
        // The transaction will not commit: nothing of this import stays staged.
        let _ = sqlx::query("DELETE FROM import_persons WHERE import_id = $1")
            .bind(&import_id)
            .execute(pg)
            .await;
    }
    result
}

/// Imports begun by this process, for unique import ids.
static IMPORTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn upsert_sql(table: &str, cols: &[&str], key: &str, rows: usize, bump_version: bool) -> String {
    let updates: Vec<String> = cols
        .iter()
        .filter(|c| **c != key)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let version = if bump_version {
        format!(", version = {table}.version + 1")
    } else {
        String::new()
    };
    format!(
        "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({key}) DO UPDATE SET {}{version}",
        cols.join(", "),
        values_groups(rows, cols.len(), 1),
        updates.join(", ")
    )
}

impl Store {
    /// Loads every person (with their open assignments), staff member and event.
    pub async fn load_roster(&self) -> Result<RosterSnapshot> {
        let rows = sqlx::query("SELECT * FROM persons ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        let mut persons = Vec::with_capacity(rows.len());
        let mut index = HashMap::with_capacity(rows.len());
        for row in &rows {
            let (id, person, active, version) = person_from_row(row)?;
            index.insert(id, persons.len());
            let imported = match row.try_get::<Option<String>, _>("imported")? {
                // Unreadable (written by another version): the file is taken as it is.
                Some(json) => serde_json::from_str(&json).ok(),
                None => None,
            };
            persons.push(PersonRecord {
                id,
                person,
                active,
                version,
                imported,
            });
        }
        drop(rows);
        let assignments = sqlx::query(
            "SELECT person_id, staff_number FROM assignments WHERE until IS NULL \
             ORDER BY person_id, position, id",
        )
        .fetch_all(self.pool())
        .await?;
        for row in assignments {
            let pid: i64 = row.try_get(0)?;
            if let Some(&i) = index.get(&pid) {
                persons[i].person.staff.push(row.try_get(1)?);
            }
        }
        let staff = self.load_staff_rows().await?;
        let events = sqlx::query(
            "SELECT person_id, kind, on_date FROM person_events ORDER BY person_id, on_date, id",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(PersonEvent {
                person_id: row.try_get(0)?,
                kind: row.try_get(1)?,
                on: parse_date(&row.try_get::<String, _>(2)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(RosterSnapshot {
            persons,
            staff,
            events,
        })
    }

    /// Streams the active persons for planning, in id order and in batches of
    /// `batch`, each with its open assignments and events: a large roster is never
    /// held whole as full rows. Staff and documents are loaded separately.
    pub async fn plan_rows(&self, batch: usize, each: impl FnMut(Vec<PlanRow>)) -> Result<()> {
        self.plan_rows_of(None, batch, each).await
    }

    /// Like [`Store::plan_rows`], for the persons currently assigned to one of
    /// `staff` (工号) only, selected in SQL: a staff member's page reads their
    /// 15–33 persons, not the roster.
    pub async fn plan_rows_of_staff(
        &self,
        staff: &[String],
        batch: usize,
        each: impl FnMut(Vec<PlanRow>),
    ) -> Result<()> {
        self.plan_rows_of(Some(staff), batch, each).await
    }

    async fn plan_rows_of(
        &self,
        staff: Option<&[String]>,
        batch: usize,
        mut each: impl FnMut(Vec<PlanRow>),
    ) -> Result<()> {
        use futures::TryStreamExt;
        // Only these persons, when `staff` is given.
        let only = match staff {
            Some([]) => return Ok(()),
            Some(numbers) => format!(
                "AND p.id IN (SELECT person_id FROM assignments WHERE until IS NULL \
                 AND staff_number IN ({}))",
                super::placeholders(numbers.len(), 1)
            ),
            None => String::new(),
        };
        let numbers = staff.unwrap_or_default();
        let bind_all = |mut q: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>| {
            for n in numbers {
                q = q.bind(n.clone());
            }
            q
        };
        // One read-only transaction, so the three reads see one state of the store: a
        // person's new version is never seen without the event that bumped it.
        let mut tx = self.pool().begin().await?;
        if self.backend() == super::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        // Small beside the persons: (person id, event).
        let sql = format!(
            "SELECT e.person_id, e.kind, e.on_date FROM person_events e \
             JOIN persons p ON p.id = e.person_id \
             WHERE p.active = 1 {only} ORDER BY e.person_id, e.on_date, e.id"
        );
        let mut events = bind_all(sqlx::query(super::sql_for(self.backend(), sql)))
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>(0)?,
                    row.try_get::<String, _>(1)?,
                    parse_date(&row.try_get::<String, _>(2)?)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .peekable();
        // A person and their staff numbers as one JSON array: one value per row
        // for the driver to copy, not two dozen (a million rows read in seconds).
        let sql = match self.backend() {
            super::Backend::Postgres => PLAN_JSON_SELECT
                .replace("json_array(", "json_build_array(")
                .replace(
                    "json_group_array(a.staff_number ORDER BY a.position, a.id)",
                    "coalesce(json_agg(a.staff_number ORDER BY a.position, a.id), '[]'::json)",
                )
                .replace(") AS plan FROM", ")::text AS plan FROM"),
            super::Backend::Sqlite => PLAN_JSON_SELECT.to_string(),
        }
        .replace("{}", &only);
        let mut rows = bind_all(sqlx::query(super::sql_for(self.backend(), sql))).fetch(&mut *tx);
        let mut out: Vec<PlanRow> = Vec::with_capacity(batch);
        while let Some(row) = rows.try_next().await? {
            let (id, version, person) = plan_person_from_json(&row.try_get::<String, _>(0)?)?;
            while events.peek().is_some_and(|(p, _, _)| *p < id) {
                events.next();
            }
            let mut evs = Vec::new();
            while let Some((_, kind, on)) = events.next_if(|(p, _, _)| *p == id) {
                evs.push((kind, on));
            }
            out.push(PlanRow {
                id,
                version,
                person,
                events: evs,
            });
            if out.len() >= batch {
                each(std::mem::replace(&mut out, Vec::with_capacity(batch)));
            }
        }
        drop(rows);
        tx.commit().await?;
        if !out.is_empty() {
            each(out);
        }
        Ok(())
    }

    /// The staff list (active or not), as planning needs it.
    pub async fn load_staff(&self) -> Result<Vec<StaffRecord>> {
        self.load_staff_rows().await
    }

    /// Applies an import in one transaction: all of it or nothing.
    pub async fn apply_import(&self, plan: &ImportPlan, now: DateTime<FixedOffset>) -> Result<()> {
        let now = now.to_rfc3339();
        let today = date_str(plan.today);
        let mut tx = self.pool().begin().await?;
        for chunk in plan.upsert_staff.chunks(BATCH) {
            let sql = upsert_sql("staff", STAFF_COLS, "number", chunk.len(), false);
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for s in chunk {
                q = q
                    .bind(s.number.clone())
                    .bind(s.name.clone())
                    .bind(s.addresses.mobile.clone())
                    .bind(s.addresses.email.clone())
                    .bind(s.addresses.wecom.clone())
                    .bind(s.addresses.dingtalk.clone())
                    .bind(s.addresses.feishu.clone())
                    .bind(s.supervisor.clone())
                    .bind(s.role.clone())
                    .bind(s.channels.join(","))
                    .bind(1i64)
                    .bind(now.clone());
            }
            q.execute(&mut *tx).await?;
        }
        // Corrected ID numbers first: the person keeps its id (and every stage key),
        // and the upsert below finds it under the new key.
        for r in &plan.rekey {
            sqlx::query(super::sql_for(
                self.backend(),
                "UPDATE persons SET pkey = $1 WHERE pkey = $2".to_string(),
            ))
            .bind(r.new_key.clone())
            .bind(r.old_key.clone())
            .execute(&mut *tx)
            .await?;
        }
        if let Some(pg) = &self.copy {
            upsert_persons_by_copy(pg, &mut tx, &plan.upsert_persons, &now).await?;
        } else {
            for chunk in plan.upsert_persons.chunks(BATCH) {
                let sql = upsert_sql("persons", PERSON_COLS, "pkey", chunk.len(), true);
                let mut q = sqlx::query(super::sql_for(self.backend(), sql));
                for u in chunk {
                    for v in person_values(u, &now)? {
                        q = match v {
                            Value::Text(t) => q.bind(t),
                            Value::Int(i) => q.bind(i),
                        };
                    }
                }
                q.execute(&mut *tx).await?;
            }
        }
        for chunk in plan.deactivate.chunks(BATCH) {
            let sql = format!(
                "UPDATE persons SET active = 0, version = version + 1, updated_at = $1 WHERE pkey IN ({})",
                super::placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql)).bind(now.clone());
            for k in chunk {
                q = q.bind(k.clone());
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in plan.events.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO person_events (person_id, kind, on_date, recorded_at, note) \
                 SELECT p.id, v.column2, v.column3, v.column4, v.column5 FROM (VALUES {}) AS v \
                 JOIN persons p ON p.pkey = v.column1 WHERE true \
                 ON CONFLICT (person_id, kind, on_date) DO NOTHING",
                values_groups(chunk.len(), 5, 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for e in chunk {
                q = q
                    .bind(e.person_key.clone())
                    .bind(e.kind.clone())
                    .bind(date_str(e.on))
                    .bind(now.clone())
                    .bind(e.note.clone());
            }
            q.execute(&mut *tx).await?;
        }
        reassign(&mut tx, self.backend(), &plan.reassign, &today).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every staff number in the store.
    pub async fn staff_numbers(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT number FROM staff")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
            .collect()
    }

    /// The internal id of a person by 身份证号 or 编号.
    pub async fn person_id(&self, key: &str) -> Result<Option<i64>> {
        let key = key.trim().to_uppercase();
        let row = sqlx::query(
            "SELECT id FROM persons WHERE pkey = $1 OR UPPER(COALESCE(number, '')) = $1 \
             ORDER BY id LIMIT 1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Records a person event (hospitalised, discharged, deceased, hardship,
    /// complaint…) and what it does to the person, in one transaction with the
    /// version bump that makes planning see it. Returns false when the same event
    /// (person, kind, day) was already recorded: nothing changes then.
    pub async fn record_person_event(
        &self,
        person_id: i64,
        kind: &str,
        on: NaiveDate,
        note: Option<&str>,
        effect: EventEffect,
        now: DateTime<FixedOffset>,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO person_events (person_id, kind, on_date, recorded_at, note) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id, kind, on_date) DO NOTHING",
        )
        .bind(person_id)
        .bind(kind.to_string())
        .bind(date_str(on))
        .bind(now.to_rfc3339())
        .bind(note.map(str::to_string))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !inserted {
            return Ok(false);
        }
        let (set, value): (&str, Option<String>) = match effect {
            EventEffect::Nothing => ("", None),
            EventEffect::HospitalisedSince(d) => ("hospitalised_since = $3, ", d.map(date_str)),
            EventEffect::DeceasedOn(d) => ("deceased_on = $3, ", Some(date_str(d))),
            EventEffect::Hardship(_) => ("hardship = $3, ", None),
        };
        let sql =
            format!("UPDATE persons SET {set}version = version + 1, updated_at = $2 WHERE id = $1");
        let mut q = sqlx::query(super::sql_for(self.backend(), sql))
            .bind(person_id)
            .bind(now.to_rfc3339());
        match effect {
            EventEffect::Nothing => {}
            EventEffect::Hardship(h) => q = q.bind(h as i64),
            _ => q = q.bind(value),
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Assigns a person to these staff members (in order) from `since` on: their
    /// open assignments end that day; the person's version moves so planning
    /// re-routes what is open.
    pub async fn assign_staff(
        &self,
        person_id: i64,
        staff: &[String],
        since: NaiveDate,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let person_key: String = sqlx::query("SELECT pkey FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let r = Reassignment {
            person_key: person_key.to_string(),
            staff: staff.to_vec(),
            was_stored: true,
        };
        reassign(&mut tx, self.backend(), &[r], &date_str(since)).await?;
        sqlx::query("UPDATE persons SET version = version + 1, updated_at = $1 WHERE pkey = $2")
            .bind(now.to_rfc3339())
            .bind(person_key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A fingerprint that changes whenever the roster, staff or documents change
    /// (cheap: a few aggregate queries), so the daemon can re-plan within a minute of
    /// a change made by another process. Person versions count as well as times, so
    /// a writer whose clock is behind still moves it.
    pub async fn change_stamp(&self) -> Result<String> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM persons), \
                    (SELECT COALESCE(MAX(updated_at), '') FROM persons), \
                    (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM persons), \
                    (SELECT COALESCE(MAX(id), 0) FROM person_events), \
                    (SELECT COALESCE(MAX(id), 0) FROM assignments), \
                    (SELECT COALESCE(MAX(id), 0) FROM documents), \
                    (SELECT COALESCE(MAX(updated_at), '') FROM staff)",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(format!(
            "{}|{}|{}|{}|{}|{}|{}",
            row.try_get::<i64, _>(0)?,
            row.try_get::<String, _>(1)?,
            row.try_get::<i64, _>(2)?,
            row.try_get::<i64, _>(3)?,
            row.try_get::<i64, _>(4)?,
            row.try_get::<i64, _>(5)?,
            row.try_get::<String, _>(6)?
        ))
    }
}

async fn reassign(
    tx: &mut Transaction<'_, Any>,
    backend: super::Backend,
    reassign: &[Reassignment],
    today: &str,
) -> Result<()> {
    for chunk in reassign.chunks(BATCH) {
        let existing: Vec<&String> = chunk
            .iter()
            .filter(|r| r.was_stored)
            .map(|r| &r.person_key)
            .collect();
        if !existing.is_empty() {
            let sql = format!(
                "UPDATE assignments SET until = $1 WHERE until IS NULL AND person_id IN \
             (SELECT id FROM persons WHERE pkey IN ({}))",
                super::placeholders(existing.len(), 2)
            );
            let mut q = sqlx::query(super::sql_for(backend, sql)).bind(today.to_string());
            for k in existing {
                q = q.bind(k.clone());
            }
            q.execute(&mut **tx).await?;
        }
        let rows: Vec<(&String, usize, &String)> = chunk
            .iter()
            .flat_map(|r| {
                let k = &r.person_key;
                r.staff.iter().enumerate().map(move |(i, s)| (k, i, s))
            })
            .collect();
        for part in rows.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO assignments (person_id, staff_number, position, since) \
                 SELECT p.id, v.column2, CAST(v.column3 AS BIGINT), v.column4 FROM (VALUES {}) AS v \
                 JOIN persons p ON p.pkey = v.column1",
                values_groups(part.len(), 4, 1)
            );
            let mut q = sqlx::query(super::sql_for(backend, sql));
            for (k, i, s) in part {
                q = q
                    .bind((*k).clone())
                    .bind((*s).clone())
                    .bind(i.to_string())
                    .bind(today.to_string());
            }
            q.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// What the dispatcher needs to know about a person.
#[derive(Debug, Clone)]
pub struct PersonBrief {
    pub id: i64,
    /// 编号
    pub number: Option<String>,
    pub id_number: Option<String>,
    pub name: String,
    /// 联系电话
    pub phone: Option<String>,
    /// 住址
    pub address: Option<String>,
    pub deceased_on: Option<NaiveDate>,
    /// 住院日期, while in hospital.
    pub hospitalised_since: Option<NaiveDate>,
    pub active: bool,
}

impl PersonBrief {
    /// How staff-facing output names the person: 编号, else the masked ID number.
    pub fn label(&self) -> String {
        match (&self.number, &self.id_number) {
            (Some(n), _) if !n.is_empty() => n.clone(),
            (_, Some(id)) => crate::mask::id_number(id),
            _ => String::new(),
        }
    }
}

impl Store {
    /// Every staff member.
    pub async fn staff_list(&self) -> Result<Vec<Staff>> {
        Ok(self
            .load_staff_rows()
            .await?
            .into_iter()
            .map(|s| s.staff)
            .collect())
    }

    async fn load_staff_rows(&self) -> Result<Vec<StaffRecord>> {
        sqlx::query("SELECT * FROM staff ORDER BY number")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(StaffRecord {
                    id: row.try_get("id")?,
                    staff: Staff {
                        number: row.try_get("number")?,
                        name: row.try_get("name")?,
                        addresses: crate::roster::Addresses {
                            mobile: row.try_get("mobile")?,
                            email: row.try_get("email")?,
                            wecom: row.try_get("wecom")?,
                            dingtalk: row.try_get("dingtalk")?,
                            feishu: row.try_get("feishu")?,
                        },
                        supervisor: row.try_get("supervisor")?,
                        role: row.try_get("role")?,
                        channels: split_list(&row.try_get::<String, _>("channels")?),
                    },
                    active: flag(row, "active")?,
                })
            })
            .collect()
    }

    /// The staff numbers (工号) currently assigned to each of these persons, in roster order.
    pub async fn assigned_staff(&self, person_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in person_ids.chunks(BATCH) {
            let sql = format!(
                "SELECT person_id, staff_number FROM assignments WHERE until IS NULL \
                 AND person_id IN ({}) ORDER BY person_id, position, id",
                super::placeholders(chunk.len(), 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(self.pool()).await? {
                out.entry(row.try_get(0)?)
                    .or_default()
                    .push(row.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// The ids of the living, active persons currently assigned to `staff_number`.
    pub async fn persons_of_staff(&self, staff_number: &str) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT DISTINCT p.id FROM assignments a JOIN persons p ON p.id = a.person_id \
             WHERE a.staff_number = $1 AND a.until IS NULL AND p.active = 1 AND p.deceased_on IS NULL \
             ORDER BY p.id",
        )
        .bind(staff_number.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// (工号, person id) of every current assignment of a living active person.
    pub async fn active_assignments(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT a.staff_number, p.id FROM assignments a JOIN persons p ON p.id = a.person_id \
             WHERE a.until IS NULL AND p.active = 1 AND p.deceased_on IS NULL \
             ORDER BY a.staff_number, p.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Names and death dates of the given persons, in batches.
    pub async fn persons_brief(&self, ids: &[i64]) -> Result<HashMap<i64, PersonBrief>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "SELECT id, name, deceased_on, active, number, id_number, phone, address, \
                 hospitalised_since FROM persons WHERE id IN ({})",
                super::placeholders(chunk.len(), 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(self.pool()).await? {
                let id: i64 = row.try_get(0)?;
                out.insert(
                    id,
                    PersonBrief {
                        id,
                        name: row.try_get(1)?,
                        deceased_on: opt_date(&row, "deceased_on")?,
                        active: flag(&row, "active")?,
                        number: row.try_get(4)?,
                        id_number: row.try_get(5)?,
                        phone: row.try_get(6)?,
                        address: row.try_get(7)?,
                        hospitalised_since: opt_date(&row, "hospitalised_since")?,
                    },
                );
            }
        }
        Ok(out)
    }
}
