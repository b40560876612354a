//! `API_BENCH_DATABASE_URL=postgres://… cargo bench -p ducha-server --bench api_data`: seeds
//! the database of the API benchmark (`scripts/bench-api/run.sh`, ducha beside PostGraphile)
//! and of the write benchmark (`scripts/bench-api/writes.sh`, PostgreSQL or a SQLite file).
//! Migrates the database as `ducha serve` would (person 1 the first administrator), then
//! seeds in plain SQL: person 2 a supervisor, 300 units, N items (`API_BENCH_ITEMS`, default
//! 100,000) with a lead unit each and a co-unit for every other one (about 1.5 assignments
//! per item, as the measurements had), October's outcomes (closings, rejections,
//! extensions) so that colours and due dates vary, and person 3, a clerk of unit 2 (whose
//! items are all open), who reports progress in the write benchmark.

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
        anyhow::bail!("set API_BENCH_DATABASE_URL to the database to seed");
    };
    let n = common::items("API_BENCH");
    let mut settings = Settings::for_tests();
    settings.database_url = url;
    settings.log = "error".into();
    let app = Application::build_with_clock(&settings, Clock::system()).await?;
    let db = &app.state().db;
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let at = |text: &str| {
        if postgres {
            format!("CAST('{text}' AS timestamptz)")
        } else {
            format!("'{text}'")
        }
    };
    let no = if postgres { "false" } else { "0" };
    let co_units = format!(
        "INSERT INTO assignment (item_id, unit_id, lead, status, due_at, calendar_version, \
         provisional, paused_working_days, signed_at, created_at) \
         SELECT id, 1 + (id + 150) % 300, {no}, 'ACTIVE', {}, 'bench', {no}, 0, {}, {} \
         FROM item WHERE id % 2 = 0",
        at("2026-11-30T10:00:00+00:00"),
        at("2026-09-20T02:00:00+00:00"),
        at("2026-09-20T01:00:00+00:00"),
    );
    let clerk = "INSERT INTO person (name, email, role, unit_id, created_at) \
         VALUES ('单位二经办人', 'clerk2@example.gov.cn', 'UNIT_STAFF', 2, '2026-09-01T00:00:00+00:00')"
        .to_string();
    for sql in common::seed_open_items(backend, n)
        .into_iter()
        .chain([co_units, clerk])
        .chain(common::seed_october_outcomes(backend))
    {
        db.execute_raw(Statement::from_string(backend, sql)).await?;
    }
    db.execute_unprepared("ANALYZE").await?;
    println!("seeded {n} items with about {} assignments", n + n / 2);
    Ok(())
}
