//! `cargo bench -p ducha-server --bench sweep`: seeds N open items (default 100,000; set
//! `SWEEP_BENCH_ITEMS`, e.g. 1000000) with one lead assignment each across 300 units, on
//! SQLite (a file) and on PostgreSQL (`SWEEP_BENCH_POSTGRES`, default the local server),
//! then times a plain `SELECT` over the items and their assignments beside the reminder
//! sweep: the first run (writes a 督查通知 per assignment) and a steady-state run (nothing new
//! to write). Numbers go to BENCHMARKS.md by hand.

// The report benchmark's part of the seeding goes unused here.
#[allow(dead_code)]
mod common;

use std::time::Instant;

use futures_util::TryStreamExt;

use chrono::{TimeZone, Utc};
use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::startup::Application;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

async fn run(label: &str, mut settings: Settings, n: u64) -> anyhow::Result<()> {
    settings.log = "error".into();
    let clock = Clock::manual(
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 10, 12, 8, 30, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
    );
    let app = Application::build_with_clock(&settings, clock.clone()).await?;
    let state = app.state().clone();
    let backend = state.db.get_database_backend();
    let seeding = Instant::now();
    for sql in common::seed_open_items(backend, n) {
        state
            .db
            .execute_raw(Statement::from_string(backend, sql))
            .await?;
    }
    if backend == DbBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await?;
    }
    println!("[{label}] seeded {n} items in {:.1?}", seeding.elapsed());

    let scan = Instant::now();
    let rows = state
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT i.*, a.* FROM item i JOIN assignment a ON a.item_id = i.id WHERE i.stage = 'IN_PROGRESS'",
        ))
        .await?;
    let scan_time = scan.elapsed();
    println!(
        "[{label}] plain SELECT of items × assignments: {} rows in {:.2?}",
        rows.len(),
        scan_time
    );
    drop(rows);

    let query = Instant::now();
    let rows: Vec<_> = ducha_server::service::sweep::open_assignments(&state.db, clock.now())
        .await?
        .try_collect()
        .await?;
    let query_time = query.elapsed();
    println!(
        "[{label}] the sweep's query alone: {} rows in {:.2?} ({:.1}x the plain scan)",
        rows.len(),
        query_time,
        query_time.as_secs_f64() / scan_time.as_secs_f64()
    );
    drop(rows);

    let decide = Instant::now();
    let due = ducha_server::service::sweep::plan(&state, clock.now()).await?;
    let decide_time = decide.elapsed();
    println!(
        "[{label}] sweep, read and decide: {due} notices due, {:.2?} ({:.1}x the plain scan)",
        decide_time,
        decide_time.as_secs_f64() / scan_time.as_secs_f64()
    );
    let write = Instant::now();
    let report = ducha_server::service::sweep::run_sweep(&state, "bench", clock.now()).await?;
    let write_time = write.elapsed();
    // The full sweep decides again before it writes: compare it with the decision alone.
    println!(
        "[{label}] full sweep (decides, then writes at most {} notices): {} written in {:.2?}",
        ducha_server::service::sweep::MAX_NOTICES_PER_SWEEP,
        report.notices,
        write_time,
    );
    let again = Instant::now();
    let due_after = ducha_server::service::sweep::plan(&state, clock.now()).await?;
    let again_time = again.elapsed();
    println!(
        "[{label}] read and decide again after the sweep: {due_after} still due, {:.2?} ({:.1}x the plain scan)",
        again_time,
        again_time.as_secs_f64() / scan_time.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = common::items("SWEEP_BENCH");
    common::on_both_databases("SWEEP_BENCH", |label, settings| run(label, settings, n)).await
}
