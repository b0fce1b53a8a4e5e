//! The festivals the bureau visits on, by name, as Gregorian dates of a given year.
//!
//! Lunar festivals are taken in the lunar year numbered `year` (which begins in Gregorian
//! `year`), so they all fall in Gregorian `year`; 除夕 is the eve of `year`'s 春节.

use chrono::{Days, NaiveDate};

use super::LunarDate;
use super::lunar::from_lunar;

/// Every festival name [`festival`] knows, in calendar order.
pub const FESTIVALS: &[&str] = &[
    "元旦", "春节", "元宵", "端午", "七一", "八一", "七夕", "中秋", "国庆", "重阳", "除夕",
];

fn lunar_day(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
    from_lunar(LunarDate {
        year,
        month,
        leap: false,
        day,
    })
}

/// The date of festival `name` in `year`; `None` for an unknown name, or for a lunar
/// festival outside lunar years 1901..=2100.
///
/// Lunar: 春节 1/1, 元宵 1/15, 端午 5/5, 七夕 7/7, 中秋 8/15, 重阳 9/9 of lunar year
/// `year`; 除夕 is the day before `year`'s 春节 (the last day of lunar `year - 1`'s
/// twelfth month, its 29th or 30th). Gregorian: 元旦 1/1, 七一 7/1, 八一 8/1, 国庆 10/1.
pub fn festival(name: &str, year: i32) -> Option<NaiveDate> {
    match name {
        "元旦" => NaiveDate::from_ymd_opt(year, 1, 1),
        "七一" => NaiveDate::from_ymd_opt(year, 7, 1),
        "八一" => NaiveDate::from_ymd_opt(year, 8, 1),
        "国庆" => NaiveDate::from_ymd_opt(year, 10, 1),
        "春节" => lunar_day(year, 1, 1),
        "元宵" => lunar_day(year, 1, 15),
        "端午" => lunar_day(year, 5, 5),
        "七夕" => lunar_day(year, 7, 7),
        "中秋" => lunar_day(year, 8, 15),
        "重阳" => lunar_day(year, 9, 9),
        "除夕" => lunar_day(year, 1, 1)?.checked_sub_days(Days::new(1)),
        _ => None,
    }
}

/// Every festival of `year` that has a date, in [`FESTIVALS`] order.
pub fn festivals_in(year: i32) -> Vec<(&'static str, NaiveDate)> {
    FESTIVALS
        .iter()
        .filter_map(|&name| festival(name, year).map(|d| (name, d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use std::collections::HashMap;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(festival("春节", 2025), Some(ymd(2025, 1, 29)));
        assert_eq!(festival("春节", 2026), Some(ymd(2026, 2, 17)));
        assert_eq!(festival("春节", 2027), Some(ymd(2027, 2, 6)));
        assert_eq!(festival("除夕", 2025), Some(ymd(2025, 1, 28)));
        assert_eq!(festival("除夕", 2026), Some(ymd(2026, 2, 16)));
        assert_eq!(festival("中秋", 2025), Some(ymd(2025, 10, 6)));
        assert_eq!(festival("端午", 2025), Some(ymd(2025, 5, 31)));
        assert_eq!(festival("重阳", 2025), Some(ymd(2025, 10, 29)));
        assert_eq!(festival("中秋", 2026), Some(ymd(2026, 9, 25)));
        assert_eq!(festival("元旦", 2026), Some(ymd(2026, 1, 1)));
        assert_eq!(festival("七一", 2026), Some(ymd(2026, 7, 1)));
        assert_eq!(festival("八一", 2026), Some(ymd(2026, 8, 1)));
        assert_eq!(festival("国庆", 2026), Some(ymd(2026, 10, 1)));
        assert_eq!(festival("清明", 2026), None);
        assert_eq!(festival("", 2026), None);
        assert_eq!(festival("春节", 2101), None);
        assert_eq!(festivals_in(2026).len(), FESTIVALS.len());
        assert_eq!(festivals_in(2026)[0], ("元旦", ymd(2026, 1, 1)));
    }

    #[test]
    fn lunar_festivals_match_fixture() {
        let rows = crate::calendar::lunar::tests::fixture();
        let first: HashMap<(i32, u8), (NaiveDate, u8)> = rows
            .iter()
            .filter(|r| !r.2)
            .map(|&(y, m, _, d, n)| ((y, m), (d, n)))
            .collect();
        let day = |y: i32, m: u8, k: u64| first[&(y, m)].0 + Days::new(k - 1);
        let (y0, y1) = (rows[0].0, rows[rows.len() - 1].0);
        for y in y0..=y1 {
            assert_eq!(festival("春节", y), Some(day(y, 1, 1)), "春节 {y}");
            assert_eq!(festival("元宵", y), Some(day(y, 1, 15)), "元宵 {y}");
            assert_eq!(festival("端午", y), Some(day(y, 5, 5)), "端午 {y}");
            assert_eq!(festival("七夕", y), Some(day(y, 7, 7)), "七夕 {y}");
            assert_eq!(festival("中秋", y), Some(day(y, 8, 15)), "中秋 {y}");
            assert_eq!(festival("重阳", y), Some(day(y, 9, 9)), "重阳 {y}");
            let eve = festival("除夕", y).unwrap();
            assert_eq!(eve, day(y, 1, 1) - Days::new(1), "除夕 {y}");
            assert_eq!(eve.year(), y);
            if y > y0 {
                // the last day of lunar y-1's twelfth month
                let (start, len) = first[&(y - 1, 12)];
                assert_eq!(eve, start + Days::new(u64::from(len) - 1), "除夕 {y}");
            }
            for (name, d) in festivals_in(y) {
                assert_eq!(d.year(), y, "{name} {y}");
            }
        }
    }
}
