//! The systemd unit: hardened to an exposure of 2.0 or lower by `systemd-analyze
//! security`, valid by `systemd-analyze verify` with the built binary, and
//! `check --startup` (its ExecStartPre and ExecReload) failing only on what would
//! stop the daemon from starting.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn analyze() -> Option<&'static str> {
    let found = Path::new("/usr/bin/systemd-analyze").exists();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have systemd-analyze (Debian's systemd package)"
        );
        eprintln!("note: systemd-analyze not found; the unit checks are skipped");
    }
    found.then_some("/usr/bin/systemd-analyze")
}

fn unit() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/qinqing.service")
}

#[test]
fn the_unit_is_rated_2_or_lower() {
    let Some(sa) = analyze() else { return };
    let out = Command::new(sa)
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(unit())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exposure above 2.0:\n{text}");
    assert!(text.contains("Overall exposure level"), "{text}");
}

#[test]
fn the_unit_verifies_with_the_built_binary() {
    let Some(sa) = analyze() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(unit())
        .unwrap()
        .replace("/usr/bin/qinqing", env!("CARGO_BIN_EXE_qinqing"));
    let copy = dir.path().join("qinqing.service");
    std::fs::write(&copy, text).unwrap();
    let out = Command::new(sa)
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_startup_fails_only_on_what_stops_the_daemon() {
    let db = TestDb::sqlite();
    let rules = db.path("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("broken.rhai"), "fn occasions(p, year) { [ }").unwrap();
    let config = db.path("q.toml");
    std::fs::write(
        &config,
        format!(
            "[rules]\npath = {:?}\n\n[roster]\npath = {:?}\n\n[channels.console]\npath = \"-\"\n",
            rules.display().to_string(),
            db.path("missing.xlsx").display().to_string()
        ),
    )
    .unwrap();
    // A broken rule and a missing roster: warnings at start-up, errors for check.
    let out = qinqing(&db)
        .arg("--config")
        .arg(&config)
        .args(["check", "--startup"])
        .run()
        .ok();
    assert!(out.all().contains("broken.rhai"), "{out:?}");
    qinqing(&db)
        .arg("--config")
        .arg(&config)
        .arg("check")
        .run()
        .fails();
    // An unreadable rules folder and an unreachable store stop the start.
    std::fs::write(
        &config,
        format!(
            "[rules]\npath = {:?}\n\n[channels.console]\npath = \"-\"\n",
            db.path("no-such-folder").display().to_string()
        ),
    )
    .unwrap();
    let out = qinqing(&db)
        .arg("--config")
        .arg(&config)
        .args(["check", "--startup"])
        .run()
        .fails();
    assert!(out.all().contains("规则文件夹无法读取"), "{out:?}");
}

/// `Type=notify`: the daemon says READY=1 after its start-up tick, STATUS= lines
/// with the last tick and the outbox, WATCHDOG=1 while it runs, STOPPING=1 on
/// SIGTERM; read from a real notify socket (a Unix datagram socket, as systemd's).
#[test]
fn the_daemon_speaks_sd_notify() {
    use crate::daemon_support::*;
    let db = TestDb::sqlite();
    let sock_path = db.path("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .unwrap();
    let out = db.path("out.jsonl");
    let s = Setup::new(
        db,
        &roster(6, ""),
        "dispatch_every_secs = 1\nwatch_every_secs = 1",
        &console(&out),
    );
    let at = "2026-06-01T08:40:00+08:00";
    let mut child = s
        .cmd(at)
        .env("NOTIFY_SOCKET", sock_path.to_str().unwrap())
        .args(["run", "--now", at])
        .spawn(&s.path("daemon.log"));
    let mut seen: Vec<String> = Vec::new();
    let mut buf = [0u8; 4096];
    let got = |seen: &[String], what: &str| seen.iter().any(|m| m.contains(what));
    wait_for("READY=1, STATUS= and WATCHDOG=1", 60, || {
        if let Ok(n) = sock.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        (got(&seen, "READY=1")
            && got(&seen, "STATUS=上次计划 2026-06-01")
            && got(&seen, "WATCHDOG=1"))
        .then_some(())
    });
    let status = seen.iter().find(|m| m.contains("STATUS=")).unwrap();
    assert!(
        status.contains("待发") && status.contains("失败 0"),
        "{status}"
    );
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    wait_for("STOPPING=1", 30, || {
        if let Ok(n) = sock.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got(&seen, "STOPPING=1").then_some(())
    });
    let code = wait_for("exit", 30, || child.try_wait().unwrap());
    assert_eq!(code.code(), Some(0));
}
