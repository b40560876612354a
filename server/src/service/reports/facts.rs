//! A month's facts as they stood at its end, and the report computed from them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::{SourceKind, Stage};
use ducha_report::{
    AssignmentFacts, ItemFacts, Month, MonthlyReport, PastTotals, PreviousReport, ReportFacts,
    ReportRules, TaskColourFacts, TrendPoint, UnitInfo,
};
use sea_orm::{DatabaseConnection, EntityTrait, FromQueryResult, QueryOrder, Value};

use crate::service::reports::published::{Publisher, TREND_MONTHS};
use crate::service::reports::stored::{latest_data, latest_data_by, parse_stored};
use crate::service::watch::colours::RuleSet;
use futures_util::TryStreamExt;

use crate::error::AppResult;
use crate::service::store::sql::statement;
use entity::{UnitKind, unit};

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
            crate::service::store::history::stages_before(db, end),
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
            crate::service::store::history::closures(db, window_start, last_instant),
        )?;
    let (dues_then, withdrawn_since) = futures_util::try_join!(
        crate::service::store::history::dues_at(db, last_instant),
        crate::service::store::history::withdrawn_after(db, last_instant),
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
    let mut pacer = crate::service::store::sql::Pacer::default();
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

    // The tasks handed down, as they stood at the end, roll into their assignments' colours;
    // a sub-unit's parts and closures count under its top-level unit (docs/rules.md §8).
    let tasks = tasks_at_end(db, &items, last_instant).await?;
    let tops = ducha_domain::tasks::top_levels(unit_rows.iter().map(|u| (u.id, u.parent_id)));
    let top = |unit_id: i64| tops.get(&unit_id).copied().unwrap_or(unit_id);
    for a in &mut assignments {
        a.unit_id = top(a.unit_id);
    }
    let closures: Vec<ducha_report::Closure> = closures
        .into_iter()
        .map(|c| ducha_report::Closure {
            unit_id: top(c.unit_id),
            ..c
        })
        .collect();
    let units = unit_rows
        .into_iter()
        .filter(|u| top(u.id) == u.id)
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
        tasks,
    })
}

/// The tasks of `items` handed down by `at`, as they stood then (`task_as_of`), with what
/// their colours are judged from.
async fn tasks_at_end(
    db: &DatabaseConnection,
    items: &[ducha_report::ItemFacts],
    at: DateTime<Utc>,
) -> AppResult<Vec<TaskColourFacts>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let by_id: HashMap<i64, &ducha_report::ItemFacts> = items.iter().map(|i| (i.id, i)).collect();
    let rows = entity::task::Entity::find()
        .filter(entity::task::Column::CreatedAt.lte(at))
        .order_by_asc(entity::task::Column::Id)
        .find_also_related(unit::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(crate::service::store::read::task_row)
        .filter_map(|row| {
            let item = by_id.get(&row.task.item_id)?;
            let task = crate::service::watch::colours::tasks::task_as_of(&row.task, at)?;
            Some(TaskColourFacts {
                assignment_id: task.assignment_id,
                facts: crate::service::watch::colours::tasks::task_facts_at(
                    &task,
                    item.stage_at_end,
                    (item.report_cycle_days, item.report_cycle_working_days),
                ),
                unit_name: row.unit_name,
            })
        })
        .collect())
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
    let (policy_version, policy) = crate::service::watch::colours::policy_at(state.db, end).await?;
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
