//! A sweep's decisions written: every notice, its audit entry and each reader's digest mail,
//! in one transaction (a first sweep over a backlog of more than `NOTICES_PER_PART` notices,
//! in one transaction a part). A notice is on record with its mail or not at all, and what is
//! not on record the next sweep decides again.
//!
//! Before, the notices were written in batches waiting for their digest (`DIGEST`), then read
//! back with their items and assignments and marked `MAILED`: each notice was written twice
//! and read once more. At 1,000,000 items that digest took 10.7 of a first sweep's 17.6 s on
//! PostgreSQL (BENCHMARKS.md, issue 32). The sweep already holds what a mail says of each
//! notice except the item's title and requirements, and a mail lists at most `ITEMS_LISTED`
//! items a section, so only those items' texts are read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::ladder::Rung;
use sea_orm::{DbBackend, EntityTrait};

use crate::error::{AppError, AppResult};
use crate::service::notices::notify::{self, Directory, Entry, NoticeContext, SKIPPED, Topic};
use crate::service::watch::sweep::copy::{self, Copied, copy_batch, sqlx_error};
use crate::service::watch::sweep::rows::{Decided, audit_details, passed_over};
use crate::service::watch::sweep::statements::{
    ItemText, NoticeAudit, WrittenNotice, insert_audits, insert_notices, item_texts,
};
use entity::outbox;
use sea_orm::sqlx;

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

/// Decisions per statement or `COPY`: a few hundred kilobytes of rows at a time.
const DECISIONS_PER_STATEMENT: usize = 5_000;

/// A sweep's writer, on a task of its own so that writing overlaps reading and deciding:
/// the RED and first notices go to it in batches as they are decided, the capped rest at
/// the end. It writes them in one transaction, begun with the first batch, and commits when
/// told to finish (or when a part is full). Dropped unfinished (the sweep failed or was
/// cancelled), it stops the task, whose open part rolls back: nothing is committed after
/// the sweep has let go of its lock.
pub struct Pipeline {
    send: tokio::sync::mpsc::Sender<Message>,
    /// `None` once its outcome was taken.
    task: Option<tokio::task::JoinHandle<AppResult<Written>>>,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

enum Message {
    Write(Vec<Decided>),
    Finish,
}

impl Pipeline {
    pub fn start(
        db: sea_orm::DatabaseConnection,
        cx: NoticeContext,
        notices_per_part: usize,
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
                            None => writer.insert(
                                SweepWriter::begin(&db, cx.clone(), notices_per_part, tz, now)
                                    .await?,
                            ),
                        };
                        writer.write(&batch).await?;
                    }
                    Message::Finish => {
                        return match writer {
                            Some(writer) => writer.finish().await,
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
        Pipeline {
            send,
            task: Some(task),
        }
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
        let Some(task) = self.task.take() else {
            return Err(AppError::Internal(anyhow::anyhow!(
                "the sweep's writer has ended"
            )));
        };
        task.await
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

impl Store {
    async fn begin(db: &sea_orm::DatabaseConnection) -> AppResult<Store> {
        Ok(if db.get_database_backend() == DbBackend::Postgres {
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
        })
    }
}

/// Notices a transaction takes at most: a first sweep over a large backlog commits its
/// notices and their digests in parts of this many, so that what the writer holds (each
/// notice's mail entry, about 250 bytes, and on PostgreSQL its decision) stays near 35 MB
/// however large the backlog, and SQLite's writer is held about a second at a time. A
/// reader then gets one digest per part.
pub const NOTICES_PER_PART: usize = 100_000;

/// The open transaction of a sweep's writes, and the mail entries of what it wrote.
struct SweepWriter {
    db: sea_orm::DatabaseConnection,
    cx: NoticeContext,
    notices_per_part: usize,
    directory: Directory,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    /// The open part's transaction; `None` between parts.
    store: Option<Store>,
    /// The open part's mail entries and counts.
    entries: Vec<(Entry, i64)>,
    part: Written,
    /// The parts committed.
    done: Written,
}

impl SweepWriter {
    async fn begin(
        db: &sea_orm::DatabaseConnection,
        cx: NoticeContext,
        notices_per_part: usize,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> AppResult<SweepWriter> {
        Ok(SweepWriter {
            db: db.clone(),
            cx,
            notices_per_part: notices_per_part.max(1),
            directory: Directory::load(db).await?,
            tz,
            now,
            store: None,
            entries: Vec::new(),
            part: Written::default(),
            done: Written::default(),
        })
    }

    /// Writes `batch`'s notices and their audit entries, and keeps their mail entries;
    /// commits a part once it is full.
    async fn write(&mut self, batch: &[Decided]) -> AppResult<()> {
        for batch in batch.chunks(DECISIONS_PER_STATEMENT.min(self.notices_per_part)) {
            if self.store.is_none() {
                self.store = Some(Store::begin(&self.db).await?);
            }
            if let Some(Store::Copy { txn, copied }) = &mut self.store {
                match copy_batch(txn, self.tz, self.now, batch).await? {
                    Copied::All(sent) => {
                        copied.extend_from_slice(batch);
                        for (at, rung, situation) in sent {
                            self.record(&batch[at], rung, situation);
                        }
                    }
                    Copied::OnRecordAlready => {
                        self.fall_back().await?;
                        self.write_statements(batch).await?;
                    }
                }
            } else {
                self.write_statements(batch).await?;
            }
            if self.entries.len() >= self.notices_per_part {
                self.commit_part().await?;
            }
        }
        Ok(())
    }

    /// After a `COPY` met a notice on record: the open part again, as statements that skip
    /// it.
    async fn fall_back(&mut self) -> AppResult<()> {
        // The failed transaction goes back to the pool (rolled back) before another is begun.
        let Some(Store::Copy { copied, .. }) = self.store.take() else {
            return Ok(());
        };
        self.store = Some(Store::Statements(
            crate::service::store::write::begin_long_write(&self.db).await?,
        ));
        tracing::info!(
            "a notice of the sweep is on record already; writing it statement by statement"
        );
        self.entries.clear();
        self.part = Written::default();
        for batch in copied.chunks(DECISIONS_PER_STATEMENT) {
            self.write_statements(batch).await?;
        }
        Ok(())
    }

    async fn write_statements(&mut self, batch: &[Decided]) -> AppResult<()> {
        let Some(Store::Statements(txn)) = &self.store else {
            return Ok(());
        };
        let inserted = insert_notices(txn, self.tz, self.now, batch).await?;
        let decisions: HashMap<i64, &Decided> =
            batch.iter().map(|d| (d.assignment_id, d)).collect();
        let sent: Vec<(Decided, Rung, &WrittenNotice)> = inserted
            .iter()
            .filter(|n| n.state != SKIPPED)
            .filter_map(|n| {
                let d = decisions.get(&n.assignment_id)?;
                let (rung, _) = Rung::parse(&n.kind, &n.level)?;
                Some((**d, rung, n))
            })
            .collect();
        let audits: Vec<NoticeAudit> = sent
            .iter()
            .map(|(d, rung, n)| NoticeAudit {
                item_id: n.item_id,
                assignment_id: n.assignment_id,
                title: Some(rung.title()),
                details: audit_details(d, *rung, &n.level, n.reason.as_deref()),
            })
            .collect();
        insert_audits(txn, self.now, &audits).await?;
        drop(audits);
        let sent: Vec<(Decided, Rung, Option<String>)> = sent
            .into_iter()
            .map(|(d, rung, n)| (d, rung, n.reason.clone()))
            .collect();
        for (d, rung, situation) in sent {
            self.record(&d, rung, situation);
        }
        Ok(())
    }

    /// Counts a notice written and keeps its mail entry.
    fn record(&mut self, d: &Decided, rung: Rung, situation: Option<String>) {
        self.part.sent += 1;
        self.part.skipped += passed_over(d).len();
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
                // A sweep runs at its scheduled hours; the rung does not hurry it.
                urgent: false,
            },
            d.unit_id,
        ));
    }

    /// Commits the open part, if any, and says what all parts wrote.
    async fn finish(mut self) -> AppResult<Written> {
        self.commit_part().await?;
        Ok(self.done)
    }

    /// Writes each reader's mail for the open part and commits it; wakes the mailer.
    async fn commit_part(&mut self) -> AppResult<()> {
        let Some(mut store) = self.store.take() else {
            return Ok(());
        };
        let entries = std::mem::take(&mut self.entries);
        let part = std::mem::take(&mut self.part);
        // Read in the part's own transaction: the sweep takes no further connection.
        let listed = notify::listed_items(&self.directory, &entries);
        let texts = match &mut store {
            Store::Copy { txn, .. } => copy::item_texts(txn, &listed).await?,
            Store::Statements(txn) => item_texts(txn, &listed).await?,
        };
        let mails = self.mails(entries, &texts);
        match store {
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
        self.cx.wake.notify_one();
        self.done.sent += part.sent;
        self.done.skipped += part.skipped;
        // Mail only: the other channels' messages are not emails.
        self.done.emails += mails
            .iter()
            .filter(|m| matches!(&m.channel, sea_orm::ActiveValue::Set(c) if c == crate::service::notices::outbox::MAIL))
            .count();
        Ok(())
    }

    /// One digest per reader of `entries`, with the title and requirements of the items
    /// each lists.
    fn mails(
        &self,
        mut entries: Vec<(Entry, i64)>,
        texts: &HashMap<i64, ItemText>,
    ) -> Vec<outbox::ActiveModel> {
        for (entry, _) in &mut entries {
            if let Some(text) = texts.get(&entry.item_id) {
                entry.serial.clone_from(&text.serial);
                entry.title.clone_from(&text.title);
                entry.requirements.clone_from(&text.requirements);
            }
        }
        notify::messages(&self.cx, &self.directory, &entries, self.now)
    }
}
