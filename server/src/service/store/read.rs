//! Batched reads: the rows of many items, reports or people in one query each, grouped
//! by their owner and in id order. The API's loaders are thin wrappers over these, so that no
//! resolver builds a query.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::{AppError, AppResult};
use crate::service::store::item_cache::ItemCache;
use crate::service::store::rows::{ItemRows, TaskRow};
use crate::service::store::sql::in_chunks;
use entity::{
    assignment, attachment, audit_event, extension_request, item, person, report, task, unit,
};

pub async fn item(db: &impl ConnectionTrait, id: i64) -> AppResult<item::Model> {
    item::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("事项 {id} 不存在")))
}

/// A kind of row that belongs to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemPart {
    Item,
    Assignment,
    Report,
    ExtensionRequest,
    Attachment,
    Task,
}

/// The item a row of `part` belongs to, if the row exists.
pub async fn item_of(db: &impl ConnectionTrait, part: ItemPart, id: i64) -> AppResult<Option<i64>> {
    Ok(match part {
        ItemPart::Item => item::Entity::find_by_id(id).one(db).await?.map(|r| r.id),
        ItemPart::Assignment => assignment::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|r| r.item_id),
        ItemPart::Report => report::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|r| r.item_id),
        ItemPart::ExtensionRequest => extension_request::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|r| r.item_id),
        ItemPart::Task => entity::task::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|r| r.item_id),
        ItemPart::Attachment => {
            let Some(attached) = attachment::Entity::find_by_id(id).one(db).await? else {
                return Ok(None);
            };
            report::Entity::find_by_id(attached.report_id)
                .one(db)
                .await?
                .map(|r| r.item_id)
        }
    })
}

/// Items with all their assignments, in the order of `ids` (ids of no item are left out):
/// what the instance keeps (`item_cache`), and the rest in one statement, then kept.
pub async fn kept_items(
    db: &impl ConnectionTrait,
    cache: &ItemCache,
    ids: &[i64],
) -> AppResult<Vec<Arc<ItemRows>>> {
    Ok(kept_items_and_units(db, cache, ids, false).await?.0)
}

/// [`kept_items`], and with `units` the units of the assignments it read from the database,
/// from the same statement (kept items bring none: the instance keeps their units too).
pub async fn kept_items_and_units(
    db: &impl ConnectionTrait,
    cache: &ItemCache,
    ids: &[i64],
    units: bool,
) -> AppResult<(Vec<Arc<ItemRows>>, Vec<entity::unit::Model>)> {
    let ticket = cache.ticket();
    let mut found = match &ticket {
        Some(ticket) => cache.get_many(ticket, ids),
        None => vec![None; ids.len()],
    };
    let missing: Vec<i64> = ids
        .iter()
        .zip(&found)
        .filter(|(_, kept)| kept.is_none())
        .map(|(id, _)| *id)
        .collect();
    let mut units_read = Vec::new();
    if !missing.is_empty() {
        let rows = in_chunks(&missing, |chunk| {
            crate::service::store::rows::items_with_assignments_and_units(
                db,
                item::Entity::find().filter(item::Column::Id.is_in(chunk)),
                units,
            )
        })
        .await?;
        let mut read: Vec<ItemRows> = Vec::with_capacity(rows.len());
        for (item, assignments, units) in rows {
            read.push(ItemRows::new(item, assignments));
            units_read.extend(units);
        }
        attach_tasks(db, &mut read).await?;
        let read: Vec<Arc<ItemRows>> = read.into_iter().map(Arc::new).collect();
        if let Some(ticket) = ticket {
            cache.store(ticket, &read);
        }
        let by_id: HashMap<i64, Arc<ItemRows>> =
            read.into_iter().map(|rows| (rows.item.id, rows)).collect();
        for (id, slot) in ids.iter().zip(found.iter_mut()) {
            if slot.is_none() {
                *slot = by_id.get(id).cloned();
            }
        }
    }
    Ok((found.into_iter().flatten().collect(), units_read))
}

/// The tasks of `items` that have any (`item.has_tasks`), with their sub-units' names, in the
/// order they were handed down: one statement per chunk, none when no item has tasks.
pub async fn tasks_of_items(
    db: &impl ConnectionTrait,
    items: &[&item::Model],
) -> AppResult<Vec<TaskRow>> {
    tasks_of_items_where(db, items, sea_orm::Condition::all()).await
}

/// [`tasks_of_items`], only those that also meet `condition`.
pub async fn tasks_of_items_where(
    db: &impl ConnectionTrait,
    items: &[&item::Model],
    condition: sea_orm::Condition,
) -> AppResult<Vec<TaskRow>> {
    let ids: Vec<i64> = items.iter().filter(|i| i.has_tasks).map(|i| i.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let select = task::Entity::find()
        .filter(condition)
        .order_by_asc(task::Column::Id);
    let rows = if ids.len() > MANY_ITEMS {
        // Many items (a board as of an instant): one statement over the table, kept to the
        // items asked about, costs less than dozens of long `IN` lists.
        let wanted: std::collections::HashSet<i64> = ids.into_iter().collect();
        let mut rows = select.find_also_related(unit::Entity).all(db).await?;
        rows.retain(|(task, _)| wanted.contains(&task.item_id));
        rows
    } else {
        in_chunks(&ids, |chunk| {
            select
                .clone()
                .filter(task::Column::ItemId.is_in(chunk))
                .find_also_related(unit::Entity)
                .all(db)
        })
        .await?
    };
    Ok(rows.into_iter().map(task_row).collect())
}

/// Past this many items, their tasks are read in one statement over the table.
const MANY_ITEMS: usize = 5_000;

/// A task read with its unit: the name the colour reasons give.
pub fn task_row((task, unit): (task::Model, Option<unit::Model>)) -> TaskRow {
    let unit_name = unit.map_or_else(|| format!("单位{}", task.unit_id), |u| u.name);
    TaskRow { task, unit_name }
}

/// Gives the rows of items that have tasks (`item.has_tasks`) their tasks: one statement when
/// any has, none otherwise.
pub async fn attach_tasks(db: &impl ConnectionTrait, rows: &mut [ItemRows]) -> AppResult<()> {
    let items: Vec<&item::Model> = rows.iter().map(|r| &r.item).collect();
    let tasks = tasks_of_items(db, &items).await?;
    for task in tasks {
        if let Some(rows) = rows.iter_mut().find(|r| r.item.id == task.task.item_id) {
            rows.tasks.push(task);
        }
    }
    Ok(())
}

/// The files attached to an item at 立项, in the order uploaded.
pub async fn item_files(
    db: &impl ConnectionTrait,
    item_id: i64,
) -> AppResult<Vec<entity::item_file::Model>> {
    use entity::item_file;
    Ok(item_file::Entity::find()
        .filter(item_file::Column::ItemId.eq(item_id))
        .order_by_asc(item_file::Column::Id)
        .all(db)
        .await?)
}

/// An item's leader instructions (批示), oldest first.
pub async fn instructions_of_item(
    db: &impl ConnectionTrait,
    item_id: i64,
) -> AppResult<Vec<entity::instruction::Model>> {
    use entity::instruction;
    Ok(instruction::Entity::find()
        .filter(instruction::Column::ItemId.eq(item_id))
        .order_by_asc(instruction::Column::Id)
        .all(db)
        .await?)
}

pub async fn items(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<item::Model>> {
    in_chunks(ids, |chunk| {
        crate::service::store::rows::all(
            db,
            item::Entity::find().filter(item::Column::Id.is_in(chunk)),
        )
    })
    .await
}

pub async fn assignments(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<assignment::Model>> {
    in_chunks(ids, |chunk| {
        assignment::Entity::find()
            .filter(assignment::Column::Id.is_in(chunk))
            .all(db)
    })
    .await
}

pub async fn people(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, person::Model>> {
    let rows = in_chunks(ids, |chunk| {
        person::Entity::find()
            .filter(person::Column::Id.is_in(chunk))
            .all(db)
    })
    .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

/// The assignments of many items, live and withdrawn; items without any are absent.
pub async fn assignments_of_items(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<assignment::Model>>> {
    let rows = in_chunks(ids, |chunk| {
        crate::service::store::rows::all(
            db,
            assignment::Entity::find()
                .filter(assignment::Column::ItemId.is_in(chunk))
                .order_by_asc(assignment::Column::Id),
        )
    })
    .await?;
    Ok(grouped(&[], rows, |a| Some(a.item_id)))
}

/// Rows of one table belonging to many owners, one query per chunk of owners, in id order;
/// every owner asked about is present, with no rows if it has none.
macro_rules! rows_of {
    ($(#[$doc:meta])* $name:ident, $entity:ident, $owner:ident, $owner_of:expr) => {
        $(#[$doc])*
        pub async fn $name(
            db: &impl ConnectionTrait,
            ids: &[i64],
        ) -> AppResult<HashMap<i64, Vec<$entity::Model>>> {
            let rows = in_chunks(ids, |chunk| {
                $entity::Entity::find()
                    .filter($entity::Column::$owner.is_in(chunk))
                    .order_by_asc($entity::Column::Id)
                    .all(db)
            })
            .await?;
            Ok(grouped(ids, rows, $owner_of))
        }
    };
}

rows_of!(
    /// Progress reports and feedback of many items.
    reports_of_items, report, ItemId, |r: &report::Model| Some(r.item_id)
);
rows_of!(
    /// Extension requests of many items.
    extensions_of_items, extension_request, ItemId, |r: &extension_request::Model| Some(r.item_id)
);
rows_of!(
    /// Audit trails of many items.
    audit_of_items, audit_event, ItemId, |r: &audit_event::Model| r.item_id
);
rows_of!(
    /// Attachments of many reports.
    attachments_of_reports, attachment, ReportId, |r: &attachment::Model| Some(r.report_id)
);

fn grouped<T>(
    keys: &[i64],
    rows: Vec<T>,
    owner_of: impl Fn(&T) -> Option<i64>,
) -> HashMap<i64, Vec<T>> {
    let mut map: HashMap<i64, Vec<T>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        if let Some(owner) = owner_of(&row) {
            map.entry(owner).or_default().push(row);
        }
    }
    map
}
