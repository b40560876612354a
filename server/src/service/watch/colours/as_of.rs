//! The rows as they stood at a past instant: live assignments, approved extensions, items.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::store::sql::in_chunks;
use entity::AssignmentStatus;
use entity::ItemStage;
use entity::{assignment, item};

/// The assignments of `item_ids` live at `at`, with the dues they had then: those created by
/// then and not yet withdrawn (a later 改派 leaves the past as it was), their extended dues
/// as approved by then, and their dues before any later change moved them (a resumption, a
/// calendar change, a lead's extension, a 回头看), so that an earlier instant is judged as
/// the live board judged it (docs/rules.md §3).
pub async fn live_assignments_at(
    db: &impl ConnectionTrait,
    item_ids: &[i64],
    at: DateTime<Utc>,
) -> AppResult<Vec<assignment::Model>> {
    let withdrawn_since = crate::service::store::history::withdrawn_after(db, at).await?;
    let mut assignments: Vec<assignment::Model> = in_chunks(item_ids, |chunk| {
        assignment::Entity::find()
            .filter(assignment::Column::ItemId.is_in(chunk))
            .filter(assignment::Column::CreatedAt.lte(at))
            .all(db)
    })
    .await?
    .into_iter()
    .filter(|a| a.status != AssignmentStatus::Withdrawn || withdrawn_since.contains(&a.id))
    .collect();
    extensions_as_of(db, &mut assignments, at).await?;
    let dues = crate::service::store::history::dues_at(db, at).await?;
    for a in &mut assignments {
        if let Some(then) = dues.get(&a.id) {
            then.apply(&mut a.due_at, &mut a.extended_due_at);
        }
    }
    Ok(assignments)
}

/// Sets each assignment's extended due to the one approved by `at` (none if none was yet):
/// colours asked of a past instant must not know of later extensions.
async fn extensions_as_of(
    db: &impl ConnectionTrait,
    assignments: &mut [assignment::Model],
    at: DateTime<Utc>,
) -> AppResult<()> {
    let extended: Vec<i64> = assignments
        .iter()
        .filter(|a| a.extended_due_at.is_some())
        .map(|a| a.id)
        .collect();
    if extended.is_empty() {
        return Ok(());
    }
    let approved = in_chunks(&extended, |chunk| {
        entity::extension_request::Entity::find()
            .filter(entity::extension_request::Column::AssignmentId.is_in(chunk))
            .filter(
                entity::extension_request::Column::Decision.eq(entity::ExtensionDecision::Approved),
            )
            .all(db)
    })
    .await?;
    // Per assignment: the latest approval by `at`, and whether any came after it.
    let mut by_then: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    let mut later: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for request in approved {
        let Some(decided) = request.decided_at else {
            continue;
        };
        if decided > at {
            later.insert(request.assignment_id);
            continue;
        }
        let slot = by_then
            .entry(request.assignment_id)
            .or_insert((decided, request.proposed_due_at));
        if decided >= slot.0 {
            *slot = (decided, request.proposed_due_at);
        }
    }
    for a in assignments
        .iter_mut()
        .filter(|a| a.extended_due_at.is_some())
    {
        a.extended_due_at = match (by_then.get(&a.id), later.contains(&a.id)) {
            // No request of its own: a co-unit carried by the lead's extension, whose
            // earlier dues the audit trail gives (`history::dues_at`).
            (None, false) => a.extended_due_at,
            // Nothing approved by then.
            (None, true) => None,
            // The approval in force now was in force then (with any resumption's shift).
            (Some(_), false) => a.extended_due_at,
            // A later approval replaced it: the due approved then.
            (Some((_, due)), true) => Some(*due),
        };
    }
    Ok(())
}

/// The items that were open at `at`, or closed since `closed_since`, as they stood at `at`:
/// registered by then, each in the stage it had then (later changes rewound from the audit
/// trail), closed only if closed by then. Items closed long before are not read.
pub async fn items_as_of(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    closed_since: DateTime<Utc>,
) -> AppResult<Vec<item::Model>> {
    let rewound = crate::service::store::history::stages_at(db, at).await?;
    let mut items = item::Entity::find()
        .filter(item::Column::CreatedAt.lte(at))
        .filter(
            sea_orm::Condition::any()
                .add(item::Column::Stage.is_in(ItemStage::open()))
                .add(item::Column::ClosedAt.gte(closed_since)),
        )
        .all(db)
        .await?;
    // Items whose stage changed since `at` (closed or cancelled now, open then).
    let seen: std::collections::HashSet<i64> = items.iter().map(|i| i.id).collect();
    let changed: Vec<i64> = rewound
        .iter()
        .filter(|(id, before)| before.is_some() && !seen.contains(id))
        .map(|(id, _)| *id)
        .collect();
    items.extend(
        in_chunks(&changed, |chunk| {
            item::Entity::find()
                .filter(item::Column::Id.is_in(chunk))
                .all(db)
        })
        .await?,
    );
    Ok(items
        .into_iter()
        .filter_map(|mut i| {
            match rewound.get(&i.id) {
                // The first change at or after `at` created it: it did not exist yet.
                Some(None) => return None,
                Some(Some(before)) => i.stage = ItemStage::parse(before)?,
                None => {}
            }
            if i.closed_at.is_some_and(|c| c > at) {
                i.closed_at = None;
            }
            Some(i)
        })
        .collect())
}
