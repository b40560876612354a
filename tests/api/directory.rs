//! The directory each instance keeps in memory (`ducha_server::directory`): whose a token
//! is, and the units. Two instances share one PostgreSQL database; what changes through one
//! must not be believed by the other for longer than its live tail takes to hear it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::district::{District, assign_with, unit};
use crate::helpers::{TestApp, error_code, two_instances_on_postgres};

const ME: &str = "{ me { name } }";

#[tokio::test]
async fn a_token_reissued_through_one_instance_stops_working_on_the_other() {
    let (a, b) = two_instances_on_postgres().await;
    let d = District::create(&a).await;
    // B has just looked the leader's token up, and keeps it.
    let before = b.graphql_as(Some(&d.leader), ME, json!({})).await;
    assert_eq!(before["data"]["me"]["name"], "李副区长", "{before}");

    let reissued =
        ducha_server::service::org::rotate_token(&a.state.db, a.state.clock.now(), d.leader_id)
            .await
            .expect("reissued");
    // B's live tail polls every 0.5 s; a token is believed for 10 s without it. Refused
    // within 3 s means B heard the reissue, not that it forgot on its own.
    let started = Instant::now();
    loop {
        let body = b.graphql_as(Some(&d.leader), ME, json!({})).await;
        if body["errors"].is_array() {
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "B still believes the old token {:?} after the reissue: {body}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = b.graphql_as(Some(&reissued), ME, json!({})).await;
    assert_eq!(after["data"]["me"]["name"], "李副区长", "{after}");
    let on_a = a.graphql_as(Some(&d.leader), ME, json!({})).await;
    assert_eq!(error_code(&on_a), "UNAUTHENTICATED", "{on_a}");
}

#[tokio::test]
async fn a_unit_created_through_one_instance_is_named_by_the_other_at_once() {
    let (a, b) = two_instances_on_postgres().await;
    let d = District::create(&a).await;
    let first = assign_with(&a, &d, "排水管网清淤", "3个工作日", d.housing, &[]).await;
    // B reads the units now, and keeps them.
    assert_eq!(
        lead_unit_name(&b, &d.supervisor, &first).await,
        "区住房和城乡建设局"
    );

    let water = unit(
        &a,
        &d.admin,
        "区水务局",
        "DEPARTMENT",
        d.leader_id,
        "swj@example.gov.cn",
    )
    .await;
    let second = assign_with(&a, &d, "河道保洁", "3个工作日", water, &[]).await;
    // No waiting for B's live tail: a unit B does not know sends it to the database.
    assert_eq!(lead_unit_name(&b, &d.supervisor, &second).await, "区水务局");
}

/// The name of the unit of the item's first assignment, as `app` answers.
async fn lead_unit_name(app: &TestApp, token: &str, item: &serde_json::Value) -> String {
    let body = app
        .graphql_as(
            Some(token),
            "query($id: ID!) { item(id: $id) { assignments { unit { name } } } }",
            json!({ "id": item["id"] }),
        )
        .await;
    body["data"]["item"]["assignments"][0]["unit"]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("no unit name in {body}"))
        .to_string()
}
