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

/// The packaged config (`systemd/qinqing.toml`, installed as
/// /etc/qinqing/qinqing.toml) is the example config with these lines made
/// absolute, and nothing else changed.
const PACKAGED: [(&str, &str); 8] = [
    (
        "# qinqing configuration. Works as it is: the sample roster, the shipped rules,",
        "# qinqing configuration as the Debian package installs it (/etc/qinqing/qinqing.toml):",
    ),
    (
        "# an SQLite file under data/, and reminders printed to the console.",
        "# put the roster at /var/lib/qinqing/roster.xlsx and configure a channel below.",
    ),
    (
        "# Unknown keys are errors. Relative paths are relative to the working directory.",
        "# Unknown keys are errors. Every path here is absolute.",
    ),
    (
        r#"url = "sqlite://data/qinqing.db""#,
        r#"url = "sqlite:///var/lib/qinqing/qinqing.db""#,
    ),
    (
        r#"path = "config/sample/roster.xlsx""#,
        r#"path = "/var/lib/qinqing/roster.xlsx""#,
    ),
    (
        r#"# staff = "config/sample/staff.csv""#,
        r#"# staff = "/var/lib/qinqing/staff.csv""#,
    ),
    (r#"path = "rules""#, r#"path = "/etc/qinqing/rules""#),
    (
        r#"holidays = "config/holidays.toml""#,
        r#"holidays = "/etc/qinqing/holidays.toml""#,
    ),
];

#[test]
fn the_packaged_config_is_the_example_with_absolute_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join("config/qinqing.toml")).unwrap();
    let packaged = std::fs::read_to_string(root.join("systemd/qinqing.toml")).unwrap();
    let mut lines: Vec<&str> = example.split('\n').collect();
    for (from, to) in PACKAGED {
        let at: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == from).collect();
        assert_eq!(at.len(), 1, "config/qinqing.toml should have {from:?} once");
        lines[at[0]] = to;
    }
    assert_eq!(
        packaged,
        lines.join("\n"),
        "systemd/qinqing.toml must be config/qinqing.toml with the paths made absolute \
         (edit both together)"
    );
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `cargo deb` builds a package that installs the binary, the unit, the sysusers
/// and tmpfiles files, and the config, rules and holidays as conffiles; unpacked
/// into a scratch root, its binary passes `check --startup` on its own config.
/// Runs when cargo-deb is installed (`cargo install cargo-deb`); it packages the
/// binary this test run built (`--no-build`), so no release build is needed.
#[test]
fn the_deb_package_installs_and_checks() {
    let has_deb = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_deb {
        eprintln!("note: cargo-deb not installed; the package test is skipped");
        return;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let deb = dir.path().join("qinqing.deb");
    run(Command::new("cargo")
        .current_dir(manifest)
        .args([
            "deb",
            "--no-build",
            "--profile",
            "dev",
            "--no-strip",
            "--fast",
            "--quiet",
            "--output",
        ])
        .arg(&deb));

    let listing = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for path in [
        "./usr/bin/qinqing",
        "./usr/lib/systemd/system/qinqing.service",
        "./usr/lib/sysusers.d/qinqing.conf",
        "./usr/lib/tmpfiles.d/qinqing.conf",
        "./etc/qinqing/qinqing.toml",
        "./etc/qinqing/holidays.toml",
        "./etc/qinqing/rules/festival-visit.rhai",
        "./etc/qinqing/rules/tests/festival-visit.toml",
        "./etc/qinqing/rules/README.md",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(path)),
            "{path} not in the package:\n{listing}"
        );
    }
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("./usr/bin/qinqing")),
        "{listing}"
    );
    assert_eq!(
        run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Package")).trim(),
        "qinqing"
    );
    let depends = run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Depends"));
    assert!(depends.contains("systemd"), "{depends}");

    let control = dir.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    let rules = std::fs::read_dir(manifest.join("rules"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "rhai")
        })
        .count();
    for f in ["/etc/qinqing/qinqing.toml", "/etc/qinqing/holidays.toml"] {
        assert!(conffiles.lines().any(|l| l == f), "{f}:\n{conffiles}");
    }
    let rule_conffiles = conffiles
        .lines()
        .filter(|l| l.starts_with("/etc/qinqing/rules/") && l.ends_with(".rhai"))
        .count();
    assert_eq!(rule_conffiles, rules, "{conffiles}");
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("systemd-sysusers") && postinst.contains("systemd-tmpfiles"));

    // Unpack into a scratch root, make what tmpfiles would, point the packaged
    // config at that root, and run the packaged binary's start-up check.
    let root = dir.path().join("root");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&root));
    std::fs::create_dir_all(root.join("var/lib/qinqing")).unwrap();
    let config = root.join("etc/qinqing/qinqing.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("config/") && text.contains("/etc/qinqing/rules"));
    let at = |p: &str| format!("{}{p}", root.display());
    let text = text
        .replace("/var/lib/qinqing", &at("/var/lib/qinqing"))
        .replace("/etc/qinqing", &at("/etc/qinqing"));
    std::fs::write(&config, text).unwrap();
    let mut check = Command::new(root.join("usr/bin/qinqing"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QINQING_") {
            check.env_remove(k);
        }
    }
    let out = run(check
        .current_dir(dir.path())
        .arg("--config")
        .arg(&config)
        .args(["check", "--startup"]));
    assert!(root.join("var/lib/qinqing/qinqing.db").exists(), "{out}");
    // The packaged rules load from /etc/qinqing/rules and pass their cases.
    assert!(out.contains("rules: 11"), "{out}");
    assert!(
        out.contains("etc/qinqing/rules/festival-visit.rhai"),
        "{out}"
    );
    assert!(!out.contains("FAIL"), "{out}");
}
