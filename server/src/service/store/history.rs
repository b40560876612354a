//! The past as it was recorded: an item's stage at an instant, rewound from the append-only
//! audit trail, and the units' colours as a month's report published them. Reports and
//! dashboards asked about an earlier instant read these instead of today's rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::colour::Colour;
use ducha_domain::{SourceKind, Stage};
use ducha_report::Month;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Value,
};

use crate::error::{AppError, AppResult};
use crate::service::store::sql::statement;
use entity::{item, monthly_report};

#[derive(FromQueryResult)]
struct StageRewind {
    item_id: i64,
    from_stage: Option<String>,
}

/// The stage of every item whose stage changed at or after `at`, as it was just before:
/// the `from` of its first change since (none for an item registered since). Items not
/// listed are still in the stage they were in at `at`. For a period that ends at `at`
/// (exclusive), as a month does.
pub async fn stages_before(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> Result<HashMap<i64, Option<String>>, sea_orm::DbErr> {
    rewind(db, at, ">=").await
}

/// As [`stages_before`], for the state *at* `at`: changes made at that very instant count
/// as done (a dashboard asked about now sees what was just done now).
pub async fn stages_at(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> Result<HashMap<i64, Option<String>>, sea_orm::DbErr> {
    rewind(db, at, ">").await
}

async fn rewind(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    after: &str,
) -> Result<HashMap<i64, Option<String>>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let mut stages: HashMap<i64, Option<String>> = HashMap::new();
    for row in StageRewind::find_by_statement(statement(
        backend,
        &format!(
            "SELECT item_id, from_stage FROM audit_event \
             WHERE to_stage IS NOT NULL AND item_id IS NOT NULL AND at {after} $1 ORDER BY at, id"
        ),
        vec![Value::from(at)],
    ))
    .all(db)
    .await?
    {
        stages.entry(row.item_id).or_insert(row.from_stage);
    }
    Ok(stages)
}

#[derive(FromQueryResult)]
struct ClosureRow {
    item_id: i64,
    unit_id: i64,
    at: DateTime<Utc>,
    on_time: i64,
    on_time_original: i64,
}

/// Every 销号 in `[from, to]`, from the CLOSE rows of the audit trail: the lead unit then
/// and whether the accepted report was on time against the due in force (the facts the
/// CLOSE row froze). A later 回头看 does not take a closure back (docs/rules.md §3: the
/// on-time window), and the board and the monthly report read the same rows.
pub async fn closures(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ducha_report::Closure>, sea_orm::DbErr> {
    closures_among(db, from, to, None).await
}

/// [`closures`] of the items `among` only (all when `None`): the board's, for the items a
/// change touched.
pub async fn closures_among(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    among: Option<&[i64]>,
) -> Result<Vec<ducha_report::Closure>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let flag = |key: &str| match backend {
        sea_orm::DatabaseBackend::Postgres => {
            format!("CAST(CASE WHEN e.details->>'{key}' = 'true' THEN 1 ELSE 0 END AS BIGINT)")
        }
        // `->>` (SQLite 3.38) rather than json_extract, whose `$` path the placeholder
        // rewriting would take for a parameter.
        _ => format!("CAST(CASE WHEN e.details->>'{key}' THEN 1 ELSE 0 END AS BIGINT)"),
    };
    let lead_id = match backend {
        sea_orm::DatabaseBackend::Postgres => "CAST(e.details->>'assignmentId' AS BIGINT)",
        _ => "(e.details->>'assignmentId')",
    };
    let (on_time, on_time_original) = (flag("onTimeExtended"), flag("onTimeOriginal"));
    // A CLOSE row names the lead's assignment; one written before it did is matched to the
    // item's live lead.
    let sql = format!(
        "SELECT e.item_id, a.unit_id, e.at, {on_time} AS on_time, \
         {on_time_original} AS on_time_original FROM audit_event e \
         JOIN assignment a ON a.item_id = e.item_id AND a.lead = $3 \
          AND (a.id = {lead_id} OR ({lead_id} IS NULL AND a.status <> 'WITHDRAWN')) \
         WHERE e.action = 'CLOSE' AND e.at >= $1 AND e.at <= $2{among_clause}",
        among_clause = if among.is_some() {
            format!(
                " AND e.item_id IN {}",
                crate::service::store::sql::json_ids_in(backend, 4)
            )
        } else {
            String::new()
        }
    );
    let mut values = vec![Value::from(from), Value::from(to), Value::from(true)];
    values.extend(among.map(crate::service::store::sql::json_ids));
    Ok(
        ClosureRow::find_by_statement(statement(backend, &sql, values))
            .all(db)
            .await?
            .into_iter()
            .map(|row| ducha_report::Closure {
                item_id: row.item_id,
                unit_id: row.unit_id,
                at: row.at,
                on_time: row.on_time == 1,
                on_time_original: row.on_time_original == 1,
            })
            .collect(),
    )
}

#[derive(FromQueryResult)]
struct DueRow {
    assignment_id: Option<i64>,
    action: String,
    details: serde_json::Value,
}

/// The dues of every assignment whose dues changed after `at`, as they stood at `at`: the
/// "before" of the first change after it (`crate::service::store::dues`). Assignments not listed had the
/// dues they have now. Rows written before changes recorded their "before" (a resumption's
/// `moved`, a recalculation's `oldDueAt`) give the due and leave the extended due as the
/// approvals say (`extensions_as_of`).
pub async fn dues_at(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> Result<HashMap<i64, DuesThen>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let rows = DueRow::find_by_statement(statement(
        backend,
        "SELECT assignment_id, action, details FROM audit_event \
         WHERE at > $1 AND action IN ('RESUME', 'RECALCULATE_DUE', 'DECIDE_EXTENSION', 'REOPEN') \
         ORDER BY at, id",
        vec![Value::from(at)],
    ))
    .all(db)
    .await?;
    let mut then: HashMap<i64, DuesThen> = HashMap::new();
    for row in rows {
        let changes = crate::service::store::dues::changes_in(&row.details);
        if !changes.is_empty() {
            for change in changes {
                then.entry(change.assignment_id).or_insert(DuesThen {
                    due_at: change.before.due_at,
                    extended_due_at: Some(change.before.extended_due_at),
                });
            }
            continue;
        }
        // Rows from before the dues were recorded in one shape.
        let legacy: Vec<(i64, DateTime<Utc>)> = match row.action.as_str() {
            "RESUME" => row.details["moved"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    Some((
                        m["assignmentId"].as_i64()?,
                        serde_json::from_value(m["oldDueAt"].clone()).ok()?,
                    ))
                })
                .collect(),
            "RECALCULATE_DUE" => row
                .assignment_id
                .zip(serde_json::from_value(row.details["oldDueAt"].clone()).ok())
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        for (assignment_id, due_at) in legacy {
            then.entry(assignment_id).or_insert(DuesThen {
                due_at,
                extended_due_at: None,
            });
        }
    }
    Ok(then)
}

/// An assignment's dues at an earlier instant; `extended_due_at` is `None` where the row
/// that says so did not record it.
#[derive(Debug, Clone, Copy)]
pub struct DuesThen {
    pub due_at: DateTime<Utc>,
    pub extended_due_at: Option<Option<DateTime<Utc>>>,
}

impl DuesThen {
    /// Sets an assignment's dues to those it had then.
    pub fn apply(&self, due_at: &mut DateTime<Utc>, extended_due_at: &mut Option<DateTime<Utc>>) {
        *due_at = self.due_at;
        if let Some(extended) = self.extended_due_at {
            *extended_due_at = extended;
        }
    }
}

#[derive(FromQueryResult)]
struct WithdrawnRow {
    details: serde_json::Value,
}

/// The assignments withdrawn (改派 away) after `at`: live at `at`, whatever their status now.
pub async fn withdrawn_after(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> Result<std::collections::HashSet<i64>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    Ok(WithdrawnRow::find_by_statement(statement(
        backend,
        "SELECT details FROM audit_event WHERE action = 'REASSIGN' AND at > $1",
        vec![Value::from(at)],
    ))
    .all(db)
    .await?
    .into_iter()
    .filter_map(|row| row.details["assignmentId"].as_i64())
    .collect())
}

/// The units' colours in `month`'s latest published report (units without items that
/// month were not rated and are absent).
/// Only versions published by `as_of` count: a board asked about an instant before the
/// report came out shows what it showed then.
pub async fn unit_colours(
    db: &impl ConnectionTrait,
    month: Month,
    as_of: DateTime<Utc>,
) -> AppResult<HashMap<i64, Colour>> {
    let latest: Option<String> = monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::UnitColours)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .filter(monthly_report::Column::CreatedAt.lte(as_of))
        .order_by_desc(monthly_report::Column::Version)
        .into_tuple()
        .one(db)
        .await?;
    let Some(text) = latest else {
        return Ok(HashMap::new());
    };
    let colours: HashMap<String, Colour> = serde_json::from_str(&text).map_err(|e| {
        AppError::Internal(anyhow::anyhow!("unit colours of {month} unreadable: {e}"))
    })?;
    Ok(colours
        .into_iter()
        .filter_map(|(unit, colour)| Some((unit.parse().ok()?, colour)))
        .collect())
}

/// How many items there were in each stage and of each source kind at `at`: the items that
/// existed then, in the stage they were in then.
pub async fn stage_and_kind_counts_at(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> AppResult<(HashMap<Stage, usize>, HashMap<SourceKind, usize>)> {
    let rewound = stages_at(db, at).await?;
    let all: Vec<(i64, String, String, DateTime<Utc>)> = item::Entity::find()
        .select_only()
        .columns([
            item::Column::Id,
            item::Column::Stage,
            item::Column::SourceKind,
            item::Column::CreatedAt,
        ])
        .into_tuple()
        .all(db)
        .await?;
    let mut by_stage: HashMap<Stage, usize> = HashMap::new();
    let mut by_kind: HashMap<SourceKind, usize> = HashMap::new();
    for (id, stage, kind, created_at) in &all {
        let stage = match rewound.get(id) {
            Some(Some(before)) => before.as_str(),
            Some(None) => continue,
            None if *created_at > at => continue,
            None => stage.as_str(),
        };
        if let Some(stage) = Stage::parse(stage) {
            *by_stage.entry(stage).or_default() += 1;
        }
        if let Some(kind) = SourceKind::parse(kind) {
            *by_kind.entry(kind).or_default() += 1;
        }
    }
    Ok((by_stage, by_kind))
}
