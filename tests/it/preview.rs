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

/// The summary's rows as a map, from `preview --summary --format json`.
type Counts = BTreeMap<(String, String, String), (u64, u64)>;

fn summary_rows(v: &serde_json::Value) -> Counts {
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                (
                    r["period"].as_str().unwrap().to_string(),
                    r["staff"].as_str().unwrap().to_string(),
                    r["rule"].as_str().unwrap().to_string(),
                ),
                (
                    r["occasions"].as_u64().unwrap(),
                    r["reminders"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// `preview --summary`: per month (or ISO week), staff member and rule, the
/// occasions falling due (by occasion day, once per recipient) and the reminders
/// received (by remind day), counted here independently from the plain preview's
/// stages; weeks with more visits than `limits.max_visits_per_week` are flagged;
/// csv and xlsx carry the same rows.
#[test]
fn summary_counts_what_the_preview_lists() {
    use chrono::Datelike;
    for db in backends() {
        acceptance_setup(&db);
        let (from, to) = ("2026-09-01", "2026-12-31");
        let day = |v: &serde_json::Value, k: &str| {
            chrono::NaiveDate::parse_from_str(v[k].as_str().unwrap(), "%Y-%m-%d").unwrap()
        };
        let (lo, hi) = (
            chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        );
        // Stages from two months earlier: an occasion in range reminded before it.
        let stages = preview(&db, "2026-07-01", to, &[]);
        let week =
            |d: chrono::NaiveDate| format!("{}-W{:02}", d.iso_week().year(), d.iso_week().week());
        let oracle = |period: &dyn Fn(chrono::NaiveDate) -> String| {
            let mut want = Counts::new();
            let mut seen = std::collections::BTreeSet::new();
            let mut visits: BTreeMap<(String, String), u64> = BTreeMap::new();
            for s in &stages {
                let staff = s["recipient"].as_str().unwrap().to_string();
                let rule = s["rule"].as_str().unwrap().to_string();
                let (remind, occasion) = (day(s, "remind_on"), day(s, "occasion_on"));
                if (lo..=hi).contains(&remind) {
                    want.entry((period(remind), staff.clone(), rule.clone()))
                        .or_default()
                        .1 += 1;
                }
                if s["stage"] == "remind"
                    && (lo..=hi).contains(&occasion)
                    && seen.insert((s["reference"].to_string(), staff.clone()))
                {
                    want.entry((period(occasion), staff.clone(), rule))
                        .or_default()
                        .0 += 1;
                    if s["kind"] == "visit" {
                        *visits.entry((week(occasion), staff)).or_default() += 1;
                    }
                }
            }
            (want, visits)
        };

        let monthly = qinqing(&db)
            .args([
                "preview",
                "--from",
                from,
                "--to",
                to,
                "--summary",
                "--format",
                "json",
            ])
            .run()
            .ok()
            .json();
        let (want, visits) = oracle(&|d| d.format("%Y-%m").to_string());
        assert!(want.len() > 5, "[{}] {want:?}", db.name());
        assert_eq!(summary_rows(&monthly), want, "[{}]", db.name());
        assert!(
            want.keys()
                .any(|(p, _, r)| p == "2026-10" && r == "monthly-call"),
            "{want:?}"
        );
        // The sample's weeks stay under the default 15 visits.
        assert!(visits.values().all(|&n| n <= 15), "{visits:?}");
        assert_eq!(
            monthly["over_limit"],
            serde_json::json!([]),
            "[{}]",
            db.name()
        );

        // By ISO week, with a limit of 1 visit: every week holding 2 or more is flagged.
        let config = db.path("limits.toml");
        std::fs::write(&config, "[limits]\nmax_visits_per_week = 1\n").unwrap();
        let weekly = qinqing(&db)
            .arg("--config")
            .arg(&config)
            .args([
                "preview",
                "--from",
                from,
                "--to",
                to,
                "--summary",
                "--by",
                "week",
                "--format",
                "json",
            ])
            .run()
            .ok()
            .json();
        let (want, visits) = oracle(&week);
        assert_eq!(summary_rows(&weekly), want, "[{}]", db.name());
        assert!(
            want.keys()
                .all(|(p, _, _)| p.len() == 8 && p.contains("-W")),
            "{want:?}"
        );
        let flagged: BTreeMap<(String, String), u64> = weekly["over_limit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    (
                        o["period"].as_str().unwrap().to_string(),
                        o["staff"].as_str().unwrap().to_string(),
                    ),
                    o["visits"].as_u64().unwrap(),
                )
            })
            .collect();
        let over: BTreeMap<_, _> = visits.into_iter().filter(|(_, n)| *n > 1).collect();
        assert!(
            !over.is_empty(),
            "[{}] the sample has a week of 2+ visits",
            db.name()
        );
        assert_eq!(flagged, over, "[{}]", db.name());

        // CSV: the same rows; xlsx: a workbook, written with --output.
        let csv = qinqing(&db)
            .args([
                "preview",
                "--from",
                from,
                "--to",
                to,
                "--summary",
                "--format",
                "csv",
            ])
            .run()
            .ok()
            .stdout;
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("period,staff,rule,occasions,reminders"));
        assert_eq!(lines.count(), summary_rows(&monthly).len());
        let xlsx = db.path("workload.xlsx");
        qinqing(&db)
            .args([
                "preview",
                "--from",
                from,
                "--to",
                to,
                "--summary",
                "--format",
                "xlsx",
                "--output",
            ])
            .arg(&xlsx)
            .run()
            .ok();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
        let sheet = wb.worksheet_range("工作量").unwrap();
        assert_eq!(sheet.height(), 1 + summary_rows(&monthly).len());
        // xlsx without --output, and --output without --summary, are refused.
        qinqing(&db)
            .args([
                "preview",
                "--from",
                from,
                "--to",
                to,
                "--summary",
                "--format",
                "xlsx",
            ])
            .run()
            .fails();
    }
}

/// The streamed preview (whole remind days, a batch at a time) gives the same stages
/// in the same order as the whole one, the test oracle kept for this: over a
/// year, a festival fortnight and a single day, for everyone, one person and one
/// rule, on the acceptance sample with a logged call closing an occasion.
#[test]
fn the_streamed_preview_equals_the_whole_one() {
    use qinqing::calendar::WorkCalendar;
    use qinqing::planner::Reminder;
    use qinqing::rules::RuleSet;
    use qinqing::service::preview::{Persons, STREAM_STAGES, stages, stream_stages};
    use qinqing::store::Store;
    use std::sync::{Arc, Mutex};
    for db in backends() {
        acceptance_setup(&db);
        qinqing(&db)
            .args([
                "contact",
                "add",
                "--person",
                "411102192601200417",
                "--staff",
                "S004",
            ])
            .args(["--kind", "call", "--on", "2026-03-03"])
            .now("2026-03-03T18:00:00+08:00")
            .run()
            .ok();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::connect(db.url()).await.unwrap();
            let rules = Arc::new(RuleSet::builtin(WorkCalendar::builtin()));
            let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            let line = |r: &Reminder| {
                format!(
                    "{} {} {} {} {} {:?} {}",
                    r.remind_on, r.recipient, r.occasion_on, r.rule, r.person, r.lead_days, r.key
                )
            };
            let some_person = {
                let (all, _) = stages(
                    &store,
                    rules.clone(),
                    d("2026-01-01"),
                    d("2026-12-31"),
                    Persons::All,
                    |s| s.remind_on,
                )
                .await
                .unwrap();
                all[all.len() / 2].person.to_string()
            };
            for (from, to) in [
                ("2026-01-01", "2026-12-31"),
                ("2026-02-08", "2026-02-22"),
                ("2026-09-30", "2026-09-30"),
            ] {
                for (persons, rule) in [
                    (Persons::All, None),
                    (Persons::Key(some_person.to_uppercase()), None),
                    (Persons::All, Some("festival-visit".to_string())),
                ] {
                    let (mut whole, errors) = stages(
                        &store,
                        rules.clone(),
                        d(from),
                        d(to),
                        persons.clone(),
                        |s| s.remind_on,
                    )
                    .await
                    .unwrap();
                    if let Some(r) = &rule {
                        whole.retain(|s| *s.rule == **r);
                    }
                    let got = Arc::new(Mutex::new((Vec::<Reminder>::new(), 0usize)));
                    let sink = got.clone();
                    let streamed = stream_stages(
                        &store,
                        rules.clone(),
                        d(from),
                        d(to),
                        persons,
                        rule,
                        move |b| {
                            let mut g = sink.lock().unwrap();
                            g.0.extend(b.iter().map(|s| s.to_reminder()));
                            g.1 += 1;
                            Ok(())
                        },
                    )
                    .await
                    .unwrap();
                    let (got, batches) = std::mem::take(&mut *got.lock().unwrap());
                    let lines: Vec<String> = got.iter().map(line).collect();
                    let want: Vec<String> = whole.iter().map(line).collect();
                    assert_eq!(lines, want, "[{}] {from}..{to}", db.name());
                    // Every field, not only those of the line.
                    assert!(got == whole, "[{}] {from}..{to}", db.name());
                    assert_eq!(streamed.stages as usize, want.len());
                    assert_eq!(streamed.rule_errors, errors);
                    let days = (d(to) - d(from)).num_days() + 1;
                    // Whole days, gathered up to STREAM_STAGES a batch: the sample's
                    // stages of a range fit in one.
                    assert!(want.len() < STREAM_STAGES);
                    assert_eq!(batches, 1, "{days} day(s)");
                }
            }
        });
    }
}
