//! Occasions into reminder stages: remind days moved to working days, escalations
//! to supervisors, a death respected, unique keys; and which stages a planning tick
//! plans, late, or records as missed ([`TickWindow`]).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::calendar::WorkCalendar;
use crate::ledger::OccasionTerms;
use crate::roster::Staff;
use crate::rules::{CatchUp, Occasion, PersonData, Rule, RuleSet};

use super::reminder::UNROUTED;
use super::{PlanningRoster, Reminder, StageKind, reference, titled};

/// Expands occasions into stages.
pub fn stages(
    rules: &RuleSet,
    roster: &PlanningRoster,
    occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
) -> Vec<Reminder> {
    stages_between(
        rules,
        roster,
        occasions,
        cal,
        NaiveDate::MIN,
        NaiveDate::MAX,
    )
}

/// The stages whose remind day is in [`from`, `to`]: the same stages, in the same
/// order, as [`stages`] filtered on `remind_on`, but only those are ever built (a
/// tick needs a few days' stages out of years of occasions).
pub fn stages_between(
    rules: &RuleSet,
    roster: &PlanningRoster,
    occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Reminder> {
    let range = Range { from, to };
    chunks(
        rules,
        roster,
        occasions,
        cal,
        &range,
        Vec::new,
        |out, _, r| out.push(r),
    )
    .flat_map_iter(|out| out)
    .collect()
}

/// Which occasions have a stage day (remind or escalate) in each batch of
/// `days` days from `from` to `to`: built once by one pass over the occasions
/// that computes their stage days without building a stage, so a streamed
/// range expands each occasion only in the batches it has a stage in.
pub struct DayIndex {
    from: NaiveDate,
    to: NaiveDate,
    days: i64,
    /// Per batch: (index into the occasions slice, index in its list).
    batches: Vec<Vec<(u32, u32)>>,
}

impl DayIndex {
    pub fn new(
        rules: &RuleSet,
        roster: &PlanningRoster,
        occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
        cal: &WorkCalendar,
        from: NaiveDate,
        to: NaiveDate,
        days: i64,
    ) -> DayIndex {
        let days = days.max(1);
        let n = if to < from {
            0
        } else {
            ((to - from).num_days() / days + 1) as usize
        };
        // Per split of the occasions (in order), per batch: (list, occasion) in order.
        let mut parts: Vec<Vec<Vec<(u32, u32)>>> = occasions
            .par_iter()
            .enumerate()
            .fold(
                || vec![Vec::new(); n],
                |mut acc, (gi, (pi, ri, list))| {
                    let person = &roster.persons[*pi];
                    let rule = &rules.rules[*ri];
                    for (oi, occ) in list.iter().enumerate() {
                        let rec = Record::default();
                        expand_specs(
                            rule,
                            *ri,
                            person,
                            occ,
                            &roster.staff,
                            rules.escalation_fallback.as_deref(),
                            cal,
                            &rec,
                            &mut |_, _| {},
                        );
                        let mut batches: Vec<u32> = rec
                            .days
                            .into_inner()
                            .unwrap_or_else(|e| e.into_inner())
                            .into_iter()
                            .filter(|d| *d >= from && *d <= to)
                            .map(|d| ((d - from).num_days() / days) as u32)
                            .collect();
                        batches.sort_unstable();
                        batches.dedup();
                        for b in batches {
                            acc[b as usize].push((gi as u32, oi as u32));
                        }
                    }
                    acc
                },
            )
            .collect();
        // Joined a batch at a time, so only one batch is held twice.
        let batches = (0..n)
            .map(|b| {
                let total = parts.iter().map(|p| p[b].len()).sum();
                let mut joined = Vec::with_capacity(total);
                for p in &mut parts {
                    joined.extend(std::mem::take(&mut p[b]));
                }
                joined
            })
            .collect();
        DayIndex {
            from,
            to,
            days,
            batches,
        }
    }

    /// The batches' day ranges, in order.
    pub fn ranges(&self) -> impl Iterator<Item = (usize, NaiveDate, NaiveDate)> + '_ {
        (0..self.batches.len()).map(|i| {
            let start = self.from + chrono::Duration::days(i as i64 * self.days);
            let end = (start + chrono::Duration::days(self.days - 1)).min(self.to);
            (i, start, end)
        })
    }

    /// The stages of batch `i` (remind days in its range) that `keep` keeps (given
    /// the stage and its occasion key), unsorted and borrowed: the same stages
    /// [`stages_between`] gives for that range ([`StageRef::to_reminder`]), in the
    /// same order. Built in parallel chunks joined into one list of the exact size.
    pub fn refs<'a>(
        &self,
        i: usize,
        rules: &'a RuleSet,
        roster: &'a PlanningRoster,
        occasions: &'a [(usize, usize, Arc<Vec<Occasion>>)],
        cal: &WorkCalendar,
        keep: impl Fn(&StageRef<'a>, &str) -> bool + Sync,
    ) -> Vec<StageRef<'a>> {
        let Some((_, from, to)) = self.ranges().nth(i) else {
            return Vec::new();
        };
        let range = Range { from, to };
        let mut chunks: Vec<Vec<StageRef<'a>>> = self.batches[i]
            .par_chunks(1024)
            .map(|chunk| {
                let mut out = Vec::new();
                let mut key = String::new();
                for &(gi, oi) in chunk {
                    let (pi, ri, list) = &occasions[gi as usize];
                    let occasion = &list[oi as usize];
                    occasion_refs(
                        rules,
                        roster,
                        *pi,
                        *ri,
                        occasion,
                        cal,
                        &range,
                        &mut key,
                        |s, key| {
                            if keep(&s, key) {
                                out.push(s);
                            }
                        },
                    );
                }
                out
            })
            .collect();
        let mut all = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
        for chunk in &mut chunks {
            all.append(chunk);
            *chunk = Vec::new();
        }
        all
    }
}

/// The borrowed stages of one occasion (of the `pi`-th person under the `ri`-th
/// rule) whose day is in `range`, handed to `each` in the order they are made with
/// the occasion's key (written to `key` on the first stage).
#[allow(clippy::too_many_arguments)]
fn occasion_refs<'a>(
    rules: &'a RuleSet,
    roster: &'a PlanningRoster,
    pi: usize,
    ri: usize,
    occasion: &'a Occasion,
    cal: &WorkCalendar,
    range: &Range,
    key: &mut String,
    mut each: impl FnMut(StageRef<'a>, &str),
) {
    let (rule, person) = (&rules.rules[ri], &*roster.persons[pi]);
    // What the occasion's stages share, made while it is at hand.
    let mut shared: Option<OccasionShared> = None;
    expand_specs(
        rule,
        ri,
        person,
        occasion,
        &roster.staff,
        rules.escalation_fallback.as_deref(),
        cal,
        range,
        &mut |_, spec| {
            let s = stage_ref(
                (rule, ri, person, pi, occasion),
                spec,
                cal,
                &mut shared,
                key,
            );
            each(s, key);
        },
    );
}

/// What the borrowed stages of one occasion share: its reference, its due day and
/// whether the title takes the person's name.
type OccasionShared = ([u8; 6], NaiveDate, bool);

/// The borrowed stage of `spec` of `occasion` (of `person`, the `pi`-th of the
/// roster, under `rule`, the `ri`-th): what the occasion's stages share is made on
/// its first stage, with the occasion key left in `key`.
fn stage_ref<'a>(
    (rule, ri, person, pi, occasion): (&'a Rule, usize, &'a PersonData, usize, &'a Occasion),
    spec: StageSpec<'a>,
    cal: &WorkCalendar,
    shared: &mut Option<OccasionShared>,
    key: &mut String,
) -> StageRef<'a> {
    let (reference, due_on, named) = *shared.get_or_insert_with(|| {
        key.clear();
        occasion_key_into(key, rule, person, occasion);
        let name = person.person.name.as_str();
        (
            super::reference_code(key),
            due_on(occasion, cal),
            !name.is_empty() && !occasion.title.contains(name),
        )
    });
    StageRef {
        rule_index: ri as u32,
        person_index: pi as u32,
        rule,
        person,
        occasion,
        spec,
        reference,
        due_on,
        named,
    }
}

/// Hands `each` every occasion's stages whose day is in [`from`, `to`] (borrowed,
/// in the order they are made, only when there is one), with the occasion's key,
/// occasion by occasion in parallel, each into an accumulator of its thread
/// (`init`); returns the accumulators, to be merged. For counts, which need no
/// order: nothing is sorted or held but the accumulators.
#[allow(clippy::too_many_arguments)]
pub fn fold_refs<'a, T: Send>(
    rules: &'a RuleSet,
    roster: &'a PlanningRoster,
    occasions: &'a [(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
    from: NaiveDate,
    to: NaiveDate,
    init: impl Fn() -> T + Sync + Send,
    each: impl Fn(&mut T, &[StageRef<'a>], &str) + Sync + Send,
) -> Vec<T> {
    let range = Range { from, to };
    occasions
        .par_iter()
        .enumerate()
        .fold(
            || (init(), Vec::new(), String::new()),
            |(mut acc, mut stages, mut key), (_, (pi, ri, list))| {
                for occasion in list.iter() {
                    stages.clear();
                    occasion_refs(
                        rules,
                        roster,
                        *pi,
                        *ri,
                        occasion,
                        cal,
                        &range,
                        &mut key,
                        |s, _| stages.push(s),
                    );
                    if !stages.is_empty() {
                        each(&mut acc, &stages, &key);
                    }
                }
                (acc, stages, key)
            },
        )
        .map(|(acc, _, _)| acc)
        .collect()
}

/// A [`Select`] that builds nothing and records every stage day it is asked about.
#[derive(Default)]
struct Record {
    days: std::sync::Mutex<Vec<NaiveDate>>,
}

impl Select for Record {
    fn select(&self, _: &Candidate<'_>, _: StageKind, day: NaiveDate) -> Option<Verdict> {
        self.days
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(day);
        None
    }
}

/// Expands the occasions in parallel chunks: each chunk starts from `new()` and
/// `push`es its selected stages into it.
fn chunks<'a, S: Select, T: Send + 'a>(
    rules: &'a RuleSet,
    roster: &'a PlanningRoster,
    occasions: &'a [(usize, usize, Arc<Vec<Occasion>>)],
    cal: &'a WorkCalendar,
    select: &'a S,
    new: impl Fn() -> T + Sync + Send + 'a,
    push: impl Fn(&mut T, Verdict, Reminder) + Sync + Send + 'a,
) -> impl ParallelIterator<Item = T> + 'a {
    occasions.par_chunks(256).map(move |chunk| {
        let mut out = new();
        for (pi, ri, list) in chunk {
            let person = &roster.persons[*pi];
            let rule = &rules.rules[*ri];
            for occ in list.iter() {
                expand(
                    rule,
                    *ri,
                    person,
                    occ,
                    &roster.staff,
                    rules.escalation_fallback.as_deref(),
                    cal,
                    select,
                    &mut |v, r| push(&mut out, v, r),
                );
            }
        }
        out
    })
}

/// What a planning tick does with a stage it built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Store as planned: due today, or late and still worth sending (marked late).
    Plan,
    /// Its day passed while nothing could send it and it is no longer worth sending:
    /// recorded as missed, never sent.
    Miss,
}

/// Which stages a planning tick builds, and for each its [`Verdict`]:
///
/// - on time (due today): planned;
/// - an escalation: planned late from the first day after the last tick (downtime
///   of any length) or the last `catch_up_days`; whether it goes out is the
///   dispatcher's call (only what was reminded is escalated);
/// - a late reminder: planned while the rule's catch-up policy ([`CatchUp`]) says
///   so, within its catch-up days and while still useful (the occasion's `until`;
///   for `after_death` rules within `after_death_days` of the death); else recorded
///   missed when its day fell during downtime. A new store starts at its first
///   tick, except for urgent rules: an event entered late is reminded now.
#[derive(Debug, Clone)]
pub struct TickWindow {
    pub today: NaiveDate,
    /// The store's first tick.
    pub first_tick: NaiveDate,
    /// The first day after the last tick, when ticks were missed.
    pub downtime_from: Option<NaiveDate>,
    /// `schedule.catch_up_days`.
    pub catch_up_days: i64,
    /// Per rule (by index): the earliest remind day built.
    remind_from: Vec<NaiveDate>,
    escalate_from: NaiveDate,
}

/// How late an urgent rule's reminder may still go out when the rule does not say.
pub const URGENT_CATCH_UP_DAYS: i64 = 90;

impl TickWindow {
    pub fn new(
        rules: &RuleSet,
        today: NaiveDate,
        first_tick: NaiveDate,
        downtime_from: Option<NaiveDate>,
        catch_up_days: i64,
    ) -> TickWindow {
        let days = chrono::Duration::days;
        let normal_from = (today - days(catch_up_days)).max(first_tick).min(today);
        let remind_from = rules
            .rules
            .iter()
            .map(|r| {
                let back = Self::days_late_allowed(r, catch_up_days).max(catch_up_days);
                let from = today - days(back);
                if r.urgent {
                    from
                } else {
                    from.max(first_tick).min(today)
                }
            })
            .collect();
        let escalate_from = downtime_from.map_or(normal_from, |d| d.min(normal_from));
        TickWindow {
            today,
            first_tick,
            downtime_from,
            catch_up_days,
            remind_from,
            escalate_from,
        }
    }

    /// The earliest remind day of rule `ri` this tick looks at; planned reminders
    /// before it are stale.
    pub fn remind_from(&self, ri: usize) -> NaiveDate {
        self.remind_from[ri]
    }

    /// How many days after its day a reminder of `rule` may still be planned: the
    /// rule's `catch_up_days`, else for urgent rules [`URGENT_CATCH_UP_DAYS`] (or
    /// `after_death_days` for a condolence), for rules whose occasions have a window
    /// the window decides (a year at most), else `schedule.catch_up_days`.
    fn days_late_allowed(rule: &Rule, default: i64) -> i64 {
        rule.catch_up_days.unwrap_or(if rule.after_death {
            rule.after_death_days
        } else if rule.urgent {
            URGENT_CATCH_UP_DAYS
        } else if rule.catch_up == Some(CatchUp::Send) {
            default
        } else {
            // A window (a month) bounds it; occasions without one are skipped by
            // default once passed, and still bounded by `default` when not.
            366
        })
    }
}

/// The stages a planning tick stores: (planned, missed), each in the order of
/// [`stages`]. All at once; the daemon uses [`tick_batches`].
pub fn tick_stages(
    rules: &RuleSet,
    roster: &PlanningRoster,
    occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
    window: &TickWindow,
) -> (Vec<Reminder>, Vec<Reminder>) {
    let (mut plan, mut miss) = (Vec::new(), Vec::new());
    tick_batches(rules, roster, occasions, cal, window, usize::MAX, |p, m| {
        plan.extend(p);
        miss.extend(m);
        true
    });
    (plan, miss)
}

/// Occasion lists (one person, one rule) per batch of [`tick_batches`] in the daemon:
/// about 1/170 of a 1,000,000-person roster under eleven rules.
pub const TICK_BATCH: usize = 65_536;

/// The stages of [`tick_stages`], in the same order, handed to `each` as (planned,
/// missed) a batch of `batch` occasion lists at a time (built in parallel within the
/// batch), so a festival day's stages are never all held at once. Stops when `each`
/// returns false.
pub fn tick_batches(
    rules: &RuleSet,
    roster: &PlanningRoster,
    occasions: &[(usize, usize, Arc<Vec<Occasion>>)],
    cal: &WorkCalendar,
    window: &TickWindow,
    batch: usize,
    mut each: impl FnMut(Vec<Reminder>, Vec<Reminder>) -> bool,
) {
    for part in occasions.chunks(batch.max(1)) {
        let parts: Vec<(Vec<Reminder>, Vec<Reminder>)> = chunks(
            rules,
            roster,
            part,
            cal,
            window,
            || (Vec::new(), Vec::new()),
            |(plan, miss), v, r| match v {
                Verdict::Plan => plan.push(r),
                Verdict::Miss => miss.push(r),
            },
        )
        .collect();
        let (mut plan, mut miss) = (Vec::new(), Vec::new());
        for (p, m) in parts {
            plan.extend(p);
            miss.extend(m);
        }
        if (!plan.is_empty() || !miss.is_empty()) && !each(plan, miss) {
            return;
        }
    }
}

/// One occasion of one person under one rule (the rule's index `ri`), as `expand`
/// builds its stages.
struct Candidate<'a> {
    rule: &'a Rule,
    ri: usize,
    person: &'a PersonData,
    occ: &'a Occasion,
}

/// Decides, per stage, whether it is built and what becomes of it.
trait Select: Sync {
    fn select(&self, c: &Candidate<'_>, stage: StageKind, day: NaiveDate) -> Option<Verdict>;
}

/// Every stage whose day is in [from, to].
struct Range {
    from: NaiveDate,
    to: NaiveDate,
}

impl Select for Range {
    fn select(&self, _: &Candidate<'_>, _: StageKind, day: NaiveDate) -> Option<Verdict> {
        (day >= self.from && day <= self.to).then_some(Verdict::Plan)
    }
}

impl Select for TickWindow {
    fn select(&self, c: &Candidate<'_>, stage: StageKind, day: NaiveDate) -> Option<Verdict> {
        let Candidate {
            rule,
            ri,
            person,
            occ,
        } = *c;
        let today = self.today;
        if day > today {
            return None;
        }
        if day == today {
            return Some(Verdict::Plan);
        }
        if stage == StageKind::Escalate {
            return (day >= self.escalate_from).then_some(Verdict::Plan);
        }
        if day < self.remind_from[ri] {
            return None;
        }
        let late = (today - day).num_days();
        let policy = CatchUp::of(rule, occ.urgent, occ.window.is_some());
        let within = late
            <= rule.catch_up_days.unwrap_or(match (policy, occ.window) {
                // A window bounds a late reminder by itself.
                (CatchUp::Send, Some(_)) => i64::MAX,
                _ if rule.urgent || occ.urgent => Self::days_late_allowed(rule, self.catch_up_days),
                _ => self.catch_up_days,
            });
        let open_until = occ.window.map_or(occ.date, |w| w.1);
        let useful = occ.until.is_none_or(|u| today <= u)
            && (!rule.after_death
                || person
                    .person
                    .facts
                    .deceased_on
                    .is_none_or(|d| (today - d).num_days() <= rule.after_death_days))
            && match policy {
                CatchUp::Send => occ.window.is_none_or(|w| today <= w.1),
                CatchUp::Skip => today <= open_until,
            };
        if within && useful {
            Some(Verdict::Plan)
        } else if self.downtime_from.is_some_and(|d| day >= d) {
            Some(Verdict::Miss)
        } else {
            None
        }
    }
}

/// One stage as [`expand_specs`] decides it, before any string is built: which
/// stage, its lead and day, and whom it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSpec<'a> {
    pub stage: StageKind,
    /// Days before the occasion for `remind`; None for `escalate`.
    pub lead_days: Option<i64>,
    /// The remind (or escalation) day, moved to a working day.
    pub day: NaiveDate,
    /// 工号 of who receives it.
    pub recipient: &'a str,
    /// The second escalation level (`escalate_again_after`).
    pub second: bool,
}

/// Expands one occasion into [`Reminder`]s: [`expand_specs`], with the strings the
/// occasion's stages share built once, and only when a stage is wanted.
#[allow(clippy::too_many_arguments)]
fn expand(
    rule: &Rule,
    ri: usize,
    person: &PersonData,
    occ: &Occasion,
    staff: &HashMap<String, Staff>,
    fallback: Option<&str>,
    cal: &WorkCalendar,
    select: &impl Select,
    out: &mut impl FnMut(Verdict, Reminder),
) {
    let mut shared: Option<Shared> = None;
    expand_specs(
        rule,
        ri,
        person,
        occ,
        staff,
        fallback,
        cal,
        select,
        &mut |v, spec| {
            let sh = shared.get_or_insert_with(|| Shared::new(rule, person, occ));
            out(v, sh.reminder(rule, person, occ, &spec));
        },
    );
}

/// The stages of one occasion of one person under one rule that `select` wants, in
/// the order the planner has always made them: each remind day (the first with its
/// lead, moved to a working day, while the person lives) to each recipient, then
/// the escalation to each recipient's 上级, then the second level.
#[allow(clippy::too_many_arguments)]
fn expand_specs<'a>(
    rule: &'a Rule,
    ri: usize,
    person: &'a PersonData,
    occ: &'a Occasion,
    staff: &'a HashMap<String, Staff>,
    fallback: Option<&'a str>,
    cal: &WorkCalendar,
    select: &impl Select,
    out: &mut impl FnMut(Verdict, StageSpec<'a>),
) {
    let died = person.person.facts.deceased_on;
    let after_death_ok = rule.after_death;
    let alive_on = |d: NaiveDate| after_death_ok || died.is_none_or(|x| d <= x);
    if !alive_on(occ.date) {
        return;
    }
    if person.person.staff.is_empty() {
        return;
    }
    let candidate = Candidate {
        rule,
        ri,
        person,
        occ,
    };
    let wanted = |stage: StageKind, d: NaiveDate| select.select(&candidate, stage, d);
    let count = match &occ.remind_on {
        Some(days) => days.len(),
        None => rule.remind_before.len(),
    };
    let raw = |i: usize| -> (i64, NaiveDate) {
        match &occ.remind_on {
            Some(days) => ((occ.date - days[i]).num_days(), days[i]),
            None => {
                let lead = rule.remind_before[i];
                (lead, occ.date - chrono::Duration::days(lead))
            }
        }
    };
    // The i-th remind day if it is the first with its lead, moved to a working day,
    // while the person lives, and in range.
    let remind = |i: usize| -> Option<(i64, NaiveDate, Verdict)> {
        let (lead, day) = raw(i);
        if (0..i).any(|j| raw(j).0 == lead) {
            return None;
        }
        let day = if occ.urgent {
            day
        } else {
            cal.workday_on_or_before(day)
        };
        if !alive_on(day) {
            return None;
        }
        wanted(StageKind::Remind, day).map(|v| (lead, day, v))
    };
    let escalation = rule.escalate_after.and_then(|after| {
        let day = occ.date + chrono::Duration::days(after);
        let day = if occ.urgent {
            day
        } else {
            cal.workday_on_or_after(day)
        };
        if !alive_on(day) {
            return None;
        }
        wanted(StageKind::Escalate, day).map(|v| (day, v))
    });
    // The second level: days after the first escalation's day (as moved).
    let second = rule
        .escalate_after
        .zip(rule.escalate_again_after)
        .and_then(|(a, b)| {
            let first = occ.date + chrono::Duration::days(a);
            let first = if occ.urgent {
                first
            } else {
                cal.workday_on_or_after(first)
            };
            let day = first + chrono::Duration::days(b);
            let day = if occ.urgent {
                day
            } else {
                cal.workday_on_or_after(day)
            };
            if !alive_on(day) {
                return None;
            }
            wanted(StageKind::Escalate, day).map(|v| (day, v))
        });
    let mut reminds = (0..count).filter_map(remind).peekable();
    if escalation.is_none() && second.is_none() && reminds.peek().is_none() {
        return;
    }
    // Whom to remind: the assigned staff unless the occasion says `to`. A `to` that
    // names nobody falls back to the assigned staff (nothing is lost; `check`
    // reports it as an error).
    let routed = occ
        .to
        .as_deref()
        .and_then(|to| route(to, &person.person.staff, staff, fallback));
    let assigned = || person.person.staff.iter().map(|s| s.as_str());
    let spec = |stage, lead_days, day, recipient, second| StageSpec {
        stage,
        lead_days,
        day,
        recipient,
        second,
    };
    for (lead, day, v) in reminds {
        match &routed {
            Some(to) => {
                for r in to {
                    out(v, spec(StageKind::Remind, Some(lead), day, r, false));
                }
            }
            None => {
                for r in assigned() {
                    out(v, spec(StageKind::Remind, Some(lead), day, r, false));
                }
            }
        }
    }
    if escalation.is_none() && second.is_none() {
        return;
    }
    let first: Vec<&'a str> = match &routed {
        Some(to) => above(to.iter().copied(), staff, fallback),
        None => above(assigned(), staff, fallback),
    };
    if let Some((day, v)) = escalation {
        for b in &first {
            out(v, spec(StageKind::Escalate, None, day, b, false));
        }
    }
    if let Some((day, v)) = second {
        let routed = first.iter().copied().filter(|b| *b != UNROUTED);
        // Nobody above the first level (the fallback itself): no second level.
        for b in above(routed, staff, fallback) {
            if b != UNROUTED && !first.contains(&b) {
                out(v, spec(StageKind::Escalate, None, day, b, true));
            }
        }
    }
}

/// Each person's and rule's place in the order of their keys (equal keys, equal
/// places), made once per roster, so [`sort_refs`] sorts numbers, not strings.
pub struct OrderRanks {
    person: Vec<u32>,
    rule: Vec<u32>,
    /// Every 工号 a stage can go to: the staff sheet's, their 上级, those
    /// persons are assigned to, the escalation fallback and [`UNROUTED`].
    staff: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    /// Those 工号 by place.
    staff_numbers: Vec<Box<str>>,
}

impl OrderRanks {
    pub fn new(rules: &RuleSet, roster: &PlanningRoster) -> OrderRanks {
        fn ranks<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<u32> {
            let keys: Vec<&str> = keys.collect();
            let mut by_key: Vec<u32> = (0..keys.len() as u32).collect();
            by_key.par_sort_unstable_by_key(|&i| keys[i as usize]);
            let mut rank = vec![0; keys.len()];
            let mut r = 0;
            for (n, &i) in by_key.iter().enumerate() {
                if n > 0 && keys[by_key[n - 1] as usize] != keys[i as usize] {
                    r += 1;
                }
                rank[i as usize] = r;
            }
            rank
        }
        let mut staff: Vec<&str> = roster
            .staff
            .values()
            .flat_map(|s| [Some(s.number.as_str()), s.supervisor.as_deref()])
            .flatten()
            .chain(
                roster
                    .persons
                    .iter()
                    .flat_map(|p| p.person.staff.iter().map(|s| s.as_str())),
            )
            .chain(rules.escalation_fallback.as_deref())
            .chain([UNROUTED])
            .collect();
        staff.par_sort_unstable();
        staff.dedup();
        OrderRanks {
            person: ranks(roster.persons.iter().map(|p| &*p.key)),
            rule: ranks(rules.rules.iter().map(|r| r.id.as_str())),
            staff: staff
                .iter()
                .enumerate()
                .map(|(i, s)| ((*s).into(), i as u32))
                .collect(),
            staff_numbers: staff.into_iter().map(Into::into).collect(),
        }
    }
}

impl OrderRanks {
    /// A 工号's place among every 工号 a stage can go to (their sorted order).
    pub fn staff_place(&self, number: &str) -> Option<u32> {
        self.staff.get(number).copied()
    }

    /// The 工号 at `place`.
    pub fn staff_number(&self, place: u32) -> Option<&str> {
        self.staff_numbers.get(place as usize).map(|s| &**s)
    }

    /// The stage's [`StageRef::order`] packed into one number that sorts the same
    /// (days, then places in the order of recipients, rules and persons); None
    /// when a value does not fit.
    fn pack(&self, s: &StageRef<'_>) -> Option<u128> {
        use chrono::Datelike;
        const LEAD: i64 = 1 << 19;
        let day = |d: NaiveDate| {
            u32::try_from(d.num_days_from_ce())
                .ok()
                .filter(|d| *d < 1 << 20)
        };
        let lead = match s.spec.lead_days {
            None => 0,
            Some(l) if (-LEAD..LEAD).contains(&l) => (l + LEAD + 1) as u128,
            Some(_) => return None,
        };
        let (recipient, rule, person) = (
            *self.staff.get(s.spec.recipient)?,
            self.rule[s.rule_index as usize],
            self.person[s.person_index as usize],
        );
        if recipient >= 1 << 20 || rule >= 1 << 10 || person >= 1 << 24 {
            return None;
        }
        Some(
            (day(s.spec.day)? as u128) << 108
                | (recipient as u128) << 88
                | (day(s.occasion.date)? as u128) << 68
                | (rule as u128) << 58
                | (person as u128) << 34
                | ((s.spec.stage == StageKind::Escalate) as u128) << 33
                | lead << 12,
        )
    }
}

/// [`sort`](super::sort) for borrowed stages: the same order, stable. Sorts each
/// stage's order packed into a number ([`OrderRanks::pack`]), or when one does not
/// fit, the keys themselves.
pub fn sort_refs(stages: &mut [StageRef<'_>], ranks: &OrderRanks) {
    use rayon::slice::ParallelSliceMut;
    let keys: Option<Vec<(u128, u32)>> = stages
        .par_iter()
        .enumerate()
        .map(|(i, s)| ranks.pack(s).map(|k| (k, i as u32)))
        .collect();
    match keys {
        // The index breaks ties: stable.
        Some(mut keys) if stages.len() <= u32::MAX as usize => {
            keys.par_sort_unstable();
            permute(stages, keys.into_iter().map(|(_, i)| i).collect());
        }
        _ => stages.par_sort_by(|a, b| a.order().cmp(&b.order())),
    }
}

/// Puts `v[from[i]]` at `i` for every `i`, in place (`from` is a permutation),
/// following each cycle once.
fn permute<T: Copy>(v: &mut [T], mut from: Vec<u32>) {
    const DONE: u32 = u32::MAX;
    for start in 0..v.len() {
        if from[start] == DONE {
            continue;
        }
        let first = v[start];
        let mut i = start;
        loop {
            let j = from[i] as usize;
            from[i] = DONE;
            if j == start {
                v[i] = first;
                break;
            }
            v[i] = v[j];
            i = j;
        }
    }
}

/// The day an occasion's work is due (as [`Reminder::due_on`]).
fn due_on(occ: &Occasion, calendar: &WorkCalendar) -> NaiveDate {
    let deadline = occ.window.map_or(occ.date, |(_, e)| e);
    if occ.urgent {
        deadline
    } else {
        calendar.workday_on_or_before(deadline)
    }
}

/// What the stages of one occasion share, built once per occasion.
struct Shared {
    occasion_key: Arc<str>,
    reference: Arc<str>,
    title: Arc<str>,
    person_key: Arc<str>,
    person_name: Arc<str>,
    kind: Arc<str>,
    satisfied_by: Arc<[String]>,
}

impl Shared {
    fn new(rule: &Rule, person: &PersonData, occ: &Occasion) -> Shared {
        let mut occasion_key = String::new();
        occasion_key_into(&mut occasion_key, rule, person, occ);
        Shared {
            reference: reference(&occasion_key).into(),
            occasion_key: occasion_key.into(),
            title: titled(&person.person.name, &occ.title).into(),
            person_key: person.key.as_ref().into(),
            person_name: person.person.name.as_str().into(),
            kind: occ.kind.as_str().into(),
            satisfied_by: occ.satisfied_by.as_slice().into(),
        }
    }

    /// The stage as a [`Reminder`]. Keys: {occasion}:remind{lead}:{recipient},
    /// {occasion}:escalate:{recipient}, and {occasion}:escalate2:{recipient} for the
    /// second level.
    fn reminder(
        &self,
        rule: &Rule,
        person: &PersonData,
        occ: &Occasion,
        spec: &StageSpec<'_>,
    ) -> Reminder {
        let mut key = String::with_capacity(self.occasion_key.len() + spec.recipient.len() + 16);
        key.push_str(&self.occasion_key);
        match spec.lead_days {
            Some(lead) => {
                use std::fmt::Write as _;
                let _ = write!(key, ":remind{lead}:");
            }
            None if spec.second => key.push_str(super::reminder::SECOND_ESCALATION),
            None => key.push_str(":escalate:"),
        }
        key.push_str(spec.recipient);
        Reminder {
            key,
            occasion_key: self.occasion_key.clone(),
            reference: self.reference.clone(),
            rule: rule.shared_id.clone(),
            person_id: person.internal_id,
            person: self.person_key.clone(),
            person_name: self.person_name.clone(),
            occasion_on: occ.date,
            stage: spec.stage,
            lead_days: spec.lead_days,
            remind_on: spec.day,
            recipient: spec.recipient.to_string(),
            title: self.title.clone(),
            kind: self.kind.clone(),
            urgent: occ.urgent,
            satisfied_by: self.satisfied_by.clone(),
            window: occ.window,
            channels: rule.shared_channels.clone(),
            after_death: rule.after_death,
        }
    }
}

/// Appends the occasion key `{rule}:{person_id}:{date}:{sub_key}` to `buf`.
fn occasion_key_into(buf: &mut String, rule: &Rule, person: &PersonData, occ: &Occasion) {
    buf.push_str(&rule.id);
    buf.push(':');
    buf.push_str(itoa::Buffer::new().format(person.internal_id));
    buf.push(':');
    match crate::calendar::ymd_bytes(occ.date) {
        Some(ymd) => buf.push_str(std::str::from_utf8(&ymd).expect("ASCII")),
        None => {
            use std::fmt::Write as _;
            let _ = write!(buf, "{}", occ.date);
        }
    }
    buf.push(':');
    buf.push_str(&occ.key);
}

/// A stage of a range borrowed from the occasion, person and rule it comes from:
/// what `preview` writes, a line per stage, without building a [`Reminder`] (a
/// province's year is millions of them). [`StageRef::to_reminder`] is the same
/// stage as the planner stores it.
#[derive(Debug, Clone, Copy)]
pub struct StageRef<'a> {
    /// Its rule's place in `rules.rules` and its person's in `roster.persons`.
    pub rule_index: u32,
    pub person_index: u32,
    pub rule: &'a Rule,
    pub person: &'a PersonData,
    pub occasion: &'a Occasion,
    pub spec: StageSpec<'a>,
    /// Its occasion's reference (as [`reference`]) and due day (as
    /// [`Reminder::due_on`]), and whether the person's name is put in front of the
    /// title (as [`titled`]): made with the stage, while its occasion is at hand.
    pub reference: [u8; 6],
    pub due_on: NaiveDate,
    named: bool,
}

impl<'a> StageRef<'a> {
    pub fn to_reminder(&self) -> Reminder {
        Shared::new(self.rule, self.person, self.occasion).reminder(
            self.rule,
            self.person,
            self.occasion,
            &self.spec,
        )
    }

    pub fn remind_on(&self) -> NaiveDate {
        self.spec.day
    }

    pub fn occasion_on(&self) -> NaiveDate {
        self.occasion.date
    }

    pub fn recipient(&self) -> &'a str {
        self.spec.recipient
    }

    /// The rule's id.
    pub fn rule_id(&self) -> &'a str {
        &self.rule.id
    }

    /// 身份证号, or 编号 when there is none.
    pub fn person_key(&self) -> &'a str {
        &self.person.key
    }

    pub fn person_id(&self) -> i64 {
        self.person.internal_id
    }

    pub fn kind(&self) -> &'a str {
        &self.occasion.kind
    }

    pub fn urgent(&self) -> bool {
        self.occasion.urgent
    }

    /// As [`Reminder::level`].
    pub fn level(&self) -> Option<u8> {
        match (self.spec.stage, self.spec.second) {
            (StageKind::Remind, _) => None,
            (StageKind::Escalate, true) => Some(2),
            (StageKind::Escalate, false) => Some(1),
        }
    }

    /// The title as [`titled`] makes it, in parts to write one after another:
    /// the person's name and a space when it is put in front, then the occasion's
    /// title.
    pub fn title_parts(&self) -> [&'a str; 3] {
        let title = self.occasion.title.as_str();
        if self.named {
            [self.person.person.name.as_str(), " ", title]
        } else {
            ["", "", title]
        }
    }

    /// What decides whether recorded work closed the occasion, with its key (as
    /// [`DayIndex::refs`] hands it to `keep`).
    pub fn terms<'k>(&'k self, occasion_key: &'k str) -> OccasionTerms<'k> {
        OccasionTerms {
            occasion_key,
            person_id: self.person.internal_id,
            occasion_on: self.occasion.date,
            satisfied_by: &self.occasion.satisfied_by,
            window: self.occasion.window,
        }
    }

    /// The output order's key, as [`Reminder::order`].
    pub fn order(&self) -> super::reminder::Order<'a> {
        (
            self.spec.day,
            self.spec.recipient,
            self.occasion.date,
            &self.rule.id,
            &self.person.key,
            self.spec.stage,
            self.spec.lead_days,
        )
    }
}

/// The 工号 an occasion's `to` names for this person: "staff" (联系人) the assigned
/// staff; "supervisor" (上级) their 上级, else `[escalation] fallback`; a 工号 that
/// staff member; else a 角色 from the staff sheet: those with it who are assigned to
/// the person, else everyone with it. `None` when it names nobody.
pub fn route<'a, S: AsRef<str>>(
    to: &str,
    assigned: &'a [S],
    staff: &'a HashMap<String, Staff>,
    fallback: Option<&'a str>,
) -> Option<Vec<&'a str>> {
    let assigned_ids = || assigned.iter().map(AsRef::as_ref);
    match to.trim() {
        "" | "staff" | "联系人" => Some(assigned_ids().collect()),
        "supervisor" | "上级" => {
            let v: Vec<&str> = above(assigned_ids(), staff, fallback)
                .into_iter()
                .filter(|b| *b != UNROUTED)
                .collect();
            (!v.is_empty()).then_some(v)
        }
        to => {
            if let Some((number, _)) = staff.get_key_value(to) {
                return Some(vec![number.as_str()]);
            }
            let mut with: Vec<&str> = staff
                .values()
                .filter(|s| s.role.as_deref().is_some_and(|r| has_role(r, to)))
                .map(|s| s.number.as_str())
                .collect();
            if with.is_empty() {
                return None;
            }
            with.sort_unstable();
            let mine: Vec<&str> = with
                .iter()
                .copied()
                .filter(|n| assigned.iter().any(|a| a.as_ref() == *n))
                .collect();
            Some(if mine.is_empty() { with } else { mine })
        }
    }
}

/// Whether a 角色 cell ("局领导、支部书记") holds `role`.
pub fn has_role(cell: &str, role: &str) -> bool {
    cell.split(['、', ',', ',', ';', ';', '/', ' '])
        .any(|r| r.trim() == role)
}

/// Whom the escalation of these staff members goes to, each once: their 上级, else
/// the fallback, never themselves; [`UNROUTED`] when there is nobody.
fn above<'a>(
    of: impl Iterator<Item = &'a str>,
    staff: &'a HashMap<String, Staff>,
    fallback: Option<&'a str>,
) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for r in of {
        let boss = staff
            .get(r)
            .and_then(|s| s.supervisor.as_deref())
            .filter(|s| !s.is_empty() && *s != r)
            .or(fallback.filter(|f| !f.is_empty() && *f != r))
            .unwrap_or(UNROUTED);
        if !out.contains(&boss) {
            out.push(boss);
        }
    }
    out
}

#[cfg(test)]
mod permute_tests {
    #[test]
    fn permute_follows_every_cycle() {
        let mut v: Vec<char> = "abcdefg".chars().collect();
        // Sorted position i takes the element at from[i].
        super::permute(&mut v, vec![3, 0, 6, 1, 2, 5, 4]);
        assert_eq!(v.iter().collect::<String>(), "dagbcfe");
        let mut one = vec![1];
        super::permute(&mut one, vec![0]);
        assert_eq!(one, [1]);
    }
}
