//! The one path every verb takes, in order: require the permission ([`Cx::verb`]), begin and
//! claim the item at its version, and ask the domain where its stage goes
//! ([`Verb::claim`]), change what the verb changes, then change the stage with its audit
//! row, write the verb's notices and commit ([`Write::commit`]). A verb is the middle part
//! only; nothing is written unless the whole path succeeds.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ducha_calendar::{Calendar, DeadlinePolicy};
use ducha_domain::{Action, Stage, StageChange, stage_from_history};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder,
};
use serde_json::Value;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::notices::notify::{EventNotice, NoticeContext, Written, write_event_notices};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::rows::ItemRows;
use crate::service::store::scope;
use crate::service::store::write::{WriteTxn, begin_write};
use entity::{AssignmentStatus, ItemStage};
use entity::{assignment, audit_event, item};

/// What deadlines are computed with: one calendar for the whole verb, and the office's
/// deadline policy.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub calendar: &'a Calendar,
    pub policy: &'a DeadlinePolicy,
}

/// Everything a verb runs with: where, on which calendar, for whom, when, and where its
/// notices go (`None` only for seeded history, such as the demo's, which was never mailed).
#[derive(Clone)]
pub struct Cx<'a> {
    pub db: &'a DatabaseConnection,
    pub calendar: Arc<Calendar>,
    pub policy: &'a DeadlinePolicy,
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub notices: Option<&'a NoticeContext>,
    /// Where the instance's kept copies hear of changes: a verb publishes its item once
    /// committed, so that whoever wrote it reads it back as written.
    pub changes: &'a crate::changes::ChangeFeed,
}

impl<'a> Cx<'a> {
    pub fn deps(&self) -> Deps<'_> {
        Deps {
            calendar: &self.calendar,
            policy: self.policy,
        }
    }

    /// Step one: whether the actor's role may do `action` at all (the domain's table).
    pub fn verb(self, action: Action) -> AppResult<Verb<'a>> {
        require(self.actor, action)?;
        Ok(Verb { cx: self, action })
    }
}

/// A verb the actor may do, not begun yet: its input is checked between this and the claim.
pub struct Verb<'a> {
    pub cx: Cx<'a>,
    pub action: Action,
}

impl<'a> Verb<'a> {
    /// Begins the write, claims the item at `version` (a stale version is a CONFLICT) and
    /// asks the domain where its stage goes.
    pub async fn claim(mut self, item_id: i64, version: i32) -> AppResult<Write<'a>> {
        let txn = begin_write(self.cx.db).await?;
        self.settle_calendar(&txn).await?;
        let item = claim_item(&txn, self.cx.actor, item_id, version, self.cx.now).await?;
        self.checked(txn, item).await
    }

    /// Counts on the calendar in force, waiting for a change in flight
    /// (`calendar_state`): before the item is claimed, so that a change and a verb always
    /// take the two in the same order.
    async fn settle_calendar(&mut self, txn: &DatabaseTransaction) -> AppResult<()> {
        if let Some(fresh) =
            crate::service::store::calendar_state::calendar_for_verb(txn, &self.cx.calendar).await?
        {
            self.cx.calendar = Arc::new(fresh);
        }
        Ok(())
    }

    /// Begins the write and reads the item without claiming a version: for what adds to an
    /// item without changing it or its dues (a 批示; a progress report, [`Verb::open_own`]).
    /// No due is written, so the calendar in force is not waited for (`settle_calendar`).
    pub async fn open(self, item_id: i64) -> AppResult<Write<'a>> {
        let txn = begin_write(self.cx.db).await?;
        let item = scope::visible_item(&txn, self.cx.actor, item_id).await?;
        self.checked(txn, item).await
    }

    /// [`Verb::open`] for what a unit adds to its own live part of the item (a progress
    /// report): the item with the part, in one statement. When the unit holds no live part,
    /// the item is read as `open` reads it, so that the answer is the same NOT_FOUND or
    /// FORBIDDEN as [`own_assignment`]'s.
    pub async fn open_own(self, item_id: i64) -> AppResult<(Write<'a>, assignment::Model)> {
        let txn = begin_write(self.cx.db).await?;
        let unit_id = self.cx.actor.own_unit();
        let found = match unit_id {
            Some(unit_id) => {
                crate::service::store::rows::item_with_unit_part(&txn, item_id, unit_id).await?
            }
            None => None,
        };
        match found {
            Some((item, mine)) => Ok((self.checked(txn, item).await?, mine)),
            None => {
                let item = scope::visible_item(&txn, self.cx.actor, item_id).await?;
                let write = self.checked(txn, item).await?;
                let mine = own_assignment(&write.txn, write.cx.actor, item_id).await?;
                Ok((write, mine))
            }
        }
    }

    async fn checked(self, txn: WriteTxn, item: item::Model) -> AppResult<Write<'a>> {
        let from = stage_of(&item);
        // 恢复 returns to where the item was when it was suspended: read from its history.
        let resume_to = if self.action == Action::Resume {
            stage_from_history(&stage_history(&txn, item.id).await?).and_then(|(_, to)| to)
        } else {
            None
        };
        let to = self.action.next_stage(from, resume_to)?;
        Ok(Write {
            cx: self.cx,
            action: self.action,
            txn,
            item,
            from,
            to,
            mailed: false,
        })
    }
}

/// A verb's write on one item, begun and claimed: the item as claimed, the stage it was in
/// and the stage the domain sends it to (a verb may keep it where it is, as a co-unit's
/// signature does).
pub struct Write<'a> {
    pub cx: Cx<'a>,
    pub action: Action,
    pub txn: WriteTxn,
    pub item: item::Model,
    pub from: Stage,
    pub to: Stage,
    /// Whether notices were written before the commit ([`Write::notify`]): the sender is
    /// woken once it is done.
    mailed: bool,
}

impl Write<'_> {
    /// Changes the stage with its audit row, writes the verb's notices in the same
    /// transaction, commits, and wakes the sender; the item as it now is.
    pub async fn commit(
        self,
        reason: Option<&str>,
        details: Value,
        notices: Vec<EventNotice<'_>>,
    ) -> AppResult<Committed> {
        self.change(reason, details).await?;
        self.finish(notices, true)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the item read back is missing")))
    }

    /// The stage change's audit row, in the write: what the verb adds after it (a report's
    /// files) comes after it in the trail. End with [`Write::finish`].
    pub async fn change(&self, reason: Option<&str>, details: Value) -> AppResult<()> {
        change_stage(
            &self.txn,
            &self.item,
            self.cx.actor,
            self.cx.now,
            self.action,
            self.to,
            reason,
            details,
        )
        .await
    }

    /// The audit row of a verb that adds to the item without moving it (a 批示; a progress
    /// report writes the same kind of row with its report, `items::progress`): no stages, so
    /// the item's stage history is not touched. End with [`Write::finish`].
    pub async fn note(&self, assignment_id: Option<i64>, details: Value) -> AppResult<()> {
        audit(
            &self.txn,
            Audit {
                item_id: Some(self.item.id),
                assignment_id,
                actor: Some(self.cx.actor),
                at: self.cx.now,
                action: self.action.name(),
                from: None,
                to: None,
                reason: None,
                details,
            },
        )
        .await
    }

    /// Writes notices now rather than at the commit, for a verb that must know what was
    /// written: a notice already on record (the same assignment, kind and level) is not
    /// written again, and the count says so. The sender is woken after the commit.
    pub async fn notify(&mut self, notices: Vec<EventNotice<'_>>) -> AppResult<Written> {
        let Some(context) = self.cx.notices else {
            return Ok(Written::default());
        };
        let written = write_event_notices(&self.txn, context, self.cx.now, notices).await?;
        self.mailed |= written.mails > 0;
        Ok(written)
    }

    /// Writes the verb's notices in the same transaction, commits, and wakes the sender;
    /// with `read_back`, the item as committed, with its assignments (read in the
    /// transaction, so the answer is exactly what was committed, and the resolver shows it
    /// without reading it again).
    pub async fn finish(
        self,
        notices: Vec<EventNotice<'_>>,
        read_back: bool,
    ) -> AppResult<Option<Committed>> {
        let Write {
            cx,
            txn,
            item,
            mailed,
            ..
        } = self;
        let wake = match (cx.notices, notices.is_empty()) {
            (Some(context), false) => {
                write_event_notices(&txn, context, cx.now, notices).await?;
                Some(&context.wake)
            }
            (Some(context), true) if mailed => Some(&context.wake),
            _ => None,
        };
        let updated = if read_back {
            let mut rows = crate::service::store::rows::items_with_assignments(
                &txn,
                item::Entity::find_by_id(item.id),
            )
            .await?;
            let (item, assignments) = rows.pop().ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("the item read back is missing"))
            })?;
            let mut read = [ItemRows::new(item, assignments)];
            crate::service::store::read::attach_tasks(&txn, &mut read).await?;
            let [rows] = read;
            Some(Committed(Arc::new(rows)))
        } else {
            None
        };
        cx.changes
            .commit(txn.commit(), crate::changes::Change::Items(vec![item.id]))
            .await?;
        if let Some(wake) = wake {
            wake.notify_one();
        }
        Ok(updated)
    }
}

/// A verb's item as it committed it, with all its assignments: what its resolver answers
/// from. Reads as the item's row.
#[derive(Debug, Clone)]
pub struct Committed(pub Arc<ItemRows>);

impl Committed {
    pub fn rows(&self) -> &Arc<ItemRows> {
        &self.0
    }
}

impl std::ops::Deref for Committed {
    type Target = item::Model;

    fn deref(&self) -> &item::Model {
        &self.0.item
    }
}

/// The item's stage changes in order, as the lifecycle reads them.
pub async fn stage_history(db: &impl ConnectionTrait, item_id: i64) -> AppResult<Vec<StageChange>> {
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ItemId.eq(item_id))
        .filter(audit_event::Column::ToStage.is_not_null())
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?;
    Ok(events
        .iter()
        .filter_map(|e| {
            Some(StageChange {
                from: e.from_stage.as_deref().and_then(Stage::parse),
                to: Stage::parse(e.to_stage.as_deref()?)?,
            })
        })
        .collect())
}

/// Whether the actor's role may take `action` on an item (the domain's action table).
pub fn require(actor: &Actor, action: Action) -> AppResult<()> {
    if action.allowed_for(actor.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "当前角色不能{}",
            action.label()
        )))
    }
}

/// Duties are checked where rows are scoped (`store::scope`), below every room that checks one.
pub use crate::service::store::scope::require_duty;

pub fn stage_of(item: &item::Model) -> Stage {
    item.stage.into()
}

/// Claims the item for this write: bumps its version if it is still `version`. Inside a
/// transaction this also holds the row until commit (PostgreSQL row lock, SQLite's single
/// writer), so two writers can never both act on the same version.
pub async fn claim_item(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: i64,
    version: i32,
    now: DateTime<Utc>,
) -> AppResult<item::Model> {
    let existing = scope::visible_item(db, actor, item_id).await?;
    let updated = item::Entity::update_many()
        .col_expr(
            item::Column::Version,
            Expr::col(item::Column::Version).add(1),
        )
        .col_expr(item::Column::UpdatedAt, Expr::value(now))
        .filter(item::Column::Id.eq(item_id))
        .filter(item::Column::Version.eq(version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        // Read again: the version seen before the update may be the one a concurrent writer
        // has just replaced, and the message must name the version that won.
        let current = item::Entity::find_by_id(item_id)
            .one(db)
            .await?
            .map_or(existing.version, |i| i.version);
        return Err(AppError::Conflict(if current == version {
            format!("事项{}正被他人修改，请刷新后重试", existing.serial)
        } else {
            format!(
                "事项{}已被他人修改（当前版本 {current}，提交的版本 {version}），请刷新后重试",
                existing.serial
            )
        }));
    }
    item::Entity::find_by_id(item_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("事项不存在".into()))
}

/// Moves the item to `to` (the projection of the audit trail) and appends the stage change.
// Each argument is a column of the audit row being written; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn change_stage(
    db: &impl ConnectionTrait,
    item: &item::Model,
    actor: &Actor,
    now: DateTime<Utc>,
    action: Action,
    to: Stage,
    reason: Option<&str>,
    details: Value,
) -> AppResult<()> {
    let from = stage_of(item);
    let mut update = item::Entity::update_many().filter(item::Column::Id.eq(item.id));
    let mut changes = false;
    if from != to {
        update = update.col_expr(item::Column::Stage, Expr::value(ItemStage::from(to)));
        changes = true;
    }
    // The colour facts this audit row makes true, beside it (see `item::Model`).
    match action {
        Action::Reject => {
            update = update.col_expr(
                item::Column::Rejections,
                Expr::col(item::Column::Rejections).add(1),
            );
            changes = true;
        }
        Action::Reopen => {
            update = update.col_expr(item::Column::Reopened, Expr::value(true));
            changes = true;
        }
        _ => {}
    }
    if changes {
        update.exec(db).await?;
    }
    audit(
        db,
        Audit {
            item_id: Some(item.id),
            assignment_id: None,
            actor: Some(actor),
            at: now,
            action: action.name(),
            from: Some(from),
            to: Some(to),
            reason,
            details,
        },
    )
    .await
}

/// The actor's own live assignment on the item, or FORBIDDEN.
pub async fn own_assignment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: i64,
) -> AppResult<assignment::Model> {
    let unit_id = actor
        .own_unit()
        .ok_or_else(|| AppError::Forbidden("只有承办单位人员可以办理此操作".into()))?;
    assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item_id))
        .filter(assignment::Column::UnitId.eq(unit_id))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Forbidden("本单位未承办该事项".into()))
}
