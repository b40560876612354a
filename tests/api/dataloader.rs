//! A page of items with their assignments, units and leaders costs the same number of
//! database queries whatever its size: the DataLoaders batch the related rows.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ducha_domain::Role;
use ducha_server::auth::Actor;
use ducha_server::calendar_store::CalendarStore;
use ducha_server::changes::Caches;
use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::graphql::{Auth, build_schema, prepare};
use ducha_server::state::{AppState, Inner, KeptCopies};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const PAGE: &str = "query($first: Int!) { items(first: $first) { edges { node {
    serial responsibleLeader { name }
    assignments { dueAt unit { name portfolioLeader { name } } } } } } }";

const PAGE_WITH_HISTORY: &str = "query($first: Int!) { items(first: $first) { edges { node {
    serial assignments { dueAt }
    reports { kind body } extensionRequests { decision } auditTrail { action }
    colour colourReason } } } }";

/// The demo district on a fresh database whose statements are counted, with the copies
/// `caches`; and a supervisor of it.
async fn counted_demo(caches: Caches) -> (AppState, Arc<AtomicUsize>, Actor) {
    let settings = Settings::for_tests();
    let mut db = ducha_server::db::connect(&settings)
        .await
        .expect("database");
    let queries = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&queries);
    db.set_metric_callback(move |info| {
        if std::env::var("DEBUG_SQL").is_ok() {
            eprintln!(
                "SQL: {}",
                info.statement.sql.chars().take(120).collect::<String>()
            );
        }
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let kept = KeptCopies::new(caches, true);
    let calendar = CalendarStore::load(&db).await.expect("calendar");
    let state = AppState::new(Inner {
        calendar: calendar.clone(),
        db,
        deadline_policy: settings.deadline_policy(),
        clock: Clock::system(),
        data_dir: settings.data_dir.clone(),
        notices: ducha_server::service::notices::notify::NoticeContext {
            public_url: settings.public_url.clone(),
            time_zone: settings.time_zone,
            wake: Default::default(),
            window: chrono::Duration::zero(),
            calendar,
            office_hours: Default::default(),
        },
        mailer: std::sync::Arc::new(
            ducha_server::mail::Mailer::from_settings(&settings).expect("mailer"),
        ),
        mail_from: settings.mail_from.clone(),
        channel_http: ducha_server::channels::http_client(std::time::Duration::from_secs(5))
            .expect("client"),
        instance_id: "test".into(),
        sweep_times: Vec::new(),
        sweep_lock: Default::default(),
        outbox_claim_ttl: settings.outbox_claim,
        background_jobs: false,
        events: Default::default(),
        colour_refresh: std::time::Duration::from_secs(60),
        unit_report_access: settings.unit_report_access,
        http: settings.http.clone(),
        metrics: Default::default(),
        board: kept.board,
        policies: kept.policies,
        directory: kept.directory,
        item_cache: kept.item_cache,
        changes: kept.changes,
        caches,
    });
    ducha_server::service::org::ensure_first_admin(&state.db, state.clock.now())
        .await
        .expect("admin");
    ducha_server::demo::load(&state)
        .await
        .expect("demo")
        .expect("loaded");
    let supervisor = entity::person::Entity::find()
        .filter(entity::person::Column::Role.eq("SUPERVISOR"))
        .one(&state.db)
        .await
        .expect("query")
        .expect("a supervisor");
    let actor = Actor {
        person_id: supervisor.id,
        name: supervisor.name,
        role: Role::Supervisor,
        unit_id: None,
    };
    (state, queries, actor)
}

/// `request` as `actor` asks it, with the request's loaders.
fn as_actor(
    state: &AppState,
    actor: &Actor,
    request: async_graphql::Request,
) -> async_graphql::Request {
    prepare(
        request,
        state,
        Auth {
            actor: Some(actor.clone()),
            refused: None,
            credential: None,
        },
    )
}

#[tokio::test]
async fn a_page_of_items_costs_a_constant_number_of_queries() {
    // Caches on whatever the environment says: the test counts what the copies save.
    let (state, queries, actor) = counted_demo(Caches::On).await;
    let schema = build_schema(Some(state.clone()));
    let as_supervisor = |request: async_graphql::Request| as_actor(&state, &actor, request);

    // Each page is read twice: once with none of its items kept by the instance
    // (`item_cache`), once again with all of them kept.
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    // The first page reads learn the colour policy in force, which the instance then keeps
    // (`PolicyCache`), and the units, which it keeps in its directory: those reads
    // are not part of any page's cost.
    for (page, first) in [
        (PAGE_WITH_HISTORY, 1),
        (PAGE, 1),
        (PAGE, 5),
        (PAGE, 50),
        (PAGE_WITH_HISTORY, 5),
        (PAGE_WITH_HISTORY, 50),
    ] {
        state
            .changes
            .publish(ducha_server::changes::Change::AllItems);
        for costs in [&mut cold, &mut warm] {
            let request = async_graphql::Request::new(page).variables(
                async_graphql::Variables::from_json(serde_json::json!({ "first": first })),
            );
            let request = as_supervisor(request);
            queries.store(0, Ordering::SeqCst);
            if std::env::var("DEBUG_SQL").is_ok() {
                eprintln!("--- page of {first}");
            }
            let response = schema.execute(request).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            let data = response.data.into_json().expect("json");
            assert_eq!(data["items"]["edges"].as_array().map(Vec::len), Some(first));
            costs.push(queries.load(Ordering::SeqCst));
        }
    }
    let learning = cold.remove(1);
    cold.remove(0);
    warm.drain(..2);
    assert_eq!(
        learning, 4,
        "the page's ids, its items with their assignments, the units (all of them, once), \
         people: {cold:?}"
    );
    assert_eq!(
        cold[0], cold[1],
        "5 items and 50 items cost the same: {cold:?}"
    );
    assert_eq!(
        cold[1], 3,
        "ids, items with assignments, people; the units come from the directory: {cold:?}"
    );
    assert_eq!(
        cold[2], cold[3],
        "with reports, extensions and audit trails too: {cold:?}"
    );
    assert_eq!(
        cold[3], 5,
        "ids, items with assignments, then one query for each of those lists; the colours \
         are computed from the items and assignments read, with no query of their own: \
         {cold:?}"
    );
    let kept: Vec<usize> = cold.iter().map(|c| c - 1).collect();
    assert_eq!(
        warm, kept,
        "with its items kept, a page reads only their ids of them: {warm:?} against {cold:?}"
    );

    // A verb's payload is answered from the rows the verb read back in its transaction:
    // asking for the item's assignments too costs no statement more.
    let open: Vec<entity::item::Model> = entity::item::Entity::find()
        .filter(entity::item::Column::Stage.eq("IN_PROGRESS"))
        .all(&state.db)
        .await
        .expect("query");
    assert!(open.len() >= 2, "the demo has items in progress");
    let mut costs = Vec::new();
    for (item, payload) in [
        (&open[0], "version"),
        (&open[1], "version assignments { signedAt dueAt status }"),
    ] {
        let mutation = format!(
            "mutation($input: ItemReasonInput!) {{ suspendItem(input: $input) {{ item {{ {payload} }} }} }}"
        );
        let request = async_graphql::Request::new(mutation).variables(
            async_graphql::Variables::from_json(serde_json::json!({ "input": {
                "itemId": item.id.to_string(), "version": item.version, "reason": "等待上级政策明确"
            } })),
        );
        let request = as_supervisor(request);
        queries.store(0, Ordering::SeqCst);
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        costs.push(queries.load(Ordering::SeqCst));
    }
    assert_eq!(
        costs[0], costs[1],
        "the committed item's assignments come with it: {costs:?}"
    );
}

/// With the copies off (`caches = off`: no kept items, no directory of units), one item
/// with its assignments and their units is one statement (issue 32): the units come joined
/// to the assignments, and the fields that name them read them from the request's loader,
/// not a second time.
#[tokio::test]
async fn an_item_with_its_units_is_one_statement_with_the_copies_off() {
    let (state, queries, actor) = counted_demo(Caches::Off).await;
    let schema = build_schema(Some(state.clone()));
    let assigned: Vec<entity::assignment::Model> = entity::assignment::Entity::find()
        .all(&state.db)
        .await
        .expect("query");
    let mut item_ids: Vec<i64> = assigned.iter().map(|a| a.item_id).collect();
    item_ids.sort_unstable();
    item_ids.dedup();
    // Items with one unit and with several.
    let several = item_ids
        .iter()
        .copied()
        .find(|id| assigned.iter().filter(|a| a.item_id == *id).count() > 1)
        .expect("an item with co-units");
    for id in [item_ids[0], several] {
        let request = async_graphql::Request::new(
            "query($id: ID!) { item(id: $id) { databaseId serial title stage
               assignments { lead dueAt effectiveDueAt unit { name } } } }",
        )
        .variables(async_graphql::Variables::from_json(
            serde_json::json!({ "id": id.to_string() }),
        ));
        let request = as_actor(&state, &actor, request);
        queries.store(0, Ordering::SeqCst);
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().expect("json");
        let units: Vec<&str> = data["item"]["assignments"]
            .as_array()
            .expect("assignments")
            .iter()
            .filter_map(|a| a["unit"]["name"].as_str())
            .collect();
        let expected = assigned.iter().filter(|a| a.item_id == id).count();
        assert_eq!(units.len(), expected, "every unit named: {data}");
        assert_eq!(
            queries.load(Ordering::SeqCst),
            1,
            "item {id}: the item, its assignments and their units in one statement"
        );
    }
}

/// With the copies off, a page of the item list with each item's assignments and their
/// units is one statement (issue 32): the page's ids are a subquery of the statement that
/// reads the rows. A page after a cursor adds one, which tells whether anything precedes it.
#[tokio::test]
async fn a_page_of_items_with_their_units_is_one_statement_with_the_copies_off() {
    let (state, queries, actor) = counted_demo(Caches::Off).await;
    let schema = build_schema(Some(state.clone()));
    let mut item_ids: Vec<i64> = entity::item::Entity::find()
        .all(&state.db)
        .await
        .expect("query")
        .iter()
        .map(|i| i.id)
        .collect();
    item_ids.sort_unstable_by(|a, b| b.cmp(a));
    assert!(item_ids.len() > 6, "the demo has items: {item_ids:?}");
    let assigned: Vec<entity::assignment::Model> = entity::assignment::Entity::find()
        .all(&state.db)
        .await
        .expect("query");
    let page = |after: Option<String>| {
        let request = async_graphql::Request::new(
            "query($after: String) { items(first: 3, after: $after) {
               pageInfo { hasNextPage hasPreviousPage endCursor }
               edges { node { databaseId assignments { lead unit { name } } } } } }",
        )
        .variables(async_graphql::Variables::from_json(
            serde_json::json!({ "after": after }),
        ));
        as_actor(&state, &actor, request)
    };
    let mut after = None;
    for (round, statements) in [(0usize, 1usize), (1, 2)] {
        queries.store(0, Ordering::SeqCst);
        let response = schema.execute(page(after.clone())).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().expect("json");
        let edges = data["items"]["edges"].as_array().expect("edges");
        let ids: Vec<i64> = edges
            .iter()
            .map(|e| e["node"]["databaseId"].as_i64().expect("id"))
            .collect();
        assert_eq!(
            ids,
            item_ids[round * 3..round * 3 + 3],
            "newest first: {data}"
        );
        for edge in edges {
            let id = edge["node"]["databaseId"].as_i64().expect("id");
            let named = edge["node"]["assignments"]
                .as_array()
                .expect("assignments")
                .iter()
                .filter(|a| a["unit"]["name"].as_str().is_some_and(|n| !n.is_empty()))
                .count();
            let expected = assigned.iter().filter(|a| a.item_id == id).count();
            assert_eq!(named, expected, "item {id}: every unit named: {data}");
        }
        let info = &data["items"]["pageInfo"];
        assert_eq!(info["hasNextPage"], true, "{data}");
        assert_eq!(info["hasPreviousPage"], round > 0, "{data}");
        assert_eq!(
            queries.load(Ordering::SeqCst),
            statements,
            "page {round}: the page's items, assignments and units in one statement"
        );
        after = info["endCursor"].as_str().map(str::to_owned);
    }
}

/// A progress report, the write a unit makes most, is one statement to read the item with the
/// unit's own part and one to write the report, the cycle it restarts and its audit row
/// (issue 32: on two cores a write's cost is its round trips), with the copies on or off.
#[tokio::test]
async fn a_progress_report_is_one_read_and_one_write() {
    const PROGRESS: &str = "mutation($id: ID!) {
        reportProgress(input: { itemId: $id, body: \"本周进展：已完成现场核实\" }) { report { databaseId } } }";
    for caches in [Caches::On, Caches::Off] {
        let (state, queries, _) = counted_demo(caches).await;
        let schema = build_schema(Some(state.clone()));
        let open = entity::item::Entity::find()
            .filter(
                entity::item::Column::Stage
                    .is_in([entity::ItemStage::Assigned, entity::ItemStage::InProgress]),
            )
            .all(&state.db)
            .await
            .expect("query");
        let part = entity::assignment::Entity::find()
            .filter(entity::assignment::Column::ItemId.is_in(open.iter().map(|i| i.id)))
            .filter(entity::assignment::Column::Status.ne(entity::AssignmentStatus::Withdrawn))
            .one(&state.db)
            .await
            .expect("query")
            .expect("an open part");
        let clerk = entity::person::Entity::find()
            .filter(entity::person::Column::UnitId.eq(part.unit_id))
            .one(&state.db)
            .await
            .expect("query")
            .expect("a person of the unit");
        let actor = Actor::of(clerk).expect("an actor");
        let request =
            async_graphql::Request::new(PROGRESS).variables(async_graphql::Variables::from_json(
                serde_json::json!({ "id": part.item_id.to_string() }),
            ));
        let request = as_actor(&state, &actor, request);
        queries.store(0, Ordering::SeqCst);
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(
            queries.load(Ordering::SeqCst),
            2,
            "{caches:?}: the item with the unit's part, then the report with its cycle and audit row"
        );
    }
}
