//! The JSON API under `/api/v1`: refused without the right bearer token (401, no
//! data), off without a configured token (404), and with it the same JSON as the
//! CLI, events and contacts recorded, and every read in the audit log.

use serde_json::{Value, json};

use crate::daemon_support::*;
use crate::support::*;

const AT: &str = "2026-06-17T08:40:00+08:00";
const TOKEN: &str = "s3cret-token-for-the-test";

fn client() -> reqwest::Client {
    qinqing::delivery::channels::install_crypto_provider();
    reqwest::Client::new()
}

fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, String) {
    rt().block_on(async {
        let c = client();
        let mut req = match method {
            "POST" => c.post(url),
            _ => c.get(url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

struct Daemon {
    s: Setup,
    child: std::process::Child,
    base: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: TestDb, token: Option<&str>) -> Daemon {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let out = db.path("out.jsonl");
    let channels = format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\napi_token_name = \"办公室系统\"\n\n{}",
        console(&out)
    );
    let s = Setup::new(
        db,
        &roster(6, ""),
        "dispatch_every_secs = 1\nwatch_every_secs = 1",
        &channels,
    );
    let log = s.path("daemon.log");
    let mut cmd = s.cmd(AT).args(["run", "--now", AT]);
    if let Some(t) = token {
        cmd = cmd.env("QINQING_HTTP_API_TOKEN", t);
    }
    let child = cmd.spawn(&log);
    let d = Daemon { s, child, base };
    let health = format!("{}/healthz", d.base);
    wait_for("the HTTP server", 60, || {
        rt().block_on(async { client().get(&health).send().await.ok() })
            .filter(|r| r.status().as_u16() == 200)
            .map(|_| ())
    });
    d
}

#[test]
fn the_api_refuses_a_wrong_token_and_answers_the_right_one() {
    for db in backends() {
        let d = start(db, Some(TOKEN));
        let label = d.s.label();
        let url = format!("{}/api/v1/reports/coverage?month=2026-06", d.base);
        for token in [None, Some("wrong"), Some("s3cret-token-for-the-tesT")] {
            let (code, body) = call("GET", &url, token, None);
            assert_eq!(code, 401, "[{label}] {token:?}: {body}");
            assert!(!body.contains("rows"), "[{label}] no data: {body}");
        }
        let (code, body) = call("GET", &url, Some(TOKEN), None);
        assert_eq!(code, 200, "[{label}] {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["from"], "2026-06-01");
        assert!(v["rows"].as_array().is_some(), "[{label}] {v:#}");

        // An event and a contact, then the person's history.
        let (code, body) = call(
            "POST",
            &format!("{}/api/v1/events", d.base),
            Some(TOKEN),
            Some(json!({"person": "T0002", "kind": "complaint", "on": "2026-06-17"})),
        );
        assert_eq!(code, 201, "[{label}] {body}");
        let (code, body) = call(
            "POST",
            &format!("{}/api/v1/contacts", d.base),
            Some(TOKEN),
            Some(
                json!({"person": "T0002", "staff": "S003", "kind": "call", "on": "2026-06-16", "note": "+86 问候"}),
            ),
        );
        assert_eq!(code, 201, "[{label}] {body}");
        let (code, body) = call(
            "POST",
            &format!("{}/api/v1/contacts", d.base),
            None,
            Some(json!({})),
        );
        assert_eq!(code, 401, "[{label}] {body}");
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/contacts?person=T0002", d.base),
            Some(TOKEN),
            None,
        );
        assert_eq!(code, 200, "[{label}] {body}");
        let lines: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(lines.len(), 1, "[{label}] {lines:#?}");
        assert_eq!(lines[0]["kind"], "call");
        assert_eq!(lines[0]["note"], "+86 问候");
        let (code, body) = call(
            "GET",
            &format!(
                "{}/api/v1/reports/ledger?from=2026-06-01&to=2026-06-30",
                d.base
            ),
            Some(TOKEN),
            None,
        );
        assert_eq!(code, 200, "[{label}] {body}");
        // The complaint is planned by the daemon at its next watch, and sent.
        let s = &d.s;
        let out = s.path("out.jsonl");
        wait_for("the complaint visit sent", 60, || {
            console_lines(&out)
                .iter()
                .flat_map(message_lines)
                .any(|l| l.contains("反映问题走访"))
                .then_some(())
        });
        let audit = s
            .cmd(AT)
            .args(["report", "audit", "--format", "json"])
            .run()
            .ok()
            .json_lines();
        let by_api: Vec<&Value> = audit.iter().filter(|a| a["who"] == "办公室系统").collect();
        assert_eq!(
            by_api.len(),
            3,
            "[{label}] coverage, contacts, ledger: {audit:#?}"
        );
    }
}

#[test]
fn without_a_token_the_api_is_off() {
    let d = start(TestDb::sqlite(), None);
    let (code, body) = call(
        "GET",
        &format!("{}/api/v1/reports/coverage?month=2026-06", d.base),
        Some(TOKEN),
        None,
    );
    assert_eq!(code, 404, "{body}");
}
