//! 催办 by hand (issue 34, item 3): the office writes one line, and every unit whose part of a
//! running item is still open hears it once. At most once a local day per part, unless the
//! office insists; audited with the line and the parts told (docs/rules.md §4).

use ducha_domain::Action;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::verb::{Committed, Cx};
use crate::service::notices::notify::{EventNotice, Topic};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::input::{REASON_MAX, Text};
use entity::AssignmentStatus;
use entity::{assignment, notice};

/// 催办: the item as it is, and how many units were told.
#[tracing::instrument(skip_all, fields(item_id, insist, actor = cx.actor.person_id))]
pub async fn urge(
    cx: Cx<'_>,
    item_id: i64,
    message: &str,
    insist: bool,
) -> AppResult<(Committed, usize)> {
    let verb = cx.verb(Action::Urge)?;
    let message = Text::parse("催办内容", message, REASON_MAX)?;
    // Nothing of the item changes: no version is claimed.
    let mut write = verb.open(item_id).await?;
    let item = write.item.clone();
    let parts = open_parts(&write.txn, &item).await?;
    let today = format!(
        "URGE {}",
        write
            .cx
            .now
            .with_timezone(&write.cx.policy.time_zone)
            .format("%Y-%m-%d")
    );
    let urged_today = urged(&write.txn, &parts, &today).await?;
    let told: Vec<&assignment::Model> = parts
        .iter()
        .filter(|part| insist || !urged_today.contains(&part.id))
        .collect();
    if told.is_empty() {
        return Err(AppError::Conflict(if parts.is_empty() {
            format!("事项{}没有仍在办理的承办单位，无需催办", item.serial)
        } else {
            format!(
                "事项{}今日已催办过；如确需再次催办，请勾选“今日已催办仍发送”",
                item.serial
            )
        }));
    }
    // The day's level keeps a second 催办 of the day out. One insisted on takes it where it is
    // free (it is the day's 催办 for those parts), and a level of its own where it is not.
    // Milliseconds: two insisted on in one second (two people, two instances) both go.
    let again = format!("URGE {}", write.cx.now.timestamp_millis());
    let situation = format!("督查室催办：{}", message.as_str());
    let notices = told
        .iter()
        .map(|part| EventNotice {
            topic: Topic::Urge,
            level: if urged_today.contains(&part.id) {
                again.clone()
            } else {
                today.clone()
            },
            item: &item,
            assignment: part,
            about_unit: None,
            situation: situation.clone(),
        })
        .collect();
    // Written before the commit, to know they were: a 催办 of the same day written meanwhile
    // (another office person, another instance) holds the day's key, and this one then says
    // so instead of recording a 催办 nobody received.
    if write.cx.notices.is_some() && write.notify(notices).await?.notices == 0 {
        return Err(AppError::Conflict(if insist {
            format!(
                "事项{}此刻已有另一条催办发出，本条未发送；请稍后再试",
                item.serial
            )
        } else {
            format!(
                "事项{}刚刚已由他人催办；如确需再次催办，请勾选“今日已催办仍发送”",
                item.serial
            )
        }));
    }
    audit(
        &write.txn,
        Audit {
            item_id: Some(item.id),
            assignment_id: None,
            actor: Some(write.cx.actor),
            at: write.cx.now,
            action: Action::Urge.name(),
            from: None,
            to: None,
            reason: Some(message.as_str()),
            details: json!({
                "assignmentIds": told.iter().map(|part| part.id).collect::<Vec<_>>(),
                "insist": insist,
            }),
        },
    )
    .await?;
    let count = told.len();
    let updated = write
        .finish(Vec::new(), true)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the item read back is missing")))?;
    Ok((updated, count))
}

/// The parts still to be done: every part in force (not withdrawn, and not waiting for the
/// office's answer to its 退回), but once the lead has reported the whole, only the lead's
/// (the co-units' parts ended with it, docs/rules.md §3).
async fn open_parts(
    db: &impl ConnectionTrait,
    item: &entity::item::Model,
) -> AppResult<Vec<assignment::Model>> {
    let mut query = assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item.id))
        .filter(assignment::Column::Status.eq(AssignmentStatus::Active));
    if item.first_feedback_at.is_some() {
        query = query.filter(assignment::Column::Lead.eq(true));
    }
    Ok(query.order_by_asc(assignment::Column::Id).all(db).await?)
}

/// The parts already urged at `level` (today's).
async fn urged(
    db: &impl ConnectionTrait,
    parts: &[assignment::Model],
    level: &str,
) -> AppResult<Vec<i64>> {
    Ok(notice::Entity::find()
        .filter(notice::Column::AssignmentId.is_in(parts.iter().map(|p| p.id)))
        .filter(notice::Column::Kind.eq(Topic::Urge.kind()))
        .filter(notice::Column::Level.eq(level))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.assignment_id)
        .collect())
}
