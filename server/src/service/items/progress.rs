//! 进展反馈, the write units make most, in as few round trips as the database allows (issue
//! 32: on two cores a write costs what its round trips cost, and each one a read's worth).
//!
//! What it writes is always the same three rows: the report, the report cycle it restarts on
//! the unit's assignment (`last_report_at`, only ever later), and its audit row
//! (`REPORT_PROGRESS`, `{"reportId":…}`, no stages), its details in the very text every
//! other audit row's have on that database (PostgreSQL keeps a `json` column's text as
//! written: sea-orm's rows pass through `jsonb`, so these do too). Two paths write them:
//!
//! - [`file_at_once`], PostgreSQL, no files: one statement of data-modifying CTEs, committed
//!   on its own, that files the report only if the unit holds a live part of the item and the
//!   item is in a stage the domain takes a progress report in. It answers `None` when it
//!   filed nothing, and the verb's general path then finds the reason (NOT_FOUND, FORBIDDEN,
//!   INVALID_TRANSITION) and answers it.
//! - [`file_in`], inside a verb's write (`Verb::open_own`): the three rows in one statement on
//!   PostgreSQL, and three statements sent together on SQLite, which has no data-modifying
//!   CTEs and whose round trips are calls into its worker thread.

use std::sync::LazyLock;

use ducha_domain::{Action, Stage};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, Value};

use crate::changes::Change;
use crate::error::{AppError, AppResult};
use crate::service::items::verb::{Verb, Write};
use crate::service::store::sql::statement;
use entity::{assignment, report};

/// The three rows as PostgreSQL's CTEs, after a first CTE `part` that names the item, its
/// assignment and the unit's report: `WITH part AS (…), ` goes before.
const FILE_FROM_PART: &str = "\
    filed AS (\
      INSERT INTO report (item_id, assignment_id, kind, body, author_id, created_at) \
      SELECT item_id, assignment_id, 'PROGRESS', $3, $4, $5 FROM part RETURNING *), \
    cycle AS (\
      UPDATE assignment SET last_report_at = $5 \
      WHERE id = (SELECT assignment_id FROM filed) \
        AND (last_report_at IS NULL OR last_report_at < $5)), \
    trail AS (\
      INSERT INTO audit_event (item_id, assignment_id, actor_id, at, action, details) \
      SELECT item_id, assignment_id, author_id, created_at, $6, \
             CAST(jsonb_build_object('reportId', id) AS JSON) FROM filed) \
    SELECT * FROM filed";

/// [`file_at_once`]'s statement: the part is the unit's live assignment on the item, in a
/// stage the domain takes a progress report in (written into the text from the domain's own
/// table: a list of our constants, not input).
static AT_ONCE: LazyLock<String> = LazyLock::new(|| {
    let stages: Vec<String> = Stage::ALL
        .into_iter()
        .filter(|stage| Action::ReportProgress.next_stage(*stage, None).is_ok())
        .map(|stage| format!("'{}'", stage.as_str()))
        .collect();
    format!(
        "WITH part AS (\
           SELECT a.item_id, a.id AS assignment_id FROM assignment a \
           JOIN item i ON i.id = a.item_id \
           WHERE a.item_id = $1 AND a.unit_id = $2 AND a.status <> 'WITHDRAWN' \
             AND i.stage IN ({})), {FILE_FROM_PART}",
        stages.join(", ")
    )
});

/// Files the report in one statement committed on its own (PostgreSQL), or `None` when the
/// actor's unit holds no live part of the item in a stage that takes a report: then nothing
/// was written, and the general path answers why. Publishes the item's change once the
/// statement has returned, as every verb's commit does.
pub async fn file_at_once(
    verb: &Verb<'_>,
    item_id: i64,
    body: &str,
) -> AppResult<Option<report::Model>> {
    let db = verb.cx.db;
    let Some(unit_id) = verb.cx.actor.own_unit() else {
        return Ok(None);
    };
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(None);
    }
    let values = vec![
        item_id.into(),
        unit_id.into(),
        body.into(),
        verb.cx.actor.person_id.into(),
        verb.cx.now.into(),
        verb.action.name().into(),
    ];
    let mut filed = None;
    // Outside a transaction the statement is its own, committed before it answers; the
    // change is published also when the answer is lost, since the commit may have happened.
    verb.cx
        .changes
        .commit(
            async {
                filed =
                    returned(db, statement(db.get_database_backend(), &AT_ONCE, values)).await?;
                Ok(())
            },
            Change::Items(vec![item_id]),
        )
        .await?;
    Ok(filed)
}

/// Files the report inside the verb's write, on the part `mine` read with it.
pub async fn file_in(
    write: &Write<'_>,
    mine: &assignment::Model,
    body: &str,
) -> AppResult<report::Model> {
    let backend = write.txn.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        format!(
            "WITH part AS (SELECT $1::BIGINT AS item_id, $2::BIGINT AS assignment_id), {FILE_FROM_PART}"
        )
    } else {
        "INSERT INTO report (item_id, assignment_id, kind, body, author_id, created_at) \
         VALUES ($1, $2, 'PROGRESS', $3, $4, $5) RETURNING *; \
         UPDATE assignment SET last_report_at = $5 \
         WHERE id = $2 AND (last_report_at IS NULL OR last_report_at < $5); \
         INSERT INTO audit_event (item_id, assignment_id, actor_id, at, action, details) \
         VALUES ($1, $2, $4, $5, $6, '{\"reportId\":' || last_insert_rowid() || '}')"
            .to_string()
    };
    let values: Vec<Value> = vec![
        mine.item_id.into(),
        mine.id.into(),
        body.into(),
        write.cx.actor.person_id.into(),
        write.cx.now.into(),
        write.action.name().into(),
    ];
    returned(&write.txn, statement(backend, &sql, values))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the report filed was not returned")))
}

/// The report a filing statement returns, if it filed one. Every row is read, not the
/// first: SQLite stops a list of statements at the first row asked for.
async fn returned(
    db: &impl ConnectionTrait,
    statement: sea_orm::Statement,
) -> Result<Option<report::Model>, sea_orm::DbErr> {
    let rows = db.query_all_raw(statement).await?;
    rows.first()
        .map(|row| report::Model::from_query_result(row, ""))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_filed_only_in_the_stages_the_domain_takes_one_in() {
        let text = AT_ONCE.as_str();
        assert!(text.contains("i.stage IN ('ASSIGNED', 'IN_PROGRESS', 'FEEDBACK_SUBMITTED')"));
        for refused in ["REGISTERED", "VERIFIED", "CLOSED", "SUSPENDED", "CANCELLED"] {
            assert!(!text.contains(&format!("'{refused}'")), "{refused}");
        }
    }
}
