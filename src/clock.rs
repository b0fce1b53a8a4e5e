//! The only place that reads the wall clock. Everything else takes a `Clock`: the
//! store's timestamps, the channels' signatures, the planning tick and the daemon's
//! daily schedule all follow the clock they are given.

use std::time::Instant;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// China Standard Time (Asia/Shanghai has had no daylight saving since 1991).
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<FixedOffset>;
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The real wall clock, in Asia/Shanghai.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Utc::now().with_timezone(&china())
    }
}

/// A clock fixed at one instant (tests, `--now`, `QINQING_NOW` for one-shot commands).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<FixedOffset>);

impl FixedClock {
    /// `2026-09-18T08:30:00+08:00`, `2026-09-18T08:30:00` (Asia/Shanghai) or
    /// `2026-09-18` (08:30 that day).
    pub fn parse(s: &str) -> Result<FixedClock, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(FixedClock(t.with_timezone(&china())));
        }
        let local = |t: NaiveDateTime| FixedClock(china().from_utc_datetime(&(t - china())));
        if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
            return Ok(local(t));
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(local(d.and_hms_opt(8, 30, 0).expect("valid time")));
        }
        Err(format!(
            "{s:?} is not a time like 2026-09-18T08:30:00+08:00"
        ))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        self.0
    }
}

/// A clock that starts at a given instant and runs at real speed from there (the
/// daemon under `QINQING_NOW`): its start-up tick and first dispatch happen at that
/// instant, and later jobs fall due as time passes.
#[derive(Debug, Clone, Copy)]
pub struct RunningClock {
    start: DateTime<FixedOffset>,
    since: Instant,
}

impl RunningClock {
    pub fn starting_at(start: DateTime<FixedOffset>) -> RunningClock {
        RunningClock {
            start,
            since: Instant::now(),
        }
    }
}

impl Clock for RunningClock {
    fn now(&self) -> DateTime<FixedOffset> {
        let elapsed = chrono::Duration::from_std(self.since.elapsed()).unwrap_or_default();
        self.start + elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms_in_china_time() {
        let a = FixedClock::parse("2026-09-18T08:30:00+08:00").unwrap().0;
        let b = FixedClock::parse("2026-09-18T08:30:00").unwrap().0;
        let c = FixedClock::parse("2026-09-18").unwrap().0;
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.offset(), &china());
        assert!(FixedClock::parse("tomorrow").is_err());
    }

    #[test]
    fn running_clock_starts_where_it_is_told() {
        let t = FixedClock::parse("2026-09-18T08:30:00+08:00").unwrap().0;
        let c = RunningClock::starting_at(t);
        let now = c.now();
        assert!(now >= t && now - t < chrono::Duration::seconds(60));
    }
}
