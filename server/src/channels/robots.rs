//! Group robots: 企业微信 (政务微信 is the same API at another address) and 钉钉. Both take a
//! markdown message as JSON and answer `{"errcode": 0, "errmsg": "ok"}`; both allow about 20
//! messages a minute and answer "too many" with a code of their own, which is a wait.

use std::time::Duration;

use serde_json::json;

use super::answer::{Attempt, Refusal, by_status, excerpt, retry_after, transport_error};
use super::sign;

/// 企业微信's "API frequency out of limit".
const WECOM_TOO_MANY: i64 = 45009;
/// 钉钉's "send too fast, exceed 20 times per minute".
const DINGTALK_TOO_MANY: i64 = 130_101;
/// Both: "system busy, try again".
const BUSY: i64 = -1;

/// The message content a robot takes at most: 企业微信 4,096 bytes of markdown; 钉钉 about as
/// much. Cut on a character boundary, saying so.
const MAX_CONTENT_BYTES: usize = 3_900;

fn fit(text: &str) -> String {
    if text.len() <= MAX_CONTENT_BYTES {
        return text.to_string();
    }
    let mut cut = MAX_CONTENT_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}\n……（内容过长，请登录系统查看全文）", &text[..cut])
}

#[derive(serde::Deserialize)]
struct Answer {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

async fn post(
    provider: &str,
    attempt: &Attempt<'_>,
    url: reqwest::Url,
    body: serde_json::Value,
    too_many: i64,
) -> Result<(), Refusal> {
    let response = attempt
        .http
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| transport_error(provider, &e))?;
    let status = response.status();
    let wait = retry_after(response.headers());
    let text = response
        .text()
        .await
        .map_err(|e| transport_error(provider, &e))?;
    if !status.is_success() {
        return Err(by_status(provider, status, &text, wait));
    }
    let Ok(answer) = serde_json::from_str::<Answer>(&text) else {
        // A 200 that is not the robot's answer: a proxy's page, a captive portal.
        return Err(Refusal::Transient(format!(
            "{provider}的应答无法识别：{}",
            excerpt(&text)
        )));
    };
    let said = format!(
        "{provider}应答 {}：{}",
        answer.errcode,
        excerpt(&answer.errmsg)
    );
    match answer.errcode {
        0 => Ok(()),
        code if code == too_many => Err(Refusal::Wait(Duration::from_secs(60), said)),
        BUSY => Err(Refusal::Transient(said)),
        _ => Err(Refusal::Permanent(said)),
    }
}

fn url_with(address: &str, query: &[(&str, &str)]) -> Result<reqwest::Url, Refusal> {
    let mut url = reqwest::Url::parse(address.trim())
        .map_err(|e| Refusal::Permanent(format!("机器人地址无效：{e}")))?;
    url.query_pairs_mut().extend_pairs(query);
    Ok(url)
}

/// `POST {address}?key={key}` with `{"msgtype": "markdown", "markdown": {"content": …}}`.
pub async fn wecom(attempt: &Attempt<'_>) -> Result<(), Refusal> {
    let key = attempt
        .channel
        .secret
        .as_deref()
        .ok_or_else(|| Refusal::Permanent("企业微信机器人未设置 key".into()))?;
    let url = url_with(&attempt.channel.address, &[("key", key)])?;
    let body = json!({
        "msgtype": "markdown",
        "markdown": { "content": fit(&attempt.row.body_text) },
    });
    post("企业微信", attempt, url, body, WECOM_TOO_MANY).await
}

/// The access token and the 加签 secret of a 钉钉 robot, kept together as the secret.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DingtalkSecret {
    pub access_token: String,
    pub sign_secret: String,
}

/// `POST {address}?access_token=…&timestamp=…&sign=…` with a markdown message; the sign is
/// HMAC-SHA256 of "{timestamp}\n{secret}" (milliseconds), as 钉钉's 加签 requires.
pub async fn dingtalk(attempt: &Attempt<'_>) -> Result<(), Refusal> {
    let secret: DingtalkSecret = attempt
        .channel
        .secret
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| Refusal::Permanent("钉钉机器人未设置 access_token 与加签密钥".into()))?;
    let timestamp = attempt.now.timestamp_millis().to_string();
    let sign = sign::dingtalk_sign(attempt.now.timestamp_millis(), &secret.sign_secret);
    let url = url_with(
        &attempt.channel.address,
        &[
            ("access_token", secret.access_token.as_str()),
            ("timestamp", timestamp.as_str()),
            ("sign", sign.as_str()),
        ],
    )?;
    let body = json!({
        "msgtype": "markdown",
        "markdown": { "title": attempt.row.subject, "text": fit(&attempt.row.body_text) },
    });
    post("钉钉", attempt, url, body, DINGTALK_TOO_MANY).await
}
