//! A task's own verbs: the sub-unit signs, reports and hands it in; the unit above accepts,
//! sends back or waives it (docs/rules.md §8).

use ducha_domain::tasks::{TaskAction, TaskStatus, feedback_gate};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::write::{
    Holder, TaskNotice, TaskWrite, find_part, find_task, holder_of, own_unit, status_of,
};
use crate::error::{AppError, AppResult};
use crate::service::items::verb::Cx;
use crate::service::notices::notify::TaskNews;
use crate::service::store::input::{BODY_MAX, REASON_MAX, Text, reason};
use entity::{task, task_report};

/// A verb on one task, with what it carries.
#[derive(Debug, Clone)]
pub enum TaskVerb {
    Sign,
    ReportProgress {
        body: String,
    },
    SubmitFeedback {
        body: String,
    },
    Accept {
        reason: Option<String>,
    },
    Reject {
        reason: String,
    },
    Waive {
        reason: String,
    },
    Return {
        reason: String,
    },
    RequestExtension {
        due_date: chrono::NaiveDate,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        reason: Option<String>,
    },
}

impl TaskVerb {
    pub fn action(&self) -> TaskAction {
        match self {
            TaskVerb::Sign => TaskAction::Sign,
            TaskVerb::ReportProgress { .. } => TaskAction::ReportProgress,
            TaskVerb::SubmitFeedback { .. } => TaskAction::SubmitFeedback,
            TaskVerb::Accept { .. } => TaskAction::Accept,
            TaskVerb::Reject { .. } => TaskAction::Reject,
            TaskVerb::Waive { .. } => TaskAction::Waive,
            TaskVerb::Return { .. } => TaskAction::Return,
            TaskVerb::RequestExtension { .. } => TaskAction::RequestExtension,
            TaskVerb::DecideExtension { .. } => TaskAction::DecideExtension,
        }
    }
}

/// The task's words and reasons, checked before anything is read.
enum Checked {
    None,
    Body(Text),
    Reason(Option<Text>),
}

fn checked(verb: &TaskVerb) -> AppResult<Checked> {
    Ok(match verb {
        TaskVerb::Sign => Checked::None,
        TaskVerb::ReportProgress { body } => {
            Checked::Body(Text::parse("进展情况", body, BODY_MAX)?)
        }
        TaskVerb::SubmitFeedback { body } => {
            Checked::Body(Text::parse("办结情况", body, BODY_MAX)?)
        }
        TaskVerb::Accept { reason } => {
            Checked::Reason(Text::optional("核查意见", reason.as_deref(), REASON_MAX)?)
        }
        TaskVerb::RequestExtension { reason: why, .. } => Checked::Reason(Some(reason(why)?)),
        TaskVerb::DecideExtension { reason: why, .. } => {
            Checked::Reason(Text::optional("审批意见", why.as_deref(), REASON_MAX)?)
        }
        TaskVerb::Reject { reason: why }
        | TaskVerb::Waive { reason: why }
        | TaskVerb::Return { reason: why } => Checked::Reason(Some(reason(why)?)),
    })
}

/// One verb on a task at `version` (a progress report takes any version: it may be filed
/// whatever else happens). The task as it now is.
#[tracing::instrument(skip_all, fields(task_id, actor = cx.actor.person_id))]
pub async fn act_on_task(
    cx: Cx<'_>,
    task_id: i64,
    on_item: Option<i64>,
    version: Option<i32>,
    verb: TaskVerb,
) -> AppResult<task::Model> {
    let action = verb.action();
    let words = checked(&verb)?;
    // Every verb but a progress report acts on the task as its reader saw it.
    if version.is_none() && action != TaskAction::ReportProgress {
        return Err(AppError::BadUserInput(
            "请提交子任务的版本号（刷新页面后重试）".into(),
        ));
    }
    // One answer for a task that does not exist, is not of the item named, or is of an item
    // the reader cannot see: nobody probes for tasks.
    let unseen = || AppError::NotFound(format!("子任务 {task_id} 不存在或无权查看"));
    // Seen by the reader, before anything else is said of it (a role's refusal would tell
    // that the task exists); everything is read again inside the write.
    let item_id = super::read::visible_task(cx.db, cx.actor, task_id)
        .await?
        .ok_or_else(unseen)?
        .item_id;
    if on_item.is_some_and(|named| named != item_id) {
        return Err(unseen());
    }
    let write = match TaskWrite::begin(cx, action, item_id).await {
        Err(AppError::NotFound(_)) => return Err(unseen()),
        begun => begun?,
    };
    let mine = own_unit(write.cx.actor)?;
    let task = find_task(&write.txn, task_id).await?;
    let holder = holder_of(&write.txn, &task).await?;
    let acting_unit = if action.by_unit_above() {
        holder.unit_id()
    } else {
        task.unit_id
    };
    if mine != acting_unit {
        return Err(AppError::Forbidden(if action.by_unit_above() {
            "子任务由分解或转办它的单位核查、退回或免除".into()
        } else {
            "该子任务不是交给本单位的".into()
        }));
    }
    let from = status_of(&task);
    let to = action
        .next_status(from)
        .map_err(|e| AppError::InvalidTransition(e.to_string()))?;
    if action == TaskAction::SubmitFeedback {
        feedback_gate(super::write::tally_under(&write.txn, &Holder::Task(task.clone())).await?)
            .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
    }
    claim(&write, &task, version, from, to).await?;
    let now = write.cx.now;
    let mut details = json!({
        "taskId": task.id,
        "unitId": task.unit_id,
        "from": from.as_str(),
        "to": to.as_str(),
    });
    let mut why: Option<String> = None;
    let mut notices = Vec::new();
    let part = find_part(&write.txn, task.assignment_id).await?;
    let notice = |news: TaskNews, to_unit: i64, level: String, situation: String| TaskNotice {
        news,
        part: part.clone(),
        to_unit,
        about_unit: task.unit_id,
        due: task.due_at,
        signed_at: task.signed_at,
        level,
        situation,
    };
    match (&verb, words) {
        (TaskVerb::Sign, _) => {
            task::Entity::update_many()
                .col_expr(task::Column::SignedAt, Expr::value(now))
                .col_expr(
                    task::Column::SignedBy,
                    Expr::value(write.cx.actor.person_id),
                )
                .filter(task::Column::Id.eq(task.id))
                .exec(&write.txn)
                .await?;
        }
        (
            TaskVerb::ReportProgress { .. } | TaskVerb::SubmitFeedback { .. },
            Checked::Body(body),
        ) => {
            let feedback = action == TaskAction::SubmitFeedback;
            let report = insert_report(&write, &task, feedback, body.as_str()).await?;
            details["reportId"] = json!(report.id);
            let mut update = task::Entity::update_many()
                .col_expr(task::Column::LastReportAt, Expr::value(now))
                .filter(task::Column::Id.eq(task.id));
            if feedback {
                update = update.col_expr(task::Column::FeedbackAt, Expr::value(now));
                notices.push(notice(
                    TaskNews::FeedbackIn,
                    holder.unit_id(),
                    format!("TASK {} FEEDBACK {}", task.id, report.id),
                    format!("下级单位报送子任务办结反馈：{}", clipped(body.as_str())),
                ));
            }
            update.exec(&write.txn).await?;
        }
        (TaskVerb::Accept { .. } | TaskVerb::Reject { .. }, Checked::Reason(reason)) => {
            let accepted = action == TaskAction::Accept;
            let report = verdict(&write, &task, accepted, reason.as_ref()).await?;
            details["reportId"] = json!(report.id);
            why = reason.map(Text::into_inner);
            if accepted {
                task::Entity::update_many()
                    .col_expr(task::Column::ClosedAt, Expr::value(now))
                    .filter(task::Column::Id.eq(task.id))
                    .exec(&write.txn)
                    .await?;
            } else {
                // Kept on the row: the task's colour counts its reports sent back (§8).
                task::Entity::update_many()
                    .col_expr(
                        task::Column::Rejections,
                        Expr::col(task::Column::Rejections).add(1),
                    )
                    .filter(task::Column::Id.eq(task.id))
                    .exec(&write.txn)
                    .await?;
                notices.push(notice(
                    TaskNews::Rework,
                    task.unit_id,
                    format!("TASK {} REWORK {}", task.id, report.id),
                    format!(
                        "子任务办结反馈未通过核查，退回重办：{}",
                        why.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        (TaskVerb::Waive { .. }, Checked::Reason(reason)) => {
            why = reason.map(Text::into_inner);
            release(&write, &task, why.as_deref()).await?;
            notices.push(notice(
                TaskNews::Waived,
                task.unit_id,
                format!("TASK {} WAIVED", task.id),
                format!("子任务已免除：{}", why.as_deref().unwrap_or_default()),
            ));
            // What was handed down from it goes with it: nothing is left open under a task
            // nobody will carry out.
            let reason = format!("上级子任务已免除：{}", why.as_deref().unwrap_or_default());
            for below in waive_below(&write, &task, &reason).await? {
                notices.push(TaskNotice {
                    news: TaskNews::Waived,
                    part: part.clone(),
                    to_unit: below.unit_id,
                    about_unit: below.unit_id,
                    due: below.due_at,
                    signed_at: below.signed_at,
                    level: format!("TASK {} WAIVED", below.id),
                    situation: reason.clone(),
                });
            }
        }
        (TaskVerb::Return { .. }, Checked::Reason(reason)) => {
            why = reason.map(Text::into_inner);
            release(&write, &task, why.as_deref()).await?;
            notices.push(notice(
                TaskNews::Returned,
                holder.unit_id(),
                format!("TASK {} RETURNED", task.id),
                format!("下级单位退回子任务：{}", why.as_deref().unwrap_or_default()),
            ));
        }
        (TaskVerb::RequestExtension { due_date, .. }, Checked::Reason(Some(reason))) => {
            let told =
                super::extend::request(&write, &task, &holder, (*due_date, &reason), &mut details)
                    .await?;
            why = Some(reason.into_inner());
            notices.push(notice(told.news, told.to_unit, told.level, told.situation));
        }
        (TaskVerb::DecideExtension { approve, .. }, Checked::Reason(reason)) => {
            let told = super::extend::decide(
                &write,
                &task,
                &holder,
                (*approve, reason.as_ref()),
                &mut details,
            )
            .await?;
            why = reason.map(Text::into_inner);
            let mut decided = notice(told.news, told.to_unit, told.level, told.situation);
            decided.due = told.due.unwrap_or(decided.due);
            notices.push(decided);
        }
        _ => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "task verb {action:?} checked as another"
            )));
        }
    }
    write
        .audit(action, task.assignment_id, why.as_deref(), details)
        .await?;
    let updated = find_task(&write.txn, task.id).await?;
    write.finish(notices).await?;
    Ok(updated)
}

/// Moves the task from `from` to `to` if it is still at `from` and at `version` (a progress
/// report names no version, and moves nothing: it only bumps it, while the task is where it
/// was read). The row stays held until the write ends.
async fn claim(
    write: &TaskWrite<'_>,
    task: &task::Model,
    version: Option<i32>,
    from: TaskStatus,
    to: TaskStatus,
) -> AppResult<()> {
    let mut update = task::Entity::update_many()
        .col_expr(
            task::Column::Version,
            Expr::col(task::Column::Version).add(1),
        )
        .col_expr(task::Column::Status, Expr::value(to.as_str()))
        .filter(task::Column::Id.eq(task.id))
        .filter(task::Column::Status.eq(from.as_str()));
    if let Some(version) = version {
        update = update.filter(task::Column::Version.eq(version));
    }
    let claimed = update.exec(&write.txn).await?;
    if claimed.rows_affected != 1 {
        let current = find_task(&write.txn, task.id).await?;
        return Err(AppError::Conflict(match version {
            Some(version) => format!(
                "子任务已被他人修改（当前版本 {}，提交的版本 {version}），请刷新后重试",
                current.version
            ),
            None => "子任务的状态刚刚变化，请刷新后重试".to_string(),
        }));
    }
    Ok(())
}

/// Keeps why a task was released — waived from above or returned from below — and when.
async fn release(write: &TaskWrite<'_>, task: &task::Model, why: Option<&str>) -> AppResult<()> {
    task::Entity::update_many()
        .col_expr(
            task::Column::WaiveReason,
            Expr::value(why.map(str::to_string)),
        )
        .col_expr(task::Column::ClosedAt, Expr::value(write.cx.now))
        .filter(task::Column::Id.eq(task.id))
        .exec(&write.txn)
        .await?;
    Ok(())
}

/// Waives every open task below `task`, each with its own audit row naming the task it went
/// with; the tasks waived.
async fn waive_below(
    write: &TaskWrite<'_>,
    task: &task::Model,
    reason: &str,
) -> AppResult<Vec<task::Model>> {
    let mut waived = Vec::new();
    let mut frontier = vec![task.id];
    // As deep as the organisation (six levels); the bound guards a stored loop.
    for _ in 0..16 {
        if frontier.is_empty() {
            break;
        }
        let children = task::Entity::find()
            .filter(task::Column::ParentTaskId.is_in(frontier.clone()))
            .all(&write.txn)
            .await?;
        frontier = children.iter().map(|c| c.id).collect();
        for child in children.into_iter().filter(|c| status_of(c).is_open()) {
            task::Entity::update_many()
                .col_expr(
                    task::Column::Status,
                    Expr::value(TaskStatus::Waived.as_str()),
                )
                .col_expr(
                    task::Column::Version,
                    Expr::col(task::Column::Version).add(1),
                )
                .col_expr(task::Column::WaiveReason, Expr::value(reason))
                .col_expr(task::Column::ClosedAt, Expr::value(write.cx.now))
                .filter(task::Column::Id.eq(child.id))
                .exec(&write.txn)
                .await?;
            write
                .audit(
                    TaskAction::Waive,
                    child.assignment_id,
                    Some(reason),
                    json!({
                        "taskId": child.id,
                        "unitId": child.unit_id,
                        "from": status_of(&child).as_str(),
                        "to": TaskStatus::Waived.as_str(),
                        "withTask": task.id,
                    }),
                )
                .await?;
            waived.push(child);
        }
    }
    Ok(waived)
}

async fn insert_report(
    write: &TaskWrite<'_>,
    task: &task::Model,
    feedback: bool,
    body: &str,
) -> AppResult<task_report::Model> {
    Ok(task_report::ActiveModel {
        task_id: Set(task.id),
        item_id: Set(task.item_id),
        kind: Set(if feedback { "FEEDBACK" } else { "PROGRESS" }.to_string()),
        body: Set(body.to_string()),
        author_id: Set(write.cx.actor.person_id),
        created_at: Set(write.cx.now),
        verdict: Set(None),
        verdict_reason: Set(None),
        verdict_by: Set(None),
        verdict_at: Set(None),
        ..Default::default()
    }
    .insert(&write.txn)
    .await?)
}

/// The verdict on the task's latest completion report.
async fn verdict(
    write: &TaskWrite<'_>,
    task: &task::Model,
    accepted: bool,
    reason: Option<&Text>,
) -> AppResult<task_report::Model> {
    let latest = latest_feedback(&write.txn, task.id).await?;
    let mut active: task_report::ActiveModel = latest.into();
    active.verdict = Set(Some(if accepted { "ACCEPTED" } else { "REJECTED" }.into()));
    active.verdict_reason = Set(reason.map(|r| r.as_str().to_string()));
    active.verdict_by = Set(Some(write.cx.actor.person_id));
    active.verdict_at = Set(Some(write.cx.now));
    Ok(active.update(&write.txn).await?)
}

async fn latest_feedback(db: &impl ConnectionTrait, task_id: i64) -> AppResult<task_report::Model> {
    task_report::Entity::find()
        .filter(task_report::Column::TaskId.eq(task_id))
        .filter(task_report::Column::Kind.eq("FEEDBACK"))
        .order_by_desc(task_report::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("task {task_id} has no feedback")))
}

/// A report's first words, for a notice's one line.
fn clipped(body: &str) -> String {
    let mut words: String = body.chars().take(80).collect();
    if body.chars().count() > 80 {
        words.push('…');
    }
    words
}
