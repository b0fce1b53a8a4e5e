//! Preview (a use case): every reminder stage whose remind day falls in a range,
//! computed from the store as if the daemon had run each day, with what recorded
//! work already closed left out. Nothing is stored or sent.

use anyhow::Result;
use chrono::NaiveDate;
use rayon::prelude::*;

use super::Context;
use crate::ledger::ClosingContacts;
use crate::planner::{self, PlanningRosterBuilder, Reminder};
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
    if req.to < req.from {
        anyhow::bail!("--to {} is before --from {}", req.to, req.from);
    }
    let rules = Arc::new(rules);
    let calendar = rules.calendar().clone();
    let load_errors = rules.errors.iter().map(|e| e.to_string()).collect();
    if let Some(id) = &req.rule
        && rules.get(id).is_none()
    {
        anyhow::bail!("--rule: no loaded rule with id {id:?}");
    }
    let store = ctx.store().await?;
    let only = match &req.person {
        Some(p) => Persons::Key(p.trim().to_uppercase()),
        None => Persons::All,
    };
    let (mut reminders, rule_errors) =
        stages(&store, rules, req.from, req.to, only, |s| s.remind_on).await?;
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
/// `Persons::Staff`).
pub async fn stages(
    store: &crate::store::Store,
    rules: Arc<RuleSet>,
    from: NaiveDate,
    to: NaiveDate,
    persons: Persons,
    closed_as_of: impl Fn(&Reminder) -> NaiveDate + Send + 'static,
) -> Result<(Vec<Reminder>, Vec<String>)> {
    let mut builder = PlanningRosterBuilder::new(store.documents().await?);
    let mut only = std::collections::HashSet::new();
    match &persons {
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
                        if row.person.key().to_uppercase() == *want || number.as_ref() == Some(want)
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
    let contacts = match &persons {
        Persons::Staff(_) => {
            let ids: Vec<i64> = only.iter().copied().collect();
            store.contacts_of(&ids, since, to).await?
        }
        _ => store.contacts_between(since, to).await?,
    };
    let only = matches!(persons, Persons::Key(_)).then_some(only);
    let out = tokio::task::spawn_blocking(move || {
        let mut cache = OccasionCache::default();
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
