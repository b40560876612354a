//! 分解 and 转办: the unit holding a part (or a task) hands it down to its own sub-units.

use chrono::{DateTime, NaiveDate, Utc};
use ducha_domain::tasks::{
    TaskAction, TaskStatus, check_hand_down, check_task_due, chosen_task_due, default_task_due,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::write::{Holder, TaskNotice, TaskWrite, find_part, find_task, own_unit, status_of};
use crate::error::{AppError, AppResult};
use crate::service::items::verb::Cx;
use crate::service::notices::notify::TaskNews;
use crate::service::store::input::{REASON_MAX, Text};
use entity::{AssignmentStatus, assignment, task, unit};

/// At most this many tasks in one 分解: more is a table, not a breakdown.
pub const MAX_TASKS_PER_SPLIT: usize = 50;
const MEASURES_MAX: usize = 2_000;
const RESPONSIBLE_MAX: usize = 50;

/// One task to hand down, as the unit wrote it.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub unit_id: i64,
    /// 具体措施.
    pub measures: String,
    /// 责任人.
    pub responsible: String,
    /// A due the unit chose; none takes the default, a buffer before the holder's due.
    pub due_date: Option<NaiveDate>,
    /// Why the due is later than the holder's, when it is.
    pub due_reason: Option<String>,
}

/// What is handed down, and from where.
#[derive(Debug, Clone)]
pub struct HandDown {
    pub item_id: i64,
    /// The part (assignment) handed down, or with `from_task` a task handed further down.
    pub from_task: Option<i64>,
    pub tasks: Vec<NewTask>,
    /// 转办 (exactly one task, the whole part) rather than 分解.
    pub pass_down: bool,
}

/// 分解 / 转办: checks the holder is the actor's unit's and signed, that every sub-unit is
/// its own direct sub-unit with no open task of this holder yet, and sets each due (the
/// policy's buffer before the holder's, or the chosen date, later only with a reason).
#[tracing::instrument(skip_all, fields(item_id = order.item_id, actor = cx.actor.person_id))]
pub async fn hand_down(cx: Cx<'_>, order: HandDown) -> AppResult<Vec<task::Model>> {
    let action = if order.pass_down {
        TaskAction::PassDown
    } else {
        TaskAction::Split
    };
    let wanted = checked_input(&order)?;
    let write = TaskWrite::begin(cx, action, order.item_id).await?;
    ducha_domain::tasks::item_allows_hand_down(write.item.stage.into())
        .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
    let mine = own_unit(write.cx.actor)?;
    let holder = find_holder(&write.txn, write.item.id, order.from_task, mine).await?;
    let (_, policy) = crate::service::watch::colours::current_policy(&write.txn).await?;
    let buffer = policy.task_buffer_working_days;
    let existing = open_tasks_under(&write.txn, &holder).await?;
    if order.pass_down && !existing.is_empty() {
        return Err(AppError::InvalidTransition(
            "本单位已分解或转办了该事项，不能再整体转办".into(),
        ));
    }
    if existing.iter().any(|t| t.passed_down) {
        return Err(AppError::InvalidTransition(
            "该事项已整体转办给下级单位，不能再分解".into(),
        ));
    }
    let sub_units = sub_units_of(&write.txn, holder.unit_id()).await?;
    let (now, holder_due) = (write.cx.now, holder.due());
    let default_due = default_due(
        write.calendar(),
        write.cx.policy.time_zone,
        holder_due,
        buffer,
        now,
    )?;
    let mut created = Vec::new();
    let mut notices = Vec::new();
    let part = match &holder {
        Holder::Part(part) => part.clone(),
        Holder::Task(parent) => find_part(&write.txn, parent.assignment_id).await?,
    };
    for new in wanted {
        let Some(sub_unit) = sub_units.iter().find(|u| u.id == new.unit_id) else {
            return Err(AppError::BadUserInput(format!(
                "单位 {} 不是本单位的下级单位，只能分解或转办给本单位的下级单位",
                new.unit_id
            )));
        };
        if existing.iter().any(|t| t.unit_id == sub_unit.id) {
            return Err(AppError::InvalidTransition(format!(
                "{}已有该事项未办结的子任务",
                sub_unit.name
            )));
        }
        let due_at = match new.due_date {
            Some(date) => chosen_task_due(write.calendar(), write.cx.policy, date, now)
                .map_err(|e| AppError::BadUserInput(e.to_string()))?,
            // An overdue holder gives no default: the unit names the task's due, and why.
            None if default_due <= now => {
                return Err(AppError::BadUserInput(
                    "本单位的办理期限已过，请为子任务选择期限并说明理由".into(),
                ));
            }
            None => default_due,
        };
        check_task_due(due_at, holder_due, new.due_reason.as_deref())
            .map_err(|e| AppError::BadUserInput(e.to_string()))?;
        let due_reason = new.due_reason.filter(|_| due_at > holder_due);
        let row = task::ActiveModel {
            item_id: Set(write.item.id),
            assignment_id: Set(part.id),
            parent_task_id: Set(holder.parent_task_id()),
            unit_id: Set(sub_unit.id),
            passed_down: Set(order.pass_down),
            measures: Set(new.measures),
            responsible: Set(new.responsible),
            due_at: Set(due_at),
            due_reason: Set(due_reason),
            status: Set(TaskStatus::Assigned.as_str().to_string()),
            signed_at: Set(None),
            signed_by: Set(None),
            feedback_at: Set(None),
            closed_at: Set(None),
            waive_reason: Set(None),
            last_report_at: Set(None),
            rejections: Set(0),
            version: Set(1),
            created_by: Set(write.cx.actor.person_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&write.txn)
        .await?;
        write
            .audit(
                action,
                part.id,
                row.due_reason.as_deref(),
                json!({
                    "taskId": row.id,
                    "unitId": row.unit_id,
                    "unitName": sub_unit.name,
                    "parentTaskId": row.parent_task_id,
                    "passedDown": row.passed_down,
                    "measures": row.measures,
                    "responsible": row.responsible,
                    "dueAt": row.due_at,
                    "holderDueAt": holder_due,
                    "bufferWorkingDays": buffer,
                    "to": TaskStatus::Assigned.as_str(),
                }),
            )
            .await?;
        notices.push(TaskNotice {
            news: TaskNews::HandedDown,
            part: part.clone(),
            to_unit: row.unit_id,
            about_unit: row.unit_id,
            due: row.due_at,
            signed_at: None,
            level: format!("TASK {} HANDED_DOWN", row.id),
            situation: format!(
                "{}：{}（责任人：{}）",
                action.label(),
                row.measures,
                row.responsible
            ),
        });
        created.push(row);
    }
    if !write.item.has_tasks {
        // From now on reads fetch the item's tasks for its colours (§8).
        entity::item::Entity::update_many()
            .col_expr(
                entity::item::Column::HasTasks,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(entity::item::Column::Id.eq(write.item.id))
            .exec(&write.txn)
            .await?;
    }
    write.finish(notices).await?;
    Ok(created)
}

/// The input, checked before anything is read: a number of tasks that means something, each
/// with its measures and responsible person, no sub-unit twice.
fn checked_input(order: &HandDown) -> AppResult<Vec<NewTask>> {
    if order.tasks.is_empty() {
        return Err(AppError::BadUserInput("请至少填写一项子任务".into()));
    }
    if order.pass_down && order.tasks.len() != 1 {
        return Err(AppError::BadUserInput(
            "转办是把本单位承办部分整体交给一个下级单位，只能选择一个单位".into(),
        ));
    }
    if order.tasks.len() > MAX_TASKS_PER_SPLIT {
        return Err(AppError::BadUserInput(format!(
            "一次最多分解{MAX_TASKS_PER_SPLIT}项子任务"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    let mut checked = Vec::with_capacity(order.tasks.len());
    for new in &order.tasks {
        if !seen.insert(new.unit_id) {
            return Err(AppError::BadUserInput(
                "同一下级单位只能分到一项子任务，请把措施合并填写".into(),
            ));
        }
        let measures = Text::parse("具体措施", &new.measures, MEASURES_MAX)?;
        let responsible = Text::parse("责任人", &new.responsible, RESPONSIBLE_MAX)?;
        let due_reason = Text::optional("期限理由", new.due_reason.as_deref(), REASON_MAX)?;
        checked.push(NewTask {
            unit_id: new.unit_id,
            measures: measures.into_inner(),
            responsible: responsible.into_inner(),
            due_date: new.due_date,
            due_reason: due_reason.map(Text::into_inner),
        });
    }
    Ok(checked)
}

/// The holder named by `from_task` (or the actor's unit's part): the actor's unit's, signed
/// and live.
async fn find_holder(
    db: &impl ConnectionTrait,
    item_id: i64,
    from_task: Option<i64>,
    mine: i64,
) -> AppResult<Holder> {
    match from_task {
        None => {
            let part = assignment::Entity::find()
                .filter(assignment::Column::ItemId.eq(item_id))
                .filter(assignment::Column::UnitId.eq(mine))
                .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
                .one(db)
                .await?
                .ok_or_else(|| AppError::Forbidden("本单位未承办该事项".into()))?;
            check_hand_down(
                part.signed_at.is_some(),
                part.status == AssignmentStatus::ReturnRequested,
            )
            .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
            Ok(Holder::Part(part))
        }
        Some(task_id) => {
            let parent = find_task(db, task_id).await?;
            // Another unit's task, or another item's, is none the reader may hand down: one
            // answer for both, as for a task it cannot see.
            if parent.item_id != item_id || parent.unit_id != mine {
                return Err(AppError::NotFound(format!(
                    "子任务 {task_id} 不存在或无权查看"
                )));
            }
            if status_of(&parent) != TaskStatus::Signed {
                return Err(AppError::InvalidTransition(format!(
                    "子任务当前为“{}”，签收后办理中才能再分解或转办",
                    status_of(&parent).label()
                )));
            }
            Ok(Holder::Task(parent))
        }
    }
}

/// What a unit head sees before handing down: the holder's due, the default due of its
/// tasks, and its sub-units (those with an open task of this holder already marked).
#[derive(Debug, Clone)]
pub struct HandDownPlan {
    pub holder_due: DateTime<Utc>,
    pub default_due: DateTime<Utc>,
    pub buffer_working_days: i64,
    pub sub_units: Vec<unit::Model>,
    /// Sub-units with an open task of this holder: not offered again.
    pub busy_unit_ids: Vec<i64>,
    /// The holder was passed down whole: nothing more can be handed down.
    pub passed_down: bool,
    /// The holder's due has passed: every task needs a date and a reason.
    pub overdue: bool,
}

/// [`hand_down`]'s checks and dues, read without writing: what the page offers.
pub async fn plan(cx: &Cx<'_>, item_id: i64, from_task: Option<i64>) -> AppResult<HandDownPlan> {
    if !TaskAction::Split.allowed_for(cx.actor.role) {
        return Err(AppError::Forbidden(
            "只有单位主要负责人可以分解或转办".into(),
        ));
    }
    let item = crate::service::store::scope::visible_item(cx.db, cx.actor, item_id).await?;
    ducha_domain::tasks::item_allows_hand_down(item.stage.into())
        .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
    let mine = own_unit(cx.actor)?;
    let holder = find_holder(cx.db, item_id, from_task, mine).await?;
    let (_, policy) = crate::service::watch::colours::current_policy(cx.db).await?;
    let buffer = policy.task_buffer_working_days;
    let existing = open_tasks_under(cx.db, &holder).await?;
    let holder_due = holder.due();
    let default_due = default_due(
        &cx.calendar,
        cx.policy.time_zone,
        holder_due,
        buffer,
        cx.now,
    )?;
    Ok(HandDownPlan {
        holder_due,
        default_due,
        buffer_working_days: buffer,
        sub_units: sub_units_of(cx.db, holder.unit_id()).await?,
        busy_unit_ids: existing.iter().map(|t| t.unit_id).collect(),
        passed_down: existing.iter().any(|t| t.passed_down),
        overdue: holder_due <= cx.now,
    })
}

/// The buffer before the holder's due; with no room for it before `now`, the holder's due.
fn default_due(
    calendar: &ducha_calendar::Calendar,
    time_zone: chrono_tz::Tz,
    holder_due: DateTime<Utc>,
    buffer: i64,
    now: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let due = default_task_due(calendar, time_zone, holder_due, buffer)
        .map_err(|e| AppError::BadUserInput(e.to_string()))?;
    Ok(if due <= now { holder_due } else { due })
}

async fn open_tasks_under(
    db: &impl ConnectionTrait,
    holder: &Holder,
) -> AppResult<Vec<task::Model>> {
    let select = match holder {
        Holder::Part(part) => task::Entity::find()
            .filter(task::Column::AssignmentId.eq(part.id))
            .filter(task::Column::ParentTaskId.is_null()),
        Holder::Task(parent) => {
            task::Entity::find().filter(task::Column::ParentTaskId.eq(parent.id))
        }
    };
    Ok(select
        .all(db)
        .await?
        .into_iter()
        .filter(|t| status_of(t).is_open())
        .collect())
}

async fn sub_units_of(db: &impl ConnectionTrait, unit_id: i64) -> AppResult<Vec<unit::Model>> {
    Ok(unit::Entity::find()
        .filter(unit::Column::ParentId.eq(unit_id))
        .order_by_asc(unit::Column::Name)
        .all(db)
        .await?)
}
