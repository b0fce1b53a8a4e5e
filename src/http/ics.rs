//! The calendar feed (RFC 5545, written with the `icalendar` crate): one all-day
//! event per open occasion on its due_on, with a UID stable across fetches (the
//! occasion key's hash), so a calendar app updates rather than duplicates, and an
//! acknowledged occasion is simply absent from the next fetch.

use chrono::{DateTime, FixedOffset, Utc};
use icalendar::{Calendar, Component, Event, EventLike};

use super::pages::without_name;
use crate::delivery::digest::verb;
use crate::planner::stable_hash;
use crate::service::worklist::WorkItem;

/// The feed for `items`; `base` is the worklist URL (`…/s/{token}`).
pub fn calendar(items: &[WorkItem], base: &str, now: DateTime<FixedOffset>) -> String {
    let mut cal = Calendar::new();
    cal.name("亲情服务工作清单");
    let stamp = now.with_timezone(&Utc);
    for i in items {
        let o = &i.occasion;
        let uid = format!("{:016x}@qinqing", stable_hash(o.key.as_bytes()));
        let summary = format!(
            "{} {}",
            o.person.name,
            without_name(&o.title, &o.person.name)
        );
        let description = format!(
            "{}({}),请于{}前{}。提醒编号 {}。确认办结:{base}/o/{}",
            o.title,
            o.occasion_on.format("%Y-%m-%d"),
            o.due_on.format("%Y-%m-%d"),
            verb(&o.kind),
            o.reference,
            o.reference
        );
        cal.push(
            Event::new()
                .uid(&uid)
                .timestamp(stamp)
                .summary(&summary)
                .description(&description)
                .all_day(o.due_on)
                .done(),
        );
    }
    cal.done().to_string()
}
