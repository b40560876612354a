//! The board of "now" is one computed board per instance, kept while nothing is written
//! (`service::watch::board`). It must be the board recomputed from the rows, and a change must show
//! on the next read, never a minute later.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_demo_on, spawn_kept_demo_on};

on_both_backends!(
    the_shared_board_is_the_board_recomputed_from_the_rows,
    colours_from_the_rows_are_the_colours_computed_from_the_history,
    the_migration_derives_the_kept_facts_from_the_history,
    a_change_shows_on_the_next_read_of_the_board,
    a_board_kept_change_by_change_is_the_board_recomputed,
);

const BOARD: &str = "query($at: DateTime) { dashboard(at: $at) { at colourPolicyVersion
  byColour { colour count } byStage { stage count } bySourceKind { sourceKind count }
  units { unit { databaseId } colour reason measure openItems blue yellow red closed
          closedOnTime onTimeRate } } }";

async fn board(app: &TestApp, token: &str, at: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    let body = app
        .graphql_as(Some(token), BOARD, json!({ "at": at }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["dashboard"].clone()
}

async fn red_and_yellow(app: &TestApp, token: &str) -> Value {
    let body = app
        .graphql_as(
            Some(token),
            "{ items(first: 100, filter: { colours: [RED, YELLOW] }) { edges { node { databaseId } } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["items"]["edges"].clone()
}

fn without_at(mut board: Value) -> Value {
    board["at"] = Value::Null;
    board
}

/// The shared board (one streamed pass) and the board as of the same instant (rows read
/// whole, stages rewound from the trail) agree field by field on the demo district, which
/// has every stage, suspended and closed items, rejections, reopens and reports — now, and
/// again ten days on when colours have moved.
async fn the_shared_board_is_the_board_recomputed_from_the_rows(backend: Backend) {
    let (app, tokens) = spawn_demo_on(backend).await;
    // Judged item by item before any board is held, and from the held board's candidates.
    let judged = red_and_yellow(&app, &tokens.supervisor).await;
    let mut previous: Option<Value> = None;
    for days in [0, 10] {
        app.clock.advance(Duration::days(days));
        let now = app.clock.now();
        let shared = board(&app, &tokens.supervisor, None).await;
        let at: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(shared["at"].clone()).expect("an instant");
        assert_eq!(at, now, "computed now");
        let recomputed = board(&app, &tokens.supervisor, Some(now)).await;
        assert_eq!(without_at(shared.clone()), without_at(recomputed));
        let reds: i64 = shared["units"]
            .as_array()
            .expect("units")
            .iter()
            .map(|u| u["red"].as_i64().unwrap_or(0))
            .sum();
        assert!(reds > 0, "the demo has red work: {shared}");
        if days == 0 {
            let from_board = red_and_yellow(&app, &tokens.supervisor).await;
            assert!(judged.as_array().is_some_and(|a| !a.is_empty()));
            assert_eq!(judged, from_board);
        }
        if let Some(previous) = previous.replace(shared.clone()) {
            assert_ne!(
                previous["byColour"], shared["byColour"],
                "ten days on, colours have moved"
            );
        }
    }
}

/// A registration and a new unit are on the very next board, though the board of a moment
/// ago is still young; an unchanged board is served as it was (the same instant).
async fn a_change_shows_on_the_next_read_of_the_board(backend: Backend) {
    let (app, tokens) = spawn_kept_demo_on(backend).await;
    let before = board(&app, &tokens.supervisor, None).await;
    app.clock.advance(Duration::milliseconds(300));
    let again = board(&app, &tokens.supervisor, None).await;
    assert_eq!(before["at"], again["at"], "nothing written: the same board");

    let registered = |b: &Value| {
        b["byStage"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["stage"] == "REGISTERED"))
            .and_then(|s| s["count"].as_i64())
            .unwrap_or(-1)
    };
    let answer = app
        .graphql_as(
            Some(&tokens.supervisor),
            "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id } } }",
            json!({ "input": { "title": "看板即时更新测试事项关于路灯维修",
                               "requirements": "5个工作日内落实", "sourceKind": "MEETING_DECISION" } }),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let after = board(&app, &tokens.supervisor, None).await;
    assert_eq!(registered(&after), registered(&before) + 1);

    let answer = app
        .graphql_as(
            Some(&tokens.admin),
            "mutation($input: CreateUnitInput!) { createUnit(input: $input) { unit { id } } }",
            json!({ "input": { "name": "区看板测试中心", "kind": "DEPARTMENT" } }),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let units = |b: &Value| b["units"].as_array().map(Vec::len).unwrap_or(0);
    let with_unit = board(&app, &tokens.supervisor, None).await;
    assert_eq!(units(&with_unit), units(&after) + 1);

    // Time alone ages it: past the colour refresh, a new board of a new instant.
    app.clock.advance(Duration::seconds(5));
    let later = board(&app, &tokens.supervisor, None).await;
    assert_ne!(later["at"], with_unit["at"]);
}

/// The colour facts kept on the item and assignment rows (`colours::facts_now`) are the
/// facts the history gives (`colours::assignment_facts`), for every live assignment of the
/// demo district, which has rejections and reports among them.
async fn assert_kept_facts_are_the_history(app: &TestApp) {
    use ducha_server::service::{store::read, watch::colours};
    use sea_orm::EntityTrait;
    let db = &app.state.db;
    let items = entity::item::Entity::find().all(db).await.expect("items");
    let by_id: std::collections::HashMap<i64, &entity::item::Model> =
        items.iter().map(|i| (i.id, i)).collect();
    let ids: Vec<i64> = by_id.keys().copied().collect();
    let rows = read::assignments_of_items(db, &ids)
        .await
        .expect("assignments");
    let history = colours::assignment_facts(db, &items, app.clock.now())
        .await
        .expect("facts from the history");
    let (mut rejected, mut reported) = (0, 0);
    for from_history in &history {
        let a = &from_history.assignment;
        let row = rows[&a.item_id]
            .iter()
            .find(|r| r.id == a.id)
            .expect("the assignment's row");
        let kept = colours::facts_now(by_id[&a.item_id], row);
        assert_eq!(kept, from_history.facts, "assignment {}", a.id);
        rejected += usize::from(kept.rejections > 0);
        reported += usize::from(row.last_report_at.is_some());
    }
    assert!(
        rejected > 0 && reported > 0,
        "the demo has rejections ({rejected}) and reports ({reported}) to compare"
    );
}

/// Districts that had history before the facts were kept get them from the migration's
/// backfill: wiped on the demo district and derived again, they are the history's.
async fn the_migration_derives_the_kept_facts_from_the_history(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let (app, _) = spawn_demo_on(backend).await;
    let db = &app.state.db;
    for wipe in [
        "UPDATE assignment SET last_report_at = NULL",
        "UPDATE item SET feedback_at = NULL, rejections = 0",
    ] {
        db.execute_unprepared(wipe).await.expect("wipe");
    }
    for statement in migration::COLOUR_FACTS_BACKFILL {
        db.execute_unprepared(statement).await.expect("backfill");
    }
    assert_kept_facts_are_the_history(&app).await;
}

/// A page's colours are computed from the rows it reads anyway (`colours_from_rows`: the
/// reports, rejections and reopens are kept on the item and assignment rows by the writes
/// that make them). They must be the colours the long way computes (`colours_for_items`:
/// the history read table by table), verdict and reason, for every item of the demo
/// district and every assignment and unit, now and ten days on.
async fn colours_from_the_rows_are_the_colours_computed_from_the_history(backend: Backend) {
    use ducha_server::service::{store::read, watch::colours};
    use sea_orm::EntityTrait;
    let (app, _) = spawn_demo_on(backend).await;
    assert_kept_facts_are_the_history(&app).await;
    let db = &app.state.db;
    let items = entity::item::Entity::find().all(db).await.expect("items");
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let rows = read::kept_items(db, &app.state.item_cache, &ids)
        .await
        .expect("items with their assignments");
    let mut seen = std::collections::BTreeSet::new();
    // The same rows all along: the colours kept on them are used while they hold, and must
    // be what the long way computes at every step, across midnights and due instants.
    let rule_set = app.state.colour_rules().await.expect("rules");
    let mut kept = 0;
    for hours in [0, 1, 5, 18, 24, 24 * 9] {
        app.clock.advance(Duration::hours(hours));
        let now = app.clock.now();
        let long = colours::colours_for_items(db, &rule_set.rules(), &items, now)
            .await
            .expect("long way");
        let short = colours::colours_from_rows(&rule_set, &rows, now);
        let again = colours::colours_from_rows(&rule_set, &rows, now);
        assert_eq!(short.len(), items.len());
        for item in &items {
            let (a, b) = (&long[&item.id], &short[&item.id]);
            assert_eq!(
                a.item, b.item,
                "item {} after {hours} more hours",
                item.serial
            );
            assert_eq!(a.by_assignment, b.by_assignment, "item {}", item.serial);
            assert_eq!(a.by_unit, b.by_unit, "item {}", item.serial);
            assert!(std::sync::Arc::ptr_eq(b, &again[&item.id]), "kept at once");
            seen.insert(format!("{:?}", b.item.colour));
        }
        kept += usize::from(std::sync::Arc::ptr_eq(
            &short[&items[0].id],
            &colours::colours_from_rows(&rule_set, &rows, now + Duration::seconds(1))[&items[0].id],
        ));
    }
    assert!(kept > 0, "colours were kept over a second at some step");
    assert!(
        ["Red", "Yellow", "Blue", "None"]
            .iter()
            .all(|c| seen.contains(*c)),
        "every colour was compared: {seen:?}"
    );
}

/// On SQLite with a file, the sweep, the board and the live colours read every open
/// assignment from the file on a blocking thread (`sqlite_reader`), decoding by column
/// position, rather than through sqlx. Both reads must give the same rows, field by field,
/// on the demo district with notices on record (after a sweep), now and ten days on.
#[tokio::test]
async fn the_sqlite_file_reader_reads_what_the_pool_reads() {
    use ducha_server::service::watch::sweep;
    use futures_util::TryStreamExt;
    let (app, _) = spawn_demo_on(Backend::SqliteFile).await;
    let db = &app.state.db;
    assert!(
        ducha_server::sqlite_reader::database_file(db)
            .await
            .expect("pragma read")
            .is_some(),
        "the test database is a file"
    );
    let swept = sweep::run_sweep(&app.state.sweeper(), "test", app.clock.now())
        .await
        .expect("sweep");
    assert!(swept.notices > 0, "{swept:?}");
    for at in [app.clock.now(), app.clock.now() + Duration::days(10)] {
        let from_file: Vec<_> = sweep::open_assignments(db, at)
            .await
            .expect("file read")
            .try_collect()
            .await
            .expect("file rows");
        let from_pool: Vec<_> = sweep::open_assignments_from_pool(db, at)
            .await
            .expect("pool read")
            .try_collect()
            .await
            .expect("pool rows");
        assert!(!from_pool.is_empty());
        assert!(
            from_pool
                .iter()
                .any(|row| !row.on_record().rungs.is_empty()),
            "some rows carry notices on record"
        );
        let sorted = |mut rows: Vec<sweep::OpenAssignment>| {
            rows.sort_by_key(|row| row.id);
            rows
        };
        assert_eq!(sorted(from_file), sorted(from_pool), "at {at}");
    }
}

/// How many whole passes and updates the instance made for its board (`/metrics`).
async fn board_counts(app: &TestApp) -> (i64, i64) {
    let text = app.get_text("/metrics").await;
    let read = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}")) as i64
    };
    (read("ducha_board_passes "), read("ducha_board_updates "))
}

/// The first item in `stage` that `token` sees: its id and version.
async fn first_in(app: &TestApp, token: &str, stage: &str) -> (Value, Value) {
    let body = app
        .graphql_as(
            Some(token),
            "query($stages: [Stage!]) { items(first: 1, filter: { stages: $stages }) {
               edges { node { id version } } } }",
            json!({ "stages": [stage] }),
        )
        .await;
    let node = &body["data"]["items"]["edges"][0]["node"];
    assert!(!node.is_null(), "the demo has an item in {stage}: {body}");
    (node["id"].clone(), node["version"].clone())
}

/// The held board is kept up to date change by change: each verb judges again only the
/// items it touched (an update, not a whole pass), and after every kind of change the kept
/// board is, field by field, the board recomputed from the rows as of the same instant.
async fn a_board_kept_change_by_change_is_the_board_recomputed(backend: Backend) {
    let (app, tokens) = spawn_kept_demo_on(backend).await;
    let office = tokens.supervisor.clone();
    board(&app, &office, None).await;
    let (passes, _) = board_counts(&app).await;
    let reason = "看板逐项更新测试";
    let steps: Vec<(&str, &str, &str, &str)> = vec![
        ("签收", "ASSIGNED", "signItem", "ItemVersionInput"),
        ("挂起", "IN_PROGRESS", "suspendItem", "ItemReasonInput"),
        ("恢复", "SUSPENDED", "resumeItem", "ItemReasonInput"),
        (
            "核查通过",
            "FEEDBACK_SUBMITTED",
            "verifyItem",
            "VerifyItemInput",
        ),
        ("销号", "VERIFIED", "closeItem", "ItemReasonInput"),
        ("回头看", "CLOSED", "reopenItem", "ReopenItemInput"),
        ("撤销", "IN_PROGRESS", "cancelItem", "ItemReasonInput"),
    ];
    for (what, stage, mutation, input_type) in steps {
        let actor = if mutation == "signItem" {
            &tokens.unit_head
        } else {
            &office
        };
        let (id, version) = first_in(&app, actor, stage).await;
        let input = match mutation {
            "signItem" => json!({ "itemId": id, "version": version }),
            "verifyItem" => json!({ "itemId": id, "version": version, "accept": true }),
            "reopenItem" => json!({ "itemId": id, "version": version, "reason": reason,
                                    "rectificationDue": "10个工作日" }),
            _ => json!({ "itemId": id, "version": version, "reason": reason }),
        };
        let answer = app
            .graphql_as(
                Some(actor),
                &format!("mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ item {{ id }} }} }}"),
                json!({ "input": input }),
            )
            .await;
        assert!(answer["errors"].is_null(), "{what}: {answer}");
        let kept = board(&app, &office, None).await;
        let recomputed = board(&app, &office, Some(app.clock.now())).await;
        assert_eq!(without_at(kept), without_at(recomputed), "after {what}");
    }
    // A progress report and a new item, registered and not yet assigned.
    let (id, _) = first_in(&app, &tokens.unit_head, "IN_PROGRESS").await;
    let answer = app
        .graphql_as(
            Some(&tokens.unit_head),
            "mutation($input: ReportProgressInput!) { reportProgress(input: $input) { report { id } } }",
            json!({ "input": { "itemId": id, "body": "已完成现场勘查，正在组织施工" } }),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let answer = app
        .graphql_as(
            Some(&office),
            "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id } } }",
            json!({ "input": { "title": "看板逐项更新测试事项关于背街小巷整治",
                               "requirements": "10个工作日内落实", "sourceKind": "PETITION_HOTLINE" } }),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let kept = board(&app, &office, None).await;
    let recomputed = board(&app, &office, Some(app.clock.now())).await;
    assert_eq!(
        without_at(kept),
        without_at(recomputed),
        "after a report and a registration"
    );
    let (passes_after, updates) = board_counts(&app).await;
    assert_eq!(
        passes_after, passes,
        "no whole pass: each change was an update"
    );
    assert!(
        updates >= 8,
        "each change was judged again: {updates} updates"
    );
}
