//! Who sees which tasks (docs/rules.md §8): the office and leaders every one; a unit the
//! tasks handed to it and every task below them or below its own parts — the unit above
//! sees all its children — and never a sibling's.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::watch::colours::tasks::{TaskRow, running_items, task_facts};
use entity::{AssignmentStatus, assignment, task, task_report};

/// The item's tasks the actor sees, in the order they were handed down.
pub async fn visible_tasks(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: i64,
) -> AppResult<Vec<task::Model>> {
    let tasks = task::Entity::find()
        .filter(task::Column::ItemId.eq(item_id))
        .order_by_asc(task::Column::Id)
        .all(db)
        .await?;
    if actor.role.sees_everything() || tasks.is_empty() {
        return Ok(tasks);
    }
    let Some(mine) = actor.own_unit() else {
        return Ok(Vec::new());
    };
    let parts: HashMap<i64, i64> = assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item_id))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.unit_id))
        .collect();
    Ok(seen_by_unit(&tasks, &parts, mine))
}

/// [`visible_tasks`]' rule on rows in memory: a task is seen by its own unit and by every
/// unit above it, up to the part's.
pub fn seen_by_unit(
    tasks: &[task::Model],
    part_units: &HashMap<i64, i64>,
    unit_id: i64,
) -> Vec<task::Model> {
    let by_id: HashMap<i64, &task::Model> = tasks.iter().map(|t| (t.id, t)).collect();
    let sees = |task: &task::Model| {
        let mut current = Some(task);
        // A chain is as deep as the organisation; the bound only guards against a loop.
        for _ in 0..64 {
            let Some(t) = current else { break };
            if t.unit_id == unit_id {
                return true;
            }
            match t.parent_task_id {
                Some(parent) => current = by_id.get(&parent).copied(),
                None => return part_units.get(&t.assignment_id) == Some(&unit_id),
            }
        }
        false
    };
    tasks.iter().filter(|t| sees(t)).cloned().collect()
}

/// One task the actor sees, or none.
pub async fn visible_task(
    db: &impl ConnectionTrait,
    actor: &Actor,
    task_id: i64,
) -> AppResult<Option<task::Model>> {
    let Some(task) = task::Entity::find_by_id(task_id).one(db).await? else {
        return Ok(None);
    };
    Ok(visible_tasks(db, actor, task.item_id)
        .await?
        .into_iter()
        .find(|t| t.id == task_id))
}

/// A task's reports, oldest first (the caller has checked the task is seen).
pub async fn reports_of(
    db: &impl ConnectionTrait,
    task_id: i64,
) -> AppResult<Vec<task_report::Model>> {
    Ok(task_report::Entity::find()
        .filter(task_report::Column::TaskId.eq(task_id))
        .order_by_asc(task_report::Column::Id)
        .all(db)
        .await?)
}

/// The open tasks handed to a unit, across items whose work runs: its to-do's share of the
/// levels.
pub async fn open_tasks_of_unit(
    db: &impl ConnectionTrait,
    unit_id: i64,
) -> AppResult<Vec<task::Model>> {
    Ok(task::Entity::find()
        .filter(task::Column::UnitId.eq(unit_id))
        .filter(task::Column::Status.is_in(OPEN))
        .filter(task::Column::ItemId.in_subquery(running_items()))
        .order_by_asc(task::Column::DueAt)
        .all(db)
        .await?)
}

/// A task's colour by the item's rules (docs/rules.md §3 and §8): judged as a part whose
/// due is the task's, its clock stopped by its own completion report, yellow and red by
/// its reports sent back; a waived task has none. The tasks handed down from it, at every
/// depth, are rolled in, as a part's are: `family` is the item's tasks.
pub fn task_verdict(
    rules: &crate::service::watch::colours::Rules<'_>,
    item: &entity::item::Model,
    task: &task::Model,
    family: &[TaskRow],
    now: chrono::DateTime<chrono::Utc>,
) -> ducha_domain::colour::Verdict {
    use ducha_domain::colour::{rolled_up, task_colour};
    let judge = |t: &task::Model| {
        task_colour(
            rules.calendar,
            rules.time_zone,
            rules.policy,
            &task_facts(item, t),
            now,
        )
    };
    let below = below(task.id, family);
    family
        .iter()
        .filter(|row| below.contains(&row.task.id))
        .fold(judge(task), |held, row| {
            rolled_up(held, &row.unit_name, judge(&row.task))
        })
}

/// The ids of the tasks handed down from `task_id`, at every depth.
fn below(task_id: i64, family: &[TaskRow]) -> std::collections::HashSet<i64> {
    let mut found = std::collections::HashSet::new();
    let mut frontier = vec![task_id];
    // As deep as the organisation; the bound guards a stored loop.
    for _ in 0..16 {
        let next: Vec<i64> = family
            .iter()
            .filter(|row| {
                row.task
                    .parent_task_id
                    .is_some_and(|parent| frontier.contains(&parent))
            })
            .map(|row| row.task.id)
            .filter(|id| found.insert(*id))
            .collect();
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    found
}

/// The tasks a unit handed down — from its live parts, or from tasks handed to it — of items
/// whose work runs, soonest due first: the unit head's view of its sub-units' work. Two
/// statements, each by its own index (`ix_task_assignment`, `ix_task_parent`), rather than
/// one `OR` that would read the whole table.
pub async fn handed_down_by_unit(
    db: &impl ConnectionTrait,
    unit_id: i64,
    open_only: bool,
) -> AppResult<Vec<task::Model>> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let from_parts = task::Entity::find()
        .filter(task::Column::ParentTaskId.is_null())
        .filter(
            task::Column::AssignmentId.in_subquery(
                Query::select()
                    .column(assignment::Column::Id)
                    .from(assignment::Entity)
                    .and_where(Expr::col(assignment::Column::UnitId).eq(unit_id))
                    .and_where(
                        Expr::col(assignment::Column::Status).ne(AssignmentStatus::Withdrawn),
                    )
                    .to_owned(),
            ),
        );
    let from_tasks = task::Entity::find().filter(
        task::Column::ParentTaskId.in_subquery(
            Query::select()
                .column(task::Column::Id)
                .from(task::Entity)
                .and_where(Expr::col(task::Column::UnitId).eq(unit_id))
                .to_owned(),
        ),
    );
    let mut tasks = Vec::new();
    for select in [from_parts, from_tasks] {
        let mut select = select.filter(task::Column::ItemId.in_subquery(running_items()));
        if open_only {
            select = select.filter(task::Column::Status.is_in(OPEN));
        }
        tasks.extend(select.all(db).await?);
    }
    tasks.sort_by_key(|t| (t.due_at, t.id));
    Ok(tasks)
}

/// The statuses of a task still to be done, as stored.
const OPEN: [&str; 3] = ["ASSIGNED", "SIGNED", "FEEDBACK_SUBMITTED"];
