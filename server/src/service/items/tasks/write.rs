//! What every task verb shares: the holder a task hangs from, the write a task verb takes,
//! and its audit row and notices.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ducha_calendar::Calendar;
use ducha_domain::tasks::{TaskAction, TaskTally};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::items::verb::Cx;
use crate::service::notices::notify::{EventNotice, TaskNews, Topic, write_event_notices};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::write::{WriteTxn, begin_write};
use entity::{AssignmentStatus, assignment, item, task};

/// What a task hangs from: a unit's part of the item (its assignment), or a task that its
/// sub-unit handed further down.
#[derive(Debug, Clone)]
pub enum Holder {
    Part(assignment::Model),
    Task(task::Model),
}

impl Holder {
    /// The unit that holds it: the one that hands down and verifies.
    pub fn unit_id(&self) -> i64 {
        match self {
            Holder::Part(part) => part.unit_id,
            Holder::Task(task) => task.unit_id,
        }
    }

    /// Its due in force, which its tasks are counted back from.
    pub fn due(&self) -> DateTime<Utc> {
        match self {
            Holder::Part(part) => part.extended_due_at.unwrap_or(part.due_at),
            Holder::Task(task) => task.due_at,
        }
    }

    pub fn parent_task_id(&self) -> Option<i64> {
        match self {
            Holder::Part(_) => None,
            Holder::Task(task) => Some(task.id),
        }
    }
}

/// The part a task belongs to (at any depth) and the holder it hangs from.
pub async fn holder_of(db: &impl ConnectionTrait, task: &task::Model) -> AppResult<Holder> {
    match task.parent_task_id {
        Some(parent) => Ok(Holder::Task(find_task(db, parent).await?)),
        None => Ok(Holder::Part(find_part(db, task.assignment_id).await?)),
    }
}

pub async fn find_task(db: &impl ConnectionTrait, task_id: i64) -> AppResult<task::Model> {
    task::Entity::find_by_id(task_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("子任务 {task_id} 不存在或无权查看")))
}

pub async fn find_part(
    db: &impl ConnectionTrait,
    assignment_id: i64,
) -> AppResult<assignment::Model> {
    assignment::Entity::find_by_id(assignment_id)
        .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("承办记录 {assignment_id} 不存在或已改派")))
}

/// The tasks hanging directly from `holder`, as they stand.
pub async fn tally_under(db: &impl ConnectionTrait, holder: &Holder) -> AppResult<TaskTally> {
    let children = match holder {
        Holder::Part(part) => task::Entity::find()
            .filter(task::Column::AssignmentId.eq(part.id))
            .filter(task::Column::ParentTaskId.is_null()),
        Holder::Task(parent) => {
            task::Entity::find().filter(task::Column::ParentTaskId.eq(parent.id))
        }
    }
    .all(db)
    .await?;
    Ok(TaskTally::of(children.iter().map(status_of)))
}

pub use crate::service::watch::colours::tasks::status_of;

/// The unit role's own unit, or FORBIDDEN for anyone else.
pub(crate) fn own_unit(actor: &Actor) -> AppResult<i64> {
    actor
        .own_unit()
        .ok_or_else(|| AppError::Forbidden("只有承办单位人员可以办理子任务".into()))
}

/// A task verb's write: begun on the calendar in force (a verb that writes dues takes the
/// calendar in turn with calendar changes, as every verb does), for an item the actor sees.
pub(crate) struct TaskWrite<'a> {
    pub cx: Cx<'a>,
    pub txn: WriteTxn,
    pub item: item::Model,
}

impl<'a> TaskWrite<'a> {
    pub async fn begin(mut cx: Cx<'a>, action: TaskAction, item_id: i64) -> AppResult<Self> {
        if !action.allowed_for(cx.actor.role) {
            return Err(AppError::Forbidden(
                if action == TaskAction::ReportProgress {
                    "只有承办单位人员可以报送子任务进展".into()
                } else {
                    format!("只有单位主要负责人可以办理子任务（{}）", action.verb())
                },
            ));
        }
        let txn = begin_write(cx.db).await?;
        if let Some(fresh) =
            crate::service::store::calendar_state::calendar_for_verb(&txn, &cx.calendar).await?
        {
            cx.calendar = Arc::new(fresh);
        }
        // The item's row is held for the write before anything of it is read, as every item
        // verb holds it by its claim: a 办结反馈, a return or a suspension and a task verb are
        // taken in turn, and each reads what the other committed (PostgreSQL's row lock;
        // SQLite's one writer already does).
        item::Entity::update_many()
            .col_expr(item::Column::Id, Expr::col(item::Column::Id))
            .filter(item::Column::Id.eq(item_id))
            .exec(&txn)
            .await?;
        let item = crate::service::store::scope::visible_item(&txn, cx.actor, item_id).await?;
        ducha_domain::tasks::item_allows_tasks(item.stage.into())
            .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
        Ok(TaskWrite { cx, txn, item })
    }

    pub fn calendar(&self) -> &Calendar {
        &self.cx.calendar
    }

    /// The task verb's audit row: on the item, owned by the part, no stages.
    pub async fn audit(
        &self,
        action: TaskAction,
        assignment_id: i64,
        reason: Option<&str>,
        details: Value,
    ) -> AppResult<()> {
        audit(
            &self.txn,
            Audit {
                item_id: Some(self.item.id),
                assignment_id: Some(assignment_id),
                actor: Some(self.cx.actor),
                at: self.cx.now,
                action: action.name(),
                from: None,
                to: None,
                reason,
                details,
            },
        )
        .await
    }

    /// Writes the notices, commits, tells the instance's copies, and wakes the sender.
    pub async fn finish(self, notices: Vec<TaskNotice>) -> AppResult<()> {
        let TaskWrite { cx, txn, item } = self;
        let parts: Vec<assignment::Model> = notices.iter().map(|n| n.reader_part()).collect();
        let events: Vec<EventNotice<'_>> = notices
            .iter()
            .zip(&parts)
            .map(|(notice, part)| EventNotice {
                topic: Topic::Task(notice.news),
                level: notice.level.clone(),
                item: &item,
                assignment: part,
                about_unit: Some(notice.about_unit),
                situation: notice.situation.clone(),
            })
            .collect();
        let wake = match (cx.notices, events.is_empty()) {
            (Some(context), false) => {
                write_event_notices(&txn, context, cx.now, events).await?;
                Some(&context.wake)
            }
            _ => None,
        };
        cx.changes
            .commit(txn.commit(), crate::changes::Change::Items(vec![item.id]))
            .await?;
        if let Some(wake) = wake {
            wake.notify_one();
        }
        Ok(())
    }
}

/// A notice of a task verb, for the unit `to_unit`: written against the part (the unique key
/// is the part × kind × level, the level naming the task and the event), read by the unit it
/// is for, with the task's due as the due it states.
pub(crate) struct TaskNotice {
    pub news: TaskNews,
    pub part: assignment::Model,
    pub to_unit: i64,
    /// The sub-unit holding the task.
    pub about_unit: i64,
    pub due: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub level: String,
    pub situation: String,
}

impl TaskNotice {
    /// The part as its reader sees it: their unit, the task's due.
    fn reader_part(&self) -> assignment::Model {
        assignment::Model {
            unit_id: self.to_unit,
            lead: false,
            due_at: self.due,
            extended_due_at: None,
            signed_at: self.signed_at,
            ..self.part.clone()
        }
    }
}
