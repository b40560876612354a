//! The reminder sweep (docs/rules.md §4): every open assignment is read in one narrow query,
//! the domain's ladder (`ducha_domain::ladder::decide`) decides at most one notice for it,
//! and the notices are written — the one to send, the rungs passed over as SKIPPED — at most
//! once per (assignment, kind, level) by the unique key, with one digest mail per reader, in
//! one transaction (`write`; a backlog of more than `NOTICES_PER_PART` notices in one
//! transaction and one digest a part).
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
//!
//! Split by job: `open` (the one read) and `rows` (a decision and the rows it makes) ←
//! `copy` (PostgreSQL's `COPY`) and `statements` (bulk statements) ← `write` (the writer's
//! task and its transaction) ← this module (the lock, the slots, the deciding loop).

use std::collections::BinaryHeap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ducha_domain::ladder::decide;
use futures_util::TryStreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Set};

use crate::calendar_store::CalendarStore;
use crate::error::AppResult;
use crate::service::notices::notify::{self, NoticeContext};
use crate::service::watch::colours::RuleSet;
use entity::sweep_slot;
pub use open::*;
use rows::{ByUrgency, Decided};
pub use write::NOTICES_PER_PART;

mod copy;
mod open;
mod rows;
mod statements;
mod tasks;
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
    /// Notices a transaction of the sweep takes at most ([`NOTICES_PER_PART`]; tests use
    /// fewer).
    pub notices_per_part: usize,
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

/// Runs one sweep at `now`, then mails what an earlier version left waiting for its digest;
/// `ran: false` when another sweep holds the lock.
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
    // Then the tasks handed down: a red one climbs a level (docs/rules.md §8).
    let climb = tasks::Climb {
        db: &state.db,
        calendar: &state.calendar,
        time_zone: state.time_zone,
        notices: &state.notices,
    };
    let (notices, mails) = tasks::climb_red_tasks(climb, now).await?;
    report.notices += notices;
    report.emails += mails;
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

async fn sweep_locked(state: &Sweeper, now: DateTime<Utc>, write: bool) -> AppResult<SweepReport> {
    let db = &state.db;
    let rule_set = RuleSet::load(&state.db, &state.calendar, state.time_zone).await?;
    let calendar = &rule_set.calendar;
    let policy = &rule_set.policy;
    let tz = rule_set.time_zone;
    let started = std::time::Instant::now();
    // On PostgreSQL the RED and first notices are written as they are decided, beside the
    // reading; the capped rest when the reading is done. That takes a third connection while
    // the read holds one and the sweep lock another, so not with a pool of fewer than 5.
    // Not on SQLite: its one writer would be held for the whole read, and every verb wait.
    let overlap = db.get_database_backend() == DbBackend::Postgres
        && db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections()
            >= 5;
    let mut pipeline = write.then(|| {
        write::Pipeline::start(
            db.clone(),
            state.notices.clone(),
            state.notices_per_part,
            tz,
            now,
        )
    });
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
