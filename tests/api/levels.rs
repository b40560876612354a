//! Levels (docs/rules.md §8): sub-units, 分解 and 转办, over real HTTP on both databases.

use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, m, ok, person, refused};
use crate::helpers::{Backend, TestApp, spawn_app_on};

on_both_backends!(
    a_lead_unit_splits_its_part_and_its_feedback_waits_for_the_tasks,
    the_organisation_stays_a_tree,
);

pub const TASK_FIELDS: &str =
    "id databaseId version status passedDown measures responsible dueAt dueReason
    waiveReason colour unit { name } reports { kind body verdict verdictReason }";

pub fn split(name: &str) -> String {
    m(name, "HandDownInput", &format!("tasks {{ {TASK_FIELDS} }}"))
}

pub fn task_mutation(name: &str) -> String {
    m(
        name,
        "TaskActionInput",
        &format!("task {{ {TASK_FIELDS} }}"),
    )
}

/// A sub-unit of `parent` and its head's token.
pub async fn sub_unit(app: &TestApp, d: &District, parent: i64, name: &str) -> (i64, String) {
    let body = app
        .graphql_as(
            Some(&d.admin),
            "mutation($input: CreateUnitInput!) { createUnit(input: $input) { unit { id parent { name } } } }",
            json!({ "input": { "name": name, "kind": "OTHER", "parentUnitId": parent,
                               "contacts": [{ "name": "联络员", "email": format!("{}@example.gov.cn", name.len()) }] } }),
        )
        .await;
    let unit = &body["data"]["createUnit"]["unit"];
    assert!(
        unit["parent"]["name"].is_string(),
        "createUnit failed: {body}"
    );
    let id = crate::helpers::row_id(&unit["id"]);
    let (_, head) = person(
        app,
        &d.admin,
        &format!("{name}负责人"),
        "UNIT_HEAD",
        Some(id),
    )
    .await;
    (id, head)
}

pub async fn tasks_seen(app: &TestApp, token: &str, item: &Value) -> Result<Vec<Value>, String> {
    let body = app
        .graphql_as(
            Some(token),
            &format!("query($id: ID!) {{ item(id: $id) {{ id tasks {{ {TASK_FIELDS} }} }} }}"),
            json!({ "id": item["id"] }),
        )
        .await;
    match body["data"]["item"]["tasks"].as_array() {
        Some(tasks) => Ok(tasks.clone()),
        None => Err(crate::helpers::error_code(&body).to_string()),
    }
}

pub async fn item_now(app: &TestApp, token: &str, item: &Value) -> Value {
    let body = app
        .graphql_as(
            Some(token),
            &format!(
                "query($id: ID!) {{ item(id: $id) {{ {} auditTrail {{ action reason details }} }} }}",
                crate::district::ITEM_FIELDS
            ),
            json!({ "id": item["id"] }),
        )
        .await;
    body["data"]["item"].clone()
}

async fn a_lead_unit_splits_its_part_and_its_feedback_waits_for_the_tasks(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (planning, planning_head) = sub_unit(&app, &d, d.housing, "住建局规划科").await;
    let (building, building_head) = sub_unit(&app, &d, d.housing, "住建局建设科").await;
    let assigned = assigned_item(&app, &d, "关于推进老旧小区改造的批示").await;
    // The lead's part is due 2026-10-09 18:00 (lifecycle.rs works it out).
    assert_eq!(
        assigned["assignments"][0]["dueAt"],
        "2026-10-09T10:00:00+00:00"
    );
    let two = |item: &Value| {
        json!({ "itemId": item["id"], "tasks": [
            { "unitId": planning, "measures": "摸清改造小区底数，制定改造方案", "responsible": "规划科 刘科长" },
            { "unitId": building, "measures": "组织施工单位进场", "responsible": "建设科 陈科长" },
        ] })
    };

    // Before the part is signed there is nothing to hand down.
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &split("splitPart"),
            two(&assigned)
        )
        .await,
        "INVALID_TRANSITION"
    );
    let signed = crate::district::sign(&app, &d.housing_head, &assigned).await;
    // Staff do not split, the office does not, another unit is not a sub-unit, and a due
    // after the part's wants a reason: each refused, none leaving a task behind.
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_staff),
            &split("splitPart"),
            two(&signed)
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        refused(&app, Some(&d.supervisor), &split("splitPart"), two(&signed)).await,
        "FORBIDDEN"
    );
    let to_street = json!({ "itemId": signed["id"], "tasks": [
        { "unitId": planning, "measures": "方案", "responsible": "刘" },
        { "unitId": d.street, "measures": "配合", "responsible": "周" } ] });
    assert_eq!(
        refused(&app, Some(&d.housing_head), &split("splitPart"), to_street).await,
        "BAD_USER_INPUT"
    );
    let late = json!({ "itemId": signed["id"], "tasks": [
        { "unitId": planning, "measures": "方案", "responsible": "刘", "dueDate": "2026-10-12" } ] });
    assert_eq!(
        refused(&app, Some(&d.housing_head), &split("splitPart"), late).await,
        "BAD_USER_INPUT"
    );
    let blank = json!({ "itemId": signed["id"], "tasks": [
        { "unitId": planning, "measures": "  ", "responsible": "刘" } ] });
    assert_eq!(
        refused(&app, Some(&d.housing_head), &split("splitPart"), blank).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(tasks_seen(&app, &d.housing_head, &signed).await, Ok(vec![]));

    let created = ok(&app, &d.housing_head, &split("splitPart"), two(&signed)).await;
    let tasks = created["tasks"].as_array().expect("tasks").clone();
    assert_eq!(tasks.len(), 2);
    // A working day before the part's due: 10-08 is the first working day after 国庆.
    for task in &tasks {
        assert_eq!(task["dueAt"], "2026-10-08T10:00:00+00:00", "{task}");
        assert_eq!(task["status"], "ASSIGNED");
        assert_eq!(task["passedDown"], false);
    }
    let (planning_task, building_task) = (&tasks[0], &tasks[1]);

    // The unit above sees both; each 科室 its own; the co-unit and an unrelated street none.
    assert_eq!(
        tasks_seen(&app, &d.housing_head, &signed)
            .await
            .map(|t| t.len()),
        Ok(2)
    );
    let seen = tasks_seen(&app, &planning_head, &signed)
        .await
        .expect("the 科室 sees the item");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["unit"]["name"], "住建局规划科");
    let seen = tasks_seen(&app, &building_head, &signed)
        .await
        .expect("the 科室 sees the item");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["unit"]["name"], "住建局建设科");
    assert_eq!(tasks_seen(&app, &d.urban_head, &signed).await, Ok(vec![]));
    assert_eq!(
        tasks_seen(&app, &d.street_head, &signed).await,
        Err("NOT_FOUND".to_string())
    );
    // Its colour there is no other unit's.
    let colour = app
        .graphql_as(
            Some(&planning_head),
            "query($id: ID!) { item(id: $id) { colour colourReason } }",
            json!({ "id": signed["id"] }),
        )
        .await;
    // Its colour there is its task's: on schedule, and no other unit's reason.
    assert_eq!(colour["data"]["item"]["colour"], "NONE", "{colour}");
    assert_eq!(
        colour["data"]["item"]["colourReason"], "按期推进",
        "{colour}"
    );
    // Every verb but progress names the version it acts on.
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &task_mutation("signTask"),
            json!({ "taskId": tasks[0]["id"] })
        )
        .await,
        "BAD_USER_INPUT"
    );
    // The sub-unit reads the item's requirements, but no unit's part.
    let as_planning = item_now(&app, &planning_head, &signed).await;
    assert_eq!(as_planning["assignments"], json!([]));

    // The part cannot be reported done while its tasks are open.
    let feedback = |item: &Value| json!({ "itemId": item["id"], "version": item["version"], "body": "已完成改造方案并开工" });
    let current = item_now(&app, &d.housing_head, &signed).await;
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &item_mutation("submitFeedback", "SubmitFeedbackInput"),
            feedback(&current)
        )
        .await,
        "INVALID_TRANSITION"
    );

    // The 科室 signs, reports, hands in; the 局 sends it back, then accepts it.
    let act = |task: &Value, extra: Value| {
        let mut input = json!({ "taskId": task["id"], "version": task["version"] });
        if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            input.extend(extra.clone());
        }
        input
    };
    assert_eq!(
        refused(
            &app,
            Some(&building_head),
            &task_mutation("signTask"),
            act(planning_task, json!({}))
        )
        .await,
        "NOT_FOUND",
        "a sibling does not see its sibling's task"
    );
    let t = ok(
        &app,
        &planning_head,
        &task_mutation("signTask"),
        act(planning_task, json!({})),
    )
    .await["task"]
        .clone();
    assert_eq!(t["status"], "SIGNED");
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &task_mutation("signTask"),
            act(&t, json!({}))
        )
        .await,
        "INVALID_TRANSITION"
    );
    let t = ok(
        &app,
        &planning_head,
        &task_mutation("reportTaskProgress"),
        json!({ "taskId": t["id"], "body": "已完成12个小区的摸底" }),
    )
    .await["task"]
        .clone();
    let t = ok(
        &app,
        &planning_head,
        &task_mutation("submitTaskFeedback"),
        act(&t, json!({ "body": "改造方案已制定" })),
    )
    .await["task"]
        .clone();
    assert_eq!(t["status"], "FEEDBACK_SUBMITTED");
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &task_mutation("acceptTask"),
            act(&t, json!({}))
        )
        .await,
        "FORBIDDEN",
        "a sub-unit does not verify its own task"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &task_mutation("rejectTask"),
            act(&t, json!({ "reason": " " }))
        )
        .await,
        "BAD_USER_INPUT"
    );
    let t = ok(
        &app,
        &d.housing_head,
        &task_mutation("rejectTask"),
        act(&t, json!({ "reason": "方案缺少资金测算" })),
    )
    .await["task"]
        .clone();
    assert_eq!(t["status"], "SIGNED");
    // The reason is the 科室's to read in the trail; its sibling does not see the row.
    let reason_of = |trail: &Value| {
        trail["auditTrail"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["action"] == "REJECT_TASK")
            .map(|e| e["reason"].clone())
    };
    let own = item_now(&app, &planning_head, &signed).await;
    assert_eq!(reason_of(&own), Some(json!("方案缺少资金测算")), "{own}");
    let sibling = item_now(&app, &building_head, &signed).await;
    assert_eq!(
        reason_of(&sibling),
        None,
        "a sibling's task is not in the trail: {sibling}"
    );
    let t = ok(
        &app,
        &planning_head,
        &task_mutation("submitTaskFeedback"),
        act(&t, json!({ "body": "补充了资金测算" })),
    )
    .await["task"]
        .clone();
    let stale = act(&t, json!({ "version": 1 }));
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &task_mutation("acceptTask"),
            stale
        )
        .await,
        "CONFLICT"
    );
    let t = ok(
        &app,
        &d.housing_head,
        &task_mutation("acceptTask"),
        act(&t, json!({})),
    )
    .await["task"]
        .clone();
    assert_eq!(t["status"], "CLOSED");
    let verdicts: Vec<&Value> = t["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| &r["verdict"])
        .collect();
    assert_eq!(
        verdicts,
        [&json!(null), &json!("REJECTED"), &json!("ACCEPTED")]
    );

    // Still one open task: the part waits. Waived with a reason, it goes.
    let current = item_now(&app, &d.housing_head, &signed).await;
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &item_mutation("submitFeedback", "SubmitFeedbackInput"),
            feedback(&current)
        )
        .await,
        "INVALID_TRANSITION"
    );
    let w = ok(
        &app,
        &d.housing_head,
        &task_mutation("waiveTask"),
        act(building_task, json!({ "reason": "施工由城管局统一组织" })),
    )
    .await["task"]
        .clone();
    assert_eq!(w["status"], "WAIVED");
    assert_eq!(w["waiveReason"], "施工由城管局统一组织");
    let current = item_now(&app, &d.housing_head, &signed).await;
    let fed = ok(
        &app,
        &d.housing_head,
        &item_mutation("submitFeedback", "SubmitFeedbackInput"),
        feedback(&current),
    )
    .await;
    assert_eq!(fed["item"]["stage"], "FEEDBACK_SUBMITTED");
    // Reported done: nothing more is handed down under the report the office verifies.
    let again = json!({ "itemId": signed["id"], "tasks": [
        { "unitId": planning, "measures": "反馈后再分", "responsible": "刘" } ] });
    assert_eq!(
        refused(&app, Some(&d.housing_head), &split("splitPart"), again).await,
        "INVALID_TRANSITION"
    );
    // A task named on an item it is not of is no task at all.
    let other = assigned_item(&app, &d, "另一事项").await;
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &task_mutation("reportTaskProgress"),
            json!({ "taskId": planning_task["id"], "itemId": other["id"], "body": "进展" })
        )
        .await,
        "NOT_FOUND"
    );

    // The trail has every task verb, with the task named; the 科室 heard of its task.
    let trail = item_now(&app, &d.supervisor, &signed).await;
    let actions: Vec<&str> = trail["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for expected in [
        "SPLIT_PART",
        "SIGN_TASK",
        "REPORT_TASK_PROGRESS",
        "SUBMIT_TASK_FEEDBACK",
        "REJECT_TASK",
        "ACCEPT_TASK",
        "WAIVE_TASK",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert_eq!(actions.iter().filter(|a| **a == "SPLIT_PART").count(), 2);
    let notices = task_notices(&app, planning).await;
    assert!(
        notices.iter().any(|n| n.ends_with("HANDED_DOWN")),
        "{notices:?}"
    );
    let above = task_notices(&app, d.housing).await;
    assert_eq!(
        above.iter().filter(|n| n.contains("FEEDBACK")).count(),
        2,
        "{above:?}"
    );
    let building_notices = task_notices(&app, building).await;
    assert!(
        building_notices.iter().any(|n| n.ends_with("WAIVED")),
        "{building_notices:?}"
    );
}

/// The levels of the task notices written for `unit_id`.
async fn task_notices(app: &TestApp, unit_id: i64) -> Vec<String> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::notice::Entity::find()
        .filter(entity::notice::Column::UnitId.eq(unit_id))
        .filter(entity::notice::Column::Kind.eq("TASK"))
        .all(&app.state.db)
        .await
        .expect("notices")
        .into_iter()
        .map(|n| n.level)
        .collect()
}

async fn the_organisation_stays_a_tree(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (community, _) = sub_unit(&app, &d, d.street, "东山街道幸福社区").await;
    let update = |unit: i64, parent: Option<i64>| {
        json!({ "unitId": unit, "name": if unit == d.street { "东山街道办事处" } else { "东山街道幸福社区" },
        "kind": "OTHER", "parentUnitId": parent })
    };
    const UPDATE: &str = "mutation($input: UpdateUnitInput!) { updateUnit(input: $input) { unit { name parent { name } } } }";
    // A unit under itself, or under its own sub-unit, is refused.
    assert_eq!(
        refused(
            &app,
            Some(&d.admin),
            UPDATE,
            update(d.street, Some(d.street))
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.admin),
            UPDATE,
            update(d.street, Some(community))
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.admin),
            UPDATE,
            update(community, Some(999_999))
        )
        .await,
        "NOT_FOUND"
    );
    // Only the administrator shapes the tree.
    assert_eq!(
        refused(&app, Some(&d.street_head), UPDATE, update(community, None)).await,
        "FORBIDDEN"
    );
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            "{ units { name parent { name } subUnits { name } } }",
            json!({}),
        )
        .await;
    let units = body["data"]["units"].as_array().expect("units").clone();
    let street = units
        .iter()
        .find(|u| u["name"] == "东山街道办事处")
        .expect("street");
    assert_eq!(street["subUnits"], json!([{ "name": "东山街道幸福社区" }]));
    assert_eq!(street["parent"], Value::Null);
    // Renamed without naming a parent, it stays where it is.
    let renamed = ok(
        &app,
        &d.admin,
        UPDATE,
        json!({ "unitId": community, "name": "东山街道幸福社区",
        "kind": "OTHER" }),
    )
    .await;
    assert_eq!(renamed["unit"]["parent"]["name"], "东山街道办事处");
    // Moved to the top, the community is a root.
    let moved = ok(&app, &d.admin, UPDATE, update(community, None)).await;
    assert_eq!(moved["unit"]["parent"], Value::Null);
}
