//! SMS through Aliyun (阿里云短信, SendSms API V3 signature), Tencent Cloud (腾讯云短信,
//! SendSms with TC3) or a bureau's own HTTP gateway.
//!
//! Chinese SMS providers only send approved templates with parameters, so a message
//! carries no free text: `channels.sms.templates.<kind>` maps each [`MessageKind`]
//! (`digest`, `urgent`, `test`) to a template code and the [`SmsFields`] that fill
//! its parameters, in order. Those fields never hold ID numbers or health details.
//! One SMS is sent per section, to the section addressee's mobile.
//!
//! Signing is done by the pure functions in [`super::super::sign`], with the host of the
//! configured `endpoint` (which is what is actually sent in `Host`); the default
//! endpoints are the providers' real ones.
//!
//! [`MessageKind`]: super::super::MessageKind
//! [`SmsFields`]: super::super::SmsFields

mod aliyun;
mod gateway;
mod tencent;

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    Addressee, Channel, Outgoing, Receipt, SendError, SmsConfig, SmsProvider, SmsTemplate, http,
};
use crate::clock::Clock;
use crate::mask;

pub use aliyun::{ALIYUN_ENDPOINT, aliyun_transient};
pub use gateway::fill_template;
pub use tencent::{TENCENT_ENDPOINT, tencent_transient};

pub struct SmsChannel {
    cfg: SmsConfig,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl SmsChannel {
    pub fn new(cfg: SmsConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        Ok(SmsChannel {
            client: http::client(cfg.timeout_secs)?,
            cfg,
            clock,
        })
    }

    pub(super) fn endpoint(&self, default: &str) -> Result<reqwest::Url, SendError> {
        let e = self.cfg.endpoint.as_deref().unwrap_or(default);
        reqwest::Url::parse(e)
            .map_err(|err| SendError::permanent(format!("sms: channels.sms.endpoint: {err}")))
    }

    async fn send_one(
        &self,
        mobile: &str,
        template: &SmsTemplate,
        msg: &Outgoing,
        staff_no: &str,
    ) -> Result<Option<String>, SendError> {
        match self.cfg.provider {
            SmsProvider::Aliyun => {
                self.aliyun(mobile, template, &msg.sms, &msg.idempotency_key, staff_no)
                    .await
            }
            SmsProvider::Tencent => {
                self.tencent(mobile, template, &msg.sms, &msg.idempotency_key)
                    .await
            }
            SmsProvider::Http => self.gateway(mobile, Some(template), &msg.sms).await,
        }
    }
}

/// `host` or `host:port` as sent in the `Host` header.
pub(super) fn host_header(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// Digits only (keeping a leading `+`), so "138 1234-1234" works.
fn normalize_mobile(m: &str) -> Option<String> {
    let plus = m.trim_start().starts_with('+');
    let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 5 {
        return None;
    }
    Some(if plus { format!("+{digits}") } else { digits })
}

#[async_trait]
impl Channel for SmsChannel {
    fn name(&self) -> &str {
        "sms"
    }
    fn daily_caps(&self) -> (Option<u32>, Option<u32>) {
        (self.cfg.daily_limit, self.cfg.per_number_daily_limit)
    }
    fn can_reach(&self, c: &Addressee) -> bool {
        c.addresses
            .mobile
            .as_deref()
            .and_then(normalize_mobile)
            .is_some()
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let template = self.cfg.templates.get(msg.kind.as_str());
        if template.is_none() && self.cfg.provider != SmsProvider::Http {
            return Err(SendError::permanent(format!(
                "sms: channels.sms.templates.{} is missing",
                msg.kind
            )));
        }
        let mut targets = Vec::new();
        for s in &msg.sections {
            let m = s
                .addressee
                .addresses
                .mobile
                .as_deref()
                .and_then(normalize_mobile)
                .ok_or_else(|| {
                    SendError::permanent(format!(
                        "sms: staff {} has no usable mobile",
                        s.addressee.staff_no
                    ))
                })?;
            targets.push((m, s.addressee.staff_no.as_str()));
        }
        let mut ids = Vec::new();
        for (mobile, staff_no) in targets {
            let id = match (self.cfg.provider, template) {
                (SmsProvider::Http, t) => self.gateway(&mobile, t, &msg.sms).await?,
                (_, Some(t)) => self.send_one(&mobile, t, msg, staff_no).await?,
                (_, None) => None,
            };
            tracing::debug!(channel = "sms", to = %mask::phone(&mobile), kind = %msg.kind, "sent");
            ids.extend(id);
        }
        Ok(Receipt {
            provider_id: (!ids.is_empty()).then(|| ids.join(",")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_are_normalised() {
        assert_eq!(normalize_mobile("138 1234-1234").unwrap(), "13812341234");
        assert_eq!(
            normalize_mobile("+86 13812341234").unwrap(),
            "+8613812341234"
        );
        assert!(normalize_mobile("").is_none());
    }
}
