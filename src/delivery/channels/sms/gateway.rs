//! A bureau's own SMS gateway (`provider = "http"`): a JSON body filled from
//! `channels.sms.http.body_template`, success by status or by a field of the reply.

use serde_json::Value;

use super::super::{SendError, SmsFields, SmsTemplate, http};
use super::SmsChannel;
use crate::mask;

impl SmsChannel {
    pub(super) async fn gateway(
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
        let (status, hdrs, text) = http::exchange("sms", req.body(body)).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_template_is_json_escaped() {
        let f = SmsFields {
            name: "张\"三".into(),
            count: 3,
            reference: "a\\b".into(),
            date: "9月18日".into(),
            ..Default::default()
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
}
