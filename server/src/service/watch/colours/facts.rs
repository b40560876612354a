//! Each assignment's facts and the colours they give: from the rows a page reads anyway (now), or from the history (as of a past instant).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
pub use ducha_domain::colour::ItemColours;
use ducha_domain::colour::{AssignmentFacts, assignment_colour, verdict_holds_until};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::store::read::tasks_of_items_where;
use crate::service::store::sql::in_chunks;
use crate::service::watch::colours::as_of::live_assignments_at;
use crate::service::watch::colours::policy::{RuleSet, Rules};
use crate::service::watch::colours::tasks::{
    TaskRow, TaskVerdicts, colour_horizon, may_have_a_colour, task_as_of,
};
use entity::AssignmentStatus;
use entity::{assignment, audit_event, item, report, task};

/// What the colour rules read of one live assignment, as of some instant.
pub struct FactsOf {
    pub assignment: assignment::Model,
    pub facts: AssignmentFacts,
}

/// The facts of every live assignment of `items` as of `at`, in a few queries whatever their
/// number (the assignments, their approvals, the dues and withdrawals recorded since, the
/// rejections and reopens, the reports): what colours are computed from, and what a unit's
/// to-do is made of.
pub async fn assignment_facts(
    db: &impl ConnectionTrait,
    items: &[item::Model],
    at: DateTime<Utc>,
) -> AppResult<Vec<FactsOf>> {
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut assignments = live_assignments_at(db, &ids, at).await?;
    // In id order whatever the chunks, as a page reads them: of two
    // assignments of one colour, the first gives the item its reason.
    assignments.sort_by_key(|a| a.id);
    let events = in_chunks(&ids, |chunk| {
        audit_event::Entity::find()
            .filter(audit_event::Column::ItemId.is_in(chunk))
            .filter(audit_event::Column::Action.is_in(["REJECT", "REOPEN"]))
            .filter(audit_event::Column::At.lte(at))
            .all(db)
    })
    .await?;
    let mut rejections: HashMap<i64, i64> = HashMap::new();
    let mut reopened: HashMap<i64, bool> = HashMap::new();
    for event in &events {
        let Some(item_id) = event.item_id else {
            continue;
        };
        match event.action.as_str() {
            "REJECT" => *rejections.entry(item_id).or_default() += 1,
            _ => {
                reopened.insert(item_id, true);
            }
        }
    }
    let reports = in_chunks(&ids, |chunk| {
        report::Entity::find()
            .filter(report::Column::ItemId.is_in(chunk))
            .filter(report::Column::CreatedAt.lte(at))
            .all(db)
    })
    .await?;
    let mut last_report: HashMap<i64, DateTime<Utc>> = HashMap::new();
    // The lead's latest completion report (its clock) and its first (the co-units' part).
    let mut feedback: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for r in &reports {
        if r.kind == "FEEDBACK" {
            let slot = feedback
                .entry(r.item_id)
                .or_insert((r.created_at, r.created_at));
            slot.0 = slot.0.max(r.created_at);
            slot.1 = slot.1.min(r.created_at);
        }
        let slot = last_report.entry(r.assignment_id).or_insert(r.created_at);
        if r.created_at > *slot {
            *slot = r.created_at;
        }
    }
    let by_id: HashMap<i64, &item::Model> = items.iter().map(|i| (i.id, i)).collect();
    Ok(assignments
        .into_iter()
        .filter_map(|a| {
            let current = by_id.get(&a.item_id)?;
            let facts = AssignmentFacts {
                stage: current.stage.into(),
                due_at: a.due_at,
                extended_due_at: a.extended_due_at,
                rejections: rejections.get(&a.item_id).copied().unwrap_or(0),
                reopened: reopened.get(&a.item_id).copied().unwrap_or(false),
                report_cycle_days: current.report_cycle_days,
                report_cycle_working_days: current.report_cycle_working_days,
                last_report_or_assigned_at: last_report.get(&a.id).copied().unwrap_or(a.created_at),
                feedback_at: feedback.get(&a.item_id).map(|f| f.0),
                lead: a.lead,
                first_feedback_at: feedback.get(&a.item_id).map(|f| f.1),
                own_report_at: last_report.get(&a.id).copied(),
            };
            Some(FactsOf {
                assignment: a,
                facts,
            })
        })
        .collect())
}

/// Colours of `items` as of `at`, in a few queries whatever their number.
#[tracing::instrument(skip_all)]
pub async fn colours_for_items(
    db: &impl ConnectionTrait,
    rules: &Rules<'_>,
    items: &[item::Model],
    at: DateTime<Utc>,
) -> AppResult<HashMap<i64, ItemColours>> {
    let assignments = assignment_facts(db, items, at).await?;
    let tasks = task_verdicts_as_of(db, rules, items, at).await?;
    Ok(colours_of(
        rules,
        items.iter(),
        assignments.iter().map(|f| (&f.assignment, &f.facts)),
        &tasks,
        at,
    ))
}

/// The verdicts of the tasks of `items` as they stood at `at` (`tasks::task_as_of`).
pub async fn task_verdicts_as_of(
    db: &impl ConnectionTrait,
    rules: &Rules<'_>,
    items: &[item::Model],
    at: DateTime<Utc>,
) -> AppResult<TaskVerdicts> {
    let with_tasks: Vec<&item::Model> = items.iter().collect();
    // Handed down by then; and only those that may have a colour then, when the calendar
    // tells (a report sent back since counts already: a superset).
    let mut condition = sea_orm::Condition::all().add(task::Column::CreatedAt.lte(at));
    if let Some(horizon) = colour_horizon(rules, at) {
        condition = condition.add(may_have_a_colour(horizon));
    }
    let tasks: Vec<TaskRow> = tasks_of_items_where(db, &with_tasks, condition)
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(TaskRow {
                task: task_as_of(&row.task, at)?,
                unit_name: row.unit_name,
            })
        })
        .collect();
    let by_id: HashMap<i64, &item::Model> = items.iter().map(|i| (i.id, i)).collect();
    Ok(TaskVerdicts::judge(
        rules,
        |id| by_id.get(&id).copied(),
        &tasks,
        at,
    ))
}

/// Colours of `items` from their live assignments' facts (`ItemColours::add` says how they
/// make the item's).
pub(super) fn colours_of<'a, 'i>(
    rules: &Rules<'_>,
    items: impl Iterator<Item = &'i item::Model>,
    facts: impl IntoIterator<Item = (&'a assignment::Model, &'a AssignmentFacts)>,
    tasks: &TaskVerdicts,
    at: DateTime<Utc>,
) -> HashMap<i64, ItemColours> {
    let mut result: HashMap<i64, ItemColours> = items
        .map(|i| (i.id, ItemColours::placeholder(i.stage.into())))
        .collect();
    let mut part_units: HashMap<i64, (i64, i64)> = HashMap::new();
    for (a, facts) in facts {
        if let Some(entry) = result.get_mut(&a.item_id) {
            let verdict =
                assignment_colour(rules.calendar, rules.time_zone, rules.policy, facts, at);
            entry.add(a.id, a.unit_id, verdict);
            // Kept only to roll tasks in: none to roll, nothing to keep.
            if !tasks.is_empty() {
                part_units.insert(a.id, (a.item_id, a.unit_id));
            }
        }
    }
    for (assignment_id, (item_id, unit_id)) in &part_units {
        if let Some(entry) = result.get_mut(item_id) {
            tasks.roll_part_into(entry, *assignment_id, *unit_id);
        }
    }
    result
}

/// What the colour rules read of a live assignment now: its own row and its item's. The
/// facts that come from the history (reports, 退回重办, 回头看) are kept on those rows by the
/// writes that make them true (`item::Model::feedback_at` and the fields beside it), so they
/// are the latest ones: right for now and for any later instant, not for a past one (that is
/// `assignment_facts`, which reads the history as of its instant).
pub fn facts_now(item: &item::Model, a: &assignment::Model) -> AssignmentFacts {
    AssignmentFacts {
        stage: item.stage.into(),
        due_at: a.due_at,
        extended_due_at: a.extended_due_at,
        rejections: i64::from(item.rejections),
        reopened: item.reopened,
        report_cycle_days: item.report_cycle_days,
        report_cycle_working_days: item.report_cycle_working_days,
        last_report_or_assigned_at: a.last_report_at.unwrap_or(a.created_at),
        feedback_at: item.feedback_at,
        lead: a.lead,
        first_feedback_at: item.first_feedback_at,
        own_report_at: a.last_report_at,
    }
}

/// Colours of items at `at` (now, or later) from rows a page has read anyway: each item with
/// every one of its assignments (`read::kept_items`). No statement: issue 14 asked that
/// colours cost a page no more than a fifth of its time, and they are a function of these
/// rows, the calendar and the policy. Agrees with `colours_for_items` at any instant after
/// the latest write (a test holds them together on the demo district).
///
/// An item's colours are kept on its rows for as long as they hold
/// (`verdict_holds_until`: until the next local midnight or a due instant, with this
/// calendar and this policy), so the same page shown again judges nothing: rows that
/// change are new rows, with nothing kept.
pub fn colours_from_rows(
    rule_set: &RuleSet,
    rows: &[std::sync::Arc<crate::service::store::rows::ItemRows>],
    at: DateTime<Utc>,
) -> HashMap<i64, std::sync::Arc<ItemColours>> {
    rows.iter()
        .map(|rows| (rows.item.id, colours_until(rule_set, rows, at).0))
        .collect()
}

/// One item's colours at `at` from its rows (kept ones while they hold), and the instant
/// until which they hold.
pub fn colours_until(
    rule_set: &RuleSet,
    rows: &crate::service::store::rows::ItemRows,
    at: DateTime<Utc>,
) -> (std::sync::Arc<ItemColours>, DateTime<Utc>) {
    let kept = &rows.kept_colours;
    kept.get(&rule_set.calendar, rule_set.policy_version, at)
        .unwrap_or_else(|| {
            let (colours, until) = colours_of_rows(&rule_set.rules(), rows, at);
            let colours = std::sync::Arc::new(colours);
            kept.keep(
                &rule_set.calendar,
                rule_set.policy_version,
                at..until,
                &colours,
            );
            (colours, until)
        })
}

/// One item's colours at `at` from its rows, and the instant until which they hold.
fn colours_of_rows(
    rules: &Rules<'_>,
    rows: &crate::service::store::rows::ItemRows,
    at: DateTime<Utc>,
) -> (ItemColours, DateTime<Utc>) {
    let mut colours = ItemColours::placeholder(rows.item.stage.into());
    let mut until = DateTime::<Utc>::MAX_UTC;
    for a in &rows.assignments {
        if a.status == AssignmentStatus::Withdrawn {
            continue;
        }
        if a.created_at > at {
            // Counted from the instant it was made.
            until = until.min(a.created_at);
            continue;
        }
        let facts = facts_now(&rows.item, a);
        until = until.min(verdict_holds_until(rules.time_zone, &facts, at));
        let verdict = assignment_colour(rules.calendar, rules.time_zone, rules.policy, &facts, at);
        colours.add(a.id, a.unit_id, verdict);
    }
    if !rows.tasks.is_empty() {
        let tasks = TaskVerdicts::judge(rules, |_| Some(&rows.item), &rows.tasks, at);
        until = until.min(tasks.holds_until.unwrap_or(DateTime::<Utc>::MAX_UTC));
        tasks.roll_into(&mut colours, |id| {
            rows.assignments
                .iter()
                .find(|a| a.id == id)
                .map(|a| a.unit_id)
        });
    }
    (colours, until)
}
