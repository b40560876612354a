//! `cargo bench -p ducha-server --bench report`: seeds N items (default 100,000; set
//! `REPORT_BENCH_ITEMS`) across 300 units with a month of outcomes (closed on time and late,
//! reworked, extended, still open and overdue) on SQLite and PostgreSQL, then times the
//! monthly report of October 2026: loading its facts, computing the figures, rendering HTML,
//! XLSX and CSV, and the whole publication (all of it, plus storing the version and its
//! emails). Target (issue 5): a report over 100,000 items and 300 units within 1 s.

mod common;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use ducha_report::Month;
use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::service::reports;
use ducha_server::startup::Application;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

async fn run(label: &str, mut settings: Settings, n: u64) -> anyhow::Result<()> {
    settings.log = "error".into();
    let now = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let app = Application::build_with_clock(&settings, Clock::manual(now)).await?;
    let state = app.state().clone();
    let backend = state.db.get_database_backend();
    let seeding = Instant::now();
    for sql in common::seed_open_items(backend, n)
        .into_iter()
        .chain(common::seed_october_outcomes(backend))
    {
        state
            .db
            .execute_raw(Statement::from_string(backend, sql))
            .await?;
    }
    if backend == DbBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await?;
    }
    println!("[{label}] seeded {n} items in {:.1?}", seeding.elapsed());
    let october: Month = "2026-10".parse()?;

    let loading = Instant::now();
    let facts = reports::load_facts(&state.db, october, chrono_tz::Asia::Shanghai, 90).await?;
    let load_time = loading.elapsed();
    let computing = Instant::now();
    let report = reports::compute(state.publisher(), october, now).await?;
    let compute_time = computing.elapsed();
    println!(
        "[{label}] load facts ({} items, {} assignments): {load_time:.2?}; load + compute: {compute_time:.2?}",
        facts.items.len(),
        facts.assignments.len()
    );
    let t = Instant::now();
    let html = ducha_report::render::html(&report, 1, &[], reports::OFFICE)?;
    let html_time = t.elapsed();
    let t = Instant::now();
    let xlsx = ducha_report::render::xlsx(&report)?;
    let xlsx_time = t.elapsed();
    let t = Instant::now();
    let csv = ducha_report::render::csv(&report)?;
    let csv_time = t.elapsed();
    println!(
        "[{label}] HTML {} KB in {html_time:.2?}; XLSX {} KB in {xlsx_time:.2?}; CSV {} KB in {csv_time:.2?} \
         ({} red, {} yellow items listed)",
        html.len() / 1024,
        xlsx.len() / 1024,
        csv.len() / 1024,
        report.red_items.len(),
        report.yellow_items.len()
    );
    let t = Instant::now();
    let published =
        reports::publish(state.publisher(), october, None, Some("基准测试"), now).await?;
    println!(
        "[{label}] publish (load, compute, render the email, store v{}): {:.2?}",
        published.published.version,
        t.elapsed()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = common::items("REPORT_BENCH");
    common::on_both_databases("REPORT_BENCH", |label, settings| run(label, settings, n)).await
}
