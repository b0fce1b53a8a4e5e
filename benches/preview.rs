//! `qinqing preview` as a bureau runs it: the release binary, a synthetic roster
//! imported into a fresh SQLite file, then
//! 1. `preview --from 2026-01-01 --to 2026-12-31 --format json > file` (streamed a
//!    week of remind days at a time), and
//! 2. `preview --summary --format json` over the same year (the workload forecast),
//!
//! each timed as a whole process with its peak memory (VmHWM, sampled until it
//! exits). Sizes: `QINQING_BENCH_SIZES=3000,100000` (default). Prints figures and the
//! targets of issue 16; asserts only that the preview wrote lines.
//!
//! `cargo bench --bench preview`

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn hwm_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Runs `qinqing args…` with stdout to `out`, returning (seconds, peak MiB).
fn timed(db: &str, args: &[&str], out: &Path) -> (f64, f64) {
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qinqing"))
        .env("QINQING_NOW", "2026-01-01T08:30:00+08:00")
        .env("QINQING_LOG", "warn")
        .env_remove("QINQING_DATABASE_URL")
        .env_remove("QINQING_CONFIG")
        .arg("--database")
        .arg(db)
        .args(args)
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(h) = hwm_kib(pid) {
            peak = peak.max(h);
        }
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "qinqing {args:?} failed: {st}");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (t0.elapsed().as_secs_f64(), peak as f64 / 1024.0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sizes = common::sizes(&[3_000, 100_000]);
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let staff = (n / 33).max(1);
        let roster = dir.path().join("roster.csv");
        let staff_file = dir.path().join("staff.csv");
        std::fs::write(&roster, common::roster_csv(n, staff, None)).unwrap();
        std::fs::write(&staff_file, common::staff_csv(staff)).unwrap();
        let db = format!("sqlite://{}", dir.path().join("preview.db").display());
        let log = dir.path().join("import.out");
        let (t_import, _) = timed(
            &db,
            &[
                "import",
                roster.to_str().unwrap(),
                "--staff",
                staff_file.to_str().unwrap(),
            ],
            &log,
        );
        let out = dir.path().join("preview.jsonl");
        let year = ["--from", "2026-01-01", "--to", "2026-12-31"];
        let (t_preview, peak_preview) = timed(
            &db,
            &[&["preview"][..], &year, &["--format", "json"]].concat(),
            &out,
        );
        let lines = std::fs::read_to_string(&out).unwrap().lines().count();
        assert!(lines > 0);
        let sum = dir.path().join("summary.json");
        let (t_summary, peak_summary) = timed(
            &db,
            &[&["preview"][..], &year, &["--summary", "--format", "json"]].concat(),
            &sum,
        );
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{n} persons ({staff} staff), SQLite, release binary:");
        let _ = writeln!(o, "  import                      {t_import:>7.2} s");
        let _ = writeln!(
            o,
            "  preview 1 year, JSON lines  {t_preview:>7.2} s  peak {peak_preview:>6.0} MiB  {} stages  ({:.0} stages/s)",
            common::with_commas(lines as u64),
            lines as f64 / t_preview
        );
        let _ = writeln!(
            o,
            "  preview --summary, 1 year   {t_summary:>7.2} s  peak {peak_summary:>6.0} MiB"
        );
        if n == 100_000 {
            let _ = writeln!(
                o,
                "  targets: preview ≤ 4 s and ≤ 300 MB ({}); summary scales to 1,000,000 in ≤ 30 s, ≤ 1 GB",
                if t_preview <= 4.0 && peak_preview <= 300.0 {
                    "met"
                } else {
                    "NOT met"
                }
            );
        }
    }
}
