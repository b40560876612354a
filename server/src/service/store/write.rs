//! Transactions that write. On PostgreSQL each is its own transaction. On SQLite, which has
//! one writer per file, writes take turns in a queue inside the process and commits are
//! grouped (issue 32, `docs/architecture.md` "Writes on SQLite"):
//!
//! - One write runs at a time, in the order they asked ([`WriteQueue`], a fair lock). Before
//!   this, every connection began its own `BEGIN IMMEDIATE` and those that lost waited in
//!   SQLite's busy handler, which sleeps up to 100 ms between tries: 80 writes a second at
//!   8 connections, p99 of seconds.
//! - The writes of a group run in one SQLite transaction, each in its own savepoint, so
//!   that a write that fails undoes only itself. A write's commit releases its savepoint,
//!   joins the group and hands the turn on; the group commits when nobody else is waiting,
//!   when it is [`MAX_GROUP`] writes or [`MAX_GROUP_AGE`] old, or when its first write takes
//!   the turn again after those queued behind it. One fsync then makes the whole group
//!   durable, which is what lets SQLite run with `synchronous=FULL`.
//! - A commit answers only once its group's `COMMIT` has succeeded; when that fails, every
//!   write of the group fails with it. A write that is abandoned (an error, a dropped
//!   request) ends its group at once, so that a failure never hides inside a later commit.
//!
//! The queue is per database file and per process; two processes on one file still meet at
//! SQLite's own lock (its busy timeout), as before.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait,
};
use tokio::sync::{OwnedMutexGuard, oneshot};

/// Writes in a group at most: bounds how long the group's first write waits for its answer.
pub const MAX_GROUP: usize = 64;
/// How long a group stays open at most once its first write has finished.
pub const MAX_GROUP_AGE: Duration = Duration::from_millis(5);

/// A transaction that will write: begun with [`begin_write`] or [`begin_long_write`], used
/// as any sea-orm connection, and ended by [`WriteTxn::commit`] (dropping it rolls it back).
pub struct WriteTxn {
    /// Always `Some` until `commit` takes it.
    txn: Option<DatabaseTransaction>,
    /// SQLite only: the write's turn at the queue.
    turn: Option<Turn>,
}

/// Begins a short write (a verb, an edit): on SQLite it joins the open group.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    begin(db, Grouping::Join).await
}

/// Begins a long write (a sweep, a report's publication, a calendar year): on SQLite the
/// open group is committed first and this write commits alone, so that short writes never
/// wait for it to answer.
pub async fn begin_long_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    begin(db, Grouping::Alone).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Grouping {
    Join,
    Alone,
}

async fn begin(db: &DatabaseConnection, grouping: Grouping) -> Result<WriteTxn, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(WriteTxn {
            txn: Some(db.begin().await?),
            turn: None,
        });
    }
    let queue = WriteQueue::of(db);
    let writer = queue.writer.clone().unwrap_or_else(|| db.clone());
    let mut turn = queue.take_turn().await;
    turn.grouping = grouping;
    if grouping == Grouping::Alone {
        turn.end_group().await;
    }
    if turn.slot.group.is_none() {
        // A deferred transaction that reads first cannot upgrade once another process has
        // committed (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out): take the write
        // lock at once.
        let outer = writer
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        turn.slot.group = Some(Group {
            id: NEXT_GROUP.fetch_add(1, Ordering::Relaxed),
            outer,
            members: Vec::new(),
            first_done: None,
            closer_queued: false,
        });
    }
    let savepoint = match turn.group().outer.begin().await {
        Ok(savepoint) => savepoint,
        Err(error) => {
            turn.end_group().await;
            return Err(error);
        }
    };
    Ok(WriteTxn {
        txn: Some(savepoint),
        turn: Some(turn),
    })
}

impl WriteTxn {
    fn txn(&self) -> &DatabaseTransaction {
        self.txn
            .as_ref()
            .expect("a write is used only before it commits")
    }

    /// Commits: answers once the write is durable (on SQLite, once its group has committed).
    pub async fn commit(mut self) -> Result<(), DbErr> {
        let txn = self.txn.take().expect("a write commits once");
        let Some(mut turn) = self.turn.take() else {
            return txn.commit().await;
        };
        if let Err(error) = txn.commit().await {
            turn.end_group().await;
            return Err(error);
        }
        let (answer, answered) = oneshot::channel();
        let group = turn.group_mut();
        group.members.push(answer);
        let first_done = *group.first_done.get_or_insert_with(Instant::now);
        let group_id = group.id;
        let full = group.members.len() >= MAX_GROUP || first_done.elapsed() >= MAX_GROUP_AGE;
        if turn.grouping == Grouping::Alone || full || turn.queue.waiting() == 0 {
            turn.end_group().await;
        } else if std::mem::replace(&mut turn.group_mut().closer_queued, true) {
            // The group's closer is already queued behind the writes that were waiting.
            turn.hand_on();
        } else {
            // Hand the turn on with the group open, and queue its closer behind those
            // already waiting: it commits what they have added when its turn comes (unless
            // one of them has). One closer a group: every turn taken is a hand-over on the
            // writer's path. A task of its own, so that a request dropped meanwhile cannot
            // leave the group open.
            let queue = Arc::clone(&turn.queue);
            turn.hand_on();
            tokio::spawn(async move {
                let mut turn = queue.take_turn_behind().await;
                if turn.slot.group.as_ref().is_some_and(|g| g.id == group_id) {
                    turn.end_group().await;
                }
            });
        }
        match answered.await {
            Ok(result) => result,
            Err(_) => Err(DbErr::Custom(
                "the write's group ended without an answer".into(),
            )),
        }
    }
}

impl WriteTxn {
    /// Rolls the write back and waits until it is (dropping it only queues the rollback):
    /// for a dry run, a write that found nothing to do, or a transaction held for its lock.
    /// On SQLite the writes of its group before it are committed.
    pub async fn rollback(mut self) -> Result<(), DbErr> {
        let txn = self.txn.take().expect("a write ends once");
        let rolled_back = txn.rollback().await;
        if let Some(mut turn) = self.turn.take() {
            turn.end_group().await;
        }
        rolled_back
    }
}

impl Drop for WriteTxn {
    fn drop(&mut self) {
        // The savepoint first: its rollback is queued on the connection before the group's
        // COMMIT, which the connection runs in order.
        drop(self.txn.take());
        if let Some(turn) = self.turn.take() {
            turn.abandon();
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn().execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn().execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn().query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn().query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn().support_returning()
    }
}

impl sea_orm::StreamTrait for WriteTxn {
    type Stream<'a> = <DatabaseTransaction as sea_orm::StreamTrait>::Stream<'a>;

    fn get_database_backend(&self) -> DbBackend {
        sea_orm::StreamTrait::get_database_backend(self.txn())
    }

    fn stream_raw<'a>(
        &'a self,
        stmt: Statement,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Stream<'a>, DbErr>> + 'a + Send>,
    > {
        self.txn().stream_raw(stmt)
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        self.txn()
    }
}

/// What the write queue of `db`'s file has done in this process (SQLite; zeros on
/// PostgreSQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Groups committed, one fsync each.
    pub groups: u64,
    /// Writes committed in them.
    pub grouped_writes: u64,
    /// How long turns were held in all, in microseconds.
    pub turns_held_micros: u64,
}

pub fn queue_counts(db: &DatabaseConnection) -> QueueCounts {
    if db.get_database_backend() != DbBackend::Sqlite {
        return QueueCounts::default();
    }
    let queue = WriteQueue::of(db);
    QueueCounts {
        groups: queue.groups.load(Ordering::Relaxed),
        grouped_writes: queue.grouped_writes.load(Ordering::Relaxed),
        turns_held_micros: queue.turns_held_micros.load(Ordering::Relaxed),
    }
}

static NEXT_GROUP: AtomicU64 = AtomicU64::new(1);

/// The writes of one SQLite file in this process, in the order they asked.
struct WriteQueue {
    slot: Arc<tokio::sync::Mutex<Slot>>,
    /// Writes waiting for their turn (not counting a group's own return for its commit):
    /// whether handing the turn on would let anyone join the group.
    waiting: AtomicUsize,
    /// The connection every group writes through, the same one each time: its page cache
    /// and prepared statements stay warm, where a connection of the pool finds its cache
    /// invalidated by the writes of the others (perf: a third of the writer's time went to
    /// reading pages back and preparing statements again). `None` for an in-memory
    /// database, which lives in the pool's own connections.
    writer: Option<DatabaseConnection>,
    /// Groups committed, and the writes in them: for `/metrics` and the tests.
    groups: AtomicU64,
    grouped_writes: AtomicU64,
    /// How long turns were held in all, in microseconds: the writer's busy time.
    turns_held_micros: AtomicU64,
}

impl WriteQueue {
    /// The queue of `db`'s file: every pool and every instance of the process that opens the
    /// file shares it.
    fn of(db: &DatabaseConnection) -> Arc<WriteQueue> {
        static QUEUES: LazyLock<Mutex<HashMap<PathBuf, Arc<WriteQueue>>>> =
            LazyLock::new(Default::default);
        let options = db.get_sqlite_connection_pool().connect_options();
        let file = options.get_filename().to_path_buf();
        let mut queues = QUEUES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(queues.entry(file).or_insert_with(|| {
            Arc::new(WriteQueue {
                writer: writer_connection(&options),
                slot: Arc::new(tokio::sync::Mutex::new(Slot { group: None })),
                waiting: AtomicUsize::new(0),
                groups: AtomicU64::new(0),
                grouped_writes: AtomicU64::new(0),
                turns_held_micros: AtomicU64::new(0),
            })
        }))
    }

    fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    async fn take_turn(self: Arc<Self>) -> Turn {
        let counted = Waiting::count(&self.waiting);
        let slot = Arc::clone(&self.slot).lock_owned().await;
        drop(counted);
        Turn {
            queue: self,
            slot,
            grouping: Grouping::Join,
            since: Instant::now(),
        }
    }

    /// A turn taken to commit a group, not to write: not counted as waiting.
    async fn take_turn_behind(self: Arc<Self>) -> Turn {
        let slot = Arc::clone(&self.slot).lock_owned().await;
        Turn {
            queue: self,
            slot,
            grouping: Grouping::Alone,
            since: Instant::now(),
        }
    }
}

/// One connection of its own for the file's writes, opened on first use with the pool's
/// settings (WAL, synchronous, busy timeout), and kept open.
fn writer_connection(
    options: &sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> Option<DatabaseConnection> {
    // sqlx names each in-memory database of the process this way.
    if options
        .get_filename()
        .to_string_lossy()
        .starts_with("file:sqlx-in-memory-")
    {
        return None;
    }
    let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        // Only this queue uses it, one write at a time: no ping before each group.
        .test_before_acquire(false)
        .after_release(crate::db::close_if_left_in_transaction)
        .connect_lazy_with(options.clone());
    Some(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// Counts a write as waiting until it has its turn or is dropped while it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::AcqRel);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Slot {
    group: Option<Group>,
}

/// Writes sharing one SQLite transaction, each released from its savepoint, waiting for
/// the group's COMMIT.
struct Group {
    id: u64,
    outer: DatabaseTransaction,
    members: Vec<oneshot::Sender<Result<(), DbErr>>>,
    /// When its first write finished: how long that write has been waiting.
    first_done: Option<Instant>,
    /// Whether a task is queued to commit it.
    closer_queued: bool,
}

/// The turn at the queue: the slot is held until the turn is dropped.
struct Turn {
    queue: Arc<WriteQueue>,
    slot: OwnedMutexGuard<Slot>,
    grouping: Grouping,
    since: Instant,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let held = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.queue
            .turns_held_micros
            .fetch_add(held, Ordering::Relaxed);
    }
}

impl Turn {
    fn group(&self) -> &Group {
        self.slot
            .group
            .as_ref()
            .expect("a turn that writes has a group")
    }

    fn group_mut(&mut self) -> &mut Group {
        self.slot
            .group
            .as_mut()
            .expect("a turn that writes has a group")
    }

    /// Commits the open group, if any, and answers each of its writes.
    async fn end_group(&mut self) {
        let Some(group) = self.slot.group.take() else {
            return;
        };
        if group.members.is_empty() {
            // Nothing of it is kept: dropping the transaction rolls it back.
            return;
        }
        // COMMIT said plainly rather than through sqlx's commit, which trusts its count of
        // open transactions: had SQLite rolled the transaction back by itself (a full disk
        // fails a statement that way), that count would make the commit a silent no-op and
        // the writes before the failure would be answered as saved. SQLite's own answer
        // ("no transaction is active") is the truth. The transaction dropped afterwards
        // finds nothing to roll back.
        let committed = group.outer.execute_unprepared("COMMIT").await;
        drop(group.outer);
        if committed.is_ok() {
            self.queue.groups.fetch_add(1, Ordering::Relaxed);
            self.queue
                .grouped_writes
                .fetch_add(group.members.len() as u64, Ordering::Relaxed);
        }
        for member in group.members {
            let answer = match &committed {
                Ok(_) => Ok(()),
                Err(error) => Err(DbErr::Custom(format!("the commit failed: {error}"))),
            };
            let _ = member.send(answer);
        }
    }

    /// Releases the turn and leaves the group open for the next write in line.
    fn hand_on(self) {}

    /// A write dropped before its commit: its savepoint is rolled back, and its group is
    /// committed now for the writes before it, in a task of its own (a drop cannot wait).
    fn abandon(mut self) {
        if self
            .slot
            .group
            .as_ref()
            .is_none_or(|group| group.members.is_empty())
        {
            // Nothing to answer: dropping the group's transaction rolls it back.
            self.slot.group.take();
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { self.end_group().await });
            }
            Err(_) => {
                // No runtime left (the process is stopping): dropping the group rolls it
                // back, and its writes' answers fail rather than claim a commit.
                self.slot.group.take();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Database;

    async fn file_database() -> (DatabaseConnection, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("w.sqlite").display()
        );
        let mut options = sea_orm::ConnectOptions::new(url);
        options
            .max_connections(8)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
            });
        let db = Database::connect(options).await.expect("connect");
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
            .await
            .expect("table");
        (db, dir)
    }

    async fn insert(txn: &WriteTxn, v: &str) -> Result<ExecResult, DbErr> {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (v) VALUES (?)",
            [v.into()],
        ))
        .await
    }

    async fn values(db: &DatabaseConnection) -> Vec<String> {
        db.query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT v FROM t ORDER BY v",
        ))
        .await
        .expect("read")
        .iter()
        .map(|row| row.try_get::<String>("", "v").expect("v"))
        .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_commit_in_groups_and_each_is_answered_after_its_commit() {
        let (db, _dir) = file_database().await;
        let mut writes = Vec::new();
        for n in 0..64 {
            let db = db.clone();
            writes.push(tokio::spawn(async move {
                let txn = begin_write(&db).await?;
                insert(&txn, &format!("v{n:02}")).await?;
                // A little work inside the write, as a verb's reads: others queue meanwhile.
                tokio::time::sleep(Duration::from_millis(1)).await;
                txn.commit().await?;
                // Answered: the write is committed, so a new connection reads it.
                let seen = values(&db).await;
                Ok::<bool, DbErr>(seen.contains(&format!("v{n:02}")))
            }));
        }
        for write in writes {
            assert!(
                write.await.expect("task").expect("write"),
                "read after its answer"
            );
        }
        assert_eq!(values(&db).await.len(), 64);
        let QueueCounts {
            groups,
            grouped_writes: grouped,
            ..
        } = queue_counts(&db);
        assert_eq!(grouped, 64);
        assert!(groups < 64, "some commits were grouped: {groups} groups");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_undoes_only_itself_and_the_ones_before_it_commit() {
        let (db, _dir) = file_database().await;
        let first = begin_write(&db).await.expect("begin");
        insert(&first, "kept").await.expect("insert");
        // Someone waits, so the first write hands its turn on with the group open.
        let db2 = db.clone();
        let second = tokio::spawn(async move {
            let txn = begin_write(&db2).await?;
            insert(&txn, "undone").await?;
            // A unique key violated: the write fails and is dropped.
            insert(&txn, "kept").await.map(|_| ())
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        first.commit().await.expect("the first write commits");
        assert!(second.await.expect("task").is_err());
        let third = begin_write(&db).await.expect("begin");
        insert(&third, "later").await.expect("insert");
        third.commit().await.expect("commit");
        assert_eq!(values(&db).await, vec!["kept", "later"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_that_fails_fails_every_write_of_its_group() {
        let (db, _dir) = file_database().await;
        let first = begin_write(&db).await.expect("begin");
        insert(&first, "a").await.expect("insert");
        // The group's transaction ends behind the queue's back (as SQLite ends one itself
        // on a full disk): the plain COMMIT must then fail, not report a success.
        first
            .execute_unprepared("ROLLBACK")
            .await
            .expect("rollback");
        let answer = first.commit().await;
        assert!(
            answer.is_err(),
            "a write lost with its group is not answered OK"
        );
        assert!(values(&db).await.is_empty());
        let next = begin_write(&db).await.expect("begin");
        insert(&next, "b").await.expect("insert");
        next.commit().await.expect("the queue goes on");
        assert_eq!(values(&db).await, vec!["b"]);
    }
}
