//! Leaders' instructions (批示) on an item and whether the reader follows it: the fields
//! `Item.instructions` and `Item.followedByMe` read (below `objects`, which uses them).

use async_graphql::{Context, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::{actor, app_state};
use super::loaders::load_person;
use crate::service::items::follows;
use entity::instruction;

/// 领导批示
#[derive(SimpleObject, Clone)]
pub struct Instruction {
    /// 批示编号（数据库编号）
    pub database_id: i64,
    /// 批示内容
    pub body: String,
    /// 作出批示的区领导姓名
    pub author_name: String,
    /// 批示时刻（UTC）
    pub created_at: DateTime<Utc>,
}

impl Instruction {
    pub async fn of(ctx: &Context<'_>, row: instruction::Model) -> async_graphql::Result<Self> {
        let author = load_person(ctx, Some(row.author_id)).await?;
        Ok(Instruction {
            database_id: row.id,
            body: row.body,
            author_name: author.map(|p| p.name).unwrap_or_default(),
            created_at: row.created_at,
        })
    }
}

/// The instructions on an item, oldest first.
pub async fn of_item(ctx: &Context<'_>, item_id: i64) -> async_graphql::Result<Vec<Instruction>> {
    let state = app_state(ctx)?;
    let rows = crate::service::store::read::instructions_of_item(&state.db, item_id).await?;
    // Awaited together, so the person loader reads every author in one batch.
    futures_util::future::try_join_all(rows.into_iter().map(|row| Instruction::of(ctx, row))).await
}

/// Whether the reader follows the item.
pub async fn followed_by_reader(ctx: &Context<'_>, item_id: i64) -> async_graphql::Result<bool> {
    let state = app_state(ctx)?;
    let reader = actor(ctx)?;
    Ok(
        !follows::followed_among(&state.db, reader.person_id, &[item_id])
            .await?
            .is_empty(),
    )
}
