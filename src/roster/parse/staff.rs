//! The staff sheet (工作人员): header check and one row → [`Staff`].

use std::collections::{HashMap, HashSet};

use crate::roster::model::{Staff, channel_name};

use super::columns::{S, staff_header};
use super::values::{self, Cell};
use super::{Report, RosterError, RosterFile, Sheet, StaffRow};

const CHANNEL_WORDS: &str = "短信、邮件、企业微信、钉钉、飞书、webhook、控制台";

fn opt_text(cell: Cell) -> Option<String> {
    let t = cell.text();
    (!t.is_empty()).then(|| t.into_owned())
}

fn plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Parses the staff rows into `out.staff`, reporting bad cells into `out.errors`.
/// Returns every 工号 written in the sheet (also those on rows with other errors,
/// so a person's 联系人 is not reported twice for one typo in the staff sheet).
pub(crate) fn parse(
    sheet: &Sheet,
    known_staff: &HashSet<String>,
    out: &mut RosterFile,
) -> Result<HashSet<String>, RosterError> {
    let (header_row, rows) =
        sheet.split_header(|cells| staff_header(cells).index.iter().flatten().count())?;
    let h = staff_header(&header_row.1);
    for required in [S::Number, S::Name] {
        if !h.has(required as usize) {
            return Err(sheet.missing(required.label()));
        }
    }
    sheet.header_warnings(header_row.0, &h.ignored, &mut out.warnings);
    let rows: Vec<_> = rows.collect();
    let get = |cells: &[Cell<'_>], s: S| -> String {
        h.index[s as usize]
            .and_then(|i| cells.get(i))
            .map(|c| c.text().into_owned())
            .unwrap_or_default()
    };

    // First pass: every 工号 and the row it first appears on, so 上级 may name a
    // later row.
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &rows {
        let n = get(cells, S::Number);
        if !n.is_empty() {
            first_row.entry(n).or_insert(*row);
        }
    }

    let mut report = Report {
        file: sheet.file,
        sheet: sheet.sheet,
        errors: &mut out.errors,
    };
    for (row, cells) in rows {
        let row = *row;
        let before = report.errors.len();
        let mut too_long = false;
        for col in S::ALL {
            let limit = if col == S::Name {
                super::persons::MAX_NAME_CHARS
            } else {
                super::persons::MAX_CELL_CHARS
            };
            let n = get(cells, col).chars().count();
            if n > limit {
                too_long = true;
                report.push(
                    row,
                    col.label(),
                    "",
                    format!(
                        "内容有{n}个字,超过上限{limit}个字 (cell longer than {limit} characters)"
                    ),
                );
            }
        }
        if too_long {
            continue;
        }
        let number = get(cells, S::Number);
        if number.is_empty() {
            report.push(row, S::Number.label(), "", "工号不能为空");
        } else if let Some(first) = first_row.get(&number).filter(|r| **r != row) {
            report.push(
                row,
                S::Number.label(),
                number.as_str(),
                format!("工号与第{first}行重复"),
            );
        }
        let name = get(cells, S::Name);
        if name.is_empty() {
            report.push(row, S::Name.label(), "", "姓名不能为空");
        }
        let mobile_cell = h.index[S::Mobile as usize]
            .and_then(|i| cells.get(i))
            .copied()
            .unwrap_or(Cell::Empty);
        let mobile = values::parse_phone(&mobile_cell).unwrap_or_else(|(shown, reason)| {
            report.push(row, S::Mobile.label(), shown, reason);
            None
        });
        let email = Some(get(cells, S::Email)).filter(|e| !e.is_empty());
        if let Some(e) = &email
            && !plausible_email(e)
        {
            report.push(
                row,
                S::Email.label(),
                e.as_str(),
                "邮箱格式不对,应形如 name@bureau.example",
            );
        }
        let supervisor = Some(get(cells, S::Supervisor)).filter(|s| !s.is_empty());
        if let Some(s) = &supervisor {
            if *s == number {
                report.push(row, S::Supervisor.label(), s.as_str(), "上级不能是本人");
            } else if !first_row.contains_key(s) && !known_staff.contains(s) {
                report.push(
                    row,
                    S::Supervisor.label(),
                    s.as_str(),
                    format!("上级 {s} 不在工作人员名单中;请填写上级的工号"),
                );
            }
        }
        let mut channels: Vec<String> = Vec::new();
        let words = get(cells, S::Channels);
        for w in values::split_list(&words) {
            match channel_name(w) {
                Some(c) => {
                    if !channels.iter().any(|x| x == c) {
                        channels.push(c.to_string());
                    }
                }
                None => report.push(
                    row,
                    S::Channels.label(),
                    w,
                    format!("提醒方式 {w} 无法识别,可用:{CHANNEL_WORDS}"),
                ),
            }
        }
        if report.errors.len() > before {
            continue;
        }
        out.staff.push(StaffRow {
            row,
            staff: Staff {
                number,
                name,
                addresses: crate::roster::Addresses {
                    mobile,
                    email,
                    wecom: opt_text(cell_at(&h.index, cells, S::Wecom)),
                    dingtalk: opt_text(cell_at(&h.index, cells, S::Dingtalk)),
                    feishu: opt_text(cell_at(&h.index, cells, S::Feishu)),
                },
                supervisor,
                role: opt_text(cell_at(&h.index, cells, S::Role)),
                channels,
            },
        });
    }
    Ok(first_row.into_keys().collect())
}

fn cell_at<'a>(index: &[Option<usize>], cells: &[Cell<'a>], s: S) -> Cell<'a> {
    index[s as usize]
        .and_then(|i| cells.get(i))
        .copied()
        .unwrap_or(Cell::Empty)
}
