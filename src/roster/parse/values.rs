//! Parsing of single cell values as people type them: dates, 身份证号, 是/否, phones,
//! lists, lunar dates. Each parser returns the typed value or a reason in plain Chinese.
//! No knowledge of rows, columns or files (that is `persons`/`staff`).

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;

use crate::calendar::LunarDate;

/// A cell as read from the file, before interpretation. Text borrows from the
/// workbook or CSV buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    /// An Excel date cell, as the calendar date Excel shows (may be 1900-02-29).
    Date {
        y: i32,
        m: u32,
        d: u32,
    },
}

impl<'a> Cell<'a> {
    /// The cell as normalised text (NFKC, trimmed). Numbers print without `.0`.
    pub(crate) fn text(&self) -> Cow<'a, str> {
        match *self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(s) => normalize(s),
            Cell::Number(f) => Cow::Owned(format_number(f)),
            Cell::Date { y, m, d } => Cow::Owned(format!("{y:04}-{m:02}-{d:02}")),
        }
    }

    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => trim(s).is_empty() || normalize(s).is_empty(),
            _ => false,
        }
    }
}

fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}')
}

/// NFKC-normalise and trim. ASCII input is returned borrowed.
pub(crate) fn normalize(s: &str) -> Cow<'_, str> {
    let t = trim(s);
    if t.is_ascii()
        || unicode_normalization::is_nfkc_quick(t.chars())
            == unicode_normalization::IsNormalized::Yes
    {
        return Cow::Borrowed(t);
    }
    let n: String = t.nfkc().collect();
    let tn = trim(&n);
    if tn.len() == n.len() {
        Cow::Owned(n)
    } else {
        Cow::Owned(tn.to_string())
    }
}

/// `1.0` → `"1"`, `13900000001.0` → `"13900000001"`, `1.5` → `"1.5"`.
pub(crate) fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Normalises a header name: NFKC, trimmed, inner whitespace, `*` markers and a
/// trailing note in parentheses (`出生日期(年月日)`, `姓名*`) removed, lowercase.
pub(crate) fn header_key(s: &str) -> String {
    let n = normalize(s);
    let mut base: &str = &n;
    if base.ends_with(')')
        && let Some(i) = base.rfind('(')
        && i > 0
    {
        base = &base[..i];
    }
    base.chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .flat_map(char::to_lowercase)
        .collect()
}

const DATE_HINT: &str = "请写成 1935-07-12、1935/7/12、1935年7月12日 或 19350712";

/// The date Excel means by a 1900-system serial number (with Excel's 1900-02-29 bug).
pub(crate) fn excel_serial(serial: f64) -> Result<NaiveDate, String> {
    let days = serial.floor();
    if !(1.0..2_958_466.0).contains(&days) {
        return Err(format!(
            "数字 {} 不是有效的日期;{DATE_HINT}",
            format_number(serial)
        ));
    }
    let days = days as i64;
    if days == 60 {
        return Err("日期不存在(1900-02-29,Excel 1900年闰年错误)".into());
    }
    let base = if days < 60 {
        NaiveDate::from_ymd_opt(1899, 12, 31)
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)
    };
    base.and_then(|b| b.checked_add_signed(chrono::Duration::days(days)))
        .ok_or_else(|| format!("数字 {} 不是有效的日期;{DATE_HINT}", format_number(serial)))
}

fn ymd(y: i64, m: i64, d: i64) -> Result<NaiveDate, String> {
    if !(1800..=2100).contains(&y) {
        return Err(format!("年份 {y} 不合理;{DATE_HINT}"));
    }
    u32::try_from(m)
        .ok()
        .zip(u32::try_from(d).ok())
        .and_then(|(m, d)| NaiveDate::from_ymd_opt(y as i32, m, d))
        .ok_or_else(|| "日期不存在".to_string())
}

/// Splits `1935-07-12`, `1935/7/12`, `1935.7.12`, `1935年7月12日` (with an optional
/// trailing time) into up to three digit groups. `leap` collects a `闰` marker.
fn date_groups(s: &str, allow_leap: bool) -> Option<([i64; 3], bool)> {
    // Drop a trailing time such as ` 00:00:00` or `T00:00:00`.
    let s = match s.find([' ', 'T']) {
        Some(i) if s[i + 1..].contains(':') => &s[..i],
        _ => s,
    };
    let mut groups = [0i64; 3];
    let mut n = 0;
    let mut cur: Option<i64> = None;
    let mut leap = false;
    let mut leap_pos_ok = false;
    for c in s.chars() {
        match c {
            '0'..='9' => {
                let v = cur.unwrap_or(0) * 10 + i64::from(c as u8 - b'0');
                if v > 99_999 {
                    return None;
                }
                cur = Some(v);
            }
            '-' | '/' | '.' | '年' | '月' | '日' | '号' => {
                if let Some(v) = cur.take() {
                    if n == 3 {
                        return None;
                    }
                    groups[n] = v;
                    n += 1;
                    leap_pos_ok = n == 1;
                } else if c == '-' || c == '/' || c == '.' {
                    return None;
                }
            }
            '闰' if allow_leap && cur.is_none() && leap_pos_ok && !leap => leap = true,
            _ => return None,
        }
    }
    if let Some(v) = cur {
        if n == 3 {
            return None;
        }
        groups[n] = v;
        n += 1;
    }
    (n == 3).then_some((groups, leap))
}

/// A Gregorian date from text as people type it.
pub(crate) fn parse_date_text(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        let v: i64 = s.parse().unwrap_or(0);
        return ymd(v / 10000, v / 100 % 100, v % 100);
    }
    match date_groups(s, false) {
        Some(([y, m, d], _)) if y >= 1000 => ymd(y, m, d),
        _ => Err(format!("无法识别的日期;{DATE_HINT}")),
    }
}

/// A Gregorian date from any cell: text, an Excel date cell, a yyyymmdd number or
/// an Excel serial number. `Ok(None)` for an empty cell.
pub(crate) fn parse_date(cell: &Cell) -> Result<Option<NaiveDate>, String> {
    match *cell {
        Cell::Empty => Ok(None),
        Cell::Date { y, m, d } => NaiveDate::from_ymd_opt(y, m, d)
            .map(Some)
            .ok_or_else(|| "日期不存在".into()),
        Cell::Number(f) => {
            if f.fract() == 0.0 && (18_000_101.0..=21_001_231.0).contains(&f) {
                let v = f as i64;
                ymd(v / 10000, v / 100 % 100, v % 100).map(Some)
            } else {
                excel_serial(f).map(Some)
            }
        }
        Cell::Text(_) => {
            let t = cell.text();
            if t.is_empty() {
                Ok(None)
            } else if (4..=5).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
                // A date cell in General format, saved to CSV by Excel: its serial number.
                excel_serial(t.parse::<f64>().unwrap_or(0.0)).map(Some)
            } else {
                parse_date_text(&t).map(Some)
            }
        }
    }
}

/// 农历出生日期: `1935-07-12` or `1930-闰06-15` (also `/`, `.`, 年月日 and 闰 before
/// the month). Month 1–12, day 1–30.
pub(crate) fn parse_lunar(cell: &Cell) -> Result<Option<LunarDate>, String> {
    const HINT: &str = "农历出生日期请写成 1935-07-12,闰月写成 1930-闰06-15";
    let (y, m, d, leap) = match *cell {
        Cell::Empty => return Ok(None),
        Cell::Date { y, m, d } => (i64::from(y), i64::from(m), i64::from(d), false),
        Cell::Number(f) if f.fract() == 0.0 && (18_000_101.0..=21_001_231.0).contains(&f) => {
            let v = f as i64;
            (v / 10000, v / 100 % 100, v % 100, false)
        }
        Cell::Number(_) => return Err(format!("无法识别的农历日期;{HINT}")),
        Cell::Text(_) => {
            let t = cell.text();
            if t.is_empty() {
                return Ok(None);
            }
            let b = t.as_bytes();
            if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
                let v: i64 = t.parse().unwrap_or(0);
                (v / 10000, v / 100 % 100, v % 100, false)
            } else {
                match date_groups(&t, true).or_else(|| chinese_lunar(&t)) {
                    Some(([y, m, d], leap)) => (y, m, d, leap),
                    None => return Err(format!("无法识别的农历日期;{HINT}")),
                }
            }
        }
    };
    if !(1800..=2100).contains(&y) {
        return Err(format!("农历年份 {y} 不合理;{HINT}"));
    }
    if !(1..=12).contains(&m) {
        return Err(format!("农历月份 {m} 不存在,应为 1 到 12"));
    }
    if !(1..=30).contains(&d) {
        return Err(format!("农历日 {d} 不存在,应为 1 到 30"));
    }
    Ok(Some(LunarDate {
        year: y as i32,
        month: m as u8,
        leap,
        day: d as u8,
    }))
}

/// A number written in Chinese as lunar dates are: 一…十, 十一, 二十, 廿三, 卅, 初五
/// (also ASCII digits).
fn chinese_number(s: &str) -> Option<i64> {
    let s = s.strip_prefix('初').unwrap_or(s);
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let digit = |c: char| -> Option<i64> {
        "〇一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as i64)
            .or(if c == '零' { Some(0) } else { None })
    };
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] if *c == '廿' => Some(20),
        [c] if *c == '卅' => Some(30),
        [c] => digit(*c),
        ['十', u] => Some(10 + digit(*u)?),
        ['廿', u] => Some(20 + digit(*u)?),
        ['卅', u] => Some(30 + digit(*u)?),
        [t, '十'] => Some(10 * digit(*t)?),
        [t, '十', u] => Some(10 * digit(*t)? + digit(*u)?),
        _ => None,
    }
}

/// `1930年闰六月十五`, `1935年七月初二日`, `1940年腊月廿八`, `1930年正月初一`.
fn chinese_lunar(s: &str) -> Option<([i64; 3], bool)> {
    let (year, rest) = s.split_once('年')?;
    let year: i64 = year.trim().parse().ok()?;
    let rest = rest.trim();
    let (leap, rest) = match rest.strip_prefix('闰') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (month, day) = rest.split_once('月')?;
    let month = match month {
        "正" => 1,
        "冬" => 11,
        "腊" | "臘" => 12,
        m => chinese_number(m)?,
    };
    let day = day.trim_end_matches(['日', '号']);
    Some(([year, month, chinese_number(day)?], leap))
}

/// 是/否 fields. Empty means 否.
pub(crate) fn parse_yes_no(cell: &Cell) -> Result<bool, String> {
    if let Cell::Number(f) = *cell {
        if f == 1.0 {
            return Ok(true);
        }
        if f == 0.0 {
            return Ok(false);
        }
    }
    let t = cell.text();
    match t.as_ref() {
        "是" | "Y" | "y" | "√" | "✓" | "✔" | "1" => Ok(true),
        "" | "否" | "N" | "n" | "×" | "✗" | "✘" | "0" => Ok(false),
        s if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") => Ok(true),
        s if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") => Ok(false),
        _ => Err("只能填 是 或 否(也可写 Y/N、√/×、1/0),不填表示否".into()),
    }
}

/// GB 11643-1999 check character for the first 17 digits.
pub(crate) fn id_check_char(first17: &[u8]) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    C[(sum % 11) as usize] as char
}

/// A checked 身份证号 and the birth date it encodes.
#[derive(Debug, PartialEq)]
pub(crate) struct IdNumber {
    pub value: String,
    pub birth: NaiveDate,
}

pub(crate) const ID_AS_NUMBER: &str = "身份证号被Excel存成了数字(stored as a number),末几位已丢失;\
     请在Excel中把该列设置为「文本」格式后重新输入身份证号";

/// Validates a 身份证号. `Err((shown value, reason))`; the shown value is masked.
pub(crate) fn parse_id(cell: &Cell) -> Result<Option<IdNumber>, (String, String)> {
    if let Cell::Number(f) = *cell {
        let digits = format_number(f.abs().trunc());
        let shown = crate::mask::id_number(&digits);
        // A 15-digit number is exact in a double: an old-style ID number, kept whole.
        if f.fract() == 0.0 && (1e14..1e15).contains(&f) {
            return parse_id(&Cell::Text(&digits));
        }
        if f.abs() >= 1e14 {
            return Err((shown, ID_AS_NUMBER.into()));
        }
        return Err((
            shown,
            format!(
                "身份证号应为18位(或旧式15位),这里只有{}位数字;如果是Excel存成了数字,请把该列设置为文本格式后重新输入",
                digits.len()
            ),
        ));
    }
    if let Cell::Date { .. } = cell {
        return Err((cell.text().into_owned(), "身份证号不能是日期格式".into()));
    }
    let t = cell.text();
    if t.is_empty() {
        return Ok(None);
    }
    // `3.70102E+17`: a number Excel wrote in scientific notation (a CSV saved by
    // Excel): the digits are gone.
    if scientific(&t) {
        return Err((t.into_owned(), ID_AS_NUMBER.into()));
    }
    let value: String = t
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| if c == 'x' { 'X' } else { c })
        .collect();
    let shown = crate::mask::id_number(&value);
    let b = value.as_bytes();
    let err = |reason: String| Err((shown.clone(), reason));
    match b.len() {
        18 => {
            if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X')
            {
                return err("身份证号只能由数字组成,最后一位可以是X".into());
            }
            let birth = match id_birth(&value[6..14]) {
                Some(d) => d,
                None => return err(format!("身份证号中的出生日期 {} 不存在", &value[6..14])),
            };
            let expect = id_check_char(&b[..17]);
            if b[17] as char != expect {
                return err(format!(
                    "身份证号校验位不对:按前17位计算最后一位应为 {expect},这里是 {};请核对是否抄错",
                    b[17] as char
                ));
            }
            Ok(Some(IdNumber { value, birth }))
        }
        15 => {
            if !b.iter().all(u8::is_ascii_digit) {
                return err("旧式15位身份证号只能由数字组成".into());
            }
            let ds = format!("19{}", &value[6..12]);
            match id_birth(&ds) {
                Some(birth) => Ok(Some(IdNumber { value, birth })),
                None => err(format!("身份证号中的出生日期 {ds} 不存在")),
            }
        }
        n => err(format!(
            "身份证号应为18位(或旧式15位),这里是{n}位;最后一位可以是X"
        )),
    }
}

/// `3.70102E+17`, `3.70102e17`, `3,70102E+17`: digits, one decimal mark, an
/// exponent.
fn scientific(s: &str) -> bool {
    let Some((mantissa, exp)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && mantissa.chars().any(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

fn id_birth(s: &str) -> Option<NaiveDate> {
    let v: u32 = s.parse().ok()?;
    NaiveDate::from_ymd_opt((v / 10000) as i32, v / 100 % 100, v % 100).filter(|d| d.year() >= 1800)
}

/// A phone number: spaces and dashes removed, 7–15 digits, optional leading +86.
/// `Err((masked value, reason))`.
pub(crate) fn parse_phone(cell: &Cell) -> Result<Option<String>, (String, String)> {
    let t = cell.text();
    let value: String = t
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '—' | '–' | '‐' | '−'))
        .collect();
    if value.is_empty() {
        return Ok(None);
    }
    let digits = value
        .strip_prefix("+86")
        .or_else(|| value.strip_prefix("(+86)"))
        .unwrap_or(&value);
    if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(value))
    } else {
        Err((
            crate::mask::phone(&value),
            "电话号码应为7到15位数字(可带 +86、空格和横线),一格只填一个号码".into(),
        ))
    }
}

/// Splits a list cell on 、 , ; or whitespace (after NFKC, so ， ； are included).
pub(crate) fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| matches!(c, '、' | ',' | ';' | '，' | '；') || c.is_whitespace())
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn dates_as_typed() {
        for s in [
            "1935-07-12",
            "1935/7/12",
            "1935.7.12",
            "1935年7月12日",
            "19350712",
            "1935-07-12 00:00:00",
            "１９３５－０７－１２",
            " 1935年07月12日 ",
        ] {
            assert_eq!(parse_date(&Cell::Text(s)), Ok(Some(d(1935, 7, 12))), "{s}");
        }
        assert_eq!(parse_date(&Cell::Text("")), Ok(None));
        assert_eq!(
            parse_date(&Cell::Text("1935-02-30")).unwrap_err(),
            "日期不存在"
        );
        assert_eq!(
            parse_date(&Cell::Text("1935-13-01")).unwrap_err(),
            "日期不存在"
        );
        assert!(
            parse_date(&Cell::Text("三五年"))
                .unwrap_err()
                .contains("无法识别")
        );
        assert!(parse_date(&Cell::Text("1935-07")).is_err());
        assert!(parse_date(&Cell::Text("1935-07-12-1")).is_err());
    }

    #[test]
    fn serials_and_numbers() {
        assert_eq!(parse_date(&Cell::Number(11023.0)), Ok(Some(d(1930, 3, 6))));
        assert_eq!(parse_date(&Cell::Number(61.0)), Ok(Some(d(1900, 3, 1))));
        assert_eq!(parse_date(&Cell::Number(59.0)), Ok(Some(d(1900, 2, 28))));
        assert_eq!(parse_date(&Cell::Number(1.0)), Ok(Some(d(1900, 1, 1))));
        assert!(
            parse_date(&Cell::Number(60.0))
                .unwrap_err()
                .contains("不存在")
        );
        assert_eq!(
            parse_date(&Cell::Number(45943.5)),
            Ok(Some(d(2025, 10, 13)))
        );
        assert_eq!(
            parse_date(&Cell::Number(19350712.0)),
            Ok(Some(d(1935, 7, 12)))
        );
        assert_eq!(
            parse_date(&Cell::Number(19350230.0)).unwrap_err(),
            "日期不存在"
        );
        assert_eq!(
            parse_date(&Cell::Date {
                y: 1936,
                m: 2,
                d: 29
            }),
            Ok(Some(d(1936, 2, 29)))
        );
    }

    #[test]
    fn lunar() {
        let l = |y, m, leap, d| {
            Some(LunarDate {
                year: y,
                month: m,
                leap,
                day: d,
            })
        };
        assert_eq!(
            parse_lunar(&Cell::Text("1935-07-12")),
            Ok(l(1935, 7, false, 12))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1930-闰06-15")),
            Ok(l(1930, 6, true, 15))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1930/闰6/15")),
            Ok(l(1930, 6, true, 15))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1930.闰6.15")),
            Ok(l(1930, 6, true, 15))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1930年闰6月15日")),
            Ok(l(1930, 6, true, 15))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1936-02-30")),
            Ok(l(1936, 2, false, 30))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1930年闰六月十五")),
            Ok(l(1930, 6, true, 15))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1940年腊月廿八日")),
            Ok(l(1940, 12, false, 28))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1935年正月初二")),
            Ok(l(1935, 1, false, 2))
        );
        assert_eq!(
            parse_lunar(&Cell::Text("1935年十一月三十")),
            Ok(l(1935, 11, false, 30))
        );
        assert!(parse_lunar(&Cell::Text("1930-13-01")).is_err());
        assert!(parse_lunar(&Cell::Text("1930-06-31")).is_err());
        assert!(parse_lunar(&Cell::Text("1930-06-闰15")).is_err());
        assert_eq!(parse_lunar(&Cell::Empty), Ok(None));
    }

    #[test]
    fn yes_no() {
        for s in ["是", "Y", "y", "√", "1", "true", "TRUE"] {
            assert_eq!(parse_yes_no(&Cell::Text(s)), Ok(true), "{s}");
        }
        for s in ["否", "N", "n", "×", "0", "false", "", "  "] {
            assert_eq!(parse_yes_no(&Cell::Text(s)), Ok(false), "{s}");
        }
        assert_eq!(parse_yes_no(&Cell::Number(1.0)), Ok(true));
        assert!(parse_yes_no(&Cell::Text("有")).is_err());
    }

    #[test]
    fn id_numbers() {
        // 11010519491231002X is the standard's own example.
        let ok = parse_id(&Cell::Text("11010519491231002x"))
            .unwrap()
            .unwrap();
        assert_eq!(ok.value, "11010519491231002X");
        assert_eq!(ok.birth, d(1949, 12, 31));
        let (shown, why) = parse_id(&Cell::Text("110105194912310021")).unwrap_err();
        assert_eq!(shown, "1***************21");
        assert!(why.contains("应为 X"), "{why}");
        let (_, why) = parse_id(&Cell::Number(3.70102193801031e17)).unwrap_err();
        assert_eq!(why, ID_AS_NUMBER);
        let old = parse_id(&Cell::Text("370102380103123")).unwrap().unwrap();
        assert_eq!(old.birth, d(1938, 1, 3));
        assert!(parse_id(&Cell::Text("3701021938")).is_err());
        assert!(
            parse_id(&Cell::Text("110105194902301234"))
                .unwrap_err()
                .1
                .contains("不存在")
        );
        assert_eq!(parse_id(&Cell::Text(" ")), Ok(None));
        // Full-width digits.
        let fw = parse_id(&Cell::Text("１１０１０５１９４９１２３１００２ｘ"))
            .unwrap()
            .unwrap();
        assert_eq!(fw.value, "11010519491231002X");
    }

    #[test]
    fn phones() {
        assert_eq!(
            parse_phone(&Cell::Text("139 0000-0001")),
            Ok(Some("13900000001".into()))
        );
        assert_eq!(
            parse_phone(&Cell::Number(13900000001.0)),
            Ok(Some("13900000001".into()))
        );
        assert_eq!(
            parse_phone(&Cell::Text("+86 139 0000 0001")),
            Ok(Some("+8613900000001".into()))
        );
        assert_eq!(
            parse_phone(&Cell::Text("0531-8888888")),
            Ok(Some("05318888888".into()))
        );
        let (shown, _) = parse_phone(&Cell::Text("1390000000a")).unwrap_err();
        assert_eq!(shown, "139****000a");
        assert!(parse_phone(&Cell::Text("12345")).is_err());
        assert_eq!(parse_phone(&Cell::Empty), Ok(None));
    }

    #[test]
    fn lists_and_normalisation() {
        let v: Vec<_> = split_list("S001、S002,S003;S004 S005").collect();
        assert_eq!(v, ["S001", "S002", "S003", "S004", "S005"]);
        assert_eq!(Cell::Text("Ｓ００１，Ｓ００２").text(), "S001,S002");
        assert_eq!(Cell::Number(7.0).text(), "7");
        assert_eq!(header_key(" 身份证 号 "), "身份证号");
        assert_eq!(header_key("ID_Number"), "id_number");
        assert_eq!(header_key("*姓名"), "姓名");
        assert_eq!(header_key("出生日期（年月日）"), "出生日期");
    }
}
