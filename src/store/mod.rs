//! The store: the only module that holds SQL.
//!
//! One sqlx `AnyPool` over SQLite (the embedded default: WAL, `synchronous=FULL`,
//! a busy timeout, file created if missing) or PostgreSQL (URLs starting with
//! `postgres://`). The SQL is written once in the dialect both accept: `$N`
//! placeholders, ISO-8601 text dates, 0/1 flags in 64-bit integers, `ON CONFLICT`
//! upserts and `RETURNING`. The few statements that differ branch on [`Backend`].
//! Migrations live in `migrations/{sqlite,postgres}/` and are applied at connect.

mod audit;
mod cover;
mod ledger;
mod links;
mod outbox;
mod roster;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

pub use audit::{AuditEntry, StoreFigures};
pub use outbox::{
    ClaimedDigest, FailedDelivery, NewDigest, NextDue, OccasionReminded, OutboxCounts, SendOutcome,
    StoredReminder,
};
pub use roster::PersonBrief;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot create the folder for database {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "无法连接 PostgreSQL {addr}({why}):服务是否已启动?检查 database.url 或 QINQING_DATABASE_URL \
         (cannot reach PostgreSQL at {addr}: {why})"
    )]
    Unreachable { addr: String, why: String },
    #[error(
        "无法在文件夹 {dir} 中创建或打开数据库文件 {file}({why});请检查该文件夹的权限,或用 --database 换一个位置 \
         (cannot create or open the SQLite file: {why})"
    )]
    Unwritable {
        dir: String,
        file: String,
        why: String,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot take the migration lock beside the database: {source}")]
    Lock { source: std::io::Error },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad value in the database: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound("row".into()),
            other => StoreError::Sql(other),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The PostgreSQL advisory lock key of the planning tick ("qinqing" in ASCII).
pub const PLANNING_LOCK: i64 = 0x0071_696e_7169_6e67;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A cloneable handle on the database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// PostgreSQL: a native pool beside the `Any` one, for what only the native
    /// driver can do (COPY in a roster import). It connects when first used.
    copy: Option<sqlx::PgPool>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:****@host/db`.
pub fn redact_url(url: &str) -> String {
    if let Some((base, query)) = url.split_once('?') {
        let q: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=****"),
                _ => kv.to_string(),
            })
            .collect();
        return format!("{}?{}", redact_url(base), q.join("&"));
    }
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        return format!("{scheme}://{user}:****@{host}");
    }
    url.to_string()
}

/// Waits for and takes the exclusive lock on `path` (created if missing); released
/// when the returned file is dropped, or by the kernel if the process dies.
async fn migrate_lock(path: String) -> Result<std::fs::File> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .expect("lock task panicked")
    .map_err(|source| StoreError::Lock { source })
}

/// Normalises what a user may give: `sqlite://x.db`, `sqlite:x.db`, a plain path,
/// or a PostgreSQL URL.
/// Folders qinqing creates for its database are private to its user (0700).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// A new SQLite file is created empty and private (0600) before SQLite opens it:
/// it holds the roster. A folder qinqing cannot write is said once, by name.
fn create_private_file(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unwritable {
            dir: path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .display()
                .to_string(),
            file: path.display().to_string(),
            why: match e.kind() {
                std::io::ErrorKind::PermissionDenied => "没有写权限 permission denied".into(),
                std::io::ErrorKind::ReadOnlyFilesystem => {
                    "只读文件系统 read-only file system".into()
                }
                _ => e.to_string(),
            },
        }),
    }
}

/// Tries the PostgreSQL server's address for at most 5 s, so a wrong port or a
/// stopped server is said at once, with what was tried, instead of a pool timeout.
async fn probe_postgres(url: &str) -> Result<()> {
    let Ok(u) = reqwest::Url::parse(url) else {
        return Ok(()); // let sqlx say what is wrong with the URL
    };
    let Some(host) = u.host_str().filter(|h| !h.is_empty()) else {
        return Ok(()); // a Unix socket
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = u.port().unwrap_or(5432);
    let addr = format!("{host}:{port}");
    let why = match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(e)) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "连接被拒绝 connection refused".to_string(),
            _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
                format!("主机名无法解析 {e}")
            }
            _ => e.to_string(),
        },
        Err(_) => "5秒内没有响应 no answer within 5 s".to_string(),
    };
    Err(StoreError::Unreachable { addr, why })
}

fn classify(url: &str) -> (Backend, String) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return (Backend::Postgres, url.to_string());
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    (Backend::Sqlite, path.to_string())
}

impl Store {
    /// Connects and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, None).await
    }

    /// Like `connect`, with a pool size (`database.max_connections`).
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, target) = classify(url);
        let pool = match backend {
            Backend::Postgres => {
                probe_postgres(&target).await?;
                AnyPoolOptions::new()
                    .max_connections(max_connections.unwrap_or(8))
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // A daemon killed mid-statement (holding the planning lock,
                            // or claims in a transaction) is noticed by the server
                            // within 5 s, not when the statement ends. PostgreSQL 14 and
                            // later; an older server refuses the setting and does
                            // without it.
                            let _ = conn
                                .execute("SET client_connection_check_interval = '5s'")
                                .await;
                            Ok(())
                        })
                    })
                    .connect(&target)
                    .await
                    .map_err(|source| StoreError::Connect {
                        url: redact_url(url),
                        source,
                    })?
            }
            Backend::Sqlite => {
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                if path != ":memory:"
                    && let Some(dir) = Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    create_private_dir(dir).map_err(|source| StoreError::CreateDir {
                        path: path.to_string(),
                        source,
                    })?;
                }
                if path != ":memory:" {
                    create_private_file(Path::new(path))?;
                }
                let query = if query.is_empty() { "mode=rwc" } else { query };
                let full = format!("sqlite://{path}?{query}");
                AnyPoolOptions::new()
                    .max_connections(max_connections.unwrap_or(4))
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                // busy_timeout first: switching to WAL waits for
                                // another process opening the same new file.
                                "PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; \
                                 PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&full)
                    .await
                    .map_err(|source| StoreError::Connect {
                        url: redact_url(url),
                        source,
                    })?
            }
        };
        let copy = match backend {
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy(&target)
                    .map_err(|source| StoreError::Connect {
                        url: redact_url(url),
                        source,
                    })?,
            ),
            Backend::Sqlite => None,
        };
        let store = Store {
            pool,
            backend,
            copy,
        };
        store.migrate(&target).await?;
        Ok(store)
    }

    /// Applies the migrations once, whoever else is starting on the same database:
    /// PostgreSQL serialises them with sqlx's advisory lock; SQLite has none, so
    /// processes starting together on one file take an exclusive lock on a file
    /// beside it (`<db>.migrate.lock`) and the later ones find the work done.
    async fn migrate(&self, target: &str) -> Result<()> {
        match self.backend {
            Backend::Postgres => POSTGRES_MIGRATOR.run(&self.pool).await?,
            Backend::Sqlite => {
                let path = target.split_once('?').map_or(target, |(p, _)| p);
                let _lock = if path == ":memory:" {
                    None
                } else {
                    Some(migrate_lock(format!("{path}.migrate.lock")).await?)
                };
                SQLITE_MIGRATOR.run(&self.pool).await?
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs `f` as the only planner among the daemons sharing this database: on
    /// PostgreSQL under a session advisory lock held on one connection (released when
    /// `f` ends, or by the server if this process dies); None when another daemon holds
    /// it, so that daemon's tick, planning the same stages, is not duplicated. SQLite
    /// serves one daemon: `f` just runs.
    pub async fn as_sole_planner<T, F>(&self, f: F) -> Result<Option<T>>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        if self.backend != Backend::Postgres {
            return f.await.map(Some);
        }
        let mut conn = self.pool.acquire().await?;
        // Should this future be dropped or fail between lock and unlock, the
        // connection is closed, not pooled, so the server releases the lock.
        conn.close_on_drop();
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(PLANNING_LOCK)
            .fetch_one(&mut *conn)
            .await?;
        if !got {
            return Ok(None);
        }
        let out = f.await;
        // The tick's own result matters more than the unlock's; a failed unlock is
        // logged and its connection closed (close_on_drop), which releases the lock.
        let unlocked: std::result::Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
                .bind(PLANNING_LOCK)
                .fetch_one(&mut *conn)
                .await;
        if let Err(e) = unlocked {
            tracing::warn!("planning lock: unlock failed ({e}); closing its connection");
        }
        out.map(Some)
    }

    pub async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Number of migration files per backend that this binary embeds.
pub fn embedded_migrations() -> (usize, usize) {
    (
        SQLITE_MIGRATOR.iter().count(),
        POSTGRES_MIGRATOR.iter().count(),
    )
}

pub(crate) fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::from_str(s).map_err(|_| StoreError::Corrupt(format!("date {s:?}")))
}

pub(crate) fn opt_date(row: &AnyRow, col: &str) -> Result<Option<NaiveDate>> {
    match row.try_get::<Option<String>, _>(col)? {
        Some(s) if !s.is_empty() => Ok(Some(parse_date(&s)?)),
        _ => Ok(None),
    }
}

/// The statement for this backend. SQL here is written with `$N` placeholders.
/// SQLite resolves a `$N` name by a linear search on every bind, which makes a
/// 10,000-parameter batch statement quadratic; when the placeholders appear once
/// each, in order, SQLite gets plain `?` instead.
pub(crate) fn sql_for(backend: Backend, text: String) -> sqlx::AssertSqlSafe<String> {
    if backend == Backend::Postgres {
        return sqlx::AssertSqlSafe(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut expected = 1usize;
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 {
                let n: usize = text[i + 1..j].parse().unwrap_or(0);
                if n != expected {
                    return sqlx::AssertSqlSafe(text);
                }
                expected += 1;
                out.push_str(&text[last..i]);
                out.push('?');
                last = j;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[last..]);
    sqlx::AssertSqlSafe(out)
}

/// `$first, …, $(first + n - 1)`: the placeholders of an `IN (…)` list.
pub(crate) fn placeholders(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$1, $2, …` groups for a multi-row VALUES list.
pub(crate) fn values_groups(rows: usize, cols: usize, first: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    let mut n = first;
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&n.to_string());
            n += 1;
        }
        s.push(')');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://u:pw@localhost/db"),
            "postgres://u:****@localhost/db"
        );
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }

    #[test]
    fn migrations_embedded_match_files() {
        let count = |dir: &str| {
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/").to_string() + dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "sql")
                })
                .count()
        };
        let (s, p) = embedded_migrations();
        assert_eq!(s, count("sqlite"), "rebuild: a migration file was added");
        assert_eq!(p, count("postgres"), "rebuild: a migration file was added");
        assert_eq!(s, p, "every migration exists for both backends");
    }

    #[test]
    fn sequential_placeholders_become_plain_for_sqlite() {
        let q = |t: &str| sql_for(Backend::Sqlite, t.to_string()).0;
        assert_eq!(q("VALUES ($1, $2), ($3, $4)"), "VALUES (?, ?), (?, ?)");
        assert_eq!(q("WHERE a = $1 OR b = $1"), "WHERE a = $1 OR b = $1");
        assert_eq!(q("WHERE a = $2 AND b = $1"), "WHERE a = $2 AND b = $1");
        assert_eq!(sql_for(Backend::Postgres, "($1)".into()).0, "($1)");
    }

    #[test]
    fn values_groups_numbering() {
        assert_eq!(values_groups(2, 2, 1), "($1, $2), ($3, $4)");
    }
}
