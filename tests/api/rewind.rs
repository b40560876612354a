//! Issue 30, items 1, 3 and 4: the figures an office defends. Weeks of a district are
//! replayed while the live board is read at chosen instants; later events that rewrite the
//! rows (a suspension's resumption moving dues, a 改派 withdrawing a unit, a lead's extension
//! carrying its co-units, a 回头看 reopening a closed item) must not change what
//! `dashboard(at:)` says of those instants. The month's report is held to the board at its
//! end, unit by unit.

use serde_json::{Value, json};

use crate::district::{District, assign_with, feed_verify_close, item_mutation, m, ok};
use crate::helpers::{Backend, TestApp, shanghai, spawn_app_on};

const BOARD: &str = "byColour { colour count } byStage { stage count }
    units { unit { name } colour reason red yellow blue openItems closed closedOnTime }";

/// The live board now, as the office's wall screen reads it.
async fn live(app: &TestApp, d: &District) -> Value {
    let body = app
        .graphql_as(
            Some(&d.leader),
            &format!("{{ dashboard {{ at {BOARD} }} }}"),
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["dashboard"].clone()
}

/// The board as of `at`, asked later.
async fn as_of(app: &TestApp, d: &District, at: &Value) -> Value {
    let body = app
        .graphql_as(
            Some(&d.leader),
            &format!("query($at: DateTime) {{ dashboard(at: $at) {{ at {BOARD} }} }}"),
            json!({ "at": at }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["dashboard"].clone()
}

fn unit_of<'a>(board: &'a Value, name: &str) -> &'a Value {
    board["units"]
        .as_array()
        .and_then(|units| units.iter().find(|u| u["unit"]["name"] == name))
        .unwrap_or_else(|| panic!("{name} not on the board: {board}"))
}

async fn act(app: &TestApp, token: &str, verb: &str, input_type: &str, input: Value) -> Value {
    ok(app, token, &item_mutation(verb, input_type), input).await["item"].clone()
}

async fn replayed_weeks_read_back_as_the_live_board_showed_them(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let housing = "区住房和城乡建设局";

    app.clock.set(shanghai(2026, 10, 9, 9, 0));
    // A: housing leads, urban assists (lead due 10-16, co-unit 10-15).
    let a = assign_with(&app, &d, "老旧小区改造", "5个工作日", d.housing, &[d.urban]).await;
    // B: the street, due 10-14; suspended and resumed later.
    let b = assign_with(&app, &d, "河道保洁", "3个工作日", d.street, &[]).await;
    // C: housing, due 10-14; returned and reassigned to urban later.
    let c = assign_with(&app, &d, "违规广告牌清理", "3个工作日", d.housing, &[]).await;
    app.clock.set(shanghai(2026, 10, 12, 9, 0));
    // E: the street leads, housing assists (lead due 10-26, co-unit 10-23); the lead's
    // extension later carries housing along.
    let e = assign_with(
        &app,
        &d,
        "菜市场周边秩序",
        "10个工作日",
        d.street,
        &[d.housing],
    )
    .await;

    let mut snapshots: Vec<Value> = Vec::new();
    app.clock.set(shanghai(2026, 10, 15, 10, 0));
    snapshots.push(live(&app, &d).await);
    app.clock.set(shanghai(2026, 10, 15, 11, 0));
    let a = feed_verify_close(&app, &d, &a).await;
    app.clock.set(shanghai(2026, 10, 19, 10, 0));
    let before_changes = live(&app, &d).await;
    // C and B are late: housing carries C, the street carries B.
    assert_ne!(
        unit_of(&before_changes, housing)["red"]
            .as_i64()
            .unwrap_or(0)
            + unit_of(&before_changes, housing)["yellow"]
                .as_i64()
                .unwrap_or(0),
        0,
        "{before_changes}"
    );
    snapshots.push(before_changes);

    // B suspended for three days: resuming moves its due.
    app.clock.set(shanghai(2026, 10, 20, 9, 0));
    let b = act(
        &app,
        &d.supervisor,
        "suspendItem",
        "ItemReasonInput",
        json!({ "itemId": b["id"], "version": b["version"], "reason": "等待上级政策明确" }),
    )
    .await;
    // C returned by housing and reassigned to urban.
    app.clock.set(shanghai(2026, 10, 21, 9, 0));
    let returned = act(
        &app,
        &d.housing_head,
        "returnItem",
        "ItemReasonInput",
        json!({ "itemId": c["id"], "version": c["version"], "reason": "不属于本单位职责" }),
    )
    .await;
    let housing_part = returned["assignments"].as_array().expect("assignments")[0]["id"].clone();
    app.clock.set(shanghai(2026, 10, 21, 10, 0));
    act(
        &app,
        &d.supervisor,
        "resolveReturn",
        "ResolveReturnInput",
        json!({ "itemId": c["id"], "version": returned["version"], "assignmentId": housing_part,
                "reassignToUnitId": d.urban, "reason": "改由城管局办理" }),
    )
    .await;
    // E: the street asks for an extension to 11-06 and the office approves it.
    app.clock.set(shanghai(2026, 10, 22, 9, 0));
    let asked = ok(&app, &d.street_head,
        &m("requestExtension", "RequestExtensionInput", "extensionRequest { id } item { version }"),
        json!({ "itemId": e["id"], "version": e["version"], "proposedDueDate": "2026-11-06", "reason": "需协调多个部门" })).await;
    app.clock.set(shanghai(2026, 10, 22, 10, 0));
    let decided = ok(&app, &d.supervisor,
        &m("decideExtension", "DecideExtensionInput", &format!("item {{ {} }}", crate::district::ITEM_FIELDS)),
        json!({ "extensionRequestId": asked["extensionRequest"]["id"], "version": asked["item"]["version"], "approve": true })).await;
    let co = decided["item"]["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|x| x["lead"] == false)
        .cloned()
        .expect("co-unit");
    assert_eq!(
        co["dueAt"], "2026-10-23T10:00:00+00:00",
        "the original due is kept"
    );
    assert_eq!(
        co["extendedDueAt"], "2026-11-05T10:00:00+00:00",
        "the lead's nine working days carry the co-unit from 10-23 to 11-05"
    );
    app.clock.set(shanghai(2026, 10, 23, 9, 0));
    act(
        &app,
        &d.supervisor,
        "resumeItem",
        "ItemReasonInput",
        json!({ "itemId": b["id"], "version": b["version"] }),
    )
    .await;
    // A found failing again: reopened with a rectification due.
    app.clock.set(shanghai(2026, 10, 26, 9, 0));
    act(
        &app,
        &d.supervisor,
        "reopenItem",
        "ReopenItemInput",
        json!({ "itemId": a["id"], "version": a["version"], "reason": "回头看发现问题反弹",
                "rectificationDue": "10个工作日" }),
    )
    .await;
    app.clock.set(shanghai(2026, 10, 27, 10, 0));
    snapshots.push(live(&app, &d).await);
    // The month's last instant, as the report judges it.
    app.clock
        .set(shanghai(2026, 10, 31, 23, 59) + chrono::Duration::seconds(59));
    let month_end = live(&app, &d).await;
    snapshots.push(month_end.clone());

    // Later: every instant reads back as it was shown then.
    app.clock.set(shanghai(2026, 11, 2, 10, 0));
    for shown in &snapshots {
        let asked = as_of(&app, &d, &shown["at"]).await;
        assert_eq!(
            &asked, shown,
            "dashboard(at: {}) differs from the live board then",
            shown["at"]
        );
    }

    // The October report agrees with the board at the month's end for every unit.
    let published = ok(
        &app,
        &d.supervisor,
        &m(
            "publishMonthlyReport",
            "PublishMonthlyReportInput",
            "created report { units { unit colour colourReason } }",
        ),
        json!({ "month": "2026-10" }),
    )
    .await;
    for row in published["report"]["units"].as_array().expect("units") {
        let name = row["unit"].as_str().unwrap_or_default();
        let board = unit_of(&month_end, name);
        assert_eq!(
            row["colour"], board["colour"],
            "{name}: report {row} vs board {board}"
        );
        if board["colour"] != "NONE" {
            assert_eq!(row["colourReason"], board["reason"], "{name}");
        }
    }
}

on_both_backends!(replayed_weeks_read_back_as_the_live_board_showed_them);
