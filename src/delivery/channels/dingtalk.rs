//! DingTalk (钉钉) custom robot: markdown messages with `@<mobile>` in the text and
//! the mobiles in `at.atMobiles`, which is how DingTalk notifies people.
//!
//! With a secret ("加签"), `&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(secret,
//! "<ms>\n<secret>")))>` is appended to the URL. Success is `errcode == 0` in an HTTP
//! 200 body; 130101 ("send too fast") is transient; 310000 (bad signature, keyword
//! or IP) and everything else permanent. At most `per_minute` messages a minute
//! (DingTalk allows 20). Long digests are split at about 18,000 bytes.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::ratelimit::RateLimiter;
use super::robot::{self, Block, Part, Robot};
use super::{DingtalkConfig, Outgoing, Section, SendError, sign};
use crate::clock::Clock;

/// Keeps each markdown text comfortably under DingTalk's 20,000-byte limit.
pub const MAX_BYTES: usize = 18_000;

pub struct DingtalkChannel {
    cfg: DingtalkConfig,
    client: reqwest::Client,
    limiter: RateLimiter,
    clock: Arc<dyn Clock>,
}

impl DingtalkChannel {
    pub fn new(cfg: DingtalkConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        Ok(DingtalkChannel {
            client: super::http::client(cfg.timeout_secs)?,
            limiter: RateLimiter::per_minute(cfg.per_minute),
            cfg,
            clock,
        })
    }

    fn url(&self) -> String {
        match &self.cfg.secret {
            Some(secret) => {
                let ts = self.clock.now().timestamp_millis();
                let s = sign::dingtalk_sign(secret.expose(), ts);
                robot::with_query(
                    &self.cfg.url,
                    &format!("timestamp={ts}&sign={}", urlencoding::encode(&s)),
                )
            }
            None => self.cfg.url.clone(),
        }
    }
}

#[async_trait]
impl Robot for DingtalkChannel {
    const NAME: &'static str = "dingtalk";
    const MAX_BYTES: usize = MAX_BYTES;
    const BULLET: &'static str = "- ";
    fn titles(subject: &str) -> (String, String) {
        (format!("#### {subject}"), format!("#### {subject}(续)"))
    }
    /// DingTalk notifies by mobile: `@<mobile>` in the text, and the part's
    /// `mentions` go to `at.atMobiles`.
    fn head(s: &Section) -> Block {
        let mobile = s
            .addressee
            .addresses
            .mobile
            .clone()
            .filter(|m| !m.is_empty());
        let text = match &mobile {
            Some(m) => format!("\n{} @{m}", s.greeting),
            None => format!("\n{}", s.greeting),
        };
        Block {
            text,
            mention: mobile,
        }
    }
    fn limit(&self) -> (&RateLimiter, u32) {
        (&self.limiter, self.cfg.per_minute)
    }
    async fn post(&self, msg: &Outgoing, part: &Part) -> Result<(), SendError> {
        let body = json!({
            "msgtype": "markdown",
            "markdown": {"title": msg.subject, "text": part.text},
            "at": {"atMobiles": part.mentions, "isAtAll": false},
        });
        let reply = robot::post_json(&self.client, "dingtalk", &self.url(), &body).await?;
        robot::check_reply("dingtalk", &reply, &[130101, -1], |code| match code {
            310000 => Some(
                "signature, keyword or IP check failed: check channels.dingtalk.secret and the robot's security settings",
            ),
            300001 | 400102 => Some("invalid or disabled robot: check channels.dingtalk.url"),
            _ => None,
        })
    }
}
