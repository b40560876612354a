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

use super::sql::statement;
use crate::error::{AppError, AppResult};
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
    let backend = db.get_database_backend();
    let (lead_id, on_time) = match backend {
        sea_orm::DatabaseBackend::Postgres => (
            "CAST(e.details->>'assignmentId' AS BIGINT)",
            "CAST(CASE WHEN e.details->>'onTimeExtended' = 'true' THEN 1 ELSE 0 END AS BIGINT)",
        ),
        _ => (
            // `->>` (SQLite 3.38) rather than json_extract, whose `$` path the placeholder
            // rewriting would take for a parameter.
            "(e.details->>'assignmentId')",
            "CAST(CASE WHEN e.details->>'onTimeExtended' THEN 1 ELSE 0 END AS BIGINT)",
        ),
    };
    // A CLOSE row names the lead's assignment; one written before it did is matched to the
    // item's live lead.
    let sql = format!(
        "SELECT e.item_id, a.unit_id, e.at, {on_time} AS on_time FROM audit_event e \
         JOIN assignment a ON a.item_id = e.item_id AND a.lead = $3 \
          AND (a.id = {lead_id} OR ({lead_id} IS NULL AND a.status <> 'WITHDRAWN')) \
         WHERE e.action = 'CLOSE' AND e.at >= $1 AND e.at <= $2"
    );
    Ok(ClosureRow::find_by_statement(statement(
        backend,
        &sql,
        vec![Value::from(from), Value::from(to), Value::from(true)],
    ))
    .all(db)
    .await?
    .into_iter()
    .map(|row| ducha_report::Closure {
        item_id: row.item_id,
        unit_id: row.unit_id,
        at: row.at,
        on_time: row.on_time == 1,
    })
    .collect())
}

/// The units' colours in `month`'s latest published report (units without items that
/// month were not rated and are absent).
pub async fn unit_colours(
    db: &impl ConnectionTrait,
    month: Month,
) -> AppResult<HashMap<i64, Colour>> {
    let latest: Option<String> = monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::UnitColours)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
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
