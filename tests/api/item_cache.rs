//! The items each instance keeps in memory (`ducha_server::item_cache`). Whoever writes an
//! item reads it back as written; on PostgreSQL, a write from anywhere (another instance,
//! a hand-made `UPDATE`) is heard through the database's notices and never believed past
//! them; and a kept item is shown to exactly the people who may see it.

use std::time::{Duration, Instant};

use ducha_server::auth::Actor;
use ducha_server::service::store::{read, scope};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, TransactionTrait};
use serde_json::json;

use crate::district::{District, assigned_item, item_mutation, ok};
use crate::helpers::{Backend, TestApp, spawn_kept_demo_on, spawn_kept_on};

const TITLE: &str = "query($id: ID!) { item(id: $id) { title } }";

async fn title(app: &TestApp, token: &str, id: i64) -> String {
    let body = app
        .graphql_as(Some(token), TITLE, json!({ "id": id.to_string() }))
        .await;
    body["data"]["item"]["title"]
        .as_str()
        .unwrap_or_else(|| panic!("item {id}: {body}"))
        .to_string()
}

/// Reads the item's title until it is `wanted`, for at most `within`.
async fn title_becomes(app: &TestApp, token: &str, id: i64, wanted: &str, within: Duration) {
    let started = Instant::now();
    loop {
        let now = title(app, token, id).await;
        if now == wanted {
            return;
        }
        assert!(
            started.elapsed() < within,
            "item {id} still reads {now:?} {:?} after the change to {wanted:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Changes an item's title by SQL, not through ducha: no verb, no audit row.
async fn retitle_by_hand(db: &impl ConnectionTrait, id: i64, title: &str) {
    db.execute_unprepared(&format!(
        "UPDATE item SET title = '{title}' WHERE id = {id}"
    ))
    .await
    .expect("update by hand");
}

async fn first_item_id(app: &TestApp) -> i64 {
    entity::item::Entity::find()
        .order_by_asc(entity::item::Column::Id)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the demo has items")
        .id
}

#[tokio::test]
async fn whoever_writes_an_item_reads_it_back_as_written_at_once() {
    let app = spawn_kept_on(Backend::Sqlite).await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "老旧小区加装电梯").await;
    let id = crate::helpers::row_id(&item["id"]);
    assert_eq!(title(&app, &d.supervisor, id).await, "老旧小区加装电梯");
    assert!(
        !app.state.item_cache.is_empty(),
        "the instance keeps the item it read"
    );
    // No waiting: the very next read, on the instance that wrote, sees the write (the live
    // tail, which would also forget it, polls only every 0.5 s).
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": item["id"], "version": item["version"] }),
    )
    .await;
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { stage version assignments { signedAt } } }",
            json!({ "id": item["id"] }),
        )
        .await;
    assert_eq!(
        body["data"]["item"]["version"], signed["item"]["version"],
        "{body}"
    );
    assert!(
        body["data"]["item"]["assignments"][0]["signedAt"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn a_write_made_by_hand_in_postgresql_is_heard_by_the_instance() {
    let (app, tokens) = spawn_kept_demo_on(Backend::Postgres).await;
    let id = first_item_id(&app).await;
    let before = title(&app, &tokens.supervisor, id).await;
    assert_eq!(title(&app, &tokens.supervisor, id).await, before);
    // Not through ducha and with no audit row: only the trigger's notice can tell. A kept
    // item is otherwise believed for a minute.
    retitle_by_hand(&app.state.db, id, "手工更正的标题").await;
    title_becomes(
        &app,
        &tokens.supervisor,
        id,
        "手工更正的标题",
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test]
async fn notices_lost_while_the_listening_connection_was_down_forget_everything_kept() {
    let (app, tokens) = spawn_kept_demo_on(Backend::Postgres).await;
    let id = first_item_id(&app).await;
    title(&app, &tokens.supervisor, id).await;
    // The listening connection is ended inside the transaction that changes the item, so
    // the change's notice goes out when nobody listens: it is lost.
    let txn = app.state.db.begin().await.expect("begin");
    retitle_by_hand(&txn, id, "断线期间的更正").await;
    let ended = txn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%' \
               AND pid <> pg_backend_pid()",
        ))
        .await
        .expect("terminate")
        .expect("a row")
        .try_get::<i64>("", "ended")
        .expect("count");
    assert_eq!(ended, 1, "the instance listens on one connection");
    txn.commit().await.expect("commit");
    title_becomes(
        &app,
        &tokens.supervisor,
        id,
        "断线期间的更正",
        Duration::from_secs(3),
    )
    .await;
    // Listening again: the next change is heard as before.
    retitle_by_hand(&app.state.db, id, "恢复后的更正").await;
    title_becomes(
        &app,
        &tokens.supervisor,
        id,
        "恢复后的更正",
        Duration::from_secs(3),
    )
    .await;
}

/// `scope::sees_item` decides on kept rows what `scope::items_for` decides in SQL: the same
/// items for every person of the demo district, through the API as well.
#[tokio::test]
async fn a_kept_item_is_shown_to_exactly_the_people_who_may_see_it() {
    let (app, tokens) = spawn_kept_demo_on(Backend::Sqlite).await;
    let db = &app.state.db;
    let ids: Vec<i64> = entity::item::Entity::find()
        .all(db)
        .await
        .expect("items")
        .iter()
        .map(|i| i.id)
        .collect();
    let rows = read::kept_items(db, &app.state.item_cache, &ids)
        .await
        .expect("kept");
    assert_eq!(rows.len(), ids.len());
    let mut saw_some_but_not_all = false;
    for person in entity::person::Entity::find()
        .all(db)
        .await
        .expect("people")
    {
        let actor = Actor::of(person).expect("actor");
        let mut in_sql: Vec<i64> = scope::items_for(&actor, false)
            .all(db)
            .await
            .expect("scoped")
            .iter()
            .map(|i| i.id)
            .collect();
        in_sql.sort_unstable();
        let in_memory: Vec<i64> = rows
            .iter()
            .filter(|r| scope::sees_item(&actor, &r.assignments))
            .map(|r| r.item.id)
            .collect();
        assert_eq!(in_memory, in_sql, "{actor:?}");
        saw_some_but_not_all |= !in_sql.is_empty() && in_sql.len() < ids.len();
    }
    assert!(
        saw_some_but_not_all,
        "some person sees only part of the items"
    );

    // Through the API, with every item kept: a unit's head reads its own and no other.
    let head = ducha_server::auth::actor_of_token_hash(
        db,
        &ducha_server::auth::hash_token(&tokens.unit_head),
    )
    .await
    .expect("lookup")
    .expect("the unit head's token");
    let visible = rows
        .iter()
        .filter(|r| scope::sees_item(&head, &r.assignments))
        .count();
    let mut answered = 0;
    for id in &ids {
        let body = app
            .graphql_as(
                Some(&tokens.unit_head),
                TITLE,
                json!({ "id": id.to_string() }),
            )
            .await;
        if body["data"]["item"].is_object() {
            answered += 1;
        } else {
            assert_eq!(crate::helpers::error_code(&body), "NOT_FOUND", "{body}");
        }
    }
    assert_eq!(answered, visible);
    assert!(
        answered > 0 && answered < ids.len(),
        "{answered} of {}",
        ids.len()
    );
}

/// `caches = off`: nothing is kept, so what is changed behind the instance's back (no verb,
/// no audit row, no notice heard) is what the very next read answers: the item, the name of
/// a unit, whether a token still opens the door.
#[tokio::test]
async fn switched_off_every_answer_comes_from_the_database() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let mut settings = crate::helpers::settings_for(backend).await;
        settings.caches = ducha_server::changes::Caches::Off;
        let app = crate::helpers::spawn_with(settings).await;
        let tokens = ducha_server::demo::load(&app.state)
            .await
            .expect("demo loads")
            .expect("empty database");
        let id = first_item_id(&app).await;
        title(&app, &tokens.supervisor, id).await;
        retitle_by_hand(&app.state.db, id, "手工改过的标题").await;
        assert_eq!(title(&app, &tokens.supervisor, id).await, "手工改过的标题");
        assert!(app.state.item_cache.is_empty(), "nothing kept");

        let units = "{ units { id name } }";
        let before = app
            .graphql_as(Some(&tokens.supervisor), units, json!({}))
            .await;
        let unit_id = crate::helpers::row_id(&before["data"]["units"][0]["id"]);
        app.state
            .db
            .execute_unprepared(&format!(
                "UPDATE unit SET name = '改名后的单位' WHERE id = {unit_id}"
            ))
            .await
            .expect("update by hand");
        let after = app
            .graphql_as(Some(&tokens.supervisor), units, json!({}))
            .await;
        assert_eq!(after["data"]["units"][0]["name"], "改名后的单位", "{after}");

        app.state
            .db
            .execute_unprepared("UPDATE person SET token_hash = NULL")
            .await
            .expect("tokens cleared by hand");
        let refused = app
            .graphql_as(Some(&tokens.supervisor), units, json!({}))
            .await;
        assert!(refused["data"]["units"].is_null(), "{refused}");
    }
}
