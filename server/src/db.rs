//! Connecting to SQLite (default, embedded) or PostgreSQL, and migrating on start.

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
                // WAL with synchronous=NORMAL: durable against crashes of the process, and
                // one fsync per checkpoint instead of per commit, which the sweep's one
                // transaction per notice needs; a power cut may lose the last commits.
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
            });
    } else {
        options.max_connections(16);
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    Migrator::up(&db, None)
        .await
        .context("running migrations")?;
    Ok(db)
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
