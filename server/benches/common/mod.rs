//! What the benchmarks share: running on a fresh SQLite file and a fresh PostgreSQL
//! database, and seeding in plain SQL, so a million rows take seconds, not the minutes the
//! API would.

use std::future::Future;

use ducha_server::config::Settings;
use sea_orm::{ConnectionTrait, Database, DbBackend};

/// The item count: `<PREFIX>_ITEMS` from the environment, 100,000 by default.
pub fn items(prefix: &str) -> u64 {
    std::env::var(format!("{prefix}_ITEMS"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Runs `run` on a new SQLite file, then on a new database of the PostgreSQL server at
/// `<PREFIX>_POSTGRES` (default: the local one), and removes both afterwards.
pub async fn on_both_databases<F, Fut>(prefix: &str, run: F) -> anyhow::Result<()>
where
    F: Fn(&'static str, Settings) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    // `<PREFIX>_ONLY=sqlite` or `=postgres` runs one of them, e.g. under a profiler.
    let only = std::env::var(format!("{prefix}_ONLY")).unwrap_or_default();
    let tag = format!("{}_{}", prefix.to_lowercase(), std::process::id());
    let dir = std::env::temp_dir().join(format!("ducha-{tag}"));
    let mut sqlite = Settings::for_tests();
    sqlite.data_dir = dir.clone();
    sqlite.database_url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    if only != "postgres" {
        let outcome = run("sqlite", sqlite).await;
        std::fs::remove_dir_all(&dir).ok();
        outcome?;
    }
    if only == "sqlite" {
        return Ok(());
    }

    let admin = std::env::var(format!("{prefix}_POSTGRES"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("ducha_{tag}");
    let server = Database::connect(&admin).await?;
    server
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    let mut postgres = Settings::for_tests();
    postgres.database_url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => anyhow::bail!("bad PostgreSQL URL"),
    };
    let outcome = run("postgres", postgres).await;
    server
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    outcome
}

/// Statements that seed `n` open items (IN_PROGRESS, assigned 2026-09-20) with one lead
/// assignment each across 300 units, due dates spread over the autumn.
pub fn seed_open_items(backend: DbBackend, n: u64) -> Vec<String> {
    let series = |limit: u64| match backend {
        DbBackend::Postgres => format!("SELECT g FROM generate_series(1, {limit}) AS t(g)"),
        _ => format!(
            "WITH RECURSIVE t(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM t WHERE g < {limit}) SELECT g FROM t"
        ),
    };
    let concat = |a: &str, b: &str| format!("{a} || {b}");
    vec![
        "INSERT INTO person (name, email, role, created_at) VALUES ('基准测试', 'office@example.gov.cn', 'SUPERVISOR', '2026-09-01T00:00:00+00:00')".into(),
        format!(
            "INSERT INTO unit (name, kind, contacts, created_at) SELECT {}, 'DEPARTMENT', {}, '2026-09-01T00:00:00+00:00' FROM ({}) s",
            concat("'单位'", "CAST(g AS TEXT)"),
            // Every unit has a contact address, so a sweep's digests are written as mail.
            format!(
                "CAST({} AS {})",
                concat(
                    "'[{\"name\": \"联络员\", \"email\": \"unit'",
                    &concat("CAST(g AS TEXT)", "'@example.gov.cn\"}]'")
                ),
                if backend == DbBackend::Postgres { "JSON" } else { "TEXT" }
            ),
            series(300)
        ),
        format!(
            "INSERT INTO item (serial, year, seq, title, requirements, source_kind, source_reference, urgency, deadline_rule, \
             deadline_explicit, stage, assigned_at, version, created_by, created_at, updated_at) \
             SELECT {}, 2026, g, {}, '按要求办理', 'OTHER', '', 'NORMAL', '3个工作日', {}, 'IN_PROGRESS', \
             '2026-09-20T01:00:00+00:00', 1, 1, '2026-09-20T01:00:00+00:00', '2026-09-20T01:00:00+00:00' FROM ({}) s",
            concat("'督〔2026〕'", &concat("CAST(g AS TEXT)", "'号'")),
            concat("'基准事项'", "CAST(g AS TEXT)"),
            if backend == DbBackend::Postgres { "false" } else { "0" },
            series(n)
        ),
        format!(
            "INSERT INTO assignment (item_id, unit_id, lead, status, due_at, calendar_version, provisional, paused_working_days, \
             signed_at, created_at) SELECT id, 1 + id % 300, {t}, 'ACTIVE', \
             {ts}CASE id % 4 WHEN 0 THEN '2026-09-25T10:00:00+00:00' WHEN 1 THEN '2026-10-09T10:00:00+00:00' \
             WHEN 2 THEN '2026-10-20T10:00:00+00:00' ELSE '2026-12-31T10:00:00+00:00' END{te}, 'bench', {f}, 0, \
             '2026-09-20T02:00:00+00:00', '2026-09-20T01:00:00+00:00' FROM item",
            t = if backend == DbBackend::Postgres { "true" } else { "1" },
            f = if backend == DbBackend::Postgres { "false" } else { "0" },
            ts = if backend == DbBackend::Postgres { "CAST(" } else { "" },
            te = if backend == DbBackend::Postgres { " AS timestamptz)" } else { "" },
        ),
    ]
}

/// After `seed_open_items`: a month of outcomes for the report benchmark. One item in five
/// was closed in October 2026 (half of those on time), one in fifty had its feedback
/// rejected in October, and an approved extension for one in forty.
pub fn seed_october_outcomes(backend: DbBackend) -> Vec<String> {
    let (t, f) = if backend == DbBackend::Postgres {
        ("true", "false")
    } else {
        ("1", "0")
    };
    let ts = |text: &str| {
        if backend == DbBackend::Postgres {
            format!("CAST('{text}' AS timestamptz)")
        } else {
            format!("'{text}'")
        }
    };
    vec![
        format!(
            "UPDATE item SET stage = 'CLOSED', closed_at = {}, closed_on_time_original = CASE WHEN id % 10 = 0 THEN {t} ELSE {f} END, \
             closed_on_time_extended = CASE WHEN id % 10 = 0 THEN {t} ELSE {f} END WHERE id % 5 = 0",
            ts("2026-10-15T02:00:00+00:00")
        ),
        // Each close's audit row, as the verb writes it: what the on-time window reads.
        format!(
            "INSERT INTO audit_event (item_id, actor_id, at, action, from_stage, to_stage, reason, details) \
             SELECT i.id, 1, {}, 'CLOSE', 'VERIFIED', 'CLOSED', NULL, {} \
             FROM item i JOIN assignment a ON a.item_id = i.id AND a.lead = {t} WHERE i.id % 5 = 0",
            ts("2026-10-15T02:00:00+00:00"),
            if backend == DbBackend::Postgres {
                "json_build_object('assignmentId', a.id, 'onTimeExtended', i.id % 10 = 0, 'onTimeOriginal', i.id % 10 = 0)"
            } else {
                "json_object('assignmentId', a.id, 'onTimeExtended', json(CASE WHEN i.id % 10 = 0 THEN 'true' ELSE 'false' END), \
                 'onTimeOriginal', json(CASE WHEN i.id % 10 = 0 THEN 'true' ELSE 'false' END))"
            }
        ),
        format!(
            "INSERT INTO audit_event (item_id, actor_id, at, action, from_stage, to_stage, reason, details) \
             SELECT id, 1, {}, 'REJECT', 'FEEDBACK_SUBMITTED', 'IN_PROGRESS', '材料不全', '{{}}' FROM item WHERE id % 50 = 1",
            ts("2026-10-12T02:00:00+00:00")
        ),
        // The rejection's colour fact, which the verb writes beside its audit row.
        "UPDATE item SET rejections = rejections + 1 WHERE id % 50 = 1".into(),
        format!(
            "INSERT INTO extension_request (item_id, assignment_id, requested_by, reason, proposed_due_at, decision, decided_by, decided_at, created_at) \
             SELECT item_id, id, 1, '需协调', {}, 'APPROVED', 1, {}, {} FROM assignment WHERE id % 40 = 3",
            ts("2026-11-30T10:00:00+00:00"),
            ts("2026-10-09T02:00:00+00:00"),
            ts("2026-10-08T02:00:00+00:00")
        ),
    ]
}

/// Resets the peak resident set size, so the next reading is the peak since now.
// Not every benchmark reads memory.
#[allow(dead_code)]
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size since the last reset, in MB.
#[allow(dead_code)]
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}
