//! 关注: the items a leader (or the office) follows, shown first on their board. Following is
//! the person's own choice, audited like every change (FOLLOW, UNFOLLOW).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::scope;
use entity::follow;

/// Follows `item_id` (or stops), as `actor`; answers whether it is followed now.
pub async fn set_following(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    following: bool,
) -> AppResult<bool> {
    if !actor.role.sees_everything() {
        return Err(AppError::Forbidden("关注事项供区领导和督查室使用".into()));
    }
    let txn = crate::service::store::write::begin_write(db).await?;
    scope::visible_item(&txn, actor, item_id).await?;
    let changed = if following {
        follow::Entity::insert(follow::ActiveModel {
            person_id: Set(actor.person_id),
            item_id: Set(item_id),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([follow::Column::PersonId, follow::Column::ItemId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?
    } else {
        follow::Entity::delete_many()
            .filter(follow::Column::PersonId.eq(actor.person_id))
            .filter(follow::Column::ItemId.eq(item_id))
            .exec(&txn)
            .await?
            .rows_affected
    };
    // Following what is already followed changes nothing, and says nothing to the trail.
    if changed > 0 {
        audit(
            &txn,
            Audit {
                item_id: Some(item_id),
                assignment_id: None,
                actor: Some(actor),
                at: now,
                action: if following { "FOLLOW" } else { "UNFOLLOW" },
                from: None,
                to: None,
                reason: None,
                details: json!({ "personId": actor.person_id }),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(following)
}

/// The items `person_id` follows, most recently followed first.
pub async fn followed(db: &impl ConnectionTrait, person_id: i64) -> AppResult<Vec<i64>> {
    Ok(follow::Entity::find()
        .select_only()
        .column(follow::Column::ItemId)
        .filter(follow::Column::PersonId.eq(person_id))
        .order_by_desc(follow::Column::CreatedAt)
        .order_by_desc(follow::Column::ItemId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Of `item_ids`, those `person_id` follows.
pub async fn followed_among(
    db: &impl ConnectionTrait,
    person_id: i64,
    item_ids: &[i64],
) -> AppResult<Vec<i64>> {
    Ok(follow::Entity::find()
        .select_only()
        .column(follow::Column::ItemId)
        .filter(follow::Column::PersonId.eq(person_id))
        .filter(follow::Column::ItemId.is_in(item_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?)
}
