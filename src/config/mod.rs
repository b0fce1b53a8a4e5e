//! Typed configuration.
//!
//! Layers: built-in defaults → the TOML file (unknown keys are errors naming the key
//! and the file) → `QINQING_*` environment variables for secrets and the database URL.
//! Every secret key `a.b.c` can come from `QINQING_A_B_C` or from a file named by
//! `QINQING_A_B_C_FILE` (systemd `LoadCredential=`). Validation is pure.

pub mod channels;
mod secret;

use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::Deserialize;

pub use secret::Secret;

use channels::ChannelsConfig;

/// The default config file, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/qinqing.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: {problems}")]
    Invalid { path: PathBuf, problems: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: DatabaseConfig,
    pub roster: RosterConfig,
    pub rules: RulesConfig,
    pub calendar: CalendarConfig,
    pub schedule: ScheduleConfig,
    pub limits: LimitsConfig,
    pub escalation: EscalationConfig,
    pub http: HttpConfig,
    pub channels: ChannelsConfig,
    pub log: LogConfig,
    /// Where this config came from (not a TOML key); relative paths resolve against the
    /// working directory.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db`, a plain file path, or `postgres://…`.
    /// Empty means an SQLite file in the platform data directory.
    pub url: Option<Secret>,
    /// Connection pool size.
    pub max_connections: Option<u32>,
    /// How long a claimed digest is held by the daemon sending it (default 180).
    /// A daemon that dies mid-send (possibly on another host) leaves claims that
    /// another instance resends, with the same idempotency key, once this runs
    /// out. Digests are claimed one wave of sends at a time and each send is cut
    /// off after 120 s, so the default never takes over a send still running;
    /// tests shorten it.
    pub claim_lease_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            max_connections: None,
            claim_lease_secs: 180,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RosterConfig {
    /// The roster the daemon imports at start and whenever it changes.
    pub path: Option<PathBuf>,
    pub sheet: Option<String>,
    pub staff: Option<PathBuf>,
    /// A roster file larger than this many bytes is refused before it is read.
    pub max_bytes: u64,
}

impl Default for RosterConfig {
    fn default() -> Self {
        RosterConfig {
            path: None,
            sheet: None,
            staff: None,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Folder of `*.rhai` rule files. Empty means the shipped rules compiled into
    /// the binary.
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// Holiday notices for years the binary does not know yet (see config/holidays.toml).
    pub holidays: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// "text" (default: one line per event; under systemd with syslog priorities) or
    /// "json" (one JSON object per line, for a log collector).
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `log.format` of the config file qinqing will read (`--config`, else the default
/// path), read before the config is loaded so that loading errors are logged in it
/// too; "text" when the file or the key is missing or unreadable.
pub fn log_format(config: Option<&Path>) -> LogFormat {
    let path = config
        .map(Path::to_path_buf)
        .unwrap_or_else(|| DEFAULT_CONFIG_PATH.into());
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("log")?.get("format")?.as_str().map(str::to_string))
        .map_or(LogFormat::Text, |f| {
            if f == "json" {
                LogFormat::Json
            } else {
                LogFormat::Text
            }
        })
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationConfig {
    /// 工号 that escalations go to when a staff member has no 上级 (e.g. the
    /// bureau's duty officer). Unset: such escalations are recorded as unrouted.
    pub fallback: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Daily planning tick, Asia/Shanghai, "HH:MM".
    pub plan_at: String,
    /// First dispatch of the day's digests on working days, "HH:MM".
    pub send_at: String,
    /// Quiet hours "HH:MM-HH:MM": urgent reminders wait for their end.
    pub quiet_hours: String,
    /// How many missed days are planned after downtime; older stages are recorded as missed.
    pub catch_up_days: i64,
    /// The longest the dispatcher sleeps between rounds. It wakes earlier when a
    /// round has work: a retry, a send window, a lapsed claim lease, a remind day,
    /// a planning tick or a change.
    pub dispatch_every_secs: u64,
    /// Seconds between checks for roster or store changes.
    pub watch_every_secs: u64,
    /// Grace period for in-flight sends on SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Maximum delivery attempts per channel before it counts as failed.
    pub max_attempts: u32,
    /// One digest per recipient and channel per send window; false sends each
    /// reminder as its own message.
    pub digest: bool,
    /// Urgent reminders go out even in quiet hours.
    pub urgent_in_quiet_hours: bool,
    /// Days after the first escalation when a still open occasion escalates again,
    /// to the supervisor's supervisor, for every rule that does not set
    /// `escalate_again_after`. Unset: no second escalation.
    pub second_escalation_days: Option<i64>,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            plan_at: "07:00".into(),
            send_at: "08:30".into(),
            quiet_hours: "21:00-07:30".into(),
            catch_up_days: 7,
            dispatch_every_secs: 300,
            watch_every_secs: 20,
            shutdown_grace_secs: 20,
            max_attempts: 8,
            digest: true,
            urgent_in_quiet_hours: false,
            second_escalation_days: None,
        }
    }
}

impl ScheduleConfig {
    pub fn plan_time(&self) -> NaiveTime {
        parse_hhmm(&self.plan_at).unwrap_or(NaiveTime::from_hms_opt(7, 0, 0).unwrap())
    }
    pub fn send_time(&self) -> NaiveTime {
        parse_hhmm(&self.send_at).unwrap_or(NaiveTime::from_hms_opt(8, 30, 0).unwrap())
    }
    /// (start, end) of quiet hours.
    pub fn quiet(&self) -> (NaiveTime, NaiveTime) {
        let (a, b) = self
            .quiet_hours
            .split_once('-')
            .unwrap_or(("21:00", "07:30"));
        (
            parse_hhmm(a).unwrap_or(NaiveTime::from_hms_opt(21, 0, 0).unwrap()),
            parse_hhmm(b).unwrap_or(NaiveTime::from_hms_opt(7, 30, 0).unwrap()),
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// `qinqing check` flags staff members with more persons than this.
    pub max_persons_per_staff: usize,
    /// `preview --summary` flags staff members whose week holds more visits.
    pub max_visits_per_week: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_persons_per_staff: 33,
            max_visits_per_week: 15,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Where `qinqing run` serves its pages and `/healthz`, e.g. "127.0.0.1:8080".
    /// Empty: no HTTP server.
    pub listen: Option<String>,
    /// The public address of those pages as staff phones reach them, e.g.
    /// "https://qinqing.example.gov.cn". Unset: messages carry no links.
    pub base_url: Option<String>,
    /// Days an acknowledgement link works.
    pub ack_link_days: i64,
    /// Days a worklist link works.
    pub worklist_link_days: i64,
    /// Bearer token of the JSON API under `/api/v1` (from `QINQING_HTTP_API_TOKEN`
    /// or `QINQING_HTTP_API_TOKEN_FILE`, never the file). Unset: the API is off.
    pub api_token: Option<Secret>,
    /// The name the audit log gives the API's caller.
    pub api_token_name: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: None,
            base_url: None,
            ack_link_days: 45,
            worklist_link_days: 180,
            api_token: None,
            api_token_name: "api".into(),
        }
    }
}

impl HttpConfig {
    /// `base_url` without a trailing slash, when links are on.
    pub fn links_base(&self) -> Option<&str> {
        self.base_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
    }
}

fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// Keys holding secrets outside `channels` (those list themselves).
const CORE_SECRET_PATHS: &[&str] = &["database.url", "http.api_token"];

impl Config {
    /// Loads `path`, or the built-in defaults when `path` is None.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut value = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse {
                        path: p.to_path_buf(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        let source = path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| "<built-in defaults>".into());
        apply_env_secrets(&mut value, &env_lookup)?;
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(value))
            .map_err(|e| ConfigError::Parse {
                path: source.clone(),
                message: describe_serde_error(&e),
            })?;
        config.source = path.map(Path::to_path_buf);
        if path.is_none() {
            // Built-in defaults: reminders go to the console, so `--database` alone
            // is enough to run the daemon anywhere.
            config.channels.console = Some(Default::default());
        }
        let problems = config.validate();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid {
                path: source,
                problems: problems.join("; "),
            });
        }
        Ok(config)
    }

    /// Every problem at once, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, v) in [
            ("schedule.plan_at", &self.schedule.plan_at),
            ("schedule.send_at", &self.schedule.send_at),
        ] {
            if parse_hhmm(v).is_none() {
                problems.push(format!("{key} = {v:?} is not a time like \"08:30\""));
            }
        }
        match self.schedule.quiet_hours.split_once('-') {
            Some((a, b)) if parse_hhmm(a).is_some() && parse_hhmm(b).is_some() => {}
            _ => problems.push(format!(
                "schedule.quiet_hours = {:?} is not a range like \"21:00-07:30\"",
                self.schedule.quiet_hours
            )),
        }
        if self.schedule.catch_up_days < 0 {
            problems.push("schedule.catch_up_days must be 0 or more".into());
        }
        if self.database.max_connections.is_some_and(|n| n < 2) {
            problems.push(
                "database.max_connections must be at least 2 (the planning tick holds one connection)"
                    .into(),
            );
        }
        if self.schedule.max_attempts == 0 {
            problems.push("schedule.max_attempts must be at least 1".into());
        }
        if let Some(base) = self.http.links_base()
            && !(base.starts_with("https://") || base.starts_with("http://"))
        {
            problems.push(format!(
                "http.base_url = {base:?} must start with https:// (or http:// on a closed network)"
            ));
        }
        for (key, days) in [
            ("http.ack_link_days", self.http.ack_link_days),
            ("http.worklist_link_days", self.http.worklist_link_days),
        ] {
            if !(1..=3650).contains(&days) {
                problems.push(format!("{key} = {days} must be from 1 to 3650"));
            }
        }
        problems.extend(self.channels.validate());
        problems
    }
}

fn describe_serde_error(e: &serde_path_to_error::Error<toml::de::Error>) -> String {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    let inner = inner.trim();
    if path.is_empty() || path == "." {
        inner.to_string()
    } else {
        format!("key `{path}`: {inner}")
    }
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `channels.email.password` → `QINQING_CHANNELS_EMAIL_PASSWORD`.
pub fn env_name(dotted: &str) -> String {
    format!("QINQING_{}", dotted.replace(['.', '-'], "_").to_uppercase())
}

/// Fills secret keys from `QINQING_*`, `QINQING_*_FILE`, or a systemd credential
/// named after the key (`$CREDENTIALS_DIRECTORY/channels.email.password`), which
/// win over the file.
fn apply_env_secrets(
    table: &mut toml::Table,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let paths = CORE_SECRET_PATHS
        .iter()
        .chain(ChannelsConfig::secret_paths().iter());
    for dotted in paths {
        let var = env_name(dotted);
        let value = if let Some(v) = lookup(&var) {
            Some(v)
        } else if let Some(file) = lookup(&format!("{var}_FILE")) {
            let text = std::fs::read_to_string(&file).map_err(|e| ConfigError::Env {
                var: format!("{var}_FILE"),
                message: format!("cannot read {file}: {e}"),
            })?;
            Some(text.trim_end_matches(['\n', '\r']).to_string())
        } else if let Some(dir) = lookup("CREDENTIALS_DIRECTORY")
            && let Ok(text) = std::fs::read_to_string(Path::new(&dir).join(dotted))
        {
            // systemd LoadCredential=, the credential named after the key.
            Some(text.trim_end_matches(['\n', '\r']).to_string())
        } else {
            None
        };
        let Some(value) = value else { continue };
        let mut parts: Vec<&str> = dotted.split('.').collect();
        let leaf = parts.pop().expect("non-empty key");
        // A channel's secret only applies to a channel the file configures; setting
        // QINQING_CHANNELS_SMS_ACCESS_KEY_SECRET must not conjure up an SMS channel.
        if parts.first() == Some(&"channels") && !has_table(table, &parts) {
            continue;
        }
        let mut cur = &mut *table;
        for part in parts {
            let entry = cur
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => cur = t,
                _ => {
                    return Err(ConfigError::Env {
                        var,
                        message: format!("`{part}` in the config is not a table"),
                    });
                }
            }
        }
        cur.insert(leaf.to_string(), toml::Value::String(value));
    }
    Ok(())
}

fn has_table(table: &toml::Table, path: &[&str]) -> bool {
    let mut cur = table;
    for part in path {
        match cur.get(*part) {
            Some(toml::Value::Table(t)) => cur = t,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_secret_without_channel_is_ignored() {
        let mut t = toml::Table::new();
        let lookup =
            |k: &str| (k == "QINQING_CHANNELS_SMS_ACCESS_KEY_SECRET").then(|| "x".to_string());
        apply_env_secrets(&mut t, &lookup).unwrap();
        assert!(t.get("channels").is_none());
        let mut t: toml::Table = "[channels.sms]\nprovider = \"aliyun\"\n".parse().unwrap();
        apply_env_secrets(&mut t, &lookup).unwrap();
        assert_eq!(
            t["channels"]["sms"]["access_key_secret"].as_str(),
            Some("x")
        );
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn unknown_key_is_named_with_the_file() {
        let f = write("[schedule]\nsend_att = \"08:30\"\n");
        let err = Config::load(Some(f.path())).unwrap_err().to_string();
        assert!(err.contains("send_att"), "{err}");
        assert!(err.contains(&f.path().display().to_string()), "{err}");
    }

    #[test]
    fn one_database_connection_is_too_few() {
        let f = write("[database]\nmax_connections = 1\n");
        let err = Config::load(Some(f.path())).unwrap_err().to_string();
        assert!(err.contains("database.max_connections"), "{err}");
        let f = write("[database]\nmax_connections = 2\n");
        assert!(Config::load(Some(f.path())).is_ok());
    }

    #[test]
    fn bad_time_is_reported_with_its_key() {
        let f = write("[schedule]\nsend_at = \"8.30am\"\n");
        let err = Config::load(Some(f.path())).unwrap_err().to_string();
        assert!(err.contains("schedule.send_at"), "{err}");
    }

    #[test]
    fn env_secret_overrides_file() {
        let mut t: toml::Table = "[database]\nurl = \"sqlite://a.db\"\n".parse().unwrap();
        let lookup = |k: &str| (k == "QINQING_DATABASE_URL").then(|| "postgres://x".to_string());
        apply_env_secrets(&mut t, &lookup).unwrap();
        assert_eq!(t["database"]["url"].as_str(), Some("postgres://x"));
    }

    #[test]
    fn secret_file_variant_is_read() {
        let f = write("s3cret\n");
        let path = f.path().display().to_string();
        let mut t = toml::Table::new();
        let lookup = move |k: &str| (k == "QINQING_DATABASE_URL_FILE").then(|| path.clone());
        apply_env_secrets(&mut t, &lookup).unwrap();
        assert_eq!(t["database"]["url"].as_str(), Some("s3cret"));
    }

    #[test]
    fn defaults_are_valid() {
        assert!(Config::default().validate().is_empty());
        assert_eq!(Config::default().limits.max_persons_per_staff, 33);
    }
}
