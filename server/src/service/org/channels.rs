//! The channels besides mail, kept by the administrator: a unit's or the office's group
//! robots and webhooks, people's mobile numbers, the SMS platform (docs/rules.md §4,
//! "Channels"). A secret goes in and never comes out: lists say only whether one is set.
//! Every change is one transaction with its audit row; the audit names the channel, never
//! its secret.

use base64::Engine;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Map, Value, json};

use crate::auth::Actor;
use crate::channels::{ChannelKind, Level};
use crate::error::{AppError, AppResult};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::input::Text;
use crate::service::store::scope::require_duty;
use ducha_domain::Duty;
use entity::{channel, person, unit};

const REFUSAL: &str = "只有系统管理员可以设置通知渠道";
const SECRET_MAX: usize = 500;

/// A channel as an administrator describes it; `secret` and `access_token` are secrets.
#[derive(Debug, Default)]
pub struct NewChannel {
    pub kind: String,
    pub unit_id: Option<i64>,
    pub person_id: Option<i64>,
    pub name: Option<String>,
    pub address: String,
    pub secret: Option<String>,
    /// 钉钉: the robot's access token, when not part of the address.
    pub access_token: Option<String>,
    pub from_level: Option<String>,
    /// Non-secret settings by name (`accessKeyId`, `signName`, `templateCode`,
    /// `templateParam`, `bodyTemplate`, `contentType`, `successMarker`, `authHeader`).
    pub settings: Vec<(String, String)>,
    pub rate_per_minute: Option<i32>,
}

/// What was created, and the secret when ducha made it (a webhook's): shown this once.
pub struct Created {
    pub channel: channel::Model,
    pub generated_secret: Option<String>,
}

const SETTING_NAMES: [&str; 8] = [
    "accessKeyId",
    "signName",
    "templateCode",
    "templateParam",
    "bodyTemplate",
    "contentType",
    "successMarker",
    "authHeader",
];

fn bad(text: impl Into<String>) -> AppError {
    AppError::BadUserInput(text.into())
}

/// An http(s) URL, its query split off: (address without query, query pairs).
fn parse_url(field: &str, text: &str) -> AppResult<(String, Vec<(String, String)>)> {
    // The URL parser drops line breaks and tabs silently: refused here, as in every field.
    if text.chars().any(char::is_control) {
        return Err(bad(format!("{field}含有不允许的控制字符")));
    }
    if text.chars().count() > 1_000 {
        return Err(bad(format!("{field}不能超过1000个字符")));
    }
    let mut url = reqwest::Url::parse(text.trim()).map_err(|_| {
        bad(format!(
            "{field}不是有效的网址（应以 https:// 或 http:// 开头）"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad(format!("{field}应以 https:// 或 http:// 开头")));
    }
    // It is shown in lists: a password in it would be too.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(format!(
            "{field}中不能含用户名或密码；认证信息请填在密钥中"
        )));
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    url.set_fragment(None);
    Ok((url.to_string(), pairs))
}

/// A mainland mobile number: 11 digits from 1[3-9], a leading +86 or 86 and separators dropped.
pub fn mobile(text: &str) -> AppResult<String> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    let digits = if digits.len() == 13 {
        digits.strip_prefix("86").unwrap_or(digits)
    } else {
        digits
    };
    let valid = digits.len() == 11
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.starts_with('1')
        && digits[1..2].chars().all(|c| ('3'..='9').contains(&c));
    if valid {
        Ok(digits.to_string())
    } else {
        Err(bad("手机号应为11位中国大陆手机号码，如 13800000000"))
    }
}

fn secret_text(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > SECRET_MAX => {
            Err(bad(format!("{field}不能超过{SECRET_MAX}个字符")))
        }
        Some(v) if v.chars().any(char::is_control) => {
            Err(bad(format!("{field}含有不允许的控制字符")))
        }
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// A Standard Webhooks secret: `whsec_` and the Base64 of 24 to 64 bytes.
fn webhook_secret_is_valid(secret: &str) -> bool {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .is_some_and(|key| (24..=64).contains(&key.len()))
}

fn new_webhook_secret() -> AppResult<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a secret: {e}")))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Creates a channel (the administrator). Every change here goes through the project's one
/// write path (`store::write`: on SQLite, the single writer's queue), as the other admin verbs.
pub async fn create(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewChannel,
) -> AppResult<Created> {
    require_duty(actor, Duty::ManageOrganisation, REFUSAL)?;
    let kind = ChannelKind::parse(input.kind.trim()).ok_or_else(|| {
        bad("渠道类型应为 WECOM_ROBOT、DINGTALK_ROBOT、WEBHOOK、SMS、SMS_ALIYUN 或 SMS_GATEWAY")
    })?;
    let from_level = match input.from_level.as_deref().map(str::trim) {
        None | Some("") if kind == ChannelKind::Sms => Level::Red,
        None | Some("") => Level::All,
        Some(text) => Level::parse(text).ok_or_else(|| bad("提醒范围应为 ALL、YELLOW 或 RED"))?,
    };
    match (kind, input.unit_id, input.person_id) {
        (ChannelKind::Sms, None, Some(_)) => {}
        (ChannelKind::Sms, _, _) => return Err(bad("短信渠道须指定接收短信的人员，且不属于单位")),
        (_, _, Some(_)) => {
            return Err(bad(
                "只有短信渠道属于人员；机器人和 Webhook 属于单位或督查室",
            ));
        }
        (k, Some(_), None) if k.is_sms_platform() => {
            return Err(bad("短信平台为全区共用，不属于单位"));
        }
        _ => {}
    }
    let mut secret = secret_text("密钥", input.secret.as_deref())?;
    let mut settings = Map::new();
    for (name, value) in input.settings {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if !SETTING_NAMES.contains(&name.as_str()) {
            return Err(bad(format!("未知的渠道设置 {name}")));
        }
        let text = Text::parse("渠道设置", value, 1_000)?;
        settings.insert(name, Value::from(text.into_inner()));
    }
    if let Some(rate) = input.rate_per_minute {
        if !(0..=600).contains(&rate) {
            return Err(bad("每分钟发送上限应在0至600之间（0为不限）"));
        }
        settings.insert("ratePerMinute".into(), Value::from(rate));
    }
    let mut generated_secret = None;
    let address = match kind {
        ChannelKind::Sms => mobile(&input.address)?,
        ChannelKind::WecomRobot => {
            let (address, query) = parse_url("机器人地址", &input.address)?;
            // The address people copy carries the key: keep it as the secret, not in the address.
            if let Some((_, key)) = query.iter().find(|(k, _)| k == "key") {
                secret = secret.or(Some(key.clone()));
            }
            if secret.is_none() {
                return Err(bad("请填写机器人的 key（或粘贴含 key= 的完整地址）"));
            }
            address
        }
        ChannelKind::DingtalkRobot => {
            let (address, query) = parse_url("机器人地址", &input.address)?;
            let token = secret_text("access_token", input.access_token.as_deref())?
                .or_else(|| {
                    query
                        .iter()
                        .find(|(k, _)| k == "access_token")
                        .map(|(_, v)| v.clone())
                })
                .ok_or_else(|| {
                    bad("请填写机器人的 access_token（或粘贴含 access_token= 的完整地址）")
                })?;
            let sign = secret
                .take()
                .filter(|sign| sign.starts_with("SEC"))
                .ok_or_else(|| bad("请填写机器人“加签”的密钥（SEC 开头，在机器人的安全设置中）"))?;
            secret = Some(
                serde_json::to_string(&json!({ "accessToken": token, "signSecret": sign }))
                    .map_err(|e| AppError::Internal(e.into()))?,
            );
            address
        }
        ChannelKind::Webhook => {
            // Checked, but kept as given: a receiver's own query (a tenant, a path key) stays.
            parse_url("Webhook 地址", &input.address)?;
            if let Some(given) = &secret
                && !webhook_secret_is_valid(given)
            {
                return Err(bad(
                    "签名密钥应为 whsec_ 开头的 Base64（24至64字节），或留空由系统生成",
                ));
            }
            if secret.is_none() {
                let made = new_webhook_secret()?;
                generated_secret = Some(made.clone());
                secret = Some(made);
            }
            input.address.trim().to_string()
        }
        ChannelKind::SmsAliyun => {
            let address = if input.address.trim().is_empty() {
                "https://dysmsapi.aliyuncs.com/".to_string()
            } else {
                parse_url("接口地址", &input.address)?.0
            };
            for (name, label) in [
                ("accessKeyId", "AccessKey ID"),
                ("signName", "短信签名"),
                ("templateCode", "模板编号"),
            ] {
                if !settings.contains_key(name) {
                    return Err(bad(format!("阿里云短信须填写{label}")));
                }
            }
            if secret.is_none() {
                return Err(bad("阿里云短信须填写 AccessKey Secret"));
            }
            address
        }
        ChannelKind::SmsGateway => {
            parse_url("短信网关地址", &input.address)?;
            if let Some(body) = settings.get("bodyTemplate").and_then(Value::as_str)
                && !(body.contains("{phone}") && body.contains("{text}"))
            {
                return Err(bad("请求体模板须含 {phone} 和 {text}"));
            }
            if let Some(kind) = settings.get("contentType").and_then(Value::as_str)
                && !matches!(kind, "json" | "form")
            {
                return Err(bad("请求体类型应为 json 或 form"));
            }
            let json = settings.get("contentType").and_then(Value::as_str) != Some("form");
            if let Some(body) = settings.get("bodyTemplate").and_then(Value::as_str)
                && json
            {
                let filled = crate::channels::fill_template(body, true, "13800000000", "测试");
                if serde_json::from_str::<Value>(&filled).is_err() {
                    return Err(bad("请求体模板填入手机号和内容后不是有效的 JSON"));
                }
            }
            if let Some(header) = settings.get("authHeader").and_then(Value::as_str)
                && !header
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
            {
                return Err(bad(
                    "认证头名称只能含字母、数字和 - 等符号，如 Authorization",
                ));
            }
            input.address.trim().to_string()
        }
    };
    let owner_name = match (input.unit_id, input.person_id) {
        (Some(id), _) => Some(
            unit::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::NotFound("单位不存在".into()))?
                .name,
        ),
        (None, Some(id)) => Some(
            person::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::NotFound("人员不存在".into()))?
                .name,
        ),
        (None, None) => None,
    };
    let name = match Text::optional("名称", input.name.as_deref(), 100)? {
        Some(name) => name.into_inner(),
        None => owner_name
            .clone()
            .unwrap_or_else(|| kind.label().to_string()),
    };
    let txn = crate::service::store::write::begin_write(db).await?;
    if kind.is_sms_platform() {
        one_platform(&txn, None).await?;
    }
    let same = channel::Entity::find()
        .filter(channel::Column::Kind.eq(kind.as_str()))
        .all(&txn)
        .await?;
    let this = identity(kind, &address, secret.as_deref());
    if let Some(twin) = same
        .iter()
        .find(|c| identity(kind, &c.address, c.secret.as_deref()) == this)
    {
        return Err(AppError::Conflict(format!(
            "该渠道已登记（“{}”）：同一地址登记两次，同一条提醒会发两遍",
            twin.name
        )));
    }
    let created = channel::ActiveModel {
        kind: Set(kind.as_str().to_string()),
        unit_id: Set(input.unit_id),
        person_id: Set(input.person_id),
        name: Set(name),
        address: Set(address),
        settings: Set(Value::Object(settings)),
        secret: Set(secret),
        from_level: Set(from_level.as_str().to_string()),
        enabled: Set(true),
        paused_until: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit(
        &txn,
        Audit::admin(Some(actor), now, "CREATE_CHANNEL", described(&created)),
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        channel: created,
        generated_secret,
    })
}

/// The channel `id`, or NOT_FOUND.
async fn found(txn: &impl sea_orm::ConnectionTrait, id: i64) -> AppResult<channel::Model> {
    channel::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("通知渠道不存在".into()))
}

/// What makes two channels the same receiver: a robot is its address and key (钉钉: its
/// access token, whatever the 加签 secret), a webhook its URL, a phone its number.
fn identity(kind: ChannelKind, address: &str, secret: Option<&str>) -> String {
    match kind {
        ChannelKind::WecomRobot => format!("{address}?key={}", secret.unwrap_or_default()),
        ChannelKind::DingtalkRobot => {
            let token = secret
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .and_then(|v| v["accessToken"].as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{address}?access_token={token}")
        }
        _ => address.to_string(),
    }
}

/// SMS go through one platform: another one in use is refused.
async fn one_platform(txn: &impl sea_orm::ConnectionTrait, except: Option<i64>) -> AppResult<()> {
    let others = channel::Entity::find()
        .filter(channel::Column::Enabled.eq(true))
        .filter(channel::Column::Kind.is_in([
            ChannelKind::SmsAliyun.as_str(),
            ChannelKind::SmsGateway.as_str(),
        ]))
        .all(txn)
        .await?;
    match others.iter().find(|c| Some(c.id) != except) {
        Some(other) => Err(AppError::Conflict(format!(
            "已有启用的短信平台“{}”：短信只通过一个平台发送，请先停用或删除它",
            other.name
        ))),
        None => Ok(()),
    }
}

/// What the trail says of a channel: never its secret.
fn described(c: &channel::Model) -> Value {
    json!({
        "channelId": c.id,
        "kind": c.kind,
        "name": c.name,
        "unitId": c.unit_id,
        "personId": c.person_id,
        "fromLevel": c.from_level,
        "enabled": c.enabled,
    })
}

/// Turns a channel on or off; off, it takes no new notices and its waiting messages fail
/// when tried.
pub async fn set_enabled(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    enabled: bool,
) -> AppResult<channel::Model> {
    require_duty(actor, Duty::ManageOrganisation, REFUSAL)?;
    let txn = crate::service::store::write::begin_write(db).await?;
    let found = found(&txn, id).await?;
    if enabled && ChannelKind::parse(&found.kind).is_some_and(ChannelKind::is_sms_platform) {
        one_platform(&txn, Some(found.id)).await?;
    }
    let mut changed: channel::ActiveModel = found.into();
    changed.enabled = Set(enabled);
    let changed = changed.update(&txn).await?;
    audit(
        &txn,
        Audit::admin(
            Some(actor),
            now,
            if enabled {
                "ENABLE_CHANNEL"
            } else {
                "DISABLE_CHANNEL"
            },
            described(&changed),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(changed)
}

/// Removes a channel; its messages still waiting fail when tried ("通知渠道已删除或停用").
pub async fn delete(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> AppResult<()> {
    require_duty(actor, Duty::ManageOrganisation, REFUSAL)?;
    let txn = crate::service::store::write::begin_write(db).await?;
    let found = found(&txn, id).await?;
    channel::Entity::delete_by_id(id).exec(&txn).await?;
    audit(
        &txn,
        Audit::admin(Some(actor), now, "DELETE_CHANNEL", described(&found)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Every channel, the office's first, then by unit and person.
pub async fn list(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
) -> AppResult<Vec<channel::Model>> {
    require_duty(
        actor,
        Duty::ManageOutbox,
        "只有督查室和系统管理员可以查看通知渠道",
    )?;
    Ok(channel::Entity::find()
        .order_by_asc(channel::Column::Id)
        .all(db)
        .await?)
}

/// A test message through the channel, due now: what the administrator checks a new robot
/// or number with. Audited; returns the outbox row's id.
pub async fn send_test(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> AppResult<i64> {
    require_duty(actor, Duty::ManageOrganisation, REFUSAL)?;
    let txn = crate::service::store::write::begin_write(db).await?;
    let found = found(&txn, id).await?;
    let kind = ChannelKind::parse(&found.kind).ok_or_else(|| bad("渠道类型无效"))?;
    if kind.is_sms_platform() {
        return Err(bad("短信平台请通过某位人员的短信渠道发送测试短信"));
    }
    if !found.enabled {
        return Err(AppError::Conflict("通知渠道已停用，请先启用".into()));
    }
    let text = "【督查督办】这是一条测试消息：通知渠道已接通。";
    let payload = (kind == ChannelKind::Webhook).then(|| {
        json!({
            "type": "channel.test",
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": { "channelId": found.id, "text": text },
        })
        .to_string()
    });
    let row = crate::service::notices::outbox::queued(
        crate::service::notices::outbox::Queued {
            channel: kind.as_str(),
            channel_id: Some(found.id),
            recipient: format!("{}：{}（测试）", kind.label(), found.name),
            subject: "【督查督办】通知渠道测试".into(),
            text: text.into(),
            payload,
            due: now,
            waits_because: None,
        },
        now,
    )
    .insert(&txn)
    .await?;
    audit(
        &txn,
        Audit::admin(
            Some(actor),
            now,
            "TEST_CHANNEL",
            json!({ "channelId": found.id, "outboxId": row.id }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Whether a channel's secret is set, for lists that must not show it.
pub fn has_secret(c: &channel::Model) -> bool {
    c.secret.as_deref().is_some_and(|s| !s.is_empty())
}

/// The channel's non-secret settings, for the page.
pub fn settings_of(c: &channel::Model) -> Vec<(String, String)> {
    c.settings
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_normalised_or_refused() {
        assert_eq!(mobile("138 0000 0000").ok().as_deref(), Some("13800000000"));
        assert_eq!(
            mobile("+86-139-0000-0000").ok().as_deref(),
            Some("13900000000")
        );
        assert_eq!(mobile("8613700000000").ok().as_deref(), Some("13700000000"));
        for bad in [
            "",
            "12800000000",
            "1380000000",
            "138000000000",
            "abc",
            "０１３８",
        ] {
            assert!(mobile(bad).is_err(), "{bad}");
        }
    }
}
