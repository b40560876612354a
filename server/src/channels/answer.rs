//! A try's outcome, and reading a provider's answer into one.

use std::time::Duration;

use entity::{channel, outbox};

/// How a try ended, when it did not end in acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Down, slow, busy: try again with backoff, for days if need be.
    Transient(String),
    /// "Too many" (a robot's 20 a minute, an SMS platform's flow control): wait this long; it
    /// is not a failed attempt.
    Wait(Duration, String),
    /// Refused for good (a wrong key, a bad signature, a number the platform rejects): FAILED
    /// with the provider's code and message, until someone fixes it and requeues.
    Permanent(String),
}

/// What a try needs: the client, the message, its channel, and for an SMS the platform.
pub struct Attempt<'a> {
    pub http: &'a reqwest::Client,
    pub row: &'a outbox::Model,
    pub channel: &'a channel::Model,
    pub platform: Option<&'a channel::Model>,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Sorts a transport error: nothing answered in time, or no connection, is an outage.
pub(super) fn transport_error(provider: &str, error: &reqwest::Error) -> Refusal {
    if error.is_timeout() {
        Refusal::Transient(format!("{provider}未在限定时间内应答"))
    } else if error.is_builder() {
        Refusal::Permanent(format!("{provider}地址无效：{error}"))
    } else {
        Refusal::Transient(format!("{provider}暂时无法连接：{error}"))
    }
}

/// A short, single-line excerpt of a provider's answer for the outbox's error column.
pub(super) fn excerpt(text: &str) -> String {
    let line: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    line
}

/// An HTTP status a provider answers outside its own JSON: 429 is "too many", 408 and 5xx an
/// outage, any other 4xx a refusal.
pub(super) fn by_status(
    provider: &str,
    status: reqwest::StatusCode,
    body: &str,
    retry_after: Option<Duration>,
) -> Refusal {
    let text = format!("{provider}应答 HTTP {}：{}", status.as_u16(), excerpt(body));
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Refusal::Wait(retry_after.unwrap_or(Duration::from_secs(60)), text)
    } else if status == reqwest::StatusCode::REQUEST_TIMEOUT || status.is_server_error() {
        Refusal::Transient(text)
    } else {
        Refusal::Permanent(text)
    }
}

/// `Retry-After` in seconds, capped at an hour.
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.clamp(1, 3600)))
}

/// A setting of a channel's non-secret JSON, as text.
pub(super) fn setting<'a>(channel: &'a channel::Model, key: &str) -> Option<&'a str> {
    channel
        .settings
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
