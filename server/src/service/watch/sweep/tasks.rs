//! The red tasks' climb (docs/rules.md §8, `ducha_domain::climb`), after the parts' ladder in
//! every sweep: a task handed down that is red tells the unit that handed it down, then one
//! level higher each working day it stays red, then the office. Its notices are written as a
//! verb's are, with their mails, in one transaction; the notice's unique key (part × kind ×
//! level, the level naming task and rung) keeps each rung to once across sweeps and
//! instances.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::climb::{Climbed, Hearer, level, next_rung, parse_level};
use ducha_domain::colour::{Colour, task_colour};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};

use crate::calendar_store::CalendarStore;
use crate::error::AppResult;
use crate::service::notices::notify::{
    EventNotice, NoticeContext, TaskNews, Topic, write_event_notices,
};
use crate::service::watch::colours::RuleSet;
use crate::service::watch::colours::tasks::{
    OpenTasks, TaskRow, colour_horizon, open_tasks, task_facts,
};
use entity::{assignment, notice, task};

/// What the climb runs with: the sweep's database, calendar and notice context.
pub struct Climb<'a> {
    pub db: &'a DatabaseConnection,
    pub calendar: &'a CalendarStore,
    pub time_zone: chrono_tz::Tz,
    pub notices: &'a NoticeContext,
}

/// Sends the climb's next rung for every red task that is due one: the rungs written and
/// their mails.
#[tracing::instrument(skip_all)]
pub async fn climb_red_tasks(state: Climb<'_>, now: DateTime<Utc>) -> AppResult<(usize, usize)> {
    let db = state.db;
    let rule_set = RuleSet::load(db, state.calendar, state.time_zone).await?;
    let rules = rule_set.rules();
    // Only a task that may have a colour today can be red.
    let which = OpenTasks {
        among: None,
        coloured_before: colour_horizon(&rules, now),
    };
    let (open, items) = open_tasks(db, which).await?;
    let red: Vec<(&TaskRow, String)> = open
        .iter()
        .filter_map(|row| {
            let item = items.get(&row.task.item_id)?;
            let verdict = task_colour(
                rules.calendar,
                rules.time_zone,
                rules.policy,
                &task_facts(item, &row.task),
                now,
            );
            (verdict.colour == Colour::Red).then_some((row, verdict.reason))
        })
        .collect();
    if red.is_empty() {
        return Ok((0, 0));
    }
    let mut item_ids: Vec<i64> = red.iter().map(|(row, _)| row.task.item_id).collect();
    item_ids.sort_unstable();
    item_ids.dedup();
    let mut part_ids: Vec<i64> = red.iter().map(|(row, _)| row.task.assignment_id).collect();
    part_ids.sort_unstable();
    part_ids.dedup();
    let family: HashMap<i64, task::Model> =
        crate::service::store::sql::in_chunks(&item_ids, |chunk| {
            task::Entity::find()
                .filter(task::Column::ItemId.is_in(chunk))
                .all(db)
        })
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let parts: HashMap<i64, assignment::Model> =
        crate::service::store::read::assignments(db, &part_ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
    let on_record = climbs_on_record(db, state.time_zone, &part_ids).await?;
    let today = now.with_timezone(&rules.time_zone).date_naive();
    // A sweep run by hand on a rest day starts a climb but does not move one on.
    let working_day = rules.calendar.is_working_day(today).value;
    let mut reader_parts = Vec::new();
    for (row, reason) in &red {
        let Some(part) = parts.get(&row.task.assignment_id) else {
            continue;
        };
        let climbed = on_record.get(&row.task.id).copied();
        if climbed.is_some() && !working_day {
            continue;
        }
        let above = units_above(&row.task, &family, part.unit_id);
        let Some((rung, hearer)) = next_rung(&above, climbed, today) else {
            continue;
        };
        let (news, to_unit, situation) = match hearer {
            Hearer::Unit(unit_id) => (
                TaskNews::Red,
                unit_id,
                format!("{}的子任务为红色：{reason}", row.unit_name),
            ),
            Hearer::Office => (
                TaskNews::RedToOffice,
                part.unit_id,
                format!("{}的子任务持续为红色，已逐级上报：{reason}", row.unit_name),
            ),
        };
        // The part as its reader sees it: their unit, the task's due.
        let reader_part = assignment::Model {
            unit_id: to_unit,
            lead: false,
            due_at: row.task.due_at,
            extended_due_at: None,
            signed_at: row.task.signed_at,
            ..part.clone()
        };
        reader_parts.push((
            row.task.item_id,
            news,
            level(row.task.id, rung),
            reader_part,
            row.task.unit_id,
            situation,
        ));
    }
    if reader_parts.is_empty() {
        return Ok((0, 0));
    }
    let events: Vec<EventNotice<'_>> = reader_parts
        .iter()
        .filter_map(|(item_id, news, level, part, task_unit, situation)| {
            Some(EventNotice {
                topic: Topic::Task(*news),
                level: level.clone(),
                item: items.get(item_id)?,
                assignment: part,
                about_unit: Some(*task_unit),
                situation: situation.clone(),
            })
        })
        .collect();
    let sent = events.len();
    let txn = db.begin().await?;
    let mails = write_event_notices(&txn, state.notices, now, events)
        .await?
        .mails;
    txn.commit().await?;
    state.notices.wake.notify_one();
    Ok((sent, mails))
}

/// The units above a task, nearest first: the unit that handed it down, the one that handed
/// that down, … and last the unit holding the part.
fn units_above(task: &task::Model, family: &HashMap<i64, task::Model>, part_unit: i64) -> Vec<i64> {
    let mut above = Vec::new();
    let mut parent = task.parent_task_id;
    // As deep as the organisation; the bound guards a stored loop.
    for _ in 0..16 {
        let Some(held_by) = parent.and_then(|id| family.get(&id)) else {
            break;
        };
        above.push(held_by.unit_id);
        parent = held_by.parent_task_id;
    }
    above.push(part_unit);
    above
}

/// The highest rung on record for each task of `parts`, and the local date it was sent.
async fn climbs_on_record(
    db: &DatabaseConnection,
    time_zone: chrono_tz::Tz,
    parts: &[i64],
) -> AppResult<HashMap<i64, Climbed>> {
    let rows = crate::service::store::sql::in_chunks(parts, |chunk| {
        notice::Entity::find()
            .filter(notice::Column::Kind.eq("TASK"))
            .filter(notice::Column::Level.contains(" RED "))
            .filter(notice::Column::AssignmentId.is_in(chunk))
            .all(db)
    })
    .await?;
    let mut climbed: HashMap<i64, Climbed> = HashMap::new();
    for row in rows {
        let Some((task_id, rung)) = parse_level(&row.level) else {
            continue;
        };
        let on = row.created_at.with_timezone(&time_zone).date_naive();
        let entry = climbed.entry(task_id).or_insert(Climbed { rung, on });
        if rung >= entry.rung {
            *entry = Climbed { rung, on };
        }
    }
    Ok(climbed)
}
