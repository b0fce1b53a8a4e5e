//! Email against the in-process SMTP server: plain, STARTTLS, implicit TLS, AUTH,
//! and how SMTP replies and dead servers are classified.

use std::sync::Arc;

use mail_parser::{MessageParser, MimeHeaders};
use qinqing::delivery::channels::{Channel, ChannelsConfig, SendError, build};

use super::support::*;

fn email_channel(extra: &str) -> Arc<dyn Channel> {
    let text = format!("[email]\nfrom = \"亲情服务 <qinqing@example.gov.cn>\"\n{extra}");
    let cfg: ChannelsConfig = toml::from_str(&text).unwrap();
    let mut chans = build(&cfg, clock()).unwrap();
    assert_eq!(chans.len(), 1);
    chans.remove(0)
}

fn zhang() -> qinqing::delivery::channels::Outgoing {
    let mut c = contact("S001", "张三");
    c.addresses.email = Some("zhangsan@example.gov.cn".into());
    c.addresses.mobile = Some("13812341234".into());
    outgoing(
        "2026-09-18/S001/email",
        vec![section(
            c,
            &["9月20日 李老(90岁寿辰)走访", "9月21日 王老 住院慰问"],
        )],
    )
}

fn assert_delivered(mail: &ReceivedMail) {
    assert_eq!(mail.from, "qinqing@example.gov.cn");
    assert_eq!(mail.to, vec!["zhangsan@example.gov.cn".to_string()]);
    let m = MessageParser::default()
        .parse(&mail.data)
        .expect("parsable mail");
    assert_eq!(m.subject(), Some("亲情服务提醒(2026年9月18日)"));
    let body = m.body_text(0).unwrap();
    assert!(body.contains("张三同志:本周需走访2位老同志:"), "{body}");
    assert!(body.contains("9月20日 李老(90岁寿辰)走访"), "{body}");
    assert!(body.contains("9月21日 王老 住院慰问"), "{body}");
    assert_eq!(
        m.to().unwrap().first().unwrap().address(),
        Some("zhangsan@example.gov.cn")
    );
    assert_eq!(
        m.header_raw("X-Qinqing-Idempotency-Key").map(str::trim),
        Some("2026-09-18/S001/email")
    );
    // A plain-text part and an HTML part, both UTF-8.
    let ct = m.content_type().unwrap();
    assert_eq!(ct.ctype(), "multipart");
    assert_eq!(ct.subtype(), Some("alternative"));
    let html = m.body_html(0).expect("an HTML part");
    assert!(html.contains("9月20日 李老(90岁寿辰)走访"), "{html}");
    for part in [m.text_part(0).unwrap(), m.html_part(0).unwrap()] {
        let ct = part.content_type().unwrap();
        assert_eq!(
            ct.attribute("charset")
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("utf-8")
        );
    }
    assert!(m.message_id().unwrap().starts_with("qinqing."));
}

#[tokio::test]
async fn plain_smtp_delivers_chinese_mail() {
    let srv = SmtpServer::start(SmtpMode::Plain, SmtpOptions::default()).await;
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"",
        srv.addr.port()
    ));
    assert!(ch.can_reach(&zhang().sections[0].addressee));
    assert!(!ch.can_reach(&contact("S2", "无邮箱")));
    let receipt = within(ch.send(&zhang())).await.unwrap();
    assert!(receipt.provider_id.unwrap().contains("queued as Q1"));
    let mails = srv.mails();
    assert_eq!(mails.len(), 1);
    assert!(!mails[0].tls);
    assert_delivered(&mails[0]);
}

#[tokio::test]
async fn resend_keeps_the_message_id() {
    let srv = SmtpServer::start(SmtpMode::Plain, SmtpOptions::default()).await;
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"",
        srv.addr.port()
    ));
    within(ch.send(&zhang())).await.unwrap();
    within(ch.send(&zhang())).await.unwrap();
    let ids: Vec<String> = srv
        .mails()
        .iter()
        .map(|m| {
            MessageParser::default()
                .parse(&m.data)
                .unwrap()
                .message_id()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn starttls_with_auth() {
    let srv = SmtpServer::start(
        SmtpMode::StartTls,
        SmtpOptions {
            auth: Some(("qinqing".into(), "s3cret".into())),
            ..Default::default()
        },
    )
    .await;
    let ch = email_channel(&format!(
        "host = \"localhost\"\nport = {}\nsecurity = \"starttls\"\nusername = \"qinqing\"\npassword = \"s3cret\"\nca_file = {:?}",
        srv.addr.port(),
        srv.ca.ca_path()
    ));
    within(ch.send(&zhang())).await.unwrap();
    let mails = srv.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls, "mail must travel after STARTTLS");
    assert_eq!(mails[0].auth_user.as_deref(), Some("qinqing"));
    assert_delivered(&mails[0]);
}

#[tokio::test]
async fn implicit_tls_with_auth() {
    let srv = SmtpServer::start(
        SmtpMode::ImplicitTls,
        SmtpOptions {
            auth: Some(("qinqing".into(), "s3cret".into())),
            ..Default::default()
        },
    )
    .await;
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nusername = \"qinqing\"\npassword = \"s3cret\"\nca_file = {:?}",
        srv.addr.port(),
        srv.ca.ca_path()
    ));
    within(ch.send(&zhang())).await.unwrap();
    let mails = srv.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls);
    assert_delivered(&mails[0]);
}

#[tokio::test]
async fn untrusted_certificate_is_permanent_with_a_hint() {
    let srv = SmtpServer::start(SmtpMode::ImplicitTls, SmtpOptions::default()).await;
    // No ca_file: the test CA is not trusted.
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\ntimeout_secs = 2",
        srv.addr.port()
    ));
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert!(err.reason().contains("Try security"), "{err}");
    assert!(srv.mails().is_empty());
}

#[tokio::test]
async fn tls_against_a_plain_server_hints_at_security() {
    let srv = SmtpServer::start(SmtpMode::Plain, SmtpOptions::default()).await;
    let ca = TestCa::new();
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\ntimeout_secs = 2\nca_file = {:?}",
        srv.addr.port(),
        ca.ca_path()
    ));
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert!(err.reason().contains("Try security"), "{err}");
}

#[tokio::test]
async fn wrong_password_is_permanent_535() {
    let srv = SmtpServer::start(
        SmtpMode::StartTls,
        SmtpOptions {
            auth: Some(("qinqing".into(), "right".into())),
            ..Default::default()
        },
    )
    .await;
    let ch = email_channel(&format!(
        "host = \"localhost\"\nport = {}\nusername = \"qinqing\"\npassword = \"wrong\"\nca_file = {:?}",
        srv.addr.port(),
        srv.ca.ca_path()
    ));
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
    assert!(err.reason().contains("535"), "{err}");
    assert!(!err.reason().contains("wrong"), "password leaked: {err}");
}

#[tokio::test]
async fn smtp_451_is_transient() {
    let srv = SmtpServer::start(
        SmtpMode::Plain,
        SmtpOptions {
            data_reply: Some("451 4.3.0 Temporary local problem".into()),
            ..Default::default()
        },
    )
    .await;
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"",
        srv.addr.port()
    ));
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn smtp_550_is_permanent() {
    let srv = SmtpServer::start(
        SmtpMode::Plain,
        SmtpOptions {
            rcpt_reply: Some("550 5.1.1 No such user".into()),
            ..Default::default()
        },
    )
    .await;
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"",
        srv.addr.port()
    ));
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
    assert!(err.reason().contains("550"), "{err}");
}

#[tokio::test]
async fn silent_server_times_out_as_transient() {
    let addr = silent_server().await;
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\ntimeout_secs = 1",
        addr.port()
    ));
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let addr = closed_port().await;
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\ntimeout_secs = 1",
        addr.port()
    ));
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn contact_without_address_is_permanent() {
    let ch = email_channel("host = \"127.0.0.1\"\nport = 9\nsecurity = \"plain\"");
    let msg = outgoing("k", vec![section(contact("S9", "无邮箱"), &["x"])]);
    let err = within(ch.send(&msg)).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err}");
}

#[test]
fn validation_names_keys() {
    let cfg: ChannelsConfig = toml::from_str(
        "[email]\nhost = \"\"\nfrom = \"not an address\"\nusername = \"u\"\ntimeout_secs = 0",
    )
    .unwrap();
    let all = cfg.validate().join("\n");
    for needle in [
        "channels.email.host is empty",
        "channels.email.from",
        "channels.email.password",
        "channels.email.timeout_secs",
    ] {
        assert!(all.contains(needle), "{needle} not in {all}");
    }
    assert!(build(&cfg, clock()).is_err());
}

/// `timeout_secs` is the whole send: a server that accepts and never speaks is
/// given up on after it, and the error names the server and the setting.
#[tokio::test]
async fn a_silent_server_times_out_after_timeout_secs() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock); // never answers
        }
    });
    let ch = email_channel(&format!(
        "host = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\ntimeout_secs = 1"
    ));
    let t0 = std::time::Instant::now();
    let err = within(ch.send(&zhang())).await.unwrap_err();
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        t0.elapsed()
    );
    assert!(err.is_transient(), "{err}");
    assert!(
        err.reason()
            .contains(&format!("127.0.0.1:{port} timed out after 1 s")),
        "{err}"
    );
    hold.abort();
}
