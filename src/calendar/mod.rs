//! Calendar facts: Gregorian ↔ lunar (农历) conversion, festivals, China's working days.

use serde::{Deserialize, Serialize};

/// A date in the Chinese lunar calendar. `year` is the Gregorian year in which the
/// lunar year begins (its 春节).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LunarDate {
    pub year: i32,
    pub month: u8,
    pub leap: bool,
    pub day: u8,
}
