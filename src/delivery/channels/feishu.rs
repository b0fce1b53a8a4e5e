//! Feishu / Lark (飞书) custom bot: `msg_type: text`, with `<at user_id="…">name</at>`
//! for addressees whose Feishu id is known (`Addressee::feishu`).
//!
//! With a secret ("签名校验"), the body carries `timestamp` (seconds, as a string) and
//! `sign` = base64(HMAC-SHA256(key = "<s>\n<secret>", message = empty)). Success is
//! `code == 0` (older replies: `StatusCode == 0`); 9499 and 11232 (too many
//! requests) are transient, 19021 (bad signature) and the rest permanent. Bodies are
//! limited to 20 KB, so long digests are split at about 18,000 bytes.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::ratelimit::RateLimiter;
use super::robot::{self, Block};
use super::{Addressee, Channel, FeishuConfig, Outgoing, Receipt, SendError, sign};
use crate::clock::Clock;

pub const MAX_BYTES: usize = 18_000;

pub struct FeishuChannel {
    cfg: FeishuConfig,
    client: reqwest::Client,
    limiter: RateLimiter,
    clock: Arc<dyn Clock>,
}

impl FeishuChannel {
    pub fn new(cfg: FeishuConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        Ok(FeishuChannel {
            client: super::http::client(cfg.timeout_secs)?,
            limiter: RateLimiter::per_minute(cfg.per_minute),
            cfg,
            clock,
        })
    }
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The text parts for one digest.
pub fn render(msg: &Outgoing) -> Vec<String> {
    let mut blocks = Vec::new();
    for s in &msg.sections {
        let head = match s.addressee.feishu.as_deref().filter(|u| !u.is_empty()) {
            Some(uid) => format!(
                "\n<at user_id=\"{}\">{}</at> {}",
                escape_attr(uid),
                escape_attr(&s.addressee.name),
                s.greeting
            ),
            None => format!("\n{}", s.greeting),
        };
        blocks.push(Block::plain(head));
        for l in &s.lines {
            blocks.push(Block::plain(format!("· {l}")));
        }
    }
    let header = format!("【{}】", msg.subject);
    let cont = format!("【{}(续)】", msg.subject);
    robot::pack(&header, &cont, &blocks, MAX_BYTES)
        .into_iter()
        .map(|p| p.text)
        .collect()
}

#[async_trait]
impl Channel for FeishuChannel {
    fn name(&self) -> &str {
        "feishu"
    }
    fn is_group(&self) -> bool {
        true
    }
    fn can_reach(&self, _c: &Addressee) -> bool {
        true
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let parts = render(msg);
        robot::acquire("feishu", &self.limiter, self.cfg.per_minute, parts.len())?;
        for text in &parts {
            let mut body = json!({"msg_type": "text", "content": {"text": text}});
            if let Some(secret) = &self.cfg.secret {
                let ts = self.clock.now().timestamp();
                body["timestamp"] = json!(ts.to_string());
                body["sign"] = json!(sign::feishu_sign(secret.expose(), ts));
            }
            let reply = robot::post_json(&self.client, "feishu", &self.cfg.url, &body).await?;
            robot::check_reply("feishu", &reply, &[9499, 11232], |code| match code {
                19021 => Some(
                    "signature check failed: check channels.feishu.secret and the server clock",
                ),
                19022 => Some("IP not allowed by the bot's security settings"),
                19024 => Some("keyword check failed: add the bot's keyword to the subject"),
                _ => None,
            })?;
        }
        tracing::debug!(channel = "feishu", parts = parts.len(), key = %msg.idempotency_key, "sent");
        Ok(Receipt { provider_id: None })
    }
}
