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
use super::robot::{self, Block, Part, Robot};
use super::{FeishuConfig, Outgoing, Section, SendError, sign};
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

#[async_trait]
impl Robot for FeishuChannel {
    const NAME: &'static str = "feishu";
    const MAX_BYTES: usize = MAX_BYTES;
    const BULLET: &'static str = "· ";
    fn titles(subject: &str) -> (String, String) {
        (format!("【{subject}】"), format!("【{subject}(续)】"))
    }
    /// Feishu text messages show a bare URL as a link.
    fn link(label: &str, url: &str) -> String {
        format!("{label}:{url}")
    }
    fn head(s: &Section) -> Block {
        match s
            .addressee
            .addresses
            .feishu
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            Some(uid) => Block::plain(format!(
                "\n<at user_id=\"{}\">{}</at> {}",
                escape_attr(uid),
                escape_attr(&s.addressee.name),
                s.greeting
            )),
            None => Block::plain(format!("\n{}", s.greeting)),
        }
    }
    fn limit(&self) -> (&RateLimiter, u32) {
        (&self.limiter, self.cfg.per_minute)
    }
    async fn post(&self, _msg: &Outgoing, part: &Part) -> Result<(), SendError> {
        let mut body = json!({"msg_type": "text", "content": {"text": part.text}});
        if let Some(secret) = &self.cfg.secret {
            let ts = self.clock.now().timestamp();
            body["timestamp"] = json!(ts.to_string());
            body["sign"] = json!(sign::feishu_sign(secret.expose(), ts));
        }
        let reply = robot::post_json(&self.client, "feishu", &self.cfg.url, &body).await?;
        robot::check_reply("feishu", &reply, &[9499, 11232], |code| match code {
            19021 => {
                Some("signature check failed: check channels.feishu.secret and the server clock")
            }
            19022 => Some("IP not allowed by the bot's security settings"),
            19024 => Some("keyword check failed: add the bot's keyword to the subject"),
            _ => None,
        })
    }
}
