//! `preview` through the binary, on every backend: the public acceptance sample stage
//! for stage, idempotence, filters, output formats, and contacts closing occasions.

use std::collections::BTreeMap;

use unicode_width::UnicodeWidthStr;

use crate::support::{TestDb, backends, fixture, import, preview, qinqing, seven};

const DOC1: &[&str] = &[
    "doc",
    "add",
    "--title",
    "关于做好2026年离退休干部春节慰问工作的通知",
    "--issued",
    "2026-01-12",
    "--deadline",
    "2026-02-06",
    "--audience",
    "离休,退休",
    "--min-rank",
    "县处级",
];

const DOC2: &[&str] = &[
    "doc",
    "add",
    "--title",
    "市委关于学习贯彻全会精神的通报",
    "--issued",
    "2026-07-10",
    "--deadline",
    "2026-07-31",
    "--audience",
    "离休",
];

/// The acceptance sample's set-up, exactly as its README gives it.
pub(crate) fn acceptance_setup(db: &TestDb) {
    import(db, &fixture("roster.xlsx"), &[]).ok();
    qinqing(db).args(DOC1).run().ok();
    qinqing(db).args(DOC2).run().ok();
}

fn multiset<'a>(lines: impl IntoIterator<Item = &'a serde_json::Value>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(seven(l)).or_insert(0) += 1;
    }
    m
}

/// The public acceptance sample: on the seven fields, the preview equals the expected
/// file as a multiset — none missing, none extra, none twice.
#[test]
fn acceptance_sample_matches() {
    let text = std::fs::read_to_string(fixture("expected-preview-2026.jsonl")).unwrap();
    let expected: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(expected.len(), 1349);
    let want = multiset(&expected);
    for db in backends() {
        acceptance_setup(&db);
        let got_lines = preview(&db, "2026-01-01", "2026-12-20", &[]);
        let got = multiset(&got_lines);
        let missing: Vec<_> = want
            .iter()
            .filter(|(k, n)| got.get(*k).copied().unwrap_or(0) < **n)
            .map(|(k, _)| k.as_str())
            .collect();
        let extra: Vec<_> = got
            .iter()
            .filter(|(k, n)| want.get(*k).copied().unwrap_or(0) < **n)
            .map(|(k, _)| k.as_str())
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "[{}] {} missing, {} extra (remind_on|occasion_on|rule|person|recipient|stage|lead_days)\n\
             missing (first 30):\n  {}\nextra (first 30):\n  {}",
            db.name(),
            missing.len(),
            extra.len(),
            missing
                .iter()
                .take(30)
                .copied()
                .collect::<Vec<_>>()
                .join("\n  "),
            extra
                .iter()
                .take(30)
                .copied()
                .collect::<Vec<_>>()
                .join("\n  "),
        );
        assert_eq!(got_lines.len(), expected.len(), "[{}]", db.name());
    }
}

/// Preview stores nothing: twice gives the same output; filters and formats agree.
#[test]
fn preview_is_idempotent_and_filters_work() {
    for db in backends() {
        acceptance_setup(&db);
        let run = |extra: &[&str]| {
            qinqing(&db)
                .args(["preview", "--from", "2026-01-01", "--to", "2026-06-30"])
                .args(extra)
                .run()
                .ok()
        };
        let a = run(&["--format", "json"]);
        let b = run(&["--format", "json"]);
        assert_eq!(
            a.stdout,
            b.stdout,
            "[{}] preview is not idempotent",
            db.name()
        );
        let all = a.json_lines();
        assert!(all.len() > 100, "[{}] only {} stages", db.name(), all.len());

        // --rule
        let calls = run(&["--format", "json", "--rule", "monthly-call"]).json_lines();
        assert!(!calls.is_empty());
        assert!(calls.iter().all(|s| s["rule"] == "monthly-call"));
        assert_eq!(
            calls.len(),
            all.iter().filter(|s| s["rule"] == "monthly-call").count(),
            "[{}]",
            db.name()
        );
        // --person, by 身份证号 and by 编号 (LG0005), any case.
        let id = "411102192601200417";
        let by_id = run(&["--format", "json", "--person", id]).json_lines();
        assert!(!by_id.is_empty());
        assert!(by_id.iter().all(|s| s["person"] == id));
        assert_eq!(
            by_id.len(),
            all.iter().filter(|s| s["person"] == id).count()
        );
        let by_no = run(&["--format", "json", "--person", "lg0005"]).json_lines();
        assert_eq!(by_no, by_id, "[{}]", db.name());
        // Both filters.
        let both =
            run(&["--format", "json", "--person", id, "--rule", "monthly-call"]).json_lines();
        assert_eq!(
            both.len(),
            by_id.iter().filter(|s| s["rule"] == "monthly-call").count()
        );
        assert!(!both.is_empty());
        // An unknown rule is an error, not an empty list.
        qinqing(&db)
            .args(["preview", "--from", "2026-01-01", "--to", "2026-01-31"])
            .args(["--rule", "no-such-rule"])
            .run()
            .fails();
        // --to before --from is an error.
        qinqing(&db)
            .args(["preview", "--from", "2026-02-01", "--to", "2026-01-31"])
            .run()
            .fails();

        // CSV: a header and one row per stage, same order.
        let csv = run(&["--format", "csv"]);
        let lines: Vec<&str> = csv.stdout.lines().collect();
        assert!(
            lines[0].starts_with("remind_on,occasion_on,rule,person,recipient,stage,lead_days"),
            "{}",
            lines[0]
        );
        assert_eq!(lines.len() - 1, all.len(), "[{}]", db.name());
        for (line, s) in lines[1..].iter().zip(&all) {
            let prefix = format!(
                "{},{},{},{},{},{},",
                s["remind_on"].as_str().unwrap(),
                s["occasion_on"].as_str().unwrap(),
                s["rule"].as_str().unwrap(),
                s["person"].as_str().unwrap(),
                s["recipient"].as_str().unwrap(),
                s["stage"].as_str().unwrap(),
            );
            assert!(line.starts_with(&prefix), "{line} vs {prefix}");
        }

        // Table: every line lines up up to the last column (事项).
        let table = run(&["--format", "table"]);
        let mut lines: Vec<&str> = table.stdout.lines().collect();
        assert!(lines[0].contains("提醒日"), "{}", lines[0]);
        let footer = lines.pop().unwrap();
        assert!(
            footer.contains(&all.len().to_string()),
            "footer {footer} lacks {}",
            all.len()
        );
        assert_eq!(lines.len() - 1, all.len());
        let widths: Vec<usize> = lines
            .iter()
            .map(|l| {
                let cut = l.rfind("  ").expect("two spaces before the last column") + 2;
                UnicodeWidthStr::width(&l[..cut])
            })
            .collect();
        assert!(
            widths.iter().all(|w| *w == widths[0]),
            "[{}] table columns do not line up: widths {:?}",
            db.name(),
            widths.iter().collect::<std::collections::BTreeSet<_>>()
        );
        // Every column starts at the same display position on every line.
        let starts = |l: &str| -> Vec<usize> {
            let mut out = Vec::new();
            let mut prev_space = 0;
            let mut w = 0;
            for c in l.chars() {
                if c == ' ' {
                    prev_space += 1;
                } else {
                    if prev_space >= 2 || (w == 0 && out.is_empty()) {
                        out.push(w);
                    }
                    prev_space = 0;
                }
                w += UnicodeWidthStr::width(c.to_string().as_str());
            }
            out
        };
        let header_starts = starts(lines[0]);
        assert_eq!(header_starts.len(), 8, "{}", lines[0]);
        for l in &lines[1..] {
            let s = starts(l);
            assert!(
                header_starts.iter().all(|h| s.contains(h)),
                "[{}] misaligned line:\n{}\n{}",
                db.name(),
                lines[0],
                l
            );
        }
    }
}

/// A logged call in March satisfies that person's March monthly call (no
/// escalation), but not February's.
#[test]
fn logged_call_closes_the_month() {
    let person = "411102192601200417"; // LG0005, 联系人 S004 (上级 S002)
    for db in backends() {
        acceptance_setup(&db);
        let month = |stages: &[serde_json::Value], m: &str, stage: &str| {
            stages
                .iter()
                .filter(|s| {
                    s["occasion_on"].as_str().unwrap().starts_with(m) && s["stage"] == stage
                })
                .count()
        };
        let args = ["--person", person, "--rule", "monthly-call"];
        let before = preview(&db, "2026-01-01", "2026-04-30", &args);
        assert_eq!(month(&before, "2026-02", "escalate"), 1, "[{}]", db.name());
        assert_eq!(month(&before, "2026-03", "escalate"), 1, "[{}]", db.name());
        assert_eq!(month(&before, "2026-03", "remind"), 1, "[{}]", db.name());
        assert!(
            before
                .iter()
                .filter(|s| s["stage"] == "escalate")
                .all(|s| s["recipient"] == "S002")
        );

        qinqing(&db)
            .args(["contact", "add", "--person", person, "--staff", "S004"])
            .args(["--kind", "call", "--on", "2026-03-03"])
            .now("2026-03-03T18:00:00+08:00")
            .run()
            .ok();
        let after = preview(&db, "2026-01-01", "2026-04-30", &args);
        assert_eq!(month(&after, "2026-03", "escalate"), 0, "[{}]", db.name());
        assert_eq!(month(&after, "2026-02", "escalate"), 1, "[{}]", db.name());
        assert_eq!(month(&after, "2026-04", "escalate"), 1, "[{}]", db.name());
        // The March reminder went out before the call (2026-03-02) and stays.
        assert_eq!(month(&after, "2026-03", "remind"), 1, "[{}]", db.name());
        assert_eq!(after.len(), before.len() - 1, "[{}]", db.name());

        // Other persons are untouched.
        let everyone = preview(&db, "2026-03-01", "2026-03-31", &["--rule", "monthly-call"]);
        assert!(
            everyone
                .iter()
                .any(|s| s["stage"] == "escalate" && s["person"] != person),
            "[{}]",
            db.name()
        );
    }
}

#[test]
fn doc_list_shows_registered_documents() {
    for db in backends() {
        acceptance_setup(&db);
        let table = qinqing(&db).args(["doc", "list"]).run().ok();
        assert!(
            table
                .stdout
                .contains("关于做好2026年离退休干部春节慰问工作的通知")
        );
        assert!(table.stdout.contains("市委关于学习贯彻全会精神的通报"));
        assert!(table.stdout.contains("2026-02-06"));
        assert!(table.stdout.contains("县处级"));
        let docs = qinqing(&db)
            .args(["doc", "list", "--format", "json"])
            .run()
            .ok()
            .json_lines();
        assert_eq!(docs.len(), 2, "[{}]", db.name());
        assert_eq!(
            docs[0]["title"],
            "关于做好2026年离退休干部春节慰问工作的通知"
        );
        assert_eq!(docs[0]["deadline"], "2026-02-06");
        assert_eq!(docs[1]["issued_on"], "2026-07-10");
        assert_eq!(docs[1]["audience"].as_array().map(Vec::len), Some(1));

        // A bad audience or a deadline before the issue date is refused.
        qinqing(&db)
            .args(["doc", "add", "--title", "x", "--issued", "2026-03-01"])
            .args(["--deadline", "2026-03-05", "--audience", "在职"])
            .run()
            .fails();
        qinqing(&db)
            .args(["doc", "add", "--title", "x", "--issued", "2026-03-10"])
            .args(["--deadline", "2026-03-05", "--audience", "离休"])
            .run()
            .fails();
        let docs = qinqing(&db)
            .args(["doc", "list", "--format", "json"])
            .run()
            .ok()
            .json_lines();
        assert_eq!(docs.len(), 2, "[{}]", db.name());
    }
}
