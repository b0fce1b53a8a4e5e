//! What an operator sees when the database is not there: a closed PostgreSQL port
//! and an SQLite folder qinqing cannot write are each said once, within seconds,
//! with what was tried and what to check.

use std::time::{Duration, Instant};

use crate::daemon_support::free_port;

/// `qinqing --database URL status`, with nothing else set.
fn status_of(url: &str) -> (i32, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_qinqing"))
        .args(["--database", url, "status"])
        .env_remove("QINQING_DATABASE_URL")
        .env("QINQING_LOG", "warn")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_closed_postgres_port_is_said_at_once() {
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/test");
    let t0 = Instant::now();
    let (code, err) = status_of(&url);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("无法连接 PostgreSQL 127.0.0.1:{port}(连接被拒绝")),
        "{err}"
    );
    assert!(err.contains("QINQING_DATABASE_URL"), "{err}");
}

/// A read-only folder: a read-only tmpfs when running as root (root may write
/// anywhere else), else a folder without write permission.
struct ReadOnlyDir {
    path: std::path::PathBuf,
    mounted: bool,
    _dir: tempfile::TempDir,
}

impl ReadOnlyDir {
    fn new() -> Option<ReadOnlyDir> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro");
        std::fs::create_dir(&path).unwrap();
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if root {
            let ok = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return None;
            }
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o500)).unwrap();
        }
        Some(ReadOnlyDir {
            path,
            mounted: root,
            _dir: dir,
        })
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount")
                .arg(&self.path)
                .status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o700));
        }
    }
}

#[test]
fn an_sqlite_folder_that_cannot_be_written_is_named_once() {
    let Some(ro) = ReadOnlyDir::new() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must be able to mount a read-only tmpfs"
        );
        eprintln!("note: cannot mount a read-only folder; test skipped");
        return;
    };
    let url = format!("sqlite://{}/qinqing.db", ro.path.display());
    let t0 = Instant::now();
    let (code, err) = status_of(&url);
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_ne!(code, 0);
    let folder = ro.path.display().to_string();
    assert!(
        err.contains(&format!("无法在文件夹 {folder} 中创建")),
        "{err}"
    );
    assert!(
        err.contains("只读文件系统") || err.contains("没有写权限"),
        "{err}"
    );
    assert_eq!(err.matches("无法在文件夹").count(), 1, "once: {err}");
}

/// Under systemd (`JOURNAL_STREAM` set) log lines carry their syslog priority and
/// no timestamp; elsewhere they carry +08:00 timestamps.
#[test]
fn logs_speak_journald_under_systemd_and_china_time_elsewhere() {
    let db = crate::support::TestDb::sqlite();
    let run = |journal: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_qinqing"));
        c.args([
            "--database",
            db.url(),
            "run",
            "--once",
            "--now",
            "2026-09-18T08:30:00+08:00",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QINQING_LOG", "info")
        .env_remove("QINQING_DATABASE_URL");
        if journal {
            c.env("JOURNAL_STREAM", "8:12345");
        } else {
            c.env_remove("JOURNAL_STREAM");
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let journal = run(true);
    let lines: Vec<&str> = journal.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(
            ["<3>", "<4>", "<6>", "<7>"]
                .iter()
                .any(|p| l.starts_with(p)),
            "{l}"
        );
        assert!(!l.contains("+08:00 "), "no timestamp under journald: {l}");
    }
    let plain = run(false);
    assert!(
        plain
            .lines()
            .any(|l| l.starts_with("20") && l.contains("+08:00")),
        "{plain}"
    );
}

/// A day's run at trace level (import, plan, dispatch to a console file) logs no
/// roster value: no name, phone, ID number or address (message bodies go to the
/// sink, never to the log).
#[test]
fn a_days_run_at_trace_level_logs_no_roster_value() {
    use crate::daemon_support::*;
    let db = crate::support::TestDb::sqlite();
    let out = db.path("out.jsonl");
    let mut r = roster(6, "");
    r.persons.add_column("住址");
    for i in 0..r.persons.rows.len() {
        r.persons.set(
            i,
            "住址",
            crate::support::t(format!("历下区文化东路{}号", 100 + i)),
        );
    }
    let s = Setup::new(db, &r, "", &console(&out));
    let o = s
        .cmd("2026-06-01T08:40:00+08:00")
        .env("QINQING_LOG", "trace")
        .args(["run", "--once", "--now", "2026-06-01T08:40:00+08:00"])
        .run()
        .ok();
    assert!(
        !console_lines(&out).is_empty(),
        "the day's digests were sent"
    );
    for i in 0..r.persons.rows.len() {
        for col in ["姓名", "身份证号", "联系电话", "住址"] {
            let v = r.persons.text(i, col);
            assert!(
                !v.is_empty() && !o.stderr.contains(&v),
                "{col} {v:?} is in the log"
            );
        }
    }
}

/// `log.format = "json"`: every log line on stderr is a JSON object with a level and
/// a message, and its timestamp is +08:00.
#[test]
fn log_format_json_writes_json_lines() {
    let db = crate::support::TestDb::sqlite();
    let config = db.path("qinqing.toml");
    std::fs::write(&config, "[log]\nformat = \"json\"\n\n[channels.console]\n").unwrap();
    let out = crate::support::qinqing(&db)
        .arg("--config")
        .arg(&config)
        .env("QINQING_LOG", "info")
        .args(["run", "--once", "--now", "2026-06-01T08:40:00+08:00"])
        .run();
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!lines.is_empty(), "{}", out.all());
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{l}"
        );
        assert!(v["timestamp"].as_str().unwrap().ends_with("+08:00"), "{l}");
    }
    // A bad value is a config error naming the key.
    std::fs::write(&config, "[log]\nformat = \"xml\"\n").unwrap();
    let out = crate::support::qinqing(&db)
        .arg("--config")
        .arg(&config)
        .arg("check")
        .run()
        .fails();
    assert!(out.all().contains("log.format"), "{}", out.all());
}
