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
use super::robot::{self, Block, Part, Robot};
use super::{Outgoing, Section, SendError, WecomConfig};

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

#[async_trait]
impl Robot for WecomChannel {
    const NAME: &'static str = "wecom";
    const MAX_BYTES: usize = MAX_BYTES;
    const BULLET: &'static str = "> ";
    fn titles(subject: &str) -> (String, String) {
        (format!("**{subject}**"), format!("**{subject}(续)**"))
    }
    fn head(s: &Section) -> Block {
        match s
            .addressee
            .addresses
            .wecom
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            Some(uid) => Block::plain(format!("\n<@{uid}> {}", s.greeting)),
            None => Block::plain(format!("\n{}", s.greeting)),
        }
    }
    fn limit(&self) -> (&RateLimiter, u32) {
        (&self.limiter, self.cfg.per_minute)
    }
    async fn post(&self, _msg: &Outgoing, part: &Part) -> Result<(), SendError> {
        let body = json!({"msgtype": "markdown", "markdown": {"content": part.text}});
        let reply = robot::post_json(&self.client, "wecom", &self.cfg.url, &body).await?;
        robot::check_reply("wecom", &reply, &[45009, -1], |code| match code {
            93000 => Some("invalid webhook key: check channels.wecom.url"),
            40058 => Some("content too long"),
            _ => None,
        })
    }
}
