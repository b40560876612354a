//! 交办, 签收, 退回 and the office's answer (`service::items::assign`).

use crate::graphql::ids::{AssignmentId, ItemId, UnitId};
use async_graphql::{Context, InputObject, Object};

use super::shared::{ItemPayload, ItemReasonInput, ItemVersionInput};
use crate::graphql::context::verb_context;
use crate::graphql::objects::Item;
use crate::service::items as verbs;

/// 交办事项
#[derive(InputObject)]
pub struct AssignItemInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 主办（牵头）单位
    pub lead_unit_id: UnitId,
    /// 协办单位
    #[graphql(default)]
    pub co_unit_ids: Vec<UnitId>,
}

/// 处理单位的退回申请
#[derive(InputObject)]
pub struct ResolveReturnInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 申请退回的交办记录（全局标识或数据库编号）
    pub assignment_id: AssignmentId,
    /// 改派给的单位；不填表示维持原交办
    pub reassign_to_unit_id: Option<UnitId>,
    /// 督查室意见（必填，通知承办单位）
    pub reason: String,
}

#[derive(Default)]
pub struct AssignMutation;

#[Object]
impl AssignMutation {
    /// 交办：指定主办单位和协办单位，自此起算期限
    async fn assign_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及承办单位")] input: AssignItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::assign(
            verb_context(ctx)?,
            input.item_id.0,
            input.version,
            input.lead_unit_id.0,
            input.co_unit_ids.into_iter().map(i64::from).collect(),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 签收（承办单位主要负责人）
    async fn sign_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项及其版本号")] input: ItemVersionInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::sign(verb_context(ctx)?, input.item_id.0, input.version).await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 申请退回：非本单位职责（须说明理由）
    async fn return_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及退回理由（必填）")] input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::request_return(
            verb_context(ctx)?,
            input.item_id.0,
            input.version,
            input.reason.as_deref().unwrap_or_default(),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 处理退回申请：改派其他单位，或维持原交办
    async fn resolve_return(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "处理意见：改派或维持")] input: ResolveReturnInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::resolve_return(
            verb_context(ctx)?,
            input.item_id.0,
            input.version,
            input.assignment_id.0,
            input.reassign_to_unit_id.map(i64::from),
            &input.reason,
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }
}
