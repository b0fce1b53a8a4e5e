//! `[channels]`: every transport's settings, one file per kind. Pure data and
//! validation: building and sending is `delivery::channels`' job, which reads these.
//! Nothing here opens a connection or a file.

mod email;
mod robots;
mod sms;

use serde::Deserialize;

pub use email::{EmailConfig, EmailSecurity};
pub use robots::{ConsoleConfig, DingtalkConfig, FeishuConfig, WebhookConfig, WecomConfig};
pub use sms::{
    HttpSmsConfig, SmsConfig, SmsProvider, SmsTemplate, TEMPLATE_FIELDS, TEMPLATE_KINDS,
};

pub(crate) const fn default_timeout_secs() -> u64 {
    10
}

/// `[channels]`: every transport is optional; only configured ones are built.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    pub console: Option<ConsoleConfig>,
    pub email: Option<EmailConfig>,
    pub webhook: Option<WebhookConfig>,
    pub wecom: Option<WecomConfig>,
    pub dingtalk: Option<DingtalkConfig>,
    pub feishu: Option<FeishuConfig>,
    pub sms: Option<SmsConfig>,
}

impl ChannelsConfig {
    /// Every problem found, each naming its key. Pure: no network, no files.
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if let Some(c) = &self.console {
            check_timeout(&mut p, "console", c.timeout_secs);
        }
        if let Some(c) = &self.email {
            c.validate(&mut p);
        }
        if let Some(c) = &self.webhook {
            c.validate(&mut p);
        }
        if let Some(c) = &self.wecom {
            c.validate(&mut p);
        }
        if let Some(c) = &self.dingtalk {
            c.validate(&mut p);
        }
        if let Some(c) = &self.feishu {
            c.validate(&mut p);
        }
        if let Some(c) = &self.sms {
            c.validate(&mut p);
        }
        p
    }

    /// Dotted keys of every `Secret` field. The config loader fills each from
    /// `QINQING_<KEY>` (dots → `_`, upper case) or the file named by `QINQING_<KEY>_FILE`.
    pub fn secret_paths() -> &'static [&'static str] {
        &[
            "channels.email.password",
            "channels.webhook.secret",
            "channels.dingtalk.secret",
            "channels.feishu.secret",
            "channels.sms.access_key_secret",
            "channels.sms.http.token",
        ]
    }
}

pub(crate) fn check_timeout(p: &mut Vec<String>, key: &str, secs: u64) {
    if secs == 0 {
        p.push(format!(
            "channels.{key}.timeout_secs is 0: every network call needs a timeout (e.g. 10)"
        ));
    }
}

pub(crate) fn check_url(p: &mut Vec<String>, key: &str, url: &str) {
    if url.trim().is_empty() {
        p.push(format!("channels.{key} is empty"));
        return;
    }
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
        Ok(u) => p.push(format!(
            "channels.{key} has scheme {:?}: use an http:// or https:// URL",
            u.scheme()
        )),
        Err(e) => p.push(format!("channels.{key} is not a valid URL: {e}")),
    }
}
