//! Tencent Cloud SMS (腾讯云短信): `SendSms` 2021-01-11 signed with TC3-HMAC-SHA256;
//! the per-number status in `SendStatusSet` decides, limits are transient.

use chrono::Utc;
use serde_json::{Value, json};

use super::super::{SendError, SmsFields, SmsTemplate, http, sign};
use super::{SmsChannel, host_header};
use crate::mask;

pub const TENCENT_ENDPOINT: &str = "https://sms.tencentcloudapi.com";

impl SmsChannel {
    pub(super) async fn tencent(
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
        let (status, hdrs, text) = http::exchange(
            "sms",
            self.client
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
                .body(body),
        )
        .await?;
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
            if code == "LimitExceeded.PhoneNumberDailyLimit" || code == "LimitExceeded.DailyLimit" {
                SendError::daily_limit(reason)
            } else if tencent_transient(code) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_transient() {
        assert!(tencent_transient("LimitExceeded.PhoneNumberDailyLimit"));
        assert!(tencent_transient("RequestLimitExceeded"));
        assert!(!tencent_transient("AuthFailure.SignatureFailure"));
    }
}
