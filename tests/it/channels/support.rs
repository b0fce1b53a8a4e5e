//! Protocol peers on loopback for the channel tests: a small ESMTP server (plain,
//! STARTTLS, implicit TLS, AUTH PLAIN/LOGIN, replies on demand), an HTTP server whose
//! handler decides the reply from the received request, a server that accepts and
//! never answers, and independent re-implementations of the providers' signature
//! checks (they do not call the crate's signers).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use qinqing::delivery::channels::{Addressee, MessageKind, Outgoing, Section, SmsFields};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The clock the channels sign with in these tests: a fixed instant, never the wall
/// clock (the peers check signatures, not freshness).
pub fn clock() -> Arc<dyn qinqing::clock::Clock> {
    Arc::new(qinqing::clock::FixedClock::parse("2026-09-18T08:30:00+08:00").unwrap())
}

/// Awaits a future with a generous bound, so a hang fails the test instead of CI.
pub async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("timed out")
}

// ------------------------------------------------------------------ messages

pub fn contact(staff_no: &str, name: &str) -> Addressee {
    Addressee {
        staff_no: staff_no.into(),
        name: name.into(),
        ..Default::default()
    }
}

pub fn section(c: Addressee, lines: &[&str]) -> Section {
    Section {
        greeting: format!("{}同志:本周需走访{}位老同志:", c.name, lines.len()),
        addressee: c,
        lines: lines.iter().map(|l| l.to_string()).collect(),
        ..Default::default()
    }
}

pub fn outgoing(key: &str, sections: Vec<Section>) -> Outgoing {
    Outgoing {
        idempotency_key: key.into(),
        subject: "亲情服务提醒(2026年9月18日)".into(),
        sections,
        sms: SmsFields {
            name: "张三".into(),
            count: 3,
            reference: "R20260918".into(),
            date: "9月18日".into(),
            ..Default::default()
        },
        kind: MessageKind::Digest,
    }
}

/// A loopback port with nothing listening on it.
pub async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

/// Accepts connections, reads whatever arrives, never answers.
pub async fn silent_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut s, &mut tokio::io::sink()).await;
            });
        }
    });
    a
}

// ------------------------------------------------------------------ TLS

/// A throw-away CA and a server certificate for `localhost` and `127.0.0.1`.
pub struct TestCa {
    pub ca_file: tempfile::NamedTempFile,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl TestCa {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "qinqing test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut leaf_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        leaf_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

        let mut ca_file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut ca_file, ca_cert.pem().as_bytes()).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap();
        TestCa {
            ca_file,
            server_config: Arc::new(server_config),
        }
    }

    pub fn ca_path(&self) -> PathBuf {
        self.ca_file.path().to_path_buf()
    }
}

// ------------------------------------------------------------------ SMTP

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    Plain,
    StartTls,
    ImplicitTls,
}

#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Required credentials; AUTH is advertised only when set.
    pub auth: Option<(String, String)>,
    /// A full reply line for every RCPT, e.g. "550 5.1.1 no such user".
    pub rcpt_reply: Option<String>,
    /// A full reply line after the DATA payload, e.g. "451 4.3.0 try later".
    pub data_reply: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
    pub auth_user: Option<String>,
    pub tls: bool,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<ReceivedMail>>>,
    pub ca: Arc<TestCa>,
}

struct SmtpState {
    mode: SmtpMode,
    opts: SmtpOptions,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
}

impl SmtpServer {
    pub async fn start(mode: SmtpMode, opts: SmtpOptions) -> Self {
        let ca = Arc::new(TestCa::new());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let st = Arc::new(SmtpState {
            mode,
            opts,
            received: received.clone(),
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let st = st.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = serve_smtp(sock, st, acceptor).await;
                });
            }
        });
        SmtpServer { addr, received, ca }
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }
}

async fn serve_smtp(
    sock: tokio::net::TcpStream,
    st: Arc<SmtpState>,
    acceptor: tokio_rustls::TlsAcceptor,
) -> std::io::Result<()> {
    match st.mode {
        SmtpMode::ImplicitTls => {
            let tls = acceptor.accept(sock).await?;
            smtp_session(tls, &st, true, true).await?;
        }
        SmtpMode::Plain | SmtpMode::StartTls => {
            if let Some(plain) = smtp_session(sock, &st, false, true).await? {
                let tls = acceptor.accept(plain).await?;
                smtp_session(tls, &st, true, false).await?;
            }
        }
    }
    Ok(())
}

async fn reply<S: AsyncWrite + Unpin>(s: &mut S, line: &str) -> std::io::Result<()> {
    s.write_all(line.as_bytes()).await?;
    s.write_all(b"\r\n").await?;
    s.flush().await
}

async fn read_line<S: AsyncRead + Unpin>(s: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if s.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&buf).trim_end().to_string()))
}

fn b64(s: &str) -> String {
    String::from_utf8_lossy(&B64.decode(s.trim()).unwrap_or_default()).into_owned()
}

/// One SMTP conversation. Returns the raw stream when the client asked for STARTTLS.
async fn smtp_session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    st: &SmtpState,
    tls: bool,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut s = BufReader::new(stream);
    if greet {
        reply(s.get_mut(), "220 localhost ESMTP qinqing-test").await?;
    }
    let mut auth_user: Option<String> = None;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    while let Some(line) = read_line(&mut s).await? {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut lines = vec!["250-localhost".to_string(), "250-8BITMIME".to_string()];
            if st.mode == SmtpMode::StartTls && !tls {
                lines.push("250-STARTTLS".into());
            }
            if st.opts.auth.is_some() {
                lines.push("250-AUTH PLAIN LOGIN".into());
            }
            lines.push("250 SMTPUTF8".into());
            reply(s.get_mut(), &lines.join("\r\n")).await?;
        } else if upper == "STARTTLS" {
            if st.mode == SmtpMode::StartTls && !tls {
                reply(s.get_mut(), "220 2.0.0 Ready to start TLS").await?;
                return Ok(Some(s.into_inner()));
            }
            reply(s.get_mut(), "502 5.5.1 not here").await?;
        } else if upper.starts_with("AUTH PLAIN") {
            let mut arg = line[10..].trim().to_string();
            if arg.is_empty() {
                reply(s.get_mut(), "334 ").await?;
                arg = read_line(&mut s).await?.unwrap_or_default();
            }
            let decoded = b64(&arg);
            let parts: Vec<&str> = decoded.split('\0').collect();
            let (u, p) = (
                parts.get(1).copied().unwrap_or(""),
                parts.get(2).copied().unwrap_or(""),
            );
            auth_user = check_auth(&mut s, st, u, p).await?;
        } else if upper.starts_with("AUTH LOGIN") {
            let mut user = line[10..].trim().to_string();
            if user.is_empty() {
                reply(s.get_mut(), "334 VXNlcm5hbWU6").await?;
                user = read_line(&mut s).await?.unwrap_or_default();
            }
            reply(s.get_mut(), "334 UGFzc3dvcmQ6").await?;
            let pass = read_line(&mut s).await?.unwrap_or_default();
            auth_user = check_auth(&mut s, st, &b64(&user), &b64(&pass)).await?;
        } else if upper.starts_with("MAIL FROM:") {
            if st.opts.auth.is_some() && auth_user.is_none() {
                reply(s.get_mut(), "530 5.7.0 Authentication required").await?;
                continue;
            }
            from = line[10..].trim().trim_matches(['<', '>']).to_string();
            to.clear();
            reply(s.get_mut(), "250 2.1.0 Ok").await?;
        } else if upper.starts_with("RCPT TO:") {
            if let Some(r) = &st.opts.rcpt_reply {
                reply(s.get_mut(), r).await?;
                continue;
            }
            to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            reply(s.get_mut(), "250 2.1.5 Ok").await?;
        } else if upper == "DATA" {
            reply(s.get_mut(), "354 End data with <CR><LF>.<CR><LF>").await?;
            let mut data = Vec::new();
            loop {
                let mut buf = Vec::new();
                if s.read_until(b'\n', &mut buf).await? == 0 {
                    return Ok(None);
                }
                if buf == b".\r\n" || buf == b".\n" {
                    break;
                }
                if buf.starts_with(b"..") {
                    buf.remove(0);
                }
                data.extend_from_slice(&buf);
            }
            if let Some(r) = &st.opts.data_reply {
                reply(s.get_mut(), r).await?;
                continue;
            }
            let n = {
                let mut rec = st.received.lock().unwrap();
                rec.push(ReceivedMail {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                    auth_user: auth_user.clone(),
                    tls,
                });
                rec.len()
            };
            reply(s.get_mut(), &format!("250 2.0.0 Ok: queued as Q{n}")).await?;
        } else if upper == "RSET" || upper == "NOOP" {
            reply(s.get_mut(), "250 2.0.0 Ok").await?;
        } else if upper == "QUIT" {
            reply(s.get_mut(), "221 2.0.0 Bye").await?;
            return Ok(None);
        } else {
            reply(s.get_mut(), "500 5.5.2 unrecognised command").await?;
        }
    }
    Ok(None)
}

async fn check_auth<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    st: &SmtpState,
    user: &str,
    pass: &str,
) -> std::io::Result<Option<String>> {
    match &st.opts.auth {
        Some((u, p)) if u == user && p == pass => {
            reply(s.get_mut(), "235 2.7.0 Authentication successful").await?;
            Ok(Some(user.to_string()))
        }
        _ => {
            reply(s.get_mut(), "535 5.7.8 Authentication credentials invalid").await?;
            Ok(None)
        }
    }
}

// ------------------------------------------------------------------ HTTP

/// A request as the peer received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, as sent (still percent-encoded).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    /// Decoded query parameters.
    pub fn params(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (
                    urlencoding::decode(k).unwrap().into_owned(),
                    urlencoding::decode(v).unwrap().into_owned(),
                )
            })
            .collect()
    }
    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// The peer's answer: status, extra headers, JSON/text body.
pub struct Answer(pub u16, pub Vec<(&'static str, String)>, pub String);

pub fn ok_json(v: serde_json::Value) -> Answer {
    Answer(200, vec![], v.to_string())
}

type Responder = Arc<dyn Fn(&Recorded) -> Answer + Send + Sync>;

#[derive(Clone)]
struct PeerState {
    requests: Arc<Mutex<Vec<Recorded>>>,
    respond: Responder,
}

pub struct HttpPeer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl HttpPeer {
    /// Serves every request with `respond` on 127.0.0.1:0.
    pub async fn start(respond: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = PeerState {
            requests: requests.clone(),
            respond: Arc::new(respond),
        };
        let app = axum::Router::new().fallback(handle).with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HttpPeer { addr, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn handle(
    State(st): State<PeerState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers,
        body,
    };
    let Answer(status, extra, text) = (st.respond)(&rec);
    st.requests.lock().unwrap().push(rec);
    let mut resp = (StatusCode::from_u16(status).unwrap(), text).into_response();
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

// ------------------------------------------------------------------ provider checks

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn rfc3986(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The webhook receiver's check: `sha256=<hex HMAC(secret, body)>`.
pub fn verify_webhook(r: &Recorded, header: &str, secret: &str) -> Result<(), String> {
    let want = format!(
        "sha256={}",
        hex::encode(hmac256(secret.as_bytes(), &r.body))
    );
    if r.header(header) == want {
        Ok(())
    } else {
        Err(format!("bad signature {:?}", r.header(header)))
    }
}

/// DingTalk's check of `timestamp` and `sign` in the query.
pub fn verify_dingtalk(r: &Recorded, secret: &str) -> Result<(), String> {
    let ts = r.param("timestamp").ok_or("no timestamp")?;
    let sign = r.param("sign").ok_or("no sign")?;
    let want = B64.encode(hmac256(
        secret.as_bytes(),
        format!("{ts}\n{secret}").as_bytes(),
    ));
    if sign == want {
        Ok(())
    } else {
        Err(format!("sign mismatch: {sign}"))
    }
}

/// Feishu's check of `timestamp` and `sign` in the body.
pub fn verify_feishu(r: &Recorded, secret: &str) -> Result<(), String> {
    let v = r.json();
    let ts = v["timestamp"].as_str().ok_or("no timestamp string")?;
    let sign = v["sign"].as_str().ok_or("no sign")?;
    let want = B64.encode(hmac256(format!("{ts}\n{secret}").as_bytes(), b""));
    if sign == want {
        Ok(())
    } else {
        Err(format!("sign mismatch: {sign}"))
    }
}

fn auth_fields(
    auth: &str,
    algo: &str,
) -> Result<std::collections::HashMap<String, String>, String> {
    let rest = auth
        .strip_prefix(algo)
        .ok_or_else(|| format!("Authorization does not start with {algo}: {auth}"))?;
    Ok(rest
        .split(',')
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Aliyun's ACS3-HMAC-SHA256 check, rebuilt from the received request.
pub fn verify_aliyun(r: &Recorded, key_id: &str, secret: &str) -> Result<(), String> {
    let f = auth_fields(r.header("authorization"), "ACS3-HMAC-SHA256 ")?;
    if f.get("Credential").map(String::as_str) != Some(key_id) {
        return Err("wrong access key id".into());
    }
    let body_hash = sha_hex(&r.body);
    if r.header("x-acs-content-sha256") != body_hash {
        return Err("x-acs-content-sha256 does not match the body".into());
    }
    let signed = f.get("SignedHeaders").ok_or("no SignedHeaders")?;
    for required in [
        "host",
        "x-acs-action",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ] {
        if !signed.split(';').any(|h| h == required) {
            return Err(format!("{required} is not signed"));
        }
    }
    let mut params: Vec<(String, String)> = r
        .params()
        .into_iter()
        .map(|(k, v)| (rfc3986(&k), rfc3986(&v)))
        .collect();
    params.sort();
    let query = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canon = format!("{}\n{}\n{query}\n", r.method, r.path);
    for h in signed.split(';') {
        canon.push_str(&format!("{h}:{}\n", r.header(h).trim()));
    }
    canon.push_str(&format!("\n{signed}\n{body_hash}"));
    let to_sign = format!("ACS3-HMAC-SHA256\n{}", sha_hex(canon.as_bytes()));
    let want = hex::encode(hmac256(secret.as_bytes(), to_sign.as_bytes()));
    if f.get("Signature") == Some(&want) {
        Ok(())
    } else {
        Err("signature mismatch".into())
    }
}

/// Tencent's TC3-HMAC-SHA256 check, rebuilt from the received request.
pub fn verify_tencent(r: &Recorded, secret_id: &str, secret_key: &str) -> Result<(), String> {
    let f = auth_fields(r.header("authorization"), "TC3-HMAC-SHA256 ")?;
    let cred = f.get("Credential").ok_or("no Credential")?;
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() != 4 || parts[0] != secret_id || parts[3] != "tc3_request" {
        return Err(format!("bad credential {cred}"));
    }
    let (date, service) = (parts[1], parts[2]);
    let ts: i64 = r
        .header("x-tc-timestamp")
        .parse()
        .map_err(|_| "bad timestamp")?;
    let day = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    if day != date {
        return Err("credential date does not match X-TC-Timestamp".into());
    }
    let signed = f.get("SignedHeaders").ok_or("no SignedHeaders")?;
    let mut canon = format!("{}\n{}\n{}\n", r.method, r.path, r.query);
    for h in signed.split(';') {
        canon.push_str(&format!(
            "{h}:{}\n",
            r.header(h).trim().to_ascii_lowercase()
        ));
    }
    canon.push_str(&format!("\n{signed}\n{}", sha_hex(&r.body)));
    let sts = format!(
        "TC3-HMAC-SHA256\n{ts}\n{date}/{service}/tc3_request\n{}",
        sha_hex(canon.as_bytes())
    );
    let k1 = hmac256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k2 = hmac256(&k1, service.as_bytes());
    let k3 = hmac256(&k2, b"tc3_request");
    let want = hex::encode(hmac256(&k3, sts.as_bytes()));
    if f.get("Signature") == Some(&want) {
        Ok(())
    } else {
        Err("signature mismatch".into())
    }
}
