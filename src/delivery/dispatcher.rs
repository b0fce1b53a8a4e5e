//! The dispatcher: one round takes what is due, cancels what was acknowledged,
//! satisfied or made moot by a death, routes the rest to a channel, stores each
//! digest before sending it, sends, and records the outcome. Transient failures are
//! retried with capped exponential backoff and jitter; permanent ones move the
//! reminder to the recipient's next channel; a reminder that fails on every channel
//! stays visible as failed and is logged once at ERROR.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use futures::StreamExt;

use super::channels::{Channel, Outgoing, SendError};
use super::digest;
use super::router;
use crate::calendar::WorkCalendar;
use crate::config::ScheduleConfig;
use crate::ledger::{ClosingContacts, cover};
use crate::planner::{Reminder, StageKind};
use crate::roster::Staff;
use crate::store::{NewDigest, SendOutcome, Store, StoreError, StoredReminder};

/// The note of an escalation with nobody to go to (stored unsent, listed by `status`).
pub const UNROUTED_NOTE: &str = "unrouted";

/// Digests sent at once per channel.
const CONCURRENCY: usize = 16;
/// Digests claimed per batch: one wave of concurrent sends, so every claimed
/// digest is sent (or cut off at SEND_TIMEOUT_SECS) well within its claim lease.
const CLAIM_BATCH: i64 = CONCURRENCY as i64;
/// A claim older than this is considered abandoned by a crashed process
/// (`database.claim_lease_secs`).
pub const DEFAULT_LEASE_SECS: u64 = 180;
/// No single send may take longer than this (channels have their own, shorter timeouts).
const SEND_TIMEOUT_SECS: u64 = 120;

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RoundReport {
    pub cancelled: usize,
    pub waiting: usize,
    pub digests: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

pub struct Dispatcher {
    store: Store,
    /// `host:pid` of this process, recorded on the digests it claims.
    owner: String,
    channels: Vec<Arc<dyn Channel>>,
    schedule: ScheduleConfig,
    calendar: std::sync::RwLock<Arc<WorkCalendar>>,
    /// Links in messages; None while `http.base_url` is unset.
    links: Option<digest::LinkSettings>,
    /// How long a claim is held before another instance may resend it.
    lease_secs: i64,
}

fn in_quiet_hours(t: NaiveTime, (start, end): (NaiveTime, NaiveTime)) -> bool {
    if start <= end {
        t >= start && t < end
    } else {
        t >= start || t < end
    }
}

/// Capped exponential backoff (`backon`): 30 s doubling up to 30 min, each wait plus
/// a random 0–100% jitter so the retries of a festival morning spread out (so the
/// first retry comes after 30–60 s and none waits more than an hour); a provider's
/// Retry-After wins when it is longer.
pub fn backoff(attempt: i64, hint: Option<Duration>) -> Duration {
    use backon::BackoffBuilder;
    const CAP: Duration = Duration::from_secs(30 * 60);
    let nth = attempt.clamp(1, 20) as usize - 1;
    let d = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(30))
        .with_max_delay(CAP)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(nth)
        .unwrap_or(CAP);
    match hint {
        Some(h) if h > d => h,
        _ => d,
    }
}

impl Dispatcher {
    pub fn new(
        store: Store,
        channels: Vec<Arc<dyn Channel>>,
        schedule: ScheduleConfig,
        calendar: Arc<WorkCalendar>,
        links: Option<digest::LinkSettings>,
    ) -> Dispatcher {
        Dispatcher {
            links,
            owner: owner_id(),
            store,
            channels,
            schedule,
            calendar: std::sync::RwLock::new(calendar),
            lease_secs: DEFAULT_LEASE_SECS as i64,
        }
    }

    /// Sets the claim lease (`database.claim_lease_secs`).
    pub fn with_claim_lease(mut self, secs: u64) -> Dispatcher {
        self.lease_secs = secs.min(i64::MAX as u64) as i64;
        self
    }

    /// The working-day calendar digests are sent by.
    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.calendar
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the calendar (the daemon re-read `calendar.holidays`).
    pub fn set_calendar(&self, calendar: Arc<WorkCalendar>) {
        *self.calendar.write().unwrap_or_else(|e| e.into_inner()) = calendar;
    }

    fn channel(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.channels.iter().find(|c| c.name() == name)
    }

    /// Whether an urgent (or a normal) message may go out at `now`.
    fn window_open(&self, now: DateTime<FixedOffset>, urgent: bool) -> bool {
        let t = now.time();
        let quiet = in_quiet_hours(t, self.schedule.quiet());
        if urgent {
            return !quiet || self.schedule.urgent_in_quiet_hours;
        }
        !quiet && self.calendar().is_workday(now.date_naive()) && t >= self.schedule.send_time()
    }

    /// The next working day's send window (`schedule.send_at`), in `now`'s offset.
    fn next_window(&self, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        let cal = self.calendar();
        let day = cal.workday_on_or_after(now.date_naive() + chrono::Duration::days(1));
        day.and_time(self.schedule.send_time())
            .and_local_timezone(*now.offset())
            .single()
            .unwrap_or(now + chrono::Duration::days(1))
    }

    /// The next instant after `now` at which a send window may open or a held
    /// stage may become due: today's `send_at`, the end of quiet hours, midnight.
    fn next_window_change(&self, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        let at = |day: NaiveDate, t: NaiveTime| {
            day.and_time(t).and_local_timezone(*now.offset()).single()
        };
        let today = now.date_naive();
        let tomorrow = today + chrono::Duration::days(1);
        let (_, quiet_end) = self.schedule.quiet();
        [
            at(today, self.schedule.send_time()),
            at(today, quiet_end),
            at(tomorrow, quiet_end),
            at(tomorrow, NaiveTime::MIN),
        ]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min()
        .unwrap_or(now + chrono::Duration::days(1))
    }

    /// When the next round has work, as far as the store knows after the round
    /// `report` describes: a retry or a lapsed claim lease, the send window or
    /// midnight for stages held back (`report.waiting`), the first later remind
    /// day. None when nothing is waiting at all (a tick or a change brings work).
    pub async fn next_wake(
        &self,
        now: DateTime<FixedOffset>,
        report: &RoundReport,
    ) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        let due = self.store.next_due(now.date_naive()).await?;
        let later_day = due.remind_on.and_then(|d| {
            d.and_time(NaiveTime::MIN)
                .and_local_timezone(*now.offset())
                .single()
        });
        let window = self.next_window_change(now);
        let held = (report.waiting > 0).then_some(window);
        // A digest already due goes at once while its send window is open, else
        // at the window's next change (a retry in quiet hours): never a busy loop.
        // A lapsed lease is released by the next round, whatever the window.
        let due_at = |t: DateTime<FixedOffset>, urgent: bool| {
            if t > now {
                t
            } else if self.window_open(now, urgent) {
                now
            } else {
                window
            }
        };
        Ok([
            due.retry_at.map(|t| due_at(t, false)),
            due.urgent_retry_at.map(|t| due_at(t, true)),
            due.lease_ends_at.map(|t| t.max(now)),
            later_day,
            held,
        ]
        .into_iter()
        .flatten()
        .min())
    }

    /// The claimed digests a channel's own daily caps hold back today, with why:
    /// counted from what the store says was sent since midnight, in claim order.
    async fn over_daily_caps(
        &self,
        claimed: &[crate::store::ClaimedDigest],
        now: DateTime<FixedOffset>,
    ) -> Result<HashMap<i64, String>, StoreError> {
        let mut out = HashMap::new();
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(*now.offset()).single())
            .unwrap_or(now);
        let mut counted: HashMap<&str, (u64, HashMap<String, u64>)> = HashMap::new();
        for d in claimed {
            let Some(ch) = self.channel(&d.channel) else {
                continue;
            };
            let (all, one) = ch.daily_caps();
            if all.is_none() && one.is_none() {
                continue;
            }
            if !counted.contains_key(d.channel.as_str()) {
                let c = self.store.sent_since(&d.channel, midnight).await?;
                counted.insert(d.channel.as_str(), c);
            }
            let (total, per) = counted.get_mut(d.channel.as_str()).expect("counted");
            let mine = per.entry(d.recipient.clone()).or_default();
            if let Some(max) = all.filter(|m| *total >= u64::from(*m)) {
                out.insert(
                    d.id,
                    format!("{} daily_limit = {max} reached today", d.channel),
                );
            } else if let Some(max) = one.filter(|m| *mine >= u64::from(*m)) {
                out.insert(
                    d.id,
                    format!(
                        "{} per_number_daily_limit = {max} reached today for this number",
                        d.channel
                    ),
                );
            } else {
                *total += 1;
                *mine += 1;
            }
        }
        Ok(out)
    }

    fn may_send(&self, r: &StoredReminder, now: DateTime<FixedOffset>) -> bool {
        self.window_open(now, r.reminder.urgent)
    }

    /// One dispatch round.
    pub async fn round(&self, now: DateTime<FixedOffset>) -> Result<RoundReport, StoreError> {
        let mut report = RoundReport::default();
        let began = std::time::Instant::now();
        let released = self.store.release_stale_claims(now).await?
            + self.store.release_dead_claims(&owner_alive).await?;
        if released > 0 {
            tracing::warn!(
                released,
                "resending digests abandoned mid-send (same idempotency keys)"
            );
        }
        // Route, send, and route again what failed for good on its channel.
        // Without digests, due reminders are taken a page at a time so memory stays
        // flat however many there are; with digests, a recipient's whole day must be
        // in one message, so the day is taken at once.
        let page = if self.schedule.digest {
            i64::MAX
        } else {
            2_000
        };
        for _ in 0..4 {
            report.waiting = 0;
            let mut cursor = 0;
            let mut routed = 0;
            let mut sent_any = false;
            loop {
                let (stored, next) = self.route(now, &mut report, cursor, page).await?;
                routed += stored;
                sent_any |= self.send_due(now, began, &mut report).await?;
                match next {
                    Some(id) => cursor = id,
                    None => break,
                }
            }
            if routed == 0 && !sent_any {
                break;
            }
        }
        Ok(report)
    }

    /// Keeps the reminders that may go now. An escalation goes only when a reminder
    /// of its occasion was delivered, and no earlier than that reminder's delay
    /// after it went (a reminder sent late moves its escalation along); while a
    /// reminder of it is still planned it waits; with none delivered or pending it is
    /// recorded `unsent` (`not_reminded`) and the occasion stays open.
    async fn escalations_due(
        &self,
        live: Vec<StoredReminder>,
        today: NaiveDate,
        report: &mut RoundReport,
        now: DateTime<FixedOffset>,
    ) -> Result<Vec<StoredReminder>, StoreError> {
        let keys: Vec<String> = {
            let set: HashSet<&str> = live
                .iter()
                .filter(|r| r.reminder.stage == StageKind::Escalate)
                .map(|r| &*r.reminder.occasion_key)
                .collect();
            set.into_iter().map(str::to_string).collect()
        };
        if keys.is_empty() {
            return Ok(live);
        }
        let reminded = self.store.occasion_reminders(&keys).await?;
        let mut unsent = Vec::new();
        let mut unrouted = Vec::new();
        let mut keep = Vec::with_capacity(live.len());
        for r in live {
            if r.reminder.stage != StageKind::Escalate {
                keep.push(r);
                continue;
            }
            if r.reminder.recipient == crate::planner::UNROUTED {
                unrouted.push(r.id);
                continue;
            }
            let state = reminded
                .get(&*r.reminder.occasion_key)
                .copied()
                .unwrap_or_default();
            match state.first_sent {
                Some((sent_on, planned_on)) => {
                    let due = sent_on.max(planned_on) + (r.reminder.remind_on - planned_on);
                    if due.max(r.reminder.remind_on) <= today {
                        keep.push(r);
                    } else {
                        report.waiting += 1;
                    }
                }
                None if state.pending => report.waiting += 1,
                None => unsent.push(r.id),
            }
        }
        if !unsent.is_empty() {
            tracing::info!(
                escalations = unsent.len(),
                "escalations not sent: their occasion was never reminded (not_reminded)"
            );
            self.store.mark_unsent(&unsent, "not_reminded", now).await?;
        }
        if !unrouted.is_empty() {
            tracing::warn!(
                escalations = unrouted.len(),
                "escalations with nobody to go to (no 上级 and no [escalation] fallback): \
                 recorded as unrouted, shown by `qinqing status`"
            );
            self.store
                .mark_unsent(&unrouted, UNROUTED_NOTE, now)
                .await?;
        }
        Ok(keep)
    }

    /// Turns a page of due reminders (ids above `after`) into stored digests.
    /// Returns how many digests were stored, and the cursor for the next page when
    /// this one was full.
    async fn route(
        &self,
        now: DateTime<FixedOffset>,
        report: &mut RoundReport,
        after: i64,
        page: i64,
    ) -> Result<(usize, Option<i64>), StoreError> {
        let today = now.date_naive();
        let due = self.store.due_reminders(today, after, page).await?;
        let next = (due.len() as i64 >= page)
            .then(|| due.last().map(|r| r.id))
            .flatten();
        let stored = self.route_page(now, report, due).await?;
        Ok((stored, next))
    }

    async fn route_page(
        &self,
        now: DateTime<FixedOffset>,
        report: &mut RoundReport,
        due: Vec<StoredReminder>,
    ) -> Result<usize, StoreError> {
        let today = now.date_naive();
        if due.is_empty() {
            return Ok(0);
        }
        let (ready, waiting): (Vec<_>, Vec<_>) =
            due.into_iter().partition(|r| self.may_send(r, now));
        report.waiting += waiting.len();
        if ready.is_empty() {
            return Ok(0);
        }

        // Close what was acknowledged or satisfied, or belongs to a deceased person.
        let person_ids: Vec<i64> = {
            let set: HashSet<i64> = ready.iter().map(|r| r.reminder.person_id).collect();
            set.into_iter().collect()
        };
        let persons = self.store.persons_brief(&person_ids).await?;
        let oldest = ready
            .iter()
            .map(|r| {
                let r = &r.reminder;
                r.window
                    .map(|w| w.0)
                    .unwrap_or(r.occasion_on)
                    .min(r.occasion_on)
            })
            .min()
            .unwrap_or(today);
        let contacts = self
            .store
            .contacts_between(oldest - chrono::Duration::days(1), today)
            .await?;
        let keys: Vec<String> = {
            let set: HashSet<&str> = ready.iter().map(|r| &*r.reminder.occasion_key).collect();
            set.into_iter().map(str::to_string).collect()
        };
        let mut contacts = contacts;
        contacts.extend(self.store.acknowledgements(&keys).await?);
        let closing = ClosingContacts::new(&contacts);
        let mut cancel = Vec::new();
        let mut live = Vec::with_capacity(ready.len());
        // A paused person's non-urgent reminders wait for the pause to end.
        let pauses = self.store.pauses().await?;
        for r in ready {
            if !r.reminder.urgent && cover::paused(r.reminder.person_id, today, &pauses) {
                report.waiting += 1;
                continue;
            }
            let dead = persons
                .get(&r.reminder.person_id)
                .is_some_and(|p| p.deceased_on.is_some() || !p.active)
                && !r.reminder.after_death;
            if dead || closing.closes(r.reminder.terms(), today) {
                cancel.push(r.id);
            } else {
                live.push(r);
            }
        }
        if !cancel.is_empty() {
            report.cancelled += cancel.len();
            self.store
                .cancel_reminders(&cancel, "acknowledged, satisfied or moot", now)
                .await?;
        }

        // Escalate only what was reminded, counted from the day it was first sent.
        let live = self.escalations_due(live, today, report, now).await?;
        if live.is_empty() {
            return Ok(0);
        }

        // Choose a channel per reminder.
        let staff: HashMap<String, Staff> = self
            .store
            .staff_list()
            .await?
            .into_iter()
            .map(|s| (s.number.clone(), s))
            .collect();
        // A staff member away hands their reminders and escalations to the colleague
        // covering (the stored stage still names them; the message says 代).
        let delegations = self.store.delegations_from(today).await?;
        let mut live = live;
        if !delegations.is_empty() {
            for r in &mut live {
                let to = cover::covering(&r.reminder.recipient, today, &delegations);
                if to != r.reminder.recipient {
                    let away = staff
                        .get(&r.reminder.recipient)
                        .map_or(r.reminder.recipient.as_str(), |s| s.name.as_str());
                    r.reminder.title = format!("{}(代{away})", r.reminder.title).into();
                    r.reminder.recipient = to.to_string();
                }
            }
        }
        let unknown = Staff::default();
        // (channel, recipient or "" for group robots) → reminders
        let mut groups: BTreeMap<(String, String), Vec<&StoredReminder>> = BTreeMap::new();
        let mut undeliverable = Vec::new();
        for r in &live {
            let st = staff.get(&r.reminder.recipient).unwrap_or(&unknown);
            let addressee = digest::addressee(st);
            let infos: Vec<(&str, bool)> = self
                .channels
                .iter()
                .map(|c| (c.name(), c.can_reach(&addressee)))
                .collect();
            match router::choose(
                &st.channels,
                &r.reminder.channels,
                &r.failed_channels,
                &infos,
            ) {
                Some(ch) => {
                    let group = self.channel(ch).is_some_and(|c| c.is_group());
                    let who = if group {
                        String::new()
                    } else {
                        r.reminder.recipient.clone()
                    };
                    groups.entry((ch.to_string(), who)).or_default().push(r);
                }
                None => undeliverable.push(r),
            }
        }
        if !undeliverable.is_empty() {
            for r in &undeliverable {
                tracing::error!(
                    reminder = r.id,
                    reference = %r.reminder.reference,
                    rule = %r.reminder.rule,
                    recipient = %r.reminder.recipient,
                    tried = %r.failed_channels.join(","),
                    "reminder could not be delivered on any channel; it stays in `qinqing status` as failed"
                );
            }
            let ids: Vec<i64> = undeliverable.iter().map(|r| r.id).collect();
            self.store.fail_reminders(&ids, now).await?;
        }

        // Build and store the digests (and the links they carry) before sending anything.
        let calendar = self.calendar();
        let assigned = self.store.assigned_staff(&person_ids).await?;
        let render = digest::Render {
            today,
            calendar: &calendar,
            persons: &persons,
            assigned: &assigned,
            staff: &staff,
            links: self.links.as_ref(),
        };
        let mut digests = Vec::new();
        for ((channel, who), rems) in &groups {
            let batches: Vec<Vec<&StoredReminder>> = if self.schedule.digest {
                vec![rems.clone()]
            } else {
                rems.iter().map(|r| vec![*r]).collect()
            };
            for batch in batches {
                let mut by_staff: BTreeMap<&str, Vec<&Reminder>> = BTreeMap::new();
                for r in &batch {
                    by_staff
                        .entry(r.reminder.recipient.as_str())
                        .or_default()
                        .push(&r.reminder);
                }
                let mut links = Vec::new();
                let sections = by_staff
                    .iter()
                    .map(|(no, rs)| {
                        digest::section(staff.get(*no).unwrap_or(&unknown), rs, &render, &mut links)
                    })
                    .collect();
                let ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
                let recipient = if who.is_empty() {
                    format!("group:{channel}")
                } else {
                    who.clone()
                };
                let key = digest::idempotency_key(channel, &recipient, &ids);
                let reminders: Vec<&Reminder> = batch.iter().map(|r| &r.reminder).collect();
                let msg = digest::outgoing(key.clone(), sections, &reminders, today);
                digests.push(NewDigest {
                    idempotency_key: key,
                    channel: channel.clone(),
                    recipient,
                    payload: serde_json::to_string(&msg).expect("serialisable message"),
                    reminder_ids: ids,
                    urgent: batch.iter().any(|r| r.reminder.urgent),
                    links,
                });
            }
        }
        let stored = self.store.store_digests(&digests, now).await?;
        report.digests += stored;
        Ok(stored)
    }

    /// Sends every due stored digest. Returns whether anything was attempted.
    async fn send_due(
        &self,
        now: DateTime<FixedOffset>,
        began: std::time::Instant,
        report: &mut RoundReport,
    ) -> Result<bool, StoreError> {
        let mut any = false;
        self.store.cancel_emptied_digests().await?;
        loop {
            // The lease runs from the moment of the claim, not the round's start: a
            // long round (a festival morning, a slow endpoint) must not claim
            // digests whose lease has already run out for the other instances.
            let claim_at = now + chrono::Duration::from_std(began.elapsed()).unwrap_or_default();
            let claimed = self
                .store
                .claim_digests(
                    claim_at,
                    CLAIM_BATCH,
                    self.lease_secs,
                    &self.owner,
                    self.window_open(now, false),
                    self.window_open(now, true),
                )
                .await?;
            if claimed.is_empty() {
                return Ok(any);
            }
            any = true;
            let max_attempts = self.schedule.max_attempts as i64;
            let capped = self.over_daily_caps(&claimed, now).await?;
            let next_window = self.next_window(now);
            let mut results = futures::stream::iter(claimed)
                .map(|d| {
                    let over = capped.get(&d.id).cloned();
                    async move {
                    if let Some(why) = over {
                        tracing::warn!(digest = d.id, channel = %d.channel, recipient = %d.recipient,
                            until = %next_window, "{why}; deferred to the next working day");
                        return (d.id, SendOutcome::Deferred { error: format!("deferred: {why}"), until: next_window });
                    }
                    let outcome = match (self.channel(&d.channel), serde_json::from_str::<Outgoing>(&d.payload)) {
                        (None, _) => SendOutcome::Failed {
                            error: format!("channel {} is no longer configured", d.channel),
                        },
                        (_, Err(e)) => SendOutcome::Failed {
                            error: format!("stored digest cannot be read: {e}"),
                        },
                        (Some(ch), Ok(msg)) => {
                            let started = std::time::Instant::now();
                            let r = tokio::time::timeout(Duration::from_secs(SEND_TIMEOUT_SECS), ch.send(&msg))
                                .await
                                .unwrap_or_else(|_| Err(SendError::transient(format!("send did not finish in {SEND_TIMEOUT_SECS} s"))));
                            crate::metrics::observe_send(&d.channel, started.elapsed().as_secs_f64());
                            match r {
                                Ok(receipt) => {
                                    tracing::info!(digest = d.id, channel = %d.channel, recipient = %d.recipient,
                                        key = %d.idempotency_key, "delivered");
                                    SendOutcome::Sent { provider_id: receipt.provider_id }
                                }
                                Err(SendError::DailyLimit { reason }) => {
                                    tracing::warn!(digest = d.id, channel = %d.channel, until = %next_window,
                                        error = %reason, "daily limit reached; deferred to the next working day");
                                    SendOutcome::Deferred {
                                        error: format!("deferred: {reason}"),
                                        until: next_window,
                                    }
                                }
                                Err(e) if e.is_transient() && d.attempts < max_attempts => {
                                    let wait = backoff(d.attempts, e.retry_after());
                                    tracing::warn!(digest = d.id, channel = %d.channel, attempt = d.attempts,
                                        retry_in_secs = wait.as_secs(), error = %e.reason(), "send failed; will retry");
                                    SendOutcome::Retry {
                                        error: e.to_string(),
                                        next_attempt_at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
                                    }
                                }
                                Err(e) => {
                                    tracing::warn!(digest = d.id, channel = %d.channel, attempt = d.attempts,
                                        error = %e.reason(), "send failed for good on this channel; trying the next one");
                                    SendOutcome::Failed {
                                        error: if e.is_transient() {
                                            format!("gave up after {} attempts: {e}", d.attempts)
                                        } else {
                                            e.to_string()
                                        },
                                    }
                                }
                            }
                        }
                    };
                    (d.id, outcome)
                }})
                .buffer_unordered(CONCURRENCY)
                // Record outcomes as they arrive, so a crash can repeat only the
                // sends that were in flight, not the whole claimed batch.
                .ready_chunks(CONCURRENCY);
            while let Some(done) = results.next().await {
                for (_, o) in &done {
                    match o {
                        SendOutcome::Sent { .. } => report.sent += 1,
                        SendOutcome::Retry { .. } => report.retried += 1,
                        SendOutcome::Failed { .. } => report.failed += 1,
                        SendOutcome::Deferred { .. } => report.retried += 1,
                    }
                }
                self.store.record_outcomes(&done, now).await?;
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// `host:pid` of this process.
fn owner_id() -> String {
    format!("{}:{}", hostname(), std::process::id())
}

/// Whether the claim owner may still be running: a process on this host is checked
/// in /proc; one on another host is presumed alive until its lease runs out.
fn owner_alive(owner: &str) -> bool {
    match owner.rsplit_once(':') {
        Some((host, pid)) if host == hostname() => {
            std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = (
            NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
        );
        assert!(in_quiet_hours(
            NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
            q
        ));
        assert!(in_quiet_hours(NaiveTime::from_hms_opt(3, 0, 0).unwrap(), q));
        assert!(!in_quiet_hours(
            NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
            q
        ));
        assert!(!in_quiet_hours(
            NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            q
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let a = backoff(1, None).as_secs_f64();
        assert!((30.0..60.0).contains(&a), "{a}");
        let b = backoff(3, None).as_secs_f64();
        assert!((120.0..240.0).contains(&b), "{b}");
        for _ in 0..100 {
            let c = backoff(30, None).as_secs_f64();
            assert!((1800.0..3600.0).contains(&c), "{c}");
        }
        assert!(backoff(1, Some(Duration::from_secs(600))).as_secs() >= 600);
    }
}
