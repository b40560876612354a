//! Levels (docs/rules.md §8): sub-units, 分解 and 转办, over real HTTP on both databases.

use serde_json::{Value, json};

use crate::district::{
    District, assign_with, assigned_item, item_mutation, m, ok, person, refused,
};
use crate::helpers::{Backend, TestApp, spawn_app_on};

on_both_backends!(
    a_lead_unit_splits_its_part_and_its_feedback_waits_for_the_tasks,
    a_street_passes_an_item_down_to_a_community_and_verifies_it,
    the_organisation_stays_a_tree,
    an_item_from_the_city_keeps_the_districts_buffer_and_goes_back_up,
);

const TASK_FIELDS: &str =
    "id databaseId version status passedDown measures responsible dueAt dueReason
    waiveReason colour unit { name } reports { kind body verdict verdictReason }";

fn split(name: &str) -> String {
    m(name, "HandDownInput", &format!("tasks {{ {TASK_FIELDS} }}"))
}

fn task_mutation(name: &str) -> String {
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

async fn tasks_seen(app: &TestApp, token: &str, item: &Value) -> Result<Vec<Value>, String> {
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

async fn item_now(app: &TestApp, token: &str, item: &Value) -> Value {
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
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await["item"]
        .clone();
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
        "FORBIDDEN",
        "a sibling cannot act on its sibling's task"
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

async fn a_street_passes_an_item_down_to_a_community_and_verifies_it(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (community, community_head) = sub_unit(&app, &d, d.street, "东山街道幸福社区").await;
    let (_, sibling_head) = sub_unit(&app, &d, d.street, "东山街道和平社区").await;
    let item = assign_with(
        &app,
        &d,
        "整治幸福社区背街小巷环境",
        "10个工作日",
        d.street,
        &[],
    )
    .await;
    let due = item["assignments"][0]["dueAt"].clone();
    let signed = ok(
        &app,
        &d.street_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": item["id"], "version": item["version"] }),
    )
    .await["item"]
        .clone();

    let down = |unit: i64| {
        json!({ "itemId": signed["id"], "tasks": [
        { "unitId": unit, "measures": "清理背街小巷堆积物，建立长效保洁机制", "responsible": "幸福社区 黄书记" } ] })
    };
    let passed = ok(&app, &d.street_head, &split("passDown"), down(community)).await;
    let task = passed["tasks"][0].clone();
    assert_eq!(task["passedDown"], true);
    assert!(task["dueAt"].as_str() < due.as_str(), "{task} before {due}");
    // Passed down once: not again, and not split beside it.
    assert_eq!(
        refused(
            &app,
            Some(&d.street_head),
            &split("passDown"),
            down(community)
        )
        .await,
        "INVALID_TRANSITION"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.street_head),
            &split("splitPart"),
            down(community)
        )
        .await,
        "INVALID_TRANSITION"
    );
    // 转办 is one unit.
    let two = json!({ "itemId": signed["id"], "tasks": [
        { "unitId": community, "measures": "a", "responsible": "b" },
        { "unitId": d.urban, "measures": "a", "responsible": "b" } ] });
    assert_eq!(
        refused(&app, Some(&d.street_head), &split("passDown"), two).await,
        "BAD_USER_INPUT"
    );

    // The sibling community does not see the item at all.
    assert_eq!(
        tasks_seen(&app, &sibling_head, &signed).await,
        Err("NOT_FOUND".to_string())
    );
    let t = ok(
        &app,
        &community_head,
        &task_mutation("signTask"),
        json!({ "taskId": task["id"], "version": task["version"] }),
    )
    .await["task"]
        .clone();
    let t = ok(
        &app,
        &community_head,
        &task_mutation("submitTaskFeedback"),
        json!({ "taskId": t["id"], "version": t["version"], "body": "已清理，保洁责任到人" }),
    )
    .await["task"]
        .clone();
    let t = ok(
        &app,
        &d.street_head,
        &task_mutation("acceptTask"),
        json!({ "taskId": t["id"], "version": t["version"], "reason": "现场核查属实" }),
    )
    .await["task"]
        .clone();
    assert_eq!(t["status"], "CLOSED");
    assert_eq!(t["colour"], "NONE");
    let current = item_now(&app, &d.street_head, &signed).await;
    let fed = ok(&app, &d.street_head, &item_mutation("submitFeedback", "SubmitFeedbackInput"),
        json!({ "itemId": current["id"], "version": current["version"], "body": "幸福社区已整治完毕" })).await;
    assert_eq!(fed["item"]["stage"], "FEEDBACK_SUBMITTED");
    // Once the item is verified, its tasks are done with it.
    let verified = crate::district::verify(&app, &d, &fed["item"]).await;
    assert_eq!(verified["stage"], "VERIFIED");
    assert_eq!(
        refused(
            &app,
            Some(&community_head),
            &task_mutation("reportTaskProgress"),
            json!({ "taskId": task["id"], "body": "补充" })
        )
        .await,
        "INVALID_TRANSITION"
    );
    // A part already overdue gives its task no default due: the street names one, and why.
    let late = assign_with(&app, &d, "逾期事项转办", "1个工作日", d.street, &[]).await;
    let late = ok(
        &app,
        &d.street_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": late["id"], "version": late["version"] }),
    )
    .await["item"]
        .clone();
    app.clock.advance(chrono::Duration::days(20));
    let bare = json!({ "itemId": late["id"], "tasks": [
        { "unitId": community, "measures": "补办", "responsible": "黄书记" } ] });
    assert_eq!(
        refused(&app, Some(&d.street_head), &split("passDown"), bare).await,
        "BAD_USER_INPUT"
    );
    let named = json!({ "itemId": late["id"], "tasks": [
        { "unitId": community, "measures": "补办", "responsible": "黄书记",
          "dueDate": "2026-10-30", "dueReason": "街道期限已过，给社区三个工作日" } ] });
    let passed = ok(&app, &d.street_head, &split("passDown"), named).await;
    assert_eq!(passed["tasks"][0]["dueAt"], "2026-10-30T10:00:00+00:00");
    assert_eq!(
        passed["tasks"][0]["dueReason"],
        "街道期限已过，给社区三个工作日"
    );
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
    // Moved to the top, the community is a root.
    let moved = ok(&app, &d.admin, UPDATE, update(community, None)).await;
    assert_eq!(moved["unit"]["parent"], Value::Null);
}

async fn an_item_from_the_city_keeps_the_districts_buffer_and_goes_back_up(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let register = m(
        "registerItem",
        "RegisterItemInput",
        &format!(
            "item {{ {} upstreamDocument upstreamDueAt upstreamBufferWorkingDays }}",
            crate::district::ITEM_FIELDS
        ),
    );
    let input = |upstream: Value, deadline: Value| {
        json!({ "title": "落实市政府关于安全生产大检查的部署", "requirements": "全面排查并报送整改情况",
                "sourceKind": "UPPER_INSPECTION", "deadline": deadline, "upstream": upstream })
    };
    let document = "市政府督查室关于开展安全生产大检查的通知（市督〔2026〕8号）";
    // Refused: an upstream due already past, a buffer beyond 20, a district due after the
    // city's, a missing document.
    for (upstream, deadline) in [
        (
            json!({ "document": document, "dueDate": "2026-09-01" }),
            Value::Null,
        ),
        (
            json!({ "document": document, "dueDate": "2026-10-16", "bufferWorkingDays": 30 }),
            Value::Null,
        ),
        (
            json!({ "document": document, "dueDate": "2026-10-16" }),
            json!("2026-10-20"),
        ),
        (
            json!({ "document": " ", "dueDate": "2026-10-16" }),
            Value::Null,
        ),
    ] {
        assert_eq!(
            refused(
                &app,
                Some(&d.supervisor),
                &register,
                input(upstream, deadline)
            )
            .await,
            "BAD_USER_INPUT"
        );
    }
    // Due Friday 10-16 upstream; the policy keeps 2 working days: the district works to 10-14.
    let created = ok(
        &app,
        &d.supervisor,
        &register,
        input(
            json!({ "document": document, "dueDate": "2026-10-16" }),
            Value::Null,
        ),
    )
    .await["item"]
        .clone();
    assert_eq!(created["deadlineRule"], "2026-10-14");
    assert_eq!(created["upstreamDueAt"], "2026-10-16T10:00:00+00:00");
    assert_eq!(created["upstreamBufferWorkingDays"], 2);
    let assigned = ok(
        &app,
        &d.supervisor,
        &item_mutation("assignItem", "AssignItemInput"),
        json!({ "itemId": created["id"], "version": created["version"], "leadUnitId": d.housing }),
    )
    .await["item"]
        .clone();
    assert_eq!(
        assigned["assignments"][0]["dueAt"],
        "2026-10-14T10:00:00+00:00"
    );

    // Before it is verified there is nothing to report up.
    let report_upward = item_mutation("reportUpward", "ItemReasonInput");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &report_upward,
            json!({ "itemId": assigned["id"], "version": assigned["version"] })
        )
        .await,
        "INVALID_TRANSITION"
    );
    let fed = crate::district::feed(&app, &d, &assigned).await;
    let verified = crate::district::verify(&app, &d, &fed).await;
    let upward = |token: &str| {
        let app = &app;
        let id = verified["id"].clone();
        let token = token.to_string();
        async move {
            app.graphql_as(
                Some(&token),
                "query($id: ID!) { item(id: $id) { upwardReport } }",
                json!({ "id": id }),
            )
            .await["data"]["item"]["upwardReport"]
                .clone()
        }
    };
    let text = upward(&d.supervisor).await;
    let text = text.as_str().expect("the office reads the report");
    assert!(
        text.contains(document) && text.contains("区住房和城乡建设局（主办）：已全部落实"),
        "{text}"
    );
    assert_eq!(
        upward(&d.housing_head).await,
        Value::Null,
        "a unit does not read other units' feedback"
    );
    // The office's own due: in its to-do by the city's due, until reported.
    let listed = office_todo(&app, &d).await;
    let entry = listed
        .as_array()
        .expect("todo")
        .iter()
        .find(|e| e["kind"] == "REPORT_UPWARD")
        .cloned();
    assert_eq!(
        entry.map(|e| e["dueAt"].clone()),
        Some(json!("2026-10-16T10:00:00+00:00")),
        "{listed}"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &report_upward,
            json!({ "itemId": verified["id"], "version": verified["version"] })
        )
        .await,
        "FORBIDDEN"
    );
    let reported = ok(&app, &d.supervisor, &report_upward,
        json!({ "itemId": verified["id"], "version": verified["version"], "reason": "经市督查平台报送" })).await["item"].clone();
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &report_upward,
            json!({ "itemId": reported["id"], "version": reported["version"] })
        )
        .await,
        "INVALID_TRANSITION"
    );
    let listed = office_todo(&app, &d).await;
    assert!(
        !listed
            .as_array()
            .expect("todo")
            .iter()
            .any(|e| e["kind"] == "REPORT_UPWARD"),
        "{listed}"
    );
    // An item of the district's own has nothing to report up.
    let own = crate::district::assigned_item(&app, &d, "区内事项").await;
    let own = crate::district::verify(&app, &d, &crate::district::feed(&app, &d, &own).await).await;
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &report_upward,
            json!({ "itemId": own["id"], "version": own["version"] })
        )
        .await,
        "INVALID_TRANSITION"
    );
}

async fn office_todo(app: &TestApp, d: &District) -> Value {
    app.graphql_as(
        Some(&d.supervisor),
        "{ todo { kind dueAt item { serial } } }",
        json!({}),
    )
    .await["data"]["todo"]
        .clone()
}

/// Two instances on one PostgreSQL, each asked at once to pass the same part down to a
/// different 社区, twenty times over: the part is passed down once each time, never twice,
/// and every answer is a success or CONFLICT/INVALID_TRANSITION, never an internal error.
#[tokio::test]
async fn a_part_is_passed_down_once_when_two_instances_race() {
    let (a, b) = crate::helpers::two_instances_on_postgres().await;
    let d = District::create(&a).await;
    let (first, _) = sub_unit(&a, &d, d.street, "东山街道幸福社区").await;
    let (second, _) = sub_unit(&a, &d, d.street, "东山街道和平社区").await;
    for round in 0..20 {
        let item = assign_with(
            &a,
            &d,
            &format!("背街小巷整治第{round}批"),
            "10个工作日",
            d.street,
            &[],
        )
        .await;
        ok(
            &a,
            &d.street_head,
            &item_mutation("signItem", "ItemVersionInput"),
            json!({ "itemId": item["id"], "version": item["version"] }),
        )
        .await;
        let down = |unit: i64| {
            json!({ "input": { "itemId": item["id"], "tasks": [
            { "unitId": unit, "measures": "清理堆积物", "responsible": "书记" } ] } })
        };
        let pass_down = split("passDown");
        let (x, y) = tokio::join!(
            a.graphql_as(Some(&d.street_head), &pass_down, down(first)),
            b.graphql_as(Some(&d.street_head), &pass_down, down(second)),
        );
        let passed = [&x, &y].iter().filter(|r| r["errors"].is_null()).count();
        assert_eq!(passed, 1, "round {round}: {x} {y}");
        for refused in [&x, &y].into_iter().filter(|r| !r["errors"].is_null()) {
            let code = crate::helpers::error_code(refused);
            assert!(
                matches!(code, "CONFLICT" | "INVALID_TRANSITION"),
                "round {round}: {refused}"
            );
        }
        let seen = tasks_seen(&a, &d.street_head, &item).await.expect("tasks");
        assert_eq!(seen.len(), 1, "round {round}: {seen:?}");
    }
}
