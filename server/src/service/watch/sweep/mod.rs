//! The reminder sweep (docs/rules.md §4): every open assignment is read in one narrow query,
//! the domain's ladder (`ducha_domain::ladder::decide`) decides at most one notice for it,
//! and the notices are written — the one to send, the rungs passed over as SKIPPED — at most
//! once per (assignment, kind, level) by the unique key, with one digest mail per reader for
//! the sweep, all in one transaction (`write`).
//!
//! One sweep at a time, with a lock that dies with its holder: on PostgreSQL a
//! transaction-scoped advisory lock held by the sweeping connection (a killed process drops
//! its connection and the lock with it), and a lock inside the process, which is the whole
//! story on SQLite where one process writes. The unique key on `notice` makes a race
//! harmless anyway.
//!
//! A sweep writes every RED and every first notice it decides; the rest (the rungs that can
//! wait a few hours) are capped at `MAX_NOTICES_PER_SWEEP`, most urgent first, and the
//! next sweep decides them again.

use std::collections::BinaryHeap;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use ducha_domain::Stage;
use ducha_domain::colour::AssignmentFacts;
use ducha_domain::ladder::{LadderFacts, OnRecord, Rung, RungSet, decide};
use futures_util::{Stream, TryStreamExt};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult, Set,
};

use crate::calendar_store::CalendarStore;
use crate::error::AppResult;
use crate::service::notices::notify::{self, NoticeContext};
use crate::service::watch::colours::RuleSet;
use crate::sqlite_reader::Columns;
use entity::AssignmentStatus;
use entity::sweep_slot;
use write::{ByUrgency, Decided};

mod copy_text;
mod write;

/// Notices that can wait (not RED, not a first notice) written per sweep at most, most
/// urgent first; the rest are decided again by the next sweep.
pub const MAX_NOTICES_PER_SWEEP: usize = 5_000;

/// Decisions handed to the sweep's writer at a time while the reading goes on.
const WRITE_BATCH: usize = 5_000;

/// The advisory lock key of the sweep on PostgreSQL ("ducha-sweep").
const SWEEP_LOCK_KEY: i64 = 0x6475_6368_6173_7765;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// False when another sweep holds the lock.
    pub ran: bool,
    pub assignments: usize,
    /// Notices written to be sent (each in one reader's digest).
    pub notices: usize,
    /// Rungs skipped (passed over or outranked), recorded with the notice sent, never
    /// mailed.
    pub skipped: usize,
    /// Digest mails written.
    pub emails: usize,
}

/// Held while sweeping; released by `release`, or by dying.
pub struct SweepGuard {
    _local: tokio::sync::OwnedMutexGuard<()>,
    /// On PostgreSQL, the transaction whose connection holds the advisory lock.
    held: Option<crate::service::store::write::WriteTxn>,
}

impl SweepGuard {
    pub async fn release(self) {
        if let Some(txn) = self.held {
            // Ending the transaction releases the transaction-scoped lock.
            let _ = txn.rollback().await;
        }
    }
}

/// Takes the sweep lock if it is free: `None` while another sweep (of this process, or of
/// another instance on the same PostgreSQL) holds it.
pub async fn try_lock(
    db: &DatabaseConnection,
    local: &Arc<tokio::sync::Mutex<()>>,
) -> AppResult<Option<SweepGuard>> {
    let Ok(local) = local.clone().try_lock_owned() else {
        return Ok(None);
    };
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Some(SweepGuard {
            _local: local,
            held: None,
        }));
    }
    let txn = crate::service::store::write::begin_write(db).await?;
    let row = txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            [SWEEP_LOCK_KEY.into()],
        ))
        .await?;
    let locked = match row {
        Some(row) => row.try_get::<bool>("", "locked")?,
        None => false,
    };
    if !locked {
        let _ = txn.rollback().await;
        return Ok(None);
    }
    Ok(Some(SweepGuard {
        _local: local,
        held: Some(txn),
    }))
}

/// What a sweep runs with: the database, the live calendar, where its notices go, and the
/// lock that keeps it to one sweep at a time.
#[derive(Clone)]
pub struct Sweeper {
    pub db: DatabaseConnection,
    pub calendar: CalendarStore,
    pub time_zone: chrono_tz::Tz,
    pub notices: NoticeContext,
    /// One sweep at a time in this process (and, on PostgreSQL, an advisory lock across
    /// instances).
    pub sweep_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Names this process in the record of scheduled sweeps.
    pub instance_id: String,
    /// Where sweeps that ran are counted.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// Runs `work` under the sweep lock and releases it whatever the outcome; `None` when the
/// lock is held elsewhere.
async fn locked<T>(
    state: &Sweeper,
    work: impl AsyncFnOnce() -> AppResult<T>,
) -> AppResult<Option<T>> {
    let Some(guard) = try_lock(&state.db, &state.sweep_lock).await? else {
        return Ok(None);
    };
    let outcome = work().await;
    guard.release().await;
    outcome.map(Some)
}

/// Runs one sweep at `now`, then writes the digests; `ran: false` when another sweep holds
/// the lock.
#[tracing::instrument(skip_all)]
pub async fn run_sweep(
    state: &Sweeper,
    holder: &str,
    now: DateTime<Utc>,
) -> AppResult<SweepReport> {
    let report = locked(state, async || sweep_and_digest(state, now).await).await?;
    if report.is_none() {
        tracing::debug!(holder, "another sweep holds the lock");
    }
    Ok(report.unwrap_or_default())
}

async fn sweep_and_digest(state: &Sweeper, now: DateTime<Utc>) -> AppResult<SweepReport> {
    let started = std::time::Instant::now();
    let mut report = sweep_locked(state, now, true).await?;
    // Notices an earlier version's sweep left waiting for their digest (this one writes
    // each with its mail).
    report.emails += notify::digest_pending(&state.db, &state.notices, now).await?;
    state
        .metrics
        .record_sweep(started.elapsed(), report.notices, report.emails);
    Ok(report)
}

/// The scheduled sweeps that ran, newest first.
pub async fn recent_runs(db: &DatabaseConnection, first: u64) -> AppResult<Vec<sweep_slot::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(sweep_slot::Entity::find()
        .order_by_desc(sweep_slot::Column::SlotAt)
        .limit(first)
        .all(db)
        .await?)
}

/// Has the scheduled sweep of `slot` run?
pub async fn slot_done(db: &DatabaseConnection, slot: DateTime<Utc>) -> AppResult<bool> {
    Ok(sweep_slot::Entity::find_by_id(slot)
        .one(db)
        .await?
        .is_some())
}

/// Runs the scheduled sweep of `slot` unless it ran (checked again under the lock, so two
/// instances that both saw it missing run it once) and records it. `None` when it ran
/// already or another sweep holds the lock.
#[tracing::instrument(skip_all, fields(slot = ?slot))]
pub async fn run_slot(
    state: &Sweeper,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Option<SweepReport>> {
    let ran = locked(state, async || {
        if slot_done(&state.db, slot).await? {
            return Ok(None);
        }
        let report = sweep_and_digest(state, now).await?;
        sweep_slot::Entity::insert(sweep_slot::ActiveModel {
            slot_at: Set(slot),
            holder: Set(state.instance_id.clone()),
            ran_at: Set(now),
            notices: Set(i64::try_from(report.notices).unwrap_or(i64::MAX)),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(sweep_slot::Column::SlotAt)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
        Ok(Some(report))
    })
    .await?;
    Ok(ran.flatten())
}

/// Digests notices a sweep left behind when it died between writing them and mailing them;
/// under the sweep lock, so two digests never mail the same notices.
#[tracing::instrument(skip_all)]
pub async fn digest_leftovers(state: &Sweeper, now: DateTime<Utc>) -> AppResult<usize> {
    let mailed = locked(state, async || {
        notify::digest_pending(&state.db, &state.notices, now).await
    })
    .await?;
    Ok(mailed.unwrap_or(0))
}

/// What a sweep at `now` would send, without writing anything: the read and decide half of
/// a sweep, which the benchmark compares with a plain scan.
#[tracing::instrument(skip_all)]
pub async fn plan(state: &Sweeper, now: DateTime<Utc>) -> AppResult<usize> {
    Ok(sweep_locked(state, now, false).await?.notices)
}

/// One open assignment with every fact its rungs depend on, read in a single pass: the
/// item's stage and report cycle, its rejections and reopens, the assignment's last report
/// and the notices already sent. One narrow query instead of a pass per table is what keeps
/// the sweep near the cost of a plain scan (BENCHMARKS.md).
#[derive(Debug, PartialEq)]
pub struct OpenAssignment {
    pub id: i64,
    pub item_id: i64,
    pub serial: String,
    pub unit_id: i64,
    due_at: DateTime<Utc>,
    extended_due_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    signed_at: Option<DateTime<Utc>>,
    status: AssignmentStatus,
    stage: Stage,
    report_cycle_days: Option<i32>,
    report_cycle_working_days: bool,
    last_report_at: Option<DateTime<Utc>>,
    feedback_at: Option<DateTime<Utc>>,
    rejections: Option<i64>,
    reopens: Option<i64>,
    sent_bits: Option<i64>,
    last_progress_due: Option<String>,
    last_progress_missed: Option<String>,
    lead: bool,
    first_feedback_at: Option<DateTime<Utc>>,
}

impl FromQueryResult for OpenAssignment {
    fn from_query_result(row: &sea_orm::QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        OpenAssignment::decode(row).map_err(DbErr::Type)
    }
}

/// `$1` is the sweep instant: now, or later (a test's clock moved on). The facts from the
/// history are the ones the writes keep on the item and assignment rows (migration 8), so
/// the pass no longer aggregates the report and audit tables. The notices on record (sent
/// or skipped) are summed as the bits of `RungSet`; the progress levels sort by date ("DUE
/// 2026-10-15"), so the greatest one on record is the latest cycle.
static OPEN_ASSIGNMENTS_SQL: LazyLock<String> = LazyLock::new(|| open_assignments_query(true));

/// The same rows without the notices on record (their columns NULL): what colours need, for
/// the board and the live colour refresh, which must not pay for the growing notice table.
static OPEN_ASSIGNMENT_FACTS_SQL: LazyLock<String> =
    LazyLock::new(|| open_assignments_query(false));

fn open_assignments_query(with_notices: bool) -> String {
    let bit = |rung: Rung| rung.bit();
    let (notice_columns, notice_join) = if with_notices {
        (
            "n.sent_bits, n.last_progress_due, n.last_progress_missed".to_string(),
            format!(
                "\
LEFT JOIN (SELECT assignment_id, \
                  SUM(CASE WHEN kind = 'ASSIGNMENT' AND level = 'NOTICE' THEN {assigned} \
                           WHEN kind = 'NOT_SIGNED' THEN {not_signed} \
                           WHEN kind = 'COLOUR' AND level = 'BLUE' THEN {blue} \
                           WHEN kind = 'COLOUR' AND level = 'YELLOW' THEN {yellow} \
                           WHEN kind = 'COLOUR' AND level = 'RED' THEN {red} \
                           ELSE 0 END) AS sent_bits, \
                  MAX(CASE WHEN kind = 'PROGRESS' AND level LIKE 'DUE %' THEN level END) AS last_progress_due, \
                  MAX(CASE WHEN kind = 'PROGRESS' AND level LIKE 'MISSED %' THEN level END) AS last_progress_missed \
           FROM notice GROUP BY assignment_id) n ON n.assignment_id = a.id ",
                assigned = bit(Rung::Assigned),
                not_signed = bit(Rung::NotSigned),
                blue = bit(Rung::Blue),
                yellow = bit(Rung::Yellow),
                red = bit(Rung::Red),
            ),
        )
    } else {
        (
            "CAST(NULL AS BIGINT) AS sent_bits, CAST(NULL AS TEXT) AS last_progress_due, \
             CAST(NULL AS TEXT) AS last_progress_missed"
                .to_string(),
            String::new(),
        )
    };
    format!(
        "\
SELECT a.id, a.item_id, i.serial, a.unit_id, a.due_at, a.extended_due_at, a.created_at, a.signed_at, a.status, \
       i.stage, i.report_cycle_days, i.report_cycle_working_days, a.last_report_at, \
       CASE WHEN i.stage IN ('FEEDBACK_SUBMITTED', 'VERIFIED') THEN i.feedback_at END AS feedback_at, \
       CAST(i.rejections AS BIGINT) AS rejections, \
       CASE WHEN i.reopened THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS reopens, \
       {notice_columns}, a.lead, i.first_feedback_at \
FROM assignment a \
JOIN item i ON i.id = a.item_id \
{notice_join}\
WHERE i.stage IN ('ASSIGNED', 'IN_PROGRESS', 'FEEDBACK_SUBMITTED', 'VERIFIED') \
  AND a.status <> 'WITHDRAWN' AND a.created_at <= $1"
    )
}

impl OpenAssignment {
    /// A row of the query by column position (its `SELECT` list), from either reader: the
    /// SQLite file's (`sqlite_reader`) or the pool's. An unknown stage or status is an
    /// error naming its column, not a guess.
    fn decode(row: &impl Columns) -> Result<OpenAssignment, String> {
        use sea_orm::ActiveEnum;
        let status = row.required(8, Columns::text)?;
        let status = AssignmentStatus::try_from_value(&status)
            .map_err(|_| format!("column 8: unknown assignment status {status:?}"))?;
        let stage = row.required(9, Columns::text)?;
        let stage =
            Stage::parse(&stage).ok_or_else(|| format!("column 9: unknown stage {stage:?}"))?;
        let int32 = |at: usize| -> Result<Option<i32>, String> {
            row.int(at)?
                .map(|n| i32::try_from(n).map_err(|_| format!("column {at}: {n} out of range")))
                .transpose()
        };
        Ok(OpenAssignment {
            id: row.required(0, Columns::int)?,
            item_id: row.required(1, Columns::int)?,
            serial: row.required(2, Columns::text)?,
            unit_id: row.required(3, Columns::int)?,
            due_at: row.required(4, Columns::time)?,
            extended_due_at: row.time(5)?,
            created_at: row.required(6, Columns::time)?,
            signed_at: row.time(7)?,
            status,
            stage,
            report_cycle_days: int32(10)?,
            report_cycle_working_days: row.required(11, Columns::flag)?,
            last_report_at: row.time(12)?,
            feedback_at: row.time(13)?,
            rejections: row.int(14)?,
            reopens: row.int(15)?,
            sent_bits: row.int(16)?,
            last_progress_due: row.text(17)?,
            last_progress_missed: row.text(18)?,
            lead: row.required(19, Columns::flag)?,
            first_feedback_at: row.time(20)?,
        })
    }

    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OpenAssignment> {
        OpenAssignment::decode(row).map_err(|why| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, why.into())
        })
    }

    /// What the colour rules need of this assignment.
    pub fn facts(&self) -> AssignmentFacts {
        AssignmentFacts {
            stage: self.stage,
            due_at: self.due_at,
            extended_due_at: self.extended_due_at,
            rejections: self.rejections.unwrap_or(0),
            reopened: self.reopens.unwrap_or(0) > 0,
            report_cycle_days: self.report_cycle_days,
            report_cycle_working_days: self.report_cycle_working_days,
            last_report_or_assigned_at: self.last_report_at.unwrap_or(self.created_at),
            feedback_at: self.feedback_at,
            lead: self.lead,
            first_feedback_at: self.first_feedback_at,
            own_report_at: self.last_report_at,
        }
    }

    /// What the ladder needs of this assignment.
    pub fn ladder_facts(&self) -> LadderFacts {
        LadderFacts {
            colour: self.facts(),
            assigned_at: self.created_at,
            live: self.status == AssignmentStatus::Active,
            signed: self.signed_at.is_some(),
        }
    }

    /// The notices on record for this assignment, sent or skipped.
    pub fn on_record(&self) -> OnRecord {
        let cycle = |level: &Option<String>| {
            level
                .as_deref()
                .and_then(|l| l.split_once(' '))
                .and_then(|(_, d)| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        OnRecord {
            rungs: RungSet::from_bits(
                u8::try_from(self.sent_bits.unwrap_or(0) & 0x7f).unwrap_or_default(),
            ),
            progress_due: cycle(&self.last_progress_due),
            progress_missed: cycle(&self.last_progress_missed),
        }
    }
}

/// The sweep's query (`$1` the sweep instant), for benchmarks that time the database's own
/// client reading the same rows.
pub fn open_assignments_sql() -> &'static str {
    &OPEN_ASSIGNMENTS_SQL
}

/// Rows of `open_assignments`, as they arrive.
pub type OpenAssignments<'a> =
    Pin<Box<dyn Stream<Item = Result<OpenAssignment, sea_orm::DbErr>> + Send + 'a>>;

/// Every open item's live assignments with the facts their colours and notices depend on,
/// as of `now`, in one query, streamed: the sweep decides each row as it arrives (deciding
/// overlaps the transfer, and rows are not kept), and live dashboards recompute colours
/// from the same rows.
pub async fn open_assignments(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'_>> {
    stream_of(db, &OPEN_ASSIGNMENTS_SQL, now).await
}

/// As [`open_assignments`], without the notices on record (`on_record` is empty): the facts
/// of the open assignments' colours, for readers that do not send anything.
pub async fn open_assignment_facts(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'_>> {
    stream_of(db, &OPEN_ASSIGNMENT_FACTS_SQL, now).await
}

/// The rows of [`open_assignment_facts`] of the items `among` only: the board's, for the
/// items a change touched.
pub async fn open_assignment_facts_among(
    db: &impl sea_orm::ConnectionTrait,
    now: DateTime<Utc>,
    among: &[i64],
) -> AppResult<Vec<OpenAssignment>> {
    let backend = db.get_database_backend();
    let sql = format!(
        "{} AND a.item_id IN {}",
        *OPEN_ASSIGNMENT_FACTS_SQL,
        crate::service::store::sql::json_ids_in(backend, 2)
    );
    Ok(
        OpenAssignment::find_by_statement(crate::service::store::sql::statement(
            backend,
            &sql,
            vec![now.into(), crate::service::store::sql::json_ids(among)],
        ))
        .all(db)
        .await?,
    )
}

/// The sweep's rows through the connection pool, also on SQLite: what a database in
/// memory is read with, and what the file reader must agree with.
pub async fn open_assignments_from_pool(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'_>> {
    through_pool(db, &OPEN_ASSIGNMENTS_SQL, now).await
}

/// On SQLite with a file, the rows come from `sqlite_reader` (a blocking thread, in
/// batches: within 2× of the `sqlite3` client, where sqlx's row-by-row hand-over took
/// 3–8×); otherwise through the pool.
async fn stream_of<'a>(
    db: &'a DatabaseConnection,
    sql: &str,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'a>> {
    if let Some(file) = crate::sqlite_reader::database_file(db).await? {
        return Ok(crate::sqlite_reader::rows(
            file,
            sql.replace('$', "?"),
            vec![crate::sqlite_reader::timestamp_parameter(now)],
            OpenAssignment::from_sqlite_row,
        ));
    }
    through_pool(db, sql, now).await
}

async fn through_pool<'a>(
    db: &'a DatabaseConnection,
    sql: &str,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'a>> {
    Ok(
        OpenAssignment::find_by_statement(crate::service::store::sql::statement(
            db.get_database_backend(),
            sql,
            vec![now.into()],
        ))
        .stream(db)
        .await?,
    )
}

async fn sweep_locked(state: &Sweeper, now: DateTime<Utc>, write: bool) -> AppResult<SweepReport> {
    let db = &state.db;
    let rule_set = RuleSet::load(&state.db, &state.calendar, state.time_zone).await?;
    let calendar = &rule_set.calendar;
    let policy = &rule_set.policy;
    let tz = rule_set.time_zone;
    let started = std::time::Instant::now();
    // The RED and first notices are written as they are decided, beside the reading; the
    // capped rest when the reading is done. Not in a private in-memory SQLite, whose
    // connections lock whole tables against each other (its rows come through the pool).
    let overlap = db.get_database_backend() == DbBackend::Postgres
        || crate::sqlite_reader::database_file(db).await?.is_some();
    let mut pipeline =
        write.then(|| write::Pipeline::start(db.clone(), state.notices.clone(), tz, now));
    let mut rows = open_assignments(db, now).await?;
    let mut assignments = 0;
    let mut urgent: Vec<Decided> = Vec::new();
    let mut urgent_total = 0;
    let mut capped: BinaryHeap<ByUrgency> = BinaryHeap::new();
    let mut decided_total = 0;
    let mut pacer = crate::service::store::sql::Pacer::default();
    while let Some(row) = rows.try_next().await? {
        pacer.row().await;
        assignments += 1;
        let decision = decide(
            calendar,
            tz,
            policy,
            &row.ladder_facts(),
            &row.on_record(),
            now,
        );
        if decision.send.is_none() {
            continue;
        }
        decided_total += 1;
        let decided = Decided {
            assignment_id: row.id,
            item_id: row.item_id,
            unit_id: row.unit_id,
            due_at: row.extended_due_at.unwrap_or(row.due_at),
            extended: row.extended_due_at.is_some(),
            lead: row.lead,
            signed: row.signed_at.is_some(),
            decision,
        };
        if decided.cannot_wait() {
            urgent.push(decided);
            urgent_total += 1;
            if let Some(pipeline) = pipeline.as_mut().filter(|_| overlap)
                && urgent.len() >= WRITE_BATCH
            {
                pipeline.write(std::mem::take(&mut urgent)).await?;
            }
        } else {
            capped.push(ByUrgency(decided));
            if capped.len() > MAX_NOTICES_PER_SWEEP {
                capped.pop();
            }
        }
    }
    drop(rows);
    let mut report = SweepReport {
        ran: true,
        assignments,
        ..SweepReport::default()
    };
    let Some(mut pipeline) = pipeline else {
        report.notices = decided_total;
        return Ok(report);
    };
    let capped_total = capped.len();
    let held_back = decided_total - urgent_total - capped_total;
    if held_back > 0 {
        tracing::warn!(
            held_back,
            cap = MAX_NOTICES_PER_SWEEP,
            "sweep capped the notices that can wait; the next sweep decides them again"
        );
    }
    let decided_in = started.elapsed();
    let mut rest: Vec<Decided> = urgent;
    rest.extend(capped.into_sorted_vec().into_iter().map(|d| d.0));
    pipeline.write(rest).await?;
    let written = pipeline.finish().await?;
    report.notices = written.sent;
    report.skipped = written.skipped;
    report.emails = written.emails;
    tracing::info!(
        assignments,
        decided = urgent_total + capped_total,
        read_ms = decided_in.as_millis(),
        after_read_ms = (started.elapsed() - decided_in).as_millis(),
        "sweep decided, wrote and mailed its notices"
    );
    Ok(report)
}
