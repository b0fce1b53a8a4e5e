//! What the three group robots (WeCom, DingTalk, Feishu) share: packing a digest's
//! lines into messages under a byte limit, posting JSON, and reading the
//! `errcode`/`code` that robots put in an HTTP 200 body.

use async_trait::async_trait;
use serde_json::Value;

use super::ratelimit::RateLimiter;
use super::{Channel, Outgoing, Receipt, Section, SendError, http};

/// What one group robot does its own way: how it titles a digest, greets and
/// mentions each staff member, and posts one part. The [`Channel`] impl below does
/// the rest for every robot: sections into size-limited parts, the per-minute limit,
/// one post per part.
#[async_trait]
pub(crate) trait Robot: Send + Sync {
    /// "wecom", "dingtalk", "feishu": the channel name and its config key.
    const NAME: &'static str;
    /// The robot's message size limit, in UTF-8 bytes.
    const MAX_BYTES: usize;
    /// Written before each reminder line.
    const BULLET: &'static str;
    /// The first part's title line and each continuation's.
    fn titles(subject: &str) -> (String, String);
    /// The first block of a section: the greeting, with the mention if any.
    fn head(section: &Section) -> Block;
    /// A link in the robot's text: markdown by default.
    fn link(label: &str, url: &str) -> String {
        format!("[{label}]({url})")
    }
    /// The limiter and the configured per-minute rate it enforces.
    fn limit(&self) -> (&RateLimiter, u32);
    /// Posts one part and checks the robot's reply.
    async fn post(&self, msg: &Outgoing, part: &Part) -> Result<(), SendError>;
}

/// The parts a robot posts for one digest, each at most `R::MAX_BYTES`.
pub(crate) fn render<R: Robot>(msg: &Outgoing) -> Vec<Part> {
    let mut blocks = Vec::new();
    for s in &msg.sections {
        blocks.push(R::head(s));
        for (i, l) in s.lines.iter().enumerate() {
            let link = s.items.get(i).and_then(|it| it.ack_url.as_deref());
            blocks.push(Block::plain(match link {
                Some(url) => format!("{}{l} {}", R::BULLET, R::link("确认办结", url)),
                None => format!("{}{l}", R::BULLET),
            }));
        }
        if let Some(url) = &s.worklist_url {
            blocks.push(Block::plain(R::link("我的工作清单", url)));
        }
    }
    let (header, continued) = R::titles(&msg.subject);
    pack(&header, &continued, &blocks, R::MAX_BYTES)
}

#[async_trait]
impl<R: Robot> Channel for R {
    fn name(&self) -> &str {
        R::NAME
    }
    fn is_group(&self) -> bool {
        true
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let parts = render::<R>(msg);
        let (limiter, per_minute) = self.limit();
        acquire(R::NAME, limiter, per_minute, parts.len())?;
        for part in &parts {
            self.post(msg, part).await?;
        }
        tracing::debug!(channel = R::NAME, parts = parts.len(), key = %msg.idempotency_key, "sent");
        Ok(Receipt { provider_id: None })
    }
}

/// One line of a robot message, with the mention it carries (if any).
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub text: String,
    pub mention: Option<String>,
}

impl Block {
    pub fn plain(text: impl Into<String>) -> Self {
        Block {
            text: text.into(),
            mention: None,
        }
    }
}

/// One message to post: its text and the mentions of the lines it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub text: String,
    pub mentions: Vec<String>,
}

/// Packs blocks into parts of at most `limit` UTF-8 bytes, breaking only between
/// blocks (a single block longer than a part is cut at character boundaries).
/// The first part starts with `header`, later ones with `continued`.
pub(crate) fn pack(header: &str, continued: &str, blocks: &[Block], limit: usize) -> Vec<Part> {
    let head_len = header.len().max(continued.len()) + 1;
    let room = limit.saturating_sub(head_len).max(16);
    // Cut over-long blocks first.
    let mut pieces: Vec<Block> = Vec::new();
    for b in blocks {
        if b.text.len() <= room {
            pieces.push(b.clone());
            continue;
        }
        let mut cur = String::new();
        for ch in b.text.chars() {
            if cur.len() + ch.len_utf8() > room {
                pieces.push(Block {
                    text: std::mem::take(&mut cur),
                    mention: b.mention.clone(),
                });
            }
            cur.push(ch);
        }
        if !cur.is_empty() {
            pieces.push(Block {
                text: cur,
                mention: b.mention.clone(),
            });
        }
    }
    let mut parts: Vec<Part> = Vec::new();
    let mut body = String::new();
    let mut mentions: Vec<String> = Vec::new();
    let flush = |parts: &mut Vec<Part>, body: &mut String, mentions: &mut Vec<String>| {
        let h = if parts.is_empty() { header } else { continued };
        parts.push(Part {
            text: format!("{h}\n{body}"),
            mentions: std::mem::take(mentions),
        });
        body.clear();
    };
    for p in pieces {
        let extra = if body.is_empty() { 0 } else { 1 } + p.text.len();
        if !body.is_empty() && body.len() + extra > room {
            flush(&mut parts, &mut body, &mut mentions);
        }
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(&p.text);
        if let Some(m) = p.mention
            && !mentions.contains(&m)
        {
            mentions.push(m);
        }
    }
    if !body.is_empty() || parts.is_empty() {
        flush(&mut parts, &mut body, &mut mentions);
    }
    parts
}

/// POSTs a JSON body and returns the parsed JSON reply of a 2xx answer.
pub(crate) async fn post_json(
    client: &reqwest::Client,
    channel: &str,
    url: &str,
    body: &Value,
) -> Result<Value, SendError> {
    let (status, headers, text) = http::exchange(channel, client.post(url).json(body)).await?;
    if !status.is_success() {
        return Err(http::status_error(channel, status, &headers, &text));
    }
    serde_json::from_str(&text).map_err(|_| {
        SendError::permanent(format!(
            "{channel}: HTTP {status} but the reply is not JSON: {} (check channels.{channel}.url)",
            http::snippet(&text)
        ))
    })
}

/// Reads `errcode`/`code`/`StatusCode` and the message from a robot reply.
pub(crate) fn reply_code(v: &Value) -> (Option<i64>, String) {
    let code = ["errcode", "code", "StatusCode"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_i64));
    let msg = ["errmsg", "msg", "StatusMessage"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    (code, msg)
}

/// Checks a robot reply: `Ok` when the code is 0, else the code sorted by
/// `transient_codes`.
pub(crate) fn check_reply(
    channel: &str,
    v: &Value,
    transient_codes: &[i64],
    hint: impl Fn(i64) -> Option<&'static str>,
) -> Result<(), SendError> {
    match reply_code(v) {
        (Some(0), _) => Ok(()),
        (Some(code), msg) => {
            let mut reason = format!("{channel}: robot answered code {code}: {msg}");
            if let Some(h) = hint(code) {
                reason.push_str(&format!(" ({h})"));
            }
            if transient_codes.contains(&code) {
                Err(SendError::throttled(reason, None))
            } else {
                Err(SendError::permanent(reason))
            }
        }
        (None, _) => Err(SendError::permanent(format!(
            "{channel}: reply has no errcode/code: {}",
            http::snippet(&v.to_string())
        ))),
    }
}

/// Refuses up front when the limiter is full.
pub(crate) fn acquire(
    channel: &str,
    limiter: &RateLimiter,
    per_minute: u32,
    n: usize,
) -> Result<(), SendError> {
    match limiter.try_acquire(n) {
        Ok(()) => Ok(()),
        Err(Some(wait)) => Err(SendError::throttled(
            format!(
                "{channel}: rate limit of {per_minute} messages a minute reached (channels.{channel}.per_minute)"
            ),
            Some(wait),
        )),
        Err(None) => Err(SendError::permanent(format!(
            "{channel}: this digest needs {n} messages, more than channels.{channel}.per_minute = {per_minute}"
        ))),
    }
}

/// Appends query parameters to a URL that may already have a query.
pub(crate) fn with_query(url: &str, extra: &str) -> String {
    if url.contains('?') {
        format!("{url}&{extra}")
    } else {
        format!("{url}?{extra}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_under_the_limit_at_line_boundaries() {
        let blocks: Vec<Block> = (0..100)
            .map(|i| Block {
                text: format!("{i:03} 走访王老同志,送生日蛋糕"),
                mention: Some(format!("u{}", i / 10)),
            })
            .collect();
        let parts = pack("**提醒**", "**提醒(续)**", &blocks, 500);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(p.text.len() <= 500, "{}", p.text.len());
        }
        let joined: Vec<String> = parts
            .iter()
            .flat_map(|p| p.text.lines().skip(1).map(String::from).collect::<Vec<_>>())
            .collect();
        assert_eq!(joined.len(), 100);
        assert!(parts[1].text.starts_with("**提醒(续)**\n"));
        assert!(!parts[0].mentions.is_empty());
    }

    #[test]
    fn cuts_a_giant_line_on_char_boundaries() {
        let parts = pack("h", "c", &[Block::plain("字".repeat(1000))], 100);
        assert!(parts.iter().all(|p| p.text.len() <= 100));
        let total: usize = parts.iter().map(|p| p.text.chars().count() - 2).sum();
        assert_eq!(total, 1000);
    }

    #[test]
    fn empty_digest_is_one_part() {
        assert_eq!(pack("h", "c", &[], 100).len(), 1);
    }
}
