//! The only place that reads the wall clock. Everything else takes a `Clock`.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

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

/// A clock fixed at one instant (tests, `--now`).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<FixedOffset>);

impl FixedClock {
    pub fn at(s: &str) -> Self {
        FixedClock(DateTime::parse_from_rfc3339(s).expect("RFC 3339 time"))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        self.0
    }
}
