//! Digests: all of a recipient's reminders due in one send window become one short
//! message in Chinese, listing person, occasion date, reason and the reference to
//! acknowledge. Pure: no I/O.

use chrono::{Datelike, NaiveDate};

use super::channels::{Addressee, MessageKind, Outgoing, Section, SmsFields};
use crate::planner::{Reminder, StageKind};
use crate::roster::Staff;

/// One reminder line: what, for whom, when, and the reference.
pub fn line(r: &Reminder, today: NaiveDate) -> String {
    let mut s = String::new();
    if r.stage == StageKind::Escalate {
        s.push_str("【督办】");
    }
    if r.urgent {
        s.push_str("【紧急】");
    }
    s.push_str(&r.title);
    s.push_str(&format!(
        "({}月{}日)",
        r.occasion_on.month(),
        r.occasion_on.day()
    ));
    if r.stage == StageKind::Escalate {
        s.push_str(",至今未确认,请督促落实");
    }
    if r.remind_on < today {
        s.push_str(&format!(
            "〔迟发:原定{}月{}日提醒〕",
            r.remind_on.month(),
            r.remind_on.day()
        ));
    }
    s.push_str(&format!(" 编号{}", r.reference));
    s
}

pub fn addressee(staff: &Staff) -> Addressee {
    Addressee {
        staff_no: staff.number.clone(),
        name: staff.name.clone(),
        mobile: staff.mobile.clone(),
        email: staff.email.clone(),
        wecom: staff.wecom.clone(),
        dingtalk: staff.dingtalk.clone(),
        feishu: staff.feishu.clone(),
    }
}

/// The section for one staff member.
pub fn section(staff: &Staff, reminders: &[&Reminder], today: NaiveDate) -> Section {
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
    let mut lines: Vec<String> = reminders
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{}. {}", i + 1, line(r, today)))
        .collect();
    lines.push("办结后请回复编号确认(qinqing ack 编号)。".into());
    Section {
        addressee: addressee(staff),
        lines,
        greeting,
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
            date: format!("{}月{}日", today.month(), today.day()),
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
            sub_key: "".into(),
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
        let l = line(&rem("remind", "2026-01-30"), today);
        assert_eq!(l, "李某某 90岁寿辰(2月6日) 编号ABC234");
    }

    #[test]
    fn late_line_says_so() {
        let today = "2026-02-02".parse().unwrap();
        let l = line(&rem("remind", "2026-01-30"), today);
        assert!(l.contains("迟发:原定1月30日提醒"), "{l}");
    }

    #[test]
    fn escalation_is_marked() {
        let today = "2026-02-09".parse().unwrap();
        assert!(line(&rem("escalate", "2026-02-09"), today).starts_with("【督办】"));
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
