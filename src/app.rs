//! The composition root: config → store → calendar → rules → channels → dispatcher
//! → schedule → HTTP, and the signals. It wires the use cases of `service` to time
//! and to the file watchers and holds no business logic of its own.
//!
//! Time comes from the context's clock only: `run --once` is one tick and one round
//! at the clock's `now`; the daemon plans at start and then daily at
//! `schedule.plan_at` as its clock reads it (a tokio-cron-scheduler one-shot job,
//! re-armed after each tick from the clock), so `QINQING_NOW=T qinqing run` starts
//! at T and runs at real speed from there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveTime};
use tokio::sync::{RwLock, mpsc};

use crate::calendar::WorkCalendar;
use crate::delivery::channels;
use crate::delivery::dispatcher::Dispatcher;
use crate::rules::RuleSet;
use crate::service::plan::Planning;
use crate::service::{self, Context};
use crate::store::Store;

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

/// How long a changed file must be left alone before it is read (the debounce of
/// file watching).
const SETTLE: Duration = Duration::from_millis(1500);

/// The files the daemon follows, with the stamps it last saw. The stamps are taken
/// before the files are first read, so an edit made while the daemon starts is
/// seen by the first watch.
struct Watched {
    roster: Vec<PathBuf>,
    rules: Option<PathBuf>,
    holidays: Option<PathBuf>,
    stamps: [Vec<Option<SystemTime>>; 3],
}

impl Watched {
    fn new(config: &crate::config::Config) -> Watched {
        let mut w = Watched {
            roster: [config.roster.path.clone(), config.roster.staff.clone()]
                .into_iter()
                .flatten()
                .collect(),
            rules: config.rules.path.clone(),
            holidays: config.calendar.holidays.clone(),
            stamps: Default::default(),
        };
        w.stamps = w.read();
        w
    }

    fn read(&self) -> [Vec<Option<SystemTime>>; 3] {
        [
            self.roster.iter().map(|p| mtime(p)).collect(),
            vec![self.rules.as_deref().and_then(folder_stamp)],
            vec![self.holidays.as_deref().and_then(mtime)],
        ]
    }

    /// Which of (roster, rules, holidays) changed since the last call. A change
    /// is acted on once it has settled: when its newest file was last written at
    /// least [`SETTLE`] ago, so an editor's save or a copy still being written
    /// (several rule files, an Excel file) is read once, whole. An unsettled
    /// change is looked at again by the next watch.
    fn changes(&mut self) -> [bool; 3] {
        self.changes_at(SystemTime::now())
    }

    fn changes_at(&mut self, wall: SystemTime) -> [bool; 3] {
        let now = self.read();
        std::array::from_fn(|i| {
            if now[i] == self.stamps[i] {
                return false;
            }
            // (A file stamped in the future, from a skewed clock, counts as settled.)
            let settled = now[i]
                .iter()
                .flatten()
                .all(|t| wall.duration_since(*t).map_or(true, |age| age >= SETTLE));
            if settled {
                self.stamps[i] = now[i].clone();
            }
            settled
        })
    }
}

/// Everything the daemon works with.
struct Daemon {
    ctx: Context,
    store: Store,
    /// The working days: built in, plus `calendar.holidays` as last read well.
    calendar: std::sync::RwLock<WorkCalendar>,
    rules: Arc<RwLock<Arc<RuleSet>>>,
    planning: Planning,
    dispatcher: Dispatcher,
    /// A tick was skipped while another daemon planned: plan again at the next watch.
    replan: AtomicBool,
}

impl Daemon {
    async fn build(ctx: Context) -> Result<Daemon> {
        let calendar = service::work_calendar(&ctx.config)?;
        let rules = service::load_rules(&ctx.config, calendar.clone());
        for e in &rules.errors {
            tracing::error!("rule not loaded: {e}");
        }
        if rules.rules.is_empty() {
            bail!("no rule could be loaded (rules.path); fix the errors above");
        }
        let chans = channels::build(&ctx.config.channels, ctx.clock.clone())
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
            ctx.config.schedule.clone(),
            Arc::new(calendar.clone()),
            service::links::settings(&ctx.config),
        )
        .with_claim_lease(ctx.config.database.claim_lease_secs);
        Ok(Daemon {
            ctx,
            store,
            calendar: std::sync::RwLock::new(calendar),
            rules: Arc::new(RwLock::new(Arc::new(rules))),
            planning: Planning::default(),
            dispatcher,
            replan: AtomicBool::new(false),
        })
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.ctx.clock.now()
    }

    async fn import_roster(&self) -> Result<service::import::RosterState> {
        service::import::import_if_changed(&self.store, &self.ctx.config.roster, self.now()).await
    }

    fn calendar(&self) -> WorkCalendar {
        self.calendar
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads `calendar.holidays`; a bad file keeps the last good calendar, with
    /// its errors in `status`. A new calendar reaches the rules and the dispatcher.
    async fn reload_calendar(&self) -> bool {
        match service::work_calendar(&self.ctx.config) {
            Ok(cal) => {
                *self.calendar.write().unwrap_or_else(|e| e.into_inner()) = cal.clone();
                self.dispatcher.set_calendar(Arc::new(cal));
                tracing::info!("holiday file reloaded");
                if let Err(e) = service::status::record_calendar_errors(&self.store, &[]).await {
                    tracing::error!("cannot record the holiday file's state: {e:#}");
                }
                self.reload_rules().await;
                true
            }
            Err(e) => {
                tracing::error!(
                    "holiday file not reloaded, the last good calendar stays in use: {e:#}"
                );
                let errors = [format!("{e:#}")];
                if let Err(e) = service::status::record_calendar_errors(&self.store, &errors).await
                {
                    tracing::error!("cannot record the holiday file's errors: {e:#}");
                }
                false
            }
        }
    }

    /// Recompiles every rule and runs its test cases: when all compile and pass, the
    /// new set replaces the running one at once; otherwise the running rules stay,
    /// and the errors (file, line, column) are logged and shown by `status` and
    /// `/healthz` until a reload succeeds.
    async fn reload_rules(&self) {
        let previous = self.rules.read().await.clone();
        let next = match &self.ctx.config.rules.path {
            Some(dir) => RuleSet::load_dir(dir, self.calendar(), Some(&previous)),
            None => RuleSet::builtin(self.calendar()),
        };
        let next = service::with_config_defaults(next, &self.ctx.config);
        let failing: Vec<crate::rules::LoadError> = next
            .run_cases()
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| crate::rules::LoadError {
                file: c.file,
                line: None,
                column: None,
                message: format!(
                    "测试用例 {} 没有通过 (rule test failed): {}",
                    c.name, c.message
                ),
            })
            .collect();
        if next.errors.is_empty() && failing.is_empty() {
            tracing::info!(rules = next.rules.len(), "rules reloaded");
            *self.rules.write().await = Arc::new(next);
        } else {
            let errors: Vec<_> = next.errors.iter().cloned().chain(failing).collect();
            for e in &errors {
                tracing::error!("rule not loaded: {e}");
            }
            tracing::error!(
                errors = errors.len(),
                "rules not reloaded: the running rules stay in use until every rule compiles and its tests pass"
            );
            *self.rules.write().await = Arc::new(previous.with_errors(errors));
        }
        self.record_rules_loaded().await;
    }

    /// On SIGHUP: the config file is read again only to say what changed. None of it
    /// is applied while running (the store, the listener and the channels are built
    /// once), so nothing is half-applied: each changed section is logged as needing
    /// a restart.
    fn check_config(&self) {
        let Some(path) = self.ctx.config.source.as_deref() else {
            return;
        };
        let new = match crate::config::Config::load(Some(path)) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("config file now has errors, the running config stays: {e}");
                return;
            }
        };
        let old = &self.ctx.config;
        let mut changed = Vec::new();
        let mut diff = |name: &'static str, a: String, b: String| {
            if a != b {
                changed.push(name);
            }
        };
        diff(
            "database",
            format!(
                "{:?} {:?}",
                old.database.url.as_ref().map(|u| u.expose().to_string()),
                old.database.max_connections
            ),
            format!(
                "{:?} {:?}",
                new.database.url.as_ref().map(|u| u.expose().to_string()),
                new.database.max_connections
            ),
        );
        diff("http", format!("{:?}", old.http), format!("{:?}", new.http));
        diff(
            "roster",
            format!("{:?}", old.roster),
            format!("{:?}", new.roster),
        );
        diff(
            "rules",
            format!("{:?}", old.rules),
            format!("{:?}", new.rules),
        );
        diff(
            "calendar",
            format!("{:?}", old.calendar),
            format!("{:?}", new.calendar),
        );
        diff(
            "schedule",
            format!("{:?}", old.schedule),
            format!("{:?}", new.schedule),
        );
        diff(
            "limits",
            format!("{:?}", old.limits),
            format!("{:?}", new.limits),
        );
        diff(
            "escalation",
            format!("{:?}", old.escalation),
            format!("{:?}", new.escalation),
        );
        diff(
            "channels",
            format!("{:?}", old.channels),
            format!("{:?}", new.channels),
        );
        if !changed.is_empty() {
            tracing::warn!(
                sections = %changed.join(", "),
                "the config file changed in [{}]: these need a restart (systemctl restart qinqing); \
                 the running daemon keeps its config until then",
                changed.join("], [")
            );
        }
    }

    /// When the rules were (re)loaded, for `/healthz`.
    async fn record_rules_loaded(&self) {
        let at = self.now().to_rfc3339();
        if let Err(e) = self
            .store
            .set_meta(service::status::RULES_LOADED_AT, &at)
            .await
        {
            tracing::warn!("cannot record when the rules were loaded: {e}");
        }
    }

    async fn tick(&self, now: DateTime<FixedOffset>) -> Result<()> {
        let rules = self.rules.read().await.clone();
        let report = self
            .planning
            .tick(
                &self.store,
                rules,
                now,
                self.ctx.config.schedule.catch_up_days,
            )
            .await?;
        self.replan.store(report.skipped, Ordering::Relaxed);
        Ok(())
    }

    /// One dispatch round; returns when the next round has work (None: only a
    /// tick or a change will bring any).
    async fn dispatch(&self, now: DateTime<FixedOffset>) -> Result<Option<DateTime<FixedOffset>>> {
        let next = service::dispatch::round_and_next(&self.dispatcher, now).await?;
        self.notify_status().await;
        Ok(next)
    }

    /// systemd's STATUS= line (`systemctl status qinqing`): the last tick, what is
    /// waiting and what failed, in the operator's words.
    async fn notify_status(&self) {
        let (Ok(at), Ok(c)) = (
            service::plan::last_tick_at(&self.store).await,
            self.store.outbox_counts().await,
        ) else {
            return;
        };
        let at = at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "无".into());
        let line = format!("上次计划 {at},待发 {},失败 {}", c.pending, c.failed);
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Status(&line)]);
    }
}

/// `qinqing run --once`: import a changed roster, one planning tick and one dispatch
/// round at the clock's `now`, then exit.
pub async fn run_once(ctx: Context) -> Result<i32> {
    let daemon = Daemon::build(ctx).await?;
    let roster = daemon.import_roster().await?;
    let now = daemon.now();
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
    if let service::import::RosterState::Unreadable(why) = roster {
        // The work was done with the last good roster, but the file must be fixed.
        bail!("{why}");
    }
    Ok(0)
}

/// `qinqing run`: the daemon, until SIGTERM or SIGINT.
pub async fn run_daemon(ctx: Context) -> Result<i32> {
    // Registered before start-up work, so a stop request during a long first import
    // or tick is honoured (exit 0) instead of killing the process.
    let signals = Signals::new()?;
    let watched = Watched::new(&ctx.config);
    let daemon = Arc::new(Daemon::build(ctx).await?);
    daemon.import_roster().await?;
    serve(daemon, signals, watched).await?;
    Ok(0)
}

enum Work {
    /// Plan, then dispatch.
    Tick,
    /// Dispatch only: something fell due.
    Dispatch,
}

/// SIGTERM and SIGINT stop; SIGHUP (systemd's ExecReload) re-reads.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal: a stop request or a reload.
    async fn next(&mut self) -> Sig {
        tokio::select! {
            _ = self.term.recv() => Sig::Stop,
            _ = self.int.recv() => Sig::Stop,
            _ = self.hup.recv() => Sig::Reload,
        }
    }

    /// Waits for a stop request; reloads asked for meanwhile are remembered.
    async fn stop(&mut self, reload: &mut bool) {
        loop {
            match self.next().await {
                Sig::Stop => return,
                Sig::Reload => *reload = true,
            }
        }
    }
}

enum Sig {
    Stop,
    Reload,
}

/// How long from `now` until the next `plan_at` (today's if still ahead, else
/// tomorrow's), as the clock reads it.
fn until_next(now: DateTime<FixedOffset>, plan_at: NaiveTime) -> Duration {
    let today = now.date_naive().and_time(plan_at);
    let local = now.naive_local();
    let next = if today > local {
        today
    } else {
        today + chrono::Duration::days(1)
    };
    (next - local).to_std().unwrap_or_default()
}

/// Arms the scheduler's one-shot job for the next daily tick.
async fn arm_daily_tick(
    scheduler: &tokio_cron_scheduler::JobScheduler,
    daemon: &Daemon,
    tx: &mpsc::Sender<Work>,
) -> Result<()> {
    let wait = until_next(daemon.now(), daemon.ctx.config.schedule.plan_time());
    let tx = tx.clone();
    scheduler
        .add(tokio_cron_scheduler::Job::new_one_shot_async(
            wait,
            move |_, _| {
                let tx = tx.clone();
                Box::pin(async move {
                    let _ = tx.send(Work::Tick).await;
                })
            },
        )?)
        .await?;
    tracing::debug!(in_secs = wait.as_secs(), "next daily planning tick armed");
    Ok(())
}

async fn serve(daemon: Arc<Daemon>, mut signals: Signals, mut watched: Watched) -> Result<()> {
    let (tx, mut rx) = mpsc::channel::<Work>(8);
    let scheduler = tokio_cron_scheduler::JobScheduler::new().await?;
    arm_daily_tick(&scheduler, &daemon, &tx).await?;
    scheduler.start().await?;

    let (stop_http, http_stopped) = tokio::sync::watch::channel(false);
    let http = match daemon.ctx.config.http.listen.clone() {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("http.listen = {addr}"))?;
            let mut state = crate::http::HttpState::new(
                daemon.store.clone(),
                daemon.ctx.clock.clone(),
                daemon.rules.clone(),
                daemon.ctx.config.http.links_base().map(str::to_string),
            );
            let cfg = &daemon.ctx.config.http;
            state.api = cfg
                .api_token
                .as_ref()
                .filter(|t| !t.expose().trim().is_empty())
                .map(|t| crate::http::ApiAccess::new(t.expose().trim(), &cfg.api_token_name));
            let mut stopped = http_stopped;
            Some(tokio::spawn(crate::http::serve(
                listener,
                state,
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
            )))
        }
        None => None,
    };

    // The store's stamp before the start-up tick: a change made meanwhile (by the
    // HTTP API, which is already serving, or another process) is planned at the
    // first watch instead of waiting for the next daily tick.
    let mut store_stamp = daemon.store.change_stamp().await.ok();
    daemon.record_rules_loaded().await;
    // A store that fails now (a database restarting) is not a reason to exit: the
    // tick is tried again at the next watch.
    if let Err(e) = daemon.tick(daemon.now()).await {
        tracing::error!("start-up planning tick failed; trying again at the next watch: {e:#}");
        daemon.replan.store(true, Ordering::Relaxed);
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    tracing::info!("qinqing is running");

    let schedule = &daemon.ctx.config.schedule;
    // The dispatcher sleeps until the next round has work (a retry, a send window,
    // a lapsed claim lease, a later remind day), a tick or a change; never longer
    // than `dispatch_every_secs`. The first round follows the start-up tick.
    let max_sleep = Duration::from_secs(schedule.dispatch_every_secs.max(1));
    let mut dispatch_at = tokio::time::Instant::now();
    let mut watch_every =
        tokio::time::interval(Duration::from_secs(schedule.watch_every_secs.max(1)));
    watch_every.tick().await;
    let grace = Duration::from_secs(schedule.shutdown_grace_secs);
    let watchdog_every = Duration::from_secs(schedule.watch_every_secs.clamp(1, 60));

    // A SIGHUP to act on (it may arrive while a step runs).
    let mut reload = false;
    loop {
        let work: Option<Work> = tokio::select! {
            biased;
            sig = signals.next() => match sig {
                Sig::Stop => break,
                Sig::Reload => {
                    reload = true;
                    None
                }
            },
            _ = std::future::ready(()), if reload => {
                reload = false;
                // Reload: the holiday file and every rule (a rule set that does not
                // load keeps the running one), the roster files; then plan again.
                tracing::info!("SIGHUP: re-reading the holiday file, the rules and the roster");
                daemon.check_config();
                if !daemon.reload_calendar().await {
                    daemon.reload_rules().await;
                }
                if let Err(e) = daemon.import_roster().await {
                    tracing::error!("roster import failed: {e:#}");
                }
                Some(Work::Tick)
            }
            w = rx.recv() => {
                if let Err(e) = arm_daily_tick(&scheduler, &daemon, &tx).await {
                    tracing::error!("cannot arm the next daily tick: {e:#}");
                }
                w
            }
            _ = tokio::time::sleep_until(dispatch_at) => Some(Work::Dispatch),
            _ = watch_every.tick() => {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                let mut replan = daemon.replan.swap(false, Ordering::Relaxed);
                let [roster, rules, holidays] = watched.changes();
                if roster && let Err(e) = daemon.import_roster().await {
                    tracing::error!("roster import failed: {e:#}");
                }
                if holidays {
                    daemon.reload_calendar().await;
                    replan = true;
                }
                if rules && !holidays {
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
        // Nothing to do: back to sleep (no round runs without a reason).
        let Some(work) = work else { continue };
        // Run the step as its own task so a signal can wait for it within the grace period.
        let d = daemon.clone();
        let now = daemon.now();
        let step = tokio::spawn(async move {
            if matches!(work, Work::Tick)
                && let Err(e) = d.tick(now).await
            {
                tracing::error!("planning tick failed: {e:#}");
            }
            match d.dispatch(now).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!("dispatch failed: {e:#}");
                    None
                }
            }
        });
        tokio::pin!(step);
        // A long round (a festival morning, a dead endpoint's timeouts) keeps the
        // watchdog fed while it makes progress; every send has its own timeout.
        let mut ping = tokio::time::interval(watchdog_every);
        ping.tick().await;
        let stop = loop {
            tokio::select! {
                next = &mut step => {
                    let next = next.ok().flatten();
                    let wait = next.map_or(max_sleep, |t| {
                        (t - daemon.now()).to_std().unwrap_or_default().clamp(Duration::from_secs(1), max_sleep)
                    });
                    tracing::debug!(in_secs = wait.as_secs(), "next dispatch round");
                    dispatch_at = tokio::time::Instant::now() + wait;
                    break false
                }
                _ = signals.stop(&mut reload) => break true,
                _ = ping.tick() => {
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                }
            }
        };
        if stop {
            finish(step, grace).await;
            break;
        }
    }
    tracing::info!("stopping: no new work taken");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let mut scheduler = scheduler;
    scheduler.shutdown().await.ok();
    let _ = stop_http.send(true);
    if let Some(h) = http {
        match tokio::time::timeout(grace, h).await {
            Ok(Ok(Err(e))) => tracing::warn!("http server: {e}"),
            Err(_) => tracing::warn!("http server did not stop within the grace period"),
            _ => {}
        }
    }
    daemon.store.close().await;
    Ok(())
}

/// Lets an in-flight step finish within the grace period; past it, the step is
/// abandoned and its claimed digests are resent by the next start.
async fn finish<T>(step: std::pin::Pin<&mut tokio::task::JoinHandle<T>>, grace: Duration) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A change is acted on once its newest file is SETTLE old, exactly once; an
    /// unsettled one waits for a later watch; each group on its own.
    #[test]
    fn a_change_is_acted_on_once_it_has_settled() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        std::fs::create_dir_all(rules.join("tests")).unwrap();
        let roster = dir.path().join("roster.csv");
        let holidays = dir.path().join("holidays.toml");
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let stamp = |p: &Path, t: SystemTime| {
            let f = if p.is_dir() {
                std::fs::File::open(p)
            } else {
                std::fs::File::options()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(p)
            };
            f.unwrap().set_modified(t).unwrap()
        };
        for p in [&roster, &holidays, &rules.join("a.rhai")] {
            stamp(p, t0);
        }
        stamp(&rules, t0);
        stamp(&rules.join("tests"), t0);
        let mut w = Watched {
            roster: vec![roster.clone()],
            rules: Some(rules.clone()),
            holidays: Some(holidays.clone()),
            stamps: Default::default(),
        };
        w.stamps = w.read();
        let later = |secs: f64| t0 + Duration::from_secs_f64(secs);
        assert_eq!(w.changes_at(later(100.0)), [false; 3]);

        // A rule saved at t0+100: not yet at +100.5, nor at +101; at +102 yes, once.
        stamp(&rules.join("a.rhai"), later(100.0));
        assert_eq!(w.changes_at(later(100.5)), [false; 3]);
        assert_eq!(w.changes_at(later(101.0)), [false; 3]);
        assert_eq!(w.changes_at(later(102.0)), [false, true, false]);
        assert_eq!(w.changes_at(later(103.0)), [false; 3]);

        // The roster written again while settling: the newest write counts.
        stamp(&roster, later(200.0));
        assert_eq!(w.changes_at(later(201.0)), [false; 3]);
        stamp(&roster, later(201.0));
        assert_eq!(w.changes_at(later(202.0)), [false; 3]);
        assert_eq!(w.changes_at(later(203.0)), [true, false, false]);

        // A file stamped in the future (a skewed clock) is not held back forever.
        stamp(&holidays, later(10_000.0));
        assert_eq!(w.changes_at(later(300.0)), [false, false, true]);
    }

    #[test]
    fn next_tick_is_today_or_tomorrow_at_plan_at() {
        let at = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(
            until_next(t("2026-09-18T06:30:00+08:00"), at),
            Duration::from_secs(1800)
        );
        assert_eq!(
            until_next(t("2026-09-18T07:00:00+08:00"), at),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            until_next(t("2026-09-18T08:30:00+08:00"), at),
            Duration::from_secs(22 * 3600 + 1800)
        );
    }
}
