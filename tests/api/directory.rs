//! The directory each instance keeps in memory (`ducha_server::directory`): whose a token
//! is, and the units. Two instances share one PostgreSQL database; what changes through one
//! must not be believed by the other for longer than its live tail takes to hear it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::district::{District, assign_with, unit};
use crate::helpers::{Backend, error_code, settings_for, spawn_with};

const ME: &str = "{ me { name } }";

#[tokio::test]
async fn a_token_reissued_through_one_instance_stops_working_on_the_other() {
    let settings = settings_for(Backend::Postgres).await;
    let a = spawn_with(settings.clone()).await;
    let b = spawn_with(settings).await;
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
    const UNIT_NAMES: &str = "query($id: ID!) { item(id: $id) { assignments { unit { name } } } }";
    let settings = settings_for(Backend::Postgres).await;
    let a = spawn_with(settings.clone()).await;
    let b = spawn_with(settings).await;
    let d = District::create(&a).await;
    let first = assign_with(&a, &d, "排水管网清淤", "3个工作日", d.housing, &[]).await;
    // B reads the units now, and keeps them.
    let body = b
        .graphql_as(
            Some(&d.supervisor),
            UNIT_NAMES,
            json!({ "id": first["id"] }),
        )
        .await;
    assert_eq!(
        body["data"]["item"]["assignments"][0]["unit"]["name"], "区住房和城乡建设局",
        "{body}"
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
    let body = b
        .graphql_as(
            Some(&d.supervisor),
            UNIT_NAMES,
            json!({ "id": second["id"] }),
        )
        .await;
    assert_eq!(
        body["data"]["item"]["assignments"][0]["unit"]["name"], "区水务局",
        "{body}"
    );
}
