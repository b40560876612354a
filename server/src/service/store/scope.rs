//! Who sees what: the office and leaders see every item; a unit sees only the items it has
//! an assignment on, and only its own assignment of each (svix's `secure_find` idea: the
//! scoping lives in one place, so no resolver can forget it).

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::store::item_cache::ItemCache;
use crate::service::store::rows::ItemRows;
use ducha_domain::colour::Verdict;
use entity::{AssignmentStatus, assignment, item, task};
use std::sync::Arc;

/// Items with a live assignment of `unit_id`, as a subquery.
fn parts_of(unit_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(assignment::Column::ItemId)
        .from(assignment::Entity)
        .and_where(Expr::col(assignment::Column::UnitId).eq(unit_id))
        .and_where(Expr::col(assignment::Column::Status).ne(AssignmentStatus::Withdrawn))
        .to_owned()
}

/// The condition "this item has a live assignment of `unit_id`".
pub fn assigned_to(unit_id: i64) -> Condition {
    Condition::all().add(item::Column::Id.in_subquery(parts_of(unit_id)))
}

/// Items the actor may see: a unit's own parts and, with `tasked` (its unit has tasks handed
/// to it, [`has_tasks`]), the items of those tasks (docs/rules.md §8: a sub-unit sees its
/// task's item and the part's requirements). Callers ask [`visible_items`], which finds out.
///
/// Without tasks the condition is the parts' `IN` alone, which PostgreSQL answers by walking
/// the unit's assignments in item order (0.3 ms for a page at 100,000 items); with them, one
/// `IN` over a `UNION ALL`, a semi-join on both indexes. Both branches under one `OR` would
/// filter every item row instead (18 ms for a third-level unit; BENCHMARKS.md).
pub fn items_for(actor: &Actor, tasked: bool) -> Select<item::Entity> {
    let query = item::Entity::find();
    if actor.role.sees_everything() {
        return query;
    }
    match actor.own_unit() {
        Some(unit_id) if tasked => {
            let tasks = Query::select()
                .column(task::Column::ItemId)
                .from(task::Entity)
                .and_where(Expr::col(task::Column::UnitId).eq(unit_id))
                .to_owned();
            let either = parts_of(unit_id)
                .union(sea_orm::sea_query::UnionType::All, tasks)
                .to_owned();
            query.filter(item::Column::Id.in_subquery(either))
        }
        Some(unit_id) => query.filter(assigned_to(unit_id)),
        // A unit role without a unit sees nothing.
        None => query.filter(item::Column::Id.eq(-1)),
    }
}

/// Whether the actor's unit has any task handed to it: one indexed probe, asked at each read
/// (never kept, so a task handed down is seen by the next request).
pub async fn has_tasks(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<bool> {
    let Some(unit_id) = actor.own_unit().filter(|_| !actor.role.sees_everything()) else {
        return Ok(false);
    };
    Ok(task::Entity::find()
        .filter(task::Column::UnitId.eq(unit_id))
        .one(db)
        .await?
        .is_some())
}

/// [`items_for`], having asked whether the actor's unit has tasks.
pub async fn visible_items(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<Select<item::Entity>> {
    Ok(items_for(actor, has_tasks(db, actor).await?))
}

/// One item, or NOT_FOUND — also when it exists but belongs to other units, so a unit
/// cannot probe for items it has no part in.
pub async fn visible_item(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: i64,
) -> AppResult<item::Model> {
    // By its parts first (one statement, as before levels), then by a task of the unit.
    let by_parts = items_for(actor, false)
        .filter(item::Column::Id.eq(item_id))
        .one(db)
        .await?;
    let found = match by_parts {
        Some(item) => Some(item),
        None if tasked(db, actor, item_id).await? => {
            item::Entity::find_by_id(item_id).one(db).await?
        }
        None => None,
    };
    found.ok_or_else(|| AppError::NotFound(format!("事项 {item_id} 不存在")))
}

/// Whether `actor` sees an item that has these assignments: [`items_for`]'s rule for parts,
/// on rows in memory (a test holds the two to the same answer for every person and item of
/// the demo district). A unit with a task but no part of the item is asked of the
/// database (`tasked`): the kept rows hold no tasks.
pub fn sees_item(actor: &Actor, assignments: &[assignment::Model]) -> bool {
    if actor.role.sees_everything() {
        return true;
    }
    actor.own_unit().is_some_and(|unit_id| {
        assignments
            .iter()
            .any(|a| a.unit_id == unit_id && a.status != AssignmentStatus::Withdrawn)
    })
}

/// One item with all its assignments (withdrawn ones too, by id), as the instance keeps it
/// or else in one statement; or NOT_FOUND as [`visible_item`].
pub async fn visible_item_rows(
    db: &impl ConnectionTrait,
    cache: &ItemCache,
    actor: &Actor,
    item_id: i64,
) -> AppResult<Arc<ItemRows>> {
    Ok(
        visible_item_rows_and_units(db, cache, actor, item_id, false)
            .await?
            .0,
    )
}

/// [`visible_item_rows`], and with `units` the units of its assignments in the same
/// statement when the item is read from the database.
pub async fn visible_item_rows_and_units(
    db: &impl ConnectionTrait,
    cache: &ItemCache,
    actor: &Actor,
    item_id: i64,
    units: bool,
) -> AppResult<(Arc<ItemRows>, Vec<entity::unit::Model>)> {
    let (rows, units) =
        crate::service::store::read::kept_items_and_units(db, cache, &[item_id], units).await?;
    let Some(rows) = rows.into_iter().next() else {
        return Err(AppError::NotFound(format!("事项 {item_id} 不存在")));
    };
    if sees_item(actor, &rows.assignments) || tasked(db, actor, item_id).await? {
        Ok((rows, units))
    } else {
        Err(AppError::NotFound(format!("事项 {item_id} 不存在")))
    }
}

/// Whether a task of the item was handed down to the actor's unit: what a sub-unit sees the
/// item by, read from the database (the kept rows hold no tasks).
async fn tasked(db: &impl ConnectionTrait, actor: &Actor, item_id: i64) -> AppResult<bool> {
    let Some(unit_id) = actor.own_unit() else {
        return Ok(false);
    };
    Ok(task::Entity::find()
        .filter(task::Column::ItemId.eq(item_id))
        .filter(task::Column::UnitId.eq(unit_id))
        .one(db)
        .await?
        .is_some())
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

/// The one visibility rule for the records of an item, for people of a unit (the office,
/// leaders and administrators see everything):
///
/// - the item itself, its stage and every change of stage are shared by all its units;
/// - what belongs to one unit's assignment — its extension requests and their decisions,
///   its reports and their verdicts, its return and the answer to it, the reason for its
///   colour, the attachments of its reports — is seen by that unit only.
///
/// `auditTrail`, `extensionRequests`, `reports`, attachments and colour reasons all apply it;
/// live dashboard events are for the office and leaders only. An audit row that belongs to
/// another unit's assignment keeps its action, stages and time, and loses its reason and
/// details. A row about a task (docs/rules.md §8) is whole for the task's readers and left
/// out for everyone else.
pub fn redact_audit_trail(
    actor: &Actor,
    own_assignments: &std::collections::HashSet<i64>,
    owners: &RecordOwners,
    events: Vec<entity::audit_event::Model>,
) -> Vec<entity::audit_event::Model> {
    if actor.role.sees_everything() {
        return events;
    }
    // Whose assignment an audit row is about: its column, or what its details name.
    let owner = |e: &entity::audit_event::Model| {
        e.assignment_id
            .or_else(|| e.details["assignmentId"].as_i64())
            .or_else(|| {
                e.details["extensionId"]
                    .as_i64()
                    .and_then(|id| owners.extensions.get(&id).copied())
            })
            .or_else(|| {
                e.details["reportId"]
                    .as_i64()
                    .and_then(|id| owners.reports.get(&id).copied())
            })
    };
    // A task's row is its readers' (docs/rules.md §8): the task's own unit and those above
    // it. Anyone else does not learn of the task at all: a sibling's row is left out.
    let hidden =
        |e: &entity::audit_event::Model| owner(e).is_some_and(|a| !own_assignments.contains(&a));
    events
        .into_iter()
        .filter(|e| task_of_row(e).is_none_or(|task| owners.tasks.contains(&task)))
        .map(|mut e| {
            if task_of_row(&e).is_some() {
                return e;
            }
            if hidden(&e) {
                e.reason = None;
                e.details = serde_json::json!({});
            } else {
                // A resumption or a calendar change lists every unit's new due: each unit
                // reads its own.
                for key in ["moved", "dues"] {
                    if let Some(list) = e.details.get_mut(key).and_then(|m| m.as_array_mut()) {
                        list.retain(|m| {
                            m["assignmentId"]
                                .as_i64()
                                .is_some_and(|a| own_assignments.contains(&a))
                        });
                    }
                }
            }
            e
        })
        .collect()
}

/// The task an audit row is about, if any: a task verb's row names it, a task notice's row
/// carries it in its level (`TASK <id> …`).
pub fn task_of_row(e: &entity::audit_event::Model) -> Option<i64> {
    e.details["taskId"].as_i64().or_else(|| {
        e.details["level"]
            .as_str()
            .and_then(|l| l.strip_prefix("TASK "))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
    })
}

/// Which assignment each of an item's extension requests and reports belongs to, and which
/// of its tasks the reader sees.
#[derive(Default)]
pub struct RecordOwners {
    pub extensions: std::collections::HashMap<i64, i64>,
    pub reports: std::collections::HashMap<i64, i64>,
    /// The item's tasks the reader sees.
    pub tasks: std::collections::HashSet<i64>,
}

/// Whether `actor` sees what belongs to `unit_id`: everything for the office and leaders,
/// their own unit's for people of a unit.
pub fn sees_unit(actor: &Actor, unit_id: i64) -> bool {
    actor.role.sees_everything() || actor.own_unit() == Some(unit_id)
}

/// An item's verdict as `actor` may see it: the worst of all units for the office and
/// leaders, the reader's own unit's for a unit (another unit's reason names its due and its
/// troubles; `redact_audit_trail` follows the same rule).
pub fn visible_verdict<'a>(
    actor: &Actor,
    item: &'a Verdict,
    by_unit: &'a std::collections::BTreeMap<i64, Verdict>,
) -> &'a Verdict {
    if actor.role.sees_everything() {
        return item;
    }
    match actor.own_unit() {
        Some(unit) => by_unit.get(&unit).unwrap_or(&NO_PART),
        None => item,
    }
}

/// The verdict of an item for a unit with no part of it — a sub-unit reading it by its task
/// (docs/rules.md §8): no colour of its own there, and no other unit's reason.
static NO_PART: std::sync::LazyLock<Verdict> = std::sync::LazyLock::new(|| Verdict {
    colour: ducha_domain::colour::Colour::None,
    reason: "本单位未直接承办该事项，请见本单位子任务".into(),
});

/// The lead unit's live assignment among an item's assignments (a withdrawn lead was
/// reassigned; none before assignment).
pub fn live_lead_of(assignments: &[assignment::Model]) -> Option<&assignment::Model> {
    assignments
        .iter()
        .find(|a| a.lead && a.status != AssignmentStatus::Withdrawn)
}

/// Whether the actor's role may carry out `duty` (the domain's table of duties); `refusal`
/// is what the person is told when not.
pub fn require_duty(actor: &Actor, duty: ducha_domain::Duty, refusal: &str) -> AppResult<()> {
    if duty.allowed_for(actor.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(refusal.to_string()))
    }
}
