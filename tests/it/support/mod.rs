//! Shared parts of the roster, store, preview and rules tests: a fresh database per
//! test on every backend, the real `qinqing` binary with a fixed clock, and builders
//! for roster workbooks and CSV files with valid synthetic 身份证号.
//!
//! Backends: SQLite always (a file in a temp dir); PostgreSQL when
//! `QINQING_TEST_DATABASE_URL` names an admin connection, each test in its own
//! `CREATE DATABASE qq_<random>`, dropped on `Drop`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use serde_json::Value;
use tempfile::TempDir;

/// The clock every command runs at unless a test says otherwise.
pub const NOW: &str = "2026-03-01T09:00:00+08:00";

/// The env var naming the PostgreSQL admin URL.
pub const PG_ENV: &str = "QINQING_TEST_DATABASE_URL";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

// ------------------------------------------------------------------ databases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One fresh database and a working directory for one test.
pub struct TestDb {
    pub backend: Backend,
    url: String,
    /// Working directory of the commands (no config/qinqing.toml in it) and home of
    /// the test's files and the SQLite database.
    pub dir: TempDir,
    /// (admin URL, database name) to drop at the end.
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// A path inside the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("qinqing.db").display());
        TestDb {
            backend: Backend::Sqlite,
            url,
            dir,
            pg: None,
        }
    }

    pub fn postgres(admin: &str) -> TestDb {
        let name = unique_name();
        pg_exec(admin, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("{PG_ENV}: cannot create database {name}: {e}"));
        TestDb {
            backend: Backend::Postgres,
            url: replace_db_name(admin, &name),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: Some((admin.to_string(), name)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            // Best effort: a failed drop leaves a stray database, not a failed test.
            let _ = pg_exec(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// SQLite always, plus PostgreSQL when `QINQING_TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<TestDb> {
    let mut out = vec![TestDb::sqlite()];
    match std::env::var(PG_ENV) {
        Ok(admin) if !admin.trim().is_empty() => out.push(TestDb::postgres(admin.trim())),
        _ => eprintln!("note: {PG_ENV} is not set; PostgreSQL variant skipped"),
    }
    out
}

fn unique_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(N.fetch_add(1, Ordering::Relaxed));
    format!("qq_{:016x}", h.finish())
}

/// `postgres://u@h:5432/test?x=y` with the database name replaced.
fn replace_db_name(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

fn pg_exec(admin: &str, sql: &str) -> Result<(), String> {
    use sqlx::{Connection, Executor};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(admin)
            .await
            .map_err(|e| e.to_string())?;
        conn.execute(sqlx::AssertSqlSafe(sql.to_string()))
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        Ok(())
    })
}

// ------------------------------------------------------------------ the binary

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Out {
    /// sqlite or postgres, for failure messages.
    pub backend: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Asserts exit code 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "[{}] expected success\n--- stdout\n{}\n--- stderr\n{}",
            self.backend, self.stdout, self.stderr
        );
        self
    }

    /// Asserts a non-zero exit code and returns self.
    #[track_caller]
    pub fn fails(self) -> Out {
        assert_ne!(
            self.code, 0,
            "[{}] expected failure\n--- stdout\n{}\n--- stderr\n{}",
            self.backend, self.stdout, self.stderr
        );
        self
    }

    /// stdout as JSON lines.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}\n--- stdout\n{}", self.stdout))
    }

    /// Both streams, for messages that may go to either.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A `qinqing` command against `db`: `--database <url>`, `QINQING_NOW` fixed, run in
/// the test's own directory.
pub struct Qq {
    cmd: Command,
    label: String,
}

pub fn qinqing(db: &TestDb) -> Qq {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qinqing"));
    cmd.current_dir(db.dir.path())
        .arg("--database")
        .arg(db.url())
        .env("QINQING_NOW", NOW)
        .env("QINQING_LOG", "warn")
        .env_remove("QINQING_DATABASE_URL")
        .env_remove("QINQING_CONFIG")
        .env_remove("RUST_LOG");
    Qq {
        cmd,
        label: db.name().to_string(),
    }
}

impl Qq {
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Qq {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Qq
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Qq {
        self.cmd.env(k, v);
        self
    }

    /// Another fixed clock for this run.
    pub fn now(self, at: &str) -> Qq {
        self.env("QINQING_NOW", at)
    }

    /// Starts the command without waiting: stdin and stdout closed, stderr appended
    /// to `log` (a pipe nobody reads could fill up and stall a long-running process).
    pub fn spawn(mut self, log: &Path) -> std::process::Child {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
        self.cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start qinqing: {e}"))
    }

    pub fn run(mut self) -> Out {
        let o = self
            .cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot start qinqing: {e}"));
        Out {
            backend: self.label,
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// `qinqing import FILE [extra…]`.
pub fn import(db: &TestDb, file: &Path, extra: &[&str]) -> Out {
    qinqing(db).arg("import").arg(file).args(extra).run()
}

/// `check --format json` parsed (whatever the exit code).
pub fn check_json(db: &TestDb) -> Value {
    let out = qinqing(db).args(["check", "--format", "json"]).run();
    out.json()
}

/// `persons` from `check --format json`.
pub fn person_count(db: &TestDb) -> u64 {
    check_json(db)["persons"].as_u64().expect("persons")
}

/// `preview --format json` over a range with optional filters.
pub fn preview(db: &TestDb, from: &str, to: &str, extra: &[&str]) -> Vec<Value> {
    qinqing(db)
        .args(["preview", "--from", from, "--to", to, "--format", "json"])
        .args(extra)
        .run()
        .ok()
        .json_lines()
}

// ------------------------------------------------------------------ 身份证号

/// GB 11643-1999 check character of the first 17 digits.
pub fn id_check_char(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    assert_eq!(first17.len(), 17);
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    C[(sum % 11) as usize] as char
}

/// A valid 18-digit 身份证号 for a birth date and a sequence number (the last digit of
/// `seq`'s 3-digit order code is odd for men).
pub fn id_number(region: &str, birth: NaiveDate, seq: u32) -> String {
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let c = id_check_char(&first17);
    format!("{first17}{c}")
}

/// The same ID with a wrong check character.
pub fn with_wrong_check(id: &str) -> String {
    let right = id.chars().last().unwrap();
    let wrong = if right == '0' { '1' } else { '0' };
    format!("{}{wrong}", &id[..17])
}

/// `1***************2X`, as the binary masks IDs.
pub fn masked_id(id: &str) -> String {
    let c: Vec<char> = id.chars().collect();
    format!(
        "{}{}{}",
        c[0],
        "*".repeat(c.len() - 3),
        c[c.len() - 2..].iter().collect::<String>()
    )
}

// ------------------------------------------------------------------ roster files

/// One cell as Excel stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum X {
    Empty,
    Text(String),
    Number(f64),
    /// A number with a date format: Excel shows a date.
    Date(NaiveDate),
}

pub fn t(s: impl Into<String>) -> X {
    X::Text(s.into())
}

impl X {
    /// The cell as CSV text.
    pub fn csv(&self) -> String {
        match self {
            X::Empty => String::new(),
            X::Text(s) => s.clone(),
            X::Number(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            X::Number(f) => format!("{f}"),
            X::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// The 1900-system Excel serial of a date on or after 1900-03-01.
pub fn excel_serial(d: NaiveDate) -> f64 {
    (d - ymd(1899, 12, 30)).num_days() as f64
}

/// A header row and data rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<X>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    pub fn push(&mut self, cells: BTreeMap<&str, X>) {
        let mut row = vec![X::Empty; self.header.len()];
        for (k, v) in cells {
            row[self.col(k)] = v;
        }
        self.rows.push(row);
    }

    /// Sets a cell of data row `i` (0-based; Excel row `i + 2`).
    pub fn set(&mut self, i: usize, col: &str, v: X) -> &mut Table {
        let c = self.col(col);
        self.rows[i][c] = v;
        self
    }

    pub fn get(&self, i: usize, col: &str) -> &X {
        &self.rows[i][self.col(col)]
    }

    pub fn text(&self, i: usize, col: &str) -> String {
        self.get(i, col).csv()
    }

    pub fn add_column(&mut self, name: &str) -> &mut Table {
        self.header.push(name.to_string());
        for r in &mut self.rows {
            r.push(X::Empty);
        }
        self
    }

    pub fn remove_row(&mut self, i: usize) -> Vec<X> {
        self.rows.remove(i)
    }

    /// The row number Excel shows for data row `i`.
    pub fn excel_row(i: usize) -> usize {
        i + 2
    }

    /// RFC 4180 text, CRLF line ends.
    pub fn to_csv(&self) -> String {
        let field = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        out.push_str(
            &self
                .header
                .iter()
                .map(|h| field(h))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
        for r in &self.rows {
            out.push_str(
                &r.iter()
                    .map(|c| field(&c.csv()))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        out
    }

    fn write_sheet(&self, ws: &mut rust_xlsxwriter::Worksheet) {
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        for (c, h) in self.header.iter().enumerate() {
            ws.write_string(0, c as u16, h.as_str()).unwrap();
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    X::Empty => {}
                    X::Text(s) => {
                        ws.write_string(r, c, s.as_str()).unwrap();
                    }
                    X::Number(f) => {
                        ws.write_number(r, c, *f).unwrap();
                    }
                    X::Date(d) => {
                        ws.write_number_with_format(r, c, excel_serial(*d), &date)
                            .unwrap();
                    }
                }
            }
        }
    }
}

pub const PERSON_COLUMNS: &[&str] = &[
    "编号",
    "姓名",
    "身份证号",
    "出生日期",
    "类别",
    "职级",
    "独居",
    "联系电话",
    "住院日期",
    "去世日期",
    "联系人",
];

pub const STAFF_COLUMNS: &[&str] = &["工号", "姓名", "手机", "上级"];

const NAMES: &[&str] = &[
    "王建国",
    "李秀英",
    "张德明",
    "刘桂兰",
    "陈志强",
    "杨淑珍",
    "赵文华",
    "黄玉梅",
    "周国庆",
    "吴春花",
    "徐长林",
    "孙凤英",
];

/// A synthetic roster: persons (花名册) and staff (工作人员).
#[derive(Debug, Clone)]
pub struct Roster {
    pub persons: Table,
    pub staff: Table,
}

impl Roster {
    /// `n` (≤ 12) valid persons, categories 离休/退休/遗属 in turn, assigned to S002
    /// or S003; staff S001 (no supervisor), S002 and S003 (supervisor S001).
    pub fn synthetic(n: usize) -> Roster {
        assert!(n <= NAMES.len());
        let mut staff = Table::new(STAFF_COLUMNS);
        for (no, name, mobile, boss) in [
            ("S001", "局长甲", "13900000001", ""),
            ("S002", "干事乙", "13900000002", "S001"),
            ("S003", "干事丙", "13900000003", "S001"),
        ] {
            staff.push(BTreeMap::from([
                ("工号", t(no)),
                ("姓名", t(name)),
                ("手机", t(mobile)),
                ("上级", if boss.is_empty() { X::Empty } else { t(boss) }),
            ]));
        }
        let mut persons = Table::new(PERSON_COLUMNS);
        for i in 0..n {
            let birth = ymd(
                1930 + i as i32 * 2,
                (i % 12) as u32 + 1,
                (i % 27) as u32 + 1,
            );
            let id = id_number("370102", birth, 100 + i as u32);
            persons.push(BTreeMap::from([
                ("编号", t(format!("T{:04}", i + 1))),
                ("姓名", t(NAMES[i])),
                ("身份证号", t(id)),
                ("出生日期", t(birth.format("%Y-%m-%d").to_string())),
                ("类别", t(["离休", "退休", "遗属"][i % 3])),
                ("职级", t("县处级")),
                ("独居", t("否")),
                ("联系电话", t(format!("1380000{:04}", i + 1))),
                ("联系人", t(if i % 2 == 0 { "S002" } else { "S003" })),
            ]));
        }
        Roster { persons, staff }
    }

    /// 身份证号 of data row `i`.
    pub fn id(&self, i: usize) -> String {
        self.persons.text(i, "身份证号")
    }

    /// Writes sheets 花名册 and 工作人员.
    pub fn write_xlsx(&self, path: &Path) {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("花名册").unwrap();
        self.persons.write_sheet(ws);
        let ws = wb.add_worksheet();
        ws.set_name("工作人员").unwrap();
        self.staff.write_sheet(ws);
        wb.save(path).unwrap();
    }

    /// Writes the workbook into the test's directory and returns its path.
    pub fn save(&self, db: &TestDb, name: &str) -> PathBuf {
        let p = db.path(name);
        self.write_xlsx(&p);
        p
    }
}

/// Rows of a preview's JSON lines reduced to the seven compared fields.
pub fn seven(v: &Value) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        v["remind_on"].as_str().unwrap_or("?"),
        v["occasion_on"].as_str().unwrap_or("?"),
        v["rule"].as_str().unwrap_or("?"),
        v["person"].as_str().unwrap_or("?"),
        v["recipient"].as_str().unwrap_or("?"),
        v["stage"].as_str().unwrap_or("?"),
        match &v["lead_days"] {
            Value::Null => "null".to_string(),
            other => other.to_string(),
        }
    )
}
