//! Support for the daemon tests: loopback peers living on a shared multi-thread
//! runtime (so the tests themselves can block on the real binary), a scriptable
//! HTTP sink that records every request on arrival, config files pointing the
//! binary at them, and small waits on conditions with deadlines.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::support::*;

/// The SMTP server of the channel tests.
pub use crate::channels::support::{ReceivedMail, SmtpMode, SmtpOptions, SmtpServer};

/// The runtime every peer of every daemon test runs on.
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("peer runtime")
    })
}

/// A plain SMTP server on 127.0.0.1:0.
pub fn smtp() -> SmtpServer {
    rt().block_on(SmtpServer::start(SmtpMode::Plain, SmtpOptions::default()))
}

/// Waits until `f` returns `Some`, polling every 10 ms, or panics after `secs`.
#[track_caller]
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {secs} s waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ------------------------------------------------------------------ HTTP sink

/// One request as the sink received it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    /// The `Idempotency-Key` header ("" when absent).
    pub key: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// How the sink answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status, extra headers, body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// Waits, then answers 200 `{}`.
    After(Duration),
    /// Never answers.
    Hang,
}

pub fn ok() -> Reply {
    Reply::Status(200, vec![], "{}".into())
}

pub fn status(code: u16) -> Reply {
    Reply::Status(code, vec![], format!("{{\"error\":\"status {code}\"}}"))
}

/// `respond(hit, copies of this Idempotency-Key received before)`.
type Script = Arc<dyn Fn(&Hit, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct SinkState {
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Script,
}

/// An HTTP server on 127.0.0.1:0 that records every request before answering it
/// as `script` says.
pub struct Sink {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Sink {
    pub fn start(script: impl Fn(&Hit, usize) -> Reply + Send + Sync + 'static) -> Sink {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let state = SinkState {
            hits: hits.clone(),
            script: Arc::new(script),
        };
        let addr = rt().block_on(async move {
            let app = axum::Router::new().fallback(handle).with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            addr
        });
        Sink { addr, hits }
    }

    /// Answers 200 to everything.
    pub fn ok() -> Sink {
        Sink::start(|_, _| ok())
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    /// Requests per Idempotency-Key.
    pub fn per_key(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for h in self.hits() {
            *m.entry(h.key).or_insert(0) += 1;
        }
        m
    }
}

async fn handle(
    State(st): State<SinkState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let hit = Hit {
        path: uri.path().to_string(),
        key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        headers,
        body,
    };
    let reply = {
        let mut hits = st.hits.lock().unwrap();
        let before = hits.iter().filter(|h| h.key == hit.key).count();
        let reply = (st.script)(&hit, before);
        hits.push(hit);
        reply
    };
    let (code, extra, text) = match reply {
        Reply::Status(c, e, t) => (c, e, t),
        Reply::After(d) => {
            tokio::time::sleep(d).await;
            (200, vec![], "{}".to_string())
        }
        Reply::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
    };
    let mut resp = (StatusCode::from_u16(code).unwrap(), text).into_response();
    resp.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    for (k, v) in extra {
        resp.headers_mut()
            .insert(k, axum::http::HeaderValue::from_str(&v).unwrap());
    }
    resp
}

// ------------------------------------------------------------------ rosters

/// `Roster::synthetic(n)` with staff columns 邮箱 and 提醒方式: S001…S003 get
/// s001@bureau.example… and the given 提醒方式 (may be empty).
pub fn roster(n: usize, channels: &str) -> Roster {
    let mut r = Roster::synthetic(n);
    r.staff.add_column("邮箱").add_column("提醒方式");
    for i in 0..r.staff.rows.len() {
        let no = r.staff.text(i, "工号").to_lowercase();
        r.staff
            .set(i, "邮箱", t(format!("{no}@bureau.example")))
            .set(
                i,
                "提醒方式",
                if channels.is_empty() {
                    X::Empty
                } else {
                    t(channels)
                },
            );
    }
    r
}

/// `n` persons (up to a few thousand), every one looked after by S002, none with a
/// milestone birthday in 2026 (ages 84–86), all 退休 科级 so no festival visit.
pub fn big_roster(n: usize) -> Roster {
    const SURNAMES: &[&str] = &[
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
        "林", "何", "郭", "马", "罗",
    ];
    const GIVEN: &[&str] = &[
        "建国", "秀英", "德明", "桂兰", "志强", "淑珍", "文华", "玉梅", "国庆", "春花", "长林",
        "凤英", "家宝", "丽华", "振华", "玉兰", "宝山", "金凤", "永福", "翠英", "明亮", "桂芳",
        "树林", "秀兰", "学文", "素珍", "海波", "月娥", "福生", "巧云", "立新", "爱华", "庆丰",
        "美玲", "正清", "慧敏", "红旗", "瑞芬", "长青", "淑华", "荣光", "兰英", "继承", "秀芝",
        "光明", "玉珍", "胜利", "彩霞", "卫东", "春兰",
    ];
    let mut r = Roster::synthetic(0);
    for i in 0..n {
        let birth = ymd(1940, 7, 1) + chrono::Duration::days(i as i64 % 700);
        let seq = 100 + (i / 700) as u32 * 2;
        let name = format!(
            "{}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i / SURNAMES.len()) % GIVEN.len()]
        );
        r.persons.push(BTreeMap::from([
            ("编号", t(format!("B{:05}", i + 1))),
            ("姓名", t(name)),
            ("身份证号", t(id_number("370102", birth, seq))),
            ("出生日期", t(birth.format("%Y-%m-%d").to_string())),
            ("类别", t("退休")),
            ("职级", t("科级")),
            ("独居", t("否")),
            ("联系人", t("S002")),
        ]));
    }
    r
}

// ------------------------------------------------------------------ config and runs

pub const FROM: &str = "老干部局亲情服务 <qinqing@bureau.example>";

/// `[channels.webhook]` posting to `url`, plus `extra` keys.
pub fn webhook(url: &str, extra: &str) -> String {
    format!("[channels.webhook]\nurl = {url:?}\n{extra}\n")
}

/// `[channels.email]` to the loopback SMTP server `srv`.
pub fn email(srv: &SmtpServer) -> String {
    format!(
        "[channels.email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nfrom = {FROM:?}\n",
        srv.addr.port()
    )
}

/// `[channels.console]` writing JSON lines to `path`.
pub fn console(path: &std::path::Path) -> String {
    format!(
        "[channels.console]\npath = {:?}\n",
        path.display().to_string()
    )
}

/// One daemon set-up: a fresh database, a roster file and a config file.
pub struct Setup {
    pub db: TestDb,
    pub config: PathBuf,
    pub roster: PathBuf,
}

impl Setup {
    /// Writes `roster` and a config: `[database] url`, `[roster] path`, the given
    /// `[schedule]` keys and channel tables (TOML text).
    pub fn new(db: TestDb, roster: &Roster, schedule: &str, channels: &str) -> Setup {
        let roster_path = roster.save(&db, "roster.xlsx");
        let config = db.path("qinqing.toml");
        let text = format!(
            "[database]\nurl = {:?}\n\n[roster]\npath = {:?}\n\n[schedule]\n{schedule}\n\n{channels}\n",
            db.url(),
            roster_path.display().to_string(),
        );
        std::fs::write(&config, text).unwrap();
        Setup {
            db,
            config,
            roster: roster_path,
        }
    }

    /// Like `new`, with the persons in `persons.csv` and the staff in a file of its
    /// own, `staff.csv`, named by `[roster] staff`.
    pub fn with_staff_file(db: TestDb, roster: &Roster, schedule: &str, channels: &str) -> Setup {
        let persons = db.path("persons.csv");
        let staff = db.path("staff.csv");
        std::fs::write(&persons, roster.persons.to_csv()).unwrap();
        std::fs::write(&staff, roster.staff.to_csv()).unwrap();
        let config = db.path("qinqing.toml");
        let text = format!(
            "[database]\nurl = {:?}\n\n[roster]\npath = {:?}\nstaff = {:?}\n\n[schedule]\n{schedule}\n\n{channels}\n",
            db.url(),
            persons.display().to_string(),
            staff.display().to_string(),
        );
        std::fs::write(&config, text).unwrap();
        Setup {
            db,
            config,
            roster: persons,
        }
    }

    /// Rewrites `staff.csv` of a `with_staff_file` set-up.
    pub fn rewrite_staff(&self, roster: &Roster) {
        std::fs::write(self.path("staff.csv"), roster.staff.to_csv()).unwrap();
    }

    /// Rewrites the roster file (the daemon imports it again at its next start).
    pub fn rewrite_roster(&self, roster: &Roster) {
        roster.write_xlsx(&self.roster);
    }

    pub fn label(&self) -> &'static str {
        self.db.name()
    }

    /// A command with `--config` and the clock at `now`.
    pub fn cmd(&self, now: &str) -> Qq {
        qinqing(&self.db).arg("--config").arg(&self.config).now(now)
    }

    /// `run --once --now <now>`, which must succeed.
    #[track_caller]
    pub fn once(&self, now: &str) -> Out {
        self.cmd(now)
            .args(["run", "--once", "--now", now])
            .run()
            .ok()
    }

    /// `status --format json`.
    #[track_caller]
    pub fn status(&self) -> Value {
        self.cmd(NOW)
            .args(["status", "--format", "json"])
            .run()
            .ok()
            .json()
    }

    /// `preview --format json` for stages due in [from, to] (after an import).
    pub fn preview(&self, from: &str, to: &str) -> Vec<Value> {
        self.cmd(NOW)
            .args(["preview", "--from", from, "--to", to, "--format", "json"])
            .run()
            .ok()
            .json_lines()
    }

    /// `import` of the roster file, so `preview` knows the persons before any run.
    pub fn import(&self, now: &str) {
        self.cmd(now).arg("import").arg(&self.roster).run().ok();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.db.path(name)
    }
}

/// `deliveries.<k>` from a status report.
pub fn deliveries(status: &Value, k: &str) -> i64 {
    status["deliveries"][k]
        .as_i64()
        .unwrap_or_else(|| panic!("deliveries.{k} in {status:#}"))
}

/// `reminders.<k>` from a status report (0 when absent).
pub fn reminders(status: &Value, k: &str) -> i64 {
    status["reminders"][k].as_i64().unwrap_or(0)
}

/// The JSON lines of a console file sink (none when the file does not exist).
pub fn console_lines(path: &Path) -> Vec<Value> {
    match std::fs::read_to_string(path) {
        Ok(s) => s
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Every line of every section of a webhook or console message.
pub fn message_lines(v: &Value) -> Vec<String> {
    v["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["lines"].as_array().into_iter().flatten())
        .filter_map(|l| l.as_str().map(String::from))
        .collect()
}

/// The preview rows' references, recipients and titles for one recipient.
pub fn for_recipient<'a>(rows: &'a [Value], staff: &str) -> Vec<&'a Value> {
    rows.iter().filter(|r| r["recipient"] == staff).collect()
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
