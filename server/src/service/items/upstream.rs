//! Items received from above (市、省交办, docs/rules.md §8): the district's due counted back
//! from the upstream due at 立项, and the office's report upward (上报落实情况) once the item
//! is verified or closed — the upstream due being the office's own until then.

use chrono::{DateTime, NaiveDate, Utc};
use ducha_calendar::{Calendar, DeadlinePolicy, DeadlineRule};
use ducha_domain::Action;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::verb::{Committed, Cx};
use crate::service::store::input::{REASON_MAX, TITLE_MAX, Text};
use entity::{item, report};

/// What the office typed about an item received from above.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The upstream document (上级来文, its title and 文号).
    pub document: String,
    /// The upstream due, as a date.
    pub due_date: NaiveDate,
    /// Working days the district keeps for itself; the policy's default if none.
    pub buffer_working_days: Option<i64>,
}

/// The checked facts stored on the item.
#[derive(Debug, Clone)]
pub struct FromAbove {
    pub document: String,
    pub due_at: DateTime<Utc>,
    pub buffer_working_days: i32,
    /// The district's own due date, counted back.
    pub internal_due: NaiveDate,
}

/// Checks an item from above and, when the office gave no deadline of its own, gives the
/// district's rule: the upstream due counted back by the buffer. A deadline of the office's
/// own may not fall after the upstream due.
pub async fn from_above(
    db: &impl ConnectionTrait,
    calendar: &Calendar,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
    upstream: &Upstream,
    rule: &mut (DeadlineRule, bool),
) -> AppResult<FromAbove> {
    let document = Text::parse("上级来文", &upstream.document, TITLE_MAX)?;
    let buffer = match upstream.buffer_working_days {
        Some(days) if !(0..=20).contains(&days) => {
            return Err(AppError::BadUserInput("预留的工作日应为0至20".into()));
        }
        Some(days) => days,
        None => {
            crate::service::watch::colours::current_policy(db)
                .await?
                .1
                .upstream_buffer_working_days
        }
    };
    let today = now.with_timezone(&policy.time_zone).date_naive();
    let internal =
        ducha_domain::upstream::internal_due_date(calendar, upstream.due_date, buffer, today)
            .map_err(AppError::BadUserInput)?;
    let (own, explicit) = rule;
    if *explicit {
        within_upstream(calendar, policy, now, *own, upstream.due_date)?;
    } else {
        *rule = (DeadlineRule::FixedDate(internal), true);
    }
    let due_at = upstream
        .due_date
        .and_time(policy.cutoff)
        .and_local_timezone(policy.time_zone)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| AppError::BadUserInput("上级期限在本地时区不存在".into()))?;
    Ok(FromAbove {
        document: document.into_inner(),
        due_at,
        buffer_working_days: i32::try_from(buffer).unwrap_or(0),
        internal_due: internal,
    })
}

/// A deadline of the office's own against the upstream due: a date may not fall after it, nor
/// may a counted rule's due if the item were assigned now (assigned later, it moves on; the
/// office sees that due before 交办).
pub fn within_upstream(
    calendar: &Calendar,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
    rule: DeadlineRule,
    upstream_due: NaiveDate,
) -> AppResult<()> {
    let due = calendar.deadline(policy, now, rule)?.due_date;
    if due > upstream_due {
        return Err(AppError::BadUserInput(match rule {
            DeadlineRule::FixedDate(date) => {
                format!("本区期限{date}晚于上级期限{upstream_due}，请核对")
            }
            other => format!(
                "按“{other}”，若现在交办本区期限为{due}，晚于上级期限{upstream_due}，请核对"
            ),
        }));
    }
    Ok(())
}

/// 上报落实情况: the office records that it sent the item's 落实情况 up, with an optional
/// note (how, to whom); once, after the item is verified or closed.
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn report_upward(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    note: Option<&str>,
) -> AppResult<Committed> {
    let verb = cx.verb(Action::ReportUpward)?;
    let note = Text::optional("上报说明", note, REASON_MAX)?;
    let write = verb.claim(item_id, version).await?;
    if write.item.upstream_document.is_none() {
        return Err(AppError::InvalidTransition(
            "该事项不是上级交办事项，无需上报".into(),
        ));
    }
    if let Some(at) = write.item.reported_upward_at {
        return Err(AppError::InvalidTransition(format!(
            "该事项已于{}上报",
            at.with_timezone(&write.cx.policy.time_zone)
                .format("%Y-%m-%d %H:%M")
        )));
    }
    let on_time = write
        .item
        .upstream_due_at
        .is_none_or(|due| write.cx.now <= due);
    let mut active: item::ActiveModel = write.item.clone().into();
    active.reported_upward_at = Set(Some(write.cx.now));
    active.update(&write.txn).await?;
    let details = json!({
        "upstreamDocument": write.item.upstream_document,
        "upstreamDueAt": write.item.upstream_due_at,
        "onTime": on_time,
    });
    write
        .commit(note.as_ref().map(Text::as_str), details, Vec::new())
        .await
}

/// The units' completion and progress reports an upward report is made of, oldest first
/// (the caller has checked the reader sees the item; the office and leaders read it).
pub async fn reports_for_upward(
    db: &impl ConnectionTrait,
    item_id: i64,
) -> AppResult<Vec<report::Model>> {
    use sea_orm::QueryOrder;
    Ok(report::Entity::find()
        .filter(report::Column::ItemId.eq(item_id))
        .order_by_asc(report::Column::Id)
        .all(db)
        .await?)
}

/// The 落实情况 report of an item received from above, as text to send on: the document,
/// the dues, and each unit's latest completion report (the lead's) or progress report (a
/// co-unit's), lead first. Whoever reads it sees every unit's: the office and leaders only.
pub async fn upward_text(
    db: &impl ConnectionTrait,
    time_zone: chrono_tz::Tz,
    item: &item::Model,
) -> AppResult<String> {
    use std::fmt::Write as _;
    let day = |at: DateTime<Utc>| {
        at.with_timezone(&time_zone)
            .format("%Y年%m月%d日")
            .to_string()
    };
    let assignments = entity::assignment::Entity::find()
        .filter(entity::assignment::Column::ItemId.eq(item.id))
        .filter(entity::assignment::Column::Status.ne(entity::AssignmentStatus::Withdrawn))
        .all(db)
        .await?;
    let units = entity::unit::Entity::find()
        .filter(entity::unit::Column::Id.is_in(assignments.iter().map(|a| a.unit_id)))
        .all(db)
        .await?;
    let reports = reports_for_upward(db, item.id).await?;
    let mut text = String::new();
    let document = item.upstream_document.as_deref().unwrap_or("上级交办事项");
    let _ = writeln!(text, "关于《{document}》落实情况的报告\n");
    let _ = writeln!(text, "事项：{}　{}", item.serial, item.title);
    let _ = writeln!(text, "办理要求：{}", item.requirements);
    if let Some(due) = item.upstream_due_at {
        let _ = writeln!(text, "上级要求期限：{}", day(due));
    }
    if let Some(closed) = item.closed_at {
        let _ = writeln!(text, "本区办结时间：{}", day(closed));
    }
    let _ = writeln!(text, "\n落实情况：");
    let mut parts = assignments.clone();
    parts.sort_by_key(|a| (!a.lead, a.id));
    for (n, part) in parts.iter().enumerate() {
        let name = units
            .iter()
            .find(|u| u.id == part.unit_id)
            .map_or("承办单位", |u| u.name.as_str());
        let role = if part.lead { "主办" } else { "协办" };
        let latest = reports
            .iter()
            .rev()
            .filter(|r| r.assignment_id == part.id)
            .find(|r| r.kind == "FEEDBACK")
            .or_else(|| reports.iter().rev().find(|r| r.assignment_id == part.id));
        match latest {
            Some(r) => {
                let _ = writeln!(
                    text,
                    "{}. {name}（{role}）：{}（{}报送）",
                    n + 1,
                    r.body,
                    day(r.created_at)
                );
            }
            None => {
                let _ = writeln!(text, "{}. {name}（{role}）：未报送", n + 1);
            }
        }
    }
    Ok(text)
}
