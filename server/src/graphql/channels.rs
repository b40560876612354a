//! 通知渠道: group robots, webhooks, mobile numbers and the SMS platform (`service::org::channels`).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::{actor, app_state};
use crate::graphql::ids::{PersonId, UnitId};
use crate::service::notices::notify::masked_phone;
use crate::service::org::channels as service;
use entity::channel;

/// 通知渠道（机器人、Webhook、短信）；密钥只写不读
#[derive(SimpleObject)]
pub struct Channel {
    /// 渠道编号
    pub id: i64,
    /// WECOM_ROBOT 企业微信/政务微信群机器人，DINGTALK_ROBOT 钉钉群机器人，WEBHOOK，SMS 人员手机号，SMS_ALIYUN 阿里云短信平台，SMS_GATEWAY 自建短信网关
    pub kind: String,
    /// 所属单位（机器人、Webhook）；不属于单位和人员的为督查室（全区）
    pub unit_id: Option<i64>,
    /// 所属人员（短信）
    pub person_id: Option<i64>,
    /// 名称
    pub name: String,
    /// 地址：机器人或 Webhook 的网址（不含 key），短信为脱敏的手机号
    pub address: String,
    /// 是否已设置密钥（密钥本身从不返回）
    pub has_secret: bool,
    /// 非保密的设置，如短信签名、模板编号、请求体模板（JSON）
    pub settings: String,
    /// 接收的提醒范围：ALL 全部，YELLOW 黄色预警及以上，RED 仅红色督办
    pub from_level: String,
    /// 是否启用
    pub enabled: bool,
    /// 因发送失败或对方限流而暂停至此时刻（UTC）；此前不再尝试该渠道
    pub paused_until: Option<DateTime<Utc>>,
    /// 每分钟最多发送几条（0 为不限：Webhook、短信默认如此）
    pub rate_per_minute: i32,
    /// 登记时刻（UTC）
    pub created_at: DateTime<Utc>,
}

impl From<channel::Model> for Channel {
    fn from(c: channel::Model) -> Channel {
        let address = if c.kind == crate::channels::ChannelKind::Sms.as_str() {
            masked_phone(&c.address)
        } else {
            c.address.clone()
        };
        Channel {
            has_secret: service::has_secret(&c),
            paused_until: c.paused_until,
            rate_per_minute: i32::try_from(crate::channels::rate_per_minute(&c)).unwrap_or(0),
            settings: c.settings.to_string(),
            id: c.id,
            kind: c.kind,
            unit_id: c.unit_id,
            person_id: c.person_id,
            name: c.name,
            address,
            from_level: c.from_level,
            enabled: c.enabled,
            created_at: c.created_at,
        }
    }
}

/// 新建通知渠道
#[derive(InputObject)]
pub struct CreateChannelInput {
    /// 渠道类型：WECOM_ROBOT、DINGTALK_ROBOT、WEBHOOK、SMS、SMS_ALIYUN、SMS_GATEWAY
    pub kind: String,
    /// 所属单位（机器人、Webhook）；不填为督查室（全区）
    pub unit_id: Option<UnitId>,
    /// 所属人员（仅短信）
    pub person_id: Option<PersonId>,
    /// 名称，如“住建局工作群”；不填以所属单位或人员命名
    pub name: Option<String>,
    /// 地址：机器人网址（可直接粘贴含 key= 或 access_token= 的完整地址）、Webhook 网址、手机号、短信平台接口地址
    pub address: String,
    /// 密钥：企业微信机器人 key、钉钉加签密钥（SEC 开头）、Webhook 签名密钥（whsec_ 开头；不填自动生成并只显示一次）、阿里云 AccessKey Secret、短信网关认证头的值
    pub secret: Option<String>,
    /// 钉钉机器人的 access_token（地址中已含时可不填）
    pub access_token: Option<String>,
    /// 接收的提醒范围：ALL、YELLOW、RED；短信默认 RED，其余默认 ALL
    pub from_level: Option<String>,
    /// 阿里云 AccessKey ID
    pub access_key_id: Option<String>,
    /// 阿里云短信签名
    pub sign_name: Option<String>,
    /// 阿里云短信模板编号
    pub template_code: Option<String>,
    /// 阿里云短信模板中的变量名（默认 content）
    pub template_param: Option<String>,
    /// 短信网关的请求体模板，须含 {phone} 和 {text}
    pub body_template: Option<String>,
    /// 短信网关的请求体类型：json（默认）或 form
    pub content_type: Option<String>,
    /// 短信网关应答中表示成功的文字，如 "code":0；不填则以 HTTP 2xx 为成功
    pub success_marker: Option<String>,
    /// 短信网关的认证头名称，如 Authorization（其值填在密钥中）
    pub auth_header: Option<String>,
    /// 每分钟最多发送几条（机器人默认20；0 为不限）
    pub rate_per_minute: Option<i32>,
}

/// 新建通知渠道的结果
#[derive(SimpleObject)]
pub struct CreateChannelPayload {
    /// 新建的渠道
    pub channel: Channel,
    /// 系统生成的 Webhook 签名密钥，仅此一次显示，请交给接收方保存
    pub generated_secret: Option<String>,
}

#[derive(Default)]
pub struct ChannelQuery;

#[Object]
impl ChannelQuery {
    /// 通知渠道（督查室、系统管理员）
    async fn channels(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Channel>> {
        let state = app_state(ctx)?;
        Ok(service::list(&state.db, actor(ctx)?)
            .await?
            .into_iter()
            .map(Channel::from)
            .collect())
    }
}

#[derive(Default)]
pub struct ChannelMutation;

#[Object]
impl ChannelMutation {
    /// 登记通知渠道（系统管理员）
    async fn create_channel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "渠道信息")] input: CreateChannelInput,
    ) -> async_graphql::Result<CreateChannelPayload> {
        let state = app_state(ctx)?;
        let settings = [
            ("accessKeyId", input.access_key_id),
            ("signName", input.sign_name),
            ("templateCode", input.template_code),
            ("templateParam", input.template_param),
            ("bodyTemplate", input.body_template),
            ("contentType", input.content_type),
            ("successMarker", input.success_marker),
            ("authHeader", input.auth_header),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect();
        let created = service::create(
            &state.db,
            actor(ctx)?,
            state.clock.now(),
            service::NewChannel {
                kind: input.kind,
                unit_id: input.unit_id.map(i64::from),
                person_id: input.person_id.map(i64::from),
                name: input.name,
                address: input.address,
                secret: input.secret,
                access_token: input.access_token,
                from_level: input.from_level,
                settings,
                rate_per_minute: input.rate_per_minute,
            },
        )
        .await?;
        Ok(CreateChannelPayload {
            channel: created.channel.into(),
            generated_secret: created.generated_secret,
        })
    }

    /// 启用或停用通知渠道（系统管理员）；停用后不再接收新提醒，待发的消息发送时记为失败
    async fn set_channel_enabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "渠道编号")] id: i64,
        #[graphql(desc = "是否启用")] enabled: bool,
    ) -> async_graphql::Result<Channel> {
        let state = app_state(ctx)?;
        Ok(
            service::set_enabled(&state.db, actor(ctx)?, state.clock.now(), id, enabled)
                .await?
                .into(),
        )
    }

    /// 删除通知渠道（系统管理员）
    async fn delete_channel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "渠道编号")] id: i64,
    ) -> async_graphql::Result<bool> {
        let state = app_state(ctx)?;
        service::delete(&state.db, actor(ctx)?, state.clock.now(), id).await?;
        Ok(true)
    }

    /// 通过该渠道立即发送一条测试消息（系统管理员）；返回发件箱中的消息编号，结果见消息队列
    async fn test_channel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "渠道编号")] id: i64,
    ) -> async_graphql::Result<i64> {
        let state = app_state(ctx)?;
        let outbox_id = service::send_test(&state.db, actor(ctx)?, state.clock.now(), id).await?;
        state.notices.wake.notify_one();
        Ok(outbox_id)
    }
}
