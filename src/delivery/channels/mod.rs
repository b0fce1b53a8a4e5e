//! Channels: one trait ([`Channel`]), one module per transport, and the config that
//! builds them.
//!
//! This folder owns the wire formats and the providers' quirks: signing, size limits,
//! rate limits, and sorting every failure into [`SendError::Transient`] (retry later)
//! or [`SendError::Permanent`] (retrying will not help: fix config or contact data).
//! It does not decide who gets what, when, or how often to retry: that is the
//! dispatcher's job (`delivery/`), which hands us finished [`Outgoing`] messages.
//!
//! Nothing here logs message bodies or unmasked phone numbers.

use std::sync::{Arc, Once};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;

pub mod console;
pub mod dingtalk;
pub mod email;
pub mod feishu;
mod http;
mod ratelimit;
mod robot;
pub mod sign;
pub mod sms;
pub mod webhook;
pub mod wecom;

pub use crate::roster::Addresses;

pub use crate::config::channels::{
    ChannelsConfig, ConsoleConfig, DingtalkConfig, EmailConfig, EmailSecurity, FeishuConfig,
    HttpSmsConfig, SmsConfig, SmsProvider, SmsTemplate, WebhookConfig, WecomConfig,
};

/// A staff member as a channel needs them: who, and the addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addressee {
    pub staff_no: String,
    pub name: String,
    #[serde(flatten)]
    pub addresses: Addresses,
}

/// The part of a message meant for one staff member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub addressee: Addressee,
    /// One line per reminder, in Chinese.
    pub lines: Vec<String>,
    /// E.g. "张三同志:本周需走访3位老同志:".
    pub greeting: String,
    /// One per reminder line, in the same order (the first `items.len()` lines).
    #[serde(default)]
    pub items: Vec<Item>,
    /// The recipient's worklist link (`{base_url}/s/{token}`), when links are on.
    #[serde(default)]
    pub worklist_url: Option<String>,
}

/// One reminder line as data: what the JSON channels carry as `items`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// 编号, or the masked ID number when there is none.
    pub person: String,
    pub name: String,
    pub rule: String,
    pub title: String,
    pub occasion_on: String,
    pub due_on: String,
    pub reference: String,
    /// `{base_url}/a/{token}`, when links are on.
    pub ack_url: Option<String>,
}

impl Section {
    /// The lines with their acknowledgement links after them (plain text).
    pub fn lines_with_links(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.lines.len() * 2 + 1);
        for (i, l) in self.lines.iter().enumerate() {
            out.push(l.clone());
            if let Some(url) = self.items.get(i).and_then(|it| it.ack_url.as_deref()) {
                out.push(format!("   确认办结:{url}"));
            }
        }
        if let Some(url) = &self.worklist_url {
            out.push(format!("我的工作清单:{url}"));
        }
        out
    }
}

/// What an SMS template may carry: never ID numbers or health details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsFields {
    pub name: String,
    pub count: u32,
    pub reference: String,
    pub date: String,
    /// The worklist link, when links are on ("" otherwise).
    #[serde(default)]
    pub link: String,
}

impl SmsFields {
    /// The value of a template parameter by its field name (`name`, `count`,
    /// `reference`, `date`, `link`).
    pub fn get(&self, field: &str) -> Option<String> {
        match field {
            "name" => Some(self.name.clone()),
            "count" => Some(self.count.to_string()),
            "reference" => Some(self.reference.clone()),
            "date" => Some(self.date.clone()),
            "link" => Some(self.link.clone()),
            _ => None,
        }
    }
    pub const FIELDS: &'static [&'static str] = crate::config::channels::TEMPLATE_FIELDS;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Digest,
    Urgent,
    Test,
}

impl MessageKind {
    pub const ALL: [MessageKind; 3] = [MessageKind::Digest, MessageKind::Urgent, MessageKind::Test];
    /// The SMS template name and the JSON value: "digest", "urgent", "test".
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Digest => "digest",
            MessageKind::Urgent => "urgent",
            MessageKind::Test => "test",
        }
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message for one channel, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Stable across resends of the same digest.
    pub idempotency_key: String,
    /// E.g. "亲情服务提醒(2026年9月18日)".
    pub subject: String,
    /// One for direct channels; one per staff member for group robots.
    pub sections: Vec<Section>,
    pub sms: SmsFields,
    pub kind: MessageKind,
}

impl Outgoing {
    /// `{"idempotency_key","kind","subject","sections":[…]}`, each section as
    /// `section` writes it: the shape the JSON channels (webhook, console) share.
    pub(crate) fn to_json(
        &self,
        section: impl Fn(&Section) -> serde_json::Value,
    ) -> serde_json::Value {
        serde_json::json!({
            "idempotency_key": self.idempotency_key,
            "kind": self.kind.as_str(),
            "subject": self.subject,
            "sections": self.sections.iter().map(section).collect::<Vec<_>>(),
        })
    }
}

/// What the provider said when it accepted the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// Provider's message id (SMS BizId / SerialNo…), comma-joined when one
    /// `Outgoing` became several provider messages.
    pub provider_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: network, timeout, 5xx/429, SMTP 4xx, throttling.
    #[error("temporary failure: {reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying will not help: credentials, signature, template, address.
    #[error("permanent failure: {reason}")]
    Permanent { reason: String },
    /// A daily quota is used up (the provider's for this number, or the bureau's
    /// own `daily_limit`): the send waits for the next working day's window.
    #[error("daily limit reached: {reason}")]
    DailyLimit { reason: String },
}

impl SendError {
    pub fn transient(reason: impl Into<String>) -> Self {
        SendError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }
    pub fn throttled(reason: impl Into<String>, retry_after: Option<Duration>) -> Self {
        SendError::Transient {
            reason: reason.into(),
            retry_after,
        }
    }
    pub fn permanent(reason: impl Into<String>) -> Self {
        SendError::Permanent {
            reason: reason.into(),
        }
    }
    pub fn daily_limit(reason: impl Into<String>) -> Self {
        SendError::DailyLimit {
            reason: reason.into(),
        }
    }
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Transient { retry_after, .. } => *retry_after,
            SendError::Permanent { .. } | SendError::DailyLimit { .. } => None,
        }
    }
    pub fn reason(&self) -> &str {
        match self {
            SendError::Transient { reason, .. }
            | SendError::Permanent { reason }
            | SendError::DailyLimit { reason } => reason,
        }
    }
}

#[async_trait]
pub trait Channel: Send + Sync {
    /// "email", "sms", "webhook", "wecom", "dingtalk", "feishu", "console".
    fn name(&self) -> &str;
    /// True for group robots: one message per robot with a section per staff member.
    /// Direct channels (one message per staff member) keep the default.
    fn is_group(&self) -> bool {
        false
    }
    /// Whether this channel has an address for the addressee; channels that need
    /// none of the addressee's own (a sink, a bureau's webhook, a group) keep the default.
    fn can_reach(&self, _addressee: &Addressee) -> bool {
        true
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError>;
    /// The bureau's own caps on messages per day on this channel: (all recipients,
    /// one recipient). SMS costs money per message; other channels keep the default.
    fn daily_caps(&self) -> (Option<u32>, Option<u32>) {
        (None, None)
    }
}

/// Installs rustls' ring crypto provider as the process default, once. Called by
/// every constructor that builds a TLS client; harmless to call again.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds every configured channel; `clock` supplies signature timestamps (the
/// caller's clock: the daemon's, or a fixed one in tests).
/// Fails with every validation problem at once, or the first construction error
/// (unreadable CA file, TLS set-up).
pub fn build(cfg: &ChannelsConfig, clock: Arc<dyn Clock>) -> Result<Vec<Arc<dyn Channel>>, String> {
    let problems = cfg.validate();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    install_crypto_provider();
    let mut out: Vec<Arc<dyn Channel>> = Vec::new();
    if let Some(c) = &cfg.console {
        out.push(Arc::new(console::ConsoleChannel::new(c.clone())));
    }
    if let Some(c) = &cfg.email {
        out.push(Arc::new(email::EmailChannel::new(c)?));
    }
    if let Some(c) = &cfg.sms {
        out.push(Arc::new(sms::SmsChannel::new(c.clone(), clock.clone())?));
    }
    if let Some(c) = &cfg.webhook {
        out.push(Arc::new(webhook::WebhookChannel::new(c.clone())?));
    }
    if let Some(c) = &cfg.wecom {
        out.push(Arc::new(wecom::WecomChannel::new(c.clone())?));
    }
    if let Some(c) = &cfg.dingtalk {
        out.push(Arc::new(dingtalk::DingtalkChannel::new(
            c.clone(),
            clock.clone(),
        )?));
    }
    if let Some(c) = &cfg.feishu {
        out.push(Arc::new(feishu::FeishuChannel::new(
            c.clone(),
            clock.clone(),
        )?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_valid_and_builds_nothing() {
        let cfg: ChannelsConfig = toml::from_str("").unwrap();
        assert!(cfg.validate().is_empty());
        let clock = Arc::new(crate::clock::FixedClock::parse("2026-09-18T08:30:00+08:00").unwrap());
        assert!(build(&cfg, clock).unwrap().is_empty());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<ChannelsConfig>("[pager]\nurl = \"x\"").is_err());
        assert!(toml::from_str::<ChannelsConfig>("[wecom]\nurl = \"http://x\"\nfoo = 1").is_err());
    }

    #[test]
    fn message_kinds_are_the_configurable_template_kinds() {
        let names: Vec<&str> = MessageKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, crate::config::channels::TEMPLATE_KINDS);
    }

    #[test]
    fn addressee_debug_masks_mobile() {
        let c = Addressee {
            addresses: Addresses {
                mobile: Some("13812341234".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("13812341234"));
        let staff = crate::roster::Staff {
            number: "S1".into(),
            name: "张三".into(),
            addresses: c.addresses.clone(),
            supervisor: None,
            role: None,
            channels: Vec::new(),
        };
        assert!(!format!("{staff:?}").contains("13812341234"));
    }

    #[test]
    fn secret_paths_name_secret_fields() {
        assert!(ChannelsConfig::secret_paths().contains(&"channels.email.password"));
        assert!(ChannelsConfig::secret_paths().contains(&"channels.sms.access_key_secret"));
    }
}
