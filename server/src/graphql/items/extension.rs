//! 延期: asked by a unit, decided by the office or a leader (`service::items::extension`).

use crate::graphql::ids::{ExtensionRequestId, ItemId};
use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::shared::item_payload;
use crate::graphql::context::{app_state, verb_context};
use crate::graphql::objects::{ExtensionRequest, Item};
use crate::graphql::scalars::Date;
use crate::service::items as verbs;

/// 申请延期
#[derive(InputObject)]
pub struct RequestExtensionInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 申请延至的日期
    pub proposed_due_date: Date,
    /// 申请延期的理由（必填）
    pub reason: String,
}

/// 审批延期申请
#[derive(InputObject)]
pub struct DecideExtensionInput {
    /// 延期申请（全局标识或数据库编号）
    pub extension_request_id: ExtensionRequestId,
    /// 事项的版本号
    pub version: i32,
    /// true 批准，false 不批准
    pub approve: bool,
    /// 审批意见；不批准时必填
    pub reason: Option<String>,
    /// 明确同意协办单位的新期限晚于主办单位的期限（默认不允许）
    #[graphql(default)]
    pub beyond_lead_due: bool,
    /// 批准主办单位延期时，协办单位的期限不随之顺延（默认按相同工作日数顺延）
    #[graphql(default)]
    pub keep_co_unit_dues: bool,
}

/// 延期申请或审批的结果
#[derive(SimpleObject)]
pub struct ExtensionPayload {
    /// 延期申请（含审批结果）
    pub extension_request: ExtensionRequest,
    /// 操作后的事项
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
        #[graphql(desc = "事项、版本号、申请延至的日期及理由")] input: RequestExtensionInput,
    ) -> async_graphql::Result<ExtensionPayload> {
        let state = app_state(ctx)?;
        let created = verbs::request_extension(
            verb_context(ctx)?,
            input.item_id.0,
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
        #[graphql(desc = "延期申请及审批意见")] input: DecideExtensionInput,
    ) -> async_graphql::Result<ExtensionPayload> {
        let state = app_state(ctx)?;
        let decided = verbs::decide_extension(
            verb_context(ctx)?,
            input.extension_request_id.0,
            input.version,
            input.approve,
            input.reason.as_deref(),
            input.beyond_lead_due,
            input.keep_co_unit_dues,
        )
        .await?;
        Ok(ExtensionPayload {
            item: item_payload(state, decided.item_id).await?,
            extension_request: decided.into(),
        })
    }
}
