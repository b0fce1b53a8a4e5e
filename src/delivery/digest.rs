//! Digests: all of a recipient's reminders due in one send window become one short
//! message in Chinese, listing person, occasion date, what to do by when, the
//! reference (提醒编号) and, when `http.base_url` is set, a link to answer each line
//! and the recipient's worklist link. No I/O: the links minted are returned for the
//! caller to store with the digest.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::channels::{Addressee, Item, MessageKind, Outgoing, Section, SmsFields};
use crate::calendar::WorkCalendar;
use crate::links::{self, LinkKind, NewLink};
use crate::planner::{Reminder, StageKind};
use crate::roster::Staff;
use crate::store::PersonBrief;

/// Where links point and how long they work (from `[http]`).
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `http.base_url` without a trailing slash.
    pub base: String,
    pub ack_days: i64,
    pub worklist_days: i64,
}

/// What rendering a digest needs besides the reminders.
pub struct Render<'a> {
    pub today: NaiveDate,
    pub calendar: &'a WorkCalendar,
    /// The persons of the reminders, by id (for 编号).
    pub persons: &'a HashMap<i64, PersonBrief>,
    /// The staff members assigned to those persons (for whose work an escalation is).
    pub assigned: &'a HashMap<i64, Vec<String>>,
    /// Every staff member, by 工号.
    pub staff: &'a HashMap<String, Staff>,
    pub links: Option<&'a LinkSettings>,
}

/// "9月24日".
pub fn month_day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

/// What the staff member does for a reminder of this kind: 走访, 电话联系, 送达.
pub fn verb(kind: &str) -> &'static str {
    match kind {
        "call" => "电话联系",
        "deliver" => "送达",
        "visit" => "走访",
        _ => "办理",
    }
}

/// One reminder line: what, for whom, when, what to do by when, and the reference.
/// An escalation names the staff member responsible (`responsible`, when known)
/// and how many days the work is overdue.
pub fn line(
    r: &Reminder,
    due_on: NaiveDate,
    today: NaiveDate,
    responsible: Option<&str>,
) -> String {
    let mut s = String::new();
    if r.stage == StageKind::Escalate {
        s.push_str("【督办】");
        if let Some(name) = responsible {
            s.push_str(&format!("{name}负责的 "));
        }
    }
    if r.urgent {
        s.push_str("【紧急】");
    }
    s.push_str(&r.title);
    s.push_str(&format!("({})", month_day(r.occasion_on)));
    if r.stage == StageKind::Escalate {
        let overdue = (today - due_on).num_days();
        if overdue > 0 {
            s.push_str(&format!("已逾期{overdue}天,请督促落实"));
        } else {
            s.push_str(",至今未确认,请督促落实");
        }
    } else {
        s.push_str(&format!(",请于{}前{}", month_day(due_on), verb(&r.kind)));
    }
    if r.remind_on < today {
        s.push_str(&format!("〔迟发:原定{}提醒〕", month_day(r.remind_on)));
    }
    s.push_str(&format!(" 提醒编号{}", r.reference));
    s
}

/// The name of the staff member whose work an escalation to `r.recipient` is: of
/// the person's assigned staff, the one `r.recipient` supervises, else the first.
fn responsible<'a>(r: &Reminder, render: &'a Render<'_>) -> Option<&'a str> {
    let assigned = render.assigned.get(&r.person_id)?;
    let by_supervisor = assigned.iter().find(|no| {
        render
            .staff
            .get(*no)
            .is_some_and(|s| s.supervisor.as_deref() == Some(r.recipient.as_str()))
    });
    let no = by_supervisor.or(assigned.first())?;
    render
        .staff
        .get(no)
        .map(|s| s.name.as_str())
        .filter(|n| !n.is_empty())
}

pub fn addressee(staff: &Staff) -> Addressee {
    Addressee {
        staff_no: staff.number.clone(),
        name: staff.name.clone(),
        addresses: staff.addresses.clone(),
    }
}

/// The section for one staff member; links minted for it are pushed to `minted`.
pub fn section(
    staff: &Staff,
    reminders: &[&Reminder],
    r: &Render<'_>,
    minted: &mut Vec<NewLink>,
) -> Section {
    let visits = reminders
        .iter()
        .filter(|r| r.stage == StageKind::Remind)
        .count();
    let escalations = reminders.len() - visits;
    let mut greeting = format!("{}同志:今日亲情服务提醒{}项", staff.name, reminders.len());
    if escalations > 0 {
        greeting.push_str(&format!("(其中督办{escalations}项)"));
    }
    greeting.push(':');
    let mut mint = |kind: LinkKind, key: Option<&str>, days: i64| {
        r.links.map(|l| {
            let (url, row) = links::mint(
                &l.base,
                kind,
                &staff.number,
                key,
                r.today + chrono::Duration::days(days),
            );
            minted.push(row);
            url
        })
    };
    let mut lines = Vec::with_capacity(reminders.len() + 1);
    let mut items = Vec::with_capacity(reminders.len());
    for (i, rem) in reminders.iter().enumerate() {
        let due_on = rem.due_on(r.calendar);
        let who = (rem.stage == StageKind::Escalate)
            .then(|| responsible(rem, r))
            .flatten();
        lines.push(format!("{}. {}", i + 1, line(rem, due_on, r.today, who)));
        let person = r.persons.get(&rem.person_id);
        items.push(Item {
            person: person.map(PersonBrief::label).unwrap_or_default(),
            name: person
                .map(|p| p.name.clone())
                .unwrap_or_else(|| rem.person_name.to_string()),
            rule: rem.rule.to_string(),
            title: rem.title.to_string(),
            occasion_on: rem.occasion_on.to_string(),
            due_on: due_on.to_string(),
            reference: rem.reference.to_string(),
            ack_url: mint(
                LinkKind::Ack,
                Some(&rem.occasion_key),
                r.links.map_or(0, |l| l.ack_days),
            ),
        });
    }
    let worklist_url = mint(
        LinkKind::Worklist,
        None,
        r.links.map_or(0, |l| l.worklist_days),
    );
    lines.push(if worklist_url.is_some() {
        "办结后请点击链接确认,或回复提醒编号确认(qinqing ack 提醒编号)。".into()
    } else {
        "办结后请回复提醒编号确认(qinqing ack 提醒编号)。".into()
    });
    Section {
        addressee: addressee(staff),
        lines,
        greeting,
        items,
        worklist_url,
    }
}

/// A message for one or more sections (one per staff member for group robots).
pub fn outgoing(
    idempotency_key: String,
    sections: Vec<Section>,
    reminders: &[&Reminder],
    today: NaiveDate,
) -> Outgoing {
    let urgent = reminders.iter().any(|r| r.urgent);
    let first = sections.first();
    Outgoing {
        idempotency_key,
        subject: format!(
            "{}亲情服务提醒({}年{}月{}日)",
            if urgent { "【紧急】" } else { "" },
            today.year(),
            today.month(),
            today.day()
        ),
        sms: SmsFields {
            name: first.map(|s| s.addressee.name.clone()).unwrap_or_default(),
            count: reminders.len() as u32,
            reference: reminders
                .first()
                .map(|r| r.reference.to_string())
                .unwrap_or_default(),
            date: month_day(today),
            link: first
                .and_then(|s| s.worklist_url.clone())
                .unwrap_or_default(),
        },
        kind: if urgent {
            MessageKind::Urgent
        } else {
            MessageKind::Digest
        },
        sections,
    }
}

/// A deterministic idempotency key for a digest: the same reminders on the same
/// channel give the same key, so a resend after a crash is recognisable.
pub fn idempotency_key(channel: &str, recipient: &str, reminder_ids: &[i64]) -> String {
    let mut ids = reminder_ids.to_vec();
    ids.sort_unstable();
    let mut text = format!("{channel}|{recipient}");
    for id in &ids {
        text.push('|');
        text.push_str(&id.to_string());
    }
    let h = crate::planner::stable_hash(text.as_bytes());
    format!("qq-{channel}-{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rem(stage: &str, remind_on: &str) -> Reminder {
        Reminder {
            key: "k".into(),
            occasion_key: "o".into(),
            reference: "ABC234".into(),
            rule: "birthday-milestone".into(),
            person_id: 1,
            person: "LX0001".into(),
            person_name: "李某某".into(),
            occasion_on: "2026-02-06".parse().unwrap(),
            stage: StageKind::parse(stage).unwrap(),
            lead_days: Some(7),
            remind_on: remind_on.parse().unwrap(),
            recipient: "S001".into(),
            title: "李某某 90岁寿辰".into(),
            kind: "visit".into(),
            urgent: false,
            satisfied_by: Vec::new().into(),
            window: None,
            channels: Vec::new().into(),
            after_death: false,
        }
    }

    #[test]
    fn line_names_person_date_and_reference() {
        let today = "2026-01-30".parse().unwrap();
        let l = line(
            &rem("remind", "2026-01-30"),
            "2026-02-06".parse().unwrap(),
            today,
            None,
        );
        assert_eq!(l, "李某某 90岁寿辰(2月6日),请于2月6日前走访 提醒编号ABC234");
    }

    #[test]
    fn late_line_says_so() {
        let today = "2026-02-02".parse().unwrap();
        let l = line(
            &rem("remind", "2026-01-30"),
            "2026-02-06".parse().unwrap(),
            today,
            None,
        );
        assert!(l.contains("迟发:原定1月30日提醒"), "{l}");
    }

    #[test]
    fn escalation_names_whose_work_and_how_late() {
        let today = "2026-02-09".parse().unwrap();
        let due = "2026-02-06".parse().unwrap();
        let l = line(&rem("escalate", "2026-02-09"), due, today, Some("张三"));
        assert_eq!(
            l,
            "【督办】张三负责的 李某某 90岁寿辰(2月6日)已逾期3天,请督促落实 提醒编号ABC234"
        );
        let unnamed = line(&rem("escalate", "2026-02-09"), today, today, None);
        assert!(
            unnamed.starts_with("【督办】李某某") && unnamed.contains("至今未确认"),
            "{unnamed}"
        );
    }

    #[test]
    fn key_is_order_independent_and_distinct() {
        assert_eq!(
            idempotency_key("sms", "S1", &[2, 1]),
            idempotency_key("sms", "S1", &[1, 2])
        );
        assert_ne!(
            idempotency_key("sms", "S1", &[1]),
            idempotency_key("email", "S1", &[1])
        );
    }
}
