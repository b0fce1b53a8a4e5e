//! `[channels.console]`, `[channels.webhook]` and the group robots
//! (`[channels.wecom]`, `[channels.dingtalk]`, `[channels.feishu]`): addresses,
//! secrets and limits. How each one sends is `delivery::channels`' business.

use serde::Deserialize;

use super::{check_timeout, check_url, default_timeout_secs};
use crate::config::Secret;

/// `[channels.console]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// A file to append to; "-" or absent means standard output.
    pub path: Option<String>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            path: None,
            timeout_secs: default_timeout_secs(),
        }
    }
}

fn default_signature_header() -> String {
    "X-Qinqing-Signature".into()
}

/// `[channels.webhook]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Option<Secret>,
    #[serde(default = "default_signature_header")]
    pub signature_header: String,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl WebhookConfig {
    pub(crate) fn validate(&self, p: &mut Vec<String>) {
        check_url(p, "webhook.url", &self.url);
        check_timeout(p, "webhook", self.timeout_secs);
        if reqwest::header::HeaderName::from_bytes(self.signature_header.as_bytes()).is_err() {
            p.push(format!(
                "channels.webhook.signature_header {:?} is not a valid HTTP header name",
                self.signature_header
            ));
        }
        check_secret(p, "webhook", self.secret.as_ref());
    }
}

/// The robots' own per-minute limits: WeCom and DingTalk allow 20, Feishu 100.
const fn twenty_per_minute() -> u32 {
    20
}
const fn hundred_per_minute() -> u32 {
    100
}

/// `[channels.wecom]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    /// `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`
    pub url: String,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "twenty_per_minute")]
    pub per_minute: u32,
}

impl WecomConfig {
    pub(crate) fn validate(&self, p: &mut Vec<String>) {
        check_robot(
            p,
            "wecom",
            "robot",
            20,
            &self.url,
            self.timeout_secs,
            self.per_minute,
        );
    }
}

/// `[channels.dingtalk]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DingtalkConfig {
    /// `https://oapi.dingtalk.com/robot/send?access_token=…`
    pub url: String,
    /// The robot's "加签" secret (`SEC…`), if signing is on.
    pub secret: Option<Secret>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "twenty_per_minute")]
    pub per_minute: u32,
}

impl DingtalkConfig {
    pub(crate) fn validate(&self, p: &mut Vec<String>) {
        check_robot(
            p,
            "dingtalk",
            "robot",
            20,
            &self.url,
            self.timeout_secs,
            self.per_minute,
        );
        check_secret(p, "dingtalk", self.secret.as_ref());
    }
}

/// `[channels.feishu]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    /// `https://open.feishu.cn/open-apis/bot/v2/hook/…`
    pub url: String,
    pub secret: Option<Secret>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "hundred_per_minute")]
    pub per_minute: u32,
}

impl FeishuConfig {
    pub(crate) fn validate(&self, p: &mut Vec<String>) {
        check_robot(
            p,
            "feishu",
            "bot",
            100,
            &self.url,
            self.timeout_secs,
            self.per_minute,
        );
        check_secret(p, "feishu", self.secret.as_ref());
    }
}

/// What every group robot needs: a URL, a timeout and a per-minute limit above 0.
fn check_robot(
    p: &mut Vec<String>,
    key: &str,
    noun: &str,
    allowed: u32,
    url: &str,
    timeout_secs: u64,
    per_minute: u32,
) {
    check_url(p, &format!("{key}.url"), url);
    check_timeout(p, key, timeout_secs);
    if per_minute == 0 {
        p.push(format!(
            "channels.{key}.per_minute is 0: the {noun} allows up to {allowed}"
        ));
    }
}

/// A secret that is present must not be empty (an unset environment variable).
fn check_secret(p: &mut Vec<String>, key: &str, secret: Option<&Secret>) {
    if secret.is_some_and(|s| s.is_empty()) {
        p.push(format!(
            "channels.{key}.secret is empty: remove it or set QINQING_CHANNELS_{}_SECRET",
            key.to_ascii_uppercase()
        ));
    }
}
