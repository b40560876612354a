//! What the item mutations share: an item and its version in, the changed item out.

use crate::graphql::ids::ItemId;
use async_graphql::{InputObject, SimpleObject};

use crate::error::AppResult;
use crate::graphql::objects::Item;
use crate::state::AppState;

/// 只需事项和版本号的操作
#[derive(InputObject)]
pub struct ItemVersionInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
}

/// 需要说明理由的操作
#[derive(InputObject)]
pub struct ItemReasonInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 理由（不超过2000字）；退回、挂起、撤销、回头看须填写，销号、恢复可不填
    pub reason: Option<String>,
}

/// 事项操作的结果
#[derive(SimpleObject)]
pub struct ItemPayload {
    /// 操作后的事项
    pub item: Item,
}

pub async fn item_payload(state: &AppState, item_id: i64) -> AppResult<Item> {
    Item::try_from(crate::service::read::item(&state.db, item_id).await?)
}
