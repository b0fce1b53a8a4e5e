//! China's working days: the State Council's yearly holiday notices (国务院办公厅关于
//! 20XX年部分节假日安排的通知), built in for 2020–2026 (`holidays-cn.toml`), with
//! per-year overrides from an operator's TOML file.
//!
//! A date is a working day when it is not in a notice's holiday range and it is Monday to
//! Friday or a make-up working day (调休上班). Years without a notice are Monday to Friday.
//! "On working days" everywhere in qinqing means this calendar.
//!
//! This module reads no clock; [`WorkCalendar::load_overrides`] is the only I/O, a thin
//! wrapper over the pure [`WorkCalendar::with_overrides`].

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use super::festival::festivals_in;

/// The built-in notices, 2020–2026, in the override file format.
const BUILTIN_TOML: &str = include_str!("holidays-cn.toml");

/// Holiday breaks longer than this are taken for a typo in a file.
const MAX_BREAK_DAYS: i64 = 31;

/// What went wrong loading a holiday file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("cannot read holiday file {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not a valid holiday file: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {} problem(s): {}", .problems.len(), .problems.join("; "))]
    Invalid { file: String, problems: Vec<String> },
}

// ---- file format -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    year: Vec<RawYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i32,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
    #[serde(default)]
    workdays: Vec<RawWorkday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    from: toml::Value,
    to: toml::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkday {
    name: String,
    date: toml::Value,
}

/// A date written as `"2027-01-01"` or as a bare TOML date `2027-01-01`.
fn parse_date(v: &toml::Value) -> Result<NaiveDate, String> {
    match v {
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| format!("{s:?} is not a date (write YYYY-MM-DD, e.g. \"2027-01-01\")")),
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .ok_or_else(|| format!("{dt} is not a date"))
            }
            _ => Err(format!(
                "{dt} has a time; write only the date, e.g. \"2027-01-01\""
            )),
        },
        other => Err(format!(
            "{other} is not a date (write YYYY-MM-DD, e.g. \"2027-01-01\")"
        )),
    }
}

fn weekday_zh(d: NaiveDate) -> &'static str {
    match d.weekday() {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn is_workday_in(days: &BTreeMap<NaiveDate, Day>, d: NaiveDate) -> bool {
    match days.get(&d) {
        Some(Day::Off(_)) => false,
        Some(Day::Work(_)) => true,
        None => !is_weekend(d),
    }
}

// ---- validated data ----------------------------------------------------------------

#[derive(Debug, Clone)]
struct Break {
    name: Arc<str>,
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Debug, Clone)]
struct Makeup {
    name: Arc<str>,
    date: NaiveDate,
}

/// One year's notice.
#[derive(Debug, Clone, Default)]
struct YearData {
    holidays: Vec<Break>,
    workdays: Vec<Makeup>,
}

#[derive(Debug, Clone)]
enum Day {
    Off(Arc<str>),
    Work(Arc<str>),
}

/// Validates a whole file, collecting every problem.
fn parse_file(text: &str, file: &str) -> Result<BTreeMap<i32, YearData>, CalendarError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| CalendarError::Syntax {
        file: file.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let mut problems = Vec::new();
    let mut years = BTreeMap::new();
    for ry in raw.year {
        let y = ry.year;
        if !(1901..=2100).contains(&y) {
            problems.push(format!("year {y}: outside 1901..=2100"));
            continue;
        }
        if years.contains_key(&y) {
            problems.push(format!(
                "year {y}: listed twice; keep one [[year]] table per year"
            ));
            continue;
        }
        // A notice covers its year, and may start a break in late December before it.
        let earliest = NaiveDate::from_ymd_opt(y - 1, 12, 1).expect("valid");
        let latest = NaiveDate::from_ymd_opt(y, 12, 31).expect("valid");
        let in_scope = |d: NaiveDate| (earliest..=latest).contains(&d);
        let mut data = YearData::default();
        for (i, h) in ry.holidays.iter().enumerate() {
            let at = format!("year {y}, holidays[{i}] ({})", h.name);
            if h.name.trim().is_empty() {
                problems.push(format!("{at}: `name` is empty"));
            }
            let (from, to) = match (parse_date(&h.from), parse_date(&h.to)) {
                (Ok(f), Ok(t)) => (f, t),
                (f, t) => {
                    if let Err(e) = f {
                        problems.push(format!("{at}: `from` {e}"));
                    }
                    if let Err(e) = t {
                        problems.push(format!("{at}: `to` {e}"));
                    }
                    continue;
                }
            };
            if to < from {
                problems.push(format!("{at}: `to` {to} is before `from` {from}"));
                continue;
            }
            if (to - from).num_days() + 1 > MAX_BREAK_DAYS {
                problems.push(format!(
                    "{at}: {from} to {to} is longer than {MAX_BREAK_DAYS} days; check the dates"
                ));
                continue;
            }
            if !in_scope(from) || !in_scope(to) {
                problems.push(format!(
                    "{at}: {from} to {to} is outside year {y} (a year's notice covers that year \
                     and at most December of the year before)"
                ));
                continue;
            }
            if let Some(other) = data
                .holidays
                .iter()
                .find(|b: &&Break| b.from <= to && from <= b.to)
            {
                problems.push(format!(
                    "{at}: {from} to {to} overlaps {} ({} to {})",
                    other.name, other.from, other.to
                ));
                continue;
            }
            data.holidays.push(Break {
                name: Arc::from(h.name.trim()),
                from,
                to,
            });
        }
        let mut seen = HashSet::new();
        for (i, w) in ry.workdays.iter().enumerate() {
            let at = format!("year {y}, workdays[{i}] ({})", w.name);
            if w.name.trim().is_empty() {
                problems.push(format!("{at}: `name` is empty"));
            }
            let date = match parse_date(&w.date) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(format!("{at}: `date` {e}"));
                    continue;
                }
            };
            if !in_scope(date) {
                problems.push(format!("{at}: {date} is outside year {y}"));
                continue;
            }
            if !is_weekend(date) {
                problems.push(format!(
                    "{at}: {date} is a {}, not a weekend day; a make-up working day (调休上班) \
                     must be a Saturday or Sunday",
                    weekday_zh(date)
                ));
                continue;
            }
            if let Some(b) = data
                .holidays
                .iter()
                .find(|b| b.from <= date && date <= b.to)
            {
                problems.push(format!(
                    "{at}: {date} is inside the holiday {} ({} to {})",
                    b.name, b.from, b.to
                ));
                continue;
            }
            if !seen.insert(date) {
                problems.push(format!("{at}: {date} is listed twice"));
                continue;
            }
            data.workdays.push(Makeup {
                name: Arc::from(w.name.trim()),
                date,
            });
        }
        years.insert(y, data);
    }
    if problems.is_empty() {
        Ok(years)
    } else {
        Err(CalendarError::Invalid {
            file: file.to_owned(),
            problems,
        })
    }
}

// ---- the calendar ------------------------------------------------------------------

/// China's working-day calendar: built-in notices plus operator overrides.
///
/// Cheap to clone (names are shared); immutable once built.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearData>,
    /// Every date some notice says something about, derived from `years`.
    days: BTreeMap<NaiveDate, Day>,
    /// `is_workday` answered in advance for every day of [`DENSE_FROM`, `DENSE_TO`]
    /// (the planner asks it tens of millions of times for a large roster).
    dense: Arc<DenseDays>,
}

/// First and last year answered from the dense table; other days use the map.
const DENSE_FROM: i32 = 1990;
const DENSE_TO: i32 = 2110;

#[derive(Debug)]
struct DenseDays {
    /// `num_days_from_ce` of 1 January of `DENSE_FROM`.
    first: i32,
    /// One flag per day: 1 = working day.
    work: Vec<u8>,
}

impl WorkCalendar {
    fn from_years(years: BTreeMap<i32, YearData>) -> Self {
        let days = WorkCalendar::days_of(&years);
        let start = NaiveDate::from_ymd_opt(DENSE_FROM, 1, 1).expect("valid date");
        let end = NaiveDate::from_ymd_opt(DENSE_TO, 12, 31).expect("valid date");
        let work = start
            .iter_days()
            .take_while(|d| *d <= end)
            .map(|d| u8::from(is_workday_in(&days, d)))
            .collect();
        let dense = Arc::new(DenseDays {
            first: start.num_days_from_ce(),
            work,
        });
        WorkCalendar { years, days, dense }
    }

    fn days_of(years: &BTreeMap<i32, YearData>) -> BTreeMap<NaiveDate, Day> {
        let mut days = BTreeMap::new();
        // Ascending years: where a later notice's range reaches back into December of
        // the year before, the later notice wins.
        for data in years.values() {
            for b in &data.holidays {
                for d in b.from.iter_days().take_while(|d| *d <= b.to) {
                    days.insert(d, Day::Off(b.name.clone()));
                }
            }
            for w in &data.workdays {
                days.insert(w.date, Day::Work(w.name.clone()));
            }
        }
        days
    }

    /// The built-in notices for 2020–2026 (including the 2020 春节 extension).
    pub fn builtin() -> WorkCalendar {
        static BUILTIN: OnceLock<WorkCalendar> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let years = parse_file(BUILTIN_TOML, "built-in holidays-cn.toml")
                    .unwrap_or_else(|e| panic!("{e}"));
                WorkCalendar::from_years(years)
            })
            .clone()
    }

    /// Applies an override file's text: every year it lists replaces that year's data
    /// entirely; other years are kept. `source` names the file in errors.
    ///
    /// # Errors
    /// [`CalendarError::Syntax`] for TOML that does not parse or has an unknown key;
    /// [`CalendarError::Invalid`] listing every bad date, `to` before `from`, make-up day
    /// that is not a weekend day, overlap or repeated year.
    pub fn with_overrides(
        mut self,
        toml_text: &str,
        source: &str,
    ) -> Result<WorkCalendar, CalendarError> {
        let overrides = parse_file(toml_text, source)?;
        self.years.extend(overrides);
        Ok(WorkCalendar::from_years(self.years))
    }

    /// Reads an override file and applies it as [`with_overrides`](Self::with_overrides).
    ///
    /// # Errors
    /// [`CalendarError::Read`] if the file cannot be read, else as `with_overrides`.
    pub fn load_overrides(self, path: &Path) -> Result<WorkCalendar, CalendarError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.with_overrides(&text, &path.display().to_string())
    }

    /// Whether a notice for `year` is loaded.
    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether `d` is a working day: not in a holiday range, and Monday to Friday or a
    /// make-up working day. In a year without data: Monday to Friday.
    pub fn is_workday(&self, d: NaiveDate) -> bool {
        let i = d.num_days_from_ce() - self.dense.first;
        match usize::try_from(i).ok().and_then(|i| self.dense.work.get(i)) {
            Some(w) => *w != 0,
            None => is_workday_in(&self.days, d),
        }
    }

    fn step_until_workday(&self, mut d: NaiveDate, forward: bool) -> NaiveDate {
        // Breaks are at most MAX_BREAK_DAYS long and weekends two days, so this ends
        // within a few dozen steps.
        while !self.is_workday(d) {
            d = if forward { d.succ_opt() } else { d.pred_opt() }.expect("date in range");
        }
        d
    }

    /// The latest working day strictly before `d`.
    pub fn prev_workday(&self, d: NaiveDate) -> NaiveDate {
        self.step_until_workday(d.pred_opt().expect("date in range"), false)
    }

    /// The earliest working day strictly after `d`.
    pub fn next_workday(&self, d: NaiveDate) -> NaiveDate {
        self.step_until_workday(d.succ_opt().expect("date in range"), true)
    }

    /// `d` if it is a working day, else the previous one.
    pub fn workday_on_or_before(&self, d: NaiveDate) -> NaiveDate {
        self.step_until_workday(d, false)
    }

    /// `d` if it is a working day, else the next one.
    pub fn workday_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        self.step_until_workday(d, true)
    }

    /// The first working day of a month.
    ///
    /// # Panics
    /// If `month` is not 1..=12 or the year is outside chrono's range.
    pub fn first_workday_of_month(&self, year: i32, month: u32) -> NaiveDate {
        let first = NaiveDate::from_ymd_opt(year, month, 1)
            .unwrap_or_else(|| panic!("no month {year}-{month}"));
        self.workday_on_or_after(first)
    }

    fn days_in(&self, year: i32, want_off: bool) -> Vec<(NaiveDate, String)> {
        let (Some(a), Some(b)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Vec::new();
        };
        self.days
            .range(a..=b)
            .filter_map(|(d, day)| match (day, want_off) {
                (Day::Off(n), true) | (Day::Work(n), false) => Some((*d, n.to_string())),
                _ => None,
            })
            .collect()
    }

    /// Every day off in the notices' holiday ranges that falls in `year` (weekend days
    /// inside a range included), sorted, with the holiday's name. Dates are taken by
    /// calendar year, so a break from next year's notice that starts in late December
    /// (e.g. 2023-12-30 for 2024 元旦) is listed under this year.
    pub fn holidays_in(&self, year: i32) -> Vec<(NaiveDate, String)> {
        self.days_in(year, true)
    }

    /// Every make-up working day (调休上班) that falls in `year`, sorted, with the name
    /// of the holiday it belongs to.
    pub fn makeup_workdays_in(&self, year: i32) -> Vec<(NaiveDate, String)> {
        self.days_in(year, false)
    }

    /// Festivals, days off and make-up working days of `year`, for `qinqing` reports.
    pub fn year_report(&self, year: i32) -> YearReport {
        YearReport {
            year,
            festivals: festivals_in(year)
                .into_iter()
                .map(|(n, d)| (n.to_owned(), d))
                .collect(),
            holidays: self.holidays_in(year),
            workdays: self.makeup_workdays_in(year),
            has_data: self.has_year(year),
        }
    }
}

// ---- report ------------------------------------------------------------------------

/// One year's calendar at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearReport {
    pub year: i32,
    /// In [`FESTIVALS`](super::FESTIVALS) order.
    pub festivals: Vec<(String, NaiveDate)>,
    /// Days off, sorted.
    pub holidays: Vec<(NaiveDate, String)>,
    /// Make-up working days, sorted.
    pub workdays: Vec<(NaiveDate, String)>,
    /// Whether a notice for this year is loaded (else holidays are unknown and working
    /// days are Monday to Friday).
    pub has_data: bool,
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl YearReport {
    /// `{"year":Y,"festivals":{"春节":"YYYY-MM-DD",...},"holidays":["YYYY-MM-DD",...],
    /// "workdays":["YYYY-MM-DD",...]}`. Festival keys are sorted (serde_json's map has no
    /// insertion order in this build).
    pub fn to_json(&self) -> serde_json::Value {
        let festivals: serde_json::Map<String, serde_json::Value> = self
            .festivals
            .iter()
            .map(|(n, d)| (n.clone(), iso(*d).into()))
            .collect();
        serde_json::json!({
            "year": self.year,
            "festivals": festivals,
            "holidays": self.holidays.iter().map(|(d, _)| iso(*d)).collect::<Vec<_>>(),
            "workdays": self.workdays.iter().map(|(d, _)| iso(*d)).collect::<Vec<_>>(),
        })
    }

    /// A readable table in Chinese for a terminal: festivals by date, then each holiday
    /// break as one line, then the make-up working days.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}年 节日与工作日", self.year);
        if !self.has_data {
            let _ = writeln!(
                s,
                "（未载入{}年国务院放假通知：放假安排未知，工作日按周一至周五计算）",
                self.year
            );
        }
        let _ = writeln!(s, "\n节日");
        let mut festivals: Vec<&(String, NaiveDate)> = self.festivals.iter().collect();
        festivals.sort_by_key(|(_, d)| *d);
        for (name, d) in festivals {
            let _ = writeln!(s, "  {}  {}  {}", pad(name, 4), iso(*d), weekday_zh(*d));
        }

        let _ = writeln!(s, "\n放假（共{}天）", self.holidays.len());
        let mut runs: Vec<(NaiveDate, NaiveDate, &str)> = Vec::new();
        for (d, name) in &self.holidays {
            match runs.last_mut() {
                Some((_, to, n)) if *n == name.as_str() && to.succ_opt() == Some(*d) => *to = *d,
                _ => runs.push((*d, *d, name)),
            }
        }
        let width = runs.iter().map(|r| display_width(r.2)).max().unwrap_or(0);
        for (from, to, name) in runs {
            let days = (to - from).num_days() + 1;
            if from == to {
                let _ = writeln!(
                    s,
                    "  {}  {} {}",
                    pad(name, width),
                    iso(from),
                    weekday_zh(from)
                );
            } else {
                let _ = writeln!(
                    s,
                    "  {}  {} {} 至 {} {}（{}天）",
                    pad(name, width),
                    iso(from),
                    weekday_zh(from),
                    iso(to),
                    weekday_zh(to),
                    days
                );
            }
        }

        let _ = writeln!(s, "\n调休上班（共{}天）", self.workdays.len());
        let width = self
            .workdays
            .iter()
            .map(|(_, n)| display_width(n))
            .max()
            .unwrap_or(0);
        for (d, name) in &self.workdays {
            let _ = writeln!(s, "  {}  {} {}", pad(name, width), iso(*d), weekday_zh(*d));
        }
        s
    }
}

fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` padded with spaces to `width` terminal columns (CJK characters take two).
fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(display_width(s)),
    ));
    out
}

#[cfg(test)]
mod tests;
