//! 会议议定事项 (docs/rules.md §9): a meeting is recorded with its kind, date, chair, topic
//! and 纪要 number, and its decisions pasted as a table; the decisions are kept as an upload
//! (`import`) whose preview and commit make each an item — source 会议决定事项, the 纪要 number
//! its 来源文号, its own lead, co-units and rule. The 纪要 is the office's own work, due 2
//! working days after the meeting [003 Art.47].

use chrono::{DateTime, NaiveDate, Utc};
use ducha_domain::{Action, MeetingKind, SourceKind};
use ducha_report::import::Field;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::import::keep;
use crate::service::items::verb::{Cx, require};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::input::{TITLE_MAX, Text};
use crate::service::store::write::begin_write;
use entity::meeting;

pub struct MeetingInput {
    pub kind: MeetingKind,
    pub title: String,
    pub held_on: NaiveDate,
    pub chair: String,
    pub minutes_number: String,
    /// The decisions, pasted from a spreadsheet or typed one per line.
    pub decisions: String,
}

/// Records the meeting and keeps its decisions for their preview; nothing is registered yet.
pub async fn record(cx: Cx<'_>, input: MeetingInput) -> AppResult<meeting::Model> {
    require(cx.actor, Action::Register)?;
    let title = Text::parse("会议议题", &input.title, TITLE_MAX)?;
    let chair = Text::parse("主持人", &input.chair, 50)?;
    let minutes_number = Text::parse("纪要文号", &input.minutes_number, TITLE_MAX)?;
    let today = cx.now.with_timezone(&cx.policy.time_zone).date_naive();
    if input.held_on > today {
        return Err(AppError::BadUserInput(format!(
            "会议日期{}晚于今天，请在会后登记议定事项",
            input.held_on
        )));
    }
    if input.held_on < today - chrono::Months::new(12) {
        return Err(AppError::BadUserInput(format!(
            "会议日期{}早于一年前，请核对",
            input.held_on
        )));
    }
    let minutes_due = ducha_domain::meeting::minutes_due(&cx.calendar, cx.policy, input.held_on)?;
    if input.decisions.trim().is_empty() {
        return Err(AppError::BadUserInput(
            "议定事项不能为空：请从纪要表格中复制粘贴，每行一项".into(),
        ));
    }
    let mut ledger = ducha_report::import::read_pasted(&input.decisions)
        .map_err(|refusal| AppError::BadUserInput(format!("议定事项：{}", refusal.0)))?;
    for line in &mut ledger.lines {
        line.fill_blank(Field::SourceReference, minutes_number.as_str());
    }
    ledger.read_as = "粘贴的会议议定事项".into();
    let txn = begin_write(cx.db).await?;
    // One 纪要, one record: its number names it.
    if let Some(earlier) = meeting::Entity::find()
        .filter(meeting::Column::MinutesNumber.eq(minutes_number.as_str()))
        .one(&*txn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "{}已于{}登记（{}会议），不能重复登记",
            earlier.minutes_number,
            earlier
                .created_at
                .with_timezone(&cx.policy.time_zone)
                .format("%Y-%m-%d %H:%M"),
            earlier.held_on
        )));
    }
    let kept = keep(
        &*txn,
        cx.actor,
        cx.now,
        format!("{}　{}", input.kind.label(), minutes_number.as_str()),
        &ledger,
        SourceKind::MeetingDecision,
    )
    .await?;
    let created = meeting::ActiveModel {
        kind: Set(input.kind.as_str().to_string()),
        title: Set(title.into_inner()),
        held_on: Set(input.held_on),
        chair: Set(chair.into_inner()),
        minutes_number: Set(minutes_number.into_inner()),
        minutes_due_at: Set(minutes_due),
        minutes_issued_at: Set(None),
        ledger_import_id: Set(Some(kept.id)),
        created_by: Set(cx.actor.person_id),
        created_at: Set(cx.now),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    audit(
        &*txn,
        Audit::admin(
            Some(cx.actor),
            cx.now,
            "RECORD_MEETING",
            json!({
                "meetingId": created.id, "kind": created.kind, "heldOn": created.held_on,
                "minutesNumber": created.minutes_number, "minutesDueAt": created.minutes_due_at,
                "ledgerImport": kept.id, "decisions": ledger.lines.len(),
            }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// 纪要已印发: recorded once, with whether it was within its due.
pub async fn issue_minutes(cx: Cx<'_>, meeting_id: i64) -> AppResult<meeting::Model> {
    require(cx.actor, Action::Register)?;
    let txn = begin_write(cx.db).await?;
    let found = meeting::Entity::find_by_id(meeting_id)
        .one(&*txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("会议{meeting_id}不存在")))?;
    let marked = meeting::Entity::update_many()
        .col_expr(meeting::Column::MinutesIssuedAt, Expr::value(cx.now))
        .filter(meeting::Column::Id.eq(meeting_id))
        .filter(meeting::Column::MinutesIssuedAt.is_null())
        .exec(&*txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "{}已登记为印发，不能重复登记",
            found.minutes_number
        )));
    }
    audit(
        &*txn,
        Audit::admin(
            Some(cx.actor),
            cx.now,
            "ISSUE_MINUTES",
            json!({
                "meetingId": meeting_id, "minutesNumber": found.minutes_number,
                "minutesDueAt": found.minutes_due_at, "onTime": cx.now <= found.minutes_due_at,
            }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(meeting::Model {
        minutes_issued_at: Some(cx.now),
        ..found
    })
}

/// The meetings recorded, the latest first.
pub async fn list(cx: Cx<'_>, first: u64) -> AppResult<Vec<meeting::Model>> {
    require(cx.actor, Action::Register)?;
    Ok(meeting::Entity::find()
        .order_by_desc(meeting::Column::HeldOn)
        .order_by_desc(meeting::Column::Id)
        .limit(first.min(500))
        .all(cx.db)
        .await?)
}

/// Whether a 纪要 not issued is past its due at `now`.
pub fn minutes_overdue(m: &meeting::Model, now: DateTime<Utc>) -> bool {
    m.minutes_issued_at.is_none() && now > m.minutes_due_at
}
