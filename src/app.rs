//! The composition root: config → store → calendar → rules → channels → scheduler.
//! Holds no business logic; handles SIGTERM/SIGINT and the watchers.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset};
use tokio::sync::{RwLock, mpsc};

use crate::calendar::WorkCalendar;
use crate::cli::{AckArgs, Format, RunArgs, StatusArgs, TestSendArgs};
use crate::clock::Clock;
use crate::commands::Ctx;
use crate::commands::import::{ImportOptions, ImportStatus, import_file};
use crate::config::Config;
use crate::delivery::channels::{self, Channel, MessageKind, Outgoing, SmsFields};
use crate::delivery::digest;
use crate::delivery::dispatcher::Dispatcher;
use crate::rules::RuleSet;
use crate::store::{NewContact, StageRef, Store};
use crate::tick::{self, Planner};

const ROSTER_ERRORS: &str = "roster_errors";
const ROSTER_FILE: &str = "roster_file";

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

fn after_death(rules: &RuleSet) -> HashSet<String> {
    rules
        .rules
        .iter()
        .filter(|r| r.after_death)
        .map(|r| r.id.clone())
        .collect()
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Newest modification time in a folder (rules and their tests).
fn folder_stamp(dir: &Path) -> Option<SystemTime> {
    let mut newest = mtime(dir);
    for sub in [dir.to_path_buf(), dir.join("tests")] {
        if let Ok(rd) = std::fs::read_dir(&sub) {
            for e in rd.flatten() {
                if let Some(t) = mtime(&e.path()) {
                    newest = newest.max(Some(t));
                }
            }
        }
    }
    newest
}

/// Everything the daemon loop works with.
struct Daemon {
    config: Config,
    store: Store,
    clock: Arc<dyn Clock>,
    calendar: WorkCalendar,
    rules: RwLock<Arc<RuleSet>>,
    planner: Planner,
    dispatcher: Dispatcher,
    /// A tick was skipped while another daemon planned: plan again at the next watch.
    replan: std::sync::atomic::AtomicBool,
}

impl Daemon {
    async fn build(ctx: &Ctx, clock: Arc<dyn Clock>) -> Result<Daemon> {
        let config = ctx.config.clone();
        let calendar = work_calendar(&config)?;
        let rules = load_rules(&config, calendar.clone());
        for e in &rules.errors {
            tracing::error!("rule not loaded: {e}");
        }
        if rules.rules.is_empty() {
            bail!("no rule could be loaded (rules.path); fix the errors above");
        }
        let chans = channels::build_with_clock(&config.channels, clock.clone())
            .map_err(|e| anyhow::anyhow!("channel configuration: {e}"))?;
        if chans.is_empty() {
            bail!(
                "no channel is configured: add [channels.console] or another channel to the config"
            );
        }
        let store = ctx.store().await?;
        let dispatcher = Dispatcher::new(
            store.clone(),
            chans,
            config.schedule.clone(),
            Arc::new(calendar.clone()),
        );
        Ok(Daemon {
            config,
            store,
            clock,
            calendar,
            rules: RwLock::new(Arc::new(rules)),
            planner: Planner::default(),
            dispatcher,
            replan: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Imports `roster.path` with the same checks as `qinqing import`; a file with
    /// errors is not applied and its errors are kept for `qinqing status`.
    async fn import_roster(&self) -> Result<()> {
        let Some(path) = &self.config.roster.path else {
            return Ok(());
        };
        // Only a changed file is imported: an unchanged one must not undo what a
        // `qinqing import` of another file changed since.
        let fingerprint = match std::fs::read(path) {
            Ok(bytes) => {
                use sha2::Digest;
                format!(
                    "{}|{}",
                    path.display(),
                    hex::encode(sha2::Sha256::digest(&bytes))
                )
            }
            Err(e) => {
                tracing::error!(file = %path.display(), "roster file cannot be read: {e} (roster.path)");
                return Ok(());
            }
        };
        if self.store.get_meta(ROSTER_FILE).await?.as_deref() == Some(fingerprint.as_str()) {
            tracing::debug!(file = %path.display(), "roster file unchanged since its last import");
            return Ok(());
        }
        let opts = ImportOptions {
            sheet: self.config.roster.sheet.clone(),
            staff: self.config.roster.staff.clone(),
            dry_run: false,
            skip_invalid: false,
            deactivate_missing: false,
        };
        match import_file(&self.store, path, &opts, self.clock.today()).await {
            Ok(out) => {
                for w in &out.warnings {
                    tracing::warn!("roster: {w}");
                }
                if out.status == ImportStatus::Rejected {
                    for e in &out.errors {
                        tracing::error!("roster: {e}");
                    }
                    tracing::error!(file = %path.display(), errors = out.errors.len(),
                        "roster file has errors and was not applied; the last good roster stays in use");
                } else {
                    let s = &out.summary;
                    tracing::info!(file = %path.display(), added = s.added, changed = s.changed,
                        unchanged = s.unchanged, events = s.events, "roster imported");
                }
                self.store
                    .set_meta(ROSTER_ERRORS, &serde_json::to_string(&out.errors)?)
                    .await?;
                self.store.set_meta(ROSTER_FILE, &fingerprint).await?;
            }
            Err(e) => {
                tracing::error!(file = %path.display(), "roster could not be read: {e:#}");
                self.store
                    .set_meta(ROSTER_ERRORS, &serde_json::to_string(&[format!("{e:#}")])?)
                    .await?;
            }
        }
        Ok(())
    }

    async fn reload_rules(&self) {
        let Some(dir) = &self.config.rules.path else {
            return;
        };
        let previous = self.rules.read().await.clone();
        let next = RuleSet::load_dir(dir, self.calendar.clone(), Some(&previous));
        for e in &next.errors {
            tracing::error!("rule not loaded: {e}");
        }
        tracing::info!(
            rules = next.rules.len(),
            errors = next.errors.len(),
            "rules reloaded"
        );
        *self.rules.write().await = Arc::new(next);
    }

    async fn tick(&self, now: DateTime<FixedOffset>) -> Result<()> {
        let rules = self.rules.read().await.clone();
        let report = self
            .planner
            .tick(&self.store, rules, now, self.config.schedule.catch_up_days)
            .await?;
        self.replan
            .store(report.skipped, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    async fn dispatch(&self, now: DateTime<FixedOffset>) -> Result<()> {
        let rules = self.rules.read().await.clone();
        let report = self.dispatcher.round(now, &after_death(&rules)).await?;
        if report.digests + report.sent + report.retried + report.failed + report.cancelled > 0 {
            tracing::info!(
                digests = report.digests,
                sent = report.sent,
                retried = report.retried,
                failed = report.failed,
                cancelled = report.cancelled,
                waiting = report.waiting,
                "dispatch round done"
            );
        }
        Ok(())
    }
}

pub async fn run(ctx: &Ctx, args: RunArgs) -> Result<i32> {
    let clock: Arc<dyn Clock> = match &args.now {
        Some(s) => Arc::new(crate::commands::parse_now(s).context("--now")?),
        None => ctx.clock.clone(),
    };
    let signals = if args.once {
        None
    } else {
        Some(Signals::new()?)
    };
    let daemon = Arc::new(Daemon::build(ctx, clock.clone()).await?);
    daemon.import_roster().await?;
    if args.once {
        let now = clock.now();
        daemon.tick(now).await?;
        daemon.dispatch(now).await?;
        let counts = daemon.store.outbox_counts().await?;
        tracing::info!(
            pending = counts.pending,
            sent = counts.sent,
            failed = counts.failed,
            cancelled = counts.cancelled,
            "run --once finished"
        );
        return Ok(0);
    }
    serve(daemon, clock, signals.expect("registered above")).await?;
    Ok(0)
}

enum Work {
    Tick,
}

/// The long-running daemon: cron tick, dispatcher interval, watchers, signals.
/// SIGTERM and SIGINT, registered before start-up work so a stop request during a
/// long first import or tick is honoured (exit 0) instead of killing the process.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

async fn serve(daemon: Arc<Daemon>, clock: Arc<dyn Clock>, mut signals: Signals) -> Result<()> {
    let (tx, mut rx) = mpsc::channel::<Work>(8);
    let mut scheduler = tokio_cron_scheduler::JobScheduler::new().await?;
    let plan = daemon.config.schedule.plan_time();
    let cron = format!(
        "0 {} {} * * *",
        chrono::Timelike::minute(&plan),
        chrono::Timelike::hour(&plan)
    );
    let tick_tx = tx.clone();
    scheduler
        .add(tokio_cron_scheduler::Job::new_async_tz(
            cron.as_str(),
            chrono_tz::Asia::Shanghai,
            move |_, _| {
                let tx = tick_tx.clone();
                Box::pin(async move {
                    let _ = tx.send(Work::Tick).await;
                })
            },
        )?)
        .await?;
    scheduler.start().await?;
    if let Some(addr) = daemon.config.http.listen.clone() {
        let store = daemon.store.clone();
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("http.listen = {addr}"))?;
        tokio::spawn(async move {
            let app = axum::Router::new().route(
                "/healthz",
                axum::routing::get(move || {
                    let store = store.clone();
                    async move {
                        match tick::last_tick(&store).await {
                            Ok(t) => (
                                axum::http::StatusCode::OK,
                                format!("ok last_tick={}", t.unwrap_or_default()),
                            ),
                            Err(e) => (
                                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                                format!("store: {e}"),
                            ),
                        }
                    }
                }),
            );
            let _ = axum::serve(listener, app).await;
        });
    }

    daemon.tick(clock.now()).await?;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    tracing::info!("qinqing is running");

    let mut dispatch_every = tokio::time::interval(Duration::from_secs(
        daemon.config.schedule.dispatch_every_secs.max(1),
    ));
    let mut watch_every = tokio::time::interval(Duration::from_secs(
        daemon.config.schedule.watch_every_secs.max(1),
    ));
    watch_every.tick().await;
    let mut roster_stamp = daemon.config.roster.path.as_deref().and_then(mtime);
    let mut rules_stamp = daemon.config.rules.path.as_deref().and_then(folder_stamp);
    let mut store_stamp = daemon.store.change_stamp().await.ok();
    let grace = Duration::from_secs(daemon.config.schedule.shutdown_grace_secs);

    loop {
        let work: Option<Work> = tokio::select! {
            _ = signals.recv() => break,
            w = rx.recv() => w,
            _ = dispatch_every.tick() => None,
            _ = watch_every.tick() => {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                let mut replan = daemon.replan.swap(false, std::sync::atomic::Ordering::Relaxed);
                let r = daemon.config.roster.path.as_deref().and_then(mtime);
                if r != roster_stamp {
                    roster_stamp = r;
                    if let Err(e) = daemon.import_roster().await {
                        tracing::error!("roster import failed: {e:#}");
                    }
                }
                let r = daemon.config.rules.path.as_deref().and_then(folder_stamp);
                if r != rules_stamp {
                    rules_stamp = r;
                    daemon.reload_rules().await;
                    replan = true;
                }
                let s = daemon.store.change_stamp().await.ok();
                if s != store_stamp {
                    store_stamp = s;
                    replan = true;
                }
                replan.then_some(Work::Tick)
            }
        };
        // Run the step as its own task so a signal can wait for it within the grace period.
        let d = daemon.clone();
        let now = clock.now();
        let step = tokio::spawn(async move {
            if matches!(work, Some(Work::Tick))
                && let Err(e) = d.tick(now).await
            {
                tracing::error!("planning tick failed: {e:#}");
            }
            if let Err(e) = d.dispatch(now).await {
                tracing::error!("dispatch failed: {e:#}");
            }
        });
        tokio::pin!(step);
        tokio::select! {
            _ = &mut step => {}
            _ = signals.recv() => { finish(step, grace).await; break; }
        }
    }
    tracing::info!("stopping: no new work taken");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    scheduler.shutdown().await.ok();
    daemon.store.close().await;
    Ok(())
}

/// Lets an in-flight step finish within the grace period; past it, the step is
/// abandoned and its claimed digests are resent by the next start.
async fn finish(step: std::pin::Pin<&mut tokio::task::JoinHandle<()>>, grace: Duration) {
    tracing::info!(
        grace_secs = grace.as_secs(),
        "signal received; finishing in-flight sends"
    );
    if tokio::time::timeout(grace, step).await.is_err() {
        tracing::warn!(
            "in-flight sends did not finish within the grace period; they will be resent at next start"
        );
    }
}

#[derive(serde::Serialize)]
struct StatusReport {
    last_tick: Option<String>,
    last_tick_at: Option<String>,
    deliveries: crate::store::OutboxCounts,
    reminders: std::collections::BTreeMap<String, i64>,
    failures: Vec<crate::store::FailedDelivery>,
    roster_errors: Vec<String>,
}

pub async fn status(ctx: &Ctx, args: StatusArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let report = StatusReport {
        last_tick: tick::last_tick(&store).await?,
        last_tick_at: store.get_meta("last_tick_at").await?,
        deliveries: store.outbox_counts().await?,
        reminders: store.reminder_counts().await?,
        failures: store.troubled_deliveries(50).await?,
        roster_errors: store
            .get_meta(ROSTER_ERRORS)
            .await?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
    };
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(0);
    }
    println!(
        "last tick: {}",
        report.last_tick.as_deref().unwrap_or("never")
    );
    let d = &report.deliveries;
    println!(
        "deliveries: {} pending, {} sending, {} sent, {} failed, {} cancelled",
        d.pending, d.sending, d.sent, d.failed, d.cancelled
    );
    let r: Vec<String> = report
        .reminders
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    println!(
        "reminder stages: {}",
        if r.is_empty() {
            "none".into()
        } else {
            r.join(", ")
        }
    );
    if !report.failures.is_empty() {
        println!("pending and failed deliveries:");
        for f in &report.failures {
            println!(
                "  {} {} {} → {} via {}: {} after {} attempt(s){}",
                f.remind_on,
                f.reference,
                f.rule,
                f.recipient,
                f.channel,
                f.status,
                f.attempts,
                f.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
    }
    if !report.roster_errors.is_empty() {
        println!("roster file errors (not applied):");
        for e in &report.roster_errors {
            println!("  {e}");
        }
    }
    Ok(0)
}

pub async fn ack(ctx: &Ctx, args: AckArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let reference = args.reference.trim().to_uppercase();
    let stages = store.reminders_by_reference(&reference).await?;
    if stages.is_empty() {
        bail!("no reminder with reference {reference}; check the 编号 in the message");
    }
    if let Some(by) = &args.by
        && !store.staff_numbers().await?.iter().any(|s| s == by)
    {
        bail!("--by: no staff member with 工号 {by}");
    }
    let key = pick_occasion(&reference, &stages, args.by.as_deref())?;
    let first = stages
        .iter()
        .find(|s| s.occasion_key == key)
        .expect("a stage of the chosen occasion");
    let contact_kind = if first.kind == "call" {
        "call"
    } else {
        "visit"
    };
    let today = ctx.clock.today();
    store
        .add_contact(&NewContact {
            person_id: first.person_id,
            staff_number: Some(args.by.clone().unwrap_or_else(|| first.recipient.clone())),
            on: today,
            kind: contact_kind.into(),
            note: args.note.clone(),
            reference: Some(key.clone()),
        })
        .await?;
    let open: Vec<i64> = stages
        .iter()
        .filter(|s| s.occasion_key == key && s.status == "planned")
        .map(|s| s.id)
        .collect();
    store
        .cancel_reminders(&open, "acknowledged", ctx.clock.now())
        .await?;
    println!(
        "{reference} acknowledged on {today} ({}): recorded as a {contact_kind}; {} pending reminder(s) cancelled",
        first.title,
        open.len()
    );
    Ok(0)
}

/// A 6-character reference can, rarely, name two occasions: prefer the one sent to
/// `by`, then the ones still open; refuse to guess beyond that.
fn pick_occasion(reference: &str, stages: &[StageRef], by: Option<&str>) -> Result<String> {
    let keys_where = |pred: &dyn Fn(&StageRef) -> bool| -> Vec<String> {
        let mut k: Vec<String> = stages
            .iter()
            .filter(|s| pred(s))
            .map(|s| s.occasion_key.clone())
            .collect();
        k.sort();
        k.dedup();
        k
    };
    let mut left = keys_where(&|_| true);
    if left.len() > 1
        && let Some(by) = by
    {
        let k = keys_where(&|s| s.recipient == by);
        if !k.is_empty() {
            left = k;
        }
    }
    if left.len() > 1 {
        let k = keys_where(&|s| left.contains(&s.occasion_key) && s.status == "planned");
        if !k.is_empty() {
            left = k;
        }
    }
    if left.len() > 1 {
        let list: Vec<String> = stages
            .iter()
            .filter(|s| left.contains(&s.occasion_key))
            .map(|s| format!("{} {} → {}", s.occasion_on, s.title, s.recipient))
            .collect();
        bail!(
            "reference {reference} names {} occasions; add --by 工号 to say whose:\n  {}",
            left.len(),
            list.join("\n  ")
        );
    }
    Ok(left.remove(0))
}

pub async fn test_send(ctx: &Ctx, args: TestSendArgs) -> Result<i32> {
    let chans = channels::build_with_clock(&ctx.config.channels, ctx.clock.clone())
        .map_err(|e| anyhow::anyhow!("channel configuration: {e}"))?;
    let Some(channel): Option<&Arc<dyn Channel>> = chans.iter().find(|c| c.name() == args.channel)
    else {
        let names: Vec<&str> = chans.iter().map(|c| c.name()).collect();
        bail!(
            "--channel {}: not configured (configured: {})",
            args.channel,
            names.join(", ")
        );
    };
    let store = ctx.store().await?;
    let staff = store
        .staff_list()
        .await?
        .into_iter()
        .find(|s| s.number == args.staff)
        .with_context(|| format!("--staff: no staff member with 工号 {}", args.staff))?;
    let contact = digest::contact(&staff);
    if !channel.can_reach(&contact) {
        bail!(
            "{} has no address for channel {} (check 手机/邮箱 in the staff sheet)",
            args.staff,
            args.channel
        );
    }
    let now = ctx.clock.now();
    let msg = Outgoing {
        idempotency_key: format!("qq-test-{}-{}", args.staff, now.timestamp()),
        subject: "亲情服务提醒测试".into(),
        sections: vec![crate::delivery::channels::Section {
            contact,
            lines: vec!["这是一条测试消息,收到即说明提醒渠道工作正常。".into()],
            greeting: format!("{}同志:", staff.name),
        }],
        sms: SmsFields {
            name: staff.name.clone(),
            count: 0,
            reference: "TEST".into(),
            date: now.format("%m月%d日").to_string(),
        },
        kind: MessageKind::Test,
    };
    match channel.send(&msg).await {
        Ok(r) => {
            println!(
                "test message sent to {} via {}{}",
                args.staff,
                args.channel,
                r.provider_id
                    .map(|id| format!(" (provider id {id})"))
                    .unwrap_or_default()
            );
            Ok(0)
        }
        Err(e) => bail!(
            "test message to {} via {} failed: {e}",
            args.staff,
            args.channel
        ),
    }
}
