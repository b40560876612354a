//! A task's extension (延期, docs/rules.md §8): the sub-unit's head asks for a later due with a
//! reason, while the task's clock runs; the unit that handed it down approves (the task's due
//! moves) or refuses. One request at a time; kept on the task's row until decided.

use chrono::NaiveDate;
use ducha_domain::tasks::{check_task_due, chosen_task_due};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::write::{Holder, TaskWrite};
use crate::error::{AppError, AppResult};
use crate::service::notices::notify::TaskNews;
use crate::service::store::input::Text;
use entity::task;

/// What a verb tells and to whom: the news, the unit it goes to, its level and its words.
pub(super) struct Told {
    pub news: TaskNews,
    pub to_unit: i64,
    pub level: String,
    pub situation: String,
    /// The task's due after the verb, when it moved: what the notice states.
    pub due: Option<chrono::DateTime<chrono::Utc>>,
}

/// The sub-unit asks for `due_date`: a working day, not past, later than the task's due.
pub(super) async fn request(
    write: &TaskWrite<'_>,
    task: &task::Model,
    holder: &Holder,
    (due_date, reason): (NaiveDate, &Text),
    details: &mut serde_json::Value,
) -> AppResult<Told> {
    if task.requested_due_at.is_some() {
        return Err(AppError::InvalidTransition(
            "该子任务已有延期申请，等待上级单位审批".into(),
        ));
    }
    let requested = chosen_task_due(write.calendar(), write.cx.policy, due_date, write.cx.now)
        .map_err(|e| AppError::BadUserInput(e.to_string()))?;
    if requested <= task.due_at {
        return Err(AppError::BadUserInput(format!(
            "申请的期限{due_date}应晚于子任务现在的期限"
        )));
    }
    task::Entity::update_many()
        .col_expr(task::Column::RequestedDueAt, Expr::value(requested))
        .col_expr(
            task::Column::ExtensionReason,
            Expr::value(reason.as_str().to_string()),
        )
        .filter(task::Column::Id.eq(task.id))
        .exec(&write.txn)
        .await?;
    details["dueAt"] = json!(task.due_at);
    details["requestedDueAt"] = json!(requested);
    Ok(Told {
        news: TaskNews::ExtensionAsked,
        to_unit: holder.unit_id(),
        // Levels are at most 32 characters; the version the verb read tells requests apart.
        level: format!("TASK {} EXT {}", task.id, task.version),
        situation: format!("下级单位申请子任务延期至{due_date}：{}", reason.as_str()),
        due: None,
    })
}

/// The unit above decides the pending request. Approved, the task is due then; a due later
/// than the unit's own needs the reason, as when it was handed down.
pub(super) async fn decide(
    write: &TaskWrite<'_>,
    task: &task::Model,
    holder: &Holder,
    (approve, reason): (bool, Option<&Text>),
    details: &mut serde_json::Value,
) -> AppResult<Told> {
    let Some(requested) = task.requested_due_at else {
        return Err(AppError::InvalidTransition(
            "该子任务没有待审批的延期申请".into(),
        ));
    };
    if approve {
        check_task_due(requested, holder.due(), reason.map(Text::as_str))
            .map_err(|e| AppError::BadUserInput(e.to_string()))?;
    } else if reason.is_none() {
        // The sub-unit is told why, as the request's notice promises.
        return Err(AppError::BadUserInput("不同意延期，请说明理由".into()));
    }
    let mut update = task::Entity::update_many()
        .col_expr(
            task::Column::RequestedDueAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            task::Column::ExtensionReason,
            Expr::value(Option::<String>::None),
        )
        .filter(task::Column::Id.eq(task.id));
    if approve {
        update = update.col_expr(task::Column::DueAt, Expr::value(requested));
    }
    update.exec(&write.txn).await?;
    details["approved"] = json!(approve);
    details["dueAt"] = json!(task.due_at);
    details["requestedDueAt"] = json!(requested);
    details["newDueAt"] = json!(if approve { requested } else { task.due_at });
    let date = requested
        .with_timezone(&write.cx.policy.time_zone)
        .date_naive();
    let words = reason.map(Text::as_str).unwrap_or_default();
    Ok(Told {
        news: if approve {
            TaskNews::ExtensionApproved
        } else {
            TaskNews::ExtensionRefused
        },
        to_unit: task.unit_id,
        level: format!("TASK {} EXTD {}", task.id, task.version),
        situation: if approve {
            format!("子任务延期申请已同意，期限延至{date}。{words}")
        } else {
            format!("子任务延期申请未获同意，请按原期限办理。{words}")
        },
        due: approve.then_some(requested),
    })
}
