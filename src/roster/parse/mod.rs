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
mod html;
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
    /// A larger file is refused before it is read (`roster.max_bytes`); None: no limit.
    pub max_bytes: Option<u64>,
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

/// A date as the roster accepts it (`1935-07-12`, `1935/7/12`, `1935年7月12日`,
/// `19350712`…), for the command line too.
pub fn parse_date_text(s: &str) -> Result<chrono::NaiveDate, String> {
    values::parse_date_text(s)
}

/// Errors of one kind (the same column and reason, whatever the value) on many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorGroup {
    pub column: String,
    /// The first row's reason.
    pub reason: String,
    /// Every row with this error, in file order.
    pub rows: Vec<usize>,
}

/// Groups errors by column and reason, numbers and codes in the reason aside (`联系人
/// S00001 不在工作人员名单中` and `联系人 S00002 …` are one group), in order of first
/// appearance.
pub fn group_errors(errors: &[RowError]) -> Vec<ErrorGroup> {
    fn kind(reason: &str) -> String {
        let mut out = String::with_capacity(reason.len());
        let mut in_code = false;
        for c in reason.chars() {
            if c.is_ascii_alphanumeric() {
                if !in_code {
                    out.push('#');
                }
                in_code = true;
            } else {
                in_code = false;
                out.push(c);
            }
        }
        out
    }
    let mut groups: Vec<ErrorGroup> = Vec::new();
    let mut index: std::collections::HashMap<(String, String), usize> = Default::default();
    for e in errors {
        let key = (e.column.clone(), kind(&e.reason));
        match index.get(&key) {
            Some(&i) => {
                if groups[i].rows.last() != Some(&e.row) {
                    groups[i].rows.push(e.row);
                }
            }
            None => {
                index.insert(key, groups.len());
                groups.push(ErrorGroup {
                    column: e.column.clone(),
                    reason: e.reason.clone(),
                    rows: vec![e.row],
                });
            }
        }
    }
    groups
}

/// The persons sheet's header as written, each column's canonical name (as errors
/// name columns) where it is a known one, and the wanted data rows, as text: a copy
/// a clerk fixes in Excel (`import --errors`).
pub struct RawRows {
    pub header: Vec<String>,
    pub labels: Vec<Option<&'static str>>,
    pub rows: Vec<(usize, Vec<String>)>,
}

pub fn raw_rows(
    path: &Path,
    opts: &ParseOptions,
    wanted: &HashSet<usize>,
) -> Result<RawRows, RosterError> {
    let file = display_name(path);
    let source = match read_content(path, opts.max_bytes)? {
        Content::Workbook(bytes) => {
            let mut wb = open_workbook(path, bytes)?;
            let names = wb.sheet_names();
            let name = pick_sheet(path, &names, opts.sheet.as_deref(), PERSONS_SHEET, true)?;
            load_sheet(&mut wb, path, &file, &name)?
        }
        Content::Text(decoded) => text_source(decoded, file),
    };
    let sheet = source.sheet();
    let (header, rows) =
        sheet.split_header(|cells| columns::person_header(cells).index.iter().flatten().count())?;
    let text = |cells: &[values::Cell]| -> Vec<String> {
        cells.iter().map(|c| c.text().into_owned()).collect()
    };
    let header_text = text(&header.1);
    let h = columns::person_header(&header.1);
    let mut labels = vec![None; header_text.len()];
    for p in columns::P::ALL {
        if let Some(i) = h.index[p as usize]
            && i < labels.len()
        {
            labels[i] = Some(p.label());
        }
    }
    let picked = rows
        .filter(|(n, _)| wanted.contains(n))
        .map(|(n, cells)| (*n, text(cells)))
        .collect();
    Ok(RawRows {
        header: header_text,
        labels,
        rows: picked,
    })
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
        "{}: unsupported roster file type; use .xlsx, .xlsm, .xls, .et or .csv",
        path.display()
    )]
    UnsupportedFormat { path: PathBuf },
    #[error(
        "{}: 这个 .et 文件不是 WPS 表格的工作簿格式, 无法读取; 请在 WPS 中打开后「另存为」Excel 工作簿(.xlsx) \
         (not a BIFF or OOXML workbook: save it as .xlsx from WPS)",
        path.display()
    )]
    NotAWorkbook { path: PathBuf },
    #[error(
        "{}: 文件有 {bytes} 字节, 超过 roster.max_bytes = {max}; 请确认选对了文件, 或调大 roster.max_bytes \
         (the file is larger than roster.max_bytes)",
        path.display()
    )]
    TooLarge { path: PathBuf, bytes: u64, max: u64 },
}

/// Reads a roster. What the file is comes from its content, not its name: a
/// workbook (OOXML or BIFF: `.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`, WPS `.et`)
/// through calamine; an HTML table (the "xls" many systems export) or CSV text,
/// whatever the name says. Staff come from `opts.staff_file` if given, else from a
/// 工作人员 sheet in the same workbook.
pub fn parse_path(path: &Path, opts: &ParseOptions) -> Result<RosterFile, RosterError> {
    let file = display_name(path);
    let persons = match read_content(path, opts.max_bytes)? {
        Content::Workbook(bytes) => {
            let mut wb = open_workbook(path, bytes)?;
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
        Content::Text(decoded) => text_source(decoded, file),
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
    finish(
        text_source(csv::decode(&bytes), file_name.to_string()),
        None,
        opts,
    )
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
        /// Lines not in the file's encoding (see `csv::decode`).
        bad_lines: Vec<usize>,
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
            Source::Csv { file, records, .. } => Sheet {
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
            Source::Csv { file, records, .. } if records.unterminated_quote => vec![format!(
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

/// What a roster file holds, judged by its bytes.
enum Content {
    /// An OOXML (zip) or BIFF (OLE2) workbook.
    Workbook(Vec<u8>),
    /// Text: CSV, or an HTML table.
    Text(csv::Decoded),
}

const EXTENSIONS: &[&str] = &[
    "xlsx", "xlsm", "xlsb", "xls", "ods", "et", "ett", "csv", "tsv", "txt", "htm", "html",
];

fn read_content(path: &Path, max_bytes: Option<u64>) -> Result<Content, RosterError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !EXTENSIONS.contains(&ext.as_str()) {
        return Err(RosterError::UnsupportedFormat {
            path: path.to_path_buf(),
        });
    }
    if let Some(max) = max_bytes {
        let len = std::fs::metadata(path)
            .map_err(|source| RosterError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        if len > max {
            return Err(RosterError::TooLarge {
                path: path.to_path_buf(),
                bytes: len,
                max,
            });
        }
    }
    let bytes = read_file(path)?;
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Ok(Content::Workbook(bytes));
    }
    if ext == "et" || ext == "ett" {
        return Err(RosterError::NotAWorkbook {
            path: path.to_path_buf(),
        });
    }
    let decoded = csv::decode(&bytes);
    // Named as a workbook but text: an HTML table or CSV are read as such; anything
    // else is a damaged or foreign file.
    let workbook_name = matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods");
    if workbook_name
        && !html::looks_like_html(&decoded.text)
        && !decoded
            .text
            .lines()
            .take(10)
            .any(|l| l.contains([',', '\t']))
    {
        return Err(RosterError::Excel {
            path: path.to_path_buf(),
            message: "the file is neither a workbook, an HTML table nor CSV text".into(),
        });
    }
    Ok(Content::Text(decoded))
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

fn open_workbook(path: &Path, bytes: Vec<u8>) -> Result<Workbook, RosterError> {
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

/// Decoded text as rows: the largest table of an HTML page, else CSV records.
fn text_source(decoded: csv::Decoded, file: String) -> Source {
    let csv::Decoded { text, bad_lines } = decoded;
    let records = match html::looks_like_html(&text)
        .then(|| html::largest_table(&text))
        .flatten()
    {
        Some(rows) => csv::Records {
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i + 1, r))
                .collect(),
            unterminated_quote: false,
        },
        None => csv::read_records(&text, csv::sniff_delimiter(&text)),
    };
    Source::Csv {
        file,
        records,
        bad_lines,
    }
}

/// The staff file given with `staff_file`: a workbook (sheet 工作人员, else the first)
/// or a CSV.
fn load_staff_file(path: &Path, max_bytes: Option<u64>) -> Result<Source, RosterError> {
    let file = display_name(path);
    match read_content(path, max_bytes)? {
        Content::Workbook(bytes) => {
            let mut wb = open_workbook(path, bytes)?;
            let names = wb.sheet_names();
            let name = pick_sheet(path, &names, None, STAFF_SHEET, false)?;
            load_sheet(&mut wb, path, &file, &name)
        }
        Content::Text(decoded) => Ok(text_source(decoded, file)),
    }
}

fn finish(
    persons: Source,
    staff: Option<Source>,
    opts: &ParseOptions,
) -> Result<RosterFile, RosterError> {
    let staff = match (&opts.staff_file, staff) {
        (Some(path), _) => Some(load_staff_file(path, opts.max_bytes)?),
        (None, s) => s,
    };
    let mut out = RosterFile::default();
    out.warnings.extend(persons.warnings());
    for source in std::iter::once(&persons).chain(staff.as_ref()) {
        if let Source::Csv {
            file, bad_lines, ..
        } = source
        {
            for line in bad_lines {
                out.errors.push(RowError {
                    file: file.clone(),
                    sheet: None,
                    row: *line,
                    column: String::new(),
                    value: String::new(),
                    reason: format!(
                        "第{line}行不是UTF-8编码,可能混入了GBK文字;请把整个文件用同一种编码保存 \
                         (row {line} is not UTF-8)"
                    ),
                });
            }
        }
    }
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
