//! What the item mutations share: an item and its version in, the changed item out.

use async_graphql::{InputObject, SimpleObject};

use crate::error::AppResult;
use crate::graphql::objects::Item;
use crate::state::AppState;

/// 只需事项和版本号的操作
#[derive(InputObject)]
pub struct ItemVersionInput {
    pub item_id: i64,
    pub version: i32,
}

/// 需要说明理由的操作
#[derive(InputObject)]
pub struct ItemReasonInput {
    pub item_id: i64,
    pub version: i32,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct ItemPayload {
    pub item: Item,
}

pub async fn item_payload(state: &AppState, item_id: i64) -> AppResult<Item> {
    Item::try_from(crate::service::read::item(&state.db, item_id).await?)
}
