//! The working-day calendar against the State Council's published arrangements
//! (2020–2026) and against tyme4rs's own table.

use super::*;
use std::collections::BTreeMap;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn dates(v: &[(NaiveDate, String)]) -> Vec<NaiveDate> {
    v.iter().map(|(d, _)| *d).collect()
}

fn range(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// tyme4rs's legal-holiday table: date → true for a working day, false for a day off.
/// Each record is 13 characters: YYYYMMDD, work flag ('0' work, '1' off), holiday index,
/// sign and two digits of offset to the holiday.
fn tyme_days() -> BTreeMap<NaiveDate, bool> {
    let data = tyme4rs::tyme::holiday::LEGAL_HOLIDAY_DATA;
    assert_eq!(data.len() % 13, 0);
    data.as_bytes()
        .chunks(13)
        .map(|r| {
            let r = std::str::from_utf8(r).unwrap();
            let d = NaiveDate::parse_from_str(&r[..8], "%Y%m%d").unwrap();
            let work = match &r[8..9] {
                "0" => true,
                "1" => false,
                f => panic!("bad flag {f} in {r}"),
            };
            (d, work)
        })
        .collect()
}

#[test]
fn tyme_parsing_agrees_with_its_api() {
    use tyme4rs::tyme::holiday::LegalHoliday;
    let days = tyme_days();
    for (y, m, d) in [
        (2020, 2, 1),
        (2020, 1, 19),
        (2026, 1, 4),
        (2025, 10, 8),
        (2024, 6, 8),
    ] {
        let h = LegalHoliday::from_ymd(y, m, d).unwrap();
        assert_eq!(
            Some(&h.is_work()),
            days.get(&ymd(y as i32, m as u32, d as u32))
        );
    }
    assert!(LegalHoliday::from_ymd(2026, 3, 3).is_none());
}

/// Every day of 2020–2026 against tyme4rs (an independent transcription of the same
/// notices). They agree completely, including the 2020 春节 extension (tyme4rs has
/// 2020-01-31..02-02 off and no make-up day on 2020-02-01), and the late-December start
/// of 2023 and 2024 元旦. The only difference in representation: where a notice says
/// "与周末连休", tyme4rs lists the weekend days as holidays, and so do we.
#[test]
fn builtin_agrees_with_tyme4rs_2020_2026() {
    let cal = WorkCalendar::builtin();
    let tyme = tyme_days();
    for d in range(ymd(2020, 1, 1), ymd(2026, 12, 31)) {
        let want = tyme.get(&d).copied().unwrap_or(!is_weekend(d));
        assert_eq!(cal.is_workday(d), want, "{d} {}", weekday_zh(d));
    }
    for y in 2020..=2026 {
        let off: Vec<NaiveDate> = tyme
            .iter()
            .filter(|(d, w)| d.year() == y && !**w)
            .map(|(d, _)| *d)
            .collect();
        let work: Vec<NaiveDate> = tyme
            .iter()
            .filter(|(d, w)| d.year() == y && **w)
            .map(|(d, _)| *d)
            .collect();
        assert_eq!(dates(&cal.holidays_in(y)), off, "days off {y}");
        assert_eq!(dates(&cal.makeup_workdays_in(y)), work, "make-up days {y}");
        assert!(cal.has_year(y));
    }
    assert!(!cal.has_year(2019));
    assert!(!cal.has_year(2027));
}

#[test]
fn spring_festival_2020_extension() {
    let cal = WorkCalendar::builtin();
    for d in range(ymd(2020, 1, 24), ymd(2020, 2, 2)) {
        assert!(!cal.is_workday(d), "{d}");
    }
    assert!(cal.is_workday(ymd(2020, 1, 19))); // Sunday, make-up
    assert!(cal.is_workday(ymd(2020, 2, 3)));
    assert!(
        !dates(&cal.makeup_workdays_in(2020)).contains(&ymd(2020, 2, 1)),
        "2020-02-01 was a make-up day only before the extension"
    );
    assert_eq!(cal.next_workday(ymd(2020, 1, 23)), ymd(2020, 2, 3));
}

#[test]
fn key_facts_2025_2026() {
    let cal = WorkCalendar::builtin();
    // (year, days off as (month, day) ranges, make-up working days as (month, day))
    type Md = (u32, u32);
    type Year<'a> = (i32, &'a [(Md, Md)], &'a [Md]);
    let years: [Year; 2] = [
        (
            2026,
            &[
                ((1, 1), (1, 3)),
                ((2, 15), (2, 23)),
                ((4, 4), (4, 6)),
                ((5, 1), (5, 5)),
                ((6, 19), (6, 21)),
                ((9, 25), (9, 27)),
                ((10, 1), (10, 7)),
            ],
            &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)],
        ),
        (
            2025,
            &[
                ((1, 1), (1, 1)),
                ((1, 28), (2, 4)),
                ((4, 4), (4, 6)),
                ((5, 1), (5, 5)),
                ((5, 31), (6, 2)),
                ((10, 1), (10, 8)),
            ],
            &[(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)],
        ),
    ];
    for (y, off, work) in years {
        let want_off: Vec<NaiveDate> = off
            .iter()
            .flat_map(|&((m1, d1), (m2, d2))| range(ymd(y, m1, d1), ymd(y, m2, d2)))
            .collect();
        assert_eq!(dates(&cal.holidays_in(y)), want_off, "{y} days off");
        let want_work: Vec<NaiveDate> = work.iter().map(|&(m, d)| ymd(y, m, d)).collect();
        assert_eq!(
            dates(&cal.makeup_workdays_in(y)),
            want_work,
            "{y} make-up days"
        );
    }
    assert_eq!(cal.holidays_in(2026)[0].1, "元旦");
    assert_eq!(cal.makeup_workdays_in(2025)[0].1, "春节");
}

#[test]
fn navigation() {
    let cal = WorkCalendar::builtin();
    assert_eq!(cal.next_workday(ymd(2026, 9, 30)), ymd(2026, 10, 8));
    assert_eq!(cal.prev_workday(ymd(2026, 10, 8)), ymd(2026, 9, 30));
    assert_eq!(cal.prev_workday(ymd(2026, 10, 1)), ymd(2026, 9, 30));
    assert_eq!(cal.workday_on_or_after(ymd(2026, 10, 3)), ymd(2026, 10, 8));
    assert_eq!(cal.workday_on_or_before(ymd(2026, 10, 3)), ymd(2026, 9, 30));
    assert_eq!(
        cal.workday_on_or_before(ymd(2026, 10, 10)),
        ymd(2026, 10, 10)
    ); // Sat, make-up
    assert_eq!(cal.workday_on_or_after(ymd(2026, 9, 30)), ymd(2026, 9, 30));
    assert_eq!(cal.prev_workday(ymd(2026, 9, 21)), ymd(2026, 9, 20)); // Sun, make-up
    // 2026-01-04 is a Sunday make-up day, so January starts working on the 4th.
    assert_eq!(cal.first_workday_of_month(2026, 1), ymd(2026, 1, 4));
    assert_eq!(cal.first_workday_of_month(2026, 10), ymd(2026, 10, 8));
    assert_eq!(cal.first_workday_of_month(2026, 2), ymd(2026, 2, 2));
    assert_eq!(cal.first_workday_of_month(2025, 2), ymd(2025, 2, 5));
    // Across a year boundary into a year with no data.
    assert_eq!(cal.next_workday(ymd(2026, 12, 31)), ymd(2027, 1, 1)); // Friday
    assert_eq!(cal.prev_workday(ymd(2020, 1, 1)), ymd(2019, 12, 31));
}

#[test]
fn year_without_data_is_monday_to_friday() {
    let cal = WorkCalendar::builtin();
    assert!(!cal.has_year(2030));
    for d in range(ymd(2030, 1, 1), ymd(2030, 12, 31)) {
        assert_eq!(cal.is_workday(d), !is_weekend(d), "{d}");
    }
    assert!(cal.holidays_in(2030).is_empty());
    assert!(cal.makeup_workdays_in(2030).is_empty());
    assert_eq!(cal.first_workday_of_month(2030, 6), ymd(2030, 6, 3));
    assert!(cal.is_workday(ymd(2030, 10, 1))); // no notice: a Tuesday is a Tuesday
}

#[test]
fn overrides_replace_a_year_entirely() {
    let text = r#"
        [[year]]
        year = 2026
        holidays = [ { name = "元旦", from = "2026-01-01", to = "2026-01-01" } ]

        [[year]]
        year = 2027
        holidays = [
            { name = "元旦", from = 2027-01-01, to = 2027-01-03 },
            { name = "春节", from = "2027-02-05", to = "2027-02-11" },
        ]
        workdays = [ { name = "春节", date = "2027-02-20" } ]
    "#;
    let cal = WorkCalendar::builtin()
        .with_overrides(text, "test.toml")
        .unwrap();
    // 2026 is now only 元旦 1/1: the built-in 国庆 and 1/4 make-up are gone.
    assert!(cal.is_workday(ymd(2026, 10, 1)));
    assert!(!cal.is_workday(ymd(2026, 1, 4)));
    assert!(cal.is_workday(ymd(2026, 1, 2)));
    assert_eq!(dates(&cal.holidays_in(2026)), vec![ymd(2026, 1, 1)]);
    assert!(cal.makeup_workdays_in(2026).is_empty());
    // 2025 untouched.
    assert!(!cal.is_workday(ymd(2025, 10, 8)));
    // 2027 added, with bare TOML dates accepted.
    assert!(cal.has_year(2027));
    assert!(!cal.is_workday(ymd(2027, 2, 8)));
    assert!(cal.is_workday(ymd(2027, 2, 20)));
    assert_eq!(cal.holidays_in(2027).len(), 10);
    // The built-in calendar itself is unchanged.
    assert!(!WorkCalendar::builtin().is_workday(ymd(2026, 10, 1)));
}

#[test]
fn load_overrides_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holidays.toml");
    std::fs::write(
        &path,
        "[[year]]\nyear = 2027\nholidays = [{ name = \"元旦\", from = \"2027-01-01\", to = \"2027-01-01\" }]\n",
    )
    .unwrap();
    let cal = WorkCalendar::builtin().load_overrides(&path).unwrap();
    assert!(!cal.is_workday(ymd(2027, 1, 1)));

    let missing = dir.path().join("nope.toml");
    let e = WorkCalendar::builtin()
        .load_overrides(&missing)
        .unwrap_err();
    assert!(matches!(e, CalendarError::Read { .. }));
    assert!(e.to_string().contains("nope.toml"), "{e}");

    std::fs::write(&path, "[[year]]\nyear = 2027\nholiday = []\n").unwrap();
    let e = WorkCalendar::builtin().load_overrides(&path).unwrap_err();
    assert!(e.to_string().contains("holidays.toml"), "{e}");
}

fn err(text: &str) -> String {
    let e = WorkCalendar::builtin()
        .with_overrides(text, "config/holidays.toml")
        .unwrap_err();
    let s = e.to_string();
    assert!(s.starts_with("config/holidays.toml: "), "{s}");
    s
}

#[test]
fn bad_override_files() {
    // Unknown keys, at every level.
    let s = err("[[year]]\nyear = 2027\nholiday = []\n");
    assert!(s.contains("holiday"), "{s}");
    let s = err("[[years]]\nyear = 2027\n");
    assert!(s.contains("years"), "{s}");
    let s = err(
        "[[year]]\nyear = 2027\nholidays = [{ name = \"元旦\", from = \"2027-01-01\", until = \"2027-01-01\" }]\n",
    );
    assert!(s.contains("until"), "{s}");
    // Not TOML.
    let s = err("[[year]\nyear = 2027\n");
    assert!(s.contains("not a valid holiday file"), "{s}");
    // Missing `year`.
    let s = err("[[year]]\nholidays = []\n");
    assert!(s.contains("year"), "{s}");

    // Semantic problems are all reported at once.
    let text = r#"
        [[year]]
        year = 2027
        holidays = [
            { name = "元旦", from = "2027-01-01", to = "2027-01-03" },
            { name = "春节", from = "2027-02-30", to = "2027-02-11" },
            { name = "清明节", from = "2027-04-05", to = "2027-04-03" },
            { name = "劳动节", from = "2027-05-01", to = "2027-06-30" },
            { name = "国庆节", from = "2026-10-01", to = "2026-10-07" },
            { name = "端午节", from = "2027-01-02", to = "2027-01-02" },
        ]
        workdays = [
            { name = "春节", date = "2027-02-17" },
            { name = "元旦", date = "2027-01-02" },
            { name = "国庆节", date = "2027-13-01" },
        ]

        [[year]]
        year = 2027
    "#;
    let e = WorkCalendar::builtin()
        .with_overrides(text, "config/holidays.toml")
        .unwrap_err();
    let CalendarError::Invalid { file, problems } = &e else {
        panic!("{e}")
    };
    assert_eq!(file, "config/holidays.toml");
    let has = |needle: &str| {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "no problem mentions {needle:?}: {problems:#?}"
        )
    };
    has("year 2027, holidays[1] (春节): `from` \"2027-02-30\" is not a date");
    has("year 2027, holidays[2] (清明节): `to` 2027-04-03 is before `from` 2027-04-05");
    has("holidays[3] (劳动节): 2027-05-01 to 2027-06-30 is longer than 31 days");
    has("holidays[4] (国庆节): 2026-10-01 to 2026-10-07 is outside year 2027");
    has("holidays[5] (端午节): 2027-01-02 to 2027-01-02 overlaps 元旦");
    has("workdays[0] (春节): 2027-02-17 is a 周三, not a weekend day");
    has("workdays[1] (元旦): 2027-01-02 is inside the holiday 元旦");
    has("workdays[2] (国庆节): `date` \"2027-13-01\" is not a date");
    has("year 2027: listed twice");
    assert_eq!(problems.len(), 9, "{problems:#?}");
    assert!(e.to_string().contains("9 problem(s)"));
}

#[test]
fn builtin_file_is_valid_and_named() {
    let years = parse_file(BUILTIN_TOML, "builtin").unwrap();
    assert_eq!(
        years.keys().copied().collect::<Vec<_>>(),
        (2020..=2026).collect::<Vec<_>>()
    );
    for data in years.values() {
        assert!(data.holidays.iter().all(|b| !b.name.is_empty()));
    }
}

#[test]
fn example_file_parses() {
    let example = include_str!("../holidays-example.toml");
    // As shipped, everything is commented out: loading it changes nothing.
    let cal = WorkCalendar::builtin()
        .with_overrides(example, "holidays-example.toml")
        .unwrap();
    assert!(!cal.has_year(2027));
    // Uncommenting the example lines ("# " but not "## ") gives a valid override.
    let uncommented: String = example
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if !l.starts_with("##") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let cal = WorkCalendar::builtin()
        .with_overrides(&uncommented, "holidays-example.toml")
        .unwrap();
    assert!(cal.has_year(2027));
    assert!(!cal.is_workday(ymd(2027, 1, 1)));
}

#[test]
fn year_report_json_and_table() {
    let cal = WorkCalendar::builtin();
    let r = cal.year_report(2026);
    assert!(r.has_data);
    assert_eq!(r.festivals.len(), crate::calendar::FESTIVALS.len());
    assert_eq!(r.festivals[1], ("春节".to_owned(), ymd(2026, 2, 17)));
    let j = r.to_json();
    let obj = j.as_object().unwrap();
    assert_eq!(
        obj.keys().map(String::as_str).collect::<HashSet<_>>(),
        HashSet::from(["year", "festivals", "holidays", "workdays"])
    );
    assert_eq!(j["year"], 2026);
    assert_eq!(j["festivals"]["春节"], "2026-02-17");
    assert_eq!(j["festivals"]["除夕"], "2026-02-16");
    assert_eq!(j["festivals"].as_object().unwrap().len(), 11);
    assert_eq!(j["holidays"][0], "2026-01-01");
    assert_eq!(j["holidays"].as_array().unwrap().len(), r.holidays.len());
    assert_eq!(j["workdays"][0], "2026-01-04");

    let t = r.to_table();
    assert!(t.contains("2026年"), "{t}");
    assert!(
        t.contains("  春节    2026-02-15 周日 至 2026-02-23 周一（9天）\n"),
        "{t}"
    );
    // Festivals are listed by date: 除夕 before 春节.
    assert!(
        t.find("除夕  2026-02-16").unwrap() < t.find("春节  2026-02-17").unwrap(),
        "{t}"
    );
    assert!(t.contains("2026-10-10 周六"), "{t}");
    assert!(!t.contains("未载入"), "{t}");

    let r = cal.year_report(2031);
    assert!(!r.has_data);
    assert!(r.holidays.is_empty());
    assert!(r.to_table().contains("未载入2031年"));
    assert_eq!(r.to_json()["holidays"], serde_json::json!([]));
}

#[test]
fn dense_table_agrees_with_the_notices() {
    let cal = WorkCalendar::builtin();
    let from = NaiveDate::from_ymd_opt(DENSE_FROM - 2, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(DENSE_TO + 2, 12, 31).unwrap();
    for d in from.iter_days().take_while(|d| *d <= to) {
        assert_eq!(cal.is_workday(d), is_workday_in(&cal.days, d), "{d}");
    }
}
