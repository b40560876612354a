//! The supervision lifecycle against the database. Every verb is one transaction that
//! (1) takes the item's optimistic version (a stale write is a CONFLICT, nothing changes),
//! (2) asks the pure domain whether the actor may act and where the stage goes,
//! (3) writes the change and appends the audit trail, and commits — or changes nothing.

pub mod attachments;
pub mod calendar;
pub mod colours;
pub mod input;
pub mod items;
pub mod notify;
pub mod org;
pub mod outbox;
pub mod reports;
pub mod scope;
pub mod sweep;

use chrono::{DateTime, Utc};
use ducha_domain::{Action, Stage};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    Statement,
};
use serde_json::Value;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use entity::{assignment, audit_event, item};

/// One row of the audit trail about to be written.
pub struct Audit<'a> {
    pub item_id: Option<i64>,
    pub assignment_id: Option<i64>,
    pub actor: Option<&'a Actor>,
    pub at: DateTime<Utc>,
    pub action: &'a str,
    pub from: Option<Stage>,
    pub to: Option<Stage>,
    pub reason: Option<&'a str>,
    pub details: Value,
}

impl<'a> Audit<'a> {
    /// A change to the system rather than to an item (a unit, a person, the calendar, the
    /// colour policy, a report, the outbox): no item, no stages.
    pub fn admin(
        actor: Option<&'a Actor>,
        at: DateTime<Utc>,
        action: &'a str,
        details: Value,
    ) -> Audit<'a> {
        Audit {
            item_id: None,
            assignment_id: None,
            actor,
            at,
            action,
            from: None,
            to: None,
            reason: None,
            details,
        }
    }

    /// The same row, with why.
    pub fn because(self, reason: Option<&'a str>) -> Audit<'a> {
        Audit { reason, ..self }
    }

    /// The row, for callers that write many in one statement.
    pub fn into_model(self) -> audit_event::ActiveModel {
        audit_event::ActiveModel {
            item_id: Set(self.item_id),
            assignment_id: Set(self.assignment_id),
            actor_id: Set(self.actor.map(|a| a.person_id)),
            at: Set(self.at),
            action: Set(self.action.to_string()),
            from_stage: Set(self.from.map(|s| s.as_str().to_string())),
            to_stage: Set(self.to.map(|s| s.as_str().to_string())),
            reason: Set(self.reason.map(str::to_string)),
            details: Set(self.details),
            ..Default::default()
        }
    }
}

pub async fn audit(db: &impl ConnectionTrait, entry: Audit<'_>) -> AppResult<()> {
    entry.into_model().insert(db).await?;
    Ok(())
}

/// Stable audit names of the verbs (SCREAMING_SNAKE, as the API's enums).
pub fn action_name(action: Action) -> &'static str {
    match action {
        Action::Register => "REGISTER",
        Action::Edit => "EDIT",
        Action::Assign => "ASSIGN",
        Action::Sign => "SIGN",
        Action::Return => "RETURN",
        Action::Reassign => "REASSIGN",
        Action::Insist => "INSIST",
        Action::RequestExtension => "REQUEST_EXTENSION",
        Action::DecideExtension => "DECIDE_EXTENSION",
        Action::ReportProgress => "REPORT_PROGRESS",
        Action::SubmitFeedback => "SUBMIT_FEEDBACK",
        Action::Verify => "VERIFY",
        Action::Reject => "REJECT",
        Action::Close => "CLOSE",
        Action::Suspend => "SUSPEND",
        Action::Resume => "RESUME",
        Action::Cancel => "CANCEL",
        Action::Reopen => "REOPEN",
    }
}

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
            action: action_name(action),
            from: Some(from),
            to: Some(to),
            reason,
            details,
        },
    )
    .await
}

/// A raw statement written with PostgreSQL's numbered parameters (`$1`, `$2`…, each usable
/// more than once), rewritten to SQLite's `?1`, `?2`… for SQLite. The SQL must not contain
/// `$` otherwise.
pub fn statement(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_string()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (BEGIN
/// IMMEDIATE): a deferred transaction that reads first cannot upgrade once another
/// connection has committed (SQLITE_BUSY_SNAPSHOT, 517, which no busy timeout waits out).
/// PostgreSQL ignores the mode.
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::TransactionTrait;
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Ids per `IN (…)` list.
pub const IN_CHUNK: usize = 10_000;

/// Runs `query` over `ids` in chunks, so that a sweep over a million items never builds one
/// `IN (…)` list beyond the databases' bind-parameter limits (SQLite 32,766; PostgreSQL 65,535).
pub async fn in_chunks<T, F, Fut>(ids: &[i64], query: F) -> AppResult<Vec<T>>
where
    F: Fn(Vec<i64>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, sea_orm::DbErr>>,
{
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        out.extend(query(chunk.to_vec()).await?);
    }
    Ok(out)
}

/// Assignment statuses.
pub const ACTIVE: &str = "ACTIVE";
pub const RETURN_REQUESTED: &str = "RETURN_REQUESTED";
pub const WITHDRAWN: &str = "WITHDRAWN";

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
