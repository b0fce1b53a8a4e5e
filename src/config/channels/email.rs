//! `[channels.email]`: the SMTP relay, its security and credentials.

use std::path::PathBuf;

use lettre::message::Mailbox;
use serde::Deserialize;

use super::{check_timeout, default_timeout_secs};
use crate::config::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailSecurity {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"), usually port 465.
    Tls,
    /// No encryption: only for a relay on localhost or a trusted LAN, usually port 25.
    Plain,
}

impl EmailSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            EmailSecurity::Starttls => 587,
            EmailSecurity::Tls => 465,
            EmailSecurity::Plain => 25,
        }
    }
}

const fn default_pool_size() -> u32 {
    4
}

/// `[channels.email]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub host: String,
    /// Defaults by `security`: 587, 465 or 25.
    pub port: Option<u16>,
    #[serde(default)]
    pub security: EmailSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `亲情服务 <qinqing@example.gov.cn>` or a bare address.
    pub from: String,
    /// An extra root CA (PEM) to trust, for a private relay or tests.
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
}

impl EmailConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.security.default_port())
    }

    pub(crate) fn validate(&self, p: &mut Vec<String>) {
        if self.host.trim().is_empty() {
            p.push("channels.email.host is empty".into());
        }
        if self.from.trim().is_empty() {
            p.push("channels.email.from is empty".into());
        } else if self.from.parse::<Mailbox>().is_err() {
            p.push(format!(
                "channels.email.from {:?} is not a mail address (e.g. \"亲情服务 <qinqing@example.gov.cn>\")",
                self.from
            ));
        }
        if self.port == Some(0) {
            p.push("channels.email.port is 0".into());
        }
        match (&self.username, &self.password) {
            (Some(u), _) if u.is_empty() => p.push(
                "channels.email.username is empty: remove it to send without AUTH".into(),
            ),
            (Some(_), None) => p.push(
                "channels.email.password is missing while username is set: set QINQING_CHANNELS_EMAIL_PASSWORD or QINQING_CHANNELS_EMAIL_PASSWORD_FILE".into(),
            ),
            (None, Some(_)) => {
                p.push("channels.email.password is set but channels.email.username is not".into())
            }
            _ => {}
        }
        if self.pool_size == 0 {
            p.push("channels.email.pool_size is 0: use at least 1".into());
        }
        check_timeout(p, "email", self.timeout_secs);
    }
}
