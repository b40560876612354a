//! The directory each instance keeps in memory (`ducha_server::directory`): whose a token
//! is, and the units. Two instances share one PostgreSQL database; what changes through one
//! must not be believed by the other for longer than its live tail takes to hear it. The
//! colour policy each instance keeps (`service::watch::colours::PolicyCache`) is held to the same.

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

    let reissued = ducha_server::service::org::rotate_token(
        &a.state.db,
        &a.state.changes,
        a.state.clock.now(),
        d.leader_id,
    )
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

#[tokio::test]
async fn a_colour_policy_changed_through_one_instance_colours_the_other_s_pages() {
    let (a, b) = two_instances_on_postgres().await;
    let d = District::create(&a).await;
    let item = assign_with(&a, &d, "老旧小区改造", "10个工作日", d.housing, &[]).await;
    // B colours a page now, and keeps the policy it coloured it by.
    assert_eq!(item_colour(&b, &d.supervisor, &item).await, "NONE");

    // BLUE from 20 working days before the due instead of one: the item turns blue.
    let rules = json!({ "blueWithinWorkingDays": 20, "redAfterOverdueWorkingDays": 3,
        "yellowRejections": 1, "redRejections": 2, "reopenIsRed": true,
        "countProgressReports": true, "unitBlueBelowPercent": 95.0,
        "unitYellowBelowPercent": 90.0, "unitRedBelowPercent": 80.0, "unitMinClosedForRate": 5, "unitBlueSharePercent": 10.0, "unitYellowSharePercent": 25.0, "unitRedSharePercent": 25.0, "unitShareMinItems": 2,
        "onTimeWindowDays": 90 });
    let updated = a
        .graphql_as(
            Some(&d.admin),
            "mutation($input: ColourPolicyInput!) { updateColourPolicy(input: $input) { version } }",
            json!({ "input": rules }),
        )
        .await;
    assert_eq!(
        updated["data"]["updateColourPolicy"]["version"], 1,
        "{updated}"
    );
    assert_eq!(item_colour(&a, &d.supervisor, &item).await, "BLUE");
    // B's live tail polls every 0.5 s; the policy is kept 10 s without it.
    let started = Instant::now();
    while item_colour(&b, &d.supervisor, &item).await != "BLUE" {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "B still colours by the old policy {:?} after the change",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The item's colour as a page of `app` shows it.
async fn item_colour(app: &TestApp, token: &str, item: &serde_json::Value) -> String {
    let body = app
        .graphql_as(
            Some(token),
            "{ items(first: 5) { edges { node { id colour } } } }",
            json!({}),
        )
        .await;
    body["data"]["items"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["node"]["id"] == item["id"])
        .and_then(|e| e["node"]["colour"].as_str())
        .unwrap_or_else(|| panic!("no colour of {} in {body}", item["id"]))
        .to_string()
}

/// The administration's new writes (`updateUnit`, `updatePerson`) reach the other instance's
/// kept directory through its live tail, as every other write of no item does.
#[tokio::test]
async fn a_unit_renamed_and_a_role_changed_through_one_instance_are_heard_by_the_other() {
    let (a, b) = two_instances_on_postgres().await;
    let d = District::create(&a).await;
    let first = assign_with(&a, &d, "雨污分流改造", "3个工作日", d.housing, &[]).await;
    // B names the unit and believes the head's role now, and keeps both.
    assert_eq!(
        lead_unit_name(&b, &d.supervisor, &first).await,
        "区住房和城乡建设局"
    );
    let me = "{ me { databaseId role unit { databaseId } } }";
    let head = b.graphql_as(Some(&d.housing_head), me, json!({})).await;
    assert_eq!(head["data"]["me"]["role"], "UNIT_HEAD", "{head}");

    let renamed = a
        .graphql_as(
            Some(&a.admin_token),
            "mutation($input: UpdateUnitInput!) { updateUnit(input: $input) { unit { name } } }",
            json!({ "input": { "unitId": d.housing, "name": "区住房和城乡建设管理局", "kind": "DEPARTMENT" } }),
        )
        .await;
    assert!(renamed["errors"].is_null(), "{renamed}");
    let moved = a
        .graphql_as(
            Some(&a.admin_token),
            "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { role } } }",
            json!({ "input": { "personId": head["data"]["me"]["databaseId"], "name": "赵局长",
                "role": "UNIT_STAFF", "unitId": d.housing } }),
        )
        .await;
    assert!(moved["errors"].is_null(), "{moved}");
    let started = Instant::now();
    loop {
        let name = lead_unit_name(&b, &d.supervisor, &first).await;
        let role =
            b.graphql_as(Some(&d.housing_head), me, json!({})).await["data"]["me"]["role"].clone();
        if name == "区住房和城乡建设管理局" && role == "UNIT_STAFF" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "B still reads {name} and {role} after the change through A"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
