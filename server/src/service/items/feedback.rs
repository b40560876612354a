//! 进展反馈, 办结反馈, 核查 (verified or sent back for rework) and 销号.

use ducha_domain::Action;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::items::attachments::{MAX_FILES_PER_REPORT, StoredFile, record};
use crate::service::items::progress;
use crate::service::items::shared::{frozen_deadline, live_lead, live_parts};
use crate::service::items::tasks;
use crate::service::items::verb::{Committed, Cx, own_assignment};
use crate::service::notices::notify::{EventNotice, ItemNews, OfficeNews, Topic};
use crate::service::store::input::{BODY_MAX, REASON_MAX, Text, reason};
use entity::ReportVerdict;
use entity::{assignment, item, report};

/// 进展反馈: any time, from any person of an assigned unit.
#[tracing::instrument(skip_all, fields(item_id, actor = cx.actor.person_id))]
pub async fn report_progress(
    cx: Cx<'_>,
    item_id: i64,
    body: &str,
    files: Vec<StoredFile>,
) -> AppResult<report::Model> {
    let verb = cx.verb(Action::ReportProgress)?;
    let body = Text::parse("进展情况", body, BODY_MAX)?;
    too_many(&files)?;
    if files.is_empty()
        && let Some(created) = progress::file_at_once(&verb, item_id, body.as_str()).await?
    {
        return Ok(created);
    }
    let (write, mine) = verb.open_own(item_id).await?;
    let created = progress::file_in(&write, &mine, body.as_str()).await?;
    for file in files {
        record(&write.txn, write.cx.actor, write.cx.now, &created, file).await?;
    }
    write.finish(Vec::new(), false).await?;
    Ok(created)
}

/// The first words of a report, for a notice's one line.
fn excerpt(body: &str) -> String {
    const SHOWN: usize = 60;
    let mut shown: String = body.chars().take(SHOWN).collect();
    if body.chars().nth(SHOWN).is_some() {
        shown.push('…');
    }
    shown
}

fn too_many(files: &[StoredFile]) -> AppResult<()> {
    if files.len() > MAX_FILES_PER_REPORT {
        return Err(AppError::BadUserInput(format!(
            "一次报送最多附{MAX_FILES_PER_REPORT}个文件"
        )));
    }
    Ok(())
}

async fn insert_report(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    assignment: &assignment::Model,
    kind: &str,
    body: &str,
) -> AppResult<report::Model> {
    let created = report::ActiveModel {
        item_id: Set(assignment.item_id),
        assignment_id: Set(assignment.id),
        kind: Set(kind.to_string()),
        body: Set(body.to_string()),
        author_id: Set(actor.person_id),
        verdict: Set(None),
        verdict_reason: Set(None),
        verdict_by: Set(None),
        verdict_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    // The colour facts a report makes true, in its own transaction: the assignment's report
    // cycle restarts, and the lead's feedback stops its own clock (and ends the co-units'
    // parts the first time, docs/rules.md §3). Only ever later: a
    // report filed with an earlier instant (seeded history) does not move them back.
    assignment::Entity::update_many()
        .col_expr(assignment::Column::LastReportAt, Expr::value(now))
        .filter(assignment::Column::Id.eq(assignment.id))
        .filter(earlier_than(assignment::Column::LastReportAt, now))
        .exec(txn)
        .await?;
    if kind == "FEEDBACK" {
        item::Entity::update_many()
            .col_expr(item::Column::FeedbackAt, Expr::value(now))
            .filter(item::Column::Id.eq(assignment.item_id))
            .filter(earlier_than(item::Column::FeedbackAt, now))
            .exec(txn)
            .await?;
        // The first report ends the co-units' parts for good; a seeded report filed with an
        // earlier instant is the first one.
        item::Entity::update_many()
            .col_expr(item::Column::FirstFeedbackAt, Expr::value(now))
            .filter(item::Column::Id.eq(assignment.item_id))
            .filter(
                Condition::any()
                    .add(item::Column::FirstFeedbackAt.is_null())
                    .add(item::Column::FirstFeedbackAt.gt(now)),
            )
            .exec(txn)
            .await?;
    }
    Ok(created)
}

/// A kept instant that `at` may replace: none yet, or an earlier one.
fn earlier_than(column: impl ColumnTrait, at: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::any().add(column.is_null()).add(column.lt(at))
}

async fn latest_feedback(db: &impl ConnectionTrait, item_id: i64) -> AppResult<report::Model> {
    report::Entity::find()
        .filter(report::Column::ItemId.eq(item_id))
        .filter(report::Column::Kind.eq("FEEDBACK"))
        .order_by_desc(report::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item {item_id} has no feedback")))
}

/// 办结反馈: the lead unit reports the item done; co-units report progress instead.
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn submit_feedback(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    body: &str,
    files: Vec<StoredFile>,
) -> AppResult<(Committed, report::Model)> {
    let verb = cx.verb(Action::SubmitFeedback)?;
    let body = Text::parse("办结情况", body, BODY_MAX)?;
    too_many(&files)?;
    let write = verb.claim(item_id, version).await?;
    let mine = own_assignment(&write.txn, write.cx.actor, item_id).await?;
    if !mine.lead {
        return Err(AppError::Forbidden(
            "办结反馈由主办单位报送，协办单位请报送进展".into(),
        ));
    }
    // The part's tasks first: closed or waived, every one (docs/rules.md §8).
    let tasks = tasks::tally_under(&write.txn, &tasks::Holder::Part(mine.clone())).await?;
    ducha_domain::tasks::feedback_gate(tasks)
        .map_err(|r| AppError::InvalidTransition(r.to_string()))?;
    let feedback = insert_report(
        &write.txn,
        write.cx.actor,
        write.cx.now,
        &mine,
        "FEEDBACK",
        body.as_str(),
    )
    .await?;
    write
        .change(None, json!({ "reportId": feedback.id }))
        .await?;
    for file in files {
        record(&write.txn, write.cx.actor, write.cx.now, &feedback, file).await?;
    }
    // The office verifies; the first report ends the co-units' parts, and they hear so.
    let item = write.item.clone();
    let co_units: Vec<assignment::Model> = if item.first_feedback_at.is_none() {
        live_parts(&write.txn, item_id)
            .await?
            .into_iter()
            .filter(|part| !part.lead)
            .collect()
    } else {
        Vec::new()
    };
    let notice = |topic, assignment, situation| EventNotice {
        topic,
        level: format!("FB {}", feedback.id),
        item: &item,
        assignment,
        about_unit: None,
        situation,
    };
    let summary = excerpt(body.as_str());
    let notices = std::iter::once(notice(
        Topic::Office(OfficeNews::FeedbackIn),
        &mine,
        format!("办结反馈：{summary}"),
    ))
    .chain(co_units.iter().map(|part| {
        notice(
            Topic::Item(ItemNews::LeadFedBack),
            part,
            format!("主办单位办结反馈：{summary}"),
        )
    }))
    .collect();
    let updated = write
        .finish(notices, true)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the item read back is missing")))?;
    Ok((updated, feedback))
}

/// 核查: the office accepts the lead unit's feedback, or sends it back for rework (退回重办,
/// which reaches the lead unit at once).
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn verify(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    (accept, why): (bool, Option<&str>),
) -> AppResult<Committed> {
    let verb = cx.verb(if accept {
        Action::Verify
    } else {
        Action::Reject
    })?;
    let why = if accept {
        Text::optional("理由", why, REASON_MAX)?
    } else {
        Some(reason(why.unwrap_or_default())?)
    };
    let write = verb.claim(item_id, version).await?;
    let (txn, cx) = (&write.txn, &write.cx);
    let feedback = latest_feedback(txn, item_id).await?;
    let mut verdict: report::ActiveModel = feedback.clone().into();
    verdict.verdict = Set(Some(if accept {
        ReportVerdict::Accepted
    } else {
        ReportVerdict::Rejected
    }));
    verdict.verdict_reason = Set(why.as_ref().map(|w| w.as_str().to_string()));
    verdict.verdict_by = Set(Some(cx.actor.person_id));
    verdict.verdict_at = Set(Some(cx.now));
    verdict.update(txn).await?;
    let lead = if accept {
        None
    } else {
        live_lead(txn, item_id).await?
    };
    let current = write.item.clone();
    let notices = lead
        .iter()
        .map(|lead| EventNotice {
            topic: Topic::Rework,
            level: format!("REJECT {}", feedback.id),
            item: &current,
            assignment: lead,
            about_unit: None,
            situation: format!(
                "办结反馈经核查未通过，退回重办：{}",
                why.as_ref().map(Text::as_str).unwrap_or_default()
            ),
        })
        .collect();
    write
        .commit(
            why.as_ref().map(Text::as_str),
            json!({ "reportId": feedback.id }),
            notices,
        )
        .await
}

/// 销号: on time or late is decided by when the accepted report came in, against the
/// original due instant and against the extended one; both are kept.
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn close(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    why: Option<&str>,
) -> AppResult<Committed> {
    let verb = cx.verb(Action::Close)?;
    let why = Text::optional("理由", why, REASON_MAX)?;
    let write = verb.claim(item_id, version).await?;
    let (txn, cx, current) = (&write.txn, &write.cx, &write.item);
    let feedback = latest_feedback(txn, item_id).await?;
    let lead = live_lead(txn, item_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item {item_id} has no lead unit")))?;
    let on_time_original = feedback.created_at <= lead.due_at;
    let on_time_extended = feedback.created_at <= lead.extended_due_at.unwrap_or(lead.due_at);
    let mut active: item::ActiveModel = current.clone().into();
    active.closed_at = Set(Some(cx.now));
    active.closed_on_time_original = Set(Some(on_time_original));
    active.closed_on_time_extended = Set(Some(on_time_extended));
    active.update(txn).await?;
    let details = json!({
        "feedbackAt": feedback.created_at,
        "dueAt": lead.due_at,
        "extendedDueAt": lead.extended_due_at,
        "onTimeOriginal": on_time_original,
        "onTimeExtended": on_time_extended,
        // The lead's facts: co-units see that the item closed, not the lead's dates.
        "assignmentId": lead.id,
        "deadline": frozen_deadline(cx.deps(), current, &lead)?,
    });
    write
        .commit(why.as_ref().map(Text::as_str), details, Vec::new())
        .await
}
