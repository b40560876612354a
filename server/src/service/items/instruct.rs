//! 领导批示: a leader writes an instruction on an item. It is kept with the item, audited, and
//! every unit holding a part of the item is told in the same transaction (docs/rules.md §7).

use ducha_domain::Action;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::shared::live_parts;
use crate::service::items::verb::Committed;
use crate::service::items::verb::Cx;
use crate::service::notices::notify::{EventNotice, Topic};
use crate::service::store::input::{BODY_MAX, Text};
use entity::instruction;

#[tracing::instrument(skip_all, fields(item_id, actor = cx.actor.person_id))]
pub async fn instruct(
    cx: Cx<'_>,
    item_id: i64,
    body: &str,
) -> AppResult<(Committed, instruction::Model)> {
    let verb = cx.verb(Action::Instruct)?;
    let body = Text::parse("批示内容", body, BODY_MAX)?;
    let write = verb.open(item_id).await?;
    let created = instruction::ActiveModel {
        item_id: Set(item_id),
        author_id: Set(write.cx.actor.person_id),
        body: Set(body.as_str().to_string()),
        created_at: Set(write.cx.now),
        ..Default::default()
    }
    .insert(&write.txn)
    .await?;
    let live = live_parts(&write.txn, item_id).await?;
    let current = write.item.clone();
    let situation = format!("{}批示：{}", write.cx.actor.name, body.as_str());
    let notices = live
        .iter()
        .map(|a| EventNotice {
            topic: Topic::Instruction,
            level: created.id.to_string(),
            item: &current,
            assignment: a,
            about_unit: None,
            situation: situation.clone(),
        })
        .collect();
    // No stages: a 批示 on a suspended item must not read as where it was suspended from.
    write
        .note(
            None,
            json!({ "instructionId": created.id, "body": created.body }),
        )
        .await?;
    let updated = write
        .finish(notices, true)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the item read back is missing")))?;
    Ok((updated, created))
}
