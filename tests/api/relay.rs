//! Relay conventions (issue 12, point 4): opaque global ids, `node(id:)` within the reader's
//! scope, and both directions of the item list's cursors.

use serde_json::{Value, json};

use crate::district::{District, assigned_item};
use crate::helpers::{TestApp, error_code, row_id, spawn_app};

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
    items(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { databaseId } }
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }";

async fn page(app: &TestApp, token: &str, variables: Value) -> (Vec<i64>, Value) {
    let body = app.graphql_as(Some(token), PAGE, variables).await;
    let items = &body["data"]["items"];
    let numbers = items["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["databaseId"].as_i64().expect("number"))
        .collect();
    (numbers, items["pageInfo"].clone())
}

#[tokio::test]
async fn ids_are_opaque_and_node_finds_each_kind_within_scope() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "雨污管网改造").await;
    let item_id = assigned["id"].as_str().expect("a string id").to_string();
    assert!(
        !item_id.chars().all(|c| c.is_ascii_digit()),
        "opaque: {item_id}"
    );
    const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
        ... on Item { databaseId serial } ... on Unit { name } ... on Assignment { lead } } }";
    let body = app
        .graphql_as(Some(&d.supervisor), NODE, json!({ "id": item_id }))
        .await;
    assert_eq!(body["data"]["node"]["__typename"], "Item", "{body}");
    assert_eq!(body["data"]["node"]["id"], item_id.as_str());
    assert_eq!(body["data"]["node"]["databaseId"], row_id(&assigned["id"]));

    let assignment = assigned["assignments"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let body = app
        .graphql_as(Some(&d.housing_head), NODE, json!({ "id": assignment }))
        .await;
    assert_eq!(body["data"]["node"]["__typename"], "Assignment", "{body}");
    // A unit not on the item cannot reach it, nor anything inside it, by its global id.
    for id in [&item_id, &assignment] {
        let body = app
            .graphql_as(Some(&d.street_head), NODE, json!({ "id": id }))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    // Ids keep their kind: a unit's id is not an item's.
    let unit = app
        .graphql_as(Some(&d.supervisor), "{ units { id } }", json!({}))
        .await;
    let unit_id = unit["data"]["units"][0]["id"].clone();
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { serial } }",
            json!({ "id": unit_id }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = app
        .graphql_as(Some(&d.supervisor), NODE, json!({ "id": unit_id }))
        .await;
    assert_eq!(body["data"]["node"]["__typename"], "Unit", "{body}");
    // The row number still names an item where an item is asked for.
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { id } }",
            json!({ "id": row_id(&assigned["id"]) }),
        )
        .await;
    assert_eq!(body["data"]["item"]["id"], item_id.as_str(), "{body}");
}

#[tokio::test]
async fn cursors_read_both_ways_and_page_info_tells_the_truth() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    for n in 0..5 {
        assigned_item(&app, &d, &format!("分页事项{n}")).await;
    }
    let token = d.supervisor.clone();
    let (all, info) = page(&app, &token, json!({ "first": 100 })).await;
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first: {all:?}");
    assert_eq!(
        (
            info["hasPreviousPage"].as_bool(),
            info["hasNextPage"].as_bool()
        ),
        (Some(false), Some(false))
    );

    let (first_two, info) = page(&app, &token, json!({ "first": 2 })).await;
    assert_eq!(first_two, all[..2]);
    assert_eq!(
        info["hasPreviousPage"], false,
        "nothing precedes the first page"
    );
    assert_eq!(info["hasNextPage"], true);
    let (next_two, info) = page(
        &app,
        &token,
        json!({ "first": 2, "after": info["endCursor"] }),
    )
    .await;
    assert_eq!(next_two, all[2..4]);
    assert_eq!(info["hasPreviousPage"], true, "the first page precedes");

    // Back from the end: `last` pages read in the list's order.
    let (last_two, info) = page(&app, &token, json!({ "last": 2 })).await;
    assert_eq!(last_two, all[3..]);
    assert_eq!(
        (
            info["hasPreviousPage"].as_bool(),
            info["hasNextPage"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let (before, info) = page(
        &app,
        &token,
        json!({ "last": 2, "before": info["startCursor"] }),
    )
    .await;
    assert_eq!(before, all[1..3]);
    assert_eq!(
        (
            info["hasPreviousPage"].as_bool(),
            info["hasNextPage"].as_bool()
        ),
        (Some(true), Some(true))
    );

    // first: 0 answers no edges but says whether there are any.
    let (none, info) = page(&app, &token, json!({ "first": 0 })).await;
    assert!(none.is_empty());
    assert_eq!(info["hasNextPage"], true);
    let body = app
        .graphql_as(Some(&token), PAGE, json!({ "first": 1, "last": 1 }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}
