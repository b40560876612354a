//! `API_BENCH_DATABASE_URL=postgres://… cargo bench -p ducha-server --bench api_data`: seeds
//! the database of the API benchmark (`scripts/bench-api/run.sh`, ducha beside PostGraphile).
//! Migrates the database as `ducha serve` would (person 1 the first administrator), then
//! seeds in plain SQL: person 2 a supervisor, 300 units, N items (`API_BENCH_ITEMS`, default
//! 100,000) with a lead unit each and a co-unit for every other one (about 1.5 assignments
//! per item, as the measurements had), and October's outcomes (closings, rejections,
//! extensions) so that colours and due dates vary.

// Seeds only: running on both databases is for the benchmarks that measure here.
#[allow(dead_code)]
mod common;

use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::startup::Application;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("API_BENCH_DATABASE_URL") else {
        anyhow::bail!("set API_BENCH_DATABASE_URL to the PostgreSQL database to seed");
    };
    let n = common::items("API_BENCH");
    let mut settings = Settings::for_tests();
    settings.database_url = url;
    settings.log = "error".into();
    let app = Application::build_with_clock(&settings, Clock::system()).await?;
    let db = &app.state().db;
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        anyhow::bail!("the API benchmark compares with PostGraphile, which needs PostgreSQL");
    }
    let co_units = "INSERT INTO assignment (item_id, unit_id, lead, status, due_at, calendar_version, \
         provisional, paused_working_days, signed_at, created_at) \
         SELECT id, 1 + (id + 150) % 300, false, 'ACTIVE', \
         CAST('2026-11-30T10:00:00+00:00' AS timestamptz), 'bench', false, 0, \
         CAST('2026-09-20T02:00:00+00:00' AS timestamptz), CAST('2026-09-20T01:00:00+00:00' AS timestamptz) \
         FROM item WHERE id % 2 = 0"
        .to_string();
    for sql in common::seed_open_items(backend, n)
        .into_iter()
        .chain([co_units])
        .chain(common::seed_october_outcomes(backend))
    {
        db.execute_raw(Statement::from_string(backend, sql)).await?;
    }
    db.execute_unprepared("ANALYZE").await?;
    println!("seeded {n} items with about {} assignments", n + n / 2);
    Ok(())
}
