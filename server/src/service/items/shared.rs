//! What several verbs share: finding a unit, an item's rule, making an assignment with its
//! due, the lead's live assignment, and a deadline recomputed or frozen.

use chrono::{DateTime, Utc};
use ducha_calendar::DeadlineRule;
use ducha_domain::deadlines::{DueInputs, assignment_due};
use ducha_domain::ladder::Rung;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::items::verb::Deps;
use crate::service::notices::notify::{EventNotice, Topic};
use crate::service::store::audit::{Audit, audit};
use entity::AssignmentStatus;
use entity::{assignment, item, unit};

pub async fn find_unit(db: &impl ConnectionTrait, unit_id: i64) -> AppResult<unit::Model> {
    unit::Entity::find_by_id(unit_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("单位 {unit_id} 不存在")))
}

pub fn rule_of(item: &item::Model) -> AppResult<DeadlineRule> {
    item.deadline_rule.parse().map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "item {} has bad rule {}",
            item.id,
            item.deadline_rule
        ))
    })
}

/// A part to give a unit: lead or co-unit, and for a co-unit given it after the lead (改派)
/// the lead's due, which it may not pass.
pub struct NewPart {
    pub unit_id: i64,
    pub lead: bool,
    pub not_after: Option<DateTime<Utc>>,
}

pub async fn insert_assignment(
    txn: &DatabaseTransaction,
    deps: Deps<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
    current: &item::Model,
    part: NewPart,
) -> AppResult<assignment::Model> {
    let (row, due) = new_assignment(deps, now, current, part)?;
    let created = row.insert(txn).await?;
    audit(txn, assignment_audit(actor, now, &created, &due)).await?;
    Ok(created)
}

/// A part's row with its due counted from `now`, not written yet (an import writes many in
/// one statement).
pub fn new_assignment(
    deps: Deps<'_>,
    now: DateTime<Utc>,
    current: &item::Model,
    NewPart {
        unit_id,
        lead,
        not_after,
    }: NewPart,
) -> AppResult<(assignment::ActiveModel, ducha_calendar::Deadline)> {
    let mut due = assignment_due(
        deps.calendar,
        deps.policy,
        DueInputs {
            assigned_at: now,
            rule: rule_of(current)?,
            lead,
            paused_working_days: 0,
        },
    )?;
    // A co-unit given a part later (改派) is never due after the lead (docs/rules.md §2).
    if let Some(cap) = not_after {
        cap_at(&mut due, cap);
    }
    let row = assignment::ActiveModel {
        item_id: Set(current.id),
        unit_id: Set(unit_id),
        lead: Set(lead),
        status: Set(AssignmentStatus::Active),
        due_at: Set(due.due_at),
        extended_due_at: Set(None),
        calendar_version: Set(due.calendar_version.clone()),
        provisional: Set(due.provisional),
        paused_working_days: Set(0),
        signed_at: Set(None),
        signed_by: Set(None),
        return_reason: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    Ok((row, due))
}

/// The trail's row of a part given: to whom, lead or not, and its due with why.
pub fn assignment_audit<'a>(
    actor: &'a Actor,
    now: DateTime<Utc>,
    created: &assignment::Model,
    due: &ducha_calendar::Deadline,
) -> Audit<'a> {
    Audit {
        item_id: Some(created.item_id),
        assignment_id: Some(created.id),
        actor: Some(actor),
        at: now,
        action: if created.lead {
            "ASSIGN_LEAD"
        } else {
            "ASSIGN_CO_UNIT"
        },
        from: None,
        to: None,
        reason: None,
        details: json!({
            "unitId": created.unit_id,
            "dueAt": due.due_at,
            "provisional": due.provisional,
            "calendarVersion": due.calendar_version,
            "explanation": due.explanation.summary,
        }),
    }
}

/// The 督查通知 of a new assignment: the first rung of the ladder, so the sweep never sends
/// it again.
pub fn assignment_notice<'a>(
    current: &'a item::Model,
    a: &'a assignment::Model,
) -> EventNotice<'a> {
    EventNotice {
        topic: Topic::Rung(Rung::Assigned),
        level: Rung::Assigned.level(None),
        item: current,
        assignment: a,
        about_unit: None,
        situation: "已交办，待签收".into(),
    }
}

/// Every live (not withdrawn) part of the item, in assignment order: the units on it.
pub async fn live_parts(
    db: &impl ConnectionTrait,
    item_id: i64,
) -> AppResult<Vec<assignment::Model>> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item_id))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?)
}

/// The item's lead unit's live assignment (none before assignment).
pub async fn live_lead(
    db: &impl ConnectionTrait,
    item_id: i64,
) -> AppResult<Option<assignment::Model>> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item_id))
        .filter(assignment::Column::Lead.eq(true))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
        .one(db)
        .await?)
}

/// An assignment's due from its rule on the current calendar: the item's rule counted from
/// the assignment, or, for the lead of an item a 回头看 reopened, the rectification rule
/// counted from the reopening (docs/rules.md §1).
pub fn recompute_due(
    deps: Deps<'_>,
    current: &item::Model,
    a: &assignment::Model,
    paused_working_days: i32,
) -> AppResult<ducha_calendar::Deadline> {
    let rectification = match (&current.rectification_rule, current.rectification_from) {
        (Some(rule), Some(from)) if a.lead => Some((rule.parse::<DeadlineRule>()?, from)),
        _ => None,
    };
    let (rule, from) = match rectification {
        Some(found) => found,
        None => (rule_of(current)?, a.created_at),
    };
    Ok(assignment_due(
        deps.calendar,
        deps.policy,
        DueInputs {
            assigned_at: from,
            rule,
            lead: a.lead,
            paused_working_days,
        },
    )?)
}

/// A co-unit given its part after the lead (改派) is due no later than the lead (docs/rules.md
/// §2): `lead` is the lead's part and its due as just computed. Co-units assigned with the lead
/// are due a working day before it by their rule already, and are left as computed.
pub fn cap_by_lead(
    due: &mut ducha_calendar::Deadline,
    a: &assignment::Model,
    lead: Option<(&assignment::Model, DateTime<Utc>)>,
) {
    let Some((lead, lead_due)) = lead else {
        return;
    };
    if !a.lead && a.created_at > lead.created_at {
        cap_at(due, lead_due);
    }
}

/// `due`, or the lead's due where that is sooner, saying so in the explanation.
fn cap_at(due: &mut ducha_calendar::Deadline, lead_due: DateTime<Utc>) {
    if due.due_at > lead_due {
        due.due_at = lead_due;
        due.explanation.summary = format!("{}；改派时不晚于主办单位期限", due.explanation.summary);
    }
}

/// The lead's deadline as it stands when the item is closed or cancelled, kept in the audit
/// row: a closed item is frozen, so later calendar corrections (which move only open
/// deadlines) must not change what it says about its own due either.
pub fn frozen_deadline(
    deps: Deps<'_>,
    current: &item::Model,
    lead: &assignment::Model,
) -> AppResult<serde_json::Value> {
    // An item whose rule the calendar can no longer compute still closes; it keeps its due.
    let Ok(deadline) = recompute_due(deps, current, lead, lead.paused_working_days) else {
        return Ok(serde_json::Value::Null);
    };
    serde_json::to_value(&deadline).map_err(|e| AppError::Internal(e.into()))
}
