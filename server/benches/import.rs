//! `cargo bench -p ducha-server --bench import`: a district of N open items (default 100,000;
//! `IMPORT_BENCH_ITEMS`) across 300 units on SQLite and PostgreSQL, and a ledger of R rows
//! (default 5,000; `IMPORT_BENCH_ROWS`) as an exported XLSX, each row with a lead and a
//! co-unit and its own rule. Times reading the file, the upload (read and keep), the preview
//! (every row planned against the district, duplicates looked for among the open items and
//! the rows above) and the commit of every row (registered and assigned in one
//! transaction, with the units' notices), each with the process's peak RSS. Targets (issue
//! 35): preview under 2 s, commit under 5 s, memory under 200 MB.

// Only some of what the benchmarks share is used here.
#[allow(dead_code)]
mod common;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use ducha_server::auth::Actor;
use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::service::items::import;
use ducha_server::service::items::verb::Cx;
use ducha_server::startup::Application;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Eight characters of the common range, different for each `n`: the rows' titles share
/// a place and a kind of work with others, as a work report's tasks do, and are otherwise
/// their own.
fn distinct_words(n: u64) -> String {
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..8)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from_u32(0x4E00 + (state % 3_000) as u32).unwrap_or('事')
        })
        .collect()
}

/// A ledger of `rows` items as the export writes it.
fn ledger(rows: u64) -> anyhow::Result<Vec<u8>> {
    let places = [
        "东山", "西湖", "南岭", "北塘", "中和", "新港", "青石", "白沙",
    ];
    let works = [
        "老旧小区改造",
        "背街小巷整治",
        "雨污分流工程",
        "燃气管道排查",
        "农贸市场提升",
        "学校周边交通",
        "河道清淤保洁",
        "公共厕所新建",
    ];
    let rows: Vec<ducha_report::render::LedgerRow> = (0..rows)
        .map(|n| {
            let place = places[(n % 8) as usize];
            let work = works[((n / 8) % 8) as usize];
            ducha_report::render::LedgerRow {
                title: format!("{}{place}{work}", distinct_words(n)),
                requirements: format!("按计划推进{place}片区{work}，每两周报送进展，年底前完成。"),
                source: "政府工作报告任务".into(),
                source_reference: "区政府〔2026〕1号".into(),
                urgency: "一般".into(),
                lead_unit: format!("单位{}", 1 + n % 300),
                co_units: format!("单位{}", 1 + (n + 7) % 300),
                rule: format!("{}个工作日", 10 + n % 20),
                ..Default::default()
            }
        })
        .collect();
    Ok(ducha_report::render::ledger_xlsx(
        "督查督办事项台账",
        "",
        &rows,
    )?)
}

async fn run(label: &str, mut settings: Settings, items: u64, rows: u64) -> anyhow::Result<()> {
    settings.log = "error".into();
    // The default window: what arises for one mailbox within it is one message.
    settings.notice_window = std::time::Duration::from_secs(120);
    let now = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let app = Application::build_with_clock(&settings, Clock::manual(now)).await?;
    let state = app.state().clone();
    let backend = state.db.get_database_backend();
    for sql in common::seed_open_items(backend, items) {
        state
            .db
            .execute_raw(Statement::from_string(backend, sql))
            .await?;
    }
    if backend == DbBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await?;
    }
    // Person 2 is the seeded supervisor.
    let actor = Actor {
        person_id: 2,
        name: "基准测试".into(),
        role: ducha_domain::Role::Supervisor,
        unit_id: None,
    };
    let cx = || -> anyhow::Result<Cx<'_>> {
        Ok(Cx {
            db: &state.db,
            calendar: state.calendar.current()?,
            policy: &state.deadline_policy,
            actor: &actor,
            now,
            notices: Some(&state.notices),
            changes: &state.changes,
        })
    };
    let bytes = ledger(rows)?;

    common::reset_peak_rss();
    let t = Instant::now();
    let ledger = ducha_report::import::read_ledger(&bytes)?;
    println!(
        "[{label}] read {} rows of a {} KB XLSX: {:.2?}, peak RSS {:.0} MB",
        ledger.lines.len(),
        bytes.len() / 1024,
        t.elapsed(),
        common::peak_rss_mb()
    );
    drop(ledger);

    common::reset_peak_rss();
    let t = Instant::now();
    let id = import::upload(
        cx()?,
        "基准台账.xlsx",
        &bytes,
        ducha_domain::SourceKind::GovWorkReport,
    )
    .await?;
    let upload_time = t.elapsed();
    let t = Instant::now();
    let preview = import::preview(cx()?, id).await?;
    let preview_time = t.elapsed();
    let importable: Vec<usize> = preview
        .rows
        .iter()
        .filter(|r| r.importable())
        .map(|r| r.line)
        .collect();
    let warned = preview
        .rows
        .iter()
        .filter(|r| !r.chosen_by_default())
        .count();
    println!(
        "[{label}] upload (read and keep): {upload_time:.2?}; preview against {items} open items: {preview_time:.2?} \
         ({} importable, {warned} with a problem), peak RSS {:.0} MB",
        importable.len(),
        common::peak_rss_mb()
    );
    drop(preview);

    common::reset_peak_rss();
    let t = Instant::now();
    // Every importable row, those with a possible duplicate acknowledged.
    let created = import::commit(cx()?, id, &importable, &importable).await?;
    let commit_time = t.elapsed();
    let mails = state
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM outbox".to_string(),
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    println!(
        "[{label}] commit: {} items registered and assigned ({} assignments, {mails} messages) in {commit_time:.2?}, \
         peak RSS {:.0} MB",
        created.len(),
        created.len() * 2,
        common::peak_rss_mb()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let items = common::items("IMPORT_BENCH");
    let rows = std::env::var("IMPORT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    common::on_both_databases("IMPORT_BENCH", |label, settings| {
        run(label, settings, items, rows)
    })
    .await
}
