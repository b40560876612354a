//! The one client, and a message sent through the provider of its channel.

use std::time::Duration;

use super::answer::{Attempt, Refusal};
use super::kinds::ChannelKind;
use super::{robots, sms, webhook};

/// Makes ring (the provider lettre already brings) the process's TLS provider, once; a later
/// call finds it there. reqwest is built without a provider of its own (no second C crypto
/// library in the binary), so any process that builds a reqwest client calls this first —
/// the tests' own clients too, since cargo builds one reqwest for the whole workspace.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The one HTTP client every channel uses: rustls with the ring provider, the system's
/// roots, a limit on the whole exchange.
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    install_crypto();
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent("ducha")
        .build()?)
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
