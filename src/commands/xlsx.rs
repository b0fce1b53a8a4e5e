//! Excel workbooks of the reports (rust_xlsxwriter): Chinese header rows, frozen
//! header, autofilter, column widths that fit Chinese text, dates as Excel dates.
//! Every text cell is written as a string, and one that starts with `=`, `+`, `-`
//! or `@` also carries Excel's quote prefix: a note typed by staff is never a
//! formula, in the file or after an edit.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    Chart, ChartType, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};
use unicode_width::UnicodeWidthStr;

use crate::service::coverage::Coverage;
use crate::service::records::ContactLine;

/// One cell of a sheet.
pub enum Cell {
    Text(String),
    Number(u64),
    Date(NaiveDate),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<u64> for Cell {
    fn from(n: u64) -> Cell {
        Cell::Number(n)
    }
}
impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Cell {
        Cell::Date(d)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, Into::into)
    }
}

struct Formats {
    header: Format,
    text: Format,
    formula_like: Format,
    date: Format,
    title: Format,
}

impl Formats {
    fn new() -> Formats {
        let font = "等线";
        Formats {
            header: Format::new()
                .set_bold()
                .set_font_name(font)
                .set_background_color("#DDEBF7")
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center),
            text: Format::new().set_font_name(font),
            formula_like: Format::new().set_font_name(font).set_quote_prefix(),
            date: Format::new()
                .set_font_name(font)
                .set_num_format("yyyy-mm-dd"),
            title: Format::new()
                .set_bold()
                .set_font_name(font)
                .set_font_size(14),
        }
    }
}

/// Writes a table (header row at `top`, rows below) with fitted widths and, when
/// `filtered`, the rows above it frozen and an autofilter; returns the last row.
fn table(
    ws: &mut Worksheet,
    f: &Formats,
    top: u32,
    header: &[&str],
    rows: Vec<Vec<Cell>>,
    filtered: bool,
    widths: &mut Vec<usize>,
) -> Result<u32> {
    if widths.len() < header.len() {
        widths.resize(header.len(), 0);
    }
    for (c, h) in header.iter().enumerate() {
        widths[c] = widths[c].max(h.width() + 2);
    }
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(top, c as u16, *h, &f.header)?;
    }
    let mut row = top;
    for cells in rows {
        row += 1;
        for (c, cell) in cells.into_iter().enumerate() {
            let col = c as u16;
            let w = match cell {
                Cell::Text(s) => {
                    let fmt = if s.starts_with(['=', '+', '-', '@']) {
                        &f.formula_like
                    } else {
                        &f.text
                    };
                    ws.write_string_with_format(row, col, &s, fmt)?;
                    s.width()
                }
                Cell::Number(n) => {
                    ws.write_number(row, col, n as f64)?;
                    n.to_string().len()
                }
                Cell::Date(d) => {
                    let x =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    ws.write_datetime_with_format(row, col, &x, &f.date)?;
                    10
                }
                Cell::Empty => 0,
            };
            if let Some(m) = widths.get_mut(c) {
                *m = (*m).max(w + 2);
            }
        }
    }
    if filtered {
        ws.set_freeze_panes(top + 1, 0)?;
        ws.autofilter(top, 0, row, header.len().saturating_sub(1) as u16)?;
    }
    Ok(row)
}

/// Column widths that fit the widest cell of every table on the sheet.
fn fit(ws: &mut Worksheet, widths: &[usize]) -> Result<()> {
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w).min(60) as f64)?;
    }
    Ok(())
}

/// A sheet holding one filtered table from its first row, widths fitted.
fn sheet(
    wb: &mut Workbook,
    f: &Formats,
    name: &str,
    header: &[&str],
    rows: Vec<Vec<Cell>>,
) -> Result<()> {
    let ws = wb.add_worksheet().set_name(name)?;
    let mut widths = Vec::new();
    table(ws, f, 0, header, rows, true, &mut widths)?;
    fit(ws, &widths)
}

/// The six coverage counts, in the order of [`COUNT_HEADERS`].
fn count_cells(n: &crate::ledger::coverage::Counts) -> [Cell; 6] {
    [n.due, n.on_time, n.late, n.missed, n.open, n.paused].map(Cell::from)
}

const COUNT_HEADERS: [&str; 6] = ["应办", "按时", "逾期办", "未办", "未到期", "暂停"];

fn save(mut wb: Workbook, path: &Path) -> Result<()> {
    wb.save(path)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The coverage workbook: 汇总 (the year-end figures, on time / late / missed per
/// staff member and their bar chart), 明细 (the rows), 总计 (per rule) and 电话联系.
pub fn coverage(c: &Coverage, names: &HashMap<String, String>, path: &Path) -> Result<()> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let name = |s: &str| names.get(s).cloned().unwrap_or_default();

    // Per staff member, all rules: what the chart shows.
    let mut per_staff: Vec<(String, u64, u64, u64, u64)> = Vec::new();
    for r in &c.rows {
        match per_staff.last_mut() {
            Some(last) if last.0 == r.staff => {
                last.1 += r.counts.on_time;
                last.2 += r.counts.late;
                last.3 += r.counts.missed;
                last.4 += r.counts.open + r.counts.paused;
            }
            _ => per_staff.push((
                r.staff.clone(),
                r.counts.on_time,
                r.counts.late,
                r.counts.missed,
                r.counts.open + r.counts.paused,
            )),
        }
    }

    let ws = wb.add_worksheet().set_name("汇总")?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} 至 {} 落实情况(截至 {})", c.from, c.to, c.as_of),
        &f.title,
    )?;
    let figures = c.figures();
    let fig_rows: Vec<Vec<Cell>> = figures
        .iter()
        .map(|x| vec![x.label.clone().into(), x.count.into(), x.unit.into()])
        .collect();
    let mut widths = Vec::new();
    let end = table(
        ws,
        &f,
        2,
        &["项目", "数量", "单位"],
        fig_rows,
        false,
        &mut widths,
    )?;
    let top = end + 2;
    let staff_rows: Vec<Vec<Cell>> = per_staff
        .iter()
        .map(|(s, a, b, m, o)| {
            vec![
                s.clone().into(),
                name(s).into(),
                (*a).into(),
                (*b).into(),
                (*m).into(),
                (*o).into(),
            ]
        })
        .collect();
    let n = staff_rows.len() as u32;
    table(
        ws,
        &f,
        top,
        &["工号", "姓名", "按时", "逾期办", "未办", "未到期或暂停"],
        staff_rows,
        true,
        &mut widths,
    )?;
    fit(ws, &widths)?;
    if n > 0 {
        let mut chart = Chart::new(ChartType::Column);
        chart.title().set_name("各工作人员落实情况");
        for (col, label) in [(2u16, "按时"), (3, "逾期办"), (4, "未办")] {
            chart
                .add_series()
                .set_name(label)
                .set_categories(("汇总", top + 1, 1, top + n, 1))
                .set_values(("汇总", top + 1, col, top + n, col));
        }
        // Below the staff table, so it prints on the same page.
        ws.insert_chart(top + n + 2, 0, &chart)?;
    }

    let rows: Vec<Vec<Cell>> = c
        .rows
        .iter()
        .map(|r| {
            let title = c
                .totals
                .iter()
                .find(|t| t.rule == r.rule)
                .map(|t| t.title.clone())
                .unwrap_or_default();
            let mut v: Vec<Cell> = vec![
                r.staff.clone().into(),
                name(&r.staff).into(),
                r.rule.clone().into(),
                title.into(),
            ];
            v.extend(count_cells(&r.counts));
            v
        })
        .collect();
    let mut header = vec!["工号", "姓名", "规则", "规则名称"];
    header.extend(COUNT_HEADERS);
    sheet(&mut wb, &f, "明细", &header, rows)?;

    let rows: Vec<Vec<Cell>> = c
        .totals
        .iter()
        .map(|t| {
            let mut v: Vec<Cell> = vec![t.rule.clone().into(), t.title.clone().into()];
            v.extend(count_cells(&t.counts));
            v
        })
        .collect();
    let mut header = vec!["规则", "规则名称"];
    header.extend(COUNT_HEADERS);
    sheet(&mut wb, &f, "总计", &header, rows)?;

    let rows: Vec<Vec<Cell>> = c
        .monthly_call
        .iter()
        .map(|m| {
            vec![
                m.staff.clone().into(),
                name(&m.staff).into(),
                m.persons.into(),
                m.called.into(),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        "电话联系",
        &["工号", "姓名", "应联系(人·月)", "已联系(人·月)"],
        rows,
    )?;
    save(wb, path)
}

/// The ledger workbook: one sheet, 台账.
pub fn ledger(lines: &[ContactLine], path: &Path) -> Result<()> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let rows: Vec<Vec<Cell>> = lines
        .iter()
        .map(|l| {
            vec![
                l.person.clone().into(),
                l.name.clone().into(),
                l.staff.clone().into(),
                super::report::kind_word(&l.kind).into(),
                if l.outcome == "done" {
                    "已完成"
                } else {
                    "未能完成"
                }
                .into(),
                l.done_on.into(),
                l.entered_at.clone().into(),
                l.rule.clone().into(),
                l.title.clone().into(),
                l.occasion_on.into(),
                l.on_time
                    .map(|t| if t { "按时" } else { "逾期" }.to_string())
                    .into(),
                l.note.clone().into(),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        "台账",
        &[
            "编号",
            "姓名",
            "工作人员",
            "方式",
            "结果",
            "办理日期",
            "登记时间",
            "规则",
            "事项",
            "事项日期",
            "是否按时",
            "备注",
        ],
        rows,
    )?;
    save(wb, path)
}

/// `import --errors FILE.xlsx`: sheet 待修改 (first, so importing the fixed file
/// reads it): the bad rows with the roster's own columns, the bad cells highlighted
/// and a 错误说明 column; sheet 错误: every error, one per line.
pub fn import_errors(
    errors: &[crate::roster::RowError],
    raw: &crate::roster::RawRows,
    path: &Path,
) -> Result<()> {
    let f = Formats::new();
    let bad = Format::new()
        .set_font_name("等线")
        .set_background_color("#FFC7CE")
        .set_font_color("#9C0006");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("待修改")?;
    let mut header: Vec<&str> = raw.header.iter().map(String::as_str).collect();
    header.push("错误说明");
    let mut widths: Vec<usize> = header.iter().map(|h| h.width() + 2).collect();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &f.header)?;
    }
    for (i, (row, cells)) in raw.rows.iter().enumerate() {
        let r = i as u32 + 1;
        let mine: Vec<&crate::roster::RowError> = errors.iter().filter(|e| e.row == *row).collect();
        for (c, text) in cells.iter().enumerate() {
            let wrong = raw
                .labels
                .get(c)
                .copied()
                .flatten()
                .is_some_and(|label| mine.iter().any(|e| e.column == label))
                || raw
                    .header
                    .get(c)
                    .is_some_and(|h| mine.iter().any(|e| &e.column == h));
            let fmt = if wrong {
                &bad
            } else if text.starts_with(['=', '+', '-', '@']) {
                &f.formula_like
            } else {
                &f.text
            };
            ws.write_string_with_format(r, c as u16, text, fmt)?;
            let k = c.min(widths.len() - 1);
            widths[k] = widths[k].max(text.width().min(40) + 2);
        }
        let why: Vec<String> = mine
            .iter()
            .map(|e| format!("第{}行「{}」:{}", e.row, e.column, e.reason))
            .collect();
        let why = why.join(";");
        let last = header.len() - 1;
        ws.write_string_with_format(r, last as u16, &why, &f.text)?;
        widths[last] = widths[last].max(why.width().min(80) + 2);
    }
    fit(ws, &widths)?;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(
        0,
        0,
        raw.rows.len() as u32,
        header.len().saturating_sub(1) as u16,
    )?;

    let rows: Vec<Vec<Cell>> = errors
        .iter()
        .map(|e| {
            vec![
                e.file.clone().into(),
                e.sheet.clone().into(),
                (e.row as u64).into(),
                e.column.clone().into(),
                e.value.clone().into(),
                e.reason.clone().into(),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        "错误",
        &["文件", "工作表", "行", "列", "值", "原因"],
        rows,
    )?;
    save(wb, path)
}

/// `preview --summary --format xlsx`: sheet 工作量 (period, staff, rule, occasions,
/// reminders) and sheet 超出走访上限 (the weeks over `limits.max_visits_per_week`).
pub fn workload(s: &crate::service::preview::Summary, path: &Path) -> Result<()> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let rows: Vec<Vec<Cell>> = s
        .rows
        .iter()
        .map(|r| {
            vec![
                r.period.clone().into(),
                r.staff.clone().into(),
                r.rule.clone().into(),
                r.occasions.into(),
                r.reminders.into(),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        "工作量",
        &["周期", "工作人员", "规则", "事项", "提醒"],
        rows,
    )?;
    let over: Vec<Vec<Cell>> = s
        .over_limit
        .iter()
        .map(|o| {
            vec![
                o.period.clone().into(),
                o.staff.clone().into(),
                o.visits.into(),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        "超出走访上限",
        &["周", "工作人员", "走访"],
        over,
    )?;
    save(wb, path)
}
