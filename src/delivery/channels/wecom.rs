//! WeCom (企业微信) group robot: `msgtype: markdown`, content at most 4096 UTF-8
//! bytes, so a long digest goes out as several messages split at line boundaries.
//!
//! Mentions: WeCom's markdown understands `<@userid>`, so a section whose addressee has
//! a WeCom userid (`Addressee::wecom`) starts with `<@userid>`. `mentioned_mobile_list`
//! only works for `msgtype: text`, and we prefer one readable markdown message over a
//! second text message per digest, so addressees without a userid are named (their
//! greeting carries the name) but not notified individually.
//!
//! The robot allows 20 messages a minute; we refuse the 21st ourselves with a
//! `Transient` error carrying `retry_after`. Success is `errcode == 0` in an HTTP 200
//! body; 45009 ("api freq out of limit") and -1 (system busy) are transient.

use async_trait::async_trait;
use serde_json::json;

use super::ratelimit::RateLimiter;
use super::robot::{self, Block};
use super::{Addressee, Channel, Outgoing, Receipt, SendError, WecomConfig};

/// WeCom's markdown content limit, in bytes.
pub const MAX_BYTES: usize = 4096;

pub struct WecomChannel {
    cfg: WecomConfig,
    client: reqwest::Client,
    limiter: RateLimiter,
}

impl WecomChannel {
    pub fn new(cfg: WecomConfig) -> Result<Self, String> {
        Ok(WecomChannel {
            client: super::http::client(cfg.timeout_secs)?,
            limiter: RateLimiter::per_minute(cfg.per_minute),
            cfg,
        })
    }
}

/// The markdown messages for one digest, each at most [`MAX_BYTES`].
pub fn render(msg: &Outgoing) -> Vec<String> {
    let mut blocks = Vec::new();
    for s in &msg.sections {
        let head = match s.addressee.wecom.as_deref().filter(|u| !u.is_empty()) {
            Some(uid) => format!("<@{uid}> {}", s.greeting),
            None => s.greeting.clone(),
        };
        blocks.push(Block::plain(format!("\n{head}")));
        for l in &s.lines {
            blocks.push(Block::plain(format!("> {l}")));
        }
    }
    let header = format!("**{}**", msg.subject);
    let cont = format!("**{}(续)**", msg.subject);
    robot::pack(&header, &cont, &blocks, MAX_BYTES)
        .into_iter()
        .map(|p| p.text)
        .collect()
}

#[async_trait]
impl Channel for WecomChannel {
    fn name(&self) -> &str {
        "wecom"
    }
    fn is_group(&self) -> bool {
        true
    }
    fn can_reach(&self, _c: &Addressee) -> bool {
        true
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let parts = render(msg);
        robot::acquire("wecom", &self.limiter, self.cfg.per_minute, parts.len())?;
        for content in &parts {
            let body = json!({"msgtype": "markdown", "markdown": {"content": content}});
            let reply = robot::post_json(&self.client, "wecom", &self.cfg.url, &body).await?;
            robot::check_reply("wecom", &reply, &[45009, -1], |code| match code {
                93000 => Some("invalid webhook key: check channels.wecom.url"),
                40058 => Some("content too long"),
                _ => None,
            })?;
        }
        tracing::debug!(channel = "wecom", parts = parts.len(), key = %msg.idempotency_key, "sent");
        Ok(Receipt { provider_id: None })
    }
}
