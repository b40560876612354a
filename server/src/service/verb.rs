//! The steps every verb takes, in order: require the permission, begin, claim the item at
//! its version, check the transition in the domain, change the stage with its audit row,
//! commit.

use chrono::{DateTime, Utc};
use ducha_domain::{Action, Stage};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::audit::{Audit, audit};
use super::scope;
use super::scope::WITHDRAWN;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use entity::{assignment, item};

pub fn require(actor: &Actor, action: Action) -> AppResult<()> {
    if action.allowed_for(actor.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "当前角色不能{}",
            action.label()
        )))
    }
}

pub fn stage_of(item: &item::Model) -> AppResult<Stage> {
    Stage::parse(&item.stage).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "item {} has unknown stage {}",
            item.id,
            item.stage
        ))
    })
}

/// Claims the item for this write: bumps its version if it is still `version`. Inside a
/// transaction this also holds the row until commit (PostgreSQL row lock, SQLite's single
/// writer), so two writers can never both act on the same version.
pub async fn claim_item(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: i64,
    version: i32,
    now: DateTime<Utc>,
) -> AppResult<item::Model> {
    let existing = scope::visible_item(db, actor, item_id).await?;
    let updated = item::Entity::update_many()
        .col_expr(
            item::Column::Version,
            Expr::col(item::Column::Version).add(1),
        )
        .col_expr(item::Column::UpdatedAt, Expr::value(now))
        .filter(item::Column::Id.eq(item_id))
        .filter(item::Column::Version.eq(version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        // Read again: the version seen before the update may be the one a concurrent writer
        // has just replaced, and the message must name the version that won.
        let current = item::Entity::find_by_id(item_id)
            .one(db)
            .await?
            .map_or(existing.version, |i| i.version);
        return Err(AppError::Conflict(if current == version {
            format!("事项{}正被他人修改，请刷新后重试", existing.serial)
        } else {
            format!(
                "事项{}已被他人修改（当前版本 {current}，提交的版本 {version}），请刷新后重试",
                existing.serial
            )
        }));
    }
    item::Entity::find_by_id(item_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("事项不存在".into()))
}

/// Moves the item to `to` (the projection of the audit trail) and appends the stage change.
// Each argument is a column of the audit row being written; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn change_stage(
    db: &impl ConnectionTrait,
    item: &item::Model,
    actor: &Actor,
    now: DateTime<Utc>,
    action: Action,
    to: Stage,
    reason: Option<&str>,
    details: Value,
) -> AppResult<()> {
    let from = stage_of(item)?;
    if from != to {
        item::Entity::update_many()
            .col_expr(item::Column::Stage, Expr::value(to.as_str()))
            .filter(item::Column::Id.eq(item.id))
            .exec(db)
            .await?;
    }
    audit(
        db,
        Audit {
            item_id: Some(item.id),
            assignment_id: None,
            actor: Some(actor),
            at: now,
            action: action.name(),
            from: Some(from),
            to: Some(to),
            reason,
            details,
        },
    )
    .await
}

/// The actor's own live assignment on the item, or FORBIDDEN.
pub async fn own_assignment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: i64,
) -> AppResult<assignment::Model> {
    let unit_id = actor
        .own_unit()
        .ok_or_else(|| AppError::Forbidden("只有承办单位人员可以办理此操作".into()))?;
    assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item_id))
        .filter(assignment::Column::UnitId.eq(unit_id))
        .filter(assignment::Column::Status.ne(WITHDRAWN))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Forbidden("本单位未承办该事项".into()))
}
