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
            })
            .map_sqlx_sqlite_pool_opts(|pool| pool.after_release(close_if_left_in_transaction));
    } else {
        options.max_connections(settings.db_pool);
        if let Some(port) = postgres_port(url) {
            options.map_sqlx_postgres_pool_opts(move |pool| {
                pool.after_connect(move |_connection, _meta| {
                    Box::pin(async move {
                        disable_nagle(port);
                        Ok(())
                    })
                })
            });
        }
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    Migrator::up(&db, None)
        .await
        .context("running migrations")?;
    Ok(db)
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
fn close_if_left_in_transaction(
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

/// The TCP port of a PostgreSQL URL; `None` for a Unix socket (`?host=/run/postgresql`),
/// which has no Nagle delay to turn off.
fn postgres_port(url: &str) -> Option<u16> {
    use std::str::FromStr;
    let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).ok()?;
    (!options.get_host().starts_with('/')).then(|| options.get_port())
}

/// Turns Nagle's algorithm off on this process's TCP connections to `port`.
///
/// sqlx 0.9.0 no longer sets TCP_NODELAY on its sockets (launchbadge/sqlx#4335; the fix,
/// #4336, is not in a release yet). A statement whose message is longer than one segment
/// then holds its last bytes back until the server's delayed ACK comes, 40 ms on Linux,
/// and the server cannot answer before it has them: every multi-row insert of a sweep
/// waited 44 ms (a first sweep writing 30,000 notices at 100k items took 13.6 s, of which
/// 1.5 s was the database's work; BENCHMARKS.md). sqlx does not hand out its socket, so on
/// each new connection the process's sockets are looked at through a pidfd
/// (`pidfd_getfd` duplicates our own descriptor, in safe code) and those whose peer is the
/// database's port get TCP_NODELAY. Remove this once sqlx sets it again.
#[cfg(target_os = "linux")]
fn disable_nagle(port: u16) {
    if let Err(error) = set_nodelay_towards(port) {
        // Slower statements, not wrong ones: say so once and go on.
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(%error, "could not set TCP_NODELAY on the database connections; large statements may wait 40 ms each");
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn disable_nagle(_port: u16) {}

/// Sets TCP_NODELAY on every socket of this process connected to `port` that lacks it;
/// returns how many it changed.
#[cfg(target_os = "linux")]
fn set_nodelay_towards(port: u16) -> std::io::Result<usize> {
    let mut changed = 0;
    for socket in tcp_sockets(|_, peer| peer.port() == port)? {
        if !socket.nodelay()? {
            rustix::net::sockopt::set_tcp_nodelay(&socket.fd, true)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Is Nagle's algorithm off on the socket whose local port is `local_port`? `None` when
/// this process has no such TCP socket. With `SELECT inet_client_port()` it tells whether
/// a given database connection may wait for delayed ACKs.
#[cfg(target_os = "linux")]
pub fn nodelay_of_local_port(local_port: u16) -> std::io::Result<Option<bool>> {
    tcp_sockets(|local, _| local.port() == local_port)?
        .first()
        .map(TcpSocket::nodelay)
        .transpose()
}

/// One of this process's connected TCP sockets, through a descriptor of our own.
#[cfg(target_os = "linux")]
struct TcpSocket {
    fd: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl TcpSocket {
    fn nodelay(&self) -> std::io::Result<bool> {
        Ok(rustix::net::sockopt::tcp_nodelay(&self.fd)?)
    }
}

/// The process's connected TCP sockets whose (local, peer) addresses `wanted` accepts, each
/// duplicated with `pidfd_getfd` (the pidfd of our own process), so their options can be
/// read and set in safe code. Only the wanted ones are kept open: a busy server has
/// thousands of client sockets, and holding a duplicate of each could exhaust descriptors.
#[cfg(target_os = "linux")]
fn tcp_sockets(
    wanted: impl Fn(&std::net::SocketAddr, &std::net::SocketAddr) -> bool,
) -> std::io::Result<Vec<TcpSocket>> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
    let pidfd = pidfd_open(getpid(), PidfdFlags::empty())?;
    let address = |a: Option<rustix::net::SocketAddrAny>| {
        a.and_then(|a| std::net::SocketAddr::try_from(a).ok())
    };
    let mut sockets = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")?.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|target| {
            target
                .as_os_str()
                .as_encoded_bytes()
                .starts_with(b"socket:")
        });
        if !is_socket {
            continue;
        }
        // Closed since the listing: nothing to do.
        let Ok(fd) = pidfd_getfd(&pidfd, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let stream = rustix::net::sockopt::socket_type(&fd)
            .is_ok_and(|kind| kind == rustix::net::SocketType::STREAM);
        if !stream {
            continue;
        }
        let local = address(rustix::net::getsockname(&fd).ok());
        let peer = address(rustix::net::getpeername(&fd).ok().flatten());
        if let (Some(local), Some(peer)) = (local, peer)
            && wanted(&local, &peer)
        {
            sockets.push(TcpSocket { fd });
        }
    }
    Ok(sockets)
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
