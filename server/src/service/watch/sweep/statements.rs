//! A sweep's notices and their audit entries as bulk statements: the rows travel as one JSON
//! array a statement. The way on SQLite, and on PostgreSQL once a notice turned out to be on
//! record already, which these statements skip (`ON CONFLICT DO NOTHING`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};

use crate::error::{AppError, AppResult};
use crate::service::store::sql;
use crate::service::watch::sweep::rows::{
    AuditDetails, Decided, LARGE_STATEMENT_BYTES, notices_of,
};

/// A notice row as the bulk statement reads it from its one JSON parameter.
#[derive(serde::Serialize)]
struct NoticeRow<'a> {
    item_id: i64,
    assignment_id: i64,
    unit_id: i64,
    kind: &'a str,
    level: String,
    state: &'a str,
    reason: Option<String>,
}

/// A notice as written.
#[derive(Debug, FromQueryResult)]
pub struct WrittenNotice {
    pub item_id: i64,
    pub assignment_id: i64,
    pub kind: String,
    pub level: String,
    pub state: String,
    pub reason: Option<String>,
}

/// An audit entry of a notice, as the bulk statement reads it.
#[derive(serde::Serialize)]
pub struct NoticeAudit<'a> {
    pub item_id: i64,
    pub assignment_id: i64,
    pub title: Option<&'static str>,
    pub details: AuditDetails<'a>,
}

/// The batch's notices: each one to send, already `MAILED` (its mail is written in the same
/// transaction), and each skipped rung later decisions depend on. A notice already on
/// record (an item's change wrote it meanwhile) is left out by the unique key and not
/// returned, so it is not mailed again.
pub async fn insert_notices(
    txn: &impl ConnectionTrait,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[Decided],
) -> AppResult<Vec<WrittenNotice>> {
    let rows: Vec<NoticeRow> = batch
        .iter()
        .flat_map(|d| {
            notices_of(d, tz).into_iter().map(|n| NoticeRow {
                item_id: d.item_id,
                assignment_id: d.assignment_id,
                unit_id: d.unit_id,
                kind: n.rung.kind(),
                level: n.level,
                state: n.state,
                reason: n.reason,
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let rows = serde_json::to_string(&rows)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("notices as JSON: {e}")))?;
    if rows.len() > LARGE_STATEMENT_BYTES {
        // A first sweep of a large district binds megabytes here.
        crate::db::give_back_large_buffers();
    }
    let backend = txn.get_database_backend();
    // Not `sql::statement`: the SQLite text has `$` in its JSON paths.
    Ok(
        WrittenNotice::find_by_statement(Statement::from_sql_and_values(
            backend,
            insert_notices_sql(backend),
            [rows.into(), now.into()],
        ))
        .all(txn)
        .await?,
    )
}

pub async fn insert_audits(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    audits: &[NoticeAudit<'_>],
) -> AppResult<()> {
    if audits.is_empty() {
        return Ok(());
    }
    let audits = serde_json::to_string(audits)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("audit entries as JSON: {e}")))?;
    let backend = txn.get_database_backend();
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        insert_audits_sql(backend),
        [audits.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// What a mail shows of an item it lists.
#[derive(Debug, FromQueryResult)]
pub struct ItemText {
    pub id: i64,
    pub serial: String,
    pub title: String,
    pub requirements: String,
}

pub async fn item_texts(
    txn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, ItemText>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = txn.get_database_backend();
    let statement = sql::statement(backend, &item_texts_sql(backend), vec![sql::json_ids(ids)]);
    Ok(ItemText::find_by_statement(statement)
        .all(txn)
        .await?
        .into_iter()
        .map(|text| (text.id, text))
        .collect())
}

/// What a mail shows of the items in the JSON array of ids bound at `$1`; read through sea-orm
/// here, through sqlx in a `COPY` transaction (`copy::item_texts`).
pub fn item_texts_sql(backend: DbBackend) -> String {
    format!(
        "SELECT id, serial, title, requirements FROM item WHERE id IN {}",
        sql::json_ids_in(backend, 1)
    )
}

/// The batch's notices in one statement: the rows travel as one JSON array, which the
/// database expands (`json_to_recordset` on PostgreSQL, `json_each` on SQLite) — one bind
/// and one round trip for thousands of rows, where a multi-row `VALUES` bound nine values a
/// row and was built value by value. A notice already on record is skipped by the unique key
/// and not returned.
fn insert_notices_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "INSERT INTO notice (item_id, assignment_id, unit_id, kind, level, created_at, state, reason) \
             SELECT x.item_id, x.assignment_id, x.unit_id, x.kind, x.level, $2, x.state, x.reason \
             FROM json_to_recordset($1::json) AS x(item_id bigint, assignment_id bigint, unit_id bigint, \
                                                   kind text, level text, state text, reason text) \
             ON CONFLICT (assignment_id, kind, level) DO NOTHING \
             RETURNING item_id, assignment_id, kind, level, state, reason"
        }
        // `WHERE true`: without it SQLite reads `ON CONFLICT` as the SELECT's join.
        _ => {
            "INSERT INTO notice (item_id, assignment_id, unit_id, kind, level, created_at, state, reason) \
             SELECT json_extract(value, '$.item_id'), json_extract(value, '$.assignment_id'), \
                    json_extract(value, '$.unit_id'), json_extract(value, '$.kind'), \
                    json_extract(value, '$.level'), ?2, json_extract(value, '$.state'), \
                    json_extract(value, '$.reason') \
             FROM json_each(?1) WHERE true \
             ON CONFLICT (assignment_id, kind, level) DO NOTHING \
             RETURNING item_id, assignment_id, kind, level, state, reason"
        }
    }
}

/// The notices' audit entries in one statement, as [`insert_notices_sql`].
fn insert_audits_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "INSERT INTO audit_event (item_id, assignment_id, actor_id, at, action, from_stage, to_stage, reason, details) \
             SELECT x.item_id, x.assignment_id, NULL, $2, 'NOTICE', NULL, NULL, x.title, x.details \
             FROM json_to_recordset($1::json) AS x(item_id bigint, assignment_id bigint, title text, details json)"
        }
        _ => {
            "INSERT INTO audit_event (item_id, assignment_id, actor_id, at, action, from_stage, to_stage, reason, details) \
             SELECT json_extract(value, '$.item_id'), json_extract(value, '$.assignment_id'), NULL, ?2, 'NOTICE', \
                    NULL, NULL, json_extract(value, '$.title'), json_extract(value, '$.details') \
             FROM json_each(?1)"
        }
    }
}
