//! `[channels.sms]`: the provider (Aliyun, Tencent or a bureau's own HTTP gateway),
//! credentials, the approved signature and one template per message kind.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{check_timeout, check_url, default_timeout_secs};
use crate::config::Secret;

/// The message kinds an SMS template is configured for (`channels.sms.templates.<kind>`).
/// `delivery::channels::MessageKind` has one variant for each, with the same name.
pub const TEMPLATE_KINDS: [&str; 3] = ["digest", "urgent", "test"];

/// The fields a template's `params` may name. They never hold ID numbers or health
/// details; `delivery::channels::SmsFields` carries exactly these.
pub const TEMPLATE_FIELDS: &[&str] = &["name", "count", "reference", "date", "link"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    Aliyun,
    Tencent,
    Http,
}

/// `[channels.sms.templates.<kind>]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsTemplate {
    /// Provider template code: `SMS_123456789` (Aliyun), `1234567` (Tencent).
    pub code: String,
    /// Fields filling the template, in order: `name`, `count`, `reference`, `date`.
    #[serde(default)]
    pub params: Vec<String>,
    /// Aliyun only: the template's `${key}` names, one per param; default = `params`.
    pub keys: Option<Vec<String>>,
}

fn default_method() -> String {
    "POST".into()
}

/// `[channels.sms.http]`: a bureau's own SMS gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSmsConfig {
    pub url: String,
    /// `POST` (default) or `PUT`.
    #[serde(default = "default_method")]
    pub method: String,
    /// The request body, with `{mobile}` `{template}` `{name}` `{count}` `{reference}`
    /// `{date}` `{token}` replaced by JSON-escaped values (put them inside quotes).
    pub body_template: String,
    /// Extra headers; `{token}` in a value is replaced by `token`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A credential for the gateway (env `QINQING_CHANNELS_SMS_HTTP_TOKEN`).
    pub token: Option<Secret>,
    /// Dotted path in the JSON reply that says success, e.g. `result.code`; when
    /// absent any 2xx is success.
    pub success_field: Option<String>,
    /// The value `success_field` must have (compared as text), e.g. `0`.
    pub success_value: Option<String>,
    /// Dotted path of the message id in the reply, for the receipt.
    pub id_field: Option<String>,
}

/// `[channels.sms]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub provider: SmsProvider,
    /// Default: the provider's real HTTPS endpoint.
    pub endpoint: Option<String>,
    /// AccessKey ID (Aliyun) or SecretId (Tencent).
    #[serde(default)]
    pub access_key_id: String,
    /// AccessKey secret (Aliyun) or SecretKey (Tencent); env
    /// `QINQING_CHANNELS_SMS_ACCESS_KEY_SECRET`.
    #[serde(default)]
    pub access_key_secret: Secret,
    /// The approved signature, e.g. `某某区委老干部局`.
    #[serde(default)]
    pub sign_name: String,
    /// Tencent `X-TC-Region` (default `ap-guangzhou`); unused by Aliyun.
    pub region: Option<String>,
    /// Tencent SmsSdkAppId.
    pub sdk_app_id: Option<String>,
    #[serde(default)]
    pub templates: BTreeMap<String, SmsTemplate>,
    pub http: Option<HttpSmsConfig>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// At most this many SMS a day for the whole bureau (counted in the store);
    /// the excess waits for the next working day. Unset: no cap.
    pub daily_limit: Option<u32>,
    /// At most this many SMS a day to one staff member.
    pub per_number_daily_limit: Option<u32>,
}

impl SmsConfig {
    pub(crate) fn validate(&self, p: &mut Vec<String>) {
        check_timeout(p, "sms", self.timeout_secs);
        if let Some(e) = &self.endpoint {
            check_url(p, "sms.endpoint", e);
        }
        let needs_templates = match self.provider {
            SmsProvider::Aliyun | SmsProvider::Tencent => {
                if self.access_key_id.trim().is_empty() {
                    p.push("channels.sms.access_key_id is empty".into());
                }
                if self.access_key_secret.is_empty() {
                    p.push("channels.sms.access_key_secret is empty: set QINQING_CHANNELS_SMS_ACCESS_KEY_SECRET or QINQING_CHANNELS_SMS_ACCESS_KEY_SECRET_FILE".into());
                }
                if self.sign_name.trim().is_empty() {
                    p.push(
                        "channels.sms.sign_name is empty: use the provider-approved signature"
                            .into(),
                    );
                }
                if self.provider == SmsProvider::Tencent
                    && self
                        .sdk_app_id
                        .as_deref()
                        .is_none_or(|s| s.trim().is_empty())
                {
                    p.push(
                        "channels.sms.sdk_app_id is missing: Tencent needs the SmsSdkAppId".into(),
                    );
                }
                if self.http.is_some() {
                    p.push(
                        "channels.sms.http is set but channels.sms.provider is not \"http\"".into(),
                    );
                }
                true
            }
            SmsProvider::Http => match &self.http {
                None => {
                    p.push("channels.sms.http is missing: provider = \"http\" needs [channels.sms.http] with url and body_template".into());
                    false
                }
                Some(h) => {
                    check_url(p, "sms.http.url", &h.url);
                    if h.body_template.trim().is_empty() {
                        p.push("channels.sms.http.body_template is empty".into());
                    }
                    if !h.body_template.contains("{mobile}") {
                        p.push(
                            "channels.sms.http.body_template has no {mobile} placeholder".into(),
                        );
                    }
                    let m = h.method.to_ascii_uppercase();
                    if m != "POST" && m != "PUT" {
                        p.push(format!(
                            "channels.sms.http.method {:?}: use \"POST\" or \"PUT\"",
                            h.method
                        ));
                    }
                    for k in h.headers.keys() {
                        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
                            p.push(format!(
                                "channels.sms.http.headers: {k:?} is not a header name"
                            ));
                        }
                    }
                    if h.success_field.is_some() != h.success_value.is_some() {
                        p.push(
                            "channels.sms.http.success_field and success_value go together".into(),
                        );
                    }
                    h.body_template.contains("{template}")
                }
            },
        };
        for name in self.templates.keys() {
            if !TEMPLATE_KINDS.contains(&name.as_str()) {
                p.push(format!(
                    "channels.sms.templates.{name}: unknown message kind (use digest, urgent, test)"
                ));
            }
        }
        if needs_templates {
            for kind in TEMPLATE_KINDS {
                if !self.templates.contains_key(kind) {
                    p.push(format!(
                        "channels.sms.templates.{kind} is missing: add [channels.sms.templates.{kind}] with code and params"
                    ));
                }
            }
        }
        for (name, t) in &self.templates {
            if t.code.trim().is_empty() {
                p.push(format!("channels.sms.templates.{name}.code is empty"));
            }
            for f in &t.params {
                if !TEMPLATE_FIELDS.contains(&f.as_str()) {
                    p.push(format!(
                        "channels.sms.templates.{name}.params: unknown field {f:?} (use name, count, reference, date)"
                    ));
                }
            }
            if let Some(keys) = &t.keys
                && keys.len() != t.params.len()
            {
                p.push(format!(
                    "channels.sms.templates.{name}.keys has {} entries but params has {}",
                    keys.len(),
                    t.params.len()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(toml_text: &str) -> SmsConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn missing_template_is_a_config_error() {
        let c = cfg(r#"
            provider = "aliyun"
            access_key_id = "id"
            access_key_secret = "s"
            sign_name = "老干部局"
            [templates.digest]
            code = "SMS_1"
            params = ["name", "count"]
            [templates.test]
            code = "SMS_3"
        "#);
        let mut p = Vec::new();
        c.validate(&mut p);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("channels.sms.templates.urgent"));
    }

    #[test]
    fn validation_names_every_problem() {
        let c = cfg(r#"
            provider = "tencent"
            [templates.digest]
            code = ""
            params = ["name", "id_number"]
            keys = ["a"]
            [templates.late]
            code = "1"
        "#);
        let mut p = Vec::new();
        c.validate(&mut p);
        let all = p.join("\n");
        for needle in [
            "channels.sms.access_key_id",
            "channels.sms.access_key_secret",
            "channels.sms.sign_name",
            "channels.sms.sdk_app_id",
            "channels.sms.templates.late",
            "channels.sms.templates.urgent",
            "channels.sms.templates.digest.code",
            "\"id_number\"",
            "channels.sms.templates.digest.keys",
        ] {
            assert!(all.contains(needle), "{needle} not in {all}");
        }
    }
}
