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

/// A request that never got a complete answer.
pub(crate) fn transport_error(channel: &str, e: reqwest::Error) -> SendError {
    // Never echo the URL: robot URLs carry their access token.
    let e = e.without_url();
    if e.is_builder() {
        return SendError::permanent(format!("{channel}: invalid request: {e}"));
    }
    if e.is_timeout() {
        return SendError::transient(format!("{channel}: timed out: {e}"));
    }
    if e.is_connect() {
        return SendError::transient(format!("{channel}: cannot connect: {e}"));
    }
    SendError::transient(format!("{channel}: request failed: {e}"))
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
