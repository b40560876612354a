//! 待办: what the person asking must do now, soonest first. For a unit: items to sign, due
//! soon or overdue, progress reports due or missed, and work sent back (退回重办, 回头看). For
//! the office: items registered and not assigned yet (first), completion reports to verify, verified items to close, returns to answer and
//! extension requests to decide; for a leader, the extensions beyond the office's limit
//! (docs/rules.md §1). Everything is read in the reader's scope and judged by the same rules
//! as colours and reminders (`ducha_domain::colour`), so the to-do never disagrees with them.

use chrono::{DateTime, Utc};
use ducha_domain::colour::{ProgressReport, progress_report};
use ducha_domain::{Duty, Role, Stage};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::items::extension::{OFFICE_EXTENSION_LIMIT_WORKING_DAYS, working_days_added};
use crate::service::store::read;
use crate::service::watch::colours::{FactsOf, Rules, assignment_facts};
use entity::{AssignmentStatus, ItemStage};
use entity::{assignment, extension_request, item};

/// Most entries of one kind listed (the counts are exact).
pub const LIST_CAP: u64 = 200;

/// Why something is on the list, most pressing first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TodoKind {
    /// The deadline has passed.
    Overdue,
    /// The office sent the completion report back, or reopened the item (回头看).
    Rework,
    /// Assigned to the unit and not signed yet.
    Sign,
    /// A progress report's day has passed without one.
    ReportMissed,
    /// Due within the policy's BLUE window.
    DueSoon,
    /// A progress report falls due within the BLUE window.
    ReportDue,
    /// A unit asked to return the item: reassign or insist.
    ResolveReturn,
    /// An extension request waits for a decision.
    DecideExtension,
    /// A completion report waits for verification.
    Verify,
    /// Verified; waits to be closed (销号).
    Close,
    /// Registered (立项); waits to be assigned (交办). Listed before everything else: the
    /// deadline has not started and no unit knows of it yet.
    Assign,
    /// An item received from above, verified or closed: its 落实情况 waits to be reported up
    /// by the upstream due (docs/rules.md §8).
    ReportUpward,
}

impl TodoKind {
    pub fn label(self) -> &'static str {
        match self {
            TodoKind::Overdue => "已逾期",
            TodoKind::Rework => "退回重办",
            TodoKind::Sign => "待签收",
            TodoKind::ReportMissed => "进展逾期未报",
            TodoKind::DueSoon => "即将到期",
            TodoKind::ReportDue => "进展待报送",
            TodoKind::ResolveReturn => "退回待处理",
            TodoKind::DecideExtension => "延期待审批",
            TodoKind::Verify => "反馈待核查",
            TodoKind::Close => "待销号",
            TodoKind::Assign => "待交办",
            TodoKind::ReportUpward => "待上报上级",
        }
    }
}

/// One thing to do about one item.
#[derive(Debug, Clone)]
pub struct TodoEntry {
    /// Every reason it is listed, most pressing first; the first is the heading it goes under.
    pub kinds: Vec<TodoKind>,
    pub item: item::Model,
    pub assignment_id: Option<i64>,
    pub extension_request_id: Option<i64>,
    /// The instant it is wanted by (a due, a report's day), if it has one.
    pub due_at: Option<DateTime<Utc>>,
    /// When it came in (a request, a report), for lists without a due.
    pub since: DateTime<Utc>,
}

impl TodoEntry {
    pub fn kind(&self) -> TodoKind {
        self.kinds.first().copied().unwrap_or(TodoKind::DueSoon)
    }
}

/// The reader's to-do, soonest first: entries with a due by that instant, then the rest by
/// when they came in.
#[tracing::instrument(skip_all, fields(actor = actor.person_id))]
pub async fn todo(
    db: &impl ConnectionTrait,
    actor: &Actor,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> AppResult<Vec<TodoEntry>> {
    let mut entries = Vec::new();
    if let Some(unit_id) = actor.own_unit() {
        entries.extend(unit_todo(db, unit_id, rules, now).await?);
    }
    if matches!(actor.role, Role::Admin | Role::Supervisor) {
        entries.extend(office_todo(db).await?);
    }
    if actor.role.sees_everything() {
        entries.extend(extension_todo(db, actor, rules).await?);
    }
    entries.sort_by(|a, b| {
        let key = |e: &TodoEntry| {
            (
                e.kind() != TodoKind::Assign,
                e.due_at.is_none(),
                e.due_at.unwrap_or(e.since),
                e.item.id,
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(entries)
}

async fn unit_todo(
    db: &impl ConnectionTrait,
    unit_id: i64,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> AppResult<Vec<TodoEntry>> {
    let item_ids: Vec<i64> = assignment::Entity::find()
        .select_only()
        .column(assignment::Column::ItemId)
        .filter(assignment::Column::UnitId.eq(unit_id))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
        .into_tuple()
        .all(db)
        .await?;
    let items: Vec<item::Model> = read::items(db, &item_ids)
        .await?
        .into_iter()
        .filter(|i| matches!(i.stage, ItemStage::Assigned | ItemStage::InProgress))
        .collect();
    let facts = assignment_facts(db, &items, now).await?;
    let today = now.with_timezone(&rules.time_zone).date_naive();
    let mut entries = Vec::new();
    for FactsOf { assignment, facts } in facts {
        if assignment.unit_id != unit_id {
            continue;
        }
        let Some(current) = items.iter().find(|i| i.id == assignment.item_id) else {
            continue;
        };
        let due = facts.due_in_force();
        let mut kinds = Vec::new();
        let mut wanted_by = Some(due);
        // Overdue as everywhere else (docs/rules.md §3): a co-unit whose part has ended owes
        // nothing more.
        if ducha_domain::colour::is_overdue(&facts, now) {
            kinds.push(TodoKind::Overdue);
        }
        let part_ended = facts.clock_stopped_at().is_some();
        if assignment.lead
            && facts.stage == Stage::InProgress
            && (facts.rejections > 0 || facts.reopened)
        {
            kinds.push(TodoKind::Rework);
        }
        if assignment.signed_at.is_none() && assignment.status == AssignmentStatus::Active {
            kinds.push(TodoKind::Sign);
        }
        match progress_report(rules.calendar, rules.time_zone, rules.policy, &facts, now) {
            Some(ProgressReport::Missed(_)) => kinds.push(TodoKind::ReportMissed),
            Some(ProgressReport::DueSoon(date)) => {
                kinds.push(TodoKind::ReportDue);
                // The report's cut-off, if sooner than the due: that is what is wanted first.
                let report_due =
                    ducha_domain::colour::progress_report_due(rules.time_zone, &facts, date);
                wanted_by = wanted_by.map(|w| w.min(report_due)).or(Some(report_due));
            }
            None => {}
        }
        let due_day = due.with_timezone(&rules.time_zone).date_naive();
        if due > now
            && !part_ended
            && rules.calendar.working_days_between(today, due_day).value
                <= rules.policy.blue_within_working_days
        {
            kinds.push(TodoKind::DueSoon);
        }
        if kinds.is_empty() {
            continue;
        }
        kinds.sort();
        entries.push(TodoEntry {
            kinds,
            item: current.clone(),
            assignment_id: Some(assignment.id),
            extension_request_id: None,
            due_at: wanted_by,
            since: assignment.created_at,
        });
    }
    Ok(entries)
}

/// Items to assign, reports to verify, items to close, returns to answer.
async fn office_todo(db: &impl ConnectionTrait) -> AppResult<Vec<TodoEntry>> {
    let mut entries = Vec::new();
    for (stage, kind) in [
        (ItemStage::Registered, TodoKind::Assign),
        (ItemStage::FeedbackSubmitted, TodoKind::Verify),
        (ItemStage::Verified, TodoKind::Close),
    ] {
        let waiting = item::Entity::find()
            .filter(item::Column::Stage.eq(stage))
            .order_by_asc(item::Column::UpdatedAt)
            .limit(LIST_CAP)
            .all(db)
            .await?;
        entries.extend(waiting.into_iter().map(|item| TodoEntry {
            kinds: vec![kind],
            since: item.updated_at,
            item,
            assignment_id: None,
            extension_request_id: None,
            due_at: None,
        }));
    }
    // The office's own due: what came from above goes back up by the upstream due.
    let upward = item::Entity::find()
        .filter(item::Column::Stage.is_in([ItemStage::Verified, ItemStage::Closed]))
        .filter(item::Column::UpstreamDocument.is_not_null())
        .filter(item::Column::ReportedUpwardAt.is_null())
        .order_by_asc(item::Column::UpstreamDueAt)
        .limit(LIST_CAP)
        .all(db)
        .await?;
    entries.extend(upward.into_iter().map(|item| TodoEntry {
        kinds: vec![TodoKind::ReportUpward],
        since: item.updated_at,
        due_at: item.upstream_due_at,
        item,
        assignment_id: None,
        extension_request_id: None,
    }));
    let returns = assignment::Entity::find()
        .filter(assignment::Column::Status.eq(AssignmentStatus::ReturnRequested))
        .order_by_asc(assignment::Column::Id)
        .limit(LIST_CAP)
        .all(db)
        .await?;
    let items = read::items(db, &returns.iter().map(|a| a.item_id).collect::<Vec<_>>()).await?;
    for a in returns {
        if let Some(item) = items.iter().find(|i| i.id == a.item_id) {
            entries.push(TodoEntry {
                kinds: vec![TodoKind::ResolveReturn],
                item: item.clone(),
                assignment_id: Some(a.id),
                extension_request_id: None,
                due_at: None,
                since: item.updated_at,
            });
        }
    }
    Ok(entries)
}

/// Pending extension requests the reader may decide: the office within its limit, a leader
/// beyond it (the administrator, who may do both, sees all).
async fn extension_todo(
    db: &impl ConnectionTrait,
    actor: &Actor,
    rules: &Rules<'_>,
) -> AppResult<Vec<TodoEntry>> {
    let office = matches!(actor.role, Role::Admin | Role::Supervisor);
    let long = Duty::ApproveLongExtension.allowed_for(actor.role);
    let pending = extension_request::Entity::find()
        .filter(extension_request::Column::Decision.is_null())
        .order_by_asc(extension_request::Column::CreatedAt)
        .limit(LIST_CAP)
        .all(db)
        .await?;
    let assignments = read::assignments(
        db,
        &pending.iter().map(|r| r.assignment_id).collect::<Vec<_>>(),
    )
    .await?;
    let items = read::items(db, &pending.iter().map(|r| r.item_id).collect::<Vec<_>>()).await?;
    let mut entries = Vec::new();
    for request in pending {
        let (Some(target), Some(item)) = (
            assignments.iter().find(|a| a.id == request.assignment_id),
            items.iter().find(|i| i.id == request.item_id),
        ) else {
            continue;
        };
        // A request on an item whose stage no longer takes a decision (cancelled, suspended,
        // reported done) waits for nobody.
        let stage: Stage = item.stage.into();
        if ducha_domain::Action::DecideExtension
            .next_stage(stage, None)
            .is_err()
        {
            continue;
        }
        let beyond = working_days_added(
            rules.calendar,
            rules.time_zone,
            target.due_at,
            request.proposed_due_at,
        ) > OFFICE_EXTENSION_LIMIT_WORKING_DAYS;
        if (beyond && long) || (!beyond && office) {
            entries.push(TodoEntry {
                kinds: vec![TodoKind::DecideExtension],
                item: item.clone(),
                assignment_id: Some(target.id),
                extension_request_id: Some(request.id),
                due_at: Some(target.extended_due_at.unwrap_or(target.due_at)),
                since: request.created_at,
            });
        }
    }
    Ok(entries)
}
