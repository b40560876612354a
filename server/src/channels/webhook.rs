//! Webhooks to the office's own systems, signed per the Standard Webhooks specification:
//! `webhook-id` (the same on every try, so a receiver drops repeats), `webhook-timestamp`
//! (seconds) and `webhook-signature` (`v1,` + Base64 HMAC-SHA256 of "{id}.{timestamp}.{body}").

use super::answer::{Attempt, Refusal, by_status, retry_after, transport_error};
use super::sign;

/// The message id a receiver sees: stable across tries.
pub fn message_id(outbox_id: i64) -> String {
    format!("msg_ducha_{outbox_id}")
}

pub async fn send(attempt: &Attempt<'_>) -> Result<(), Refusal> {
    let secret = attempt
        .channel
        .secret
        .as_deref()
        .ok_or_else(|| Refusal::Permanent("Webhook 未设置签名密钥".into()))?;
    let body = attempt
        .row
        .payload
        .clone()
        .unwrap_or_else(|| attempt.row.body_text.clone());
    let id = message_id(attempt.row.id);
    let timestamp = attempt.now.timestamp();
    let signature = sign::standard_webhook_signature(secret, &id, timestamp, &body);
    let url = reqwest::Url::parse(attempt.channel.address.trim())
        .map_err(|e| Refusal::Permanent(format!("Webhook 地址无效：{e}")))?;
    let response = attempt
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error("Webhook 接收方", &e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let wait = retry_after(response.headers());
    let text = response.text().await.unwrap_or_default();
    Err(by_status("Webhook 接收方", status, &text, wait))
}
