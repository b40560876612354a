//! 交办, 签收, 退回 and the office's answer (`service::items::assign`).

use async_graphql::{Context, InputObject, Object};

use super::shared::{ItemPayload, ItemReasonInput, ItemVersionInput};
use crate::graphql::context::verb_context;
use crate::graphql::objects::Item;
use crate::service::items as verbs;

#[derive(InputObject)]
pub struct AssignItemInput {
    pub item_id: i64,
    pub version: i32,
    /// 主办（牵头）单位
    pub lead_unit_id: i64,
    /// 协办单位
    #[graphql(default)]
    pub co_unit_ids: Vec<i64>,
}

#[derive(InputObject)]
pub struct ResolveReturnInput {
    pub item_id: i64,
    pub version: i32,
    pub assignment_id: i64,
    /// 改派给的单位；不填表示维持原交办
    pub reassign_to_unit_id: Option<i64>,
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
        input: AssignItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::assign(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.lead_unit_id,
            input.co_unit_ids,
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
        input: ItemVersionInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::sign(verb_context(ctx)?, input.item_id, input.version).await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 申请退回：非本单位职责（须说明理由）
    async fn return_item(
        &self,
        ctx: &Context<'_>,
        input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::request_return(
            verb_context(ctx)?,
            input.item_id,
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
        input: ResolveReturnInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::resolve_return(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.assignment_id,
            input.reassign_to_unit_id,
            &input.reason,
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }
}
