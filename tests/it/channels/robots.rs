//! WeCom, DingTalk and Feishu robots against axum peers that answer like the real
//! ones: HTTP 200 with `errcode`/`code`, signatures checked by recomputation.

use std::sync::Arc;

use qinqing::delivery::channels::{Channel, ChannelsConfig, Outgoing, SendError, build};
use serde_json::json;

use super::support::*;

fn channel(toml_text: &str) -> Arc<dyn Channel> {
    let cfg: ChannelsConfig = toml::from_str(toml_text).unwrap();
    assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
    build(&cfg, clock()).unwrap().remove(0)
}

fn team() -> Outgoing {
    let mut a = contact("S001", "张三");
    a.addresses.mobile = Some("13812341234".into());
    a.addresses.wecom = Some("zhangsan".into());
    a.addresses.feishu = Some("ou_abc123".into());
    let mut b = contact("S002", "李四");
    b.addresses.mobile = Some("13900001111".into());
    outgoing(
        "2026-09-18/team/robot",
        vec![
            section(a, &["9月20日 李老(90岁寿辰)走访"]),
            section(b, &["9月21日 王老 住院慰问", "9月22日 赵老 电话问候"]),
        ],
    )
}

// ------------------------------------------------------------------ WeCom

fn wecom_peer(reply: serde_json::Value) -> impl Fn(&Recorded) -> Answer + Send + Sync + 'static {
    move |r: &Recorded| {
        let v = r.json();
        let content = v["markdown"]["content"].as_str().unwrap_or("");
        if v["msgtype"] != "markdown" || content.len() > 4096 {
            return ok_json(json!({"errcode": 40058, "errmsg": "content exceed max length"}));
        }
        ok_json(reply.clone())
    }
}

#[tokio::test]
async fn wecom_sends_markdown_with_mentions() {
    let peer = HttpPeer::start(wecom_peer(json!({"errcode": 0, "errmsg": "ok"}))).await;
    let ch = channel(&format!(
        "[wecom]\nurl = {:?}",
        peer.url("/cgi-bin/webhook/send?key=K")
    ));
    assert!(ch.is_group());
    within(ch.send(&team())).await.unwrap();
    let reqs = peer.recorded();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].query, "key=K");
    let content = reqs[0].json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.contains("亲情服务提醒(2026年9月18日)"));
    assert!(content.contains("<@zhangsan> 张三同志"), "{content}");
    assert!(content.contains("李四同志"), "{content}");
    assert!(content.contains("9月22日 赵老 电话问候"));
}

#[tokio::test]
async fn wecom_splits_a_long_digest_under_4096_bytes() {
    let peer = HttpPeer::start(wecom_peer(json!({"errcode": 0, "errmsg": "ok"}))).await;
    let ch = channel(&format!("[wecom]\nurl = {:?}", peer.url("/send")));
    let lines: Vec<String> = (0..300)
        .map(|i| format!("第{i:03}项 9月20日 走访离休干部李老同志并送上生日祝福"))
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let msg = outgoing("long", vec![section(contact("S001", "张三"), &refs)]);
    within(ch.send(&msg)).await.unwrap();
    let reqs = peer.recorded();
    assert!(
        reqs.len() > 1,
        "a {}-byte digest must be split",
        lines.concat().len()
    );
    let mut seen = 0;
    for r in &reqs {
        let content = r.json()["markdown"]["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(content.len() <= 4096, "{} bytes", content.len());
        seen += content
            .lines()
            .filter(|l| l.contains("走访离休干部"))
            .count();
    }
    assert_eq!(seen, 300, "every line arrives exactly once");
    // Lines are never cut in the middle.
    for r in &reqs {
        let content = r.json()["markdown"]["content"]
            .as_str()
            .unwrap()
            .to_string();
        for l in content.lines().filter(|l| l.contains("走访离休干部")) {
            assert!(l.ends_with("生日祝福"), "{l}");
        }
    }
}

#[tokio::test]
async fn wecom_21st_message_in_a_minute_is_throttled() {
    let peer = HttpPeer::start(wecom_peer(json!({"errcode": 0, "errmsg": "ok"}))).await;
    let ch = channel(&format!("[wecom]\nurl = {:?}", peer.url("/send")));
    let m = outgoing("k", vec![section(contact("S001", "张三"), &["x"])]);
    for _ in 0..20 {
        within(ch.send(&m)).await.unwrap();
    }
    let err = within(ch.send(&m)).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    let wait = err.retry_after().expect("retry_after");
    assert!(wait.as_secs() <= 60 && !wait.is_zero(), "{wait:?}");
    assert_eq!(
        peer.recorded().len(),
        20,
        "the 21st never reached the robot"
    );
}

#[tokio::test]
async fn wecom_45009_is_transient_and_bad_key_permanent() {
    let peer = HttpPeer::start(wecom_peer(
        json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
    ))
    .await;
    let err = within(channel(&format!("[wecom]\nurl = {:?}", peer.url("/"))).send(&team()))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");

    let peer = HttpPeer::start(wecom_peer(
        json!({"errcode": 93000, "errmsg": "invalid webhook url"}),
    ))
    .await;
    let err = within(channel(&format!("[wecom]\nurl = {:?}", peer.url("/"))).send(&team()))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
}

#[tokio::test]
async fn robot_http_500_is_transient() {
    let peer = HttpPeer::start(|_| Answer(502, vec![], "bad gateway".into())).await;
    let err = within(channel(&format!("[wecom]\nurl = {:?}", peer.url("/"))).send(&team()))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn robot_that_never_answers_times_out() {
    let addr = silent_server().await;
    let ch = channel(&format!(
        "[dingtalk]\nurl = \"http://{addr}/robot/send?access_token=T\"\ntimeout_secs = 1"
    ));
    let err = within(ch.send(&team())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

// ------------------------------------------------------------------ DingTalk

fn dingtalk_peer(
    secret: &'static str,
    reply: serde_json::Value,
) -> impl Fn(&Recorded) -> Answer + Send + Sync + 'static {
    move |r: &Recorded| {
        if r.param("access_token").as_deref() != Some("T") {
            return ok_json(json!({"errcode": 300001, "errmsg": "token is not exist"}));
        }
        if let Err(e) = verify_dingtalk(r, secret) {
            return ok_json(json!({"errcode": 310000, "errmsg": format!("sign not match: {e}")}));
        }
        ok_json(reply.clone())
    }
}

#[tokio::test]
async fn dingtalk_signs_the_url_and_mentions_by_mobile() {
    let peer = HttpPeer::start(dingtalk_peer(
        "SECtest",
        json!({"errcode": 0, "errmsg": "ok"}),
    ))
    .await;
    let ch = channel(&format!(
        "[dingtalk]\nurl = {:?}\nsecret = \"SECtest\"",
        peer.url("/robot/send?access_token=T")
    ));
    within(ch.send(&team())).await.unwrap();
    let r = &peer.recorded()[0];
    let v = r.json();
    assert_eq!(v["msgtype"], "markdown");
    assert_eq!(v["markdown"]["title"], "亲情服务提醒(2026年9月18日)");
    let text = v["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("@13812341234"), "{text}");
    assert!(text.contains("@13900001111"), "{text}");
    assert_eq!(v["at"]["atMobiles"], json!(["13812341234", "13900001111"]));
    assert_eq!(v["at"]["isAtAll"], false);
}

#[tokio::test]
async fn dingtalk_wrong_secret_is_permanent() {
    let peer = HttpPeer::start(dingtalk_peer("SECright", json!({"errcode": 0}))).await;
    let ch = channel(&format!(
        "[dingtalk]\nurl = {:?}\nsecret = \"SECwrong\"",
        peer.url("/robot/send?access_token=T")
    ));
    let err = within(ch.send(&team())).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
    assert!(err.reason().contains("310000"), "{err}");
    assert!(!err.reason().contains("SECwrong"));
}

#[tokio::test]
async fn dingtalk_send_too_fast_is_transient() {
    let peer = HttpPeer::start(dingtalk_peer(
        "S",
        json!({"errcode": 130101, "errmsg": "send too fast"}),
    ))
    .await;
    let ch = channel(&format!(
        "[dingtalk]\nurl = {:?}\nsecret = \"S\"",
        peer.url("/robot/send?access_token=T")
    ));
    let err = within(ch.send(&team())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

// ------------------------------------------------------------------ Feishu

fn feishu_peer(
    secret: &'static str,
    reply: serde_json::Value,
) -> impl Fn(&Recorded) -> Answer + Send + Sync + 'static {
    move |r: &Recorded| {
        if let Err(e) = verify_feishu(r, secret) {
            return ok_json(
                json!({"code": 19021, "msg": format!("sign match fail or timestamp is not within one hour from current time: {e}"), "data": {}}),
            );
        }
        ok_json(reply.clone())
    }
}

#[tokio::test]
async fn feishu_signs_the_body_and_mentions_by_id() {
    let peer = HttpPeer::start(feishu_peer(
        "demo",
        json!({"code": 0, "msg": "success", "data": {}}),
    ))
    .await;
    let ch = channel(&format!(
        "[feishu]\nurl = {:?}\nsecret = \"demo\"",
        peer.url("/open-apis/bot/v2/hook/H")
    ));
    within(ch.send(&team())).await.unwrap();
    let v = peer.recorded()[0].json();
    assert_eq!(v["msg_type"], "text");
    let text = v["content"]["text"].as_str().unwrap();
    assert!(
        text.contains("<at user_id=\"ou_abc123\">张三</at>"),
        "{text}"
    );
    assert!(text.contains("李四同志"), "{text}");
}

#[tokio::test]
async fn feishu_old_style_status_code_zero_is_success() {
    let peer = HttpPeer::start(|_| {
        ok_json(json!({"Extra": null, "StatusCode": 0, "StatusMessage": "success"}))
    })
    .await;
    let ch = channel(&format!("[feishu]\nurl = {:?}", peer.url("/hook")));
    within(ch.send(&team())).await.unwrap();
}

#[tokio::test]
async fn feishu_bad_signature_permanent_and_throttling_transient() {
    let peer = HttpPeer::start(feishu_peer("right", json!({"code": 0}))).await;
    let ch = channel(&format!(
        "[feishu]\nurl = {:?}\nsecret = \"wrong\"",
        peer.url("/hook")
    ));
    let err = within(ch.send(&team())).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
    assert!(err.reason().contains("19021"), "{err}");

    let peer = HttpPeer::start(feishu_peer(
        "s",
        json!({"code": 11232, "msg": "frequency limited"}),
    ))
    .await;
    let ch = channel(&format!(
        "[feishu]\nurl = {:?}\nsecret = \"s\"",
        peer.url("/hook")
    ));
    let err = within(ch.send(&team())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}
