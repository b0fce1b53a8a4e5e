//! The daemon end to end: the real binary (`run --once` with a fixed clock, and the
//! long-running `run`) against real peers on loopback (an SMTP server, HTTP sinks),
//! on every backend. The day is Monday 2026-06-01, the first working day of June,
//! when every person's monthly call (每月电话联系) is due.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use serde_json::Value;

use crate::daemon_support::*;
use crate::support::*;

const DAY: &str = "2026-06-01";
/// Before the send window (08:30) and inside quiet hours: plans, sends nothing.
const EARLY: &str = "2026-06-01T07:10:00+08:00";
const AT: &str = "2026-06-01T08:40:00+08:00";
/// Two hours later: past any first backoff (at most 36 s).
const LATER: &str = "2026-06-01T10:40:00+08:00";

/// "6月1日" for "2026-06-01".
fn md(date: &str) -> String {
    let d: chrono::NaiveDate = date.parse().unwrap();
    format!(
        "{}月{}日",
        chrono::Datelike::month(&d),
        chrono::Datelike::day(&d)
    )
}

/// The digest line a preview row becomes (without the number in front).
fn expected_line(row: &Value) -> String {
    let verb = match row["kind"].as_str().unwrap() {
        "call" => "电话联系",
        "deliver" => "送达",
        _ => "走访",
    };
    let todo = if row["stage"] == "escalate" {
        ",至今未确认,请督促落实".to_string()
    } else {
        format!(",请于{}前{verb}", md(row["due_on"].as_str().unwrap()))
    };
    format!(
        "{}({}){todo} 提醒编号{}",
        row["title"].as_str().unwrap(),
        md(row["occasion_on"].as_str().unwrap()),
        row["reference"].as_str().unwrap()
    )
}

fn reference(row: &Value) -> String {
    row["reference"].as_str().unwrap().to_string()
}

/// "3. 王建国 6月电话联系(6月1日),请于6月30日前电话联系 提醒编号H5QNJC", not the greeting or the closing note.
fn is_reminder_line(l: &str) -> bool {
    l.split_once(". ")
        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Asserts that `lines` hold exactly the preview rows' lines, each once.
#[track_caller]
fn assert_lines(label: &str, lines: &[String], rows: &[&Value]) {
    for row in rows {
        let want = expected_line(row);
        let n = lines.iter().filter(|l| l.ends_with(&want)).count();
        assert_eq!(n, 1, "[{label}] {want:?} once in {lines:#?}");
    }
    let refs = lines.iter().filter(|l| is_reminder_line(l)).count();
    assert_eq!(refs, rows.len(), "[{label}] reminder lines: {lines:#?}");
}

/// Six persons, monthly calls due on DAY: three for S002, three for S003.
fn due_today(s: &Setup) -> Vec<Value> {
    s.import(AT);
    let due = s.preview(DAY, DAY);
    assert_eq!(due.len(), 6, "[{}] due on {DAY}: {due:#?}", s.label());
    assert!(due.iter().all(|r| r["rule"] == "monthly-call"), "{due:#?}");
    due
}

#[test]
fn email_digest_is_one_chinese_message_per_staff_member() {
    for db in backends() {
        let srv = smtp();
        let s = Setup::new(db, &roster(6, "邮件"), "", &email(&srv));
        let due = due_today(&s);
        s.once(AT);
        let mails = srv.mails();
        assert_eq!(
            mails.len(),
            2,
            "[{}] one mail per staff member, not per reminder",
            s.label()
        );
        for staff in ["S002", "S003"] {
            let addr = format!("{}@bureau.example", staff.to_lowercase());
            let mine: Vec<&ReceivedMail> =
                mails.iter().filter(|m| m.to == [addr.clone()]).collect();
            assert_eq!(mine.len(), 1, "[{}] mails to {addr}", s.label());
            assert_eq!(mine[0].from, "qinqing@bureau.example");
            let m = MessageParser::default().parse(&mine[0].data).unwrap();
            assert_eq!(m.subject(), Some("亲情服务提醒(2026年6月1日)"));
            let body = m.body_text(0).unwrap().to_string();
            let rows = for_recipient(&due, staff);
            assert_eq!(rows.len(), 3);
            let lines: Vec<String> = body.lines().map(|l| l.trim().to_string()).collect();
            assert_lines(s.label(), &lines, &rows);
            for other in due.iter().filter(|r| r["recipient"] != staff) {
                assert!(
                    !body.contains(&reference(other)),
                    "[{}] {addr} got another's reminder: {body}",
                    s.label()
                );
            }
        }
    }
}

#[test]
fn webhook_digest_is_one_post_per_recipient_with_idempotency_key() {
    for db in backends() {
        let sink = Sink::ok();
        let s = Setup::new(db, &roster(6, "webhook"), "", &webhook(&sink.url(), ""));
        let due = due_today(&s);
        s.once(AT);
        let hits = sink.hits();
        assert_eq!(hits.len(), 2, "[{}] one POST per recipient", s.label());
        let keys: BTreeSet<&str> = hits.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys.len(), 2, "[{}] distinct keys: {keys:?}", s.label());
        for h in &hits {
            assert_eq!(h.path, "/hook");
            let v = h.json();
            assert!(!h.key.is_empty());
            assert_eq!(v["idempotency_key"], h.key.as_str());
            assert_eq!(v["kind"], "digest");
            assert_eq!(v["subject"], "亲情服务提醒(2026年6月1日)");
            let sections = v["sections"].as_array().unwrap();
            assert_eq!(sections.len(), 1, "{v:#}");
            let staff = sections[0]["staff_no"].as_str().unwrap();
            assert!(
                sections[0]["greeting"]
                    .as_str()
                    .unwrap()
                    .contains("今日亲情服务提醒3项"),
                "{v:#}"
            );
            assert_lines(s.label(), &message_lines(&v), &for_recipient(&due, staff));
        }
        let st = s.status();
        assert_eq!(deliveries(&st, "sent"), 6, "[{}] {st:#}", s.label());
    }
}

#[test]
fn http_500_then_200_is_delivered_once_after_a_retry() {
    for db in backends() {
        let sink = Sink::start(|_, before| if before == 0 { status(500) } else { ok() });
        let s = Setup::new(db, &roster(6, "webhook"), "", &webhook(&sink.url(), ""));
        due_today(&s);
        s.once(AT);
        assert_eq!(sink.count(), 2, "[{}] one attempt per digest", s.label());
        let st = s.status();
        assert_eq!(deliveries(&st, "pending"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "sent"), 0);
        assert_eq!(deliveries(&st, "failed"), 0);
        let failures = st["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 6, "{st:#}");
        for f in failures {
            assert_eq!(f["status"], "pending", "{f:#}");
            assert_eq!(f["attempts"], 1, "{f:#}");
            assert_eq!(f["channel"], "webhook");
            assert!(f["last_error"].as_str().unwrap().contains("500"), "{f:#}");
        }

        s.once(LATER);
        let per_key = sink.per_key();
        assert_eq!(per_key.len(), 2, "{per_key:?}");
        assert!(
            per_key.values().all(|n| *n == 2),
            "[{}] each digest sent twice with its key: {per_key:?}",
            s.label()
        );
        let st = s.status();
        assert_eq!(deliveries(&st, "sent"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "pending"), 0);
        assert_eq!(st["failures"].as_array().unwrap().len(), 0, "{st:#}");
        // Nothing more to send.
        s.once("2026-06-01T16:00:00+08:00");
        assert_eq!(sink.count(), 4, "[{}]", s.label());
    }
}

#[test]
fn a_hanging_server_times_out_and_is_retried_on_a_later_run() {
    for db in backends() {
        let sink = Sink::start(|_, before| if before == 0 { Reply::Hang } else { ok() });
        let s = Setup::new(
            db,
            &roster(6, "webhook"),
            "",
            &webhook(&sink.url(), "timeout_secs = 1"),
        );
        due_today(&s);
        let started = Instant::now();
        s.once(AT);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "[{}] the run waited {:?} on a hanging server",
            s.label(),
            started.elapsed()
        );
        assert_eq!(sink.count(), 2, "[{}]", s.label());
        let st = s.status();
        assert_eq!(deliveries(&st, "pending"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "failed"), 0);
        let f = &st["failures"][0];
        assert!(
            f["last_error"].as_str().unwrap().contains("timed out"),
            "{f:#}"
        );

        s.once(LATER);
        assert!(
            sink.per_key().values().all(|n| *n == 2),
            "{:?}",
            sink.per_key()
        );
        assert_eq!(deliveries(&s.status(), "sent"), 6, "[{}]", s.label());
    }
}

#[test]
fn http_429_with_retry_after_is_deferred_not_failed_nor_hammered() {
    for db in backends() {
        let sink = Sink::start(|_, before| {
            if before == 0 {
                Reply::Status(
                    429,
                    vec![("retry-after", "600".into())],
                    "{\"error\":\"slow down\"}".into(),
                )
            } else {
                ok()
            }
        });
        let s = Setup::new(db, &roster(6, "webhook"), "", &webhook(&sink.url(), ""));
        due_today(&s);
        s.once(AT);
        assert_eq!(sink.count(), 2, "[{}] one request per digest", s.label());
        let st = s.status();
        assert_eq!(deliveries(&st, "pending"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "failed"), 0, "[{}] {st:#}", s.label());

        // Five minutes later the server's ten minutes are not over.
        s.once("2026-06-01T08:45:00+08:00");
        assert_eq!(sink.count(), 2, "[{}] Retry-After: 600 ignored", s.label());
        s.once("2026-06-01T08:51:00+08:00");
        assert!(
            sink.per_key().values().all(|n| *n == 2),
            "{:?}",
            sink.per_key()
        );
        assert_eq!(deliveries(&s.status(), "sent"), 6, "[{}]", s.label());
    }
}

#[test]
fn dingtalk_send_too_fast_is_deferred() {
    for db in backends() {
        let sink = Sink::start(|_, before| {
            let code = if before == 0 { 130101 } else { 0 };
            Reply::Status(
                200,
                vec![],
                format!("{{\"errcode\":{code},\"errmsg\":\"send too fast\"}}"),
            )
        });
        let robot = format!("[channels.dingtalk]\nurl = {:?}\n", sink.url());
        let s = Setup::new(db, &roster(6, "钉钉"), "", &robot);
        due_today(&s);
        s.once(AT);
        assert_eq!(sink.count(), 1, "[{}] one group message, once", s.label());
        let st = s.status();
        assert_eq!(deliveries(&st, "pending"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "failed"), 0);

        s.once(LATER);
        assert_eq!(sink.count(), 2, "[{}]", s.label());
        let text = sink.hits()[1].json().to_string();
        for staff in ["干事乙", "干事丙"] {
            assert!(text.contains(staff), "{text}");
        }
        assert_eq!(deliveries(&s.status(), "sent"), 6, "[{}]", s.label());
    }
}

#[test]
fn a_permanent_error_moves_the_digest_to_the_next_channel() {
    for db in backends() {
        let srv = smtp();
        let sink = Sink::start(|_, _| status(400));
        let channels = format!("{}{}", webhook(&sink.url(), ""), email(&srv));
        let s = Setup::new(db, &roster(6, "webhook,邮件"), "", &channels);
        let due = due_today(&s);
        s.once(AT);
        assert_eq!(
            sink.count(),
            2,
            "[{}] a 400 is not retried on the same channel",
            s.label()
        );
        let mails = srv.mails();
        assert_eq!(mails.len(), 2, "[{}] fallback to email", s.label());
        for m in &mails {
            let staff = m.to[0].split('@').next().unwrap().to_uppercase();
            let parsed = MessageParser::default().parse(&m.data).unwrap();
            let body = parsed.body_text(0).unwrap().to_string();
            let lines: Vec<String> = body.lines().map(|l| l.trim().to_string()).collect();
            assert_lines(s.label(), &lines, &for_recipient(&due, &staff));
        }
        let st = s.status();
        // Each webhook failure was made good by email: rescued, not failed.
        assert_eq!(deliveries(&st, "failed"), 0, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "rescued"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "delivered"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "sent"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "pending"), 0);
        assert_eq!(reminders(&st, "sent"), 6, "{st:#}");
        let failures = st["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 6, "{st:#}");
        for f in failures {
            assert_eq!(f["channel"], "webhook", "{f:#}");
            assert_eq!(f["status"], "failed", "{f:#}");
            assert!(f["last_error"].as_str().unwrap().contains("400"), "{f:#}");
        }
    }
}

#[test]
fn running_once_twice_on_the_same_day_sends_nothing_more() {
    for db in backends() {
        let sink = Sink::ok();
        let s = Setup::new(db, &roster(6, "webhook"), "", &webhook(&sink.url(), ""));
        due_today(&s);
        s.once(AT);
        assert_eq!(sink.count(), 2, "[{}]", s.label());
        s.once(AT);
        s.once("2026-06-01T15:00:00+08:00");
        assert_eq!(sink.count(), 2, "[{}] sent again", s.label());
        let st = s.status();
        assert_eq!(deliveries(&st, "sent"), 6, "[{}] {st:#}", s.label());
        assert_eq!(reminders(&st, "sent"), 6, "{st:#}");
    }
}

/// How long each send takes at the slow sink, and the dispatcher's parallelism
/// ceiling the test allows duplicates for.
const SLOW: Duration = Duration::from_millis(20);
const MAX_IN_FLIGHT: usize = 32;

#[test]
fn sigkill_mid_dispatch_resends_only_what_was_in_flight() {
    for db in backends() {
        let sink = Sink::start(|_, _| Reply::After(SLOW));
        let s = Setup::new(
            db,
            &big_roster(1000),
            "digest = false",
            &webhook(&sink.url(), ""),
        );
        s.import(AT);
        let due = s.preview(DAY, DAY);
        assert_eq!(due.len(), 1000, "[{}]", s.label());
        let mut child = s
            .cmd(AT)
            .args(["run", "--once", "--now", AT])
            .spawn(&s.path("first.log"));
        wait_for("100 requests at the sink", 60, || {
            (sink.count() >= 100).then_some(())
        });
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let at_kill = sink.count();
        assert!(
            at_kill < 1000,
            "[{}] everything was sent before the kill",
            s.label()
        );

        // PostgreSQL keeps another daemon's claims for their lease (180 s); SQLite has
        // one owner and releases them at start.
        let restart = match s.db.backend {
            Backend::Sqlite => AT,
            Backend::Postgres => "2026-06-01T08:46:00+08:00",
        };
        // Requests the killed process had already written can still land after the
        // kill: only those in flight, so at most MAX_IN_FLIGHT of them.
        let before_restart = sink.count();
        assert!(
            before_restart - at_kill <= MAX_IN_FLIGHT,
            "[{}] {} requests landed after the kill",
            s.label(),
            before_restart - at_kill
        );
        s.once(restart);

        let hits = sink.hits();
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, h) in hits.iter().enumerate() {
            first.entry(h.key.as_str()).or_insert(i);
            *copies.entry(h.key.as_str()).or_insert(0) += 1;
        }
        assert_eq!(first.len(), 1000, "[{}] distinct messages", s.label());
        let got: BTreeSet<String> = hits
            .iter()
            .flat_map(|h| message_lines(&h.json()))
            .filter(|l| is_reminder_line(l))
            .filter_map(|l| l.rsplit(" 提醒编号").next().map(String::from))
            .collect();
        let want: BTreeSet<String> = due.iter().map(reference).collect();
        let lost: Vec<&String> = want.difference(&got).collect();
        assert!(lost.is_empty(), "[{}] never delivered: {lost:?}", s.label());
        assert_eq!(
            got.len(),
            want.len(),
            "[{}] unexpected references",
            s.label()
        );
        let dups: Vec<(&str, usize)> = copies
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| (*k, *n))
            .collect();
        for (k, n) in &dups {
            assert_eq!(*n, 2, "[{}] {k} sent {n} times", s.label());
            assert!(
                first[k] < before_restart,
                "[{}] {k} duplicated but first sent by the restarted daemon",
                s.label()
            );
            let bodies: BTreeSet<&[u8]> = hits
                .iter()
                .filter(|h| h.key == *k)
                .map(|h| h.body.as_ref())
                .collect();
            assert_eq!(
                bodies.len(),
                1,
                "[{}] a resend is the same message",
                s.label()
            );
        }
        assert!(
            dups.len() <= MAX_IN_FLIGHT,
            "[{}] {} duplicates (requests before the kill: {at_kill}); only those in flight may repeat",
            s.label(),
            dups.len()
        );
        let st = s.status();
        assert_eq!(deliveries(&st, "sent"), 1000, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "pending") + deliveries(&st, "sending"), 0);
    }
}

#[test]
fn after_three_days_down_missed_reminders_go_out_once_marked_late() {
    for db in backends() {
        // Plus 钱学礼, 80 on Friday 2026-06-05: reminded on 05-29 (7 days before),
        // which is more than catch_up_days = 2 before the restart on 06-03.
        let mut r = roster(3, "");
        let birth = ymd(1946, 6, 5);
        r.persons.push(BTreeMap::from([
            ("编号", t("T0100")),
            ("姓名", t("钱学礼")),
            ("身份证号", t(id_number("370102", birth, 301))),
            ("出生日期", t("1946-06-05")),
            ("类别", t("退休")),
            ("职级", t("科级")),
            ("独居", t("否")),
            ("联系人", t("S002")),
        ]));
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &r, "catch_up_days = 2", &console(&out));
        s.once("2026-05-28T08:40:00+08:00");
        let before = console_lines(&out).len();

        let missed = s.preview("2026-05-29", "2026-05-31");
        assert!(
            missed
                .iter()
                .any(|m| m["rule"] == "birthday-milestone" && m["lead_days"] == 7),
            "[{}] {missed:#?}",
            s.label()
        );
        let late = s.preview("2026-06-01", "2026-06-02");
        assert!(!late.is_empty());
        let today = s.preview("2026-06-03", "2026-06-03");

        s.once("2026-06-03T08:40:00+08:00");
        let sent = console_lines(&out);
        let lines: Vec<String> = sent[before..].iter().flat_map(message_lines).collect();
        for row in &late {
            let want = format!(
                "〔迟发:原定{}提醒〕 提醒编号{}",
                md(row["remind_on"].as_str().unwrap()),
                reference(row)
            );
            let n = lines.iter().filter(|l| l.ends_with(&want)).count();
            assert_eq!(n, 1, "[{}] {want} once in {lines:#?}", s.label());
        }
        for row in &today {
            assert!(
                lines.iter().any(|l| l.ends_with(&expected_line(row))),
                "[{}] {row} in {lines:#?}",
                s.label()
            );
        }
        for row in &missed {
            assert!(
                !lines.iter().any(|l| l.contains(&reference(row))),
                "[{}] older than catch_up_days but sent: {row}",
                s.label()
            );
        }
        let st = s.status();
        assert_eq!(
            reminders(&st, "missed"),
            missed.len() as i64,
            "[{}] {st:#}",
            s.label()
        );
        assert_eq!(st["last_tick"], "2026-06-03");

        s.once("2026-06-03T11:00:00+08:00");
        assert_eq!(
            console_lines(&out).len(),
            sent.len(),
            "[{}] late reminders sent again",
            s.label()
        );
    }
}

#[test]
fn acknowledged_or_satisfied_before_sending_is_not_sent() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        let due = due_today(&s);
        s.once(EARLY);
        assert!(
            console_lines(&out).is_empty(),
            "[{}] sent before send_at",
            s.label()
        );
        let st = s.status();
        assert_eq!(reminders(&st, "planned"), 6, "[{}] {st:#}", s.label());

        // 王建国 (T0001, S002) acknowledged; 李秀英 (T0002, S003) called.
        let acked = due
            .iter()
            .find(|r| r["title"].as_str().unwrap().starts_with("王建国"))
            .unwrap();
        let called = due
            .iter()
            .find(|r| r["title"].as_str().unwrap().starts_with("李秀英"))
            .unwrap();
        let o = s
            .cmd("2026-06-01T07:20:00+08:00")
            .args(["ack", &reference(acked).to_lowercase()])
            .run()
            .ok();
        assert!(
            o.stdout.contains("1 pending reminder(s) cancelled"),
            "{o:?}"
        );
        s.cmd("2026-06-01T07:25:00+08:00")
            .args([
                "contact", "add", "--person", "T0002", "--staff", "S003", "--kind", "call",
            ])
            .run()
            .ok();

        s.once(AT);
        let sent = console_lines(&out);
        assert_eq!(sent.len(), 2, "[{}] {sent:#?}", s.label());
        let lines: Vec<String> = sent.iter().flat_map(message_lines).collect();
        let rest: Vec<&Value> = due
            .iter()
            .filter(|r| {
                r["reference"] != acked["reference"] && r["reference"] != called["reference"]
            })
            .collect();
        assert_lines(s.label(), &lines, &rest);
        let st = s.status();
        assert_eq!(reminders(&st, "cancelled"), 2, "[{}] {st:#}", s.label());
        assert_eq!(reminders(&st, "sent"), 4, "[{}] {st:#}", s.label());
    }
}

#[test]
fn a_death_cancels_pending_reminders_and_sends_the_condolence() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let mut r = roster(6, "");
        let s = Setup::new(db, &r, "", &console(&out));
        let due = due_today(&s);
        s.once(EARLY);
        assert_eq!(reminders(&s.status(), "planned"), 6, "[{}]", s.label());

        r.persons.set(0, "去世日期", X::Date(ymd(2026, 6, 1)));
        s.rewrite_roster(&r);
        s.once(AT);

        let sent = console_lines(&out);
        let lines: Vec<String> = sent.iter().flat_map(message_lines).collect();
        let about: Vec<&String> = lines.iter().filter(|l| l.contains("王建国")).collect();
        assert_eq!(about.len(), 1, "[{}] {lines:#?}", s.label());
        assert!(
            about[0].contains("【紧急】王建国 吊唁(6月2日)"),
            "[{}] {}",
            s.label(),
            about[0]
        );
        let rest: Vec<&Value> = due
            .iter()
            .filter(|r| !r["title"].as_str().unwrap().starts_with("王建国"))
            .collect();
        for row in &rest {
            assert!(
                lines.iter().any(|l| l.ends_with(&expected_line(row))),
                "[{}] {row} in {lines:#?}",
                s.label()
            );
        }
        let to_s002 = sent
            .iter()
            .find(|m| m["sections"][0]["staff_no"] == "S002")
            .unwrap();
        assert!(
            to_s002["subject"].as_str().unwrap().starts_with("【紧急】"),
            "{to_s002}"
        );
        let st = s.status();
        assert_eq!(reminders(&st, "cancelled"), 1, "[{}] {st:#}", s.label());
        assert_eq!(
            reminders(&st, "sent"),
            6,
            "[{}] 5 calls and the condolence: {st:#}",
            s.label()
        );
    }
}

/// The sum of a metric's samples, optionally those with one label value.
fn metric(scrape: &prometheus_parse::Scrape, name: &str, label: Option<(&str, &str)>) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|m| m.metric == name)
        .filter(|m| label.is_none_or(|(k, v)| m.labels.get(k) == Some(v)))
        .map(|m| match m.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// `GET path` on 127.0.0.1:port: (status, body), or None when nothing answers.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

#[test]
fn the_daemon_serves_health_delivers_and_stops_on_sigterm() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let port = free_port();
        let channels = format!("[http]\nlisten = \"127.0.0.1:{port}\"\n\n{}", console(&out));
        let s = Setup::new(
            db,
            &roster(6, ""),
            "dispatch_every_secs = 1\nwatch_every_secs = 1\nshutdown_grace_secs = 5",
            &channels,
        );
        let due = due_today(&s);
        let log = s.path("daemon.log");
        let mut child = s
            .cmd(AT)
            .env("QINQING_LOG", "info")
            .args(["run", "--now", AT])
            .spawn(&log);
        let (code, body) = wait_for("GET /healthz", 30, || {
            if let Ok(Some(st)) = child.try_wait() {
                panic!(
                    "daemon exited early with {st}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            http_get(port, "/healthz")
        });
        assert_eq!(code, 200, "[{}] {body}", s.label());
        let sent = wait_for("today's digests in the console file", 30, || {
            let v = console_lines(&out);
            (v.len() >= 2).then_some(v)
        });
        let lines: Vec<String> = sent.iter().flat_map(message_lines).collect();
        let all: Vec<&Value> = due.iter().collect();
        assert_lines(s.label(), &lines, &all);
        let (_, body) = http_get(port, "/healthz").expect("health after the tick");
        let health: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["last_tick"], "2026-06-01", "[{}] {body}", s.label());
        assert_eq!(health["status"], "ok", "[{}] {body}", s.label());
        assert!(
            health["rules"]["reloaded_at"].is_string(),
            "[{}] {body}",
            s.label()
        );
        // /metrics parses as Prometheus text, and the counters moved (the console
        // line is written before the send is recorded, so wait for the count).
        let (text, scrape) = wait_for("the sends counted in /metrics", 30, || {
            let (code, text) = http_get(port, "/metrics")?;
            assert_eq!(code, 200, "[{}] {text}", s.label());
            let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
                .unwrap_or_else(|e| panic!("[{}] not Prometheus text: {e}\n{text}", s.label()));
            (metric(
                &scrape,
                "qinqing_deliveries_total",
                Some(("status", "sent")),
            ) >= 6.0)
                .then_some((text, scrape))
        });
        let value = |name: &str, label: Option<(&str, &str)>| metric(&scrape, name, label);
        assert!(
            value(
                "qinqing_reminders_planned_total",
                Some(("rule", "monthly-call"))
            ) >= 6.0,
            "[{}] {text}",
            s.label()
        );
        assert_eq!(
            value("qinqing_roster_persons", Some(("state", "active"))),
            6.0,
            "{text}"
        );
        assert!(
            value("qinqing_last_tick_timestamp_seconds", None) > 1.7e9,
            "{text}"
        );
        assert!(
            scrape
                .samples
                .iter()
                .any(|m| m.metric.starts_with("qinqing_delivery_duration_seconds")),
            "[{}] {text}",
            s.label()
        );
        assert_eq!(value("qinqing_build_info", None), 1.0, "{text}");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the daemon must keep running"
        );
        // SIGHUP (systemd's ExecReload) re-reads and keeps running.
        let hup = std::process::Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        wait_for("the reload after SIGHUP", 30, || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            (text.contains("SIGHUP: re-reading") && text.contains("rules reloaded")).then_some(())
        });
        assert!(
            child.try_wait().unwrap().is_none(),
            "[{}] SIGHUP must not stop the daemon",
            s.label()
        );

        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let status = wait_for("exit after SIGTERM", 30, || child.try_wait().unwrap());
        assert_eq!(
            status.code(),
            Some(0),
            "[{}] {}",
            s.label(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert_eq!(console_lines(&out).len(), 2, "[{}] sent twice", s.label());
    }
}

#[test]
fn status_json_reports_last_tick_and_deliveries_by_status() {
    for db in backends() {
        let sink = Sink::start(|h, before| {
            // S002's digest fails for good, S003's is delivered.
            let to_s002 = h.json()["sections"][0]["staff_no"] == "S002";
            if to_s002 && before == 0 {
                status(404)
            } else {
                ok()
            }
        });
        let s = Setup::new(db, &roster(6, "webhook"), "", &webhook(&sink.url(), ""));
        due_today(&s);
        let st = s.status();
        assert_eq!(st["last_tick"], Value::Null, "{st:#}");
        for k in ["pending", "sent", "failed", "cancelled"] {
            assert_eq!(deliveries(&st, k), 0, "{st:#}");
        }
        s.once(AT);
        let st = s.status();
        assert_eq!(st["last_tick"], "2026-06-01", "[{}] {st:#}", s.label());
        assert!(
            st["last_tick_at"]
                .as_str()
                .unwrap()
                .starts_with("2026-06-01T08:40:00"),
            "{st:#}"
        );
        // Only webhook is configured: after it failed for good S002's three
        // reminders have nowhere to go.
        assert_eq!(deliveries(&st, "sent"), 3, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "failed"), 3, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "pending"), 0, "{st:#}");
        assert_eq!(deliveries(&st, "cancelled"), 0, "{st:#}");
        assert_eq!(reminders(&st, "failed"), 3, "{st:#}");
        assert_eq!(reminders(&st, "sent"), 3, "{st:#}");
    }
}

#[test]
fn after_max_attempts_the_next_channel_takes_over() {
    for db in backends() {
        let srv = smtp();
        let sink = Sink::start(|_, _| status(503));
        let channels = format!("{}{}", webhook(&sink.url(), ""), email(&srv));
        let s = Setup::new(
            db,
            &roster(6, "webhook,邮件"),
            "max_attempts = 2",
            &channels,
        );
        due_today(&s);
        s.once(AT);
        assert_eq!(sink.count(), 2, "[{}]", s.label());
        assert!(srv.mails().is_empty(), "[{}] gave up too early", s.label());
        assert_eq!(deliveries(&s.status(), "pending"), 6, "[{}]", s.label());

        s.once(LATER);
        assert!(
            sink.per_key().values().all(|n| *n == 2),
            "[{}] {:?}",
            s.label(),
            sink.per_key()
        );
        assert_eq!(srv.mails().len(), 2, "[{}] fallback to email", s.label());
        let st = s.status();
        assert_eq!(deliveries(&st, "failed"), 0, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "rescued"), 6, "[{}] {st:#}", s.label());
        assert_eq!(deliveries(&st, "sent"), 6, "[{}] {st:#}", s.label());
        let f = &st["failures"][0];
        assert_eq!(f["rescued"], true, "{f:#}");
        assert!(
            f["last_error"]
                .as_str()
                .unwrap()
                .contains("gave up after 2 attempts"),
            "{f:#}"
        );
    }
}

#[test]
fn sigterm_lets_in_flight_sends_finish_and_records_them() {
    for db in backends() {
        let sink = Sink::start(|_, _| Reply::After(Duration::from_millis(1500)));
        let s = Setup::new(
            db,
            &roster(6, "webhook"),
            "dispatch_every_secs = 1\nshutdown_grace_secs = 10",
            &webhook(&sink.url(), ""),
        );
        due_today(&s);
        let log = s.path("daemon.log");
        let mut child = s.cmd(AT).args(["run", "--now", AT]).spawn(&log);
        wait_for("both digests in flight", 30, || {
            (sink.count() == 2).then_some(())
        });
        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let status = wait_for("exit after SIGTERM", 30, || child.try_wait().unwrap());
        assert_eq!(
            status.code(),
            Some(0),
            "[{}] {}",
            s.label(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let st = s.status();
        assert_eq!(deliveries(&st, "sent"), 6, "[{}] {st:#}", s.label());
        s.once(AT);
        assert_eq!(sink.count(), 2, "[{}] resent after a clean stop", s.label());
    }
}

/// After long downtime, a reminder planned but never sent goes out late only while
/// its rule's catch-up policy says it is worth it: the monthly call's window (the
/// month) is still open on 6月25日, so the 6月1日 calls go out once, marked late
/// (issue 10 changed this from "missed"); their escalations wait, counted from then.
#[test]
fn planned_reminders_go_out_late_only_while_their_catch_up_allows() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(6, ""), "", &console(&out));
        let due = due_today(&s);
        s.once(EARLY);
        assert!(
            console_lines(&out).is_empty(),
            "[{}] sent before send_at",
            s.label()
        );
        s.once("2026-06-25T08:40:00+08:00");
        let lines: Vec<String> = console_lines(&out).iter().flat_map(message_lines).collect();
        let late_calls = lines
            .iter()
            .filter(|l| l.contains("原定6月1日提醒"))
            .count();
        assert_eq!(late_calls, due.len(), "[{}] {lines:#?}", s.label());
        // Their escalations (due 6月22日) count from the day the calls went out late,
        // so none goes out the same day.
        assert!(
            !lines.iter().any(|l| l.contains("原定6月22日提醒")),
            "[{}] escalated before its reminder had its time: {lines:#?}",
            s.label()
        );
        // Once: a second run the same day sends nothing more.
        s.once("2026-06-25T09:40:00+08:00");
        let again: Vec<String> = console_lines(&out).iter().flat_map(message_lines).collect();
        assert_eq!(again.len(), lines.len(), "[{}] sent twice", s.label());
    }
}

/// An occasion acknowledged when its first reminder arrives, days before the
/// occasion, does not escalate to the supervisor afterwards.
#[test]
fn an_acknowledgement_before_the_occasion_stops_its_escalation() {
    for db in backends() {
        let out = db.path("out.jsonl");
        let s = Setup::new(db, &roster(12, ""), "", &console(&out));
        s.import(NOW);
        let all = s.preview("2026-01-01", "2026-12-20");
        let first = all
            .iter()
            .find(|r| r["stage"] == "remind" && r["lead_days"].as_i64().unwrap_or(0) >= 7)
            .unwrap_or_else(|| panic!("[{}] no reminder a week ahead in 2026", s.label()))
            .clone();
        let reference = reference(&first);
        let escalation = all
            .iter()
            .find(|r| r["stage"] == "escalate" && r["reference"] == first["reference"])
            .expect("the occasion has an escalation");
        let remind_on = first["remind_on"].as_str().unwrap();
        let escalate_on = escalation["remind_on"].as_str().unwrap();
        s.once(&format!("{remind_on}T08:40:00+08:00"));
        let sent: Vec<String> = console_lines(&out).iter().flat_map(message_lines).collect();
        assert!(
            sent.iter().any(|l| l.contains(&reference)),
            "[{}] {sent:#?}",
            s.label()
        );
        s.cmd(&format!("{remind_on}T10:00:00+08:00"))
            .args(["ack", &reference])
            .run()
            .ok();
        let before = console_lines(&out).len();
        s.once(&format!("{escalate_on}T08:40:00+08:00"));
        let later: Vec<String> = console_lines(&out)[before..]
            .iter()
            .flat_map(message_lines)
            .collect();
        assert!(
            !later.iter().any(|l| l.contains(&reference)),
            "[{}] acknowledged {reference} escalated on {escalate_on}:\n{later:#?}",
            s.label()
        );
    }
}

/// `--database` alone is enough to run the daemon from any directory: the built-in
/// defaults deliver to the console.
#[test]
fn database_alone_runs_the_daemon_to_the_console() {
    for db in backends() {
        qinqing(&db)
            .arg("import")
            .arg(fixture("roster.xlsx"))
            .run()
            .ok();
        let out = qinqing(&db)
            .args(["run", "--once", "--now", "2026-09-18T08:30:00+08:00"])
            .run()
            .ok();
        assert!(
            out.stdout
                .lines()
                .any(|l| l.contains("\"channel\":\"console\"")),
            "[{}] {out:?}",
            db.name()
        );
    }
}

/// Rules edited while the daemon runs: a syntax error keeps the running rules and
/// makes `/healthz` degraded, naming the file and line; the fix (and a new rule) is
/// live without a restart; SIGHUP re-reads and the daemon keeps running; `/metrics`
/// counted the work; SIGTERM ends it with 0.
#[test]
fn rules_edited_while_running_are_checked_then_swapped_in() {
    let db = TestDb::sqlite();
    let rules = db.path("rules");
    std::fs::create_dir_all(rules.join("tests")).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for sub in ["", "tests"] {
        for e in std::fs::read_dir(shipped.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() && p.extension().is_some_and(|x| x == "rhai" || x == "toml") {
                std::fs::copy(&p, rules.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    let out = db.path("out.jsonl");
    let port = free_port();
    let channels = format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[rules]\npath = {:?}\n\n{}",
        rules.display().to_string(),
        console(&out)
    );
    let s = Setup::new(
        db,
        &roster(6, ""),
        "dispatch_every_secs = 1\nwatch_every_secs = 1\nshutdown_grace_secs = 5",
        &channels,
    );
    let log = s.path("daemon.log");
    let mut child = s
        .cmd(AT)
        .env("QINQING_LOG", "info")
        .args(["run", "--now", AT])
        .spawn(&log);
    let health = |want: &dyn Fn(&Value) -> bool| -> Value {
        wait_for("the health asked for", 60, || {
            let (_, body) = http_get(port, "/healthz")?;
            let v: Value = serde_json::from_str(&body).ok()?;
            want(&v).then_some(v)
        })
    };
    let h = health(&|v| v["status"] == "ok" && v["last_tick"] == "2026-06-01");
    assert!(
        h["rules"]["loaded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "monthly-call"),
        "{h:#}"
    );
    wait_for("today's digests", 30, || {
        (console_lines(&out).len() >= 2).then_some(())
    });

    // A syntax error on line 20 of monthly-call.rhai.
    let file = rules.join("monthly-call.rhai");
    let good = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("fn occasions"))
        .unwrap();
    lines.insert(at + 1, "    let x = ;");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let h = health(&|v| v["status"] == "degraded");
    let errors = h["rules"]["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(
            |e| e["file"].as_str().unwrap().ends_with("monthly-call.rhai")
                && e["line"] == at as u64 + 2
        ),
        "names the file and line {}: {h:#}",
        at + 2
    );
    // The running rules stay: monthly-call is still loaded.
    assert!(
        h["rules"]["loaded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "monthly-call"),
        "{h:#}"
    );

    // Fixed, and a new rule added: both live without a restart.
    std::fs::write(&file, &good).unwrap();
    std::fs::write(
        rules.join("e2e-new.rhai"),
        "const RULE = #{ id: \"e2e-new\", title: \"新规则\" };\nfn occasions(p, year) { [] }\n",
    )
    .unwrap();
    let h = health(&|v| {
        v["status"] == "ok"
            && v["rules"]["loaded"]
                .as_array()
                .is_some_and(|l| l.iter().any(|r| r == "e2e-new"))
    });
    assert!(h["rules"]["errors"].as_array().unwrap().is_empty(), "{h:#}");

    // A rule whose test case fails is not swapped in either.
    std::fs::write(
        rules.join("e2e-new.rhai"),
        "const RULE = #{ id: \"e2e-new\", title: \"新规则\" };\nfn occasions(p, year) { [#{ date: date(year, 7, 1) }] }\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("tests/e2e-new.toml"),
        "rule = \"e2e-new\"\n\n[[case]]\nname = \"无事项\"\nyear = 2026\nperson = { birth_date = \"1940-01-01\" }\nexpect = []\n",
    )
    .unwrap();
    let h = health(&|v| v["status"] == "degraded");
    let text = h["rules"]["errors"].to_string();
    assert!(
        text.contains("测试用例") && text.contains("e2e-new"),
        "{h:#}"
    );
    std::fs::remove_file(rules.join("tests/e2e-new.toml")).unwrap();
    health(&|v| v["status"] == "ok");

    // SIGHUP re-reads; the daemon keeps running.
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    wait_for("the reload after SIGHUP", 30, || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (text.contains("SIGHUP: re-reading") && text.matches("rules reloaded").count() >= 3)
            .then_some(())
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP must not stop the daemon"
    );

    // The counters moved.
    let (_, text) = http_get(port, "/metrics").expect("metrics");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    assert!(
        metric(
            &scrape,
            "qinqing_reminders_planned_total",
            Some(("rule", "monthly-call"))
        ) >= 6.0,
        "{text}"
    );
    assert!(
        metric(
            &scrape,
            "qinqing_deliveries_total",
            Some(("status", "sent"))
        ) >= 2.0,
        "{text}"
    );

    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let code = wait_for("the daemon to stop", 30, || child.try_wait().unwrap());
    assert_eq!(
        code.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// The dispatcher sleeps until something falls due instead of polling: started
/// ten seconds before `send_at` (08:30) with `dispatch_every_secs = 300`, the
/// first round finds the day's digests held for the send window and the next
/// round runs at 08:30, not five minutes later.
#[test]
fn the_dispatcher_wakes_at_the_send_window() {
    let db = TestDb::sqlite();
    let out = db.path("out.jsonl");
    let s = Setup::new(
        db,
        &roster(6, ""),
        "dispatch_every_secs = 300\nwatch_every_secs = 1\nshutdown_grace_secs = 5",
        &console(&out),
    );
    let early = "2026-06-01T08:29:50+08:00";
    let log = s.path("daemon.log");
    let mut child = s
        .cmd(early)
        .env("QINQING_LOG", "qinqing=debug")
        .args(["run", "--now", early])
        .spawn(&log);
    let sent = wait_for("the digests at the send window", 90, || {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "daemon exited early with {st}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let v = console_lines(&out);
        (v.len() >= 2).then_some(v)
    });
    assert!(!sent.is_empty());
    let text = std::fs::read_to_string(&log).unwrap();
    // The round before 08:30 sent nothing and set the next round for the window.
    let first = text
        .lines()
        .find(|l| l.contains("next dispatch round"))
        .unwrap_or_else(|| panic!("{text}"));
    let secs: u64 = first
        .split("in_secs=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{first}"));
    assert!(secs <= 10, "woke after {secs} s, not at 08:30:\n{text}");
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    assert!(child.wait().unwrap().success());
}

/// Two daemons on one PostgreSQL database share the day's 1,000 sends at a slow
/// webhook; one is SIGKILLed mid-dispatch. The other, still running, resends what
/// the dead one had claimed once its claim lease (`database.claim_lease_secs`,
/// shortened to 3 s here) runs out, and finishes the round: every reminder
/// delivered, and a message twice only if it was in flight at the kill, with the
/// same idempotency key and body.
#[test]
fn a_running_instance_takes_over_the_claims_of_a_killed_one() {
    let Some(db) = backends()
        .into_iter()
        .find(|d| d.backend == Backend::Postgres)
    else {
        return;
    };
    let sink = Sink::start(|_, _| Reply::After(SLOW));
    let s = Setup::new(
        db,
        &big_roster(1000),
        "digest = false\nwatch_every_secs = 1\nshutdown_grace_secs = 5",
        &webhook(&sink.url(), ""),
    );
    let text = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(
        &s.config,
        text.replacen("\n\n[roster]", "\nclaim_lease_secs = 3\n\n[roster]", 1),
    )
    .unwrap();
    s.import(AT);
    let due = s.preview(DAY, DAY);
    assert_eq!(due.len(), 1000);
    let spawn = |name: &str| {
        s.cmd(AT)
            .env("QINQING_LOG", "info")
            .args(["run", "--now", AT])
            .spawn(&s.path(name))
    };
    let mut a = spawn("a.log");
    let mut b = spawn("b.log");
    wait_for("100 requests at the sink", 60, || {
        (sink.count() >= 100).then_some(())
    });
    a.kill().unwrap(); // SIGKILL
    a.wait().unwrap();
    let at_kill = sink.count();
    assert!(at_kill < 1000, "everything was sent before the kill");

    // B alone finishes: every message arrives, A's claims included.
    let want: BTreeSet<String> = due.iter().map(reference).collect();
    wait_for("every reminder at the sink", 120, || {
        if let Ok(Some(st)) = b.try_wait() {
            panic!(
                "daemon B exited with {st}: {}",
                std::fs::read_to_string(s.path("b.log")).unwrap_or_default()
            );
        }
        let keys: BTreeSet<String> = sink.hits().into_iter().map(|h| h.key).collect();
        (keys.len() >= 1000).then_some(())
    });
    let hits = sink.hits();
    let got: BTreeSet<String> = hits
        .iter()
        .flat_map(|h| message_lines(&h.json()))
        .filter(|l| is_reminder_line(l))
        .filter_map(|l| l.rsplit(" 提醒编号").next().map(String::from))
        .collect();
    assert_eq!(got, want, "delivered references");
    let mut copies: BTreeMap<&str, Vec<&[u8]>> = BTreeMap::new();
    for h in &hits {
        copies
            .entry(h.key.as_str())
            .or_default()
            .push(h.body.as_ref());
    }
    let dups: Vec<_> = copies.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        dups.len() <= MAX_IN_FLIGHT,
        "{} duplicates; only the killed daemon's in-flight sends may repeat",
        dups.len()
    );
    for (k, bodies) in &dups {
        assert_eq!(bodies.len(), 2, "{k} sent {} times", bodies.len());
        assert_eq!(bodies[0], bodies[1], "a resend is the same message");
    }
    let log = std::fs::read_to_string(s.path("b.log")).unwrap();
    assert!(
        dups.is_empty() || log.contains("resending digests abandoned mid-send"),
        "{log}"
    );
    let _ = std::process::Command::new("kill")
        .arg(b.id().to_string())
        .status();
    assert!(b.wait().unwrap().success());
}

/// A planner that dies holding the planning lock (here a `psql` session holding
/// the same PostgreSQL advisory lock, SIGKILLed) releases it with its connection:
/// the running daemon, whose ticks were skipped meanwhile, plans at its next
/// watch and delivers the day's digests.
#[test]
fn a_killed_planner_releases_the_lock_and_another_daemon_plans() {
    let Some(db) = backends()
        .into_iter()
        .find(|d| d.backend == Backend::Postgres)
    else {
        return;
    };
    let out = db.path("out.jsonl");
    let s = Setup::new(
        db,
        &roster(6, ""),
        "watch_every_secs = 1\nshutdown_grace_secs = 5",
        &console(&out),
    );
    s.import(AT);
    let url = s.db.url().to_string();
    let lock = qinqing::store::PLANNING_LOCK;
    // The session takes the lock and then waits for its next command, as a
    // planner's connection does between statements.
    let mut planner = std::process::Command::new("psql")
        .arg(&url)
        .arg("-q")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    {
        use std::io::Write;
        let stdin = planner.stdin.as_mut().unwrap();
        writeln!(stdin, "SELECT pg_advisory_lock({lock});").unwrap();
        stdin.flush().unwrap();
    }
    let held = || {
        let o = std::process::Command::new("psql")
            .arg(&url)
            .args([
                "-tAc",
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            ])
            .output()
            .ok()?;
        (String::from_utf8_lossy(&o.stdout).trim() == "1").then_some(())
    };
    wait_for("the planning lock held by the other session", 30, held);
    let log = s.path("daemon.log");
    let mut child = s
        .cmd(AT)
        .env("QINQING_LOG", "info")
        .args(["run", "--now", AT])
        .spawn(&log);
    wait_for("the daemon's tick skipped", 30, || {
        std::fs::read_to_string(&log)
            .ok()?
            .contains("another daemon is planning")
            .then_some(())
    });
    assert!(
        console_lines(&out).is_empty(),
        "nothing planned while the lock is held"
    );
    planner.kill().unwrap(); // SIGKILL: the server drops the session and its lock
    planner.wait().unwrap();
    let sent = wait_for("the digests after the lock was released", 60, || {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "daemon exited with {st}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let v = console_lines(&out);
        (v.len() >= 2).then_some(v)
    });
    assert!(!sent.is_empty());
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    assert!(child.wait().unwrap().success());
}

/// A private PostgreSQL cluster (initdb, pg_ctl) on its own port and data folder,
/// run as the `postgres` user when the tests run as root (initdb refuses root),
/// so a test can stop and start the server without touching the shared one.
struct PrivateCluster {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    port: u16,
}

impl PrivateCluster {
    fn bin(name: &str) -> Option<std::path::PathBuf> {
        [
            "/usr/local/bin",
            "/usr/lib/postgresql/15/bin",
            "/usr/lib/postgresql/16/bin",
        ]
        .iter()
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.exists())
    }

    fn as_postgres(program: &std::path::Path) -> std::process::Command {
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        }
    }

    fn start() -> Option<PrivateCluster> {
        let (initdb, _) = (Self::bin("initdb")?, Self::bin("pg_ctl")?);
        let dir = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let _ = std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&data)
            .status();
        let out = Self::as_postgres(&initdb)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let c = PrivateCluster {
            _dir: dir,
            data,
            port: free_port(),
        };
        c.pg_ctl(&["start", "-w"]);
        Some(c)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let out = Self::as_postgres(&Self::bin("pg_ctl").unwrap())
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                self.port,
                self.data.display()
            ))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Self::as_postgres(&Self::bin("pg_ctl").unwrap())
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate", "-w"])
            .output();
    }
}

/// The PostgreSQL server restarted under a running daemon: while it is down
/// `/healthz` says failing (503) and the due round fails and is retried; when it
/// is back the daemon reconnects by itself, delivers the day's digests once each,
/// and is healthy again. Runs on a private cluster, never the shared server.
#[test]
fn the_daemon_carries_on_when_postgresql_restarts() {
    if std::env::var("QINQING_TEST_DATABASE_URL").is_err() {
        return;
    }
    let Some(cluster) = PrivateCluster::start() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have initdb"
        );
        eprintln!("note: initdb not found; the restart test is skipped");
        return;
    };
    let db = TestDb::postgres(&cluster.admin_url());
    let out = db.path("out.jsonl");
    let port = free_port();
    let s = Setup::new(
        db,
        &roster(6, ""),
        "dispatch_every_secs = 2\nwatch_every_secs = 1\nshutdown_grace_secs = 5",
        &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n\n{}", console(&out)),
    );
    let early = "2026-06-01T08:29:45+08:00";
    let log = s.path("daemon.log");
    let mut child = s
        .cmd(early)
        .env("QINQING_LOG", "info")
        .args(["run", "--now", early])
        .spawn(&log);
    wait_for("healthz ok", 30, || {
        let (code, _) = http_get(port, "/healthz")?;
        (code == 200).then_some(())
    });
    assert!(console_lines(&out).is_empty(), "nothing goes before 08:30");

    cluster.pg_ctl(&["stop", "-m", "fast", "-w"]);
    let body = wait_for("healthz failing", 30, || {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "daemon exited with {st}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let (code, body) = http_get(port, "/healthz")?;
        (code == 503).then_some(body)
    });
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "failing", "{body}");
    assert_ne!(health["store"], "ok", "{body}");
    // The 08:30 round fails while the server is down.
    wait_for("a failed round", 60, || {
        std::fs::read_to_string(&log)
            .ok()?
            .contains("dispatch failed")
            .then_some(())
    });
    assert!(console_lines(&out).is_empty());

    cluster.pg_ctl(&["start", "-w"]);
    let sent = wait_for("the digests after the restart", 90, || {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "daemon exited with {st}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let v = console_lines(&out);
        (v.len() >= 2).then_some(v)
    });
    wait_for("healthz ok again", 30, || {
        let (code, body) = http_get(port, "/healthz")?;
        (code == 200 && body.contains("\"store\":\"ok\"")).then_some(())
    });
    let st = s.status();
    assert_eq!(st["deliveries"]["sent"], 6, "{st:#}");
    assert_eq!(st["deliveries"]["pending"], 0, "{st:#}");
    assert_eq!(sent.len(), 2, "one digest per recipient, none twice");
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    assert!(child.wait().unwrap().success());
}
