//! Answering from the message: the links a real digest carries, opened and
//! answered over HTTP against the running daemon (`qinqing run` with `[http]
//! listen` and `base_url`), on every backend. Wednesday 2026-06-17: 钱学礼 turns 80
//! on 06-24 (reminded today, 7 days ahead, and again on 06-23); 孙志远 turned 80 on
//! 06-10 and nobody answered, so it is overdue.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::daemon_support::*;
use crate::support::*;

const AT: &str = "2026-06-17T08:40:00+08:00";

fn client() -> reqwest::Client {
    qinqing::delivery::channels::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn get(url: &str) -> (u16, String) {
    rt().block_on(async {
        let r = client().get(url).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn post(url: &str, form: &[(&str, &str)]) -> (u16, String) {
    rt().block_on(async {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect();
        let r = client()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn headers(url: &str) -> reqwest::header::HeaderMap {
    rt().block_on(async { client().get(url).send().await.unwrap().headers().clone() })
}

/// Six synthetic persons plus the two birthdays, and one elder whose name is markup.
fn persons() -> Roster {
    let mut r = roster(6, "");
    r.persons.add_column("住址");
    for (no, name, birth, seq) in [
        ("T0100", "钱学礼", ymd(1946, 6, 24), 301),
        ("T0101", "孙志远", ymd(1946, 6, 10), 303),
        ("T0102", "<script>alert(1)</script>", ymd(1940, 3, 3), 305),
    ] {
        r.persons.push(BTreeMap::from([
            ("编号", t(no)),
            ("姓名", t(name)),
            ("身份证号", t(id_number("370102", birth, seq))),
            ("出生日期", t(birth.format("%Y-%m-%d").to_string())),
            ("类别", t("退休")),
            ("职级", t("科级")),
            ("独居", t("否")),
            ("联系电话", t("13812345678")),
            ("住址", t("历下区文化东路1号")),
            ("联系人", t("S002")),
        ]));
    }
    r
}

pub(crate) struct Running {
    pub s: Setup,
    pub child: std::process::Child,
    pub base: String,
    pub out: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(db: TestDb) -> Running {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let out = db.path("out.jsonl");
    let channels = format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"{base}\"\n\n{}",
        console(&out)
    );
    let s = Setup::new(
        db,
        &persons(),
        "dispatch_every_secs = 1\nwatch_every_secs = 1",
        &channels,
    );
    let log = s.path("daemon.log");
    let child = s.cmd(AT).args(["run", "--now", AT]).spawn(&log);
    let r = Running {
        s,
        child,
        base,
        out,
    };
    wait_for("S002's digest in the console file", 60, || {
        console_lines(&r.out)
            .iter()
            .any(|m| m["sections"][0]["staff_no"] == "S002")
            .then_some(())
    });
    r
}

/// S002's section of the console digests.
pub(crate) fn s002_section(out: &std::path::Path) -> Value {
    console_lines(out)
        .iter()
        .flat_map(|m| m["sections"].as_array().cloned().unwrap_or_default())
        .find(|s| s["staff_no"] == "S002")
        .expect("a digest for S002")
}

pub(crate) fn item<'a>(section: &'a Value, name: &str) -> &'a Value {
    section["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item for {name}: {section:#}"))
}

#[test]
fn a_digest_link_answered_over_http_records_the_visit_and_stops_the_later_reminder() {
    for db in backends() {
        let mut r = start(db);
        let label = r.s.label();
        let section = s002_section(&r.out);
        let birthday = item(&section, "钱学礼");
        assert_eq!(birthday["person"], "T0100", "[{label}] {birthday:#}");
        assert_eq!(birthday["due_on"], "2026-06-24");
        let ack = birthday["ack_url"].as_str().unwrap().to_string();
        let worklist = section["worklist_url"].as_str().unwrap().to_string();
        // Short enough for an SMS variable with a 30-character host.
        let token = ack.rsplit('/').next().unwrap();
        assert!(token.len() >= 22 && 30 + 3 + token.len() <= 60, "{ack}");
        assert!(worklist.starts_with(&format!("{}/s/", r.base)));
        // The store holds only the tokens' hashes: a sent digest's payload is
        // dropped once its outcome is recorded, and no table holds the raw token.
        let stored = || -> Vec<String> {
            rt().block_on(async {
                let store = qinqing::store::Store::connect(r.s.db.url()).await.unwrap();
                let mut all: Vec<String> = sqlx::query_scalar("SELECT payload FROM digests")
                    .fetch_all(store.pool())
                    .await
                    .unwrap();
                all.extend(
                    sqlx::query_scalar::<_, String>("SELECT token_hash FROM links")
                        .fetch_all(store.pool())
                        .await
                        .unwrap(),
                );
                all
            })
        };
        wait_for("the sent digest's payload dropped", 30, || {
            let rows = stored();
            (rows.len() > 2 && !rows.iter().any(|p| p.contains(token))).then_some(())
        });

        // Before any answer the worklist holds the birthday (due 06-24, not
        // overdue) and the month's call (due 06-30).
        let (_, json) = get(&format!("{worklist}/worklist.json"));
        let v: Value = serde_json::from_str(&json).unwrap();
        let open: Vec<(String, String, bool)> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["name"] == "钱学礼")
            .map(|i| {
                (
                    i["rule"].as_str().unwrap().to_string(),
                    i["due_on"].as_str().unwrap().to_string(),
                    i["overdue"].as_bool().unwrap(),
                )
            })
            .collect();
        for want in [
            ("birthday-milestone", "2026-06-24", false),
            ("monthly-call", "2026-06-30", false),
        ] {
            assert!(
                open.iter()
                    .any(|o| (o.0.as_str(), o.1.as_str(), o.2) == want),
                "[{label}] {want:?} in {open:?}"
            );
        }

        // The page: name, occasion, phone as tel:, address, the four buttons.
        let (code, page) = get(&ack);
        assert_eq!(code, 200, "[{label}] {page}");
        for want in [
            "钱学礼",
            "80岁寿辰",
            "href=\"tel:13812345678\"",
            "历下区文化东路1号",
            "已走访",
            "已电话联系",
            "已送达",
            "未能完成",
        ] {
            assert!(page.contains(want), "[{label}] {want} in {page}");
        }
        let h = headers(&ack);
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );

        // not_done needs a reason, and keeps the occasion open.
        let (code, page) = post(&ack, &[("outcome", "not_done")]);
        assert_eq!(code, 400, "[{label}] {page}");
        assert!(page.contains("请填写原因"), "{page}");
        let (code, page) = post(&ack, &[("outcome", "not_done"), ("note", "老同志外出")]);
        assert_eq!(code, 200, "[{label}] {page}");
        assert!(
            page.contains("仍待办") && page.contains("老同志外出"),
            "{page}"
        );
        assert!(
            page.contains("已走访"),
            "[{label}] still answerable: {page}"
        );

        // A day in the future is refused.
        let (code, page) = post(&ack, &[("outcome", "visited"), ("on", "2026-06-18")]);
        assert_eq!(code, 400, "[{label}] {page}");
        assert!(page.contains("不能晚于今天"), "{page}");

        // Visited: recorded once; a second POST records nothing new.
        let (code, page) = post(&ack, &[("outcome", "visited"), ("on", "2026-06-17")]);
        assert_eq!(code, 200, "[{label}] {page}");
        assert!(page.contains("已记录") && page.contains("已走访"), "{page}");
        let (code, again) = post(&ack, &[("outcome", "visited")]);
        assert_eq!(code, 200);
        assert!(again.contains("此前已办结,未重复记录"), "[{label}] {again}");
        let (_, used) = get(&ack);
        assert!(
            used.contains("已办结") && used.contains("S002"),
            "[{label}] {used}"
        );
        assert!(
            !used.contains("name=\"outcome\""),
            "[{label}] no buttons on a used link"
        );

        // The worklist no longer lists the birthday; overdue items come first.
        let (code, json) = get(&format!("{worklist}/worklist.json"));
        assert_eq!(code, 200, "{json}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["staff"], "S002");
        assert_eq!(v["as_of"], "2026-06-17");
        let items = v["items"].as_array().unwrap();
        assert!(
            !items
                .iter()
                .any(|i| i["name"] == "钱学礼" && i["rule"] == "birthday-milestone"),
            "[{label}] {items:#?}"
        );
        let late = items
            .iter()
            .find(|i| i["name"] == "孙志远")
            .unwrap_or_else(|| panic!("[{label}] {items:#?}"));
        assert_eq!(late["overdue"], true);
        assert!(
            items
                .windows(2)
                .all(|w| w[0]["overdue"].as_bool() >= w[1]["overdue"].as_bool()),
            "[{label}] overdue first: {items:#?}"
        );
        assert_eq!(items[0]["overdue"], true);
        let dues: Vec<&str> = items
            .iter()
            .map(|i| i["due_on"].as_str().unwrap())
            .collect();
        assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
        let (_, page) = get(&worklist);
        assert!(
            page.contains("钱学礼") && page.contains("已走访"),
            "[{label}] done shows in recent: {page}"
        );
        // An elder named <script> is text.
        assert!(
            !page.contains("<script>alert(1)</script>"),
            "[{label}] unescaped"
        );
        assert!(page.contains("&lt;script&gt;"), "[{label}] {page}");

        // The 1-day-before reminder (06-23) is not sent.
        r.child_kill();
        let before = console_lines(&r.out).len();
        r.s.once("2026-06-23T08:40:00+08:00");
        let later: Vec<String> = console_lines(&r.out)[before..]
            .iter()
            .flat_map(message_lines)
            .collect();
        let reference = birthday["reference"].as_str().unwrap();
        assert!(
            !later.iter().any(|l| l.contains(reference)),
            "[{label}] reminded after the visit: {later:#?}"
        );
    }
}

impl Running {
    /// Stops the daemon, keeping the set-up.
    fn child_kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tampered_expired_and_revoked_links_show_no_personal_data() {
    for db in backends() {
        let r = start(db);
        let label = r.s.label();
        let section = s002_section(&r.out);
        let ack = item(&section, "钱学礼")["ack_url"]
            .as_str()
            .unwrap()
            .to_string();
        let worklist = section["worklist_url"].as_str().unwrap().to_string();
        let mut tampered = ack.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        for url in [
            tampered.clone(),
            format!("{}/a/short", r.base),
            format!("{}/s/{}", r.base, ack.rsplit('/').next().unwrap()),
        ] {
            let (code, page) = get(&url);
            assert_eq!(code, 404, "[{label}] {url}: {page}");
            assert!(
                !page.contains("钱学礼") && !page.contains("1381234"),
                "{page}"
            );
        }
        // Oversized headers and bodies are refused before any lookup.
        let (code, _) = rt().block_on(async {
            let r = client()
                .get(&ack)
                .header("x-filler", "a".repeat(20_000))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), ())
        });
        assert_eq!(code, 431, "[{label}]");
        let big = format!("outcome=visited&note={}", "a".repeat(20_000));
        let (code, _) = rt().block_on(async {
            let r = client()
                .post(&ack)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(big)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), ())
        });
        assert_eq!(code, 413, "[{label}]");
        // Expired: the clock 46 days on (ack_link_days = 45) is another process's
        // view; revoking ends the links now.
        let out =
            r.s.cmd(AT)
                .args(["link", "revoke", "--staff", "S002"])
                .run()
                .ok();
        assert!(out.stdout.contains("revoked"), "{out:?}");
        for url in [&ack, &worklist] {
            let (code, page) = get(url);
            assert_eq!(code, 410, "[{label}] {url}: {page}");
            assert!(page.contains("链接已过期"), "{page}");
            assert!(
                !page.contains("钱学礼") && !page.contains("1381234"),
                "{page}"
            );
        }
        // `qinqing link --staff` gives a new one that works.
        let fresh =
            r.s.cmd(AT)
                .args(["link", "--staff", "S002"])
                .run()
                .ok()
                .stdout;
        let fresh = fresh.trim();
        assert!(fresh.starts_with(&format!("{}/s/", r.base)), "{fresh}");
        assert_eq!(get(fresh).0, 200, "[{label}]");
        // `qinqing link --ref` gives an occasion's link.
        let reference = item(&section, "钱学礼")["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let by_ref =
            r.s.cmd(AT)
                .args(["link", "--ref", &reference])
                .run()
                .ok()
                .stdout;
        let (code, page) = get(by_ref.trim());
        assert_eq!(code, 200, "[{label}] {page}");
        assert!(page.contains("钱学礼"));
        // Too many unknown tokens from one address: 429 for the rest of the minute,
        // even for a good link.
        let codes: Vec<u16> = (0..22)
            .map(|i| get(&format!("{}/a/{:0>22}", r.base, i)).0)
            .collect();
        assert_eq!(codes[0], 404);
        assert_eq!(*codes.last().unwrap(), 429, "[{label}] {codes:?}");
        assert_eq!(get(by_ref.trim()).0, 429, "[{label}]");
    }
}

/// The supervisor's page names whose work is overdue; the feed parses and holds
/// exactly the open occasions.
#[test]
fn the_team_section_names_the_staff_member_and_the_feed_holds_the_open_occasions() {
    for db in backends() {
        let r = start(db);
        let label = r.s.label();
        let boss =
            r.s.cmd(AT)
                .args(["link", "--staff", "S001"])
                .run()
                .ok()
                .stdout;
        let (code, page) = get(boss.trim());
        assert_eq!(code, 200, "[{label}] {page}");
        assert!(page.contains("团队"), "[{label}] {page}");
        assert!(page.contains("干事乙(S002)"), "[{label}] {page}");
        assert!(
            page.contains("孙志远") && page.contains("负责人:S002"),
            "[{label}] the overdue item names its staff member: {page}"
        );

        let section = s002_section(&r.out);
        let worklist = section["worklist_url"].as_str().unwrap().to_string();
        let (code, ics) = get(&format!("{worklist}/calendar.ics"));
        assert_eq!(code, 200, "[{label}] {ics}");
        let refs_in = |ics: &str| -> BTreeSet<String> {
            let mut refs = BTreeSet::new();
            let parser = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
            let mut n = 0;
            for cal in parser {
                let cal = cal.expect("the feed parses");
                for e in cal.events {
                    n += 1;
                    let get = |name: &str| {
                        e.properties
                            .iter()
                            .find(|p| p.name == name)
                            .and_then(|p| p.value.clone())
                            .unwrap_or_default()
                    };
                    assert!(!get("UID").is_empty() && !get("DTSTART").is_empty());
                    let d = get("DESCRIPTION");
                    let r = d.split("提醒编号 ").nth(1).unwrap()[..6].to_string();
                    refs.insert(r);
                }
            }
            assert_eq!(n, refs.len(), "one event per occasion");
            refs
        };
        // Expected: S002's open occasions whose due day lies from 30 days back to
        // 90 days ahead, as preview computes them.
        let plan = r.s.preview("2026-02-01", "2026-09-16");
        let want: BTreeSet<String> = plan
            .iter()
            .filter(|r| r["recipient"] == "S002" && r["stage"] == "remind")
            .filter(|r| {
                let d = r["due_on"].as_str().unwrap();
                ("2026-05-18"..="2026-09-15").contains(&d)
            })
            .map(|r| r["reference"].as_str().unwrap().to_string())
            .collect();
        assert!(!want.is_empty());
        assert_eq!(refs_in(&ics), want, "[{label}]");
        // Acknowledged: gone at the next fetch, and with it 钱学礼's June call,
        // which the visit satisfies (any call or visit that month).
        let ack = item(&section, "钱学礼")["ack_url"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(post(&ack, &[("outcome", "visited")]).0, 200);
        let (_, ics) = get(&format!("{worklist}/calendar.ics"));
        let birthday = item(&section, "钱学礼")["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let june_call = plan
            .iter()
            .find(|r| {
                r["rule"] == "monthly-call"
                    && r["occasion_on"] == "2026-06-01"
                    && r["title"].as_str().unwrap().contains("钱学礼")
            })
            .unwrap()["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let mut left = want.clone();
        left.remove(&birthday);
        left.remove(&june_call);
        assert_eq!(refs_in(&ics), left, "[{label}]");
    }
}

/// Eight taps on 已走访 at the same moment record one visit; `qinqing ack` of the
/// same occasion afterwards records nothing and says so.
#[test]
fn answers_at_the_same_moment_record_one_acknowledgement() {
    for db in backends() {
        let r = start(db);
        let label = r.s.label();
        let section = s002_section(&r.out);
        let birthday = item(&section, "钱学礼");
        let ack = birthday["ack_url"].as_str().unwrap().to_string();
        let reference = birthday["reference"].as_str().unwrap().to_string();
        let pages: Vec<String> = rt().block_on(async {
            let posts = (0..8).map(|_| {
                let url = ack.clone();
                tokio::spawn(async move {
                    client()
                        .post(url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("outcome=visited")
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap()
                })
            });
            let mut out = Vec::new();
            for p in posts {
                out.push(p.await.unwrap());
            }
            out
        });
        let recorded = pages.iter().filter(|p| p.contains("已记录:")).count();
        let already = pages.iter().filter(|p| p.contains("此前已办结")).count();
        assert_eq!((recorded, already), (1, 7), "[{label}] {pages:#?}");
        let out = r.s.cmd(AT).args(["ack", &reference]).run().ok();
        assert!(
            out.stdout
                .contains("already acknowledged by S002 on 2026-06-17")
                && out.stdout.contains("nothing recorded"),
            "[{label}] {out:?}"
        );
    }
}

/// 46 days on (`ack_link_days` = 45) the acknowledgement link has expired and says
/// so, with no personal data; the worklist link (180 days) still works.
#[test]
fn an_acknowledgement_link_expires_after_ack_link_days() {
    for db in backends() {
        let mut r = start(db);
        let label = r.s.label();
        let section = s002_section(&r.out);
        let ack = item(&section, "钱学礼")["ack_url"]
            .as_str()
            .unwrap()
            .to_string();
        let worklist = section["worklist_url"].as_str().unwrap().to_string();
        assert_eq!(get(&ack).0, 200);
        r.child_kill();
        let later = "2026-08-02T08:40:00+08:00";
        r.child =
            r.s.cmd(later)
                .args(["run", "--now", later])
                .spawn(&r.s.path("daemon2.log"));
        let health = format!("{}/healthz", r.base);
        wait_for("the daemon 46 days on", 60, || {
            rt().block_on(async { client().get(&health).send().await.ok() })
                .filter(|resp| resp.status().is_success())
                .map(|_| ())
        });
        let (code, page) = get(&ack);
        assert_eq!(code, 410, "[{label}] {page}");
        assert!(
            page.contains("链接已过期") && page.contains("工作清单"),
            "{page}"
        );
        assert!(
            !page.contains("钱学礼") && !page.contains("1381234"),
            "{page}"
        );
        assert_eq!(
            get(&worklist).0,
            200,
            "[{label}] the worklist link still works"
        );
    }
}
