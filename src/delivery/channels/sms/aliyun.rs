//! Aliyun SMS (阿里云短信): `SendSms` 2017-05-25 with the ACS3-HMAC-SHA256 (V3)
//! signature; `Code == "OK"` is success, throttling and system errors are transient.

use chrono::Utc;
use serde_json::Value;

use super::super::{SendError, SmsFields, SmsTemplate, http, sign};
use super::{SmsChannel, host_header};
use crate::mask;

pub const ALIYUN_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com";

impl SmsChannel {
    pub(super) async fn aliyun(
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
        let (status, hdrs, text) = http::exchange("sms", req).await?;
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
                // 天级流控: this number's quota for the day is used up.
                if code == "isv.BUSINESS_LIMIT_CONTROL" && message.contains("天级") {
                    Err(SendError::daily_limit(reason))
                } else if aliyun_transient(code) || status.is_server_error() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_system_errors_are_transient() {
        assert!(aliyun_transient("isv.BUSINESS_LIMIT_CONTROL"));
        assert!(aliyun_transient("Throttling.User"));
        assert!(!aliyun_transient("isv.SMS_TEMPLATE_ILLEGAL"));
    }
}
