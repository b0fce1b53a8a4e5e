//! Calendar facts: Gregorian ↔ lunar (农历) conversion, festivals, birthdays and ages,
//! and China's working days (the State Council's yearly holiday notices).
//!
//! Everything here is pure: no clock, no I/O except [`WorkCalendar::load_overrides`],
//! which reads the one file it is given. The lunar table is built once from icu_calendar
//! and shared read-only; nothing else is global.
//!
//! - [`lunar`]: [`to_lunar`], [`from_lunar`], [`leap_month`], [`month_days`].
//! - [`festival`]: [`FESTIVALS`], [`festival`](fn@festival), [`festivals_in`].
//! - [`birthday`]: [`Birthday`], [`gregorian_birthdays_in`], [`lunar_birthdays_in`],
//!   [`age_on`], [`xusui_on`].
//! - [`workday`]: [`WorkCalendar`], [`YearReport`], [`CalendarError`].

use serde::{Deserialize, Serialize};

pub mod birthday;
pub mod festival;
pub mod lunar;
pub mod workday;

pub use birthday::{Birthday, age_on, gregorian_birthdays_in, lunar_birthdays_in, xusui_on};
pub use festival::{FESTIVALS, festival, festivals_in};
pub use lunar::{from_lunar, leap_month, month_days, to_lunar};
pub use workday::{CalendarError, WorkCalendar, YearReport};

/// `d` as the ten bytes `2026-09-18` (as chrono displays it), for writers that
/// format millions of dates; None for years outside 0000–9999.
pub fn ymd_bytes(d: chrono::NaiveDate) -> Option<[u8; 10]> {
    use chrono::Datelike;
    let (y, m, day) = (u32::try_from(d.year()).ok()?, d.month(), d.day());
    if y > 9999 {
        return None;
    }
    let digit = |n: u32| b'0' + n as u8;
    Some([
        digit(y / 1000),
        digit(y / 100 % 10),
        digit(y / 10 % 10),
        digit(y % 10),
        b'-',
        digit(m / 10),
        digit(m % 10),
        b'-',
        digit(day / 10),
        digit(day % 10),
    ])
}

#[cfg(test)]
mod ymd_tests {
    #[test]
    fn ymd_bytes_are_chrono_display() {
        for s in ["2026-09-18", "0001-01-01", "1925-12-31", "9999-12-31"] {
            let d: chrono::NaiveDate = s.parse().unwrap();
            assert_eq!(super::ymd_bytes(d).unwrap(), *d.to_string().as_bytes());
        }
        let far = chrono::NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert_eq!(super::ymd_bytes(far), None);
    }
}

/// A date in the Chinese lunar calendar. `year` is the Gregorian year in which the
/// lunar year begins (its 春节).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LunarDate {
    pub year: i32,
    pub month: u8,
    pub leap: bool,
    pub day: u8,
}

impl LunarDate {
    pub const fn new(year: i32, month: u8, leap: bool, day: u8) -> LunarDate {
        LunarDate {
            year,
            month,
            leap,
            day,
        }
    }
}

/// `1935-07-12`, or `1930-闰06-15` for a day of a leap month: the roster's form.
impl std::fmt::Display for LunarDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let leap = if self.leap { "闰" } else { "" };
        write!(
            f,
            "{:04}-{leap}{:02}-{:02}",
            self.year, self.month, self.day
        )
    }
}

/// Parses the [`Display`](std::fmt::Display) form. Only the shape is checked; whether
/// the day exists is [`from_lunar`]'s question.
impl std::str::FromStr for LunarDate {
    type Err = String;

    fn from_str(s: &str) -> Result<LunarDate, String> {
        let bad = || format!("{s:?} is not a lunar date like 1935-07-12 or 1930-闰06-15");
        let mut it = s.split('-');
        let year = it.next().and_then(|y| y.parse().ok()).ok_or_else(bad)?;
        let m = it.next().ok_or_else(bad)?;
        let (leap, m) = match m.strip_prefix("闰") {
            Some(rest) => (true, rest),
            None => (false, m),
        };
        let month = m.parse().map_err(|_| bad())?;
        let day = it.next().and_then(|d| d.parse().ok()).ok_or_else(bad)?;
        if it.next().is_some() {
            return Err(bad());
        }
        Ok(LunarDate {
            year,
            month,
            leap,
            day,
        })
    }
}

#[cfg(test)]
mod lunar_text_tests {
    use super::LunarDate;

    #[test]
    fn lunar_date_text_round_trips() {
        for (text, leap) in [("1935-07-12", false), ("1930-闰06-15", true)] {
            let l: LunarDate = text.parse().unwrap();
            assert_eq!(l.leap, leap);
            assert_eq!(l.to_string(), text);
        }
        assert!("1935-07".parse::<LunarDate>().is_err());
        assert!("1935-07-12-1".parse::<LunarDate>().is_err());
    }
}
