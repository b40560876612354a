//! The channels a notice takes besides mail, each speaking its provider's documented request
//! and answer: 企业微信/政务微信 and 钉钉 group robots (`robots`), webhooks signed per the
//! Standard Webhooks specification (`webhook`), and SMS through a public cloud's API or an
//! office's own gateway (`sms`). Every answer is sorted into the outbox's three outcomes —
//! accepted, wait (an outage or a "too many"), refused for good with the provider's own code
//! and message — and the outbox keeps its promises for all of them (docs/rules.md §4).

mod robots;
mod sign;
mod sms;
mod webhook;

use std::time::Duration;

use entity::{channel, outbox};

pub use sign::{aliyun_signature, dingtalk_sign, standard_webhook_signature};

/// What a channel row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// 企业微信 (or 政务微信, the same API at another address) group robot.
    WecomRobot,
    /// 钉钉 custom robot with 加签.
    DingtalkRobot,
    /// The office's own systems, signed per Standard Webhooks.
    Webhook,
    /// A person's mobile number.
    Sms,
    /// The SMS platform: a public cloud's SMS API (阿里云短信服务).
    SmsAliyun,
    /// The SMS platform: the office's own 短信平台 behind an HTTP gateway.
    SmsGateway,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 6] = [
        ChannelKind::WecomRobot,
        ChannelKind::DingtalkRobot,
        ChannelKind::Webhook,
        ChannelKind::Sms,
        ChannelKind::SmsAliyun,
        ChannelKind::SmsGateway,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::WecomRobot => "WECOM_ROBOT",
            ChannelKind::DingtalkRobot => "DINGTALK_ROBOT",
            ChannelKind::Webhook => "WEBHOOK",
            ChannelKind::Sms => "SMS",
            ChannelKind::SmsAliyun => "SMS_ALIYUN",
            ChannelKind::SmsGateway => "SMS_GATEWAY",
        }
    }

    pub fn parse(text: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::WecomRobot => "企业微信/政务微信群机器人",
            ChannelKind::DingtalkRobot => "钉钉群机器人",
            ChannelKind::Webhook => "Webhook（本单位系统）",
            ChannelKind::Sms => "短信（手机号）",
            ChannelKind::SmsAliyun => "短信平台（阿里云短信服务）",
            ChannelKind::SmsGateway => "短信平台（自建短信网关）",
        }
    }

    /// Interrupts people: waits for office hours unless the item is 特急.
    pub fn is_instant(self) -> bool {
        matches!(
            self,
            ChannelKind::WecomRobot | ChannelKind::DingtalkRobot | ChannelKind::Sms
        )
    }

    /// The platform SMS go through, not an address of its own.
    pub fn is_sms_platform(self) -> bool {
        matches!(self, ChannelKind::SmsAliyun | ChannelKind::SmsGateway)
    }

    /// Messages a minute the provider takes by default (a group robot about 20).
    pub fn default_rate(self) -> u32 {
        match self {
            ChannelKind::WecomRobot | ChannelKind::DingtalkRobot => 20,
            _ => 0,
        }
    }
}

/// Which notices a channel takes, by how pressing they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    All,
    Yellow,
    Red,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::All => "ALL",
            Level::Yellow => "YELLOW",
            Level::Red => "RED",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        [Level::All, Level::Yellow, Level::Red]
            .into_iter()
            .find(|l| l.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::All => "全部提醒",
            Level::Yellow => "黄色预警及以上",
            Level::Red => "仅红色督办",
        }
    }
}

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

/// The one HTTP client every channel uses: rustls with the ring provider (the one lettre
/// already brings), the system's roots, a limit on the whole exchange.
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    // Installed once per process; a second call finds it there.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent("ducha")
        .build()?)
}

/// What a try needs: the client, the message, its channel, and for an SMS the platform.
pub struct Attempt<'a> {
    pub http: &'a reqwest::Client,
    pub row: &'a outbox::Model,
    pub channel: &'a channel::Model,
    pub platform: Option<&'a channel::Model>,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Sends one message through its channel.
pub async fn deliver(attempt: Attempt<'_>) -> Result<(), Refusal> {
    let kind = ChannelKind::parse(&attempt.channel.kind)
        .ok_or_else(|| Refusal::Permanent(format!("未知的渠道类型 {}", attempt.channel.kind)))?;
    match kind {
        ChannelKind::WecomRobot => robots::wecom(&attempt).await,
        ChannelKind::DingtalkRobot => robots::dingtalk(&attempt).await,
        ChannelKind::Webhook => webhook::send(&attempt).await,
        ChannelKind::Sms => match attempt.platform {
            Some(platform) => sms::send(&attempt, platform).await,
            None => Err(Refusal::Transient(
                "未配置或已停用短信平台，短信等待平台恢复后发送".into(),
            )),
        },
        ChannelKind::SmsAliyun | ChannelKind::SmsGateway => {
            Err(Refusal::Permanent("短信平台本身不是收信地址".into()))
        }
    }
}

/// Sorts a transport error: nothing answered in time, or no connection, is an outage.
fn transport_error(provider: &str, error: &reqwest::Error) -> Refusal {
    if error.is_timeout() {
        Refusal::Transient(format!("{provider}未在限定时间内应答"))
    } else if error.is_builder() {
        Refusal::Permanent(format!("{provider}地址无效：{error}"))
    } else {
        Refusal::Transient(format!("{provider}暂时无法连接：{error}"))
    }
}

/// A short, single-line excerpt of a provider's answer for the outbox's error column.
fn excerpt(text: &str) -> String {
    let line: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    line
}

/// An HTTP status a provider answers outside its own JSON: 429 is "too many", 408 and 5xx an
/// outage, any other 4xx a refusal.
fn by_status(
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
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
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
fn setting<'a>(channel: &'a channel::Model, key: &str) -> Option<&'a str> {
    channel
        .settings
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The messages a minute a channel takes (0: no limit of ours).
pub fn rate_per_minute(channel: &channel::Model) -> u32 {
    channel
        .settings
        .get("ratePerMinute")
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_else(|| ChannelKind::parse(&channel.kind).map_or(0, ChannelKind::default_rate))
}
