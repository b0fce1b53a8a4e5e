//! Preview (a use case): every reminder stage whose remind day falls in a range,
//! computed from the store as if the daemon had run each day, with what recorded
//! work already closed left out. Nothing is stored or sent.

use anyhow::Result;
use chrono::NaiveDate;
use rayon::prelude::*;

use super::Context;
use crate::ledger::ClosingContacts;
use crate::planner::{self, PlanningRosterBuilder, Reminder, StageRef};
use crate::rules::{OccasionCache, RuleSet};
use std::sync::Arc;

/// What to preview.
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only this rule id.
    pub rule: Option<String>,
    /// Only this person (身份证号 or 编号).
    pub person: Option<String>,
}

/// The stages in output order, and what went wrong on the way.
pub struct Preview {
    pub reminders: Vec<Reminder>,
    /// The working days the stages were planned by (for their due_on).
    pub calendar: Arc<crate::calendar::WorkCalendar>,
    /// Rule files that did not load.
    pub load_errors: Vec<String>,
    /// Script errors for single persons.
    pub rule_errors: Vec<String>,
}

pub async fn preview(ctx: &Context, req: PreviewRequest) -> Result<Preview> {
    let cal = super::work_calendar(&ctx.config)?;
    preview_with(ctx, req, super::load_rules(&ctx.config, cal)).await
}

/// What a streamed preview reported, besides its stages.
pub struct PreviewStream {
    pub stages: u64,
    pub load_errors: Vec<String>,
    pub rule_errors: Vec<String>,
    /// The sink's error (a closed pipe) that ended the stream early.
    pub sink_error: Option<std::io::Error>,
}

/// [`preview`] streamed: the same stages in the same order, borrowed, handed to
/// `sink` a batch of whole remind days at a time ([`stream_stages`]), so memory
/// does not grow with the range.
pub async fn preview_stream(
    ctx: &Context,
    req: PreviewRequest,
    sink: impl FnMut(&[StageRef<'_>]) -> std::io::Result<()> + Send + 'static,
) -> Result<PreviewStream> {
    let Prepared {
        rules,
        load_errors,
        store,
        persons,
    } = Prepared::live(ctx, &req).await?;
    let streamed = stream_stages(&store, rules, req.from, req.to, persons, req.rule, sink).await?;
    Ok(PreviewStream {
        stages: streamed.stages,
        load_errors,
        rule_errors: streamed.rule_errors,
        sink_error: streamed.sink_error,
    })
}

/// What an edited rules folder changes against the live rules over a range.
pub struct Comparison {
    /// Per rule and month (of the remind day): stages added and removed.
    pub by_rule_month: Vec<RuleMonth>,
    pub added: Vec<Reminder>,
    pub removed: Vec<Reminder>,
    pub calendar: Arc<crate::calendar::WorkCalendar>,
    /// Of both runs, the edited folder's first.
    pub load_errors: Vec<String>,
    pub rule_errors: Vec<String>,
    /// 编号 by internal person id, for the listing.
    pub numbers: std::collections::HashMap<i64, String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleMonth {
    pub rule: String,
    pub month: String,
    pub added: usize,
    pub removed: usize,
}

/// Runs the live rules and the rules in `dir` side by side on the store and lists
/// the stages the edit adds and removes (a stage is the same when its key and
/// remind day are).
pub async fn compare(
    ctx: &Context,
    req: PreviewRequest,
    dir: &std::path::Path,
) -> Result<Comparison> {
    if !dir.is_dir() {
        anyhow::bail!("--compare {}: 不是一个文件夹 (not a folder)", dir.display());
    }
    let cal = super::work_calendar(&ctx.config)?;
    let edited =
        super::with_config_defaults(RuleSet::load_dir(dir, cal.clone(), None), &ctx.config);
    let live = preview_with(ctx, req.clone(), super::load_rules(&ctx.config, cal)).await?;
    let new = preview_with(ctx, req, edited).await?;
    let id = |s: &Reminder| (s.key.clone(), s.remind_on);
    let before: std::collections::HashSet<_> = live.reminders.iter().map(id).collect();
    let after: std::collections::HashSet<_> = new.reminders.iter().map(id).collect();
    let added: Vec<Reminder> = new
        .reminders
        .into_iter()
        .filter(|s| !before.contains(&id(s)))
        .collect();
    let removed: Vec<Reminder> = live
        .reminders
        .into_iter()
        .filter(|s| !after.contains(&id(s)))
        .collect();
    let mut months: std::collections::BTreeMap<(String, String), (usize, usize)> =
        Default::default();
    for s in &added {
        months
            .entry((s.rule.to_string(), s.remind_on.format("%Y-%m").to_string()))
            .or_default()
            .0 += 1;
    }
    for s in &removed {
        months
            .entry((s.rule.to_string(), s.remind_on.format("%Y-%m").to_string()))
            .or_default()
            .1 += 1;
    }
    let store = ctx.store().await?;
    let numbers = store
        .load_roster()
        .await?
        .persons
        .into_iter()
        .map(|p| (p.id, p.person.number.unwrap_or_default()))
        .collect();
    Ok(Comparison {
        by_rule_month: months
            .into_iter()
            .map(|((rule, month), (added, removed))| RuleMonth {
                rule,
                month,
                added,
                removed,
            })
            .collect(),
        added,
        removed,
        calendar: new.calendar,
        load_errors: new
            .load_errors
            .into_iter()
            .chain(live.load_errors)
            .collect(),
        rule_errors: new
            .rule_errors
            .into_iter()
            .chain(live.rule_errors)
            .collect(),
        numbers,
    })
}

/// [`preview`] with these rules.
pub async fn preview_with(ctx: &Context, req: PreviewRequest, rules: RuleSet) -> Result<Preview> {
    let Prepared {
        rules,
        load_errors,
        store,
        persons,
    } = Prepared::with(ctx, &req, rules).await?;
    let calendar = rules.calendar().clone();
    let (mut reminders, rule_errors) =
        stages(&store, rules, req.from, req.to, persons, |s| s.remind_on).await?;
    if let Some(rule) = &req.rule {
        reminders.retain(|s| *s.rule == **rule);
    }
    Ok(Preview {
        reminders,
        calendar,
        load_errors,
        rule_errors,
    })
}

/// How `preview --summary` groups days: by calendar month (`2026-09`) or ISO week
/// (`2026-W38`, Monday to Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Week,
}

impl Period {
    pub fn of(self, d: NaiveDate) -> String {
        use chrono::Datelike;
        match self {
            Period::Month => d.format("%Y-%m").to_string(),
            Period::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
        }
    }
}

/// One row of the workload forecast: for a period, a staff member (工号, the
/// stage's recipient) and a rule, the occasions falling due in the period (by
/// occasion day, counted once per recipient of its first reminder) and the
/// reminders and escalations they receive in it (by remind day).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SummaryRow {
    pub period: String,
    pub staff: String,
    pub rule: String,
    pub occasions: u64,
    pub reminders: u64,
}

/// A staff member whose ISO week holds more visits (occasions of kind `visit`, by
/// occasion day) than `limits.max_visits_per_week`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OverLimit {
    pub period: String,
    pub staff: String,
    pub visits: u64,
}

/// The workload forecast of `preview --summary`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
    pub over_limit: Vec<OverLimit>,
    #[serde(skip)]
    pub max_visits_per_week: u64,
    #[serde(skip)]
    pub load_errors: Vec<String>,
    #[serde(skip)]
    pub rule_errors: Vec<String>,
}

/// Days before `from` whose stages are computed too, so an occasion in the range
/// first reminded before it still counts (remind leads are at most a month).
const SUMMARY_LEAD_DAYS: i64 = 62;

/// The workload forecast over [from, to]: the preview's stages (from
/// [`SUMMARY_LEAD_DAYS`] before `from`, so an occasion in the range first reminded
/// before it still counts) counted per period, staff member and rule, occasion by
/// occasion in parallel, and the weeks over the visit limit. Nothing is sorted;
/// memory holds the roster, the occasions and the counts.
pub async fn summary(ctx: &Context, req: PreviewRequest, by: Period) -> Result<Summary> {
    let Prepared {
        rules,
        load_errors,
        store,
        persons,
    } = Prepared::live(ctx, &req).await?;
    let max = ctx.config.limits.max_visits_per_week as u64;
    let (from, to) = (req.from, req.to);
    let start = from - chrono::Duration::days(SUMMARY_LEAD_DAYS);
    let inputs = Inputs::read(&store, &persons, start, to).await?;
    let only_rule = req.rule;
    let (mut s, errors) = tokio::task::spawn_blocking(move || {
        let Inputs {
            roster,
            contacts,
            only,
        } = inputs;
        let mut cache = OccasionCache::one_run();
        let closing = ClosingContacts::new(&contacts);
        let cal = rules.calendar().clone();
        let keep = |s: &StageRef<'_>, key: &str| {
            kept(s, key, only.as_ref(), only_rule.as_deref(), &closing)
        };
        let ranks = planner::OrderRanks::new(&rules, &roster);
        let mut tally = Tally::new(from, to, by, &ranks);
        // A part of the roster's occasions at a time, counted and dropped.
        let errors = planner::occasions_each(
            &rules,
            &roster,
            planner::years_for(start, to),
            &mut cache,
            |occ| {
                let parts = planner::fold_refs(
                    &rules,
                    &roster,
                    &occ,
                    &cal,
                    start,
                    to,
                    || Tally::new(from, to, by, &ranks),
                    |t, stages, key| t.add_occasion(stages, |s| keep(s, key)),
                );
                for part in parts {
                    tally.merge(part);
                }
            },
        );
        tracing::debug!(peak_mib = crate::metrics::peak_mib(), "summary: counted");
        (tally.finish(&rules, max), errors)
    })
    .await?;
    s.load_errors = load_errors;
    s.rule_errors = describe_errors(&store, &errors).await?;
    Ok(s)
}

/// Counts one thread's occasions: reminders (and escalations) by remind day in
/// [from, to]; occasions by occasion day in [from, to], once per recipient of one
/// of its reminders; visits (occasions of kind `visit`) by ISO week. Periods are
/// numbers (`2026-09` is 202609, `2026-W38` 202638), staff their place in
/// [`planner::OrderRanks`], rules their index, so counting allocates nothing.
struct Tally<'r> {
    from: NaiveDate,
    to: NaiveDate,
    by: Period,
    ranks: &'r planner::OrderRanks,
    /// (period, staff place, rule index) → (occasions, reminders).
    rows: std::collections::HashMap<(u32, u32, u32), (u64, u64), foldhash::fast::FixedState>,
    /// (ISO week, staff place) → visits.
    visits: std::collections::HashMap<(u32, u32), u64, foldhash::fast::FixedState>,
    /// Staff a stage went to that have no place (none, as the planner routes;
    /// counted all the same), numbered after those that have.
    others: Vec<String>,
    /// Indexes of the kept stages of the occasion being counted (scratch).
    kept: Vec<usize>,
}

impl<'r> Tally<'r> {
    fn new(
        from: NaiveDate,
        to: NaiveDate,
        by: Period,
        ranks: &'r planner::OrderRanks,
    ) -> Tally<'r> {
        Tally {
            from,
            to,
            by,
            ranks,
            rows: Default::default(),
            visits: Default::default(),
            others: Vec::new(),
            kept: Vec::new(),
        }
    }

    fn number(by: Period, d: NaiveDate) -> u32 {
        use chrono::Datelike;
        match by {
            Period::Month => d.year() as u32 * 100 + d.month(),
            Period::Week => {
                let w = d.iso_week();
                w.year() as u32 * 100 + w.week()
            }
        }
    }

    fn name(by: Period, n: u32) -> String {
        match by {
            Period::Month => format!("{:04}-{:02}", n / 100, n % 100),
            Period::Week => format!("{:04}-W{:02}", n / 100, n % 100),
        }
    }

    fn staff(&mut self, number: &str) -> u32 {
        if let Some(place) = self.ranks.staff_place(number) {
            return place;
        }
        let i = match self.others.iter().position(|o| o == number) {
            Some(i) => i,
            None => {
                self.others.push(number.to_string());
                self.others.len() - 1
            }
        };
        u32::MAX - i as u32
    }

    fn staff_name(&self, place: u32) -> String {
        match self.ranks.staff_number(place) {
            Some(n) => n.to_string(),
            None => self.others[(u32::MAX - place) as usize].clone(),
        }
    }

    /// One occasion's stages (those `keep` keeps).
    fn add_occasion(&mut self, stages: &[StageRef<'_>], keep: impl Fn(&StageRef<'_>) -> bool) {
        let (from, to) = (self.from, self.to);
        let in_range = |d: NaiveDate| d >= from && d <= to;
        let mut kept = std::mem::take(&mut self.kept);
        kept.clear();
        kept.extend((0..stages.len()).filter(|&i| keep(&stages[i])));
        for (n, &i) in kept.iter().enumerate() {
            let s = &stages[i];
            let (rule, staff) = (s.rule_index, self.staff(s.recipient()));
            if in_range(s.remind_on()) {
                let period = Self::number(self.by, s.remind_on());
                self.rows.entry((period, staff, rule)).or_default().1 += 1;
            }
            let remind = |s: &StageRef<'_>| s.spec.stage == planner::StageKind::Remind;
            if remind(s)
                && in_range(s.occasion_on())
                && !kept[..n]
                    .iter()
                    .any(|&j| remind(&stages[j]) && stages[j].recipient() == s.recipient())
            {
                let period = Self::number(self.by, s.occasion_on());
                self.rows.entry((period, staff, rule)).or_default().0 += 1;
                if s.kind() == "visit" {
                    let week = Self::number(Period::Week, s.occasion_on());
                    *self.visits.entry((week, staff)).or_default() += 1;
                }
            }
        }
        self.kept = kept;
    }

    fn merge(&mut self, other: Tally<'r>) {
        let place = |t: &mut Tally<'r>, p: u32| match other.ranks.staff_number(p) {
            Some(_) => p,
            None => t.staff(&other.others[(u32::MAX - p) as usize]),
        };
        for ((period, staff, rule), (o, r)) in &other.rows {
            let staff = place(self, *staff);
            let e = self.rows.entry((*period, staff, *rule)).or_default();
            e.0 += o;
            e.1 += r;
        }
        for ((week, staff), v) in &other.visits {
            let staff = place(self, *staff);
            *self.visits.entry((*week, staff)).or_default() += v;
        }
    }

    fn finish(self, rules: &RuleSet, max_visits_per_week: u64) -> Summary {
        let mut rows: Vec<SummaryRow> = self
            .rows
            .iter()
            .map(|(&(p, staff, r), &(occasions, reminders))| SummaryRow {
                period: Self::name(self.by, p),
                staff: self.staff_name(staff),
                rule: rules.rules[r as usize].id.clone(),
                occasions,
                reminders,
            })
            .collect();
        rows.sort_by(|a, b| (&a.period, &a.staff, &a.rule).cmp(&(&b.period, &b.staff, &b.rule)));
        let mut over_limit: Vec<OverLimit> = self
            .visits
            .iter()
            .filter(|(_, n)| **n > max_visits_per_week)
            .map(|(&(w, staff), &visits)| OverLimit {
                period: Self::name(Period::Week, w),
                staff: self.staff_name(staff),
                visits,
            })
            .collect();
        over_limit.sort_by(|a, b| (&a.period, &a.staff).cmp(&(&b.period, &b.staff)));
        Summary {
            rows,
            over_limit,
            max_visits_per_week,
            load_errors: Vec::new(),
            rule_errors: Vec::new(),
        }
    }
}

/// What every preview use case starts from: the request checked against the
/// rules, the rules' load errors, the store and whose stages to compute.
struct Prepared {
    rules: Arc<RuleSet>,
    load_errors: Vec<String>,
    store: crate::store::Store,
    persons: Persons,
}

impl Prepared {
    /// With the live rules (`rules.path`, or the built-in ones).
    async fn live(ctx: &Context, req: &PreviewRequest) -> Result<Prepared> {
        let cal = super::work_calendar(&ctx.config)?;
        Prepared::with(ctx, req, super::load_rules(&ctx.config, cal)).await
    }

    async fn with(ctx: &Context, req: &PreviewRequest, rules: RuleSet) -> Result<Prepared> {
        if req.to < req.from {
            anyhow::bail!("--to {} is before --from {}", req.to, req.from);
        }
        if let Some(id) = &req.rule
            && rules.get(id).is_none()
        {
            anyhow::bail!("--rule: no loaded rule with id {id:?}");
        }
        let load_errors = rules.errors.iter().map(|e| e.to_string()).collect();
        let persons = match &req.person {
            Some(p) => Persons::Key(p.trim().to_uppercase()),
            None => Persons::All,
        };
        Ok(Prepared {
            rules: Arc::new(rules),
            load_errors,
            store: ctx.store().await?,
            persons,
        })
    }
}

/// Whose stages [`stages`] computes.
#[derive(Debug, Clone)]
pub enum Persons {
    All,
    /// One person, by 身份证号 or 编号 (upper case).
    Key(String),
    /// The persons these staff members (工号) are assigned to.
    Staff(Vec<String>),
}

/// Every stage of `persons` whose remind day is in [from, to], as if the daemon had
/// run each day, in output order, leaving out what recorded work closed as of the
/// day `closed_as_of` gives for the stage; and the per-person rule errors. The
/// roster is streamed from the store (a staff member's persons only, for
/// `Persons::Staff`). All stages at once: [`stream_stages`] is the bounded-memory
/// twin, and the tests hold the two to the same output.
pub async fn stages(
    store: &crate::store::Store,
    rules: Arc<RuleSet>,
    from: NaiveDate,
    to: NaiveDate,
    persons: Persons,
    closed_as_of: impl Fn(&Reminder) -> NaiveDate + Send + 'static,
) -> Result<(Vec<Reminder>, Vec<String>)> {
    let inputs = Inputs::read(store, &persons, from, to).await?;
    let out = tokio::task::spawn_blocking(move || {
        let Inputs {
            roster,
            contacts,
            only,
        } = inputs;
        let mut cache = OccasionCache::one_run();
        let (occ, errors) =
            planner::occasions(&rules, &roster, planner::years_for(from, to), &mut cache);
        let closing = ClosingContacts::new(&contacts);
        let cal = rules.calendar().clone();
        let mut stages: Vec<Reminder> =
            planner::stages_between(&rules, &roster, &occ, &cal, from, to)
                .into_iter()
                .filter(|s| !closing.closes(s.terms(), closed_as_of(s)))
                .collect();
        if let Some(ids) = &only {
            stages.retain(|s| ids.contains(&s.person_id));
        }
        planner::sort(&mut stages);
        (stages, errors)
    })
    .await?;
    let (stages, errors) = out;
    Ok((stages, describe_errors(store, &errors).await?))
}

/// Stages per batch of [`stream_stages`], about: consecutive remind days are
/// gathered until they hold this many (a festival's day at a province holds a
/// million by itself, and is a batch of its own).
pub const STREAM_STAGES: usize = 1 << 16;

/// What [`stream_stages`] did.
pub struct Streamed {
    /// Stages handed to the sink.
    pub stages: u64,
    /// Per-person rule errors, grouped as [`stages`] gives them.
    pub rule_errors: Vec<String>,
    /// The sink's own error (a closed pipe), which ended the stream early.
    pub sink_error: Option<std::io::Error>,
}

/// [`stages`] streamed: the same stages in the same order, borrowed, handed to
/// `sink` a batch of whole remind days at a time (each day built and sorted by
/// itself; the order's first key is the remind day, so the days concatenate to the
/// whole order), days gathered until a batch holds [`STREAM_STAGES`]. Only this
/// rule when `rule` is set. Memory holds the occasions of the range's years and
/// one batch of stages (at most one day's twice over), not the range's stages.
pub async fn stream_stages(
    store: &crate::store::Store,
    rules: Arc<RuleSet>,
    from: NaiveDate,
    to: NaiveDate,
    persons: Persons,
    rule: Option<String>,
    mut sink: impl FnMut(&[StageRef<'_>]) -> std::io::Result<()> + Send + 'static,
) -> Result<Streamed> {
    let t0 = std::time::Instant::now();
    let inputs = Inputs::read(store, &persons, from, to).await?;
    tracing::debug!(
        secs = t0.elapsed().as_secs_f64(),
        rss_mib = crate::metrics::rss_mib(),
        peak_mib = crate::metrics::peak_mib(),
        "preview: roster and contacts read"
    );
    let (stages, errors, sink_error) = tokio::task::spawn_blocking(move || {
        let Inputs {
            roster,
            contacts,
            only,
        } = inputs;
        let mut cache = OccasionCache::one_run();
        let (occ, errors) =
            planner::occasions(&rules, &roster, planner::years_for(from, to), &mut cache);
        tracing::debug!(
            secs = t0.elapsed().as_secs_f64(),
            rss_mib = crate::metrics::rss_mib(),
            peak_mib = crate::metrics::peak_mib(),
            "preview: occasions"
        );
        let closing = ClosingContacts::new(&contacts);
        let cal = rules.calendar().clone();
        let index = planner::DayIndex::new(&rules, &roster, &occ, &cal, from, to, 1);
        let ranks = planner::OrderRanks::new(&rules, &roster);
        tracing::debug!(
            secs = t0.elapsed().as_secs_f64(),
            rss_mib = crate::metrics::rss_mib(),
            peak_mib = crate::metrics::peak_mib(),
            "preview: day index"
        );
        let mut n = 0u64;
        let (mut t_build, mut t_sort, mut t_sink) = (0.0, 0.0, 0.0);
        let mut batch: Vec<StageRef<'_>> = Vec::new();
        let days = index.ranges().count();
        for (i, _, _) in index.ranges() {
            let tb = std::time::Instant::now();
            let mut day = index.refs(i, &rules, &roster, &occ, &cal, |s, key| {
                kept(s, key, only.as_ref(), rule.as_deref(), &closing)
            });
            t_build += tb.elapsed().as_secs_f64();
            let ts = std::time::Instant::now();
            planner::sort_refs(&mut day, &ranks);
            t_sort += ts.elapsed().as_secs_f64();
            if batch.is_empty() {
                batch = day;
            } else {
                batch.extend_from_slice(&day);
            }
            if batch.len() < STREAM_STAGES && i + 1 < days {
                continue;
            }
            n += batch.len() as u64;
            let tk = std::time::Instant::now();
            if let Err(e) = sink(&batch) {
                return (n, errors, Some(e));
            }
            batch = Vec::new();
            t_sink += tk.elapsed().as_secs_f64();
        }
        tracing::debug!(t_build, t_sort, t_sink, "preview: batches");
        tracing::debug!(
            secs = t0.elapsed().as_secs_f64(),
            stages = n,
            peak_mib = crate::metrics::peak_mib(),
            "preview: stages written"
        );
        (n, errors, None)
    })
    .await?;
    Ok(Streamed {
        stages,
        rule_errors: describe_errors(store, &errors).await?,
        sink_error,
    })
}

/// Whether a borrowed stage (with its occasion key) is kept: of the persons and the
/// rule asked for, and not closed by recorded work as of its remind day.
fn kept(
    s: &StageRef<'_>,
    occasion_key: &str,
    only: Option<&std::collections::HashSet<i64>>,
    rule: Option<&str>,
    closing: &ClosingContacts,
) -> bool {
    only.is_none_or(|ids| ids.contains(&s.person_id()))
        && rule.is_none_or(|r| s.rule_id() == r)
        && (closing.is_empty() || !closing.closes(s.terms(occasion_key), s.remind_on()))
}

/// What planning a range reads from the store: the planning roster, the
/// contacts that may close its occasions, and (for one person or one staff
/// member's persons) whose stages to keep.
struct Inputs {
    roster: planner::PlanningRoster,
    contacts: Vec<crate::ledger::Contact>,
    only: Option<std::collections::HashSet<i64>>,
}

impl Inputs {
    async fn read(
        store: &crate::store::Store,
        persons: &Persons,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Inputs> {
        let mut builder = PlanningRosterBuilder::new(store.documents().await?);
        let mut only = std::collections::HashSet::new();
        match persons {
            // A staff member's persons, selected in SQL.
            Persons::Staff(numbers) => {
                store
                    .plan_rows_of_staff(numbers, 1 << 12, |batch| {
                        only.extend(batch.iter().map(|r| r.id));
                        builder.add(batch.into_par_iter())
                    })
                    .await?
            }
            Persons::All => {
                store
                    .plan_rows(1 << 16, |batch| builder.add(batch.into_par_iter()))
                    .await?
            }
            Persons::Key(want) => {
                store
                    .plan_rows(1 << 16, |batch| {
                        for row in &batch {
                            let number = row.person.number.as_deref().map(str::to_uppercase);
                            if row.person.key().to_uppercase() == *want
                                || number.as_ref() == Some(want)
                            {
                                only.insert(row.id);
                            }
                        }
                        builder.add(batch.into_par_iter());
                    })
                    .await?
            }
        }
        let roster = builder.finish(&store.load_staff().await?);
        let since = from - chrono::Duration::days(400);
        let contacts = match persons {
            Persons::Staff(_) => {
                let ids: Vec<i64> = only.iter().copied().collect();
                store.contacts_of(&ids, since, to).await?
            }
            _ => store.contacts_between(since, to).await?,
        };
        let only = matches!(persons, Persons::Key(_)).then_some(only);
        Ok(Inputs {
            roster,
            contacts,
            only,
        })
    }
}

/// Rule errors grouped by rule, place and message, naming the persons by 编号 (never
/// the ID number): `festival-visit.rhai 第3行: … — 12 人出错,例如 LX0007、LX0012`.
pub(crate) async fn describe_errors(
    store: &crate::store::Store,
    errors: &[crate::rules::RunError],
) -> Result<Vec<String>> {
    if errors.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = errors.iter().map(|e| e.person_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let persons = store.persons_brief(&ids).await?;
    // (rule, line, column, message) → the persons it failed for.
    type Place = (String, Option<usize>, Option<usize>, String);
    let mut groups: Vec<(Place, Vec<String>)> = Vec::new();
    for e in errors {
        let key = (e.rule.clone(), e.line, e.column, e.message.clone());
        let who = persons
            .get(&e.person_id)
            .map(|p| p.label())
            .unwrap_or_else(|| format!("#{}", e.person_id));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            // Once per person, whatever the years it failed in.
            Some((_, v)) => {
                if !v.contains(&who) {
                    v.push(who);
                }
            }
            None => groups.push((key, vec![who])),
        }
    }
    Ok(groups
        .into_iter()
        .map(|((rule, line, column, message), who)| {
            let place = match (line, column) {
                (Some(l), Some(c)) => format!(" 第{l}行第{c}列"),
                (Some(l), None) => format!(" 第{l}行"),
                _ => String::new(),
            };
            let shown: Vec<&str> = who.iter().take(5).map(String::as_str).collect();
            format!(
                "{rule}{place}: {message} — {} 人出错,例如 {} ({} person(s))",
                who.len(),
                shown.join("、"),
                who.len()
            )
        })
        .collect())
}

#[cfg(test)]
mod summary_tests {
    use super::Period;
    use chrono::NaiveDate;

    #[test]
    fn periods_are_months_and_iso_weeks() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(Period::Month.of(d(2026, 9, 18)), "2026-09");
        assert_eq!(Period::Week.of(d(2026, 9, 18)), "2026-W38");
        // ISO weeks belong to the year of their Thursday.
        assert_eq!(Period::Week.of(d(2026, 1, 1)), "2026-W01");
        assert_eq!(Period::Week.of(d(2027, 1, 1)), "2026-W53");
        assert_eq!(Period::Week.of(d(2025, 12, 29)), "2026-W01");
    }
}
