//! `qinqing preview` as a bureau runs it: the release binary, a synthetic roster
//! imported into a fresh SQLite file, then
//! 1. `preview --from 2026-01-01 --to 2026-12-31 --format json > file` (streamed a
//!    week of remind days at a time), and
//! 2. `preview --summary --format json` over the same year (the workload forecast),
//!
//! each timed as a whole process with its peak memory (VmHWM, sampled until it
//! exits). Sizes: `QINQING_BENCH_SIZES=3000,100000` (default; from 1,000,000 the
//! preview is of a month, September). Prints figures and the targets of issue 16;
//! asserts only that the preview wrote lines.
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
        // A province's roster is previewed a month at a time (a year is 35 M lines).
        let province = n >= 1_000_000;
        let (range, range_name) = if province {
            (["--from", "2026-09-01", "--to", "2026-09-30"], "1 month")
        } else {
            (year, "1 year ")
        };
        let (t_preview, peak_preview) = timed(
            &db,
            &[&["preview"][..], &range, &["--format", "json"]].concat(),
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
        let side_by_side = (n <= peer_max()).then(|| peer(&db, &roster, &staff_file, dir.path()));
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{n} persons ({staff} staff), SQLite, release binary:");
        let _ = writeln!(o, "  import                      {t_import:>7.2} s");
        let _ = writeln!(
            o,
            "  preview {range_name}, JSON lines {t_preview:>7.2} s  peak {peak_preview:>6.0} MiB  {} stages  ({:.0} stages/s)",
            common::with_commas(lines as u64),
            lines as f64 / t_preview
        );
        let _ = writeln!(
            o,
            "  preview --summary, 1 year   {t_summary:>7.2} s  peak {peak_summary:>6.0} MiB"
        );
        match side_by_side {
            Some(Some(p)) => {
                let ratio = p.python / p.qinqing;
                let _ = writeln!(
                    o,
                    "  six rules, whole process: qinqing {:.2} s ({} stages), Python peer {:.2} s ({} stages{}, {:.1} ms per person-year): {ratio:.0}× (target ≥ 100×: {})",
                    p.qinqing,
                    common::with_commas(p.qinqing_lines as u64),
                    p.python,
                    common::with_commas(p.python_lines as u64),
                    if p.same { ", the same" } else { ", DIFFERENT" },
                    p.python * 1000.0 / n as f64,
                    if ratio >= 100.0 { "met" } else { "NOT met" }
                );
                if !p.same {
                    let _ = writeln!(
                        o,
                        "  note: the peer's stages differ from qinqing's; the ratio compares unequal work"
                    );
                }
            }
            Some(None) => {
                let _ = writeln!(
                    o,
                    "  Python peer skipped: python3 with sxtwl and chinese_calendar not found (pip install -r benches/peer/requirements.txt)"
                );
            }
            None => {}
        }
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        // MB as the issue writes them: 10^6 bytes.
        let mb = |mib: f64| mib * 1.048_576;
        if n == 100_000 {
            let _ = writeln!(
                o,
                "  target: preview ≤ 4 s and ≤ 300 MB: {}",
                met(t_preview <= 4.0 && mb(peak_preview) <= 300.0)
            );
        }
        if province {
            let _ = writeln!(
                o,
                "  targets: preview 1 month ≤ 20 s and ≤ 1 GB: {}; summary 1 year ≤ 30 s and ≤ 1 GB: {}",
                met(t_preview <= 20.0 && mb(peak_preview) <= 1000.0),
                met(t_summary <= 30.0 && mb(peak_summary) <= 1000.0)
            );
        }
    }
}

/// The largest roster the Python peer runs on (`QINQING_BENCH_PEER_MAX`, default 3,000:
/// the peer takes about 12 ms per person-year).
fn peer_max() -> usize {
    std::env::var("QINQING_BENCH_PEER_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

/// The six rules the peer implements, as shipped.
const SIX_RULES: [&str; 6] = [
    "festival-visit",
    "birthday-milestone",
    "monthly-call",
    "document-delivery",
    "hospital-visit",
    "condolence",
];

struct SideBySide {
    qinqing: f64,
    qinqing_lines: usize,
    python: f64,
    python_lines: usize,
    /// The same lines in the same order, but for the fields the peer does not write
    /// (`level`, `reference`).
    same: bool,
}

/// A JSON line without `level` and `reference`.
fn comparable(line: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    if let Some(o) = v.as_object_mut() {
        o.remove("level");
        o.remove("reference");
    }
    v
}

/// The whole `qinqing preview` process with the six shipped rules beside
/// `benches/peer/preview.py` on the same roster and year, one after the other in this
/// run. `None` when python3 with sxtwl and chinese_calendar is not there.
fn peer(db: &str, roster: &Path, staff: &Path, dir: &Path) -> Option<SideBySide> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = here.join("benches/peer/preview.py");
    let ok = Command::new("python3")
        .args(["-c", "import sxtwl, chinese_calendar"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    let rules = dir.join("six-rules");
    std::fs::create_dir_all(&rules).unwrap();
    for id in SIX_RULES {
        let file = format!("{id}.rhai");
        std::fs::copy(here.join("rules").join(&file), rules.join(&file)).unwrap();
    }
    let config = dir.join("six-rules.toml");
    std::fs::write(
        &config,
        format!("[rules]\npath = {:?}\n", rules.display().to_string()),
    )
    .unwrap();
    let out = dir.join("six.jsonl");
    let (qinqing, _) = timed(
        db,
        &[
            "--config",
            config.to_str().unwrap(),
            "preview",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--format",
            "json",
        ],
        &out,
    );
    let ours = std::fs::read_to_string(&out).unwrap();
    let peer_out = dir.join("peer.jsonl");
    let t0 = Instant::now();
    let st = Command::new("python3")
        .arg(&script)
        .arg(roster)
        .arg(staff)
        .args(["2026-01-01", "2026-12-31"])
        .stdout(std::fs::File::create(&peer_out).unwrap())
        .status()
        .unwrap();
    let python = t0.elapsed().as_secs_f64();
    assert!(st.success(), "{} failed: {st}", script.display());
    let theirs = std::fs::read_to_string(&peer_out).unwrap();
    let same = ours.lines().count() == theirs.lines().count()
        && ours
            .lines()
            .zip(theirs.lines())
            .all(|(a, b)| comparable(a) == comparable(b));
    Some(SideBySide {
        qinqing,
        qinqing_lines: ours.lines().count(),
        python,
        python_lines: theirs.lines().count(),
        same,
    })
}
