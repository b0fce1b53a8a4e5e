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

/// A date in the Chinese lunar calendar. `year` is the Gregorian year in which the
/// lunar year begins (its 春节).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LunarDate {
    pub year: i32,
    pub month: u8,
    pub leap: bool,
    pub day: u8,
}
