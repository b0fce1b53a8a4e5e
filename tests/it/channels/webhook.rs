//! Generic JSON webhook against an axum receiver that checks the HMAC and key.

use std::sync::Arc;
use std::time::Duration;

use qinqing::delivery::channels::{Channel, ChannelsConfig, SendError, build};
use serde_json::json;

use super::support::*;

fn webhook(url: &str, extra: &str) -> Arc<dyn Channel> {
    let cfg: ChannelsConfig =
        toml::from_str(&format!("[webhook]\nurl = {url:?}\n{extra}")).unwrap();
    build(&cfg, clock()).unwrap().remove(0)
}

fn msg() -> qinqing::delivery::channels::Outgoing {
    let mut c = contact("S001", "张三");
    c.addresses.mobile = Some("13812341234".into());
    outgoing(
        "2026-09-18/S001/webhook",
        vec![section(c, &["9月20日 李老 走访"])],
    )
}

#[tokio::test]
async fn signs_the_body_and_sends_the_idempotency_key() {
    let peer = HttpPeer::start(|r| {
        if let Err(e) = verify_webhook(r, "X-Qinqing-Signature", "hook-secret") {
            return Answer(401, vec![], json!({"error": e}).to_string());
        }
        if r.header("idempotency-key") != r.json()["idempotency_key"].as_str().unwrap() {
            return Answer(400, vec![], "{}".into());
        }
        ok_json(json!({"id": "evt-1"}))
    })
    .await;
    let ch = webhook(&peer.url("/hook"), "secret = \"hook-secret\"");
    let receipt = within(ch.send(&msg())).await.unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("evt-1"));
    let r = &peer.recorded()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("idempotency-key"), "2026-09-18/S001/webhook");
    let v = r.json();
    assert_eq!(v["kind"], "digest");
    assert_eq!(v["subject"], "亲情服务提醒(2026年9月18日)");
    assert_eq!(v["sections"][0]["staff_no"], "S001");
    assert_eq!(v["sections"][0]["mobile"], "13812341234");
    assert_eq!(v["sections"][0]["lines"][0], "9月20日 李老 走访");
}

#[tokio::test]
async fn wrong_secret_is_rejected_permanently() {
    let peer = HttpPeer::start(|r| match verify_webhook(r, "X-Sig", "right") {
        Ok(()) => ok_json(json!({})),
        Err(_) => Answer(401, vec![], "{}".into()),
    })
    .await;
    let ch = webhook(
        &peer.url("/"),
        "secret = \"wrong\"\nsignature_header = \"X-Sig\"",
    );
    let err = within(ch.send(&msg())).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
}

#[tokio::test]
async fn http_500_is_transient() {
    let peer = HttpPeer::start(|_| Answer(500, vec![], "boom".into())).await;
    let err = within(webhook(&peer.url("/"), "").send(&msg()))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn http_429_carries_retry_after() {
    let peer =
        HttpPeer::start(|_| Answer(429, vec![("retry-after", "7".into())], "{}".into())).await;
    let err = within(webhook(&peer.url("/"), "").send(&msg()))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn silent_server_times_out_as_transient() {
    let addr = silent_server().await;
    let ch = webhook(&format!("http://{addr}/"), "timeout_secs = 1");
    let err = within(ch.send(&msg())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let addr = closed_port().await;
    let ch = webhook(&format!("http://{addr}/"), "timeout_secs = 1");
    let err = within(ch.send(&msg())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}
