//! `cargo bench -p ducha-server --bench sweep`: seeds N open items (default 100,000; set
//! `SWEEP_BENCH_ITEMS`, e.g. 1000000) with one lead assignment each across 300 units, on
//! SQLite (a file) and on PostgreSQL (`SWEEP_BENCH_POSTGRES`, default the local server).
//! The baseline is the database's own command-line client reading the sweep's rows
//! (`psql \copy (…) TO '/dev/null'`, `sqlite3 … > /dev/null`), timed in the same run; then
//! the sweep's read-and-decide half, a first sweep (every RED written, the rest capped), and
//! a steady-state sweep (nothing new), each with the process's peak RSS while it ran. A
//! quarter of the seeded items are seriously overdue (RED) on the sweep's day, a quarter
//! slightly overdue (YELLOW, capped), half on track. Numbers go to BENCHMARKS.md by hand.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// The report benchmark's part of the seeding goes unused here.
#[allow(dead_code)]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::startup::Application;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The outbox's rows by channel: mail and every other channel's messages.
async fn outbox_rows(state: &ducha_server::state::AppState) -> anyhow::Result<String> {
    let backend = state.db.get_database_backend();
    let rows = state
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT channel, COUNT(*) AS n FROM outbox GROUP BY channel ORDER BY channel",
        ))
        .await?;
    let mut counts = Vec::new();
    for row in rows {
        counts.push(format!(
            "{} {}",
            row.try_get::<String>("", "channel")?,
            row.try_get::<i64>("", "n")?
        ));
    }
    Ok(counts.join(", "))
}

/// The database's own client reading the sweep's rows, discarding them.
fn cli_read(settings: &Settings, sql: &str) -> anyhow::Result<Duration> {
    let url = &settings.database_url;
    let started = Instant::now();
    let status = if url.starts_with("postgres") {
        Command::new("psql")
            .args([
                url.as_str(),
                "-q",
                "-c",
                &format!("\\copy ({sql}) TO '/dev/null'"),
            ])
            .stdout(Stdio::null())
            .status()?
    } else {
        let file = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default();
        Command::new("sqlite3")
            .args([file, sql])
            .stdout(Stdio::null())
            .status()?
    };
    anyhow::ensure!(status.success(), "the database client failed");
    Ok(started.elapsed())
}

/// `SWEEP_BENCH_CHANNELS=1`: channels besides mail as a district might register them — a
/// group robot for each of the 300 units, a head without a mail address in each with a phone
/// taking every notice, and the SMS platform. Nothing listens at their addresses: the bench
/// measures the sweep writing their messages, not their delivery.
fn channels_sql(backend: DbBackend) -> Vec<String> {
    let pg = backend == DbBackend::Postgres;
    let series = if pg {
        "SELECT g FROM generate_series(1, 300) AS t(g)".to_string()
    } else {
        "WITH RECURSIVE t(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM t WHERE g < 300) SELECT g FROM t"
            .to_string()
    };
    let (yes, json) = if pg {
        ("true", "CAST('{}' AS JSON)")
    } else {
        ("1", "'{}'")
    };
    let at = "'2026-09-01T00:00:00+00:00'";
    vec![
        format!(
            "INSERT INTO person (name, role, unit_id, sign_in_failures, created_at)              SELECT '主任' || CAST(g AS TEXT), 'UNIT_HEAD', g, 0, {at} FROM ({series}) s"
        ),
        format!(
            "INSERT INTO channel (kind, unit_id, name, address, settings, secret, from_level, enabled, created_at)              SELECT 'WECOM_ROBOT', g, '群' || CAST(g AS TEXT), 'http://127.0.0.1:9/cgi-bin/webhook/send',              {json}, 'k' || CAST(g AS TEXT), 'ALL', {yes}, {at} FROM ({series}) s"
        ),
        format!(
            "INSERT INTO channel (kind, person_id, name, address, settings, from_level, enabled, created_at)              SELECT 'SMS', id, name, '13800000000', {json}, 'ALL', {yes}, {at} FROM person WHERE role = 'UNIT_HEAD'"
        ),
        format!(
            "INSERT INTO channel (kind, name, address, settings, from_level, enabled, created_at)              VALUES ('SMS_GATEWAY', '短信平台', 'http://127.0.0.1:9/sms', {json}, 'ALL', {yes}, {at})"
        ),
    ]
}

async fn run(label: &str, mut settings: Settings, n: u64) -> anyhow::Result<()> {
    settings.log = "error".into();
    let now = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 10, 12, 8, 30, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let clock = Clock::manual(now);
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
    let with_channels = std::env::var("SWEEP_BENCH_CHANNELS").is_ok_and(|v| v == "1");
    if with_channels {
        for sql in channels_sql(backend) {
            state
                .db
                .execute_raw(Statement::from_string(backend, sql))
                .await?;
        }
    }
    if backend == DbBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await?;
    }
    println!(
        "[{label}] seeded {n} items in {:.1?}{}",
        seeding.elapsed(),
        if with_channels {
            ", with a robot per unit and a head with a phone per unit"
        } else {
            ""
        }
    );

    let sql = ducha_server::service::watch::sweep::open_assignments_sql()
        .replace("$1", "'2026-10-12T00:30:00+00:00'");
    // The client's first read warms the cache for everyone; time the second.
    cli_read(&settings, &sql)?;
    let cli = cli_read(&settings, &sql)?;
    println!("[{label}] database client reads the sweep's rows: {cli:.2?}");
    let ratio = |d: Duration| d.as_secs_f64() / cli.as_secs_f64();

    common::reset_peak_rss();
    let decide = Instant::now();
    let due = ducha_server::service::watch::sweep::plan(&state.sweeper(), clock.now()).await?;
    let decide_time = decide.elapsed();
    println!(
        "[{label}] read and decide: {due} notices due, {decide_time:.2?} ({:.1}x the client), peak RSS {:.0} MB",
        ratio(decide_time),
        common::peak_rss_mb()
    );

    common::reset_peak_rss();
    let first = Instant::now();
    let report =
        ducha_server::service::watch::sweep::run_sweep(&state.sweeper(), "bench", clock.now())
            .await?;
    let first_time = first.elapsed();
    let red: i64 = state
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM notice WHERE kind = 'COLOUR' AND level = 'RED'",
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    println!(
        "[{label}] first sweep: {} notices written ({red} RED, every one; the others capped at {}), {} mails, outbox by channel: {}, {:.2?}, peak RSS {:.0} MB",
        report.notices,
        ducha_server::service::watch::sweep::MAX_NOTICES_PER_SWEEP,
        report.emails,
        outbox_rows(&state).await?,
        first_time,
        common::peak_rss_mb()
    );

    // The rows now include the notices just written: the client reads them again.
    cli_read(&settings, &sql)?;
    let cli_after = cli_read(&settings, &sql)?;
    println!("[{label}] database client reads the sweep's rows again: {cli_after:.2?}");
    let ratio = |d: Duration| d.as_secs_f64() / cli_after.as_secs_f64();

    common::reset_peak_rss();
    let steady = Instant::now();
    let again =
        ducha_server::service::watch::sweep::run_sweep(&state.sweeper(), "bench", clock.now())
            .await?;
    let steady_time = steady.elapsed();
    println!(
        "[{label}] next sweep: {} written, {} mails, {steady_time:.2?} ({:.1}x the client), peak RSS {:.0} MB",
        again.notices,
        again.emails,
        ratio(steady_time),
        common::peak_rss_mb()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = common::items("SWEEP_BENCH");
    // `SWEEP_BENCH_LOG=ducha_server::service::watch::sweep=info` shows the sweep's phases.
    let _log = std::env::var("SWEEP_BENCH_LOG")
        .ok()
        .map(|filter| ducha_server::telemetry::init(&filter));
    common::on_both_databases("SWEEP_BENCH", |label, settings| run(label, settings, n)).await
}
