//! The coverage report (`report coverage`, `GET /api/v1/reports/coverage`): the
//! occasions of a period as the daemon planned them (its outbox), each counted for
//! the staff members its reminders went to last, and whether and when the work was
//! done by `as_of` (definitions in `ledger::coverage` and the README).

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Result, bail};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::ledger::cover::paused;
use crate::ledger::coverage::{Counts, CoveredOccasion, tally};
use crate::ledger::{ClosingContacts, Outcome};
use crate::planner::Reminder;
use crate::store::Store;

/// What to count: occasions dated in [from, to], work done by `as_of`.
#[derive(Debug, Clone)]
pub struct CoverageQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    /// Only this staff member (工号).
    pub staff: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    pub rows: Vec<CoverageRow>,
    pub totals: Vec<CoverageTotal>,
    pub contacts: ContactCounts,
    pub monthly_call: Vec<MonthlyCall>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub staff: String,
    pub rule: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageTotal {
    pub rule: String,
    /// 规则名称.
    pub title: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Contacts done in the period (by `as_of`), scheduled or not, by kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContactCounts {
    pub visit: u64,
    pub call: u64,
    pub deliver: u64,
}

/// Of the active persons assigned to the staff member, summed over the months of
/// the period: how many there were, and how many had a call or visit logged.
#[derive(Debug, Clone, Serialize)]
pub struct MonthlyCall {
    pub staff: String,
    pub persons: u64,
    pub called: u64,
}

/// One line of the year-end wording (节日走访慰问 N 人次).
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub label: String,
    pub count: u64,
    pub unit: &'static str,
}

impl Coverage {
    /// The year-end figures a bureau writes, from `totals` and `contacts`: the
    /// shipped rules' 人次 (done, on time or late), then other rules by title, then
    /// the calls.
    pub fn figures(&self) -> Vec<Figure> {
        const SHIPPED: [(&str, &str); 5] = [
            ("festival-visit", "节日走访慰问"),
            ("birthday-milestone", "满旬祝寿"),
            ("hospital-visit", "看望住院"),
            ("condolence", "丧葬吊唁"),
            ("document-delivery", "送文到家"),
        ];
        let done = |rule: &str| {
            self.totals
                .iter()
                .find(|t| t.rule == rule)
                .map_or(0, |t| t.counts.done())
        };
        let mut out: Vec<Figure> = SHIPPED
            .iter()
            .map(|(rule, label)| Figure {
                label: label.to_string(),
                count: done(rule),
                unit: "人次",
            })
            .collect();
        for t in &self.totals {
            if t.rule != "monthly-call" && !SHIPPED.iter().any(|(r, _)| *r == t.rule) {
                out.push(Figure {
                    label: t.title.clone(),
                    count: t.counts.done(),
                    unit: "人次",
                });
            }
        }
        out.push(Figure {
            label: "电话联系".into(),
            count: self.contacts.call,
            unit: "次",
        });
        out
    }
}

/// The period of `--month YYYY-MM`.
pub fn month_period(month: &str) -> Result<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("--month {month}: 请写成 YYYY-MM, 例如 2026-09"))?;
    Ok((first, last_of_month(first)))
}

/// The period of `--year YYYY`.
pub fn year_period(year: i32) -> Result<(NaiveDate, NaiveDate)> {
    match (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => bail!("--year {year} is not a year"),
    }
}

fn last_of_month(d: NaiveDate) -> NaiveDate {
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    next.expect("a valid month") - chrono::Duration::days(1)
}

/// Computes the coverage report.
pub async fn coverage(
    store: &Store,
    q: &CoverageQuery,
    titles: &HashMap<String, String>,
) -> Result<Coverage> {
    if q.to < q.from {
        bail!("--to {} is before --from {}", q.to, q.from);
    }
    let stages = store.remind_stages_between(q.from, q.to).await?;
    // Each occasion's stages; it counts for the recipients of its last-planned ones.
    let mut by_key: BTreeMap<&str, Vec<&Reminder>> = BTreeMap::new();
    for s in &stages {
        by_key
            .entry(&s.reminder.occasion_key)
            .or_default()
            .push(&s.reminder);
    }
    let mut ids: Vec<i64> = stages.iter().map(|s| s.reminder.person_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let persons = store.persons_brief(&ids).await?;
    let assigned = store.assigned_staff(&ids).await?;
    let mut recipients: Vec<(&Reminder, Vec<String>)> = Vec::with_capacity(by_key.len());
    for rs in by_key.values() {
        let first = rs[0];
        let died = persons
            .get(&first.person_id)
            .and_then(|p| p.deceased_on)
            .is_some_and(|d| d <= first.deadline());
        if died && !first.after_death {
            continue; // moot: the person died before it fell due
        }
        let last = rs.iter().map(|r| r.remind_on).max().expect("one stage");
        let mut staff: Vec<String> = rs
            .iter()
            .filter(|r| r.remind_on == last)
            .map(|r| r.recipient.clone())
            .collect();
        staff.sort();
        staff.dedup();
        // Reassigned while it was open: the old and the new staff member both hold
        // its latest stage; it counts for the one it is routed to now.
        if let Some(now) = assigned.get(&first.person_id) {
            let current: Vec<String> = staff.iter().filter(|s| now.contains(s)).cloned().collect();
            if !current.is_empty() {
                staff = current;
            }
        }
        if let Some(only) = &q.staff {
            if !staff.contains(only) {
                continue;
            }
            staff = vec![only.clone()];
        }
        recipients.push((first, staff));
    }

    let lo = recipients
        .iter()
        .map(|(r, _)| r.window.map_or(r.occasion_on, |w| w.0).min(r.occasion_on))
        .min()
        .unwrap_or(q.from)
        .min(q.from);
    let mut contacts = store.contacts_between(lo, q.as_of.max(q.to)).await?;
    let keys: Vec<String> = recipients
        .iter()
        .map(|(r, _)| r.occasion_key.to_string())
        .collect();
    contacts.extend(store.acknowledgements(&keys).await?);
    let closing = ClosingContacts::new(&contacts);
    let pauses = store.pauses().await?;
    let occasions: Vec<CoveredOccasion<'_>> = recipients
        .iter()
        .map(|(r, staff)| CoveredOccasion {
            terms: r.terms(),
            rule: &r.rule,
            deadline: r.deadline(),
            staff,
            // Urgent work is never held, so never paused.
            paused: !r.urgent && paused(r.person_id, r.deadline(), &pauses),
        })
        .collect();
    let t = tally(&occasions, &closing, q.as_of);
    let rows = t
        .by_staff
        .into_iter()
        .filter(|(_, c)| c.due > 0)
        .map(|((staff, rule), counts)| CoverageRow {
            staff,
            rule,
            counts,
        })
        .collect();
    let totals = t
        .by_rule
        .into_iter()
        .map(|(rule, counts)| CoverageTotal {
            title: titles.get(&rule).cloned().unwrap_or_else(|| rule.clone()),
            rule,
            counts,
        })
        .collect();

    // Contacts done in the period by as_of (each once: acknowledgements were read twice).
    let last_day = q.to.min(q.as_of);
    let mut seen = HashSet::new();
    let done: Vec<&crate::ledger::Contact> = contacts
        .iter()
        .filter(|c| seen.insert(c.id))
        .filter(|c| c.entry.outcome == Outcome::Done)
        .filter(|c| c.entry.on >= q.from && c.entry.on <= last_day)
        .filter(|c| {
            q.staff
                .as_ref()
                .is_none_or(|s| c.entry.staff_number.as_ref() == Some(s))
        })
        .collect();
    let mut counts = ContactCounts::default();
    for c in &done {
        match c.entry.kind.as_str() {
            "visit" => counts.visit += 1,
            "call" => counts.call += 1,
            "deliver" => counts.deliver += 1,
            _ => {}
        }
    }
    let monthly_call = monthly_calls(store, q, &done).await?;
    Ok(Coverage {
        from: q.from,
        to: q.to,
        as_of: q.as_of,
        rows,
        totals,
        contacts: counts,
        monthly_call,
    })
}

/// For each staff member: over the months of the period, the active persons now
/// assigned to them, and how many of those had a call or visit (by anyone) logged
/// in that month, up to `as_of`.
async fn monthly_calls(
    store: &Store,
    q: &CoverageQuery,
    done: &[&crate::ledger::Contact],
) -> Result<Vec<MonthlyCall>> {
    let mut contacted: HashSet<(i64, i32, u32)> = HashSet::new();
    for c in done {
        if c.entry.kind == "call" || c.entry.kind == "visit" {
            contacted.insert((c.entry.person_id, c.entry.on.year(), c.entry.on.month()));
        }
    }
    let mut months = Vec::new();
    let mut m = q.from.with_day(1).expect("day 1");
    while m <= q.to {
        months.push((m.year(), m.month()));
        m = last_of_month(m) + chrono::Duration::days(1);
    }
    let mut by_staff: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (staff, person) in store.active_assignments().await? {
        if q.staff.as_ref().is_some_and(|s| *s != staff) {
            continue;
        }
        let e = by_staff.entry(staff).or_default();
        for (y, mo) in &months {
            e.0 += 1;
            if contacted.contains(&(person, *y, *mo)) {
                e.1 += 1;
            }
        }
    }
    Ok(by_staff
        .into_iter()
        .map(|(staff, (persons, called))| MonthlyCall {
            staff,
            persons,
            called,
        })
        .collect())
}
