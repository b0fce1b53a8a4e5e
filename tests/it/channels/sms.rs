//! SMS providers against peers that verify the signature the provider's way and
//! answer with the provider's reply shapes and error codes.

use std::sync::Arc;

use qinqing::delivery::channels::{
    Channel, ChannelsConfig, MessageKind, Outgoing, SendError, build,
};
use serde_json::json;

use super::support::*;

const TEMPLATES: &str = r#"
[sms.templates.digest]
code = "SMS_100"
params = ["name", "count", "date"]
keys = ["name", "num", "day"]
[sms.templates.urgent]
code = "SMS_200"
params = ["name", "reference"]
[sms.templates.test]
code = "SMS_300"
"#;

fn channel(head: &str) -> Arc<dyn Channel> {
    let cfg: ChannelsConfig = toml::from_str(&format!("{head}\n{TEMPLATES}")).unwrap();
    assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
    build(&cfg, clock()).unwrap().remove(0)
}

fn aliyun(endpoint: &str, secret: &str) -> Arc<dyn Channel> {
    channel(&format!(
        "[sms]\nprovider = \"aliyun\"\nendpoint = {endpoint:?}\naccess_key_id = \"LTAI-test\"\naccess_key_secret = {secret:?}\nsign_name = \"某区委老干部局\"\ntimeout_secs = 1"
    ))
}

fn tencent(endpoint: &str, secret: &str) -> Arc<dyn Channel> {
    channel(&format!(
        "[sms]\nprovider = \"tencent\"\nendpoint = {endpoint:?}\naccess_key_id = \"AKID-test\"\naccess_key_secret = {secret:?}\nsign_name = \"某区委老干部局\"\nsdk_app_id = \"1400000000\"\ntimeout_secs = 1"
    ))
}

fn msg() -> Outgoing {
    let mut c = contact("S001", "张三");
    c.addresses.mobile = Some("13812341234".into());
    outgoing(
        "2026-09-18/S001/sms",
        vec![section(c, &["9月20日 李老 走访"])],
    )
}

// ------------------------------------------------------------------ Aliyun

fn aliyun_peer(
    secret: &'static str,
    code: &'static str,
) -> impl Fn(&Recorded) -> Answer + Send + Sync + 'static {
    move |r: &Recorded| {
        if let Err(e) = verify_aliyun(r, "LTAI-test", secret) {
            return Answer(
                400,
                vec![],
                json!({"Code": "SignatureDoesNotMatch", "Message": format!("Specified signature does not match our calculation. {e}"), "RequestId": "R"}).to_string(),
            );
        }
        if r.header("x-acs-action") != "SendSms" || r.header("x-acs-version") != "2017-05-25" {
            return Answer(400, vec![], json!({"Code": "InvalidAction"}).to_string());
        }
        match code {
            "OK" => ok_json(
                json!({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "R"}),
            ),
            "day-limit" => ok_json(
                json!({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10", "RequestId": "R"}),
            ),
            other => ok_json(
                json!({"Code": other, "Message": "触发分钟级流控Permits:1", "RequestId": "R"}),
            ),
        }
    }
}

#[tokio::test]
async fn aliyun_request_is_signed_and_carries_the_template() {
    let peer = HttpPeer::start(aliyun_peer("aliyun-secret", "OK")).await;
    let ch = aliyun(&peer.url("/"), "aliyun-secret");
    assert!(ch.can_reach(&msg().sections[0].addressee));
    assert!(!ch.can_reach(&contact("S2", "无手机")));
    let receipt = within(ch.send(&msg())).await.unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("900619746936498440^0"));
    let r = &peer.recorded()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.param("PhoneNumbers").as_deref(), Some("13812341234"));
    assert_eq!(r.param("SignName").as_deref(), Some("某区委老干部局"));
    assert_eq!(r.param("TemplateCode").as_deref(), Some("SMS_100"));
    let tp: serde_json::Value = serde_json::from_str(&r.param("TemplateParam").unwrap()).unwrap();
    assert_eq!(tp, json!({"name": "张三", "num": "3", "day": "9月18日"}));
    assert_eq!(r.header("host"), format!("{}", peer.addr));
}

#[tokio::test]
async fn aliyun_wrong_secret_is_permanent() {
    let peer = HttpPeer::start(aliyun_peer("right", "OK")).await;
    let err = within(aliyun(&peer.url("/"), "wrong").send(&msg()))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
    assert!(err.reason().contains("SignatureDoesNotMatch"), "{err}");
    assert!(
        !err.reason().contains("13812341234"),
        "unmasked mobile: {err}"
    );
}

#[tokio::test]
async fn aliyun_business_limit_is_transient() {
    let peer = HttpPeer::start(aliyun_peer("s", "isv.BUSINESS_LIMIT_CONTROL")).await;
    let err = within(aliyun(&peer.url("/"), "s").send(&msg()))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn aliyun_day_level_limit_waits_for_the_next_day() {
    let peer = HttpPeer::start(aliyun_peer("s", "day-limit")).await;
    let err = within(aliyun(&peer.url("/"), "s").send(&msg()))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::DailyLimit { .. }), "{err}");
    assert!(err.reason().contains("天级"), "{err}");
}

#[tokio::test]
async fn aliyun_bad_template_is_permanent() {
    let peer = HttpPeer::start(aliyun_peer("s", "isv.SMS_TEMPLATE_ILLEGAL")).await;
    let err = within(aliyun(&peer.url("/"), "s").send(&msg()))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
    assert!(err.reason().contains("channels.sms.templates"), "{err}");
}

#[tokio::test]
async fn aliyun_http_500_and_silence_are_transient() {
    let peer = HttpPeer::start(|_| Answer(503, vec![], "unavailable".into())).await;
    let err = within(aliyun(&peer.url("/"), "s").send(&msg()))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");

    let addr = silent_server().await;
    let err = within(aliyun(&format!("http://{addr}/"), "s").send(&msg()))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}

// ------------------------------------------------------------------ Tencent

fn tencent_peer(
    secret: &'static str,
    status_code: &'static str,
) -> impl Fn(&Recorded) -> Answer + Send + Sync + 'static {
    move |r: &Recorded| {
        if let Err(e) = verify_tencent(r, "AKID-test", secret) {
            return ok_json(
                json!({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": e}, "RequestId": "R"}}),
            );
        }
        if r.header("x-tc-action") != "SendSms" || r.header("x-tc-version") != "2021-01-11" {
            return ok_json(
                json!({"Response": {"Error": {"Code": "InvalidAction", "Message": ""}, "RequestId": "R"}}),
            );
        }
        let v = r.json();
        if v["TemplateId"] == "bad" {
            return ok_json(
                json!({"Response": {"Error": {"Code": "FailedOperation.TemplateIncorrectOrUnapproved", "Message": "template"}, "RequestId": "R"}}),
            );
        }
        ok_json(json!({"Response": {"SendStatusSet": [{
            "SerialNo": "5000:1045710669157053657849499619",
            "PhoneNumber": v["PhoneNumberSet"][0],
            "Fee": 1, "SessionContext": "", "Code": status_code,
            "Message": if status_code == "Ok" { "send success" } else { "limit" },
            "IsoCode": "CN"}], "RequestId": "R"}}))
    }
}

#[tokio::test]
async fn tencent_request_is_signed_with_positional_params() {
    let peer = HttpPeer::start(tencent_peer("tc-secret", "Ok")).await;
    let ch = tencent(&peer.url("/"), "tc-secret");
    let mut m = msg();
    m.kind = MessageKind::Urgent;
    let receipt = within(ch.send(&m)).await.unwrap();
    assert_eq!(
        receipt.provider_id.as_deref(),
        Some("5000:1045710669157053657849499619")
    );
    let v = peer.recorded()[0].json();
    assert_eq!(v["PhoneNumberSet"], json!(["+8613812341234"]));
    assert_eq!(v["SmsSdkAppId"], "1400000000");
    assert_eq!(v["SignName"], "某区委老干部局");
    assert_eq!(v["TemplateId"], "SMS_200");
    assert_eq!(v["TemplateParamSet"], json!(["张三", "R20260918"]));
}

#[tokio::test]
async fn tencent_daily_limit_waits_for_the_next_day() {
    let peer = HttpPeer::start(tencent_peer("s", "LimitExceeded.PhoneNumberDailyLimit")).await;
    let err = within(tencent(&peer.url("/"), "s").send(&msg()))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::DailyLimit { .. }), "{err}");
    assert!(err.reason().contains("138****1234"), "{err}");
}

#[tokio::test]
async fn tencent_wrong_secret_is_permanent() {
    let peer = HttpPeer::start(tencent_peer("right", "Ok")).await;
    let err = within(tencent(&peer.url("/"), "wrong").send(&msg()))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
    assert!(
        err.reason().contains("AuthFailure.SignatureFailure"),
        "{err}"
    );
}

#[tokio::test]
async fn tencent_bad_template_is_permanent() {
    let peer = HttpPeer::start(tencent_peer("s", "Ok")).await;
    let cfg: ChannelsConfig = toml::from_str(&format!(
        "[sms]\nprovider = \"tencent\"\nendpoint = {:?}\naccess_key_id = \"AKID-test\"\naccess_key_secret = \"s\"\nsign_name = \"x\"\nsdk_app_id = \"1\"\n[sms.templates.digest]\ncode = \"bad\"\n[sms.templates.urgent]\ncode = \"2\"\n[sms.templates.test]\ncode = \"3\"",
        peer.url("/")
    ))
    .unwrap();
    let ch = build(&cfg, clock()).unwrap().remove(0);
    let err = within(ch.send(&msg())).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
}

// ------------------------------------------------------------------ HTTP gateway

#[tokio::test]
async fn http_gateway_fills_the_body_and_checks_success() {
    let peer = HttpPeer::start(|r| {
        if r.header("authorization") != "Bearer gw-token" {
            return Answer(401, vec![], "{}".into());
        }
        let v = r.json();
        if v["to"] == "13812341234" {
            ok_json(json!({"result": {"code": 0, "id": "gw-1"}}))
        } else {
            ok_json(json!({"result": {"code": 17, "msg": "bad number"}}))
        }
    })
    .await;
    let cfg: ChannelsConfig = toml::from_str(&format!(
        r#"[sms]
provider = "http"
[sms.http]
url = {:?}
body_template = '{{"to":"{{mobile}}","tpl":"{{template}}","vars":{{"name":"{{name}}","n":{{count}},"d":"{{date}}"}}}}'
headers = {{ Authorization = "Bearer {{token}}" }}
token = "gw-token"
success_field = "result.code"
success_value = "0"
id_field = "result.id"
{TEMPLATES}"#,
        peer.url("/sms")
    ))
    .unwrap();
    assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
    let ch = build(&cfg, clock()).unwrap().remove(0);
    let receipt = within(ch.send(&msg())).await.unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("gw-1"));
    let v = peer.recorded()[0].json();
    assert_eq!(
        v,
        json!({"to": "13812341234", "tpl": "SMS_100", "vars": {"name": "张三", "n": 3, "d": "9月18日"}})
    );

    let mut other = msg();
    other.sections[0].addressee.addresses.mobile = Some("13000000000".into());
    let err = within(ch.send(&other)).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
}

#[test]
fn missing_template_for_a_kind_is_reported() {
    let cfg: ChannelsConfig = toml::from_str(
        "[sms]\nprovider = \"aliyun\"\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\nsign_name = \"c\"\n[sms.templates.digest]\ncode = \"SMS_1\"",
    )
    .unwrap();
    let problems = cfg.validate();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("channels.sms.templates.urgent")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("channels.sms.templates.test")),
        "{problems:?}"
    );
    assert!(build(&cfg, clock()).is_err());
}
