//! The durable outbox: reminder stages (unique by key), digests (stored before they
//! are sent, so a resend is the same message with the same idempotency key) and one
//! delivery row per (stage, channel tried).
//!
//! Statements that pick deliveries of given digests say `status <> …` rather than
//! `status IN (…)`, so SQLite uses the digest index, not the status index (which
//! would walk every delivery ever sent).
//!
//! Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several daemons can share
//! one database; SQLite has a single writer and needs no more than a transaction.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;
use sqlx::Row;

use sqlx::any::AnyRow;

use super::{Backend, Result, Store, StoreError, date_str, parse_date, values_groups};
use crate::planner::{Reminder, ReminderStatus, StageKind};

const BATCH: usize = 400;

/// The note of a planned stage cancelled because the planner no longer plans it (a
/// death, a reassignment, an inactive person, a changed rule).
const NO_LONGER_APPLIES: &str = "no longer applies";

/// What the outbox holds for later (see [`Store::next_due`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NextDue {
    /// The earliest pending normal digest (a retry, or one held for its window).
    pub retry_at: Option<DateTime<FixedOffset>>,
    /// The same for urgent digests (they have their own send window).
    pub urgent_retry_at: Option<DateTime<FixedOffset>>,
    pub lease_ends_at: Option<DateTime<FixedOffset>>,
    pub remind_on: Option<NaiveDate>,
}

/// A reminder as stored: its row id and status, and the channels already tried
/// and failed for good (filled by [`Store::due_reminders`]).
#[derive(Debug, Clone)]
pub struct StoredReminder {
    pub id: i64,
    pub status: ReminderStatus,
    pub failed_channels: Vec<String>,
    pub reminder: Reminder,
}

/// The columns a [`StoredReminder`] is read from (reminders `r` joined with the
/// person `p` for the key and name the planner gave it).
const REMINDER_SELECT: &str = "SELECT r.id, r.status, r.stage_key, r.occasion_key, r.reference, r.rule, \
    r.person_id, p.pkey, p.name, r.occasion_on, r.stage, r.lead_days, r.remind_on, \
    r.recipient, r.title, r.kind, r.urgent, r.satisfied_by, r.window_from, r.window_to, r.channels, \
    r.after_death FROM reminders r JOIN persons p ON p.id = r.person_id";

fn reminder_from_row(r: &AnyRow) -> Result<StoredReminder> {
    let text = |col: &str| -> Result<String> { Ok(r.try_get::<String, _>(col)?) };
    let wf: Option<String> = r.try_get("window_from")?;
    let wt: Option<String> = r.try_get("window_to")?;
    let window = match (wf, wt) {
        (Some(a), Some(b)) => Some((parse_date(&a)?, parse_date(&b)?)),
        _ => None,
    };
    let status = text("status")?;
    let stage = text("stage")?;
    Ok(StoredReminder {
        id: r.try_get("id")?,
        status: ReminderStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("reminder status {status:?}")))?,
        failed_channels: Vec::new(),
        reminder: Reminder {
            key: text("stage_key")?,
            occasion_key: text("occasion_key")?.into(),
            reference: text("reference")?.into(),
            rule: text("rule")?.into(),
            person_id: r.try_get("person_id")?,
            person: text("pkey")?.into(),
            person_name: text("name")?.into(),
            occasion_on: parse_date(&text("occasion_on")?)?,
            stage: StageKind::parse(&stage)
                .ok_or_else(|| StoreError::Corrupt(format!("reminder stage {stage:?}")))?,
            lead_days: r.try_get("lead_days")?,
            remind_on: parse_date(&text("remind_on")?)?,
            recipient: text("recipient")?,
            title: text("title")?.into(),
            kind: text("kind")?.into(),
            urgent: r.try_get::<i64, _>("urgent")? != 0,
            satisfied_by: list(&text("satisfied_by")?).into(),
            window,
            channels: list(&text("channels")?).into(),
            after_death: r.try_get::<i64, _>("after_death")? != 0,
        },
    })
}

/// A digest to store before sending, with the reminders it carries.
#[derive(Debug, Clone)]
pub struct NewDigest {
    pub idempotency_key: String,
    pub channel: String,
    pub recipient: String,
    pub payload: String,
    pub reminder_ids: Vec<i64>,
    pub urgent: bool,
    /// The links the payload carries, stored with it.
    pub links: Vec<crate::links::NewLink>,
}

#[derive(Debug, Clone)]
pub struct ClaimedDigest {
    pub id: i64,
    pub idempotency_key: String,
    pub channel: String,
    pub recipient: String,
    pub payload: String,
    pub attempts: i64,
}

/// What happened to one send.
#[derive(Debug, Clone)]
pub enum SendOutcome {
    Sent {
        provider_id: Option<String>,
    },
    Retry {
        error: String,
        next_attempt_at: DateTime<FixedOffset>,
    },
    Failed {
        error: String,
    },
    /// A daily limit: back to pending until `until` (the next working day's send
    /// window); the attempt does not count against `max_attempts`.
    Deferred {
        error: String,
        until: DateTime<FixedOffset>,
    },
}

/// Deliveries by status, and what they mean for reminders. `failed` counts the
/// channel failures that no other channel made good; `rescued` those another
/// channel did (the reminder was delivered after all).
#[derive(Debug, Clone, Serialize, Default)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Reminders delivered on some channel.
    pub delivered: i64,
    /// Channel failures of reminders another channel delivered.
    pub rescued: i64,
    /// Deliveries held back to a later day by a sending limit (SMS caps, a
    /// provider's daily quota).
    pub deferred: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedDelivery {
    pub reminder_id: i64,
    pub reference: String,
    pub rule: String,
    pub recipient: String,
    pub remind_on: NaiveDate,
    pub channel: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// A failure another channel made good: the reminder was delivered.
    pub rescued: bool,
}

/// How an occasion's reminders stand, for its escalation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OccasionReminded {
    /// (day first sent, that reminder's planned day): the earliest delivered.
    pub first_sent: Option<(NaiveDate, NaiveDate)>,
    /// A reminder of it is still planned (it may yet go out).
    pub pending: bool,
}

fn ts(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Store {
    /// Stores reminders with `status` (planned, or missed when their day passed
    /// during downtime); existing keys are left alone, so re-planning is idempotent.
    /// A reminder whose day is before `today` is marked late. Returns how many were new.
    pub async fn insert_reminders(
        &self,
        rows: &[Reminder],
        status: ReminderStatus,
        today: NaiveDate,
        now: DateTime<FixedOffset>,
    ) -> Result<u64> {
        let now = ts(now);
        let mut tx = self.pool().begin().await?;
        let mut inserted = 0;
        const COLS: usize = 23;
        for chunk in rows.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO reminders (stage_key, occasion_key, reference, rule, person_id, occasion_on, \
                 sub_key, stage, lead_days, remind_on, recipient, title, kind, urgent, satisfied_by, \
                 window_from, window_to, channels, after_death, status, late, created_at, updated_at) \
                 VALUES {} ON CONFLICT (stage_key) DO NOTHING",
                values_groups(chunk.len(), COLS, 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for r in chunk {
                q = q
                    .bind(r.key.clone())
                    .bind(r.occasion_key.to_string())
                    .bind(r.reference.to_string())
                    .bind(r.rule.to_string())
                    .bind(r.person_id)
                    .bind(date_str(r.occasion_on))
                    .bind(r.sub_key().to_string())
                    .bind(r.stage.as_str())
                    .bind(r.lead_days)
                    .bind(date_str(r.remind_on))
                    .bind(r.recipient.clone())
                    .bind(r.title.to_string())
                    .bind(r.kind.to_string())
                    .bind(r.urgent as i64)
                    .bind(r.satisfied_by.join(","))
                    .bind(r.window.map(|w| date_str(w.0)))
                    .bind(r.window.map(|w| date_str(w.1)))
                    .bind(r.channels.join(","))
                    .bind(r.after_death as i64)
                    .bind(status.as_str())
                    .bind((r.remind_on < today) as i64)
                    .bind(now.clone())
                    .bind(now.clone());
            }
            inserted += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Planned stages in [from, to] of the given rules whose key is not in `valid`
    /// (a death, a reassignment, an inactive person, a changed rule) are cancelled,
    /// with their pending deliveries. Returns the number cancelled.
    pub async fn cancel_stale(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        rules: &[String],
        valid: &HashSet<u128>,
        keep: &HashSet<(String, i64)>,
        now: DateTime<FixedOffset>,
    ) -> Result<usize> {
        use futures::TryStreamExt;
        if rules.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "SELECT id, stage_key, rule, person_id FROM reminders WHERE status = 'planned' AND remind_on >= $1 \
             AND remind_on <= $2 AND rule IN ({})",
            super::placeholders(rules.len(), 3)
        );
        let mut q = sqlx::query(super::sql_for(self.backend(), sql))
            .bind(date_str(from))
            .bind(date_str(to));
        for r in rules {
            q = q.bind(r.clone());
        }
        // Streamed: a festival day's planned rows are not all held at once.
        let mut stale: Vec<i64> = Vec::new();
        let mut rows = q.fetch(self.pool());
        while let Some(r) = rows.try_next().await? {
            if !valid.contains(&crate::planner::key_hash(&r.get::<String, _>(1)))
                && !keep.contains(&(r.get::<String, _>(2), r.get::<i64, _>(3)))
            {
                stale.push(r.get::<i64, _>(0));
            }
        }
        drop(rows);
        self.cancel_reminders(&stale, NO_LONGER_APPLIES, now)
            .await?;
        Ok(stale.len())
    }

    /// Planned reminders (not escalations) of each rule dated before that rule's
    /// catch-up window, that never got a delivery under way, are recorded as missed:
    /// after long downtime nothing stale floods out. Reminders held by a pause of
    /// their person are kept: they go out when the pause ends. Escalations go while their
    /// occasion is open; the dispatcher decides.
    pub async fn mark_missed_before(
        &self,
        before: &[(String, NaiveDate)],
        now: DateTime<FixedOffset>,
    ) -> Result<u64> {
        let mut n = 0;
        for (rule, day) in before {
            let r = sqlx::query(
                "UPDATE reminders SET status = 'missed', note = 'older than catch_up_days', updated_at = $1 \
                 WHERE status = 'planned' AND stage = 'remind' AND rule = $2 AND remind_on < $3 AND NOT EXISTS \
                 (SELECT 1 FROM deliveries d WHERE d.reminder_id = reminders.id AND d.status IN ('pending', 'sending')) \
                 AND NOT EXISTS (SELECT 1 FROM pauses p WHERE p.person_id = reminders.person_id \
                 AND p.from_on <= reminders.remind_on AND (p.until_on IS NULL OR p.until_on >= reminders.remind_on))",
            )
            .bind(ts(now))
            .bind(rule.clone())
            .bind(date_str(*day))
            .execute(self.pool())
            .await?;
            n += r.rows_affected();
        }
        Ok(n)
    }

    /// Planned reminders with these keys, not yet under way, are recorded as missed
    /// (their day passed and the rule's catch-up policy says they are no longer
    /// worth sending).
    pub async fn mark_missed(&self, keys: &[String], now: DateTime<FixedOffset>) -> Result<u64> {
        let mut n = 0;
        for chunk in keys.chunks(BATCH) {
            let sql = format!(
                "UPDATE reminders SET status = 'missed', note = 'past its catch-up', updated_at = $1 \
                 WHERE status = 'planned' AND stage_key IN ({}) AND NOT EXISTS \
                 (SELECT 1 FROM deliveries d WHERE d.reminder_id = reminders.id AND d.status IN ('pending', 'sending'))",
                super::placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql)).bind(ts(now));
            for k in chunk {
                q = q.bind(k.clone());
            }
            n += q.execute(self.pool()).await?.rows_affected();
        }
        Ok(n)
    }

    /// For each occasion key: how its reminders (not escalations) stand, so the
    /// dispatcher escalates only what was reminded.
    pub async fn occasion_reminders(
        &self,
        occasion_keys: &[String],
    ) -> Result<std::collections::HashMap<String, OccasionReminded>> {
        let mut out: std::collections::HashMap<String, OccasionReminded> = Default::default();
        for chunk in occasion_keys.chunks(BATCH) {
            let sql = format!(
                "SELECT occasion_key, status, remind_on, updated_at FROM reminders \
                 WHERE stage = 'remind' AND occasion_key IN ({})",
                super::placeholders(chunk.len(), 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for k in chunk {
                q = q.bind(k.clone());
            }
            for row in q.fetch_all(self.pool()).await? {
                let key: String = row.try_get(0)?;
                let status: String = row.try_get(1)?;
                let remind_on = parse_date(&row.try_get::<String, _>(2)?)?;
                let updated: String = row.try_get(3)?;
                let e = out.entry(key).or_default();
                match status.as_str() {
                    "sent" => {
                        let on = parse_date(updated.get(..10).unwrap_or(""))?;
                        let first = e
                            .first_sent
                            .map_or((on, remind_on), |f| f.min((on, remind_on)));
                        e.first_sent = Some(first);
                    }
                    "planned" => e.pending = true,
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Escalations that are not sent, with the reason (`not_reminded`).
    pub async fn mark_unsent(
        &self,
        ids: &[i64],
        reason: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "UPDATE reminders SET status = 'unsent', note = $1, updated_at = $2 \
                 WHERE status = 'planned' AND id IN ({})",
                super::placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql))
                .bind(reason.to_string())
                .bind(ts(now));
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(self.pool()).await?;
        }
        Ok(())
    }

    /// Cancels stages (and their deliveries not yet sent).
    pub async fn cancel_reminders(
        &self,
        ids: &[i64],
        why: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let now = ts(now);
        let mut tx = self.pool().begin().await?;
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "UPDATE reminders SET status = 'cancelled', note = $1, updated_at = $2 \
                 WHERE status = 'planned' AND id IN ({})",
                super::placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql))
                .bind(why.to_string())
                .bind(now.clone());
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "UPDATE deliveries SET status = 'cancelled', updated_at = $1 \
                 WHERE status = 'pending' AND reminder_id IN ({})",
                super::placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql)).bind(now.clone());
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Planned stages due on or before `day` that have no delivery under way.
    /// At most `limit` of them, with ids above `after_id`, in id order.
    pub async fn due_reminders(
        &self,
        day: NaiveDate,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredReminder>> {
        let sql = format!(
            "{REMINDER_SELECT} WHERE r.status = 'planned' AND r.remind_on <= $1 AND r.id > $2 \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.reminder_id = r.id \
                             AND d.status IN ('pending', 'sending')) \
             ORDER BY r.id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(date_str(day))
            .bind(after_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let mut out = rows
            .iter()
            .map(reminder_from_row)
            .collect::<Result<Vec<_>>>()?;
        if !out.is_empty() {
            let failed = sqlx::query(
                "SELECT d.reminder_id, d.channel FROM deliveries d JOIN reminders r ON r.id = d.reminder_id \
                 WHERE r.status = 'planned' AND d.status = 'failed'",
            )
            .fetch_all(self.pool())
            .await?;
            let mut by_id: std::collections::HashMap<i64, Vec<String>> = Default::default();
            for f in failed {
                by_id.entry(f.try_get(0)?).or_default().push(f.try_get(1)?);
            }
            for r in &mut out {
                if let Some(chs) = by_id.remove(&r.id) {
                    r.failed_channels = chs;
                }
            }
        }
        Ok(out)
    }

    /// Marks stages failed for good (every channel tried).
    pub async fn fail_reminders(&self, ids: &[i64], now: DateTime<FixedOffset>) -> Result<()> {
        let now = ts(now);
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "UPDATE reminders SET status = 'failed', updated_at = $1 WHERE status = 'planned' AND id IN ({})",
                super::placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql)).bind(now.clone());
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(self.pool()).await?;
        }
        Ok(())
    }

    /// Stores each digest with its delivery rows, before any send, one transaction
    /// per digest. A digest whose reminders another instance has already routed is
    /// rolled back, so two daemons sharing a database never send the same stage
    /// twice. Returns how many digests were stored.
    pub async fn store_digests(
        &self,
        digests: &[NewDigest],
        now: DateTime<FixedOffset>,
    ) -> Result<usize> {
        let now_s = ts(now);
        let mut stored = 0;
        // One commit per batch (a commit is an fsync with synchronous=FULL); each
        // digest in its own savepoint so one conflict undoes only that digest.
        for batch in digests.chunks(BATCH) {
            let mut outer = self.pool().begin().await?;
            for d in batch {
                let mut tx = sqlx::Acquire::begin(&mut *outer).await?;
                let row = sqlx::query(
                "INSERT INTO digests (idempotency_key, channel, recipient, payload, status, attempts, \
                 next_attempt_at, created_at, urgent) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7) \
                 ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            )
            .bind(d.idempotency_key.clone())
            .bind(d.channel.clone())
            .bind(d.recipient.clone())
            .bind(d.payload.clone())
            .bind(now_s.clone())
            .bind(now_s.clone())
            .bind(d.urgent as i64)
            .fetch_optional(&mut *tx)
            .await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    continue;
                };
                let digest_id: i64 = row.try_get(0)?;
                let mut inserted = 0;
                for chunk in d.reminder_ids.chunks(BATCH) {
                    let sql = format!(
                        // Only stages still planned: an `ack` from another process
                        // between routing and here wins.
                        "INSERT INTO deliveries (reminder_id, channel, digest_id, status, attempts, created_at, updated_at) \
                         SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7 \
                         FROM (VALUES {}) AS v WHERE EXISTS \
                         (SELECT 1 FROM reminders r WHERE r.id = v.column1 AND r.status = 'planned') \
                         ON CONFLICT (reminder_id, channel) DO NOTHING",
                        values_groups(chunk.len(), 7, 1)
                    );
                    let mut q = sqlx::query(super::sql_for(self.backend(), sql));
                    for id in chunk {
                        q = q
                            .bind(*id)
                            .bind(d.channel.clone())
                            .bind(digest_id)
                            .bind("pending".to_string())
                            .bind(0i64)
                            .bind(now_s.clone())
                            .bind(now_s.clone());
                    }
                    inserted += q.execute(&mut *tx).await?.rows_affected() as usize;
                }
                if inserted == d.reminder_ids.len() {
                    super::links::insert_links(&mut tx, &d.links, now).await?;
                    tx.commit().await?;
                    stored += 1;
                } else {
                    tracing::debug!(key = %d.idempotency_key, "reminders already routed elsewhere; digest dropped");
                    tx.rollback().await?;
                }
            }
            outer.commit().await?;
        }
        Ok(stored)
    }

    /// Digests whose claim lease ran out (a crashed process, possibly on another
    /// host) go back to pending: resent once, with the same idempotency key.
    pub async fn release_stale_claims(&self, now: DateTime<FixedOffset>) -> Result<u64> {
        self.release_where("claimed_until < $1", ts(now)).await
    }

    /// Releases the claims of owners `alive` says are gone (processes on this host
    /// that no longer exist), without waiting for their lease.
    pub async fn release_dead_claims(&self, alive: &(dyn Fn(&str) -> bool + Sync)) -> Result<u64> {
        let owners = sqlx::query(
            "SELECT DISTINCT claimed_by FROM digests WHERE status = 'sending' AND claimed_by IS NOT NULL",
        )
        .fetch_all(self.pool())
        .await?;
        let mut released = 0;
        for row in owners {
            let owner: String = row.try_get(0)?;
            if !alive(&owner) {
                released += self.release_where("claimed_by = $1", owner).await?;
            }
        }
        Ok(released)
    }

    async fn release_where(&self, condition: &str, value: String) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let sql = format!(
            "UPDATE deliveries SET status = 'pending' WHERE status = 'sending' AND digest_id IN \
             (SELECT id FROM digests WHERE status = 'sending' AND {condition})"
        );
        sqlx::query(super::sql_for(self.backend(), sql))
            .bind(value.clone())
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "UPDATE digests SET status = 'pending', claimed_until = NULL, claimed_by = NULL \
             WHERE status = 'sending' AND {condition}"
        );
        let r = sqlx::query(super::sql_for(self.backend(), sql))
            .bind(value)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    /// A pending digest whose reminders were all cancelled meanwhile (acknowledged,
    /// satisfied, a death) is cancelled, not sent. Once per dispatch round.
    pub async fn cancel_emptied_digests(&self) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE digests SET status = 'cancelled' WHERE status = 'pending' AND NOT EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.digest_id = digests.id AND d.status IN ('pending', 'sending'))",
        )
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    /// Claims up to `limit` due digests for `lease_secs` on behalf of `owner`:
    /// normal digests only when `normal`, urgent ones only when `urgent` (the send
    /// windows). A digest whose reminders were all cancelled meanwhile
    /// (acknowledged, satisfied, a death) is cancelled, not sent.
    pub async fn claim_digests(
        &self,
        now: DateTime<FixedOffset>,
        limit: i64,
        lease_secs: i64,
        owner: &str,
        normal: bool,
        urgent: bool,
    ) -> Result<Vec<ClaimedDigest>> {
        let which = match (normal, urgent) {
            (true, true) => "",
            (false, true) => " AND urgent = 1",
            (true, false) => " AND urgent = 0",
            (false, false) => return Ok(Vec::new()),
        };
        let until = ts(now + chrono::Duration::seconds(lease_secs));
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.pool().begin().await?;
        let sql = format!(
            "UPDATE digests SET status = 'sending', claimed_until = $1, claimed_by = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM digests WHERE status = 'pending' AND next_attempt_at <= $3{which} \
             ORDER BY id LIMIT $4{lock}) \
             RETURNING id, idempotency_key, channel, recipient, payload, attempts"
        );
        let rows = sqlx::query(super::sql_for(self.backend(), sql))
            .bind(until)
            .bind(owner.to_string())
            .bind(ts(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut out: Vec<ClaimedDigest> = rows
            .iter()
            .map(|r| {
                Ok(ClaimedDigest {
                    id: r.try_get(0)?,
                    idempotency_key: r.try_get(1)?,
                    channel: r.try_get(2)?,
                    recipient: r.try_get(3)?,
                    payload: r.try_get(4)?,
                    attempts: r.try_get(5)?,
                })
            })
            .collect::<Result<_>>()?;
        for chunk in out.chunks(BATCH) {
            let sql = format!(
                "UPDATE deliveries SET status = 'sending' WHERE digest_id IN ({}) AND status <> 'cancelled' AND status <> 'sent' AND status <> 'failed'",
                super::placeholders(chunk.len(), 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for d in chunk {
                q = q.bind(d.id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    /// Records the outcome of sends in one transaction.
    pub async fn record_outcomes(
        &self,
        outcomes: &[(i64, SendOutcome)],
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let now_s = ts(now);
        let mut tx = self.pool().begin().await?;
        let mut sent_ids = Vec::new();
        for (id, outcome) in outcomes {
            match outcome {
                SendOutcome::Sent { provider_id } => {
                    sqlx::query(
                        // The payload (names, the raw link tokens) is needed only to send:
                        // once sent it is dropped, so the store keeps only the links' hashes.
                        "UPDATE digests SET status = 'sent', provider_id = $1, sent_at = $2, \
                         claimed_until = NULL, claimed_by = NULL, last_error = NULL, payload = '' \
                         WHERE id = $3",
                    )
                    .bind(provider_id.clone())
                    .bind(now_s.clone())
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                    sent_ids.push(*id);
                }
                SendOutcome::Retry {
                    error,
                    next_attempt_at,
                } => {
                    set_outcome(
                        &mut tx,
                        *id,
                        "pending",
                        error,
                        Some(ts(*next_attempt_at)),
                        &now_s,
                    )
                    .await?;
                }
                SendOutcome::Deferred { error, until } => {
                    set_outcome(&mut tx, *id, "pending", error, Some(ts(*until)), &now_s).await?;
                    sqlx::query(
                        "UPDATE digests SET attempts = attempts - 1 WHERE id = $1 AND attempts > 0",
                    )
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                }
                SendOutcome::Failed { error } => {
                    set_outcome(&mut tx, *id, "failed", error, None, &now_s).await?;
                    // The next channel builds its own digest; this one is never sent.
                    sqlx::query("UPDATE digests SET payload = '' WHERE id = $1")
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        for chunk in sent_ids.chunks(BATCH) {
            let sql = format!(
                "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, updated_at = $1 \
                 WHERE digest_id IN ({}) AND status <> 'cancelled' AND status <> 'failed'",
                super::placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql)).bind(now_s.clone());
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "UPDATE reminders SET status = 'sent', updated_at = $1 WHERE status = 'planned' AND id IN \
                 (SELECT reminder_id FROM deliveries WHERE digest_id IN ({}))",
                super::placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql)).bind(now_s.clone());
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// When the outbox next needs a dispatch round with no new planning: the
    /// earliest retry of a pending digest (normal and urgent apart), the earliest
    /// claim lease to run out (a
    /// process that died mid-send, maybe on another host), and the first remind day
    /// after `today` of a planned stage. Index lookups only.
    pub async fn next_due(&self, today: NaiveDate) -> Result<NextDue> {
        let row = sqlx::query(
            "SELECT (SELECT MIN(next_attempt_at) FROM digests WHERE status = 'pending' AND urgent = 0), \
                    (SELECT MIN(next_attempt_at) FROM digests WHERE status = 'pending' AND urgent = 1), \
                    (SELECT MIN(claimed_until) FROM digests WHERE status = 'sending'), \
                    (SELECT MIN(remind_on) FROM reminders WHERE status = 'planned' AND remind_on > $1)",
        )
        .bind(date_str(today))
        .fetch_one(self.pool())
        .await?;
        let at = |s: Option<String>| -> Result<Option<DateTime<FixedOffset>>> {
            s.map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map_err(|_| StoreError::Corrupt(format!("timestamp {s:?}")))
            })
            .transpose()
        };
        Ok(NextDue {
            retry_at: at(row.try_get(0)?)?,
            urgent_retry_at: at(row.try_get(1)?)?,
            lease_ends_at: at(row.try_get(2)?)?,
            remind_on: row
                .try_get::<Option<String>, _>(3)?
                .map(|s| parse_date(&s))
                .transpose()?,
        })
    }

    /// Deliveries by status (the outbox as `qinqing status` shows it).
    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        let mut c = OutboxCounts::default();
        for r in rows {
            let n: i64 = r.try_get(1)?;
            match r.try_get::<String, _>(0)?.as_str() {
                "pending" => c.pending += n,
                "sending" => c.sending += n,
                "sent" => c.sent += n,
                "failed" => c.failed += n,
                "cancelled" => c.cancelled += n,
                _ => {}
            }
        }
        let row = sqlx::query(
            "SELECT (SELECT COUNT(DISTINCT reminder_id) FROM deliveries WHERE status = 'sent'), \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.status = 'failed' AND EXISTS \
                       (SELECT 1 FROM deliveries s WHERE s.reminder_id = d.reminder_id AND s.status = 'sent')), \
                    (SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND last_error LIKE 'deferred:%')",
        )
        .fetch_one(self.pool())
        .await?;
        c.delivered = row.try_get(0)?;
        c.rescued = row.try_get(1)?;
        c.deferred = row.try_get(2)?;
        c.failed -= c.rescued;
        Ok(c)
    }

    /// Reminder stages by status (planned, sent, cancelled, missed, failed).
    pub async fn reminder_counts(&self) -> Result<std::collections::BTreeMap<String, i64>> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM reminders GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect()
    }

    /// Pending and failed deliveries, newest first, for `status`.
    pub async fn troubled_deliveries(&self, limit: i64) -> Result<Vec<FailedDelivery>> {
        let rows = sqlx::query(
            "SELECT r.id, r.reference, r.rule, r.recipient, r.remind_on, d.channel, d.status, d.attempts, d.last_error, \
             CASE WHEN EXISTS (SELECT 1 FROM deliveries s WHERE s.reminder_id = d.reminder_id AND s.status = 'sent') \
             THEN 1 ELSE 0 END \
             FROM deliveries d JOIN reminders r ON r.id = d.reminder_id \
             WHERE d.status IN ('pending', 'sending', 'failed') ORDER BY d.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FailedDelivery {
                    reminder_id: r.try_get(0)?,
                    reference: r.try_get(1)?,
                    rule: r.try_get(2)?,
                    recipient: r.try_get(3)?,
                    remind_on: parse_date(&r.try_get::<String, _>(4)?)?,
                    channel: r.try_get(5)?,
                    status: r.try_get(6)?,
                    attempts: r.try_get(7)?,
                    last_error: r.try_get(8)?,
                    rescued: r.try_get::<i64, _>(9)? != 0,
                })
            })
            .collect()
    }

    /// Reminders with this reference (for `qinqing ack`), in id order.
    /// One stored stage of each of these occasions (the first stored), by key.
    pub async fn occasions_by_key(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, Reminder>> {
        let mut out = std::collections::HashMap::new();
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        for chunk in keys.chunks(400) {
            let sql = format!(
                "{REMINDER_SELECT} WHERE r.occasion_key IN ({}) ORDER BY r.id",
                super::placeholders(chunk.len(), 1)
            );
            let mut q = sqlx::query(super::sql_for(self.backend(), sql));
            for k in chunk {
                q = q.bind(k.clone());
            }
            for row in q.fetch_all(self.pool()).await? {
                let r = reminder_from_row(&row)?.reminder;
                out.entry(r.occasion_key.to_string()).or_insert(r);
            }
        }
        Ok(out)
    }

    /// The reminders (not escalations) of the occasions dated in [from, to], except
    /// those cancelled because the planner no longer plans them, in id order.
    pub async fn remind_stages_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredReminder>> {
        let sql = format!(
            "{REMINDER_SELECT} WHERE r.stage = 'remind' AND r.occasion_on >= $1 \
             AND r.occasion_on <= $2 AND (r.note IS NULL OR r.note <> $3) ORDER BY r.id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(date_str(from))
            .bind(date_str(to))
            .bind(NO_LONGER_APPLIES)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(reminder_from_row)
            .collect()
    }

    /// Digests sent on `channel` since `since`: in all, and per recipient.
    pub async fn sent_since(
        &self,
        channel: &str,
        since: DateTime<FixedOffset>,
    ) -> Result<(u64, std::collections::HashMap<String, u64>)> {
        let rows = sqlx::query(
            "SELECT recipient, COUNT(*) FROM digests WHERE channel = $1 AND status = 'sent' \
             AND sent_at >= $2 GROUP BY recipient",
        )
        .bind(channel.to_string())
        .bind(ts(since))
        .fetch_all(self.pool())
        .await?;
        let mut total = 0;
        let mut per = std::collections::HashMap::new();
        for r in rows {
            let n = r.try_get::<i64, _>(1)? as u64;
            total += n;
            per.insert(r.try_get(0)?, n);
        }
        Ok((total, per))
    }

    /// Escalations that had nobody to go to (no 上级, no fallback), newest first.
    pub async fn unrouted_escalations(&self, limit: i64) -> Result<Vec<StoredReminder>> {
        let sql = format!(
            "{REMINDER_SELECT} WHERE r.stage = 'escalate' AND r.recipient = '' \
             AND r.status IN ('planned', 'unsent') ORDER BY r.id DESC LIMIT {limit}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(reminder_from_row)
            .collect()
    }

    pub async fn reminders_by_reference(&self, reference: &str) -> Result<Vec<StoredReminder>> {
        let sql = format!("{REMINDER_SELECT} WHERE r.reference = $1 ORDER BY r.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(reference.trim().to_uppercase())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(reminder_from_row).collect()
    }
}

/// A digest back to `pending` (with its next attempt) or `failed`, with the error,
/// and its deliveries not yet settled likewise, counting the attempt.
async fn set_outcome(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    digest_id: i64,
    status: &str,
    error: &str,
    next_attempt_at: Option<String>,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE digests SET status = $1, last_error = $2, \
         next_attempt_at = COALESCE($3, next_attempt_at), claimed_until = NULL, claimed_by = NULL \
         WHERE id = $4",
    )
    .bind(status.to_string())
    .bind(error.to_string())
    .bind(next_attempt_at)
    .bind(digest_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = attempts + 1, last_error = $2, updated_at = $3 \
         WHERE digest_id = $4 AND status <> 'cancelled' AND status <> 'sent' AND status <> 'failed'",
    )
    .bind(status.to_string())
    .bind(error.to_string())
    .bind(now.to_string())
    .bind(digest_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
