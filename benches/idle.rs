//! Idle cost of the daemon: `qinqing run` (the release binary) on the bundled
//! sample roster and rules with an SQLite store, the clock at a working morning so
//! the start-up tick plans and the first round delivers to the console; then, once
//! that round is done, CPU time and memory over a quiet minute.
//!
//! `cargo bench --bench idle` (`QINQING_IDLE_SECS=20` for a shorter window). Prints
//! CPU % of one core, RSS at the end, peak RSS (VmHWM), and the process's context
//! switches in the window (a busy-polling loop shows as thousands; the dispatcher
//! sleeps until something falls due, the watch looks at files every
//! `schedule.watch_every_secs`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn status_field(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of the process, in clock ticks (USER_HZ, 100 on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &text[text.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn switches(pid: u32) -> u64 {
    status_field(pid, "voluntary_ctxt_switches:") + status_field(pid, "nonvoluntary_ctxt_switches:")
}

fn main() {
    let window = Duration::from_secs(
        std::env::var("QINQING_IDLE_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60),
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qinqing"))
        .current_dir(root)
        .env(
            "QINQING_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("idle.db").display()),
        )
        .env("QINQING_NOW", "2026-09-18T08:30:00+08:00")
        .env("QINQING_LOG", "info")
        .args(["--config", "config/qinqing.toml", "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    // The first round is done when its figures are logged.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut planned = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("planning tick") || line.contains("planned") {
            planned = line.clone();
        }
        if line.contains("dispatch round done") {
            println!(
                "first tick and round done in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            println!("  {}", planned.trim());
            println!("  {}", line.trim());
            break;
        }
    }
    // Keep draining stderr so the daemon never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).count());

    let (t0, s0, at) = (cpu_ticks(pid), switches(pid), Instant::now());
    std::thread::sleep(window);
    let (t1, s1, secs) = (cpu_ticks(pid), switches(pid), at.elapsed().as_secs_f64());
    let rss = status_field(pid, "VmRSS:");
    let hwm = status_field(pid, "VmHWM:");
    let threads = status_field(pid, "Threads:");

    let cpu = (t1 - t0) as f64 / 100.0 / secs * 100.0;
    println!("idle over {secs:.0} s after the first round (sample roster, shipped rules, SQLite):");
    println!(
        "  CPU          {cpu:.2}% of one core ({} ticks of 10 ms)",
        t1 - t0
    );
    println!(
        "  RSS          {:.1} MiB (peak {:.1} MiB)",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    println!(
        "  ctx switches {} ({:.1}/s), {threads} threads",
        s1 - s0,
        (s1 - s0) as f64 / secs
    );
    println!(
        "  targets      CPU near 0% ({}), RSS < 50 MiB ({})",
        if cpu < 0.5 { "met" } else { "NOT met" },
        if rss < 50 * 1024 { "met" } else { "NOT met" }
    );

    // SIGTERM, and the daemon exits 0.
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let status = child.wait().unwrap();
    drain.join().ok();
    println!("  SIGTERM → exit {:?}", status.code());
}
