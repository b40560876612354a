//! 领导批示, 催办 and 关注 (`service::items::instruct`, `service::items::urge`,
//! `service::items::follows`).

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::shared::ItemPayload;
use crate::error::AppError;
use crate::graphql::context::{actor, app_state, verb_context};
use crate::graphql::ids::ItemId;
use crate::graphql::instruction::Instruction;
use crate::graphql::objects::Item;
use crate::service::items::{self as verbs, follows};

/// 领导批示
#[derive(InputObject)]
pub struct WriteInstructionInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 批示内容（不超过20000字）
    pub body: String,
}

/// 领导批示的结果
#[derive(SimpleObject)]
pub struct InstructionPayload {
    /// 批示后的事项
    pub item: Item,
    /// 新的批示
    pub instruction: Instruction,
}

/// 催办
#[derive(InputObject)]
pub struct UrgeItemInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 催办内容（不超过2000字），随通知发给仍在办理的承办单位
    pub message: String,
    /// 今日已催办过仍发送（默认否：同一单位同一事项每天至多催办一次）
    #[graphql(default = false)]
    pub insist: bool,
}

/// 催办的结果
#[derive(SimpleObject)]
pub struct UrgePayload {
    /// 催办后的事项
    pub item: Item,
    /// 本次通知的承办单位数
    pub units_told: i32,
}

/// 关注或取消关注
#[derive(InputObject)]
pub struct FollowItemInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// true 为关注，false 为取消关注
    #[graphql(default = true)]
    pub follow: bool,
}

#[derive(Default)]
pub struct InstructQuery;

#[Object]
impl InstructQuery {
    /// 我关注的事项（区领导、督查室），最近关注的在前
    async fn followed_items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Item>> {
        let state = app_state(ctx)?;
        let reader = actor(ctx)?;
        // Follows are for those who see every item: a person moved into a unit keeps rows
        // that must not show them other units' items.
        if !reader.role.sees_everything() {
            return Ok(Vec::new());
        }
        let ids = follows::followed(&state.db, reader.person_id).await?;
        let rows = crate::service::store::read::items(&state.db, &ids).await?;
        let mut items = Vec::with_capacity(ids.len());
        // In the order followed, whatever order the read gave.
        for id in ids {
            if let Some(row) = rows.iter().find(|r| r.id == id) {
                items.push(Item::try_from(row.clone())?);
            }
        }
        Ok(items)
    }
}

#[derive(Default)]
pub struct InstructMutation;

#[Object]
impl InstructMutation {
    /// 领导批示（区领导）：保存在事项上，并通知事项的各承办单位
    async fn write_instruction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项及批示内容")] input: WriteInstructionInput,
    ) -> async_graphql::Result<InstructionPayload> {
        let (updated, created) =
            verbs::instruct(verb_context(ctx)?, input.item_id.0, &input.body).await?;
        Ok(InstructionPayload {
            item: Item::try_from(updated)?,
            instruction: Instruction::of(ctx, created).await?,
        })
    }

    /// 催办（督查室）：仍在办理的各承办单位收到催办通知；同一单位同一事项每天至多一次，除非坚持发送
    async fn urge_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、催办内容及是否坚持发送")] input: UrgeItemInput,
    ) -> async_graphql::Result<UrgePayload> {
        let (updated, told) = verbs::urge(
            verb_context(ctx)?,
            input.item_id.0,
            &input.message,
            input.insist,
        )
        .await?;
        Ok(UrgePayload {
            item: Item::try_from(updated)?,
            units_told: i32::try_from(told).unwrap_or(i32::MAX),
        })
    }

    /// 关注或取消关注一个事项（区领导、督查室）；看板先列出关注的事项
    async fn follow_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项及是否关注")] input: FollowItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let state = app_state(ctx)?;
        follows::set_following(
            &state.db,
            actor(ctx)?,
            state.clock.now(),
            input.item_id.0,
            input.follow,
        )
        .await?;
        let rows = crate::service::store::read::items(&state.db, &[input.item_id.0]).await?;
        let item = rows
            .into_iter()
            .next()
            .ok_or_else(|| AppError::NotFound("事项不存在".into()))?;
        Ok(ItemPayload {
            item: Item::try_from(item)?,
        })
    }
}
