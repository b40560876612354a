//! Whole-table reads of the SQLite file on a blocking thread, handed over in batches.
//!
//! sqlx's SQLite driver passes each row from its worker thread to the async task through a
//! channel: a wake-up of the other thread and a copy of every value, per row. The sweep's
//! query over 100,000 open assignments took 3–8× as long through it as through the
//! `sqlite3` client reading the same rows (BENCHMARKS.md), which issue 9 bounds at 2×. The
//! reads that walk every open assignment (the sweep, the board, the live colours) open the
//! database file here instead, with rusqlite on a blocking thread, and hand the rows over a
//! thousand at a time. In WAL mode this reader runs beside the pool's writer and sees one
//! snapshot, as a single statement through the pool would. A private in-memory database
//! (`sqlite::memory:`) has no file to open; its readers go through sqlx.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// Rows handed over at a time: enough that the hand-over costs nothing per row, few enough
/// that a batch is a few hundred kilobytes.
const BATCH: usize = 1_024;

/// The file of the SQLite database behind `db`; `None` for PostgreSQL and for a database
/// in memory.
pub async fn database_file(db: &DatabaseConnection) -> Result<Option<PathBuf>, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
        ))
        .await?;
    let file: Option<String> = row.map(|r| r.try_get("", "file")).transpose()?;
    Ok(file.filter(|f| !f.is_empty()).map(PathBuf::from))
}

/// Decodes one row of a statement, by column position.
pub type Decode<T> = fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>;

/// The rows of `sql` (SQLite's `?1`, `?2`… bound to `params` as text) read from `file`, one at a
/// time to the consumer but read and handed over in batches. Dropping the stream stops
/// the read.
pub fn rows<T: Send + 'static>(
    file: PathBuf,
    sql: String,
    params: Vec<String>,
    decode: Decode<T>,
) -> BoxStream<'static, Result<T, DbErr>> {
    let (batches, received) = tokio::sync::mpsc::channel::<Result<Vec<T>, DbErr>>(4);
    tokio::task::spawn_blocking(move || {
        let read = || -> rusqlite::Result<()> {
            let connection = rusqlite::Connection::open_with_flags(
                &file,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            connection.busy_timeout(Duration::from_secs(10))?;
            let mut statement = connection.prepare(&sql)?;
            let mut rows = statement.query(rusqlite::params_from_iter(params))?;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(row) = rows.next()? {
                batch.push(decode(row)?);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if batches.blocking_send(Ok(full)).is_err() {
                        // The reader stopped listening.
                        return Ok(());
                    }
                }
            }
            if !batch.is_empty() {
                let _ = batches.blocking_send(Ok(batch));
            }
            Ok(())
        };
        if let Err(error) = read() {
            let _ = batches.blocking_send(Err(DbErr::Custom(format!(
                "reading {}: {error}",
                file.display()
            ))));
        }
    });
    futures_util::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|batch| (batch, received))
    })
    .map_ok(|batch| futures_util::stream::iter(batch.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}

/// A timestamp as sqlx writes it to SQLite (RFC 3339, `2026-10-12T00:30:00+00:00`), or as
/// SQLite's own functions do (`2026-10-12 00:30:00`, UTC).
pub fn timestamp(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<DateTime<Utc>> {
    optional_timestamp(row, column)?.ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(column, "NULL".into(), rusqlite::types::Type::Null)
    })
}

/// As [`timestamp`], NULL allowed.
pub fn optional_timestamp(
    row: &rusqlite::Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let Some(text) = row.get_ref(column)?.as_str_or_null()? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%F %T%.f").map(|t| t.and_utc()))
        .map(Some)
        .map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(
                column,
                rusqlite::types::Type::Text,
                Box::new(error),
            )
        })
}

/// The text sqlx binds for a timestamp, so that comparisons with stored text agree.
pub fn timestamp_parameter(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// A row read by column position, whichever reader holds it: rusqlite's (the SQLite file,
/// above) or the pool's (sqlx, on either database). A row shape has one decoder, written
/// against this, so the two readers cannot drift apart; a value that does not decode is an
/// error naming its column, never a default.
pub trait Columns {
    /// An integer column of any width (SQLite's INTEGER, PostgreSQL's INT4 and INT8).
    fn int(&self, at: usize) -> Result<Option<i64>, String>;
    fn text(&self, at: usize) -> Result<Option<String>, String>;
    fn flag(&self, at: usize) -> Result<Option<bool>, String>;
    fn time(&self, at: usize) -> Result<Option<DateTime<Utc>>, String>;

    /// A column that may not be NULL.
    fn required<T>(
        &self,
        at: usize,
        read: impl Fn(&Self, usize) -> Result<Option<T>, String>,
    ) -> Result<T, String> {
        read(self, at)?.ok_or_else(|| format!("column {at} is NULL"))
    }
}

impl Columns for rusqlite::Row<'_> {
    fn int(&self, at: usize) -> Result<Option<i64>, String> {
        self.get(at).map_err(|e| format!("column {at}: {e}"))
    }

    fn text(&self, at: usize) -> Result<Option<String>, String> {
        self.get(at).map_err(|e| format!("column {at}: {e}"))
    }

    fn flag(&self, at: usize) -> Result<Option<bool>, String> {
        self.get(at).map_err(|e| format!("column {at}: {e}"))
    }

    fn time(&self, at: usize) -> Result<Option<DateTime<Utc>>, String> {
        optional_timestamp(self, at).map_err(|e| format!("column {at}: {e}"))
    }
}

impl Columns for sea_orm::QueryResult {
    fn int(&self, at: usize) -> Result<Option<i64>, String> {
        self.try_get_by_index::<Option<i64>>(at).or_else(|_| {
            self.try_get_by_index::<Option<i32>>(at)
                .map(|n| n.map(i64::from))
                .map_err(|e| format!("column {at}: {e}"))
        })
    }

    fn text(&self, at: usize) -> Result<Option<String>, String> {
        self.try_get_by_index(at)
            .map_err(|e| format!("column {at}: {e}"))
    }

    fn flag(&self, at: usize) -> Result<Option<bool>, String> {
        self.try_get_by_index(at)
            .map_err(|e| format!("column {at}: {e}"))
    }

    fn time(&self, at: usize) -> Result<Option<DateTime<Utc>>, String> {
        self.try_get_by_index(at)
            .map_err(|e| format!("column {at}: {e}"))
    }
}
