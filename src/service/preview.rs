//! Preview (a use case): every reminder stage whose remind day falls in a range,
//! computed from the store as if the daemon had run each day, with what recorded
//! work already closed left out. Nothing is stored or sent.

use anyhow::Result;
use chrono::NaiveDate;
use rayon::prelude::*;

use super::Context;
use crate::ledger::ClosingContacts;
use crate::planner::{self, PlanningRosterBuilder, Reminder};
use crate::rules::OccasionCache;

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
    /// Rule files that did not load.
    pub load_errors: Vec<String>,
    /// Script errors for single persons.
    pub rule_errors: Vec<String>,
}

pub async fn preview(ctx: &Context, req: PreviewRequest) -> Result<Preview> {
    if req.to < req.from {
        anyhow::bail!("--to {} is before --from {}", req.to, req.from);
    }
    let cal = super::work_calendar(&ctx.config)?;
    let rules = super::load_rules(&ctx.config, cal.clone());
    let load_errors = rules.errors.iter().map(|e| e.to_string()).collect();
    if let Some(id) = &req.rule
        && rules.get(id).is_none()
    {
        anyhow::bail!("--rule: no loaded rule with id {id:?}");
    }
    let store = ctx.store().await?;
    let contacts = store
        .contacts_between(req.from - chrono::Duration::days(400), req.to)
        .await?;
    // The roster as the daemon's tick reads it (streamed, cut down as it comes);
    // --person (身份证号 or 编号) is matched on the rows before that.
    let want = req.person.as_ref().map(|p| p.trim().to_uppercase());
    let mut only = std::collections::HashSet::new();
    let mut builder = PlanningRosterBuilder::new(store.documents().await?);
    store
        .plan_rows(1 << 16, |batch| {
            if let Some(want) = &want {
                for row in &batch {
                    let number = row.person.number.as_deref().map(str::to_uppercase);
                    if row.person.key().to_uppercase() == *want || number.as_ref() == Some(want) {
                        only.insert(row.id);
                    }
                }
            }
            builder.add(batch.into_par_iter());
        })
        .await?;
    let roster = builder.finish(&store.load_staff().await?);
    let only = want.map(|_| only);
    let (reminders, rule_errors) = tokio::task::spawn_blocking(move || {
        let mut cache = OccasionCache::default();
        let (occ, errors) = planner::occasions(
            &rules,
            &roster,
            planner::years_for(req.from, req.to),
            &mut cache,
        );
        let closing = ClosingContacts::new(&contacts);
        let mut stages: Vec<Reminder> =
            planner::stages_between(&rules, &roster, &occ, &cal, req.from, req.to)
                .into_iter()
                .filter(|s| req.rule.as_ref().is_none_or(|r| *s.rule == **r))
                .filter(|s| !closing.closes(s.terms(), s.remind_on))
                .collect();
        if let Some(ids) = &only {
            stages.retain(|s| ids.contains(&s.person_id));
        }
        planner::sort(&mut stages);
        (stages, errors.iter().map(|e| e.to_string()).collect())
    })
    .await?;
    Ok(Preview {
        reminders,
        load_errors,
        rule_errors,
    })
}
