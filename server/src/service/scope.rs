//! Who sees what: the office and leaders see every item; a unit sees only the items it has
//! an assignment on, and only its own assignment of each (svix's `secure_find` idea: the
//! scoping lives in one place, so no resolver can forget it).

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::WITHDRAWN;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use entity::{assignment, item};

/// The condition "this item has a live assignment of `unit_id`".
pub fn assigned_to(unit_id: i64) -> Condition {
    Condition::all().add(
        item::Column::Id.in_subquery(
            Query::select()
                .column(assignment::Column::ItemId)
                .from(assignment::Entity)
                .and_where(Expr::col(assignment::Column::UnitId).eq(unit_id))
                .and_where(Expr::col(assignment::Column::Status).ne(WITHDRAWN))
                .to_owned(),
        ),
    )
}

/// Items the actor may see.
pub fn items_for(actor: &Actor) -> Select<item::Entity> {
    let query = item::Entity::find();
    if actor.role.sees_everything() {
        return query;
    }
    match actor.own_unit() {
        Some(unit_id) => query.filter(assigned_to(unit_id)),
        // A unit role without a unit sees nothing.
        None => query.filter(item::Column::Id.eq(-1)),
    }
}

/// One item, or NOT_FOUND — also when it exists but belongs to other units, so a unit
/// cannot probe for items it has no part in.
pub async fn visible_item(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: i64,
) -> AppResult<item::Model> {
    items_for(actor)
        .filter(item::Column::Id.eq(item_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("事项 {item_id} 不存在")))
}

/// Assignments of an item the actor may see.
pub fn assignments_for(actor: &Actor) -> Select<assignment::Entity> {
    let query = assignment::Entity::find();
    match actor.own_unit() {
        Some(unit_id) if !actor.role.sees_everything() => {
            query.filter(assignment::Column::UnitId.eq(unit_id))
        }
        _ => query,
    }
}
