//! A sweep's decisions written: every notice, its audit entry and each reader's digest mail,
//! in one transaction. Either all of a sweep's notices are on record with their mail, or none
//! are and the next sweep decides them again; a notice is never on record unmailed.
//!
//! Before, the notices were written in batches waiting for their digest (`DIGEST`), then read
//! back with their items and assignments and marked `MAILED`: each notice was written twice
//! and read once more. At 1,000,000 items that digest took 10.7 of a first sweep's 17.6 s on
//! PostgreSQL (BENCHMARKS.md, issue 32). The sweep already holds what a mail says of each
//! notice except the item's title and requirements, and a mail lists at most `ITEMS_LISTED`
//! items a section, so only those items' texts are read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::ladder::{Decision, Rung};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Statement};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::notices::notify::{
    self, Directory, Entry, MAILED, NoticeContext, SKIPPED, Topic,
};
use crate::service::store::sql;
use crate::service::watch::sweep::copy_text::Line;
use entity::outbox;
use sea_orm::sqlx;

/// An assignment's decision, with what its mail says of the assignment, kept compactly
/// until it is written.
#[derive(Debug, Clone, Copy)]
pub struct Decided {
    pub assignment_id: i64,
    pub item_id: i64,
    pub unit_id: i64,
    /// The due in force (the extended one if granted).
    pub due_at: DateTime<Utc>,
    pub extended: bool,
    pub lead: bool,
    pub signed: bool,
    pub decision: Decision,
}

impl Decided {
    fn rung(&self) -> Option<Rung> {
        self.decision.send.map(|s| s.rung)
    }

    /// RED and first notices are never held back by the cap.
    pub fn cannot_wait(&self) -> bool {
        matches!(self.rung(), Some(Rung::Red | Rung::Assigned))
    }

    /// Most urgent first, then the oldest due.
    fn urgency(&self) -> (Option<Rung>, std::cmp::Reverse<DateTime<Utc>>) {
        (self.rung(), std::cmp::Reverse(self.due_at))
    }
}

/// The capped decisions, least urgent on top so it is the one evicted.
pub struct ByUrgency(pub Decided);

impl PartialEq for ByUrgency {
    fn eq(&self, other: &Self) -> bool {
        self.0.urgency() == other.0.urgency()
    }
}
impl Eq for ByUrgency {}
impl PartialOrd for ByUrgency {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByUrgency {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.urgency().cmp(&self.0.urgency())
    }
}

/// What a sweep wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Notices written and mailed.
    pub sent: usize,
    /// Rungs skipped (passed over or outranked), recorded with the notice sent.
    pub skipped: usize,
    /// Digest mails written.
    pub emails: usize,
}

/// Decisions per statement: a statement's JSON stays a few hundred kilobytes, and the rows
/// it returns are turned into mail entries as they come.
const DECISIONS_PER_STATEMENT: usize = 5_000;

/// A bound value from which the connection that carries it gives its buffers back after.
const LARGE_STATEMENT_BYTES: usize = 1 << 20;

/// A sweep's writer, on a task of its own so that writing overlaps reading and deciding:
/// the RED and first notices go to it in batches as they are decided, the capped rest at
/// the end. It writes them in one transaction, begun with the first batch, and commits only
/// when told to finish; dropped unfinished (the sweep failed or was cancelled), it rolls
/// back.
pub struct Pipeline {
    send: tokio::sync::mpsc::Sender<Message>,
    task: tokio::task::JoinHandle<AppResult<Written>>,
}

enum Message {
    Write(Vec<Decided>),
    Finish,
}

impl Pipeline {
    pub fn start(
        db: sea_orm::DatabaseConnection,
        cx: NoticeContext,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> Pipeline {
        // Two batches in flight at most: the reader stays a batch ahead, no further.
        let (send, mut receive) = tokio::sync::mpsc::channel(2);
        let task = tokio::spawn(async move {
            let mut writer: Option<SweepWriter> = None;
            while let Some(message) = receive.recv().await {
                match message {
                    Message::Write(batch) => {
                        let writer = match &mut writer {
                            Some(writer) => writer,
                            None => writer.insert(SweepWriter::begin(&db, tz, now).await?),
                        };
                        writer.write(&batch).await?;
                    }
                    Message::Finish => {
                        return match writer {
                            Some(writer) => writer.finish(&cx).await,
                            None => Ok(Written::default()),
                        };
                    }
                }
            }
            // The sweep went away without finishing: the transaction rolls back as dropped.
            Err(AppError::Internal(anyhow::anyhow!(
                "the sweep stopped before its notices were written"
            )))
        });
        Pipeline { send, task }
    }

    /// Hands `batch` to the writer; the writer's error if it has failed.
    pub async fn write(&mut self, batch: Vec<Decided>) -> AppResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.send.send(Message::Write(batch)).await.is_err() {
            return Err(self.outcome().await.err().unwrap_or_else(|| {
                AppError::Internal(anyhow::anyhow!("the sweep's writer ended early"))
            }));
        }
        Ok(())
    }

    /// Commits what was handed over, with each reader's mail.
    pub async fn finish(mut self) -> AppResult<Written> {
        // A failed send means the writer ended: its outcome says why.
        let _ = self.send.send(Message::Finish).await;
        self.outcome().await
    }

    async fn outcome(&mut self) -> AppResult<Written> {
        (&mut self.task)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("the sweep's writer failed: {e}")))?
    }
}

/// Where a sweep's rows go: on PostgreSQL through `COPY` in a transaction of the pool's own
/// (sea-orm's transactions cannot carry it), with what was copied kept to be written again
/// the other way should a notice turn out to be on record already; elsewhere, and after such
/// a conflict, as bulk statements in a transaction of the store.
enum Store {
    Copy {
        txn: sqlx::Transaction<'static, sqlx::Postgres>,
        copied: Vec<Decided>,
    },
    Statements(crate::service::store::write::WriteTxn),
}

/// The open transaction of a sweep's writes, and the mail entries of what it wrote.
struct SweepWriter {
    db: sea_orm::DatabaseConnection,
    store: Store,
    directory: Directory,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    entries: Vec<(Entry, i64)>,
    written: Written,
}

impl SweepWriter {
    async fn begin(
        db: &sea_orm::DatabaseConnection,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> AppResult<SweepWriter> {
        let store = if db.get_database_backend() == DbBackend::Postgres {
            Store::Copy {
                txn: db
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(sqlx_error)?,
                copied: Vec::new(),
            }
        } else {
            Store::Statements(crate::service::store::write::begin_long_write(db).await?)
        };
        Ok(SweepWriter {
            db: db.clone(),
            store,
            directory: Directory::load(db).await?,
            tz,
            now,
            entries: Vec::new(),
            written: Written::default(),
        })
    }

    /// Writes `batch`'s notices and their audit entries, and keeps their mail entries.
    async fn write(&mut self, batch: &[Decided]) -> AppResult<()> {
        for batch in batch.chunks(DECISIONS_PER_STATEMENT) {
            if let Store::Copy { txn, copied } = &mut self.store {
                match copy_batch(txn, self.tz, self.now, batch).await? {
                    Copied::All => {
                        copied.extend_from_slice(batch);
                        for d in batch {
                            if let Some(step) = d.decision.send {
                                self.record(d, step.rung, Some(step.why.text(self.tz)));
                            }
                        }
                        continue;
                    }
                    Copied::OnRecordAlready => self.fall_back().await?,
                }
            }
            self.write_statements(batch).await?;
        }
        Ok(())
    }

    /// After a `COPY` met a notice on record: everything again, as statements that skip it.
    async fn fall_back(&mut self) -> AppResult<()> {
        let txn = crate::service::store::write::begin_long_write(&self.db).await?;
        let Store::Copy { copied, .. } = std::mem::replace(&mut self.store, Store::Statements(txn))
        else {
            return Ok(());
        };
        tracing::info!(
            "a notice of the sweep is on record already; writing it statement by statement"
        );
        self.entries.clear();
        self.written = Written::default();
        for batch in copied.chunks(DECISIONS_PER_STATEMENT) {
            self.write_statements(batch).await?;
        }
        Ok(())
    }

    async fn write_statements(&mut self, batch: &[Decided]) -> AppResult<()> {
        let Store::Statements(txn) = &self.store else {
            return Ok(());
        };
        let inserted = insert_notices(txn, self.tz, self.now, batch).await?;
        let decisions: HashMap<i64, &Decided> =
            batch.iter().map(|d| (d.assignment_id, d)).collect();
        let mut audits = Vec::new();
        let mut sent = Vec::new();
        for notice in inserted.into_iter().filter(|n| n.state != SKIPPED) {
            let Some(d) = decisions.get(&notice.assignment_id) else {
                continue;
            };
            let Some((rung, _)) = Rung::parse(&notice.kind, &notice.level) else {
                continue;
            };
            audits.push(NoticeAudit {
                item_id: notice.item_id,
                assignment_id: notice.assignment_id,
                title: Some(rung.title()),
                details: audit_details(d, rung, &notice.level, notice.reason.as_deref()),
            });
            sent.push((**d, rung, notice.reason));
        }
        insert_audits(txn, self.now, &audits).await?;
        for (d, rung, situation) in sent {
            self.record(&d, rung, situation);
        }
        Ok(())
    }

    /// Counts a notice written and keeps its mail entry.
    fn record(&mut self, d: &Decided, rung: Rung, situation: Option<String>) {
        self.written.sent += 1;
        self.written.skipped += passed_over(d).len();
        self.entries.push((
            Entry {
                topic: Topic::Rung(rung),
                item_id: d.item_id,
                // Filled in `finish` for the items a mail lists.
                serial: String::new(),
                title: String::new(),
                requirements: String::new(),
                unit_name: self.directory.unit_name(d.unit_id),
                lead: d.lead,
                due_at: d.due_at,
                extended: d.extended,
                situation: situation.unwrap_or_default(),
                signed: d.signed,
            },
            d.unit_id,
        ));
    }

    /// Writes each reader's mail and commits; wakes the mailer.
    async fn finish(mut self, cx: &NoticeContext) -> AppResult<Written> {
        let listed = notify::listed_items(&self.directory, &self.entries);
        let texts = item_texts(&self.db, &listed).await?;
        for (entry, _) in &mut self.entries {
            if let Some(text) = texts.get(&entry.item_id) {
                entry.serial.clone_from(&text.serial);
                entry.title.clone_from(&text.title);
                entry.requirements.clone_from(&text.requirements);
            }
        }
        let mails = notify::mails(cx, &self.directory, &self.entries, self.now);
        self.entries = Vec::new();
        self.written.emails = mails.len();
        match self.store {
            Store::Copy { mut txn, .. } => {
                use sea_orm::QueryTrait;
                use sea_query_sqlx::SqlxBinder;
                for chunk in mails.chunks(200) {
                    let (sql, values) = outbox::Entity::insert_many(chunk.to_vec())
                        .into_query()
                        .build_sqlx(sea_orm::sea_query::PostgresQueryBuilder);
                    // sea-query's text of a constant statement, every value bound.
                    sqlx::query_with(sqlx::AssertSqlSafe(sql), values)
                        .execute(&mut *txn)
                        .await
                        .map_err(sqlx_error)?;
                }
                txn.commit().await.map_err(sqlx_error)?;
            }
            Store::Statements(txn) => {
                for chunk in mails.chunks(200) {
                    outbox::Entity::insert_many(chunk.to_vec())
                        .exec_without_returning(&txn)
                        .await?;
                }
                txn.commit().await?;
            }
        }
        cx.wake.notify_one();
        Ok(self.written)
    }
}

/// The rungs a notice passed over, named in its audit entry.
fn passed_over(d: &Decided) -> Vec<&'static str> {
    let mut titles: Vec<&str> = d.decision.skipped.iter().map(Rung::title).collect();
    titles.extend(d.decision.skipped_progress.map(|(r, _)| r.title()));
    titles
}

/// What a notice's audit entry records: the rung, the situation it was sent in, and the
/// rungs it passed over.
fn audit_details(
    d: &Decided,
    rung: Rung,
    level: &str,
    situation: Option<&str>,
) -> serde_json::Value {
    json!({
        "kind": rung.kind(), "level": level, "situation": situation,
        "skipped": passed_over(d),
    })
}

/// A notice row of a decision: the one to send and the skipped rungs later decisions
/// depend on (the ones passed over below the notice are recorded in its audit entry).
struct NoticeOf {
    rung: Rung,
    level: String,
    state: &'static str,
    reason: Option<String>,
}

fn notices_of(d: &Decided, tz: chrono_tz::Tz) -> Vec<NoticeOf> {
    let Some(step) = d.decision.send else {
        return Vec::new();
    };
    let mut rows = vec![NoticeOf {
        rung: step.rung,
        level: step.level(),
        state: MAILED,
        reason: Some(step.why.text(tz)),
    }];
    if let Some(rung) = d.decision.outranked {
        rows.push(NoticeOf {
            rung,
            level: rung.level(None),
            state: SKIPPED,
            reason: None,
        });
    }
    if let Some((rung, cycle)) = d.decision.skipped_progress {
        rows.push(NoticeOf {
            rung,
            level: rung.level(Some(cycle)),
            state: SKIPPED,
            reason: None,
        });
    }
    rows
}

enum Copied {
    All,
    /// A notice was on record already (the unique key): nothing of the transaction holds.
    OnRecordAlready,
}

/// The batch's notices and their audit entries through `COPY`.
async fn copy_batch(
    txn: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[Decided],
) -> AppResult<Copied> {
    let mut notices = String::new();
    let mut audits = String::new();
    for d in batch {
        for notice in notices_of(d, tz) {
            Line::new(&mut notices)
                .int(d.item_id)
                .int(d.assignment_id)
                .int(d.unit_id)
                .text(notice.rung.kind())
                .text(&notice.level)
                .time(now)
                .text(notice.state)
                .optional_text(notice.reason.as_deref())
                .end();
            if notice.state == MAILED {
                let details =
                    audit_details(d, notice.rung, &notice.level, notice.reason.as_deref());
                Line::new(&mut audits)
                    .int(d.item_id)
                    .int(d.assignment_id)
                    .time(now)
                    .text(notice.rung.title())
                    .text(&details.to_string())
                    .text("NOTICE")
                    .end();
            }
        }
    }
    if notices.len() > LARGE_STATEMENT_BYTES {
        crate::db::give_back_large_buffers();
    }
    let copied = copy_in(
        txn,
        "COPY notice (item_id, assignment_id, unit_id, kind, level, created_at, state, reason) FROM STDIN",
        notices,
    )
    .await;
    match copied {
        Err(e)
            if e.as_database_error()
                .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation) =>
        {
            return Ok(Copied::OnRecordAlready);
        }
        other => other.map_err(sqlx_error)?,
    }
    copy_in(
        txn,
        "COPY audit_event (item_id, assignment_id, at, reason, details, action) FROM STDIN",
        audits,
    )
    .await
    .map_err(sqlx_error)?;
    Ok(Copied::All)
}

async fn copy_in(
    txn: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    statement: &str,
    rows: String,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = txn.copy_in_raw(statement).await?;
    match copy.send(rows.into_bytes()).await {
        Ok(_) => copy.finish().await.map(drop),
        Err(e) => {
            let _ = copy.abort("the sweep could not send its rows").await;
            Err(e)
        }
    }
}

fn sqlx_error(e: sqlx::Error) -> AppError {
    sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))).into()
}

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
struct WrittenNotice {
    item_id: i64,
    assignment_id: i64,
    kind: String,
    level: String,
    state: String,
    reason: Option<String>,
}

/// An audit entry of a notice, as the bulk statement reads it.
#[derive(serde::Serialize)]
struct NoticeAudit {
    item_id: i64,
    assignment_id: i64,
    title: Option<&'static str>,
    details: serde_json::Value,
}

/// The batch's notices: each one to send, already `MAILED` (its mail is written in the same
/// transaction), and each skipped rung later decisions depend on. A notice already on
/// record (an item's change wrote it meanwhile) is left out by the unique key and not
/// returned, so it is not mailed again.
async fn insert_notices(
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

async fn insert_audits(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    audits: &[NoticeAudit],
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
struct ItemText {
    id: i64,
    serial: String,
    title: String,
    requirements: String,
}

async fn item_texts(txn: &impl ConnectionTrait, ids: &[i64]) -> AppResult<HashMap<i64, ItemText>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = txn.get_database_backend();
    let statement = sql::statement(
        backend,
        &format!(
            "SELECT id, serial, title, requirements FROM item WHERE id IN {}",
            sql::json_ids_in(backend, 1)
        ),
        vec![sql::json_ids(ids)],
    );
    Ok(ItemText::find_by_statement(statement)
        .all(txn)
        .await?
        .into_iter()
        .map(|text| (text.id, text))
        .collect())
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
