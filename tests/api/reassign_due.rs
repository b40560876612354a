//! A co-unit given its part by 改派 after the lead is due no later than the lead
//! (docs/rules.md §2: co-units never after the lead), when reassigned and after the item is
//! suspended and resumed (every due moves by the paused days, the cap holds).

use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, ok};
use crate::helpers::{Backend, shanghai, spawn_app_on};

fn part<'a>(item: &'a Value, unit: &str) -> &'a Value {
    item["assignments"]
        .as_array()
        .and_then(|parts| {
            parts
                .iter()
                .find(|p| p["unit"]["name"] == unit && p["status"] != "WITHDRAWN")
        })
        .unwrap_or_else(|| panic!("no live part of {unit} in {item}"))
}

on_both_backends!(a_reassigned_co_unit_is_never_due_after_the_lead);

async fn a_reassigned_co_unit_is_never_due_after_the_lead(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    // Assigned on 29 September (3 working days: the lead is due 9 October, after the holiday).
    let item = assigned_item(&app, &d, "关于整治河道漂浮物的批示").await;
    let lead_due = part(&item, "区住房和城乡建设局")["dueAt"].clone();

    // The co-unit returns it on 9 October; 改派 to the street that day would count three
    // working days from then, past the lead's due.
    app.clock.set(shanghai(2026, 10, 9, 9, 0));
    let returned = ok(
        &app,
        &d.urban_head,
        &item_mutation("returnItem", "ItemReasonInput"),
        json!({ "itemId": item["id"], "version": item["version"], "reason": "非本局职责" }),
    )
    .await["item"]
        .clone();
    let co_part = part(&returned, "区城市管理局")["id"].clone();
    let reassigned = ok(
        &app,
        &d.supervisor,
        &item_mutation("resolveReturn", "ResolveReturnInput"),
        json!({ "itemId": item["id"], "version": returned["version"], "assignmentId": co_part,
                "reassignToUnitId": d.street, "reason": "改由东山街道配合" }),
    )
    .await["item"]
        .clone();
    assert_eq!(
        part(&reassigned, "东山街道办事处")["dueAt"],
        lead_due,
        "{reassigned}"
    );

    // Suspended for two working days and resumed: both move, the street still not after.
    let suspended = ok(
        &app,
        &d.supervisor,
        &item_mutation("suspendItem", "ItemReasonInput"),
        json!({ "itemId": item["id"], "version": reassigned["version"], "reason": "等待汛期结束" }),
    )
    .await["item"]
        .clone();
    app.clock.set(shanghai(2026, 10, 13, 9, 0));
    let resumed = ok(
        &app,
        &d.supervisor,
        &item_mutation("resumeItem", "ItemReasonInput"),
        json!({ "itemId": item["id"], "version": suspended["version"] }),
    )
    .await["item"]
        .clone();
    let lead_after = part(&resumed, "区住房和城乡建设局")["dueAt"]
        .as_str()
        .expect("due")
        .to_string();
    let street_after = part(&resumed, "东山街道办事处")["dueAt"]
        .as_str()
        .expect("due")
        .to_string();
    assert_ne!(
        lead_after,
        lead_due.as_str().expect("due"),
        "the lead's due moved"
    );
    assert!(
        street_after <= lead_after,
        "{street_after} after {lead_after}"
    );
}
