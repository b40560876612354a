//! 挂起, 恢复, 撤销, 回头看 (`service::items::pause`).

use async_graphql::{Context, InputObject, Object};
use ducha_domain::Action;

use super::shared::{ItemPayload, ItemReasonInput};
use crate::graphql::context::verb_context;
use crate::graphql::ids::ItemId;
use crate::graphql::objects::Item;
use crate::service::items as verbs;

#[derive(Default)]
pub struct PauseMutation;

#[Object]
impl PauseMutation {
    /// 挂起：暂停计时（须说明理由）
    async fn suspend_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及挂起理由（必填）")] input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Suspend, input).await
    }

    /// 恢复：从挂起处继续计时，期限顺延挂起期间的工作日
    async fn resume_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及说明（可不填）")] input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Resume, input).await
    }

    /// 撤销（须说明理由）
    async fn cancel_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及撤销理由（必填）")] input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Cancel, input).await
    }

    /// 回头看：已销号事项整改不到位，重新打开（须说明理由并设定整改期限）
    async fn reopen_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号、重新打开的理由及整改期限（均必填）")]
        input: ReopenItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::suspend_resume_cancel_reopen(
            verb_context(ctx)?,
            Action::Reopen,
            input.item_id.0,
            input.version,
            Some(&input.reason),
            Some(&input.rectification_due),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }
}

/// 回头看
#[derive(InputObject)]
pub struct ReopenItemInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 重新打开的理由（必填，不超过2000字）
    pub reason: String,
    /// 整改期限：自现在起算的规则（如“10个工作日”“15天”）或日期（如“2026-12-31”）；主办单位按此期限重新办理
    pub rectification_due: String,
}

async fn simple_verb(
    ctx: &Context<'_>,
    action: Action,
    input: ItemReasonInput,
) -> async_graphql::Result<ItemPayload> {
    let updated = verbs::suspend_resume_cancel_reopen(
        verb_context(ctx)?,
        action,
        input.item_id.0,
        input.version,
        input.reason.as_deref(),
        None,
    )
    .await?;
    Ok(ItemPayload {
        item: Item::try_from(updated)?,
    })
}
