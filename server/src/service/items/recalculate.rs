//! Open deadlines recalculated after the calendar changes (a year imported or corrected, a
//! local day set), inside the transaction that changed it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::items::shared::recompute_due;
use crate::service::items::verb::Deps;
use crate::service::store::audit::{Audit, audit};
use crate::service::store::dues::{DUES_KEY, DueChange, Dues, to_value as dues_value};
use entity::{AssignmentStatus, ItemStage, assignment, item};

/// An open deadline a calendar change moved, or made firm (a provisional year published).
#[derive(Debug, Clone)]
pub struct MovedDeadline {
    pub item_id: i64,
    pub serial: String,
    pub assignment_id: i64,
    pub unit_id: i64,
    pub old_due_at: DateTime<Utc>,
    pub new_due_at: DateTime<Utc>,
}

/// After a calendar year is imported or corrected, inside the transaction that changed it:
/// recomputes every open assignment's due instant on the new calendar, audits each one that
/// moved (old due, new due, calendar version), and never touches closed or cancelled items.
/// Returns the moves.
#[tracing::instrument(skip_all)]
pub async fn recalculate_open_deadlines(
    txn: &DatabaseTransaction,
    deps: Deps<'_>,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> AppResult<Vec<MovedDeadline>> {
    let items = item::Entity::find()
        .filter(item::Column::Stage.is_in(ItemStage::open()))
        .filter(item::Column::AssignedAt.is_not_null())
        .all(txn)
        .await?;
    // All live assignments of the open items in a few chunked queries, not one per item.
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut by_item: std::collections::HashMap<i64, Vec<assignment::Model>> =
        std::collections::HashMap::new();
    let all = crate::service::store::sql::in_chunks(&item_ids, |chunk| {
        assignment::Entity::find()
            .filter(assignment::Column::ItemId.is_in(chunk))
            .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
            .all(txn)
    })
    .await?;
    for a in all {
        by_item.entry(a.item_id).or_default().push(a);
    }
    let mut moved = Vec::new();
    for current in items {
        let mut parts = by_item.remove(&current.id).unwrap_or_default();
        // The lead first: a co-unit given its part later is capped by the lead's new due.
        parts.sort_by_key(|a| !a.lead);
        let mut lead_due: Option<(assignment::Model, DateTime<Utc>)> = None;
        for a in parts {
            // A rule the calendar cannot compute (stored before rules were bounded) keeps
            // its due; one such item must not block every calendar change.
            let mut due = match recompute_due(deps, &current, &a, a.paused_working_days) {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(item = current.id, assignment = a.id, %error, "deadline not recalculated");
                    continue;
                }
            };
            if a.lead {
                lead_due = Some((a.clone(), due.due_at));
            }
            crate::service::items::shared::cap_by_lead(
                &mut due,
                &a,
                lead_due.as_ref().map(|(l, at)| (l, *at)),
            );
            if due.calendar_version == a.calendar_version {
                continue;
            }
            let changed = due.due_at != a.due_at || due.provisional != a.provisional;
            let (old_due, old_version) = (a.due_at, a.calendar_version.clone());
            let mut active: assignment::ActiveModel = a.clone().into();
            active.due_at = Set(due.due_at);
            active.provisional = Set(due.provisional);
            active.calendar_version = Set(due.calendar_version.clone());
            active.update(txn).await?;
            if changed {
                moved.push(MovedDeadline {
                    item_id: current.id,
                    serial: current.serial.clone(),
                    assignment_id: a.id,
                    unit_id: a.unit_id,
                    old_due_at: old_due,
                    new_due_at: due.due_at,
                });
                audit(
                    txn,
                    Audit {
                        item_id: Some(current.id),
                        assignment_id: Some(a.id),
                        actor,
                        at: now,
                        action: "RECALCULATE_DUE",
                        from: None,
                        to: None,
                        reason: Some("工作日日历更新，重新计算期限"),
                        details: json!({
                            "oldDueAt": old_due,
                            "newDueAt": due.due_at,
                            "oldCalendarVersion": old_version,
                            "calendarVersion": due.calendar_version,
                            "provisional": due.provisional,
                            DUES_KEY: dues_value(&[DueChange::of(
                                &a,
                                Dues {
                                    due_at: due.due_at,
                                    extended_due_at: a.extended_due_at,
                                },
                            )]),
                        }),
                    },
                )
                .await?;
            }
        }
    }
    Ok(moved)
}
