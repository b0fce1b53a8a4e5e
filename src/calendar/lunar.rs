//! Gregorian ↔ lunar (农历) conversion for lunar years 1901..=2100.
//!
//! The month table is built once, on first use, from icu_calendar's `ChineseTraditional`
//! calendar (which follows GB/T 33661-2017 for this range) and kept in a `OnceLock`;
//! conversions are then a binary search over ~2,480 months, with no allocation. The rule
//! engine calls these for every person and year, so they must stay cheap.
//!
//! Dates outside the table (before 1901-02-19, lunar 1901/1/1, or after the end of lunar
//! year 2100, in January 2101) give `None`.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use icu_calendar::Date;
use icu_calendar::cal::ChineseTraditional;
use icu_calendar::types::Month;

use super::LunarDate;

/// First lunar year in the table.
pub const FIRST_LUNAR_YEAR: i32 = 1901;
/// Last lunar year in the table.
pub const LAST_LUNAR_YEAR: i32 = 2100;

/// One lunar month.
#[derive(Debug, Clone, Copy)]
struct MonthRow {
    /// First day, as `NaiveDate::num_days_from_ce`.
    start: i32,
    year: i32,
    month: u8,
    leap: bool,
    days: u8,
}

struct Table {
    /// Every month of lunar years FIRST..=LAST, in order.
    months: Vec<MonthRow>,
    /// `year_start[y - FIRST]` is the index in `months` of lunar year y's first month;
    /// one extra entry at the end equals `months.len()`.
    year_start: Vec<usize>,
}

impl Table {
    fn year(&self, year: i32) -> Option<&[MonthRow]> {
        if !(FIRST_LUNAR_YEAR..=LAST_LUNAR_YEAR).contains(&year) {
            return None;
        }
        let i = (year - FIRST_LUNAR_YEAR) as usize;
        Some(&self.months[self.year_start[i]..self.year_start[i + 1]])
    }

    fn month(&self, year: i32, month: u8, leap: bool) -> Option<&MonthRow> {
        self.year(year)?
            .iter()
            .find(|m| m.month == month && m.leap == leap)
    }
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build_table)
}

fn to_icu(d: NaiveDate) -> Date<ChineseTraditional> {
    // Month and day come from a valid NaiveDate, and the years used here are far inside
    // icu's supported range, so this cannot fail.
    Date::try_new_iso(d.year(), d.month() as u8, d.day() as u8)
        .expect("a valid Gregorian date is a valid ISO date")
        .to_calendar(ChineseTraditional::new())
}

fn build_table() -> Table {
    let first = Date::try_new_chinese_traditional(FIRST_LUNAR_YEAR, Month::new(1), 1)
        .expect("lunar 1901/1/1 exists");
    let iso = first.to_calendar(icu_calendar::Iso);
    let mut day = NaiveDate::from_ymd_opt(
        iso.year().extended_year(),
        u32::from(iso.month().ordinal),
        u32::from(iso.day_of_month().0),
    )
    .expect("icu gives a valid ISO date");

    let mut months = Vec::with_capacity(2_500);
    let mut year_start = Vec::with_capacity(201);
    loop {
        let c = to_icu(day);
        let year = c.year().extended_year();
        if year > LAST_LUNAR_YEAR {
            break;
        }
        let m = c.month().to_input();
        debug_assert_eq!(c.day_of_month().0, 1);
        if m.number() == 1 && !m.is_leap() {
            year_start.push(months.len());
        }
        let days = c.days_in_month();
        months.push(MonthRow {
            start: day.num_days_from_ce(),
            year,
            month: m.number(),
            leap: m.is_leap(),
            days,
        });
        day = day + chrono::Days::new(u64::from(days));
    }
    year_start.push(months.len());
    assert_eq!(
        year_start.len(),
        (LAST_LUNAR_YEAR - FIRST_LUNAR_YEAR + 2) as usize,
        "one start per lunar year"
    );
    Table { months, year_start }
}

/// The lunar date of a Gregorian date; `None` outside lunar years 1901..=2100.
pub fn to_lunar(d: NaiveDate) -> Option<LunarDate> {
    let t = table();
    let n = d.num_days_from_ce();
    let i = t.months.partition_point(|m| m.start <= n).checked_sub(1)?;
    let m = t.months[i];
    let offset = n - m.start;
    if offset >= i32::from(m.days) {
        return None; // after the last month of the table
    }
    Some(LunarDate {
        year: m.year,
        month: m.month,
        leap: m.leap,
        day: offset as u8 + 1,
    })
}

/// The Gregorian date of a lunar date; `None` if that month (or leap month) does not
/// exist in that lunar year, the day is 0 or past the month's length, or the year is
/// outside 1901..=2100.
pub fn from_lunar(l: LunarDate) -> Option<NaiveDate> {
    let m = table().month(l.year, l.month, l.leap)?;
    if l.day == 0 || l.day > m.days {
        return None;
    }
    NaiveDate::from_num_days_from_ce_opt(m.start + i32::from(l.day) - 1)
}

/// The leap month of lunar year `year` (e.g. `Some(6)` for 闰六月 in 2025), or `None` if
/// the year has none or is outside the table.
pub fn leap_month(year: i32) -> Option<u8> {
    table().year(year)?.iter().find(|m| m.leap).map(|m| m.month)
}

/// The length (29 or 30) of a lunar month; `None` if it does not exist.
pub fn month_days(year: i32, month: u8, leap: bool) -> Option<u8> {
    table().month(year, month, leap).map(|m| m.days)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::collections::HashMap;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lunar-months-1901-2100.tsv"
    );

    /// (lunar_year, month, leap, first_day, days), from the independent fixture.
    pub(crate) fn fixture() -> Vec<(i32, u8, bool, NaiveDate, u8)> {
        let text = std::fs::read_to_string(FIXTURE).expect("read lunar fixture");
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                assert_eq!(f.len(), 5, "bad fixture line {line:?}");
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    match f[2] {
                        "0" => false,
                        "1" => true,
                        other => panic!("bad leap flag {other:?}"),
                    },
                    NaiveDate::parse_from_str(f[3], "%Y-%m-%d").unwrap(),
                    f[4].parse().unwrap(),
                )
            })
            .collect()
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const fn lunar(year: i32, month: u8, leap: bool, day: u8) -> LunarDate {
        LunarDate::new(year, month, leap, day)
    }

    #[test]
    fn every_fixture_month_matches() {
        let rows = fixture();
        assert!(rows.len() > 2400);
        let mut leaps: HashMap<i32, u8> = HashMap::new();
        for &(y, m, leap, first, days) in &rows {
            assert_eq!(
                from_lunar(lunar(y, m, leap, 1)),
                Some(first),
                "{y}/{m}/{leap}"
            );
            assert_eq!(to_lunar(first), Some(lunar(y, m, leap, 1)), "{first}");
            assert_eq!(month_days(y, m, leap), Some(days), "{y}/{m}/{leap}");
            let last = first + chrono::Days::new(u64::from(days) - 1);
            assert_eq!(from_lunar(lunar(y, m, leap, days)), Some(last));
            assert_eq!(from_lunar(lunar(y, m, leap, days + 1)), None);
            if leap {
                leaps.insert(y, m);
            }
        }
        let first_year = rows[0].0;
        let last_year = rows[rows.len() - 1].0;
        for y in first_year..=last_year {
            assert_eq!(leap_month(y), leaps.get(&y).copied(), "leap month of {y}");
        }
    }

    #[test]
    fn every_day_matches_fixture() {
        let rows = fixture();
        let mut count = 0;
        for &(y, m, leap, first, days) in &rows {
            for k in 0..days {
                let d = first + chrono::Days::new(u64::from(k));
                let want = lunar(y, m, leap, k + 1);
                assert_eq!(to_lunar(d), Some(want), "{d}");
                assert_eq!(from_lunar(want), Some(d), "{want:?}");
                count += 1;
            }
        }
        // Months are contiguous in the fixture, so this covered every day from
        // 1901-02-19 to the end of lunar 2099 (2100-02-08).
        for w in rows.windows(2) {
            assert_eq!(w[0].3 + chrono::Days::new(u64::from(w[0].4)), w[1].3);
        }
        assert!(count > 72_000);
    }

    #[test]
    fn table_edges() {
        assert_eq!(to_lunar(ymd(1901, 2, 18)), None);
        assert_eq!(to_lunar(ymd(1901, 2, 19)), Some(lunar(1901, 1, false, 1)));
        // lunar 2100 is in the table (from icu; the fixture stops at 2099).
        let last = from_lunar(lunar(2100, 12, false, 1)).unwrap();
        let days = month_days(2100, 12, false).unwrap();
        let end = last + chrono::Days::new(u64::from(days) - 1);
        assert_eq!(to_lunar(end).unwrap().year, 2100);
        assert_eq!(to_lunar(end.succ_opt().unwrap()), None);
        assert_eq!(from_lunar(lunar(1900, 1, false, 1)), None);
        assert_eq!(from_lunar(lunar(2101, 1, false, 1)), None);
        assert_eq!(leap_month(2101), None);
        assert_eq!(month_days(2025, 13, false), None);
        assert_eq!(from_lunar(lunar(2025, 6, false, 0)), None);
    }

    #[test]
    fn known_values() {
        assert_eq!(from_lunar(lunar(2025, 1, false, 1)), Some(ymd(2025, 1, 29)));
        assert_eq!(from_lunar(lunar(2026, 1, false, 1)), Some(ymd(2026, 2, 17)));
        assert_eq!(from_lunar(lunar(2027, 1, false, 1)), Some(ymd(2027, 2, 6)));
        assert_eq!(leap_month(2025), Some(6));
        assert_eq!(leap_month(2026), None);
        assert_eq!(leap_month(2023), Some(2));
        assert_eq!(from_lunar(lunar(2025, 6, true, 1)), Some(ymd(2025, 7, 25)));
        assert_eq!(from_lunar(lunar(2025, 2, true, 1)), None);
        // 2024-12-31 is still lunar 2024 (腊月初一); 春节 2025 is on 1-29.
        assert_eq!(to_lunar(ymd(2024, 12, 31)), Some(lunar(2024, 12, false, 1)));
        assert_eq!(to_lunar(ymd(2025, 1, 28)), Some(lunar(2024, 12, false, 29)));
    }
}
