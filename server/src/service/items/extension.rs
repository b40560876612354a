//! 延期: a unit asks before its due instant; the office decides, a leader beyond the
//! office's limit.

use chrono::NaiveDate;
use ducha_calendar::DeadlineRule;
use ducha_domain::{Action, Duty};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::shared::live_lead;
use crate::service::items::verb::{Cx, own_assignment, require_duty};
use crate::service::notices::notify::{EventNotice, ItemNews, OfficeNews, Topic};
use crate::service::store::dues::{DUES_KEY, DueChange, Dues, to_value as dues_value};
use crate::service::store::input::{REASON_MAX, Text, reason};
use entity::ExtensionDecision;
use entity::{assignment, extension_request};

/// Beyond this many working days past the original due, only a leader approves an
/// extension (docs/rules.md §1: the office decides, a leader beyond 10 working days).
pub const OFFICE_EXTENSION_LIMIT_WORKING_DAYS: i64 = 10;

/// Working days an extension adds past the original due (local dates, as the limit reads).
pub fn working_days_added(
    calendar: &ducha_calendar::Calendar,
    time_zone: chrono_tz::Tz,
    original_due: chrono::DateTime<chrono::Utc>,
    proposed_due: chrono::DateTime<chrono::Utc>,
) -> i64 {
    calendar
        .working_days_between(
            original_due.with_timezone(&time_zone).date_naive(),
            proposed_due.with_timezone(&time_zone).date_naive(),
        )
        .value
}

/// 延期: asked for before the due instant ([004 Art.71]: 应在规定时限内…说明理由).
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn request_extension(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    proposed: NaiveDate,
    why: &str,
) -> AppResult<extension_request::Model> {
    let verb = cx.verb(Action::RequestExtension)?;
    let why = reason(why)?;
    let write = verb.claim(item_id, version).await?;
    let (txn, cx) = (&write.txn, &write.cx);
    let mine = own_assignment(txn, cx.actor, item_id).await?;
    let due = mine.extended_due_at.unwrap_or(mine.due_at);
    if cx.now >= due {
        return Err(AppError::InvalidTransition(
            "已超过办理期限，不能再申请延期".into(),
        ));
    }
    let proposed_at = cx
        .calendar
        .deadline(cx.policy, cx.now, DeadlineRule::FixedDate(proposed))?
        .due_at;
    if proposed_at <= due {
        return Err(AppError::BadUserInput("申请的新期限应晚于当前期限".into()));
    }
    let pending = extension_request::Entity::find()
        .filter(extension_request::Column::AssignmentId.eq(mine.id))
        .filter(extension_request::Column::Decision.is_null())
        .one(txn)
        .await?;
    if pending.is_some() {
        return Err(AppError::Conflict("已有待审批的延期申请".into()));
    }
    let created = extension_request::ActiveModel {
        item_id: Set(item_id),
        assignment_id: Set(mine.id),
        requested_by: Set(cx.actor.person_id),
        reason: Set(why.as_str().to_string()),
        proposed_due_at: Set(proposed_at),
        decision: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_reason: Set(None),
        created_at: Set(cx.now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    // The office decides; beyond its limit the item's 责任领导 must approve, and hears too.
    let beyond = working_days_added(&cx.calendar, cx.policy.time_zone, mine.due_at, proposed_at);
    let item = write.item.clone();
    let long = beyond > OFFICE_EXTENSION_LIMIT_WORKING_DAYS;
    let notice = EventNotice {
        topic: Topic::Office(OfficeNews::ExtensionAsked {
            long,
            leader: item.responsible_leader_id,
        }),
        level: format!("EXT {}", created.id),
        item: &item,
        assignment: &mine,
        about_unit: None,
        situation: format!(
            "申请延期至{}（超过原期限{beyond}个工作日）：{}",
            proposed.format("%Y-%m-%d"),
            why.as_str()
        ),
    };
    write
        .commit(
            Some(why.as_str()),
            json!({ "extensionId": created.id, "assignmentId": mine.id, "currentDueAt": due, "proposedDueAt": proposed_at }),
            vec![notice],
        )
        .await?;
    Ok(created)
}

/// The office (or, beyond its limit, a leader) approves or rejects an extension request.
#[tracing::instrument(skip_all, fields(extension_id, version, approve, actor = cx.actor.person_id))]
pub async fn decide_extension(
    cx: Cx<'_>,
    extension_id: i64,
    version: i32,
    approve: bool,
    why: Option<&str>,
    beyond_lead_due: bool,
    keep_co_units: bool,
) -> AppResult<extension_request::Model> {
    let verb = cx.verb(Action::DecideExtension)?;
    let why = match (approve, why) {
        (false, w) => Some(reason(w.unwrap_or_default())?),
        (true, w) => Text::optional("理由", w, REASON_MAX)?,
    };
    // The request's item never changes: read it to know which item to claim.
    let item_id = extension_request::Entity::find_by_id(extension_id)
        .one(verb.cx.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("延期申请 {extension_id} 不存在")))?
        .item_id;
    let write = verb.claim(item_id, version).await?;
    let (txn, cx) = (&write.txn, &write.cx);
    let request = extension_request::Entity::find_by_id(extension_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("延期申请 {extension_id} 不存在")))?;
    if request.decision.is_some() {
        return Err(AppError::InvalidTransition("该延期申请已审批".into()));
    }
    let target = assignment::Entity::find_by_id(request.assignment_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("交办记录不存在".into()))?;
    let tz = cx.policy.time_zone;
    let beyond = working_days_added(&cx.calendar, tz, target.due_at, request.proposed_due_at);
    if approve && beyond > OFFICE_EXTENSION_LIMIT_WORKING_DAYS {
        require_duty(
            cx.actor,
            Duty::ApproveLongExtension,
            &format!(
                "延期超过原期限{OFFICE_EXTENSION_LIMIT_WORKING_DAYS}个工作日（本次{beyond}个），须由区领导审批"
            ),
        )?;
    }
    // A co-unit supports the lead: it is not due after the lead unless the office says so
    // in so many words ([001 Art.31]: 牵头部门要发挥主导作用，协办部门要积极配合; docs/rules.md §2).
    let mut beyond_lead = None;
    if approve && !target.lead {
        let lead = live_lead(txn, request.item_id).await?;
        if let Some(lead) = lead {
            let lead_due = lead.extended_due_at.unwrap_or(lead.due_at);
            if request.proposed_due_at > lead_due {
                if !beyond_lead_due {
                    return Err(AppError::BadUserInput(format!(
                        "协办单位的新期限（{}）晚于主办单位的期限（{}）；如确需如此，请明确同意协办期限晚于主办期限",
                        request
                            .proposed_due_at
                            .with_timezone(&tz)
                            .format("%Y-%m-%d %H:%M"),
                        lead_due.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    )));
                }
                beyond_lead = Some(lead_due);
            }
        }
    }
    let mut decided: extension_request::ActiveModel = request.clone().into();
    decided.decision = Set(Some(if approve {
        ExtensionDecision::Approved
    } else {
        ExtensionDecision::Rejected
    }));
    decided.decided_by = Set(Some(cx.actor.person_id));
    decided.decided_at = Set(Some(cx.now));
    decided.decision_reason = Set(why.as_ref().map(|w| w.as_str().to_string()));
    let decided = decided.update(txn).await?;
    let mut dues = Vec::new();
    // The co-units' parts the lead's extension carried, as they now are.
    let mut carried = Vec::new();
    let previous_extended = target.extended_due_at;
    let target = if approve {
        dues.push(DueChange::of(
            &target,
            Dues {
                due_at: target.due_at,
                extended_due_at: Some(request.proposed_due_at),
            },
        ));
        // The lead's extension carries the co-units by the same working days unless the
        // decision says otherwise (docs/rules.md §2): their part feeds the lead's.
        if target.lead && !keep_co_units {
            let before = target.extended_due_at.unwrap_or(target.due_at);
            let added = working_days_added(&cx.calendar, tz, before, request.proposed_due_at);
            let (moved, parts) = move_co_units(txn, cx, &write.item, &target, added).await?;
            dues.extend(moved);
            carried = parts;
        }
        let mut extended: assignment::ActiveModel = target.clone().into();
        extended.extended_due_at = Set(Some(request.proposed_due_at));
        extended.update(txn).await?
    } else {
        target
    };
    let due = request
        .proposed_due_at
        .with_timezone(&tz)
        .format("%Y年%m月%d日 %H:%M");
    let situation = match (approve, &why) {
        (true, _) => format!("延期申请已批准，新期限为{due}"),
        (false, Some(why)) => format!("延期申请未获批准：{}", why.as_str()),
        (false, None) => "延期申请未获批准".to_string(),
    };
    let details = json!({
        "extensionId": extension_id,
        "assignmentId": target.id,
        "approved": approve,
        "originalDueAt": target.due_at,
        "previousExtendedDueAt": previous_extended,
        "extendedDueAt": approve.then_some(request.proposed_due_at),
        "beyondLeadDueAt": beyond_lead,
        DUES_KEY: dues_value(&dues),
    });
    let current = write.item.clone();
    let carried_news = "主办单位延期已获批准，协办期限随之顺延".to_string();
    let notices = std::iter::once(EventNotice {
        topic: Topic::Extension { approved: approve },
        level: format!("DECIDED {extension_id}"),
        item: &current,
        assignment: &target,
        about_unit: None,
        situation,
    })
    .chain(carried.iter().map(|part| EventNotice {
        topic: Topic::Item(ItemNews::CarriedByLead),
        level: format!("DECIDED {extension_id}"),
        item: &current,
        assignment: part,
        about_unit: None,
        situation: carried_news.clone(),
    }))
    .collect();
    write
        .commit(why.as_ref().map(Text::as_str), details, notices)
        .await?;
    Ok(decided)
}

/// Moves every live co-unit of the lead's item whose part is still open `added` working days
/// later (their extended due, kept beside the original as an approved extension is), and
/// says what moved, with the parts as they now are. A part that has ended (the co-unit
/// reported it, or the lead first reported the whole) stays as it was judged (docs/rules.md §3).
async fn move_co_units(
    txn: &sea_orm::DatabaseTransaction,
    cx: &Cx<'_>,
    item: &entity::item::Model,
    lead: &assignment::Model,
    added: i64,
) -> AppResult<(Vec<DueChange>, Vec<assignment::Model>)> {
    let Ok(added) = i32::try_from(added) else {
        return Ok((Vec::new(), Vec::new()));
    };
    if added <= 0 || item.first_feedback_at.is_some() {
        return Ok((Vec::new(), Vec::new()));
    }
    let co_units = assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(lead.item_id))
        .filter(assignment::Column::Lead.eq(false))
        .filter(assignment::Column::Status.ne(entity::AssignmentStatus::Withdrawn))
        .filter(assignment::Column::LastReportAt.is_null())
        .all(txn)
        .await?;
    let tz = cx.policy.time_zone;
    let mut moved = Vec::new();
    let mut parts = Vec::new();
    for co in co_units {
        let from = co.extended_due_at.unwrap_or(co.due_at);
        let date = cx
            .calendar
            .add_working_days(from.with_timezone(&tz).date_naive(), added)?;
        let due = cx
            .calendar
            .deadline(cx.policy, from, DeadlineRule::FixedDate(date.value))?
            .due_at;
        moved.push(DueChange::of(
            &co,
            Dues {
                due_at: co.due_at,
                extended_due_at: Some(due),
            },
        ));
        let mut active: assignment::ActiveModel = co.into();
        active.extended_due_at = Set(Some(due));
        parts.push(active.update(txn).await?);
    }
    Ok((moved, parts))
}
