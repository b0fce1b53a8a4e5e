//! Birthdays in a given Gregorian year (Gregorian or lunar) and ages (周岁, 虚岁).
//!
//! The stated rules for awkward birthdays:
//! - Gregorian 29 February: celebrated on 28 February in common years, and a year of age
//!   is completed on that day.
//! - Lunar birthday in leap month N (闰N月): celebrated in leap month N in lunar years that
//!   have one, otherwise in the regular month N.
//! - Lunar day 30 in a year where that month has 29 days: celebrated on day 29.
//! - A lunar birthday can fall 0, 1 or 2 times in one Gregorian year (lunar years are 354
//!   to 384 days long), so the functions return a `Vec`, sorted by date.
//! - Age on a lunar birthday is `lunar year − lunar birth year`; birthdays with age < 1
//!   (the birth itself and anything before it) are skipped.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::LunarDate;
use super::lunar::{from_lunar, leap_month, month_days, to_lunar};

/// One birthday: the Gregorian date it is celebrated on and the age reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Birthday {
    pub date: NaiveDate,
    pub age: i32,
}

/// The anniversary of `birth` in `year`; 29 February becomes 28 February in common years.
fn anniversary(birth: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
}

/// The Gregorian birthday of someone born on `birth`, in Gregorian `year`: none if the age
/// reached (`year − birth year`) is below 1, else exactly one.
pub fn gregorian_birthdays_in(birth: NaiveDate, year: i32) -> Vec<Birthday> {
    let age = year - birth.year();
    if age < 1 {
        return Vec::new();
    }
    anniversary(birth, year)
        .map(|date| Birthday { date, age })
        .into_iter()
        .collect()
}

/// The day on which a person born on `lunar_birth` celebrates in lunar year `year`,
/// following the module's rules for leap months and day 30.
fn lunar_birthday_in_lunar_year(lunar_birth: LunarDate, year: i32) -> Option<NaiveDate> {
    let leap = lunar_birth.leap && leap_month(year) == Some(lunar_birth.month);
    let len = month_days(year, lunar_birth.month, leap)?;
    if lunar_birth.day == 0 || lunar_birth.day > 30 {
        return None;
    }
    from_lunar(LunarDate {
        year,
        month: lunar_birth.month,
        leap,
        day: lunar_birth.day.min(len),
    })
}

/// Every lunar birthday of `lunar_birth` whose Gregorian date falls in `year` (0, 1 or 2
/// of them), sorted by date. Lunar years `year − 1` and `year` are considered; ages below
/// 1 are skipped. Dates outside lunar years 1901..=2100 give nothing.
pub fn lunar_birthdays_in(lunar_birth: LunarDate, year: i32) -> Vec<Birthday> {
    let mut out: Vec<Birthday> = [year - 1, year]
        .into_iter()
        .filter_map(|lunar_year| {
            let age = lunar_year - lunar_birth.year;
            if age < 1 {
                return None;
            }
            let date = lunar_birthday_in_lunar_year(lunar_birth, lunar_year)?;
            (date.year() == year).then_some(Birthday { date, age })
        })
        .collect();
    out.sort_by_key(|b| b.date);
    out
}

/// Age in completed years (周岁) on day `d`. Someone born on 29 February completes a year
/// on 28 February in common years. Negative if `d` is before the first birthday would
/// make it so (i.e. `d` before `birth` gives −1 or less).
pub fn age_on(birth: NaiveDate, d: NaiveDate) -> i32 {
    let years = d.year() - birth.year();
    match anniversary(birth, d.year()) {
        Some(a) if d < a => years - 1,
        _ => years,
    }
}

/// Nominal age (虚岁) on day `d`: lunar year of `d` − lunar year of `birth` + 1, so one is
/// 1 at birth and gains a year at each 春节. Outside the lunar table (before 1901-02-19 or
/// after lunar 2100) the Gregorian year stands in for the lunar year.
pub fn xusui_on(birth: NaiveDate, d: NaiveDate) -> i32 {
    let lunar_year = |x: NaiveDate| to_lunar(x).map_or(x.year(), |l| l.year);
    lunar_year(d) - lunar_year(birth) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const fn lunar(year: i32, month: u8, leap: bool, day: u8) -> LunarDate {
        LunarDate::new(year, month, leap, day)
    }

    fn bd(date: NaiveDate, age: i32) -> Birthday {
        Birthday { date, age }
    }

    #[test]
    fn gregorian_birthdays() {
        let b = ymd(1936, 5, 20);
        assert_eq!(
            gregorian_birthdays_in(b, 2026),
            vec![bd(ymd(2026, 5, 20), 90)]
        );
        assert_eq!(gregorian_birthdays_in(b, 1936), vec![]);
        assert_eq!(gregorian_birthdays_in(b, 1930), vec![]);
        assert_eq!(
            gregorian_birthdays_in(b, 1937),
            vec![bd(ymd(1937, 5, 20), 1)]
        );
    }

    #[test]
    fn leap_day_birth() {
        let b = ymd(1936, 2, 29);
        assert_eq!(
            gregorian_birthdays_in(b, 2026),
            vec![bd(ymd(2026, 2, 28), 90)]
        );
        assert_eq!(
            gregorian_birthdays_in(b, 2028),
            vec![bd(ymd(2028, 2, 29), 92)]
        );
        assert_eq!(age_on(b, ymd(2026, 2, 27)), 89);
        assert_eq!(age_on(b, ymd(2026, 2, 28)), 90);
        assert_eq!(age_on(b, ymd(2028, 2, 28)), 91);
        assert_eq!(age_on(b, ymd(2028, 2, 29)), 92);
    }

    #[test]
    fn ages() {
        let b = ymd(1940, 10, 6);
        assert_eq!(age_on(b, ymd(2025, 10, 5)), 84);
        assert_eq!(age_on(b, ymd(2025, 10, 6)), 85);
        assert_eq!(age_on(b, ymd(2025, 12, 31)), 85);
        assert_eq!(age_on(b, b), 0);
        assert_eq!(age_on(b, ymd(1940, 10, 5)), -1);
        // 虚岁: 1940-10-06 is in lunar 1940; on 2025-01-28 (除夕) it is still lunar 2024.
        assert_eq!(xusui_on(b, b), 1);
        assert_eq!(xusui_on(b, ymd(2025, 1, 28)), 85);
        assert_eq!(xusui_on(b, ymd(2025, 1, 29)), 86);
        // Born in January before 春节: the lunar year is the previous one.
        let jan = ymd(1941, 1, 10); // lunar 1940
        assert_eq!(to_lunar(jan).unwrap().year, 1940);
        assert_eq!(xusui_on(jan, ymd(1941, 1, 26)), 1); // 1941-01-27 is 春节
        assert_eq!(xusui_on(jan, ymd(1941, 1, 27)), 2);
    }

    #[test]
    fn lunar_birthday_ordinary() {
        // 八月十五 1940 → 中秋 each year.
        let b = lunar(1940, 8, false, 15);
        assert_eq!(lunar_birthdays_in(b, 2025), vec![bd(ymd(2025, 10, 6), 85)]);
        assert_eq!(lunar_birthdays_in(b, 2026), vec![bd(ymd(2026, 9, 25), 86)]);
        assert_eq!(lunar_birthdays_in(b, 1940), vec![]);
        assert_eq!(lunar_birthdays_in(b, 1941).len(), 1);
        assert_eq!(lunar_birthdays_in(b, 1941)[0].age, 1);
    }

    #[test]
    fn lunar_birthday_leap_month() {
        // 1930 闰六月十五: 1930 has a leap sixth month, and so does 2025.
        assert_eq!(leap_month(1930), Some(6));
        assert_eq!(leap_month(2025), Some(6));
        assert_eq!(leap_month(2026), None);
        let b = lunar(1930, 6, true, 15);
        // 2025 has 闰六月 (from 2025-07-25): celebrated in the leap month.
        assert_eq!(lunar_birthdays_in(b, 2025), vec![bd(ymd(2025, 8, 8), 95)]);
        // 2026 has none: the regular sixth month.
        let regular = from_lunar(lunar(2026, 6, false, 15)).unwrap();
        assert_eq!(lunar_birthdays_in(b, 2026), vec![bd(regular, 96)]);
        // Someone born in the regular 六月十五 of 1930 keeps the regular month in 2025.
        let r = lunar(1930, 6, false, 15);
        assert_eq!(lunar_birthdays_in(r, 2025), vec![bd(ymd(2025, 7, 9), 95)]);
    }

    #[test]
    fn lunar_birthday_day_30() {
        // Find a year whose twelfth month has 29 days and one where it has 30.
        let short = (2020..2040)
            .find(|&y| month_days(y, 12, false) == Some(29))
            .unwrap();
        let long = (2020..2040)
            .find(|&y| month_days(y, 12, false) == Some(30))
            .unwrap();
        let b = lunar(1935, 12, false, 30);
        let on = |y: i32| lunar_birthday_in_lunar_year(b, y).unwrap();
        assert_eq!(on(short), from_lunar(lunar(short, 12, false, 29)).unwrap());
        assert_eq!(on(long), from_lunar(lunar(long, 12, false, 30)).unwrap());
        // In a short year the day-30 birthday is the 除夕 of the next 春节.
        assert_eq!(
            Some(on(short)),
            crate::calendar::festival("除夕", short + 1)
        );
        // Explicit: lunar 2025's twelfth month has 29 days → 2026-02-16 (除夕).
        assert_eq!(month_days(2025, 12, false), Some(29));
        let in_2026 = lunar_birthdays_in(b, 2026);
        assert!(in_2026.contains(&bd(ymd(2026, 2, 16), 90)), "{in_2026:?}");
        // Invalid lunar days give nothing rather than a wrong date.
        assert_eq!(lunar_birthdays_in(lunar(1935, 12, false, 0), 2026), vec![]);
        assert_eq!(lunar_birthdays_in(lunar(1935, 12, false, 31), 2026), vec![]);
        assert_eq!(lunar_birthdays_in(lunar(1935, 13, false, 1), 2026), vec![]);
    }

    #[test]
    fn lunar_birthday_twice_and_never() {
        // 腊月初五: lunar 2021's falls on 2022-01-07, lunar 2022's on 2022-12-27
        // (春节 2023 is 01-22), so twice in 2022 and never in 2023 (lunar 2023's is in
        // January 2024).
        let b = lunar(1940, 12, false, 5);
        let twice = lunar_birthdays_in(b, 2022);
        assert_eq!(
            twice,
            vec![bd(ymd(2022, 1, 7), 81), bd(ymd(2022, 12, 27), 82)]
        );
        assert_eq!(lunar_birthdays_in(b, 2023), vec![]);
        assert_eq!(lunar_birthdays_in(b, 2024), vec![bd(ymd(2024, 1, 15), 83)]);
        // Across 1950..2100 every year has 0, 1 or 2, dates in that year, sorted,
        // and ages never skip or repeat.
        let mut ages = Vec::new();
        for y in 1950..2100 {
            let v = lunar_birthdays_in(b, y);
            assert!(v.len() <= 2);
            assert!(v.windows(2).all(|w| w[0].date < w[1].date));
            assert!(v.iter().all(|x| x.date.year() == y));
            ages.extend(v.iter().map(|x| x.age));
        }
        assert!(ages.windows(2).all(|w| w[1] == w[0] + 1), "{ages:?}");
    }
}
