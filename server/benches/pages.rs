//! `cargo bench -p ducha-server --bench pages`: the web pages' server time for a district of
//! 300 units and N items (default 100,000; set `PAGES_BENCH_ITEMS`), on SQLite and
//! PostgreSQL. Seeds the items as the report benchmark does, signs in an office person and a
//! unit head, then requests each page through the service's own routes (session cookie,
//! middleware and all, no network) 15 times and prints the median and the slowest.
//! Target (issue 13): each page under 50 ms.

mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ducha_server::auth::password::{self, Password};
use ducha_server::auth::session::{self, SessionPolicy};
use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::startup::Application;
use poem::{Endpoint, Request};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const ROUNDS: usize = 15;

async fn signed_in(
    state: &ducha_server::state::AppState,
    person_id: i64,
    account: &str,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<String> {
    let backend = state.db.get_database_backend();
    state
        .db
        .execute_raw(Statement::from_string(
            backend,
            format!("UPDATE person SET account = '{account}' WHERE id = {person_id}"),
        ))
        .await?;
    let secret = Password::parse("bench-pass-1")?;
    session::store_password(&state.db, person_id, password::hash(&secret).await?).await?;
    let policy = SessionPolicy {
        idle: chrono::Duration::hours(2),
        lifetime: chrono::Duration::hours(12),
    };
    match session::sign_in(&state.db, account, secret.expose(), now, policy).await? {
        Ok(opened) => Ok(format!("ducha_session={}", opened.secret)),
        Err(refused) => anyhow::bail!("bench sign-in refused: {refused}"),
    }
}

/// One audit row, as every change writes: the held board is out of date after it.
async fn write_once(state: &ducha_server::state::AppState, round: usize) -> anyhow::Result<()> {
    // A progress report as the verb writes it: the assignment's kept fact and its audit
    // row, on a different item each round.
    let item_id = 1 + (round * 7919) % 90_000;
    let backend = state.db.get_database_backend();
    state
        .db
        .execute_raw(Statement::from_string(
            backend,
            format!(
                "UPDATE assignment SET last_report_at = '2026-11-02T01:00:00+00:00' WHERE item_id = {item_id}"
            ),
        ))
        .await?;
    state
        .db
        .execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO audit_event (item_id, at, action, details) \
                 VALUES ({item_id}, '2026-11-02T01:00:00+00:00', 'REPORT_PROGRESS', '{{\"round\": {round}}}')"
            ),
        ))
        .await?;
    Ok(())
}

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
    for sql in common::seed_open_items(backend, n)
        .into_iter()
        .chain(common::seed_october_outcomes(backend))
        .chain([
            "INSERT INTO person (name, role, unit_id, created_at, sign_in_failures) VALUES ('单位负责人', 'UNIT_HEAD', 7, '2026-09-01T00:00:00+00:00', 0)".to_string(),
            // One item registered and not assigned, for the 交办 form.
            format!(
                "INSERT INTO item (id, serial, year, seq, title, requirements, source_kind, source_reference, urgency, \
                 deadline_rule, deadline_explicit, stage, version, created_by, created_at, updated_at) \
                 VALUES ({}, '督〔2026〕待交办号', 2026, {}, '待交办事项', '按要求办理', 'OTHER', '', 'NORMAL', '5个工作日', {}, \
                 'REGISTERED', 1, 1, '2026-11-01T01:00:00+00:00', '2026-11-01T01:00:00+00:00')",
                n + 1,
                n + 1,
                if backend == DbBackend::Postgres { "true" } else { "1" }
            ),
        ])
    {
        state
            .db
            .execute_raw(Statement::from_string(backend, sql))
            .await?;
    }
    if backend == DbBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await?;
    }
    // Person 1 is the first administrator, 2 the seeded supervisor, 3 the unit head.
    let office = signed_in(&state, 2, "bench-office", now).await?;
    let unit = signed_in(&state, 3, "bench-unit", now).await?;
    let admin = signed_in(&state, 1, "bench-admin", now).await?;
    let routes = ducha_server::http::routes(state.clone());
    let item = n / 2;
    let pages = [
        ("board", "/board", &office),
        ("board, part (live reload)", "/board?part=1", &office),
        ("to-do, office", "/todo", &office),
        ("ledger, first page", "/items", &office),
        ("ledger, red", "/items?colour=RED", &office),
        (
            "ledger, due within 3 working days",
            "/items?within=3",
            &office,
        ),
        (
            "ledger, text",
            "/items?q=%E5%9F%BA%E5%87%86%E4%BA%8B%E9%A1%B9777",
            &office,
        ),
        ("item page", &format!("/items/{item}"), &office),
        ("立项 form", "/items/new", &office),
        (
            "交办 form (300 units)",
            &format!("/items/{}/assign", n + 1),
            &office,
        ),
        ("units (admin, 300)", "/admin/units", &admin),
        ("people (admin)", "/admin/people", &admin),
        ("policy (admin)", "/admin/policy", &admin),
        ("calendar (admin)", "/admin/calendar", &admin),
        ("mail queue", "/admin/mail", &office),
        ("to-do, unit (333 items)", "/todo", &unit),
        ("ledger, unit", "/items", &unit),
        ("item page, unit", "/items/6", &unit),
    ];
    for (name, path, cookie) in pages {
        let mut times: Vec<Duration> = Vec::with_capacity(ROUNDS);
        let mut status = 0;
        let mut bytes = 0;
        for _ in 0..ROUNDS {
            let request = Request::builder()
                .uri(path.parse()?)
                .header("Cookie", cookie.as_str())
                .finish();
            let started = Instant::now();
            let response = routes.call(request).await?;
            status = response.status().as_u16();
            bytes = response.into_body().into_bytes().await?.len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "[{label}] {name:<36} {status} {:>4} KB  median {:>8.1?}  slowest {:>8.1?}",
            bytes / 1024,
            times[ROUNDS / 2],
            times[ROUNDS - 1]
        );
    }
    // A write before each read: the first reader after a change brings the board up to date
    // (unless the live tail, not running here, got there first), judging again the item the
    // write touched (issue 32; it recomputed the whole board before).
    let mut times: Vec<Duration> = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        write_once(&state, round).await?;
        let request = Request::builder()
            .uri("/board?part=1".parse()?)
            .header("Cookie", office.as_str())
            .finish();
        let started = Instant::now();
        routes.call(request).await?.into_body().into_bytes().await?;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "[{label}] {:<36}              median {:>8.1?}  slowest {:>8.1?}",
        "board, part, after a write",
        times[ROUNDS / 2],
        times[ROUNDS - 1]
    );
    // The two ways of computing it, alone.
    let rule_set = state.rule_set().await?;
    for (name, shared) in [
        ("board computed now (one pass)", true),
        ("board as of now (rows whole)", false),
    ] {
        let mut times: Vec<Duration> = Vec::with_capacity(5);
        for _ in 0..5 {
            let started = Instant::now();
            if shared {
                ducha_server::service::watch::board::board_now(&state.db, &rule_set, now).await?;
            } else {
                ducha_server::service::watch::board::board_as_of(&state.db, &rule_set, now).await?;
            }
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "[{label}] {name:<36}              median {:>8.1?}  slowest {:>8.1?}",
            times[2], times[4]
        );
    }
    // A healthy district: red is rare (one item in a thousand). Without a current board the
    // red ledger judges every open item to find the few; with one, only the candidates.
    state
        .db
        .execute_unprepared(
            "UPDATE assignment SET due_at = extended_due_at WHERE extended_due_at IS NOT NULL",
        )
        .await?;
    let far = if backend == DbBackend::Postgres {
        "CAST('2026-12-31T10:00:00+00:00' AS timestamptz)"
    } else {
        "'2026-12-31T10:00:00+00:00'"
    };
    state
        .db
        .execute_unprepared(&format!(
            "UPDATE assignment SET due_at = {far}, extended_due_at = NULL WHERE item_id % 1000 <> 7"
        ))
        .await?;
    state
        .db
        .execute_unprepared(
            "DELETE FROM audit_event WHERE action = 'REJECT' AND item_id % 1000 <> 7",
        )
        .await?;
    // Written by hand, behind the instance's back: it is told, as whoever changes rows by
    // hand must tell it (a held board is otherwise kept up to date only with what the audit
    // trail and the change feed say).
    state
        .changes
        .publish(ducha_server::changes::Change::AllItems);
    for (name, with_board) in [
        ("ledger, rare red, no board held", false),
        ("ledger, rare red, board held", true),
    ] {
        let mut times: Vec<Duration> = Vec::with_capacity(5);
        let mut bytes = 0;
        for round in 0..5 {
            // A write makes the held board out of date; reading the board makes a new one.
            write_once(&state, round).await?;
            if with_board {
                state.board.now(&state.board_sources()).await?;
            }
            let request = Request::builder()
                .uri("/items?colour=RED".parse()?)
                .header("Cookie", office.as_str())
                .finish();
            let started = Instant::now();
            bytes = routes
                .call(request)
                .await?
                .into_body()
                .into_bytes()
                .await?
                .len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "[{label}] {name:<36}      {:>4} KB  median {:>8.1?}  slowest {:>8.1?}",
            bytes / 1024,
            times[2],
            times[4]
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = common::items("PAGES_BENCH");
    common::on_both_databases("PAGES_BENCH", |label, settings| run(label, settings, n)).await
}
