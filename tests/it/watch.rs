//! The long-running daemon follows its files: the staff file (`roster.staff`) and
//! the holiday file (`calendar.holidays`) are re-read when they change, and a bad
//! file keeps the last good one, with its errors in `status`.

use serde_json::Value;

use crate::daemon_support::*;
use crate::support::*;

/// Half a minute before the 08:30 send window on Monday 2026-06-01.
const START: &str = "2026-06-01T08:29:30+08:00";

/// Starts `run --now START` with the log at info level; panics if it exits early.
fn start(s: &Setup) -> (std::process::Child, std::path::PathBuf) {
    let log = s.path("daemon.log");
    let child = s
        .cmd(START)
        .env("QINQING_LOG", "info")
        .args(["run", "--now", START])
        .spawn(&log);
    (child, log)
}

fn log_text(log: &std::path::Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The staff file is edited while the daemon runs (提醒方式 webhook → 邮件): the
/// digests of the next send window go by the new order, with the default
/// `watch_every_secs` (20 s) well within a minute.
#[test]
fn the_staff_file_edited_while_the_daemon_runs_changes_the_channel_order() {
    for db in backends() {
        let srv = smtp();
        let sink = Sink::ok();
        let channels = format!("{}{}", webhook(&sink.url(), ""), email(&srv));
        let before = roster(6, "webhook");
        let s = Setup::with_staff_file(db, &before, "dispatch_every_secs = 1", &channels);
        let (child, log) = start(&s);
        wait_for("the first roster import", 30, || {
            log_text(&log).contains("roster imported").then_some(())
        });
        let edited = roster(6, "邮件");
        s.rewrite_staff(&edited);
        wait_for("the staff file re-imported", 60, || {
            (log_text(&log).matches("roster imported").count() >= 2).then_some(())
        });
        let mails = wait_for("the digests by email", 60, || {
            let m = srv.mails();
            (m.len() >= 2).then_some(m)
        });
        let label = s.label();
        assert_eq!(
            sink.count(),
            0,
            "[{label}] sent by the old channel order: {}",
            log_text(&log)
        );
        let to: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
        assert!(
            to.contains(&"s002@bureau.example".to_string())
                && to.contains(&"s003@bureau.example".to_string()),
            "[{label}] {to:?}"
        );
        stop(child);
    }
}

/// The holiday file is broken while the daemon runs: `status` shows its errors and
/// the daemon keeps the last good calendar; fixed again, the errors are gone.
#[test]
fn the_holiday_file_is_reloaded_and_a_bad_one_keeps_the_last_good() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let holidays = db.path("holidays.toml");
        let good = "[[year]]\nyear = 2027\nholidays = [\n    { name = \"元旦\", from = \"2027-01-01\", to = \"2027-01-03\" },\n]\nworkdays = []\n";
        std::fs::write(&holidays, good).unwrap();
        let s = Setup::new(
            db,
            &roster(3, ""),
            "dispatch_every_secs = 1\nwatch_every_secs = 1",
            &format!(
                "[calendar]\nholidays = {:?}\n\n{}",
                holidays.display().to_string(),
                console(&out)
            ),
        );
        let (child, log) = start(&s);
        wait_for("the start-up tick", 30, || {
            (s.status()["last_tick"] == "2026-06-01").then_some(())
        });
        std::fs::write(&holidays, good.replace("holidays = [", "holiday = [")).unwrap();
        let errors = wait_for("the holiday file's errors in status", 30, || {
            let st = s.status();
            let e = st["calendar_errors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            (!e.is_empty()).then_some(e)
        });
        let label = s.label();
        assert!(
            errors
                .iter()
                .any(|e| e.as_str().unwrap_or("").contains("holiday")),
            "[{label}] {errors:?}"
        );
        assert!(
            log_text(&log).contains("the last good calendar stays in use"),
            "[{label}] {}",
            log_text(&log)
        );
        // The daemon still delivers with the last good calendar.
        wait_for("today's digests", 30, || {
            (console_lines(&out).len() >= 2).then_some(())
        });
        std::fs::write(&holidays, good).unwrap();
        wait_for("the errors cleared", 30, || {
            let st: Value = s.status();
            st["calendar_errors"]
                .as_array()
                .is_some_and(|e| e.is_empty())
                .then_some(())
        });
        assert!(
            log_text(&log).contains("holiday file reloaded"),
            "[{label}]"
        );
        stop(child);
    }
}
