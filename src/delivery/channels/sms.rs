//! SMS through Aliyun (阿里云短信, SendSms API V3 signature), Tencent Cloud (腾讯云短信,
//! SendSms with TC3) or a bureau's own HTTP gateway.
//!
//! Chinese SMS providers only send approved templates with parameters, so a message
//! carries no free text: `channels.sms.templates.<kind>` maps each [`MessageKind`]
//! (`digest`, `urgent`, `test`) to a template code and the [`SmsFields`] that fill
//! its parameters, in order. Those fields never hold ID numbers or health details.
//! One SMS is sent per section, to the section contact's mobile.
//!
//! Signing is done by the pure functions in [`super::sign`], with the host of the
//! configured `endpoint` (which is what is actually sent in `Host`); the default
//! endpoints are the providers' real ones.
//!
//! [`MessageKind`]: super::MessageKind
//! [`SmsFields`]: super::SmsFields

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};

use super::{
    Channel, Contact, Outgoing, Receipt, SendError, SmsConfig, SmsFields, SmsProvider, SmsTemplate,
    http, sign,
};
use crate::clock::Clock;
use crate::mask;

pub const ALIYUN_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com";
pub const TENCENT_ENDPOINT: &str = "https://sms.tencentcloudapi.com";

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

    fn endpoint(&self, default: &str) -> Result<reqwest::Url, SendError> {
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

    async fn aliyun(
        &self,
        mobile: &str,
        t: &SmsTemplate,
        fields: &SmsFields,
        key: &str,
        staff_no: &str,
    ) -> Result<Option<String>, SendError> {
        let url = self.endpoint(ALIYUN_ENDPOINT)?;
        // Aliyun wants mainland numbers bare and others as country code + number.
        let mobile = mobile
            .strip_prefix("+86")
            .or_else(|| mobile.strip_prefix('+'))
            .unwrap_or(mobile);
        let host = host_header(&url);
        let keys = t.keys.as_ref().unwrap_or(&t.params);
        let mut tp = serde_json::Map::new();
        for (k, f) in keys.iter().zip(&t.params) {
            tp.insert(k.clone(), Value::String(fields.get(f).unwrap_or_default()));
        }
        let template_param = Value::Object(tp).to_string();
        let out_id = sign::sha256_hex(format!("{key}\n{staff_no}").as_bytes())[..32].to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("PhoneNumbers", mobile),
            ("SignName", &self.cfg.sign_name),
            ("TemplateCode", &t.code),
            ("OutId", &out_id),
        ];
        if !t.params.is_empty() {
            params.push(("TemplateParam", &template_param));
        }
        let query = sign::canonical_query(&params);
        let body_hash = sign::sha256_hex(b"");
        let date = self
            .clock
            .now()
            .with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let nonce = format!("{:032x}", rand::random::<u128>());
        let headers = [
            ("host", host.as_str()),
            ("x-acs-action", "SendSms"),
            ("x-acs-version", "2017-05-25"),
            ("x-acs-date", date.as_str()),
            ("x-acs-signature-nonce", nonce.as_str()),
            ("x-acs-content-sha256", body_hash.as_str()),
        ];
        let path = url.path().to_string();
        let c = sign::aliyun_v3_canonical("POST", &path, &query, &headers, &body_hash);
        let sig = sign::aliyun_v3_signature(self.cfg.access_key_secret.expose(), &c.request);
        let auth = sign::aliyun_v3_authorization(&self.cfg.access_key_id, &c.signed_headers, &sig);
        let full = format!("{}://{}{}?{}", url.scheme(), host, path, query);
        let mut req = self.client.post(full).header("Authorization", auth);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| http::transport_error("sms", e))?;
        let (status, hdrs, text) = http::read("sms", resp).await?;
        let v: Option<Value> = serde_json::from_str(&text).ok();
        let code = v
            .as_ref()
            .and_then(|v| v.get("Code"))
            .and_then(Value::as_str);
        match code {
            Some("OK") if status.is_success() => Ok(v
                .as_ref()
                .and_then(|v| v.get("BizId"))
                .and_then(Value::as_str)
                .map(String::from)),
            Some(code) => {
                let message = v
                    .as_ref()
                    .and_then(|v| v.get("Message"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let reason = format!(
                    "sms (aliyun) to {}: {code}: {}{}",
                    mask::phone(mobile),
                    http::snippet(message),
                    aliyun_hint(code)
                );
                if aliyun_transient(code) || status.is_server_error() {
                    Err(SendError::throttled(reason, http::retry_after(&hdrs)))
                } else {
                    Err(SendError::permanent(reason))
                }
            }
            None if !status.is_success() => Err(http::status_error("sms", status, &hdrs, &text)),
            None => Err(SendError::permanent(format!(
                "sms (aliyun): unexpected reply: {}",
                http::snippet(&text)
            ))),
        }
    }

    async fn tencent(
        &self,
        mobile: &str,
        t: &SmsTemplate,
        fields: &SmsFields,
        key: &str,
    ) -> Result<Option<String>, SendError> {
        let url = self.endpoint(TENCENT_ENDPOINT)?;
        let host = host_header(&url);
        let params: Vec<String> = t
            .params
            .iter()
            .map(|f| fields.get(f).unwrap_or_default())
            .collect();
        let phone = if mobile.starts_with('+') {
            mobile.to_string()
        } else {
            format!("+86{mobile}")
        };
        let body = serde_json::to_vec(&json!({
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": self.cfg.sdk_app_id.clone().unwrap_or_default(),
            "SignName": self.cfg.sign_name,
            "TemplateId": t.code,
            "TemplateParamSet": params,
            "SessionContext": key,
        }))
        .expect("JSON values always serialise");
        let now = self.clock.now().with_timezone(&Utc);
        let ts = now.timestamp();
        let date = now.format("%Y-%m-%d").to_string();
        let content_type = "application/json; charset=utf-8";
        let c = sign::tencent_tc3_canonical(
            "POST",
            url.path(),
            "",
            &[
                ("content-type", content_type),
                ("host", &host),
                ("x-tc-action", "SendSms"),
            ],
            &body,
        );
        let sts = sign::tencent_tc3_string_to_sign(ts, &date, "sms", &c.request);
        let sig =
            sign::tencent_tc3_signature(self.cfg.access_key_secret.expose(), &date, "sms", &sts);
        let auth = sign::tencent_tc3_authorization(
            &self.cfg.access_key_id,
            &date,
            "sms",
            &c.signed_headers,
            &sig,
        );
        let full = format!("{}://{}{}", url.scheme(), host, url.path());
        let resp = self
            .client
            .post(full)
            .header("Authorization", auth)
            .header("Content-Type", content_type)
            .header("Host", &host)
            .header("X-TC-Action", "SendSms")
            .header("X-TC-Timestamp", ts.to_string())
            .header("X-TC-Version", "2021-01-11")
            .header(
                "X-TC-Region",
                self.cfg.region.as_deref().unwrap_or("ap-guangzhou"),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| http::transport_error("sms", e))?;
        let (status, hdrs, text) = http::read("sms", resp).await?;
        if !status.is_success() {
            return Err(http::status_error("sms", status, &hdrs, &text));
        }
        let v: Value = serde_json::from_str(&text).map_err(|_| {
            SendError::permanent(format!(
                "sms (tencent): unexpected reply: {}",
                http::snippet(&text)
            ))
        })?;
        let r = &v["Response"];
        let fail = |code: &str, message: &str| {
            let reason = format!(
                "sms (tencent) to {}: {code}: {}{}",
                mask::phone(mobile),
                http::snippet(message),
                tencent_hint(code)
            );
            if tencent_transient(code) {
                SendError::throttled(reason, None)
            } else {
                SendError::permanent(reason)
            }
        };
        if let Some(code) = r["Error"]["Code"].as_str() {
            return Err(fail(code, r["Error"]["Message"].as_str().unwrap_or("")));
        }
        let st = &r["SendStatusSet"][0];
        match st["Code"].as_str() {
            Some("Ok") => Ok(st["SerialNo"].as_str().map(String::from)),
            Some(code) => Err(fail(code, st["Message"].as_str().unwrap_or(""))),
            None => Err(SendError::permanent(format!(
                "sms (tencent): reply without SendStatusSet: {}",
                http::snippet(&text)
            ))),
        }
    }

    async fn gateway(
        &self,
        mobile: &str,
        t: Option<&SmsTemplate>,
        fields: &SmsFields,
    ) -> Result<Option<String>, SendError> {
        let h = self
            .cfg
            .http
            .as_ref()
            .ok_or_else(|| SendError::permanent("sms: channels.sms.http is missing"))?;
        let token = h.token.as_ref().map(|s| s.expose()).unwrap_or("");
        let body = fill_template(
            &h.body_template,
            mobile,
            t.map(|t| t.code.as_str()).unwrap_or(""),
            fields,
            token,
        );
        let method = if h.method.eq_ignore_ascii_case("PUT") {
            reqwest::Method::PUT
        } else {
            reqwest::Method::POST
        };
        let mut req = self
            .client
            .request(method, &h.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (k, v) in &h.headers {
            req = req.header(k.as_str(), v.replace("{token}", token));
        }
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| http::transport_error("sms", e))?;
        let (status, hdrs, text) = http::read("sms", resp).await?;
        if !status.is_success() {
            return Err(http::status_error("sms", status, &hdrs, &text));
        }
        let v: Option<Value> = serde_json::from_str(&text).ok();
        if let (Some(field), Some(want)) = (&h.success_field, &h.success_value) {
            let got = v.as_ref().and_then(|v| dotted(v, field));
            if got.as_deref() != Some(want.as_str()) {
                return Err(SendError::permanent(format!(
                    "sms (http) to {}: {field} is {:?}, not {want:?}: {}",
                    mask::phone(mobile),
                    got,
                    http::snippet(&text)
                )));
            }
        }
        Ok(h.id_field
            .as_ref()
            .and_then(|f| v.as_ref().and_then(|v| dotted(v, f))))
    }
}

/// `host` or `host:port` as sent in the `Host` header.
fn host_header(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// A value at a dotted path, as text (strings unquoted).
fn dotted(v: &Value, path: &str) -> Option<String> {
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => cur.get(part)?,
        };
    }
    Some(match cur {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn json_escape(s: &str) -> String {
    let quoted = Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// Fills the gateway body template; every value is JSON-escaped.
pub fn fill_template(
    tpl: &str,
    mobile: &str,
    template: &str,
    f: &SmsFields,
    token: &str,
) -> String {
    tpl.replace("{mobile}", &json_escape(mobile))
        .replace("{template}", &json_escape(template))
        .replace("{name}", &json_escape(&f.name))
        .replace("{count}", &f.count.to_string())
        .replace("{reference}", &json_escape(&f.reference))
        .replace("{date}", &json_escape(&f.date))
        .replace("{token}", &json_escape(token))
}

/// Aliyun codes worth retrying.
pub fn aliyun_transient(code: &str) -> bool {
    code == "isv.BUSINESS_LIMIT_CONTROL"
        || code.starts_with("Throttling")
        || code == "ServiceUnavailable"
        || code == "InternalError"
        || code == "isp.SYSTEM_ERROR"
}

fn aliyun_hint(code: &str) -> &'static str {
    match code {
        "SignatureDoesNotMatch" | "IncompleteSignature" | "InvalidAccessKeyId.NotFound" => {
            " (check channels.sms.access_key_id and QINQING_CHANNELS_SMS_ACCESS_KEY_SECRET)"
        }
        "isv.SMS_TEMPLATE_ILLEGAL"
        | "isv.TEMPLATE_MISSING_PARAMETERS"
        | "isv.TEMPLATE_PARAMS_ILLEGAL" => " (check channels.sms.templates)",
        "isv.SMS_SIGNATURE_ILLEGAL" => " (check channels.sms.sign_name)",
        "isv.MOBILE_NUMBER_ILLEGAL" => " (check the staff member's mobile in the roster)",
        _ => "",
    }
}

/// Tencent codes worth retrying.
pub fn tencent_transient(code: &str) -> bool {
    code.starts_with("LimitExceeded")
        || code.starts_with("RequestLimitExceeded")
        || code.starts_with("InternalError")
}

fn tencent_hint(code: &str) -> &'static str {
    if code.starts_with("AuthFailure") {
        " (check channels.sms.access_key_id and QINQING_CHANNELS_SMS_ACCESS_KEY_SECRET)"
    } else if code.contains("Template") {
        " (check channels.sms.templates)"
    } else if code.contains("Sign") {
        " (check channels.sms.sign_name)"
    } else if code.contains("PhoneNumber") {
        " (check the staff member's mobile in the roster)"
    } else {
        ""
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
    fn is_group(&self) -> bool {
        false
    }
    fn can_reach(&self, c: &Contact) -> bool {
        c.mobile.as_deref().and_then(normalize_mobile).is_some()
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
                .contact
                .mobile
                .as_deref()
                .and_then(normalize_mobile)
                .ok_or_else(|| {
                    SendError::permanent(format!(
                        "sms: staff {} has no usable mobile",
                        s.contact.staff_no
                    ))
                })?;
            targets.push((m, s.contact.staff_no.as_str()));
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

    #[test]
    fn gateway_template_is_json_escaped() {
        let f = SmsFields {
            name: "张\"三".into(),
            count: 3,
            reference: "a\\b".into(),
            date: "9月18日".into(),
        };
        let body = fill_template(
            r#"{"to":"{mobile}","tpl":"{template}","n":"{name}","c":{count},"r":"{reference}","d":"{date}"}"#,
            "13800000000",
            "T1",
            &f,
            "",
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["n"], "张\"三");
        assert_eq!(v["r"], "a\\b");
        assert_eq!(v["c"], 3);
    }

    #[test]
    fn classification_of_provider_codes() {
        assert!(aliyun_transient("isv.BUSINESS_LIMIT_CONTROL"));
        assert!(aliyun_transient("Throttling.User"));
        assert!(!aliyun_transient("isv.SMS_TEMPLATE_ILLEGAL"));
        assert!(tencent_transient("LimitExceeded.PhoneNumberDailyLimit"));
        assert!(tencent_transient("RequestLimitExceeded"));
        assert!(!tencent_transient("AuthFailure.SignatureFailure"));
    }

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
