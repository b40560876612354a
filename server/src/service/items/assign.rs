//! 交办, 签收, 退回 and the office's answer to a return (改派 or 维持).

use ducha_domain::{Action, AssignmentStanding};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::shared::{
    NewPart, assignment_notice, find_unit, insert_assignment, live_parts,
};
use crate::service::items::verb::{Committed, Cx, own_assignment};
use crate::service::notices::notify::{EventNotice, ItemNews, OfficeNews, Topic};
use crate::service::store::input::reason;
use entity::AssignmentStatus;
use entity::{assignment, audit_event, item};

/// 交办: the clock starts now; one lead unit and any co-units, each with its own due. Each
/// unit's 督查通知 is written in the same transaction.
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn assign(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    lead_unit_id: i64,
    co_unit_ids: Vec<i64>,
) -> AppResult<Committed> {
    let verb = cx.verb(Action::Assign)?;
    let mut seen = std::collections::HashSet::from([lead_unit_id]);
    if co_unit_ids.iter().any(|u| !seen.insert(*u)) {
        return Err(AppError::BadUserInput(
            "同一单位不能重复交办，主办单位也不能同时为协办单位".into(),
        ));
    }
    let write = verb.claim(item_id, version).await?;
    let (txn, cx, current) = (&write.txn, &write.cx, &write.item);
    find_unit(txn, lead_unit_id).await?;
    for unit_id in &co_unit_ids {
        find_unit(txn, *unit_id).await?;
    }
    let deps = cx.deps();
    let mut created = vec![
        insert_assignment(
            txn,
            deps,
            cx.actor,
            cx.now,
            current,
            NewPart {
                unit_id: lead_unit_id,
                lead: true,
                not_after: None,
            },
        )
        .await?,
    ];
    for unit_id in &co_unit_ids {
        created.push(
            insert_assignment(
                txn,
                deps,
                cx.actor,
                cx.now,
                current,
                NewPart {
                    unit_id: *unit_id,
                    lead: false,
                    not_after: None,
                },
            )
            .await?,
        );
    }
    let mut active: item::ActiveModel = current.clone().into();
    active.assigned_at = Set(Some(cx.now));
    active.update(txn).await?;
    let claimed = current.clone();
    let notices = created
        .iter()
        .map(|a| assignment_notice(&claimed, a))
        .collect();
    write
        .commit(
            None,
            json!({ "leadUnitId": lead_unit_id, "coUnitIds": co_unit_ids }),
            notices,
        )
        .await
}

/// 签收: the lead unit's signature moves the item to 承办中; a co-unit's is recorded only.
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn sign(cx: Cx<'_>, item_id: i64, version: i32) -> AppResult<Committed> {
    let mut write = cx.verb(Action::Sign)?.claim(item_id, version).await?;
    let mine = own_assignment(&write.txn, write.cx.actor, item_id).await?;
    AssignmentStanding {
        signed: mine.signed_at.is_some(),
        return_requested: mine.status == AssignmentStatus::ReturnRequested,
        insisted_on: false,
    }
    .check_sign()
    .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
    if !mine.lead {
        write.to = write.from;
    }
    let mut active: assignment::ActiveModel = mine.clone().into();
    active.signed_at = Set(Some(write.cx.now));
    active.signed_by = Set(Some(write.cx.actor.person_id));
    active.update(&write.txn).await?;
    write
        .commit(
            None,
            json!({ "assignmentId": mine.id, "lead": mine.lead }),
            Vec::new(),
        )
        .await
}

/// 退回: "not ours" — the unit asks the office to take it back, with a reason.
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn request_return(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    why: &str,
) -> AppResult<Committed> {
    let verb = cx.verb(Action::Return)?;
    let why = reason(why)?;
    let write = verb.claim(item_id, version).await?;
    let mine = own_assignment(&write.txn, write.cx.actor, item_id).await?;
    AssignmentStanding {
        signed: mine.signed_at.is_some(),
        return_requested: mine.status == AssignmentStatus::ReturnRequested,
        insisted_on: insisted_on(&write.txn, item_id, mine.id).await?,
    }
    .check_return()
    .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
    let mut active: assignment::ActiveModel = mine.clone().into();
    active.status = Set(AssignmentStatus::ReturnRequested);
    active.return_reason = Set(Some(why.as_str().to_string()));
    let returned = active.update(&write.txn).await?;
    // The office answers a return: it hears at once.
    let item = write.item.clone();
    let notice = EventNotice {
        topic: Topic::Office(OfficeNews::ReturnAsked),
        level: format!("RET {}", item.version),
        item: &item,
        assignment: &returned,
        about_unit: None,
        situation: format!("申请退回：{}", why.as_str()),
    };
    write
        .commit(
            Some(why.as_str()),
            json!({ "assignmentId": mine.id }),
            vec![notice],
        )
        .await
}

/// Whether the office has already insisted (维持) on this assignment: its answer to a return
/// is final for that unit, or a unit could return the item forever.
async fn insisted_on(
    db: &impl ConnectionTrait,
    item_id: i64,
    assignment_id: i64,
) -> AppResult<bool> {
    let insists = audit_event::Entity::find()
        .filter(audit_event::Column::ItemId.eq(item_id))
        .filter(audit_event::Column::Action.eq(Action::Insist.name()))
        .all(db)
        .await?;
    Ok(insists
        .iter()
        .any(|e| e.details["assignmentId"].as_i64() == Some(assignment_id)))
}

/// The office answers a return: reassign to another unit, or insist (the unit keeps it, and
/// may not return it again).
#[tracing::instrument(skip_all, fields(item_id, version, assignment_id, actor = cx.actor.person_id))]
pub async fn resolve_return(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    assignment_id: i64,
    reassign_to: Option<i64>,
    why: &str,
) -> AppResult<Committed> {
    let action = if reassign_to.is_some() {
        Action::Reassign
    } else {
        Action::Insist
    };
    let verb = cx.verb(action)?;
    let why = reason(why)?;
    let write = verb.claim(item_id, version).await?;
    let (txn, cx) = (&write.txn, &write.cx);
    let returned = assignment::Entity::find_by_id(assignment_id)
        .filter(assignment::Column::ItemId.eq(item_id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("交办记录 {assignment_id} 不存在")))?;
    if returned.status != AssignmentStatus::ReturnRequested {
        return Err(AppError::InvalidTransition(
            "该单位没有待处理的退回申请".into(),
        ));
    }
    let mut active: assignment::ActiveModel = returned.clone().into();
    let reassigned = match reassign_to {
        Some(unit_id) => {
            let target = find_unit(txn, unit_id).await?;
            let already = assignment::Entity::find()
                .filter(assignment::Column::ItemId.eq(item_id))
                .filter(assignment::Column::UnitId.eq(unit_id))
                .one(txn)
                .await?;
            match already {
                Some(a) if a.status == AssignmentStatus::Withdrawn => {
                    return Err(AppError::BadUserInput(format!(
                        "{}已退回过该事项并被改派，不能再改派给该单位",
                        target.name
                    )));
                }
                Some(_) => {
                    return Err(AppError::BadUserInput(format!(
                        "{}已承办该事项，请改派给其他单位",
                        target.name
                    )));
                }
                None => {}
            }
            active.status = Set(AssignmentStatus::Withdrawn);
            active.update(txn).await?;
            // A new co-unit is due no later than the lead is now.
            let lead_due = if returned.lead {
                None
            } else {
                assignment::Entity::find()
                    .filter(assignment::Column::ItemId.eq(item_id))
                    .filter(assignment::Column::Lead.eq(true))
                    .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
                    .one(txn)
                    .await?
                    .map(|lead| lead.due_at)
            };
            let deps = cx.deps();
            Some(
                insert_assignment(
                    txn,
                    deps,
                    cx.actor,
                    cx.now,
                    &write.item,
                    NewPart {
                        unit_id,
                        lead: returned.lead,
                        not_after: lead_due,
                    },
                )
                .await?,
            )
        }
        None => {
            active.status = Set(AssignmentStatus::Active);
            active.update(txn).await?;
            None
        }
    };
    let current = write.item.clone();
    let mut notices = vec![EventNotice {
        topic: Topic::ReturnResolved {
            reassigned: reassigned.is_some(),
        },
        // A unit may return an item again after the office insisted: one notice per answer,
        // told apart by its instant.
        level: format!(
            "{} {}",
            if reassigned.is_some() {
                "REASSIGNED"
            } else {
                "INSISTED"
            },
            cx.now.timestamp()
        ),
        item: &current,
        assignment: &returned,
        about_unit: None,
        situation: format!("督查室意见：{}", why.as_str()),
    }];
    // The units that stay on the item hear who now holds the part beside theirs.
    let mut staying = Vec::new();
    if let Some(new) = &reassigned {
        notices.push(assignment_notice(&current, new));
        staying = live_parts(txn, item_id).await?;
        staying.retain(|part| part.id != new.id);
    }
    let (from_unit, to_unit) = match reassign_to {
        Some(unit_id) => (
            find_unit(txn, returned.unit_id).await?.name,
            find_unit(txn, unit_id).await?.name,
        ),
        None => (String::new(), String::new()),
    };
    let part = if returned.lead { "主办" } else { "协办" };
    notices.extend(staying.iter().map(|other| EventNotice {
        topic: Topic::Item(ItemNews::Reassigned),
        level: format!("REASSIGNED {}", cx.now.timestamp()),
        item: &current,
        assignment: other,
        about_unit: None,
        situation: format!("{from_unit}退回，{part}部分改由{to_unit}承办"),
    }));
    write
        .commit(
            Some(why.as_str()),
            json!({ "assignmentId": assignment_id, "fromUnitId": returned.unit_id, "toUnitId": reassign_to }),
            notices,
        )
        .await
}
