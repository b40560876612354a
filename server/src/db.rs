//! Connecting to SQLite (default, embedded) or PostgreSQL, and migrating on start.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::config::Settings;

pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = &settings.database_url;
    let sqlite = url.starts_with("sqlite:");
    if sqlite && !url.contains(":memory:") {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data folder {}", settings.data_dir.display()))?;
    }
    let mut options = ConnectOptions::new(url.clone());
    // sqlx pings every connection it hands out by default: a second round trip per
    // statement, which made up half of a small API request's database time. Only a
    // connection idle long enough to have been dropped (a database restart, a firewall)
    // is pinged now; a hot one goes straight to its statement.
    options
        .connect_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if sqlite {
        // sea-orm defaults SQLite to one connection; WAL lets readers run beside the writer.
        // An in-memory database lives as long as one connection does, so keep one open.
        options
            .max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                // WAL with synchronous=FULL: a commit is on the disk (its WAL frames
                // fsynced) before it is answered, so that a power cut loses no write that
                // was answered OK. Writes are committed in groups, one fsync for all of a
                // group (`service::store::write`), which is what makes this affordable.
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
            })
            .map_sqlx_sqlite_pool_opts(|pool| pool.after_release(close_if_left_in_transaction));
    } else {
        // sqlx sets TCP_NODELAY on its sockets again since 0.9.1 (launchbadge/sqlx#4336);
        // 0.9.0 did not, and every multi-row statement waited for a delayed ACK (40 ms).
        // tests/api/health.rs holds every pooled connection to it.
        options
            .max_connections(settings.db_pool)
            .map_sqlx_postgres_pool_opts(|pool| pool.after_release(shrink_after_large_statements));
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    Migrator::up(&db, None)
        .await
        .context("running migrations")?;
    Ok(db)
}

/// Until when (milliseconds since the epoch) PostgreSQL connections give back their buffers
/// as they return to the pool: see [`give_back_large_buffers`].
static SHRINK_UNTIL_MS: AtomicI64 = AtomicI64::new(0);

/// Asks the PostgreSQL connections returned to the pool in the next minute to give back
/// their buffers. sqlx keeps a connection's read and write buffers at the largest size a
/// statement ever needed, until asked (`Connection::shrink_buffers`): a monthly report
/// published over 1,000,000 items binds a 105 MB snapshot, and its connection then held that
/// much for the life of the pool. Not done at every release: for a buffer at its usual size
/// shrinking reallocates it smaller, and the next statement grows it again.
pub fn give_back_large_buffers() {
    let until = chrono::Utc::now().timestamp_millis() + 60_000;
    SHRINK_UNTIL_MS.fetch_max(until, Ordering::Relaxed);
}

fn shrink_after_large_statements(
    connection: &mut sea_orm::sqlx::PgConnection,
    _meta: sea_orm::sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, sea_orm::sqlx::Error>> {
    use sea_orm::sqlx::Connection as _;
    if chrono::Utc::now().timestamp_millis() < SHRINK_UNTIL_MS.load(Ordering::Relaxed) {
        connection.shrink_buffers();
    }
    Box::pin(async { Ok(true) })
}

/// Whether a SQLite connection may go back to the pool: not when it is still counted inside
/// a transaction. A COMMIT that fails (a full disk) is rolled back by SQLite, but sqlx lowers
/// its count of open transactions only when COMMIT succeeds, and the ROLLBACK queued when
/// the transaction is dropped fails ("no transaction is active") without a word. Returned to
/// the pool, the connection's next BEGIN IMMEDIATE would be issued as a SAVEPOINT: a
/// deferred transaction whose "commit" is a RELEASE, and after one more failure an outer
/// transaction nothing ever commits — writes answered OK and lost at the next start, the
/// write lock held, every other connection "database is locked" until a restart (issue 30,
/// item 10). Closing it lets SQLite roll back whatever it holds and the pool open a new one.
pub(crate) fn close_if_left_in_transaction(
    connection: &mut sea_orm::sqlx::SqliteConnection,
    _meta: sea_orm::sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, sea_orm::sqlx::Error>> {
    use sea_orm::sqlx::Connection as _;
    Box::pin(async move {
        if !connection.is_in_transaction() {
            return Ok(true);
        }
        // A transaction dropped without COMMIT queued its ROLLBACK on the connection's
        // worker, which runs commands in order: the ping answers after it.
        connection.ping().await?;
        let stuck = connection.is_in_transaction();
        if stuck {
            tracing::warn!("closing a SQLite connection left inside a transaction");
        }
        Ok(!stuck)
    })
}

/// Is the database answering? For `GET /healthz`.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Open and idle connections of the pool, for `/metrics`.
pub fn pool_state(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}
