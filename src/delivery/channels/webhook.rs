//! Generic JSON webhook, for a bureau's own systems (OA, a message bus, a pager).
//!
//! Each [`Outgoing`] is one `POST` to `channels.webhook.url` with
//! `Content-Type: application/json` and this body:
//!
//! ```json
//! {
//!   "idempotency_key": "2026-09-18/S001/wecom",   // stable across resends
//!   "kind": "digest",                             // digest | urgent | test
//!   "subject": "亲情服务提醒(2026年9月18日)",
//!   "sections": [
//!     { "staff_no": "S001", "name": "张三", "mobile": "13800000000",   // mobile may be null
//!       "greeting": "张三同志:今日亲情服务提醒2项:",
//!       "lines": ["1. 李四 90岁寿辰(9月25日),请于9月24日前走访 提醒编号WYME4P", "…"],
//!       // one per reminder line, in order (the last line of `lines` is the closing text)
//!       "items": [ { "person": "LX0001",          // 编号, or the masked ID number
//!                    "name": "李四", "rule": "birthday-milestone", "title": "李四 90岁寿辰",
//!                    "occasion_on": "2026-09-25", "due_on": "2026-09-24",
//!                    "reference": "WYME4P",
//!                    "ack_url": "https://qinqing.example.gov.cn/a/…" } ],  // null while http.base_url is unset
//!       "worklist_url": "https://qinqing.example.gov.cn/s/…" }              // null likewise
//!   ]
//! }
//! ```
//!
//! Headers: `Idempotency-Key: <idempotency_key>` (the same on every resend: delivery
//! is at least once, so receivers should deduplicate on it) and, when
//! `channels.webhook.secret` is set, `X-Qinqing-Signature: sha256=<hex
//! HMAC-SHA256(secret, raw body bytes)>` (header name configurable with
//! `signature_header`). Verify it over the exact bytes received, before parsing.
//!
//! Any 2xx is success; if the reply is JSON with a string `id`, it becomes the
//! receipt's `provider_id`. 408, 429 (honouring `Retry-After` in seconds) and 5xx are
//! retried; other statuses are permanent.

use async_trait::async_trait;
use serde_json::json;

use super::{Channel, Outgoing, Receipt, SendError, WebhookConfig, http, sign};

pub struct WebhookChannel {
    cfg: WebhookConfig,
    client: reqwest::Client,
}

impl WebhookChannel {
    pub fn new(cfg: WebhookConfig) -> Result<Self, String> {
        Ok(WebhookChannel {
            client: http::client(cfg.timeout_secs)?,
            cfg,
        })
    }
}

/// The exact body bytes sent (and signed).
pub fn body(msg: &Outgoing) -> Vec<u8> {
    let v = msg.to_json(|s| {
        json!({
            "staff_no": s.addressee.staff_no,
            "name": s.addressee.name,
            "mobile": s.addressee.addresses.mobile,
            "greeting": s.greeting,
            "lines": s.lines,
            "items": s.items,
            "worklist_url": s.worklist_url,
        })
    });
    serde_json::to_vec(&v).expect("JSON values always serialise")
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        "webhook"
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let bytes = body(msg);
        let mut req = self
            .client
            .post(&self.cfg.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", &msg.idempotency_key);
        if let Some(secret) = &self.cfg.secret {
            req = req.header(
                self.cfg.signature_header.as_str(),
                sign::webhook_signature(secret.expose(), &bytes),
            );
        }
        let (status, headers, text) = http::exchange("webhook", req.body(bytes)).await?;
        if !status.is_success() {
            return Err(http::status_error("webhook", status, &headers, &text));
        }
        let provider_id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(String::from));
        Ok(Receipt { provider_id })
    }
}
