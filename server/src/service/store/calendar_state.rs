//! Which calendar the stored dues rest on, kept in one row (`calendar_state`), so that no due
//! is written on a calendar already superseded (issue 30, item 9; docs/rules.md §2).
//!
//! A calendar change takes the row for writing first thing in its transaction and records
//! the new calendar's version with the recalculated dues. A verb that writes dues takes the
//! row for reading before it claims its item (`verb::Verb::claim`): on PostgreSQL it waits
//! for a change in flight, then reads the version committed; on SQLite the write lock taken
//! at BEGIN IMMEDIATE already orders the two. A verb whose kept calendar is not the one in
//! force (a change that just committed, or one made through another instance) counts on the
//! calendar rebuilt from the database instead. Either the change's recalculation sees the
//! verb's dues, or the verb counts on the changed calendar: never neither.
//!
//! On PostgreSQL the waiting is an advisory lock, not the row's: a change takes it exclusive,
//! a verb shared. Every verb taking the one row `FOR SHARE` made PostgreSQL record the
//! sharers in a MultiXact, a write to the row and to `pg_multixact` each time: with 8
//! connections a transaction of that read alone ran at 7,000 a second, against 16,000 with
//! the advisory lock and a plain read (pgbench, BENCHMARKS.md). The version is read in a
//! statement after the lock's, so that its snapshot is taken once any change has committed.

use chrono::{DateTime, Utc};
use ducha_calendar::Calendar;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, FromQueryResult, Value};

use crate::calendar_store::CalendarStore;
use crate::error::AppResult;
use crate::service::store::sql::statement;

#[derive(FromQueryResult)]
struct StateRow {
    version: String,
}

/// Takes the row for writing (creating it on first use): a calendar change holds it until it
/// commits, and verbs that write dues wait for it.
pub async fn lock_for_change(txn: &DatabaseTransaction, now: DateTime<Utc>) -> AppResult<()> {
    let backend = txn.get_database_backend();
    advisory_lock(txn, "pg_advisory_xact_lock").await?;
    txn.execute_raw(statement(
        backend,
        "INSERT INTO calendar_state (id, version, changed_at) VALUES (1, '', $1) \
         ON CONFLICT (id) DO NOTHING",
        vec![Value::from(now)],
    ))
    .await?;
    txn.execute_raw(statement(
        backend,
        "UPDATE calendar_state SET changed_at = $1 WHERE id = 1",
        vec![Value::from(now)],
    ))
    .await?;
    Ok(())
}

/// Records the version of the calendar the change's dues were recalculated on.
pub async fn record(txn: &DatabaseTransaction, version: &str) -> AppResult<()> {
    txn.execute_raw(statement(
        txn.get_database_backend(),
        "UPDATE calendar_state SET version = $1 WHERE id = 1",
        vec![Value::from(version.to_string())],
    ))
    .await?;
    Ok(())
}

/// The advisory lock a calendar change holds exclusive and a verb shared (PostgreSQL).
const CALENDAR_LOCK_KEY: i64 = 0x6475_6368_6300_0000;

/// Takes the calendar's advisory lock with `function` (exclusive or shared, held until the
/// transaction ends) on PostgreSQL; SQLite's writer already holds the database.
async fn advisory_lock(txn: &impl ConnectionTrait, function: &str) -> AppResult<()> {
    let backend = txn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        txn.execute_raw(statement(
            backend,
            &format!("SELECT {function}($1)"),
            vec![Value::from(CALENDAR_LOCK_KEY)],
        ))
        .await?;
    }
    Ok(())
}

/// The version in force, read so that a change in flight is waited for (PostgreSQL's shared
/// advisory lock, then the read in a statement of its own; SQLite's writer already holds the
/// database).
pub async fn version_in_force(txn: &impl ConnectionTrait) -> AppResult<Option<String>> {
    let backend = txn.get_database_backend();
    advisory_lock(txn, "pg_advisory_xact_lock_shared").await?;
    Ok(StateRow::find_by_statement(statement(
        backend,
        "SELECT version FROM calendar_state WHERE id = 1",
        Vec::new(),
    ))
    .one(txn)
    .await?
    .map(|row| row.version))
}

/// The calendar a verb in `txn` must count on: `None` when its kept one is the one in force,
/// else the calendar rebuilt from the database inside the transaction.
pub async fn calendar_for_verb(
    txn: &DatabaseTransaction,
    kept: &Calendar,
) -> AppResult<Option<Calendar>> {
    match version_in_force(txn).await? {
        Some(version) if version != kept.version() && !version.is_empty() => {
            Ok(Some(CalendarStore::build_from(txn).await?))
        }
        _ => Ok(None),
    }
}
