//! Tasks rolled into their parts' colours (docs/rules.md §8): each task handed down is
//! judged on its own due (`ducha_domain::colour::task_colour`), and its part takes the worst
//! of its own verdict and its tasks', at every depth, the reason naming the sub-unit. Every
//! place that colours parts — the page's rows, the colours as of an instant, the board, the
//! live dashboard — rolls tasks in through [`TaskVerdicts`], so they agree.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::colour::{
    ItemColours, TaskFacts, Verdict, rolled_up, task_colour, task_colour_holds_until,
};
use ducha_domain::tasks::TaskStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait};

use crate::error::AppResult;
pub use crate::service::store::read::tasks_of_items;
pub use crate::service::store::rows::TaskRow;
use crate::service::store::sql::in_chunks;
use crate::service::watch::colours::policy::Rules;
use entity::{item, task, unit};

/// A stored status. Only this code writes it; an unknown one (never written) reads as
/// 待签收, the state that asks the most of nobody and allows no verdict.
pub fn status_of(task: &task::Model) -> TaskStatus {
    TaskStatus::parse(&task.status).unwrap_or(TaskStatus::Assigned)
}

/// Items whose work runs (suspended ones too: their tasks wait with them). A task of an item
/// verified, closed or cancelled is done with it.
pub fn running_items() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Query::select()
        .column(item::Column::Id)
        .from(item::Entity)
        .and_where(Expr::col(item::Column::Stage).is_in([
            "ASSIGNED",
            "IN_PROGRESS",
            "FEEDBACK_SUBMITTED",
            "SUSPENDED",
        ]))
        .to_owned()
}

/// What the colour rules read of a task of `item`.
pub fn task_facts(item: &item::Model, task: &task::Model) -> TaskFacts {
    task_facts_at(
        task,
        item.stage.into(),
        (item.report_cycle_days, item.report_cycle_working_days),
    )
}

/// [`task_facts`] with the item's stage and report cycle as some instant had them (the
/// monthly report's end).
pub fn task_facts_at(
    task: &task::Model,
    item_stage: ducha_domain::Stage,
    (report_cycle_days, report_cycle_working_days): (Option<i32>, bool),
) -> TaskFacts {
    TaskFacts {
        status: status_of(task),
        due_at: task.due_at,
        feedback_at: task.feedback_at,
        rejections: i64::from(task.rejections),
        last_report_or_handed_at: task.last_report_at.unwrap_or(task.created_at),
        item_stage,
        report_cycle_days,
        report_cycle_working_days,
    }
}

/// Which open tasks of items whose work runs to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenTasks<'a> {
    /// Only the tasks of these items.
    pub among: Option<&'a [i64]>,
    /// Only tasks that may have a colour before this instant: due before it, sent back, or of
    /// an item with a progress-report cycle. Nothing else colours a task (§3), so the others
    /// are on schedule until then ([`colour_horizon`]).
    pub coloured_before: Option<DateTime<Utc>>,
}

/// The first instant at which a task not yet due could turn blue, judged today: local
/// midnight of the working day after the blue window (a due on any date before it is within
/// `blue_within_working_days` working days of today). `None` beyond the calendar.
pub fn colour_horizon(rules: &Rules<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&rules.time_zone).date_naive();
    let window = i32::try_from(rules.policy.blue_within_working_days).ok()?;
    let first_after = rules
        .calendar
        .add_working_days(today, window.checked_add(1)?)
        .ok()?
        .value;
    local_midnight(rules, first_after)
}

fn local_midnight(rules: &Rules<'_>, date: chrono::NaiveDate) -> Option<DateTime<Utc>> {
    date.and_time(chrono::NaiveTime::MIN)
        .and_local_timezone(rules.time_zone)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Tasks that may have a colour before `horizon` ([`OpenTasks::coloured_before`]).
pub fn may_have_a_colour(horizon: DateTime<Utc>) -> sea_orm::Condition {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let cycled = Query::select()
        .column(item::Column::Id)
        .from(item::Entity)
        .and_where(Expr::col(item::Column::ReportCycleDays).is_not_null())
        .to_owned();
    sea_orm::Condition::any()
        .add(task::Column::DueAt.lt(horizon))
        .add(task::Column::Rejections.gt(0))
        .add(task::Column::ItemId.in_subquery(cycled))
}

/// The open tasks `which` asks for, with their items: what the board, the live dashboard and
/// the sweep roll in now. Two statements whatever their number.
pub async fn open_tasks(
    db: &impl ConnectionTrait,
    which: OpenTasks<'_>,
) -> AppResult<(Vec<TaskRow>, HashMap<i64, item::Model>)> {
    let open: Vec<&str> = [
        TaskStatus::Assigned,
        TaskStatus::Signed,
        TaskStatus::FeedbackSubmitted,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    let mut select = task::Entity::find()
        .filter(task::Column::Status.is_in(open))
        .filter(task::Column::ItemId.in_subquery(running_items()))
        .order_by_asc(task::Column::Id);
    if let Some(horizon) = which.coloured_before {
        select = select.filter(may_have_a_colour(horizon));
    }
    let select_ids = {
        use sea_orm::QuerySelect;
        select.clone().select_only().column(task::Column::ItemId)
    };
    let found = match which.among {
        None => select.find_also_related(unit::Entity).all(db).await?,
        Some(ids) => {
            in_chunks(ids, |chunk| {
                select
                    .clone()
                    .filter(task::Column::ItemId.is_in(chunk))
                    .find_also_related(unit::Entity)
                    .all(db)
            })
            .await?
        }
    };
    let rows: Vec<TaskRow> = found
        .into_iter()
        .map(crate::service::store::read::task_row)
        .collect();
    let mut item_ids: Vec<i64> = rows.iter().map(|r| r.task.item_id).collect();
    item_ids.sort_unstable();
    item_ids.dedup();
    let items = if which.among.is_none() && item_ids.len() > 1_000 {
        // The items of every such task: one statement by the same conditions, not dozens of
        // long `IN` lists.
        let of_tasks = select_ids.into_query();
        crate::service::store::rows::all(
            db,
            item::Entity::find().filter(item::Column::Id.in_subquery(of_tasks)),
        )
        .await?
    } else {
        crate::service::store::read::items(db, &item_ids).await?
    };
    let items = items.into_iter().map(|i| (i.id, i)).collect();
    Ok((rows, items))
}

/// Each part's tasks' verdicts at one instant: (sub-unit, verdict) by assignment id, and the
/// instant until which they all hold.
#[derive(Debug, Default)]
pub struct TaskVerdicts {
    /// By assignment id: each of its tasks' verdicts.
    by_part: HashMap<i64, Vec<Judged>>,
    pub holds_until: Option<DateTime<Utc>>,
}

/// One task's own verdict, with what places it in its tree.
#[derive(Debug)]
struct Judged {
    item_id: i64,
    task_id: i64,
    parent_task_id: Option<i64>,
    unit_id: i64,
    unit_name: String,
    verdict: Verdict,
}

impl TaskVerdicts {
    /// The verdicts of `tasks` (of items in `items`) at `at`.
    pub fn judge<'a>(
        rules: &Rules<'_>,
        items: impl Fn(i64) -> Option<&'a item::Model>,
        tasks: &[TaskRow],
        at: DateTime<Utc>,
    ) -> TaskVerdicts {
        let mut verdicts = TaskVerdicts::default();
        for row in tasks {
            let Some(item) = items(row.task.item_id) else {
                continue;
            };
            let facts = task_facts(item, &row.task);
            let verdict = task_colour(rules.calendar, rules.time_zone, rules.policy, &facts, at);
            let until = task_colour_holds_until(rules.time_zone, &facts, at);
            verdicts.holds_until = Some(verdicts.holds_until.map_or(until, |u| u.min(until)));
            verdicts
                .by_part
                .entry(row.task.assignment_id)
                .or_default()
                .push(Judged {
                    item_id: item.id,
                    task_id: row.task.id,
                    parent_task_id: row.task.parent_task_id,
                    unit_id: row.task.unit_id,
                    unit_name: row.unit_name.clone(),
                    verdict,
                });
        }
        verdicts
    }

    /// Whether no task was judged.
    pub fn is_empty(&self) -> bool {
        self.by_part.is_empty()
    }

    /// `own`, the part `assignment_id`'s verdict, with its tasks rolled in.
    pub fn roll(&self, assignment_id: i64, own: Verdict) -> Verdict {
        self.by_part
            .get(&assignment_id)
            .into_iter()
            .flatten()
            .fold(own, |held, task| {
                rolled_up(held, &task.unit_name, task.verdict.clone())
            })
    }

    /// Rolls every task into its part in one item's `colours` (`part_unit`: the unit of a
    /// part, by assignment id).
    pub fn roll_into(&self, colours: &mut ItemColours, part_unit: impl Fn(i64) -> Option<i64>) {
        for assignment_id in self.by_part.keys() {
            if let Some(unit_id) = part_unit(*assignment_id) {
                self.roll_part_into(colours, *assignment_id, unit_id);
            }
        }
    }

    /// Rolls the tasks of the part `assignment_id` (of `unit_id`) into its item's `colours`;
    /// and gives each unit holding a task the worst of its task's and those below it, as its
    /// view of the item (a sub-unit has no part to see).
    pub fn roll_part_into(&self, colours: &mut ItemColours, assignment_id: i64, unit_id: i64) {
        let tasks = self
            .by_part
            .get(&assignment_id)
            .map_or(&[][..], Vec::as_slice);
        let by_id: HashMap<i64, &Judged> = tasks.iter().map(|t| (t.task_id, t)).collect();
        for task in tasks {
            colours.add_task(
                assignment_id,
                unit_id,
                &task.unit_name,
                task.verdict.clone(),
            );
            colours.add_for_unit(task.unit_id, task.verdict.clone());
            if task.verdict.colour == ducha_domain::colour::Colour::None {
                continue;
            }
            let mut above = task.parent_task_id.and_then(|id| by_id.get(&id));
            // As deep as the organisation; the bound guards a stored loop.
            for _ in 0..16 {
                let Some(holder) = above else { break };
                let quiet = Verdict {
                    colour: ducha_domain::colour::Colour::None,
                    reason: String::new(),
                };
                let rolled = rolled_up(quiet, &task.unit_name, task.verdict.clone());
                colours.add_for_unit(holder.unit_id, rolled);
                above = holder.parent_task_id.and_then(|id| by_id.get(&id));
            }
        }
    }
}

impl TaskVerdicts {
    /// The open tasks' verdicts now — of every item, or of those `among`. Only tasks that may
    /// have a colour today are read (`OpenTasks::coloured_before`): the others are on
    /// schedule, so what is judged holds until the next local midnight at most.
    pub async fn open_now(
        db: &impl ConnectionTrait,
        rules: &Rules<'_>,
        among: Option<&[i64]>,
        now: DateTime<Utc>,
    ) -> AppResult<TaskVerdicts> {
        let horizon = colour_horizon(rules, now);
        let which = OpenTasks {
            among,
            coloured_before: horizon,
        };
        let (rows, items) = open_tasks(db, which).await?;
        let mut verdicts = TaskVerdicts::judge(rules, |id| items.get(&id), &rows, now);
        if horizon.is_some() {
            let tomorrow = now.with_timezone(&rules.time_zone).date_naive().succ_opt();
            let midnight = tomorrow.and_then(|d| local_midnight(rules, d));
            let midnight = midnight.unwrap_or(now + chrono::TimeDelta::hours(1));
            verdicts.holds_until = Some(verdicts.holds_until.map_or(midnight, |u| u.min(midnight)));
        }
        Ok(verdicts)
    }

    /// Replaces what is held of the items in `fresh` (judged again, of the items `touched`).
    pub fn replace(&mut self, touched: &[i64], fresh: TaskVerdicts) {
        for tasks in self.by_part.values_mut() {
            tasks.retain(|task| !touched.contains(&task.item_id));
        }
        self.by_part.retain(|_, tasks| !tasks.is_empty());
        for (part, tasks) in fresh.by_part {
            self.by_part.entry(part).or_default().extend(tasks);
        }
        self.holds_until = match (self.holds_until, fresh.holds_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// A task as it stood at `at` from its row's instants (handed down, signed, handed in,
/// closed or waived): `None` before it was handed down. What happened between is not
/// replayed: a report sent back after `at` counts (docs/rules.md §8).
pub fn task_as_of(task: &task::Model, at: DateTime<Utc>) -> Option<task::Model> {
    if task.created_at > at {
        return None;
    }
    if task.closed_at.is_some_and(|closed| closed <= at) {
        return Some(task.clone());
    }
    let feedback_at = task.feedback_at.filter(|f| *f <= at);
    let status = if feedback_at.is_some() {
        TaskStatus::FeedbackSubmitted
    } else if task.signed_at.is_some_and(|s| s <= at) {
        TaskStatus::Signed
    } else {
        TaskStatus::Assigned
    };
    Some(task::Model {
        status: status.as_str().to_string(),
        feedback_at,
        last_report_at: task.last_report_at.filter(|r| *r <= at),
        closed_at: None,
        ..task.clone()
    })
}
