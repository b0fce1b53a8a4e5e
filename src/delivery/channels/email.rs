//! Email over SMTP (lettre): STARTTLS, implicit TLS or plain; AUTH when a username
//! is set; one pooled transport built once per process.
//!
//! One mail per section, to that section's addressee, `text/plain; charset=utf-8`
//! with the Chinese subject and body. The `Message-ID` is derived from the
//! idempotency key and staff number, so a resend carries the same id (mail clients
//! and many MTAs drop the duplicate), and the key itself travels in
//! `X-Qinqing-Idempotency-Key`.
//!
//! SMTP 4xx, timeouts and connection failures are transient; 5xx (550 mailbox
//! unavailable, 535 bad credentials) and TLS failures are permanent, the latter with
//! a hint about `security` and `port`.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Addressee, Channel, EmailConfig, EmailSecurity, Outgoing, Receipt, SendError, sign};

/// `X-Qinqing-Idempotency-Key`
#[derive(Debug, Clone)]
struct IdempotencyKey(String);

impl Header for IdempotencyKey {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Qinqing-Idempotency-Key")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(IdempotencyKey(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    security: EmailSecurity,
    host: String,
    port: u16,
    timeout: Duration,
}

impl EmailChannel {
    /// Builds the pooled transport once. Reads `ca_file`; no connection is made yet.
    pub fn new(cfg: &EmailConfig) -> Result<Self, String> {
        super::install_crypto_provider();
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| format!("channels.email.from: {e}"))?;
        let timeout = Duration::from_secs(cfg.timeout_secs);
        let tls_params = || -> Result<TlsParameters, String> {
            let mut b = TlsParameters::builder(cfg.host.clone());
            if let Some(path) = &cfg.ca_file {
                let pem = std::fs::read(path).map_err(|e| {
                    format!(
                        "channels.email.ca_file {}: cannot read: {e}",
                        path.display()
                    )
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    format!(
                        "channels.email.ca_file {}: not a PEM certificate: {e}",
                        path.display()
                    )
                })?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls()
                .map_err(|e| format!("channels.email: TLS set-up failed: {e}"))
        };
        let tls = match cfg.security {
            EmailSecurity::Starttls => Tls::Required(tls_params()?),
            EmailSecurity::Tls => Tls::Wrapper(tls_params()?),
            EmailSecurity::Plain => Tls::None,
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone())
            .port(cfg.port())
            .tls(tls)
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(cfg.pool_size));
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            b = b.credentials(Credentials::new(u.clone(), p.expose().to_string()));
        }
        Ok(EmailChannel {
            transport: b.build(),
            from,
            security: cfg.security,
            host: cfg.host.clone(),
            port: cfg.port(),
            timeout,
        })
    }

    fn hint(&self) -> String {
        format!(
            "Try security = \"tls\" with port 465 or \"starttls\" with port 587 (channels.email; now {:?} on {}:{})",
            self.security, self.host, self.port
        )
    }

    fn classify(&self, to: &str, e: lettre::transport::smtp::Error) -> SendError {
        let mut detail = e.to_string();
        let mut tls_failure = e.is_tls();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            let text = s.to_string();
            if !detail.contains(&text) {
                detail.push_str(&format!(": {text}"));
            }
            let is_rustls = s.downcast_ref::<rustls::Error>().is_some()
                || s.downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
            tls_failure |= is_rustls;
            src = s.source();
        }
        let reason = format!("email to {to} via {}:{}: {detail}", self.host, self.port);
        if tls_failure && !e.is_transient() && !e.is_permanent() && !e.is_timeout() {
            return SendError::permanent(format!("{reason}. {}", self.hint()));
        }
        if e.is_transient() || e.is_timeout() {
            if e.is_timeout() && self.security != EmailSecurity::Plain {
                return SendError::transient(format!("{reason}. {}", self.hint()));
            }
            return SendError::transient(reason);
        }
        if e.is_permanent() {
            if e.status().is_some_and(|c| c.to_string().starts_with("535")) {
                return SendError::permanent(format!(
                    "{reason}. Check channels.email.username and QINQING_CHANNELS_EMAIL_PASSWORD"
                ));
            }
            return SendError::permanent(reason);
        }
        if tls_failure {
            // Certificate or protocol mismatch: retrying will not fix the config.
            return SendError::permanent(format!("{reason}. {}", self.hint()));
        }
        if e.is_client() {
            return SendError::permanent(reason);
        }
        // Connection, network, response parsing, pool shutdown.
        SendError::transient(reason)
    }
}

/// `<qinqing.<32 hex>@qinqing.local>`: stable for one digest and recipient.
pub fn message_id(idempotency_key: &str, staff_no: &str) -> String {
    let h = sign::sha256_hex(format!("{idempotency_key}\n{staff_no}").as_bytes());
    format!("<qinqing.{}@qinqing.local>", &h[..32])
}

/// The plain-text body of one section, each line followed by its link.
pub fn body_text(section: &super::Section) -> String {
    let mut s = String::new();
    s.push_str(&section.greeting);
    s.push_str("\n\n");
    for l in section.lines_with_links() {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

/// The HTML body of one section: the lines, a 确认办结 button under each that has a
/// link, and the worklist button. Inline styles only (mail clients drop the rest).
pub fn body_html(section: &super::Section) -> String {
    use crate::html::escape;
    const BUTTON: &str = "display:inline-block;margin:4px 0 12px;padding:8px 16px;\
        background:#b71c1c;color:#fff;border-radius:6px;text-decoration:none;font-size:16px";
    let mut s = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;font-size:16px;line-height:1.6\">",
    );
    s.push_str(&format!("<p>{}</p>", escape(&section.greeting)));
    for (i, l) in section.lines.iter().enumerate() {
        s.push_str(&format!("<p style=\"margin:8px 0 0\">{}</p>", escape(l)));
        if let Some(url) = section.items.get(i).and_then(|it| it.ack_url.as_deref()) {
            s.push_str(&format!(
                "<a href=\"{}\" style=\"{BUTTON}\">确认办结</a>",
                escape(url)
            ));
        }
    }
    if let Some(url) = &section.worklist_url {
        s.push_str(&format!(
            "<p><a href=\"{}\" style=\"{BUTTON};background:#37474f\">我的工作清单</a></p>",
            escape(url)
        ));
    }
    s.push_str("</body></html>");
    s
}

#[async_trait]
impl Channel for EmailChannel {
    fn name(&self) -> &str {
        "email"
    }
    fn can_reach(&self, c: &Addressee) -> bool {
        c.addresses
            .email
            .as_deref()
            .is_some_and(|e| e.parse::<lettre::Address>().is_ok())
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        // Check every address before sending anything.
        let mut mails = Vec::new();
        for s in &msg.sections {
            let addr = s.addressee.addresses.email.as_deref().unwrap_or("");
            let to = Mailbox::new(
                Some(s.addressee.name.clone()).filter(|n| !n.is_empty()),
                addr.parse().map_err(|_| {
                    SendError::permanent(format!(
                        "email: staff {} has no usable address ({addr:?})",
                        s.addressee.staff_no
                    ))
                })?,
            );
            let m = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(msg.subject.clone())
                .message_id(Some(message_id(
                    &msg.idempotency_key,
                    &s.addressee.staff_no,
                )))
                .header(IdempotencyKey(msg.idempotency_key.clone()))
                .multipart(lettre::message::MultiPart::alternative_plain_html(
                    body_text(s),
                    body_html(s),
                ))
                .map_err(|e| SendError::permanent(format!("email: cannot build message: {e}")))?;
            mails.push((addr.to_string(), m));
        }
        let mut ids = Vec::new();
        for (addr, m) in mails {
            // `timeout_secs` is the whole time a send may take (lettre bounds each
            // SMTP command; this bounds the connection, TLS and every command together).
            let sent = tokio::time::timeout(self.timeout, self.transport.send(m)).await;
            match sent {
                Err(_) => {
                    return Err(SendError::transient(format!(
                        "email to {addr}: {}:{} timed out after {} s (channels.email.timeout_secs). {}",
                        self.host,
                        self.port,
                        self.timeout.as_secs(),
                        self.hint()
                    )));
                }
                Ok(Err(e)) => return Err(self.classify(&addr, e)),
                Ok(Ok(resp)) => {
                    if let Some(line) = resp.message().next() {
                        ids.push(line.to_string());
                    }
                }
            }
        }
        Ok(Receipt {
            provider_id: (!ids.is_empty()).then(|| ids.join(",")),
        })
    }
}
