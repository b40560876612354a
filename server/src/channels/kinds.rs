//! What a channel is and which notices it takes.

use entity::channel;

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
            ChannelKind::Webhook => "Webhook（对接系统）",
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

/// The messages a minute a channel takes (0: no limit of ours).
pub fn rate_per_minute(channel: &channel::Model) -> u32 {
    channel
        .settings
        .get("ratePerMinute")
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_else(|| ChannelKind::parse(&channel.kind).map_or(0, ChannelKind::default_rate))
}
