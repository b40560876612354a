//! 挂起, 恢复, 撤销 and 回头看 (reopen): the clock paused and resumed, the item ended or
//! brought back; and what an ended item says about its deadline.

use ducha_calendar::DeadlineRule;
use ducha_domain::{Action, Stage};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::shared::{frozen_deadline, live_lead, live_parts, recompute_due};
use crate::service::items::verb::{Committed, Cx, Deps};
use crate::service::notices::notify::{EventNotice, ItemNews, Topic};
use crate::service::store::dues::{DUES_KEY, DueChange, Dues, to_value as dues_value};
use crate::service::store::input::{REASON_MAX, Text, reason};
use entity::AssignmentStatus;
use entity::{assignment, audit_event, item};

/// 挂起, 撤销 and 回头看 need a reason; 恢复 moves every open due instant later by the working
/// days the item spent suspended.
#[tracing::instrument(skip_all, fields(action = ?action, item_id, version, actor = cx.actor.person_id))]
pub async fn suspend_resume_cancel_reopen(
    cx: Cx<'_>,
    action: Action,
    item_id: i64,
    version: i32,
    why: Option<&str>,
    rectification: Option<&str>,
) -> AppResult<Committed> {
    let verb = cx.verb(action)?;
    let why = match action {
        Action::Resume => Text::optional("理由", why, REASON_MAX)?,
        _ => Some(reason(why.unwrap_or_default())?),
    };
    // A 回头看 sets the new rectification due the item runs on (docs/rules.md §1).
    let rectification = match action {
        Action::Reopen => Some(rectification_rule(rectification)?),
        _ => None,
    };
    let write = verb.claim(item_id, version).await?;
    let (txn, cx, current) = (&write.txn, &write.cx, &write.item);
    let deps = cx.deps();
    let details = match action {
        Action::Resume => {
            let suspended_at = audit_event::Entity::find()
                .filter(audit_event::Column::ItemId.eq(item_id))
                .filter(audit_event::Column::ToStage.eq(Stage::Suspended.as_str()))
                .order_by_desc(audit_event::Column::Id)
                .one(txn)
                .await?
                .map(|e| e.at)
                .unwrap_or(cx.now);
            let tz = cx.policy.time_zone;
            let paused = cx
                .calendar
                .working_days_between(
                    suspended_at.with_timezone(&tz).date_naive(),
                    cx.now.with_timezone(&tz).date_naive(),
                )
                .value;
            let paused = i32::try_from(paused.max(0)).unwrap_or(i32::MAX);
            let (moved, dues) = shift_open_assignments(txn, deps, current, paused).await?;
            json!({ "suspendedAt": suspended_at, "pausedWorkingDays": paused, "moved": moved,
                    DUES_KEY: dues_value(&dues) })
        }
        Action::Reopen => {
            let (rule, text) = rectification.ok_or_else(|| {
                crate::error::AppError::BadUserInput("回头看须填写整改期限".into())
            })?;
            reopen_lead(txn, cx, current, rule, &text).await?
        }
        Action::Cancel => match live_lead(txn, item_id).await? {
            Some(lead) => json!({
                "deadline": frozen_deadline(deps, current, &lead)?,
                "assignmentId": lead.id,
            }),
            None => json!({}),
        },
        _ => json!({}),
    };
    // Who is told, read after the change: a resumption's notice states the moved due.
    let item = current.clone();
    let parts = told(txn, &item, action).await?;
    let news = match action {
        Action::Suspend => Some(ItemNews::Suspended),
        Action::Resume => Some(ItemNews::Resumed),
        Action::Cancel => Some(ItemNews::Cancelled),
        Action::Reopen => Some(ItemNews::Reopened),
        _ => None,
    };
    let situation = match (action, why.as_ref()) {
        (Action::Reopen, Some(why)) => format!("回头看：{}", why.as_str()),
        (Action::Resume, why) => format!(
            "恢复办理：挂起{}个工作日，期限相应顺延{}",
            details["pausedWorkingDays"].as_i64().unwrap_or(0),
            why.map(|why| format!("（{}）", why.as_str()))
                .unwrap_or_default()
        ),
        (_, Some(why)) => format!("{}：{}", action.label(), why.as_str()),
        (_, None) => action.label().to_string(),
    };
    let notices = news
        .map(|news| {
            parts
                .iter()
                .map(|part| EventNotice {
                    topic: Topic::Item(news),
                    level: format!("{} {}", action.name(), item.version),
                    item: &item,
                    assignment: part,
                    about_unit: None,
                    situation: situation.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    write
        .commit(why.as_ref().map(Text::as_str), details, notices)
        .await
}

/// The parts whose units hear of `action` (docs/rules.md §4): every part not withdrawn, but
/// for a 回头看 only the lead's, the one part it opens again.
async fn told(
    txn: &DatabaseTransaction,
    item: &item::Model,
    action: Action,
) -> AppResult<Vec<assignment::Model>> {
    if action == Action::Reopen {
        return Ok(live_lead(txn, item.id).await?.into_iter().collect());
    }
    live_parts(txn, item.id).await
}

/// The rectification due's rule, refused with a clear message when missing or unreadable.
fn rectification_rule(text: Option<&str>) -> AppResult<(DeadlineRule, String)> {
    let text = text.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(AppError::BadUserInput(
            "回头看须填写整改期限，如“10个工作日”或“2026-12-31”".into(),
        ));
    }
    let rule: DeadlineRule = text.parse().map_err(|_| {
        AppError::BadUserInput(format!(
            "整改期限“{text}”无法识别，请填写如“10个工作日”“15天”“2026-12-31”"
        ))
    })?;
    let rule = rule
        .check_bounds()
        .map_err(|e| AppError::BadUserInput(format!("整改期限不合理：{e}")))?;
    Ok((rule, rule.to_string()))
}

/// Reopens the lead's part on the rectification due counted from now: the item runs on it,
/// and later calendar changes recompute it from the same rule and instant
/// (`shared::recompute_due`). Co-units' parts ended at the lead's first report and stay so.
async fn reopen_lead(
    txn: &DatabaseTransaction,
    cx: &Cx<'_>,
    current: &item::Model,
    rule: DeadlineRule,
    text: &str,
) -> AppResult<serde_json::Value> {
    let deadline = cx.calendar.deadline(cx.policy, cx.now, rule)?;
    if deadline.due_at <= cx.now {
        return Err(AppError::BadUserInput(format!(
            "整改期限（{}）须晚于现在",
            deadline.due_date
        )));
    }
    let mut item: item::ActiveModel = current.clone().into();
    item.rectification_rule = Set(Some(text.to_string()));
    item.rectification_from = Set(Some(cx.now));
    item.update(txn).await?;
    let mut dues = Vec::new();
    if let Some(lead) = live_lead(txn, current.id).await? {
        dues.push(DueChange::of(
            &lead,
            Dues {
                due_at: deadline.due_at,
                extended_due_at: None,
            },
        ));
        let mut active: assignment::ActiveModel = lead.into();
        active.due_at = Set(deadline.due_at);
        active.extended_due_at = Set(None);
        active.paused_working_days = Set(0);
        active.calendar_version = Set(deadline.calendar_version.clone());
        active.provisional = Set(deadline.provisional);
        active.update(txn).await?;
    }
    Ok(json!({
        "reinspection": "FAILED",
        "rectificationRule": text,
        "rectificationDueAt": deadline.due_at,
        "explanation": deadline.explanation.summary,
        DUES_KEY: dues_value(&dues),
    }))
}

async fn shift_open_assignments(
    txn: &DatabaseTransaction,
    deps: Deps<'_>,
    current: &item::Model,
    paused: i32,
) -> AppResult<(Vec<serde_json::Value>, Vec<DueChange>)> {
    let (mut moved, mut dues) = (Vec::new(), Vec::new());
    if paused == 0 {
        return Ok((moved, dues));
    }
    let mut live = assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(current.id))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
        .all(txn)
        .await?;
    // The lead first: a co-unit given its part later is capped by the lead's new due.
    live.sort_by_key(|a| !a.lead);
    let mut lead_due: Option<(assignment::Model, chrono::DateTime<chrono::Utc>)> = None;
    for a in live {
        let total = a.paused_working_days + paused;
        let mut due = recompute_due(deps, current, &a, total)?;
        if a.lead {
            lead_due = Some((a.clone(), due.due_at));
        }
        crate::service::items::shared::cap_by_lead(
            &mut due,
            &a,
            lead_due.as_ref().map(|(l, at)| (l, *at)),
        );
        let extended = match a.extended_due_at {
            Some(at) => {
                let date = deps.calendar.add_working_days(
                    at.with_timezone(&deps.policy.time_zone).date_naive(),
                    paused,
                )?;
                Some(
                    deps.calendar
                        .deadline(deps.policy, at, DeadlineRule::FixedDate(date.value))?
                        .due_at,
                )
            }
            None => None,
        };
        moved.push(json!({ "assignmentId": a.id, "oldDueAt": a.due_at, "newDueAt": due.due_at, "newExtendedDueAt": extended }));
        dues.push(DueChange::of(
            &a,
            Dues {
                due_at: due.due_at,
                extended_due_at: extended,
            },
        ));
        let mut active: assignment::ActiveModel = a.into();
        active.paused_working_days = Set(total);
        active.due_at = Set(due.due_at);
        active.extended_due_at = Set(extended);
        active.calendar_version = Set(due.calendar_version);
        active.provisional = Set(due.provisional);
        active.update(txn).await?;
    }
    Ok((moved, dues))
}

/// A closed or cancelled item's deadline as it was frozen when it ended (kept in its CLOSE
/// or CANCEL audit row); for one that ended before deadlines were frozen, its lead's stored
/// due, as it stood when the item ended. `None` for items still open (their deadline is
/// live) and items cancelled before they were ever assigned.
pub fn frozen_explanation(
    stage: Stage,
    trail: &[audit_event::Model],
    lead: Option<&assignment::Model>,
    rule: DeadlineRule,
    time_zone: chrono_tz::Tz,
) -> Option<ducha_calendar::Deadline> {
    let ended = match stage {
        Stage::Closed => Action::Close.name(),
        Stage::Cancelled => Action::Cancel.name(),
        _ => return None,
    };
    let frozen = trail
        .iter()
        .rev()
        .find(|e| e.action == ended)
        .and_then(|e| serde_json::from_value(e.details["deadline"].clone()).ok());
    if frozen.is_some() {
        return frozen;
    }
    let lead = lead?;
    let due_date = lead.due_at.with_timezone(&time_zone).date_naive();
    let start_date = lead.created_at.with_timezone(&time_zone).date_naive();
    Some(ducha_calendar::Deadline {
        due_at: lead.due_at,
        due_date,
        provisional: lead.provisional,
        calendar_version: lead.calendar_version.clone(),
        explanation: ducha_calendar::Explanation {
            rule,
            start_date,
            rolled_from: None,
            crossed: Vec::new(),
            provisional_years: Vec::new(),
            summary: format!(
                "本事项已{}，期限以交办时按当时日历（版本{}）确定的为准：自{start_date}起算{rule}，截止于{}。",
                if stage == Stage::Closed {
                    "销号"
                } else {
                    "撤销"
                },
                lead.calendar_version,
                lead.due_at
                    .with_timezone(&time_zone)
                    .format("%Y-%m-%d %H:%M"),
            ),
        },
    })
}
