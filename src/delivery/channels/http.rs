//! Shared HTTP plumbing for the HTTP-based channels: one reqwest client per channel
//! with the configured timeout, and the sorting of transport failures and HTTP
//! statuses into transient and permanent errors. Provider-specific body codes are
//! read by each channel.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::{SendError, install_crypto_provider};

/// A client whose every request (connect, send, read body) is bounded by `timeout_secs`.
pub(crate) fn client(timeout_secs: u64) -> Result<reqwest::Client, String> {
    install_crypto_provider();
    let t = Duration::from_secs(timeout_secs);
    reqwest::Client::builder()
        .timeout(t)
        .connect_timeout(t)
        .user_agent(concat!("qinqing/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))
}

/// A request that never got a complete answer. The message keeps the cause an
/// operator can act on: the host and port tried (never the path or query, which
/// carry robot tokens), what went wrong (refused, timed out, TLS, DNS, reset) and
/// the innermost error text.
pub(crate) fn transport_error(channel: &str, e: reqwest::Error) -> SendError {
    let host = e
        .url()
        .and_then(|u| {
            let h = u.host_str()?;
            Some(match u.port_or_known_default() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| "?".to_string());
    let e = e.without_url();
    let cause = root_cause(&e);
    if e.is_builder() {
        return SendError::permanent(format!("{channel}: invalid request: {cause}"));
    }
    let lower = cause.to_lowercase();
    let what = if e.is_timeout() || lower.contains("timed out") {
        "timed out"
    } else if lower.contains("refused") {
        "connection refused"
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
    {
        "TLS failed"
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        "name not resolved"
    } else if lower.contains("reset") || lower.contains("closed") || lower.contains("eof") {
        "connection closed by the server"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    SendError::transient(format!("{channel}: {host}: {what}: {cause}"))
}

/// The innermost error's text, where the operating system or TLS library says
/// what happened ("Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    let text = inner.to_string();
    if std::ptr::eq(inner as *const _ as *const u8, e as *const _ as *const u8) {
        text
    } else {
        format!("{e}: {text}")
    }
}

/// `Retry-After` in seconds (the HTTP-date form is ignored).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Sorts a non-2xx status: 408, 429 and 5xx are transient, other statuses permanent.
pub(crate) fn status_error(
    channel: &str,
    status: reqwest::StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> SendError {
    let reason = format!("{channel}: HTTP {status}: {}", snippet(body));
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        SendError::throttled(reason, retry_after(headers))
    } else {
        SendError::permanent(reason)
    }
}

/// The start of a response body for an error message, masked and on one line.
pub(crate) fn snippet(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    crate::mask::text(one_line.trim())
}

/// Sends the request and reads the whole response: status, headers, body text.
/// A request that got no complete answer is a [`transport_error`].
pub(crate) async fn exchange(
    channel: &str,
    req: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, HeaderMap, String), SendError> {
    let resp = req.send().await.map_err(|e| transport_error(channel, e))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.map_err(|e| transport_error(channel, e))?;
    Ok((status, headers, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    async fn send_to(url: String, timeout: u64) -> String {
        let c = client(timeout).unwrap();
        let e = c.post(url).body("{}").send().await.unwrap_err();
        transport_error("webhook", e).reason().to_string()
    }

    #[tokio::test]
    async fn transport_errors_name_host_and_cause() {
        // A closed port on loopback.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let m = send_to(format!("http://127.0.0.1:{port}/hook?key=SECRET"), 5).await;
        assert!(
            m.contains(&format!("127.0.0.1:{port}: connection refused")),
            "{m}"
        );
        assert!(!m.contains("SECRET") && !m.contains("/hook"), "{m}");

        // A server that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let keep = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let m = send_to(format!("http://{addr}/"), 1).await;
        assert!(m.contains(&format!("{addr}: timed out")), "{m}");
        keep.abort();

        // https to a server that speaks plain HTTP.
        let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = plain.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = plain.accept().await {
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let m = send_to(format!("https://{addr}/"), 5).await;
        assert!(m.contains(&format!("{addr}: TLS failed")), "{m}");
    }
}
