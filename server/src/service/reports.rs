//! The monthly report (月度督查通报, docs/rules.md §6) against the database: load the facts of a
//! month as they stood at its end, let `ducha_report::build` compute the figures, and
//! publish the result as an immutable, versioned snapshot, emailed to leaders and the office
//! through the outbox in the same transaction.
//!
//! "As they stood at its end": the report is built after the month (on the first working
//! day of the next, or later on request), so whatever happened since is rewound from the
//! audit trail — a stage changed after the end counts as the stage it left, an item closed
//! after the end is still open, an extension approved after the end does not count.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::colour::Colour;
use ducha_domain::{SourceKind, Stage};
use ducha_report::{
    AssignmentFacts, ItemFacts, Month, MonthlyReport, PastTotals, PreviousReport, ReportFacts,
    ReportRules, TrendPoint, UnitInfo,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set, Value,
};
use serde_json::json;

use super::colours::RuleSet;
use futures_util::TryStreamExt;

use super::audit::{Audit, audit};
use super::sql::statement;
use crate::auth::Actor;
use crate::calendar_store::CalendarStore;
use crate::error::{AppError, AppResult};
use entity::{PersonRole, UnitKind, monthly_report, outbox, person, unit};

/// How many earlier months the trend chart shows besides the report's own.
const TREND_MONTHS: usize = 5;
/// Advisory-lock keys of publishing: this base plus the month's number.
const REPORT_LOCK_KEY: i64 = 0x6475_6368_6200_0000;

/// What computing and publishing a report read: the database, the live calendar and the
/// office's time zone.
#[derive(Clone, Copy)]
pub struct Publisher<'a> {
    pub db: &'a DatabaseConnection,
    pub calendar: &'a CalendarStore,
    pub time_zone: chrono_tz::Tz,
}

/// Who the report is from, in its masthead and emails.
pub const OFFICE: &str = "区政府办公室督查室";

/// The part of a published report people of `unit_id` read when the office circulates only
/// each unit's own part (`UnitReportAccess::OwnUnit`): the district's totals, the unit's own
/// row, and the lists cut down to its own items and its own mention.
pub fn own_part(mut published: Published, unit_id: i64) -> Published {
    let report = &mut published.report;
    let name = report
        .units
        .iter()
        .find(|u| u.unit_id == unit_id)
        .map(|u| u.unit.clone())
        .unwrap_or_default();
    report.units.retain(|u| u.unit_id == unit_id);
    report.red_items.retain(|i| i.unit == name);
    report.yellow_items.retain(|i| i.unit == name);
    report.praised.retain(|u| *u == name);
    report.named.retain(|u| u.unit == name);
    report.called_in.retain(|u| u.unit == name);
    // The problems and suggestions weigh units against each other by name.
    let withheld = "本部分涉及其他单位，按本系统设置仅向督查室和区领导提供。".to_string();
    report.sections.problems = withheld.clone();
    report.sections.suggestions = withheld;
    // What changed between versions, as far as it is the district's or the unit's own.
    let own_prefix = format!("{name}：");
    published.changes.retain(|c| {
        c.starts_with(&own_prefix)
            || c.starts_with("全区")
            || c.starts_with("颜色规则版本")
            || c.starts_with("节假日日历更新")
    });
    published
}

/// A stored version of a month's report.
#[derive(Debug, Clone)]
pub struct Published {
    pub id: i64,
    pub version: i32,
    pub report: MonthlyReport,
    pub changes: Vec<String>,
    pub reason: Option<String>,
    pub generated_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<monthly_report::Model> for Published {
    type Error = AppError;

    fn try_from(row: monthly_report::Model) -> AppResult<Published> {
        let unreadable = |e: serde_json::Error| {
            AppError::Internal(anyhow::anyhow!(
                "monthly report {} v{} unreadable: {e}",
                row.month,
                row.version
            ))
        };
        Ok(Published {
            id: row.id,
            version: row.version,
            report: serde_json::from_str(&row.data).map_err(unreadable)?,
            changes: serde_json::from_str(&row.changes).map_err(unreadable)?,
            reason: row.reason,
            generated_by: row.generated_by,
            created_at: row.created_at,
        })
    }
}

/// An item with one of its live assignments (or none), as `ITEMS_SQL` reads them: one row
/// per assignment, because one pass decodes faster than two (BENCHMARKS.md).
#[derive(FromQueryResult)]
struct ItemRow {
    id: i64,
    serial: String,
    title: String,
    source_kind: String,
    stage: String,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    closed_on_time_original: Option<bool>,
    closed_on_time_extended: Option<bool>,
    report_cycle_days: Option<i32>,
    report_cycle_working_days: bool,
    assignment_id: Option<i64>,
    unit_id: Option<i64>,
    lead: Option<bool>,
    assigned_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    extended_due_at: Option<DateTime<Utc>>,
    withdrawn: Option<i64>,
}

#[derive(FromQueryResult)]
struct EventRow {
    item_id: i64,
    action: String,
    at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct ExtensionRow {
    assignment_id: i64,
    proposed_due_at: DateTime<Utc>,
    decided_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct LastReport {
    assignment_id: i64,
    last_report_at: DateTime<Utc>,
    feedback_at: Option<DateTime<Utc>>,
    first_feedback_at: Option<DateTime<Utc>>,
}

/// Items that can figure in the month: registered before its end, and not closed before its
/// start (items cancelled before the start are dropped once their cancel time is known).
/// Items still only registered (立项, not yet 交办) count as registered and nothing else.
/// Assignments withdrawn by the month's end (returned and reassigned elsewhere) do not count;
/// those withdrawn since were live then and do.
const ITEMS_SQL: &str = "SELECT i.id, i.serial, i.title, i.source_kind, i.stage, i.created_at, \
    i.closed_at, i.closed_on_time_original, i.closed_on_time_extended, i.report_cycle_days, i.report_cycle_working_days, \
    a.id AS assignment_id, a.unit_id, a.lead, a.created_at AS assigned_at, a.due_at, a.extended_due_at, \
    CAST(CASE WHEN a.status = 'WITHDRAWN' THEN 1 ELSE 0 END AS BIGINT) AS withdrawn \
    FROM item i LEFT JOIN assignment a \
      ON a.item_id = i.id AND a.created_at < $2 \
    WHERE i.created_at < $2 AND NOT (i.stage = 'CLOSED' AND i.closed_at < $1) \
    ORDER BY i.id";

/// An item at the end of the month: its stage, and when it was closed or cancelled by then.
struct AtEnd {
    stage: Stage,
    closed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

/// Where an item stood at the end of the month; none when it does not figure in the month
/// (not yet registered, or closed or cancelled before the month began).
fn item_at_end(
    row: &ItemRow,
    stage_at_end: &HashMap<i64, Option<String>>,
    cancelled_at: &HashMap<i64, DateTime<Utc>>,
    last_close: &HashMap<i64, &ducha_report::Closure>,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Option<AtEnd> {
    let stage = match stage_at_end.get(&row.id) {
        Some(Some(before)) => Stage::parse(before)?,
        // Its first stage change came after the end: it did not exist yet.
        Some(None) => return None,
        None => Stage::parse(&row.stage)?,
    };
    // When it closed by then: its last CLOSE row before the end (the row's own column is
    // the latest close, which a 回头看 and a second close may have moved past the end).
    let closed_at = last_close
        .get(&row.id)
        .map(|c| c.at)
        .or(row.closed_at)
        .filter(|t| *t < end && stage == Stage::Closed);
    if stage == Stage::Closed && closed_at.is_none_or(|t| t < start) {
        return None;
    }
    let cancelled = cancelled_at
        .get(&row.id)
        .copied()
        .filter(|_| stage == Stage::Cancelled);
    if stage == Stage::Cancelled && cancelled.is_none_or(|t| t < start) {
        return None;
    }
    Some(AtEnd {
        stage,
        closed_at,
        cancelled_at: cancelled,
    })
}

fn unit_kind_label(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Department => "部门",
        UnitKind::Subdistrict => "街道",
        UnitKind::Park => "园区",
        UnitKind::Town => "乡镇",
        UnitKind::Other => "其他",
    }
}

/// The facts of `month` as they stood at its end.
#[tracing::instrument(skip_all, fields(month = ?month))]
pub async fn load_facts(
    db: &DatabaseConnection,
    month: Month,
    time_zone: chrono_tz::Tz,
    window_days: i64,
) -> AppResult<ReportFacts> {
    let backend = db.get_database_backend();
    let (start, end) = month.bounds(time_zone);
    let bounds = || vec![Value::from(start), Value::from(end)];

    // The stage each item had at the end: the `from` of its first stage change after it.
    // The small reads are independent, and with a pool (and SQLite's WAL) they run side by
    // side.
    // The month's last instant, which its figures are judged at (`ducha_report::build`): a
    // microsecond before the end, so that "after it" is "at or after the end", the bound the
    // stages and reports are read by.
    let last_instant = end - chrono::Duration::microseconds(1);
    // Closures of the on-time window, and of the month itself should the window be shorter.
    let window_start = (last_instant - chrono::Duration::days(window_days)).min(start);
    let (rewinds, events, extension_rows, last_report_rows, unit_rows, closures) =
        futures_util::try_join!(
            super::history::stages_before(db, end),
            EventRow::find_by_statement(statement(
                backend,
                "SELECT item_id, action, at FROM audit_event \
                 WHERE action IN ('REJECT', 'REOPEN', 'CANCEL') AND item_id IS NOT NULL AND at < $1",
                vec![Value::from(end)],
            ))
            .all(db),
            ExtensionRow::find_by_statement(statement(
                backend,
                "SELECT assignment_id, proposed_due_at, decided_at FROM extension_request \
                 WHERE decision = 'APPROVED' AND decided_at IS NOT NULL",
                Vec::new(),
            ))
            .all(db),
            LastReport::find_by_statement(statement(
                backend,
                "SELECT assignment_id, MAX(created_at) AS last_report_at, \
                 MAX(CASE WHEN kind = 'FEEDBACK' THEN created_at END) AS feedback_at, \
                 MIN(CASE WHEN kind = 'FEEDBACK' THEN created_at END) AS first_feedback_at FROM report \
                 WHERE created_at < $1 GROUP BY assignment_id",
                vec![Value::from(end)],
            ))
            .all(db),
            unit::Entity::find().order_by_asc(unit::Column::Id).all(db),
            super::history::closures(db, window_start, last_instant),
        )?;
    let (dues_then, withdrawn_since) = futures_util::try_join!(
        super::history::dues_at(db, last_instant),
        super::history::withdrawn_after(db, last_instant),
    )?;
    let mut last_close: HashMap<i64, &ducha_report::Closure> = HashMap::new();
    for closure in &closures {
        let slot = last_close.entry(closure.item_id).or_insert(closure);
        if closure.at > slot.at {
            *slot = closure;
        }
    }

    let stage_at_end = rewinds;

    let mut rejections: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut reopened: HashMap<i64, (bool, bool)> = HashMap::new();
    let mut cancelled_at: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for event in events {
        let in_month = event.at >= start;
        match event.action.as_str() {
            "REJECT" => {
                let entry = rejections.entry(event.item_id).or_default();
                entry.0 += 1;
                entry.1 += i64::from(in_month);
            }
            "REOPEN" => {
                let entry = reopened.entry(event.item_id).or_default();
                entry.0 = true;
                entry.1 |= in_month;
            }
            _ => {
                cancelled_at.insert(event.item_id, event.at);
            }
        }
    }

    // Approvals by the end, latest per assignment; and the assignments approved again since.
    let mut extended: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    let mut approved_since: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for row in extension_rows {
        if row.decided_at >= end {
            approved_since.insert(row.assignment_id);
            continue;
        }
        let slot = extended
            .entry(row.assignment_id)
            .or_insert((row.decided_at, row.proposed_due_at));
        if row.decided_at >= slot.0 {
            *slot = (row.decided_at, row.proposed_due_at);
        }
    }
    let last_reports: HashMap<i64, LastReport> = last_report_rows
        .into_iter()
        .map(|r| (r.assignment_id, r))
        .collect();

    let mut items: Vec<ItemFacts> = Vec::new();
    let mut assignments: Vec<AssignmentFacts> = Vec::new();
    // Rows come in item order; `kept` says whether the current item figures in the month.
    let mut current: Option<(i64, bool)> = None;
    // The big read last, streamed: each row is turned into facts as it arrives, which
    // overlaps decoding with the transfer and keeps no second copy of the rows.
    let mut item_rows = ItemRow::find_by_statement(statement(backend, ITEMS_SQL, bounds()))
        .stream(db)
        .await?;
    let mut pacer = super::sql::Pacer::default();
    while let Some(row) = item_rows.try_next().await? {
        pacer.row().await;
        let kept = match current {
            Some((id, kept)) if id == row.id => kept,
            _ => {
                let kept = match item_at_end(
                    &row,
                    &stage_at_end,
                    &cancelled_at,
                    &last_close,
                    (start, end),
                ) {
                    Some(AtEnd {
                        stage,
                        closed_at,
                        cancelled_at: cancelled,
                    }) => {
                        let (rejections_by_end, rejections_in_month) =
                            rejections.get(&row.id).copied().unwrap_or_default();
                        let (reopened_by_end, reopened_in_month) =
                            reopened.get(&row.id).copied().unwrap_or_default();
                        items.push(ItemFacts {
                            id: row.id,
                            serial: row.serial.clone(),
                            title: row.title.clone(),
                            source_kind: SourceKind::parse(&row.source_kind)
                                .unwrap_or(SourceKind::Other),
                            stage_at_end: stage,
                            registered_at: row.created_at,
                            closed_at,
                            closed_on_time_original: closed_at.and_then(|_| {
                                last_close
                                    .get(&row.id)
                                    .map(|c| c.on_time_original)
                                    .or(row.closed_on_time_original)
                            }),
                            closed_on_time_extended: closed_at.and_then(|_| {
                                last_close
                                    .get(&row.id)
                                    .map(|c| c.on_time)
                                    .or(row.closed_on_time_extended)
                            }),
                            cancelled_at: cancelled,
                            report_cycle_days: row.report_cycle_days,
                            report_cycle_working_days: row.report_cycle_working_days,
                            rejections_by_end,
                            rejections_in_month,
                            reopened_by_end,
                            reopened_in_month,
                        });
                        true
                    }
                    None => false,
                };
                current = Some((row.id, kept));
                kept
            }
        };
        let (true, Some(id), Some(unit_id), Some(lead), Some(assigned_at), Some(mut due_at)) = (
            kept,
            row.assignment_id,
            row.unit_id,
            row.lead,
            row.assigned_at,
            row.due_at,
        ) else {
            continue;
        };
        if row.withdrawn == Some(1) && !withdrawn_since.contains(&id) {
            continue;
        }
        let extension = extended.get(&id);
        let mut extended_due_at = extension.map(|(_, due)| *due);
        if let Some(then) = dues_then.get(&id) {
            then.apply(&mut due_at, &mut extended_due_at);
        } else if !approved_since.contains(&id) {
            // Nothing moved its dues since the end: those in force now were in force then
            // (a co-unit carried by its lead's extension has no approval of its own).
            extended_due_at = row.extended_due_at;
        }
        assignments.push(AssignmentFacts {
            id,
            item_id: row.id,
            unit_id,
            lead,
            assigned_at,
            due_at,
            extended_due_at,
            extended_in_month: extension.is_some_and(|(decided, _)| *decided >= start),
            last_report_or_assigned_at: last_reports
                .get(&id)
                .map_or(assigned_at, |r| r.last_report_at),
            feedback_at: last_reports.get(&id).and_then(|r| r.feedback_at),
            first_feedback_at: last_reports.get(&id).and_then(|r| r.first_feedback_at),
            own_report_at: last_reports.get(&id).map(|r| r.last_report_at),
        });
    }
    // The stream holds a pooled connection until dropped; the reads below need their own,
    // and a pool full of publishers each holding one and waiting for another would never
    // move (parallel publishes timed out on the pool before this).
    drop(item_rows);
    // The lead's completion reports are the item's: its latest stops the lead's clock,
    // its first ends the co-units' parts (docs/rules.md §3).
    let mut item_feedback: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for a in &assignments {
        if let (Some(latest), Some(first)) = (a.feedback_at, a.first_feedback_at) {
            let slot = item_feedback.entry(a.item_id).or_insert((latest, first));
            slot.0 = slot.0.max(latest);
            slot.1 = slot.1.min(first);
        }
    }
    for a in &mut assignments {
        let feedback = item_feedback.get(&a.item_id);
        a.feedback_at = feedback.map(|f| f.0);
        a.first_feedback_at = feedback.map(|f| f.1);
    }

    let units = unit_rows
        .into_iter()
        .map(|u| UnitInfo {
            id: u.id,
            kind: unit_kind_label(u.kind).to_string(),
            name: u.name,
        })
        .collect();

    // Last month as its report stood at this month's end: a version published since does
    // not change what the board said then ("two periods running", docs/rules.md §3).
    let previous: Option<PreviousReport> =
        match latest_data_by(db, month.previous(), last_instant).await? {
            Some(data) => Some(parse_stored(month.previous(), &data)?),
            None => None,
        };
    let mut history: Vec<TrendPoint> = Vec::new();
    let mut earlier = month.previous();
    for _ in 0..TREND_MONTHS {
        if let Some(data) = latest_data(db, earlier).await? {
            history.push(parse_stored::<PastTotals>(earlier, &data)?.into());
        }
        earlier = earlier.previous();
    }
    history.reverse();
    Ok(ReportFacts {
        units,
        items,
        assignments,
        closures,
        previous,
        history,
    })
}

/// The month's report computed now, from the live database, without storing it.
#[tracing::instrument(skip_all, fields(month = ?month))]
pub async fn compute(
    state: Publisher<'_>,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<MonthlyReport> {
    let rule_set = RuleSet::load(state.db, state.calendar, state.time_zone).await?;
    // The month is judged by the colour rules in force at its end, whenever it is published.
    let (_, end) = month.bounds(rule_set.time_zone);
    let (policy_version, policy) = super::colours::policy_at(state.db, end).await?;
    let facts = load_facts(
        state.db,
        month,
        rule_set.time_zone,
        policy.on_time_window_days,
    )
    .await?;
    Ok(ducha_report::build(
        month,
        &facts,
        &ReportRules {
            calendar: &rule_set.calendar,
            calendar_version: rule_set.calendar.version().to_string(),
            time_zone: rule_set.time_zone,
            policy: &policy,
            policy_version,
        },
        now,
    ))
}

/// The stored snapshot of `month`'s latest version, unparsed.
/// As [`latest_data`], among the versions published by `as_of`.
async fn latest_data_by(
    db: &impl ConnectionTrait,
    month: Month,
    as_of: DateTime<Utc>,
) -> AppResult<Option<String>> {
    Ok(monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::Data)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .filter(monthly_report::Column::CreatedAt.lte(as_of))
        .order_by_desc(monthly_report::Column::Version)
        .into_tuple()
        .one(db)
        .await?)
}

async fn latest_data(db: &impl ConnectionTrait, month: Month) -> AppResult<Option<String>> {
    Ok(monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::Data)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .order_by_desc(monthly_report::Column::Version)
        .into_tuple()
        .one(db)
        .await?)
}

/// Part of a stored snapshot (serde skips the rest, such as the long item lists).
fn parse_stored<T: serde::de::DeserializeOwned>(month: Month, data: &str) -> AppResult<T> {
    serde_json::from_str(data)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("monthly report {month} unreadable: {e}")))
}

/// Whether any version of `month`'s report is published.
pub async fn is_published(db: &impl ConnectionTrait, month: Month) -> AppResult<bool> {
    Ok(monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::Id)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

/// The latest published version of `month`'s report.
pub async fn latest(db: &impl ConnectionTrait, month: Month) -> AppResult<Option<Published>> {
    monthly_report::Entity::find()
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .order_by_desc(monthly_report::Column::Version)
        .one(db)
        .await?
        .map(Published::try_from)
        .transpose()
}

/// One version of `month`'s report, or the latest when `version` is none.
pub async fn find(
    db: &impl ConnectionTrait,
    month: Month,
    version: Option<i32>,
) -> AppResult<Option<Published>> {
    let Some(version) = version else {
        return latest(db, month).await;
    };
    monthly_report::Entity::find()
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .filter(monthly_report::Column::Version.eq(version))
        .one(db)
        .await?
        .map(Published::try_from)
        .transpose()
}

/// Every published version, newest month first.
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<Published>> {
    monthly_report::Entity::find()
        .order_by_desc(monthly_report::Column::Month)
        .order_by_desc(monthly_report::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(Published::try_from)
        .collect()
}

/// The outcome of a publication request.
#[derive(Debug, Clone)]
pub struct Publication {
    pub published: Published,
    /// False when the figures were unchanged, so no new version was made.
    pub created: bool,
}

/// Builds `month`'s report and publishes it as a new version, unless its figures equal the
/// latest version's. The version row, its emails and the audit entry are one transaction;
/// two instances publishing together make one version (the other gets CONFLICT).
#[tracing::instrument(skip_all, fields(month = ?month))]
pub async fn publish(
    state: Publisher<'_>,
    month: Month,
    actor: Option<&Actor>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Publication> {
    if let Some(actor) = actor {
        super::verb::require_duty(
            actor,
            ducha_domain::Duty::PublishReport,
            "只有督查室可以发布月度督查通报",
        )?;
    }
    let tz = state.time_zone;
    let (_, end) = month.bounds(tz);
    if now < end {
        return Err(AppError::BadUserInput(format!(
            "{}尚未结束，不能发布该月通报",
            month.label()
        )));
    }
    let report = compute(state, month, now).await?;
    let txn = super::sql::begin_write(state.db).await?;
    // Publishers of one month take turns (SQLite's write lock does this by itself): the
    // second finds the first's version and answers "unchanged", not a conflict.
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_raw(statement(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            vec![Value::from(
                REPORT_LOCK_KEY + i64::from(month.year()) * 12 + i64::from(month.month()),
            )],
        ))
        .await?;
    }
    let previous = latest(&txn, month).await?;
    let changes = match &previous {
        Some(before) => {
            let changes = ducha_report::changes_between(&before.report, &report);
            if changes.is_empty() {
                txn.rollback().await?;
                return Ok(Publication {
                    published: before.clone(),
                    created: false,
                });
            }
            changes
        }
        None => Vec::new(),
    };
    let version = previous.as_ref().map_or(1, |p| p.version + 1);
    let data = serde_json::to_string(&report).map_err(|e| AppError::Internal(e.into()))?;
    let changes_json = serde_json::to_string(&changes).map_err(|e| AppError::Internal(e.into()))?;
    let rated: HashMap<String, Colour> = report
        .units
        .iter()
        .filter(|u| u.rank.is_some())
        .map(|u| (u.unit_id.to_string(), u.colour))
        .collect();
    let unit_colours = serde_json::to_string(&rated).map_err(|e| AppError::Internal(e.into()))?;
    let row = monthly_report::ActiveModel {
        month: Set(month.to_string()),
        version: Set(version),
        data: Set(data),
        changes: Set(changes_json),
        unit_colours: Set(unit_colours),
        reason: Set(reason.map(str::to_string)),
        generated_by: Set(actor.map(|a| a.person_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let html = ducha_report::render::html(&report, version, &changes, OFFICE)
        .map_err(|e| AppError::Internal(e.into()))?;
    let subject = if version > 1 {
        format!("【督查通报】{}（第{}版）", report.title, version)
    } else {
        format!("【督查通报】{}", report.title)
    };
    let mut text = format!(
        "{}\n\n一、落实情况\n{}\n\n二、存在问题\n{}\n\n三、工作建议\n{}\n",
        report.title,
        report.sections.progress,
        report.sections.problems,
        report.sections.suggestions
    );
    if !changes.is_empty() {
        text.push_str("\n本版较上一版的变化：\n");
        for change in &changes {
            text.push_str(&format!("- {change}\n"));
        }
    }
    text.push_str(&format!("\n{OFFICE}\n"));
    let readers = person::Entity::find()
        .filter(person::Column::Role.is_in([PersonRole::Leader, PersonRole::Supervisor]))
        .all(&txn)
        .await?;
    let mut recipients: Vec<String> = readers.into_iter().filter_map(|p| p.email).collect();
    recipients.sort();
    recipients.dedup();
    let mail = crate::mail::Rendered {
        subject,
        text,
        html,
    };
    if !recipients.is_empty() {
        outbox::Entity::insert_many(
            recipients
                .iter()
                .map(|to| super::outbox::pending(None, to, &mail, now)),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    audit(
        &txn,
        Audit::admin(actor, now, "PUBLISH_REPORT", json!({ "month": month.to_string(), "version": version, "changes": changes, "recipients": recipients })).because(reason),
    )
    .await?;
    txn.commit().await?;
    Ok(Publication {
        published: Published {
            id: row.id,
            version,
            report,
            changes,
            reason: row.reason,
            generated_by: row.generated_by,
            created_at: now,
        },
        created: true,
    })
}

/// The scheduler's part (docs/rules.md §6): from the first working day of a month on, publish
/// the previous month's report once, if nobody has. Safe on every instance: a second
/// publisher finds the version taken (CONFLICT) or the figures unchanged.
#[tracing::instrument(skip_all)]
pub async fn publish_due(state: Publisher<'_>, now: DateTime<Utc>) -> AppResult<Option<Published>> {
    let tz = state.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let calendar = state.calendar.current()?;
    let this_month = Month::of(today);
    if today < this_month.first_working_day(&calendar) {
        return Ok(None);
    }
    let month = this_month.previous();
    if is_published(state.db, month).await? {
        return Ok(None);
    }
    match publish(state, month, None, Some("每月第一个工作日自动生成"), now).await {
        Ok(publication) => Ok(Some(publication.published)),
        Err(AppError::Conflict(_)) => Ok(None),
        Err(error) => Err(error),
    }
}
