//! Roster file parsing: an Excel workbook or CSV file (花名册 and 工作人员) into typed
//! [`Person`](crate::roster::Person) and [`Staff`](crate::roster::Staff) records,
//! with every bad cell reported by file, sheet, row and column.
//!
//! Pure: no database and no clock. [`parse_path`] is a thin wrapper that reads the
//! file and dispatches on its extension; [`parse_csv_reader`] takes a reader. Personal
//! numbers in error values are masked with [`crate::mask`]; names never appear in errors.
//!
//! Layout: `values` (one cell → typed value), `columns` (header names and aliases),
//! `csv` (decoding and RFC 4180), `persons` and `staff` (one row → record).

mod columns;
mod csv;
mod persons;
mod staff;
mod values;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use calamine::{Data, Range, Reader};

use crate::roster::model::{Person, Staff};
use values::Cell;

/// The sheet name of persons when `--sheet` is not given.
pub const PERSONS_SHEET: &str = "花名册";
/// The sheet name of staff in the same workbook.
pub const STAFF_SHEET: &str = "工作人员";

/// How to read a roster file.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// The persons sheet (`--sheet`); default 花名册, else the first sheet.
    pub sheet: Option<String>,
    /// A separate staff file (xlsx or csv); overrides a 工作人员 sheet in the workbook.
    pub staff_file: Option<PathBuf>,
    /// 工号 already in the database: valid targets for 联系人 and 上级.
    pub known_staff: HashSet<String>,
}

/// Everything read from one roster file. Rows with errors are left out of
/// `persons`/`staff` and described in `errors`.
#[derive(Debug, Clone, Default)]
pub struct RosterFile {
    pub persons: Vec<PersonRow>,
    pub staff: Vec<StaffRow>,
    /// Whether staff were read (a 工作人员 sheet or a staff file).
    pub staff_sheet_present: bool,
    pub errors: Vec<RowError>,
    pub warnings: Vec<String>,
}

/// A person and the row it came from (as Excel numbers rows).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow {
    pub row: usize,
    pub person: Person,
}

/// A staff member and the row it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffRow {
    pub row: usize,
    pub staff: Staff,
}

/// One bad cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// File name (no directory).
    pub file: String,
    /// Sheet name; None for CSV.
    pub sheet: Option<String>,
    /// Row number as Excel shows it (header usually row 1).
    pub row: usize,
    /// Column header (canonical Chinese name).
    pub column: String,
    /// The value, masked when it is a personal number; may be empty.
    pub value: String,
    /// What is wrong, in plain Chinese.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet {sheet}")?;
        }
        write!(
            f,
            ", row {} (第{}行), column {}",
            self.row, self.row, self.column
        )?;
        if !self.value.is_empty() {
            write!(f, ", value {:?}", self.value)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// File-level problems: nothing could be read row by row.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("cannot read roster file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot open {} as an Excel workbook: {message}; save it as .xlsx (Excel 2007+) or export it as CSV",
        path.display()
    )]
    Excel { path: PathBuf, message: String },
    #[error(
        "{} has no sheet named {wanted:?}; sheets in the file: {}; pass the right name with --sheet",
        path.display(),
        available.join(", ")
    )]
    NoSheet {
        path: PathBuf,
        wanted: String,
        available: Vec<String>,
    },
    #[error(
        "{file}{}: the header row has no column {column} (缺少「{column}」列); add it to the first row",
        sheet.as_ref().map(|s| format!(", sheet {s}")).unwrap_or_default()
    )]
    MissingColumn {
        file: String,
        sheet: Option<String>,
        column: String,
    },
    #[error(
        "{file}{}: the sheet is empty (没有表头行); the first non-empty row must hold the column names",
        sheet.as_ref().map(|s| format!(", sheet {s}")).unwrap_or_default()
    )]
    EmptySheet { file: String, sheet: Option<String> },
    #[error(
        "{}: unsupported roster file type; use .xlsx, .xlsm, .xls or .csv",
        path.display()
    )]
    UnsupportedFormat { path: PathBuf },
}

/// Reads a roster: `.xlsx`/`.xlsm`/`.xlsb`/`.xls`/`.ods` through calamine, `.csv`
/// (or `.tsv`/`.txt`) as CSV. Staff come from `opts.staff_file` if given, else from a
/// 工作人员 sheet in the same workbook.
pub fn parse_path(path: &Path, opts: &ParseOptions) -> Result<RosterFile, RosterError> {
    let file = display_name(path);
    let persons = match kind(path)? {
        Kind::Excel => {
            let mut wb = open_workbook(path)?;
            let names = wb.sheet_names();
            let name = pick_sheet(path, &names, opts.sheet.as_deref(), PERSONS_SHEET, true)?;
            let persons = load_sheet(&mut wb, path, &file, &name)?;
            let staff = match opts.staff_file {
                None if name != STAFF_SHEET && names.iter().any(|n| n == STAFF_SHEET) => {
                    Some(load_sheet(&mut wb, path, &file, STAFF_SHEET)?)
                }
                _ => None,
            };
            return finish(persons, staff, opts);
        }
        Kind::Csv => csv_source(read_file(path)?, file),
    };
    finish(persons, None, opts)
}

/// Reads a persons CSV from `r` (UTF-8 with or without BOM, or GBK/GB18030).
/// `file_name` is used in messages. Staff come from `opts.staff_file`, if given.
pub fn parse_csv_reader<R: Read>(
    mut r: R,
    file_name: &str,
    opts: &ParseOptions,
) -> Result<RosterFile, RosterError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .map_err(|source| RosterError::Io {
            path: PathBuf::from(file_name),
            source,
        })?;
    finish(csv_source(bytes, file_name.to_string()), None, opts)
}

/// The rows of one sheet or CSV file, owned.
enum Source {
    Excel {
        file: String,
        sheet: String,
        range: Range<Data>,
    },
    Csv {
        file: String,
        records: csv::Records,
    },
}

/// Borrowed rows: `(row number as Excel shows it, cells)`, plus where they came from.
pub(crate) struct Sheet<'a> {
    pub file: &'a str,
    pub sheet: Option<&'a str>,
    /// 0-based column of the first cell (for column letters in warnings).
    pub first_col: usize,
    pub rows: Vec<(usize, Vec<Cell<'a>>)>,
}

impl Source {
    fn sheet(&self) -> Sheet<'_> {
        match self {
            Source::Excel { file, sheet, range } => {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                let rows = range
                    .rows()
                    .enumerate()
                    .map(|(i, row)| (r0 as usize + i + 1, row.iter().map(excel_cell).collect()))
                    .collect();
                Sheet {
                    file,
                    sheet: Some(sheet),
                    first_col: c0 as usize,
                    rows,
                }
            }
            Source::Csv { file, records } => Sheet {
                file,
                sheet: None,
                first_col: 0,
                rows: records
                    .rows
                    .iter()
                    .map(|(n, fields)| (*n, fields.iter().map(|f| Cell::Text(f)).collect()))
                    .collect(),
            },
        }
    }

    fn warnings(&self) -> Vec<String> {
        match self {
            Source::Csv { file, records } if records.unterminated_quote => vec![format!(
                "{file}: 文件在引号内结束(缺少配对的 \"),最后一行可能不完整"
            )],
            _ => Vec::new(),
        }
    }
}

fn excel_cell(d: &Data) -> Cell<'_> {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(true) => Cell::Text("true"),
        Data::Bool(false) => Cell::Text("false"),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            Cell::Date {
                y: i32::from(y),
                m: u32::from(m),
                d: u32::from(d),
            }
        }
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::Error(_) => Cell::Text("#错误值"),
    }
}

enum Kind {
    Excel,
    Csv,
}

fn kind(path: &Path) -> Result<Kind, RosterError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Ok(Kind::Excel),
        "csv" | "tsv" | "txt" => Ok(Kind::Csv),
        _ => Err(RosterError::UnsupportedFormat {
            path: path.to_path_buf(),
        }),
    }
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn read_file(path: &Path) -> Result<Vec<u8>, RosterError> {
    std::fs::read(path).map_err(|source| RosterError::Io {
        path: path.to_path_buf(),
        source,
    })
}

type Workbook = calamine::Sheets<Cursor<Vec<u8>>>;

fn open_workbook(path: &Path) -> Result<Workbook, RosterError> {
    let bytes = read_file(path)?;
    calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| RosterError::Excel {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// `wanted` if given (must exist); else `default` if present; else the first sheet
/// (skipping a 工作人员 sheet when `skip_staff`).
fn pick_sheet(
    path: &Path,
    names: &[String],
    wanted: Option<&str>,
    default: &str,
    skip_staff: bool,
) -> Result<String, RosterError> {
    let no_sheet = |wanted: &str| RosterError::NoSheet {
        path: path.to_path_buf(),
        wanted: wanted.to_string(),
        available: names.to_vec(),
    };
    if let Some(w) = wanted {
        let w = values::normalize(w);
        return names
            .iter()
            .find(|n| values::normalize(n) == w)
            .cloned()
            .ok_or_else(|| no_sheet(&w));
    }
    if let Some(n) = names.iter().find(|n| values::normalize(n) == default) {
        return Ok(n.clone());
    }
    names
        .iter()
        .find(|n| !skip_staff || n.as_str() != STAFF_SHEET)
        .or(names.first())
        .cloned()
        .ok_or_else(|| no_sheet(default))
}

fn load_sheet(
    wb: &mut Workbook,
    path: &Path,
    file: &str,
    name: &str,
) -> Result<Source, RosterError> {
    let range = wb.worksheet_range(name).map_err(|e| RosterError::Excel {
        path: path.to_path_buf(),
        message: format!("sheet {name}: {e}"),
    })?;
    Ok(Source::Excel {
        file: file.to_string(),
        sheet: name.to_string(),
        range,
    })
}

fn csv_source(bytes: Vec<u8>, file: String) -> Source {
    let text = csv::decode(&bytes);
    drop(bytes);
    let records = csv::read_records(&text, csv::sniff_delimiter(&text));
    Source::Csv { file, records }
}

/// The staff file given with `staff_file`: a workbook (sheet 工作人员, else the first)
/// or a CSV.
fn load_staff_file(path: &Path) -> Result<Source, RosterError> {
    let file = display_name(path);
    match kind(path)? {
        Kind::Excel => {
            let mut wb = open_workbook(path)?;
            let names = wb.sheet_names();
            let name = pick_sheet(path, &names, None, STAFF_SHEET, false)?;
            load_sheet(&mut wb, path, &file, &name)
        }
        Kind::Csv => Ok(csv_source(read_file(path)?, file)),
    }
}

fn finish(
    persons: Source,
    staff: Option<Source>,
    opts: &ParseOptions,
) -> Result<RosterFile, RosterError> {
    let staff = match (&opts.staff_file, staff) {
        (Some(path), _) => Some(load_staff_file(path)?),
        (None, s) => s,
    };
    let mut out = RosterFile::default();
    out.warnings.extend(persons.warnings());
    let mut staff_numbers = HashSet::new();
    if let Some(staff) = &staff {
        out.staff_sheet_present = true;
        out.warnings.extend(staff.warnings());
        staff_numbers = staff::parse(&staff.sheet(), &opts.known_staff, &mut out)?;
    }
    let known = |n: &str| staff_numbers.contains(n) || opts.known_staff.contains(n);
    persons::parse(&persons.sheet(), &known, &mut out)?;
    Ok(out)
}

/// Collects row errors for one sheet.
pub(crate) struct Report<'a> {
    pub file: &'a str,
    pub sheet: Option<&'a str>,
    pub errors: &'a mut Vec<RowError>,
}

impl Report<'_> {
    pub(crate) fn push(
        &mut self,
        row: usize,
        column: &str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.errors.push(RowError {
            file: self.file.to_string(),
            sheet: self.sheet.map(str::to_string),
            row,
            column: column.to_string(),
            value: value.into(),
            reason: reason.into(),
        });
    }
}

impl Sheet<'_> {
    /// The header row and the data rows after it (blank rows skipped). The header is
    /// the first non-blank row, unless it is a title above a row of known column names.
    #[allow(clippy::type_complexity)]
    pub(crate) fn split_header(
        &self,
        known_columns: impl Fn(&[Cell]) -> usize,
    ) -> Result<
        (
            &(usize, Vec<Cell<'_>>),
            impl Iterator<Item = &(usize, Vec<Cell<'_>>)>,
        ),
        RosterError,
    > {
        let non_blank =
            |(_, (_, cells)): &(usize, &(usize, Vec<Cell>))| cells.iter().any(|c| !c.is_blank());
        let first = self
            .rows
            .iter()
            .enumerate()
            .find(non_blank)
            .map(|(i, _)| i)
            .ok_or_else(|| RosterError::EmptySheet {
                file: self.file.to_string(),
                sheet: self.sheet.map(str::to_string),
            })?;
        // A title row (`XX局离退休干部花名册`) may sit above the header: take the first
        // of the first few non-empty rows that names at least two known columns.
        let pos = self
            .rows
            .iter()
            .enumerate()
            .filter(non_blank)
            .take(6)
            .find(|(_, (_, cells))| known_columns(cells) >= 2)
            .map_or(first, |(i, _)| i);
        let data = self.rows[pos + 1..]
            .iter()
            .filter(|(_, cells)| cells.iter().any(|c| !c.is_blank()));
        Ok((&self.rows[pos], data))
    }

    pub(crate) fn missing(&self, column: &str) -> RosterError {
        RosterError::MissingColumn {
            file: self.file.to_string(),
            sheet: self.sheet.map(str::to_string),
            column: column.to_string(),
        }
    }

    /// Warnings for unknown or repeated header cells.
    pub(crate) fn header_warnings(
        &self,
        header_row: usize,
        ignored: &[(String, usize, &'static str)],
        out: &mut Vec<String>,
    ) {
        for (name, pos, why) in ignored {
            let mut w = self.file.to_string();
            if let Some(s) = self.sheet {
                w.push_str(", sheet ");
                w.push_str(s);
            }
            w.push_str(&format!(
                ": 忽略{why}「{name}」(第{header_row}行 {}列)",
                columns::column_letters(self.first_col + pos)
            ));
            out.push(w);
        }
    }
}
