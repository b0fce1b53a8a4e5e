//! A staff member's worklist (the page behind `/s/{token}`), its JSON, the team
//! section a supervisor (上级) sees, and the calendar feed: all computed from the
//! roster and rules as `preview` computes them, with recorded work applied as of
//! today, so the page, the JSON and the feed agree.
//!
//! Words: an occasion's deadline is the end of its window, else its date; due_on is
//! the last working day on or before the deadline (the deadline itself for urgent
//! rules); overdue means due_on is before today; open means neither done
//! (acknowledged or satisfied) nor cancelled.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Result;
use chrono::{Datelike, NaiveDate};

use super::answer::OccasionView;
use super::preview::{Persons, stages};
use crate::ledger::{Contact, Outcome};
use crate::planner::{Reminder, StageKind};
use crate::roster::Staff;
use crate::rules::RuleSet;
use crate::store::{PersonBrief, Store};

/// Open occasions whose deadline is at most this many days past are listed.
pub const PAST_DAYS: i64 = 30;
/// The calendar feed looks this many days ahead.
pub const FEED_AHEAD_DAYS: i64 = 90;
/// Elders not called or visited for this many days are marked.
pub const STALE_DAYS: i64 = 30;

/// One open occasion on a list.
#[derive(Debug, Clone)]
pub struct WorkItem {
    pub occasion: OccasionView,
    /// The first day it is (or was) reminded.
    pub first_remind_on: NaiveDate,
    pub overdue: bool,
    /// Why its person's non-urgent reminders are paused today, if they are.
    pub paused: Option<String>,
    /// The 工号 of the colleague whose work this is, while this list's staff member
    /// covers for them (`delegate`).
    pub covering_for: Option<String>,
}

/// An assigned elder and the last call or visit.
#[derive(Debug, Clone)]
pub struct Elder {
    pub person: PersonBrief,
    pub last_contact: Option<NaiveDate>,
    /// Not called or visited for `STALE_DAYS`.
    pub stale: bool,
    /// Why their non-urgent reminders are paused today, if they are.
    pub paused: Option<String>,
}

/// One team member's figures on a supervisor's page.
#[derive(Debug, Clone)]
pub struct Member {
    pub staff: Staff,
    pub open: usize,
    pub overdue: usize,
    pub contacts_this_month: usize,
}

/// What a supervisor sees of the team.
#[derive(Debug, Clone)]
pub struct Team {
    pub members: Vec<Member>,
    /// The members' overdue items; each names its staff member (`occasion.staff`).
    pub overdue: Vec<WorkItem>,
}

/// The worklist page.
#[derive(Debug, Clone)]
pub struct Worklist {
    pub staff: Staff,
    pub as_of: NaiveDate,
    /// Open occasions first reminded on or before today, by due_on (overdue first).
    pub items: Vec<WorkItem>,
    /// Contacts recorded in the last 30 days, newest first, with the elder's name.
    pub recent: Vec<(Contact, String)>,
    pub elders: Vec<Elder>,
    pub team: Option<Team>,
}

/// Which open occasions a list holds.
#[derive(Debug, Clone, Copy)]
enum Horizon {
    /// First reminded on or before today (the worklist), whatever the deadline.
    RemindedBy,
    /// Deadline up to this many days ahead, reminded or not yet (the feed).
    DeadlineWithin(i64),
}

/// The open occasions of these staff members whose deadline is at most
/// `PAST_DAYS` past and that `horizon` admits, by due_on.
async fn open_items(
    store: &Store,
    rules: Arc<RuleSet>,
    staff: &[String],
    today: NaiveDate,
    horizon: Horizon,
) -> Result<Vec<WorkItem>> {
    let from = today - chrono::Duration::days(PAST_DAYS + 100);
    let to = match horizon {
        Horizon::RemindedBy => today,
        Horizon::DeadlineWithin(days) => today + chrono::Duration::days(days.max(0) + 1),
    };
    let calendar = rules.calendar().clone();
    let (all, _) = stages(
        store,
        rules,
        from,
        to,
        Persons::Staff(staff.to_vec()),
        move |_| today,
    )
    .await?;
    let mut by_occasion: BTreeMap<(String, String), Vec<&Reminder>> = BTreeMap::new();
    for r in all
        .iter()
        .filter(|r| r.stage == StageKind::Remind && staff.contains(&r.recipient))
    {
        by_occasion
            .entry((r.recipient.clone(), r.occasion_key.to_string()))
            .or_default()
            .push(r);
    }
    let ids: Vec<i64> = {
        let mut v: Vec<i64> = all.iter().map(|r| r.person_id).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let persons = store.persons_brief(&ids).await?;
    let pauses = store.pauses().await?;
    let mut items = Vec::new();
    for rs in by_occasion.values() {
        let first = rs.iter().min_by_key(|r| r.remind_on).expect("one stage");
        let deadline = first.deadline();
        let admitted = match horizon {
            Horizon::RemindedBy => first.remind_on <= today,
            Horizon::DeadlineWithin(days) => deadline <= today + chrono::Duration::days(days),
        };
        if !admitted || deadline < today - chrono::Duration::days(PAST_DAYS) {
            continue;
        }
        let Some(person) = persons.get(&first.person_id) else {
            continue;
        };
        if person.deceased_on.is_some() && !first.after_death {
            continue;
        }
        let mut occasion = OccasionView::from_reminder(first, person.clone(), &calendar);
        occasion.staff = first.recipient.clone();
        let paused = (!first.urgent)
            .then(|| pause_reason(first.person_id, today, &pauses))
            .flatten();
        items.push(WorkItem {
            overdue: occasion.due_on < today,
            first_remind_on: first.remind_on,
            occasion,
            paused,
            covering_for: None,
        });
    }
    items.sort_by(|a, b| {
        (a.occasion.due_on, &a.occasion.person.name, &a.occasion.key).cmp(&(
            b.occasion.due_on,
            &b.occasion.person.name,
            &b.occasion.key,
        ))
    });
    Ok(items)
}

/// The reason of the pause that holds `person_id` on `day`, if any.
fn pause_reason(
    person_id: i64,
    day: NaiveDate,
    pauses: &[crate::ledger::cover::Pause],
) -> Option<String> {
    pauses
        .iter()
        .rev()
        .find(|p| p.person_id == person_id && p.covers(day))
        .map(|p| p.reason.clone())
}

/// The worklist of staff member `staff_no` on `today`: their own open work, and
/// that of the colleagues they cover for today (`delegate`).
pub async fn worklist(
    store: &Store,
    rules: Arc<RuleSet>,
    staff_no: &str,
    today: NaiveDate,
) -> Result<Option<Worklist>> {
    let all_staff = store.staff_list().await?;
    let Some(me) = all_staff.iter().find(|s| s.number == staff_no).cloned() else {
        return Ok(None);
    };
    let members: Vec<Staff> = all_staff
        .iter()
        .filter(|s| s.supervisor.as_deref() == Some(staff_no) && s.number != staff_no)
        .cloned()
        .collect();
    let covered: Vec<String> = store
        .delegations_from(today)
        .await?
        .into_iter()
        .filter(|d| d.to == me.number && d.covers(today) && d.staff != me.number)
        .map(|d| d.staff)
        .collect();
    let mut numbers = vec![me.number.clone()];
    numbers.extend(members.iter().map(|m| m.number.clone()));
    numbers.extend(
        covered
            .iter()
            .filter(|c| !numbers.contains(c))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let open = open_items(store, rules, &numbers, today, Horizon::RemindedBy).await?;
    let (mut mine, theirs): (Vec<WorkItem>, Vec<WorkItem>) = open
        .into_iter()
        .partition(|i| i.occasion.staff == me.number || covered.contains(&i.occasion.staff));
    for i in &mut mine {
        if i.occasion.staff != me.number {
            i.covering_for = Some(i.occasion.staff.clone());
        }
    }

    let month_start = today.with_day(1).expect("day 1");
    let since = today - chrono::Duration::days(STALE_DAYS.max(30));
    let contacts = store
        .contacts_between(since.min(month_start), today)
        .await?;
    let elder_ids = store.persons_of_staff(&me.number).await?;
    let mut ids = elder_ids.clone();
    ids.extend(contacts.iter().map(|c| c.entry.person_id));
    ids.sort_unstable();
    ids.dedup();
    let persons = store.persons_brief(&ids).await?;

    let mut recent: Vec<(Contact, String)> = contacts
        .iter()
        .filter(|c| c.entry.staff_number.as_deref() == Some(me.number.as_str()))
        .filter(|c| c.entry.on >= today - chrono::Duration::days(30))
        .map(|c| {
            let name = persons
                .get(&c.entry.person_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            (c.clone(), name)
        })
        .collect();
    recent.sort_by_key(|c| std::cmp::Reverse((c.0.entry.on, c.0.id)));

    // The last call or visit of each elder, by anyone, from the ledger.
    let last = store.last_contacts(&elder_ids).await?;
    let pauses = store.pauses().await?;
    let mut elders: Vec<Elder> = elder_ids
        .iter()
        .filter_map(|id| persons.get(id))
        .map(|p| {
            let last_contact = last.get(&p.id).copied();
            Elder {
                paused: pause_reason(p.id, today, &pauses),
                stale: last_contact.is_none_or(|d| d < today - chrono::Duration::days(STALE_DAYS)),
                last_contact,
                person: p.clone(),
            }
        })
        .collect();
    elders.sort_by(|a, b| (!a.stale, &a.person.name).cmp(&(!b.stale, &b.person.name)));

    let team = (!members.is_empty()).then(|| {
        let mut by_member: HashMap<&str, (usize, usize)> = HashMap::new();
        for i in &theirs {
            let e = by_member.entry(i.occasion.staff.as_str()).or_default();
            e.0 += 1;
            if i.overdue {
                e.1 += 1;
            }
        }
        Team {
            members: members
                .iter()
                .map(|m| {
                    let (open, overdue) = by_member
                        .get(m.number.as_str())
                        .copied()
                        .unwrap_or_default();
                    Member {
                        open,
                        overdue,
                        contacts_this_month: contacts
                            .iter()
                            .filter(|c| {
                                c.entry.staff_number.as_deref() == Some(m.number.as_str())
                                    && c.entry.on >= month_start
                                    && c.entry.outcome == Outcome::Done
                            })
                            .count(),
                        staff: m.clone(),
                    }
                })
                .collect(),
            overdue: theirs.into_iter().filter(|i| i.overdue).collect(),
        }
    });
    Ok(Some(Worklist {
        staff: me,
        as_of: today,
        items: mine,
        recent,
        elders,
        team,
    }))
}

/// The calendar feed's occasions: every open occasion of `staff_no` whose deadline
/// lies from `PAST_DAYS` back to `FEED_AHEAD_DAYS` ahead, reminded or not yet.
pub async fn feed_items(
    store: &Store,
    rules: Arc<RuleSet>,
    staff_no: &str,
    today: NaiveDate,
) -> Result<Vec<WorkItem>> {
    let horizon = Horizon::DeadlineWithin(FEED_AHEAD_DAYS);
    open_items(store, rules, &[staff_no.to_string()], today, horizon).await
}
