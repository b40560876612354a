//! Issue 30, item 9: a calendar change racing verbs that write dues. Items are assigned
//! while a local day off is set that moves their dues; afterwards every stored due rests on
//! the calendar in force and equals the due recomputed on it, on one instance and across
//! two on one PostgreSQL.

use futures_util::future::join_all;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::district::{District, ITEM_FIELDS, item_mutation, m, ok};
use crate::helpers::{Backend, TestApp, shanghai, spawn_app_on, two_instances_on_postgres};

const ITEMS: usize = 24;

async fn registered(app: &TestApp, d: &District, n: usize) -> Value {
    ok(
        app,
        &d.supervisor,
        &m("registerItem", "RegisterItemInput", &format!("item {{ {ITEM_FIELDS} }}")),
        json!({ "title": format!("节前安全检查第{n}项"), "requirements": "按期落实", "sourceKind": "MEETING_DECISION",
                "sourceReference": format!("会议纪要〔2026〕{n}号"), "deadline": "5个工作日" }),
    )
    .await["item"]
        .clone()
}

/// Assigns every item through `apps` in turn while `admin_app` sets 2026-10-09 (a Friday
/// inside every item's period) as a local day off, all at once.
async fn race(apps: &[&TestApp], admin_app: &TestApp, d: &District, items: &[Value]) {
    let assigns = items.iter().enumerate().map(|(n, item)| {
        let app = apps[n % apps.len()];
        async move {
            app.graphql_as(
                Some(&d.supervisor),
                &item_mutation("assignItem", "AssignItemInput"),
                json!({ "input": { "itemId": item["id"], "version": item["version"],
                                   "leadUnitId": d.housing, "coUnitIds": [d.urban] } }),
            )
            .await
        }
    });
    let local_day = async {
        admin_app
            .graphql_as(
                Some(&d.admin),
                "mutation($input: SetLocalDayInput!) { setLocalDay(input: $input) { recalculated } }",
                json!({ "input": { "date": "2026-10-09", "name": "区运动会", "working": false } }),
            )
            .await
    };
    let (assigned, set) = tokio::join!(join_all(assigns), local_day);
    assert!(set["errors"].is_null(), "{set}");
    for body in assigned {
        assert!(body["errors"].is_null(), "{body}");
    }
}

/// Every live assignment's due is the one its rule gives on the calendar in force.
async fn dues_rest_on_the_calendar_in_force(app: &TestApp) {
    let calendar = ducha_server::calendar_store::CalendarStore::build_from(&app.state.db)
        .await
        .expect("calendar");
    let policy = &app.state.deadline_policy;
    let items: std::collections::HashMap<i64, entity::item::Model> = entity::item::Entity::find()
        .all(&app.state.db)
        .await
        .expect("items")
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let assignments = entity::assignment::Entity::find()
        .all(&app.state.db)
        .await
        .expect("assignments");
    assert_eq!(assignments.len(), ITEMS * 2);
    let mut stale = Vec::new();
    for a in &assignments {
        let item = &items[&a.item_id];
        let due = ducha_domain::deadlines::assignment_due(
            &calendar,
            policy,
            ducha_domain::deadlines::DueInputs {
                assigned_at: a.created_at,
                rule: item.deadline_rule.parse().expect("rule"),
                lead: a.lead,
                paused_working_days: a.paused_working_days,
            },
        )
        .expect("due");
        if a.due_at != due.due_at || a.calendar_version != calendar.version() {
            stale.push((a.id, a.due_at, due.due_at));
        }
    }
    assert!(
        stale.is_empty(),
        "{} of {} dues rest on a superseded calendar: {stale:?}",
        stale.len(),
        assignments.len()
    );
    // The local day moved them: assigned on 09-29, a lead's fifth working day is 10-13, not
    // 10-12 (09-30, 10-08, 10-09, the 调休 Saturday 10-10, 10-12, with 10-09 off now).
    let leads: Vec<_> = assignments
        .iter()
        .filter(|a| a.lead)
        .map(|a| a.due_at)
        .collect();
    assert!(
        leads
            .iter()
            .all(|due| *due == shanghai(2026, 10, 13, 18, 0)),
        "{leads:?}"
    );
}

async fn assignments_racing_a_calendar_change_keep_no_stale_due(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    app.clock.set(shanghai(2026, 9, 29, 9, 0));
    let mut items = Vec::new();
    for n in 0..ITEMS {
        items.push(registered(&app, &d, n).await);
    }
    race(&[&app], &app, &d, &items).await;
    dues_rest_on_the_calendar_in_force(&app).await;
}

on_both_backends!(assignments_racing_a_calendar_change_keep_no_stale_due);

/// Two instances: one sets the local day, both assign; the other instance's kept calendar
/// is behind until its tail hears of the change, and must not be counted on.
#[tokio::test]
async fn across_two_instances_no_due_rests_on_a_superseded_calendar() {
    let (first, second) = two_instances_on_postgres().await;
    let d = District::create(&first).await;
    first.clock.set(shanghai(2026, 9, 29, 9, 0));
    second.clock.set(shanghai(2026, 9, 29, 9, 0));
    let mut items = Vec::new();
    for n in 0..ITEMS {
        items.push(registered(&first, &d, n).await);
    }
    race(&[&first, &second], &first, &d, &items).await;
    dues_rest_on_the_calendar_in_force(&first).await;
}
