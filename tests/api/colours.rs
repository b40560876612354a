//! 蓝黄红 colours through the API, walking the clock across National Day 2026 and its
//! 调休 Saturday, on SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, ok};
use crate::helpers::{Backend, TestApp, error_code, shanghai, spawn_app_on};

async fn colours(app: &TestApp, token: &str, id: &Value) -> (Value, Value, Value) {
    let body = app
        .graphql_as(
            Some(token),
            "query($id: ID!) { item(id: $id) { colour colourReason assignments { lead colour } } }",
            json!({ "id": id }),
        )
        .await;
    let item = &body["data"]["item"];
    assert!(item.is_object(), "{body}");
    (
        item["colour"].clone(),
        item["colourReason"].clone(),
        item["assignments"].clone(),
    )
}

async fn colours_walk_across_national_day_and_units_follow(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    // Assigned 2026-09-29 09:00: lead due 10-09 18:00, co-unit 10-08 18:00.
    let assigned = assigned_item(&app, &d, "节日期间燃气安全检查").await;
    let id = &assigned["id"];
    ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": id, "version": assigned["version"] }),
    )
    .await;

    app.clock.set(shanghai(2026, 9, 29, 10, 0));
    assert_eq!(
        colours(&app, &d.supervisor, id).await.0,
        "NONE",
        "two working days left for the co-unit"
    );
    // On 09-30 the co-unit's due (10-08) is already the next working day: BLUE, although a
    // week of holiday lies in between. It stays BLUE through the holiday.
    app.clock.set(shanghai(2026, 9, 30, 10, 0));
    assert_eq!(colours(&app, &d.supervisor, id).await.0, "BLUE");
    app.clock.set(shanghai(2026, 10, 7, 10, 0));
    let (colour, reason, per_unit) = colours(&app, &d.supervisor, id).await;
    assert_eq!(colour, "BLUE");
    assert!(
        reason.as_str().unwrap_or_default().contains("2026-10-08"),
        "{reason}"
    );
    assert_eq!(
        per_unit[0]["colour"], "NONE",
        "the lead unit still has two working days"
    );
    assert_eq!(per_unit[1]["colour"], "BLUE");
    // 10-10 is the 调休 Saturday: the lead unit is one working day overdue.
    app.clock.set(shanghai(2026, 10, 10, 10, 0));
    let (colour, reason, _) = colours(&app, &d.supervisor, id).await;
    assert_eq!(colour, "YELLOW");
    assert!(
        reason.as_str().unwrap_or_default().contains("已逾期"),
        "{reason}"
    );
    // Sunday 10-11 adds no working day; 10-14 is the fourth working day overdue → RED.
    app.clock.set(shanghai(2026, 10, 14, 10, 0));
    assert_eq!(colours(&app, &d.supervisor, id).await.0, "RED");

    let dashboard = app
        .graphql_as(
            Some(&d.leader),
            "{ dashboard { byColour { colour count } units { unit { name } colour reason measure red } } }",
            json!({}),
        )
        .await;
    let units = dashboard["data"]["dashboard"]["units"]
        .as_array()
        .expect("units");
    let housing = units
        .iter()
        .find(|u| u["unit"]["name"] == "区住房和城乡建设局")
        .expect("housing");
    // One red item is below the share rules' minimum count (docs/rules.md §3): the unit is
    // reminded, while the item itself climbs the ladder to 红色督办.
    assert_eq!(
        housing["colour"], "BLUE",
        "one red item alone makes a unit blue: {housing}"
    );
    assert_eq!(housing["measure"], "提醒单位主要负责人");
    let serial = assigned["serial"].as_str().expect("serial");
    assert!(
        housing["reason"]
            .as_str()
            .unwrap_or_default()
            .contains(serial),
        "the reason names the item"
    );
    let red = dashboard["data"]["dashboard"]["byColour"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["colour"] == "RED")
        .cloned();
    assert_eq!(red.map(|c| c["count"].clone()), Some(json!(1)));
    // The same dashboard as of an earlier instant shows the earlier colours.
    let earlier = app
        .graphql_as(
            Some(&d.leader),
            "query($at: DateTime) { dashboard(at: $at) { byColour { colour count } } }",
            json!({ "at": "2026-10-07T02:00:00Z" }),
        )
        .await;
    let blue = earlier["data"]["dashboard"]["byColour"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["colour"] == "BLUE")
        .cloned();
    assert_eq!(blue.map(|c| c["count"].clone()), Some(json!(1)));
    let denied = app
        .graphql_as(Some(&d.housing_head), "{ dashboard { at } }", json!({}))
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");

    // An administrator relaxes the rule (red only beyond 10 working days): it applies at once.
    const UPDATE: &str =
        "mutation($input: ColourPolicyInput!) { updateColourPolicy(input: $input) { version } }";
    let mut rules = json!({ "blueWithinWorkingDays": 1, "redAfterOverdueWorkingDays": 10, "yellowRejections": 1,
        "redRejections": 2, "reopenIsRed": true, "countProgressReports": true, "unitBlueBelowPercent": 95.0,
        "unitYellowBelowPercent": 90.0, "unitRedBelowPercent": 80.0, "unitMinClosedForRate": 5, "unitBlueSharePercent": 10.0, "unitYellowSharePercent": 25.0, "unitRedSharePercent": 25.0, "unitShareMinItems": 2, "onTimeWindowDays": 90 });
    assert_eq!(
        error_code(
            &app.graphql_as(
                Some(&d.supervisor),
                UPDATE,
                json!({ "input": rules.clone() })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let updated = app
        .graphql_as(Some(&d.admin), UPDATE, json!({ "input": rules.clone() }))
        .await;
    assert_eq!(
        updated["data"]["updateColourPolicy"]["version"], 1,
        "{updated}"
    );
    assert_eq!(colours(&app, &d.supervisor, id).await.0, "YELLOW");
    rules["unitRedBelowPercent"] = json!(99.0);
    assert_eq!(
        error_code(
            &app.graphql_as(Some(&d.admin), UPDATE, json!({ "input": rules }))
                .await
        ),
        "BAD_USER_INPUT"
    );
    // Stage counts are as of the instant too: feedback now does not change 10-07's stages,
    // and before the item was registered it is not counted at all.
    ok(
        &app,
        &d.housing_head,
        &crate::district::m("submitFeedback", "SubmitFeedbackInput", "item { stage }"),
        json!({ "itemId": id, "version": assigned["version"].as_i64().unwrap_or(0) + 1, "body": "已完成检查" }),
    )
    .await;
    let stages = |at: &'static str| {
        let app = &app;
        let leader = d.leader.clone();
        async move {
            let body = app
                .graphql_as(
                    Some(&leader),
                    "query($at: DateTime) { dashboard(at: $at) { byStage { stage count } } }",
                    json!({ "at": at }),
                )
                .await;
            body["data"]["dashboard"]["byStage"]
                .as_array()
                .expect("stages")
                .iter()
                .filter(|s| s["count"] != 0)
                .map(|s| {
                    (
                        s["stage"].as_str().unwrap_or("").to_string(),
                        s["count"].as_i64().unwrap_or(0),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        stages("2026-10-07T02:00:00Z").await,
        [("IN_PROGRESS".to_string(), 1)]
    );
    assert_eq!(
        stages("2026-10-14T03:00:00Z").await,
        [("FEEDBACK_SUBMITTED".to_string(), 1)]
    );
    assert_eq!(stages("2026-09-01T00:00:00Z").await, []);
}

on_both_backends!(colours_walk_across_national_day_and_units_follow);
