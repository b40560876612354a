//! 延期: asked by a unit, decided by the office or a leader (`service::items::extension`).

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::shared::item_payload;
use crate::graphql::context::{app_state, verb_context};
use crate::graphql::objects::{ExtensionRequest, Item};
use crate::graphql::scalars::Date;
use crate::service::items as verbs;

#[derive(InputObject)]
pub struct RequestExtensionInput {
    pub item_id: i64,
    pub version: i32,
    /// 申请延至的日期
    pub proposed_due_date: Date,
    pub reason: String,
}

#[derive(InputObject)]
pub struct DecideExtensionInput {
    pub extension_request_id: i64,
    /// 事项的版本号
    pub version: i32,
    pub approve: bool,
    pub reason: Option<String>,
    /// 明确同意协办单位的新期限晚于主办单位的期限（默认不允许）
    #[graphql(default)]
    pub beyond_lead_due: bool,
}

#[derive(SimpleObject)]
pub struct ExtensionPayload {
    pub extension_request: ExtensionRequest,
    pub item: Item,
}

#[derive(Default)]
pub struct ExtensionMutation;

#[Object]
impl ExtensionMutation {
    /// 申请延期（须在期限届满前）
    async fn request_extension(
        &self,
        ctx: &Context<'_>,
        input: RequestExtensionInput,
    ) -> async_graphql::Result<ExtensionPayload> {
        let state = app_state(ctx)?;
        let created = verbs::request_extension(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.proposed_due_date.0,
            &input.reason,
        )
        .await?;
        Ok(ExtensionPayload {
            item: item_payload(state, created.item_id).await?,
            extension_request: created.into(),
        })
    }

    /// 审批延期（督查室；超过原期限10个工作日的由区领导审批）
    async fn decide_extension(
        &self,
        ctx: &Context<'_>,
        input: DecideExtensionInput,
    ) -> async_graphql::Result<ExtensionPayload> {
        let state = app_state(ctx)?;
        let decided = verbs::decide_extension(
            verb_context(ctx)?,
            input.extension_request_id,
            input.version,
            input.approve,
            input.reason.as_deref(),
            input.beyond_lead_due,
        )
        .await?;
        Ok(ExtensionPayload {
            item: item_payload(state, decided.item_id).await?,
            extension_request: decided.into(),
        })
    }
}
