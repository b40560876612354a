//! 挂起, 恢复, 撤销, 回头看 (`service::items::pause`).

use async_graphql::{Context, Object};
use ducha_domain::Action;

use super::shared::{ItemPayload, ItemReasonInput};
use crate::graphql::context::verb_context;
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

    /// 回头看：已销号事项整改不到位，重新打开（须说明理由）
    async fn reopen_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及重新打开的理由（必填）")] input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Reopen, input).await
    }
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
    )
    .await?;
    Ok(ItemPayload {
        item: Item::try_from(updated)?,
    })
}
