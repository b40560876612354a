//! Statements and transactions that read the same on SQLite and PostgreSQL.

use sea_orm::{DbBackend, Statement};

use crate::error::AppResult;

/// A raw statement written with PostgreSQL's numbered parameters (`$1`, `$2`…, each usable
/// more than once), rewritten to SQLite's `?1`, `?2`… for SQLite. The SQL must not contain
/// `$` otherwise.
pub fn statement(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_string()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `(SELECT …)` of the ids in the JSON array bound at `$n` (see [`json_ids`]), for
/// `IN …`: one bind however many ids, and one statement text for the prepared-statement
/// caches whatever their count.
pub fn json_ids_in(backend: DbBackend, n: usize) -> String {
    if backend == DbBackend::Postgres {
        format!("(SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(${n} AS JSON)))")
    } else {
        format!("(SELECT value FROM json_each(${n}))")
    }
}

/// The value [`json_ids_in`] expands: the ids as a JSON array.
pub fn json_ids(ids: &[i64]) -> sea_orm::Value {
    let mut text = String::with_capacity(ids.len() * 8 + 2);
    text.push('[');
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        text.push_str(&id.to_string());
    }
    text.push(']');
    sea_orm::Value::from(text)
}

/// `statement` with its last bound value, the `LIMIT limit` of a subquery that closes right
/// after it (`… LIMIT $n)`), written into the text instead: PostgreSQL plans a statement
/// with a bound `LIMIT` again at every execution (its generic plan guesses a tenth of the
/// table), 0.5 ms for a page of the item list; with the number in the text it keeps one plan.
/// The limit is a number the server chose, never a reader's text. A statement of any other
/// shape is returned as it was.
pub fn literal_last_limit(mut statement: Statement, limit: u64) -> Statement {
    let Some(values) = statement.values.as_mut() else {
        return statement;
    };
    if values.0.last() != Some(&sea_orm::Value::BigUnsigned(Some(limit))) {
        return statement;
    }
    let placeholder = match statement.db_backend {
        DbBackend::Postgres => format!(" LIMIT ${})", values.0.len()),
        _ => " LIMIT ?)".to_owned(),
    };
    let Some(at) = statement.sql.rfind(&placeholder) else {
        return statement;
    };
    // The bound value must be the text's last parameter, and the text's last `$` or `?`.
    let last_parameter = statement.sql.rfind(['$', '?']);
    if last_parameter != Some(at + " LIMIT ".len()) {
        return statement;
    }
    values.0.pop();
    statement
        .sql
        .replace_range(at..at + placeholder.len(), &format!(" LIMIT {limit})"));
    statement
}

/// Ids per `IN (…)` list.
pub const IN_CHUNK: usize = 10_000;

/// Runs `query` over `ids` in chunks, so that a sweep over a million items never builds one
/// `IN (…)` list beyond the databases' bind-parameter limits (SQLite 32,766; PostgreSQL 65,535).
pub async fn in_chunks<T, F, Fut>(ids: &[i64], query: F) -> AppResult<Vec<T>>
where
    F: Fn(Vec<i64>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, sea_orm::DbErr>>,
{
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        out.extend(query(chunk.to_vec()).await?);
    }
    Ok(out)
}

/// Rows a long pass handles between yields to the runtime.
const ROWS_PER_YIELD: u32 = 256;

/// Paces a long pass over streamed rows (the live colour refresh, the board, the sweep, a
/// monthly report). Rows arrive faster than they are judged, so the stream is always ready
/// and such a pass would hold its worker thread from its first row to its last; a request
/// queued behind it waited that long (at one connection, p99 of `items` with colours rose
/// to 80 ms while the live tail's minute refresh ran). Every few hundred rows it lets the
/// other tasks run.
#[derive(Default)]
pub struct Pacer(u32);

impl Pacer {
    pub async fn row(&mut self) {
        self.0 += 1;
        if self.0.is_multiple_of(ROWS_PER_YIELD) {
            tokio::task::yield_now().await;
        }
    }
}

/// A committed write of one probe row, for `/healthz`: on a full disk the commit fails while
/// reads still answer. Its own row, so that it never waits on a verb or a calendar change;
/// as large as a typical verb's write (a few pages), so that a disk with room for a tiny
/// write but not for real work still says so.
pub async fn write_probe(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::TransactionTrait;
    const PROBE_BYTES: usize = 16 * 1024;
    let txn = db.begin().await?;
    let backend = sea_orm::ConnectionTrait::get_database_backend(&txn);
    // Different text each time, so that the pages are written, not found unchanged.
    let pad = now.timestamp_micros().to_string().repeat(PROBE_BYTES / 16);
    sea_orm::ConnectionTrait::execute_raw(
        &txn,
        statement(
            backend,
            "INSERT INTO health_probe (id, at, pad) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
            vec![sea_orm::Value::from(now), sea_orm::Value::from(pad)],
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::item;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

    fn page_statement(backend: DbBackend, limit: u64) -> Statement {
        let ids = item::Entity::find()
            .select_only()
            .column(item::Column::Id)
            .filter(item::Column::Title.contains("督查"))
            .order_by_desc(item::Column::Id)
            .limit(limit);
        item::Entity::find()
            .filter(item::Column::Id.in_subquery(ids.into_query()))
            .order_by_asc(item::Column::Id)
            .build(backend)
    }

    #[test]
    fn a_subquery_limit_bound_last_is_written_into_the_text() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let bound = page_statement(backend, 51);
            let written = literal_last_limit(bound.clone(), 51);
            assert!(written.sql.contains(" LIMIT 51)"), "{}", written.sql);
            assert_eq!(written.sql.matches(" LIMIT ").count(), 1, "{}", written.sql);
            let (before, after) = (
                bound.values.expect("values").0,
                written.values.expect("values").0,
            );
            assert_eq!(after.len(), before.len() - 1, "{backend:?}");
            assert_eq!(
                after[..],
                before[..before.len() - 1],
                "the other values stay"
            );
        }
    }

    #[test]
    fn a_statement_of_another_shape_is_left_as_it_was() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            // Another number than the one bound.
            let bound = page_statement(backend, 21);
            assert_eq!(literal_last_limit(bound.clone(), 51).sql, bound.sql);
            // A limit that is not a subquery's.
            let outer = item::Entity::find()
                .filter(item::Column::Title.contains("督查"))
                .limit(51)
                .build(backend);
            let left = literal_last_limit(outer.clone(), 51);
            assert_eq!(left.sql, outer.sql);
            assert_eq!(left.values, outer.values);
        }
    }
}
