//! Roll-up across levels (docs/rules.md §8): a task's colour rolls into its part, the board
//! and the unit standings, and a red task climbs one level a working day to the office.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, ok, refused};
use crate::helpers::{Backend, TestApp, shanghai, spawn_app_on};
use crate::levels::{split, sub_unit, task_mutation, tasks_seen};

on_both_backends!(
    a_red_task_colours_its_part_and_climbs_to_the_office,
    a_sub_unit_returns_its_task_and_the_unit_above_arranges_it_again,
    a_sub_unit_asks_for_more_time_and_the_unit_above_decides,
);

const COLOURS: &str = "query($id: ID!) { item(id: $id) { colour colourReason
    assignments { unit { name } colour colourReason } } }";

async fn colours(app: &TestApp, token: &str, item: &Value) -> Value {
    let body = app
        .graphql_as(Some(token), COLOURS, json!({ "id": item["id"] }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["item"].clone()
}

async fn sweep_at(app: &TestApp, d: &District, at: chrono::DateTime<chrono::Utc>) -> Value {
    app.clock.set(at);
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation { runSweep { ran notices } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["runSweep"]["ran"], true, "{body}");
    body["data"]["runSweep"].clone()
}

/// The climb's notices on record, as (unit, level), in the order written.
async fn climb(app: &TestApp) -> Vec<(i64, String)> {
    entity::notice::Entity::find()
        .filter(entity::notice::Column::Kind.eq("TASK"))
        .filter(entity::notice::Column::Level.contains(" RED "))
        .all(&app.state.db)
        .await
        .expect("notices")
        .into_iter()
        .map(|n| (n.unit_id, n.level))
        .collect()
}

async fn board_count(app: &TestApp, d: &District, colour: &str) -> Option<Value> {
    let board = app
        .graphql_as(
            Some(&d.supervisor),
            "{ dashboard { byColour { colour count } } }",
            json!({}),
        )
        .await;
    board["data"]["dashboard"]["byColour"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["colour"] == colour))
        .map(|e| e["count"].clone())
}

/// 住建局 signs a fresh item and splits its part for one 科室: the item as signed, and the
/// task handed down.
async fn signed_and_split(app: &TestApp, d: &District, unit: i64) -> (Value, Value) {
    let assigned = assigned_item(app, d, "关于推进老旧小区改造的批示").await;
    let signed = crate::district::sign(app, &d.housing_head, &assigned).await;
    let task = ok(
        app,
        &d.housing_head,
        &split("splitPart"),
        json!({ "itemId": signed["id"],
                "tasks": [ { "unitId": unit, "measures": "摸清底数", "responsible": "科长" } ] }),
    )
    .await["tasks"][0]
        .clone();
    (signed, task)
}

async fn mails_titled(app: &TestApp, title: &str) -> Vec<String> {
    entity::outbox::Entity::find()
        .all(&app.state.db)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.subject.contains(title))
        .map(|m| m.recipient)
        .collect()
}

async fn a_red_task_colours_its_part_and_climbs_to_the_office(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (planning, planning_head) = sub_unit(&app, &d, d.housing, "住建局规划科").await;
    let (group, group_head) = sub_unit(&app, &d, planning, "规划科一组").await;
    let assigned = assigned_item(&app, &d, "关于推进老旧小区改造的批示").await;
    let signed = crate::district::sign(&app, &d.housing_head, &assigned).await;
    let task = ok(
        &app,
        &d.housing_head,
        &split("splitPart"),
        json!({ "itemId": signed["id"],
        "tasks": [ { "unitId": planning, "measures": "制定改造方案", "responsible": "刘科长" } ] }),
    )
    .await["tasks"][0]
        .clone();
    let task = ok(
        &app,
        &planning_head,
        &task_mutation("signTask"),
        json!({ "taskId": task["id"], "version": task["version"] }),
    )
    .await["task"]
        .clone();
    let mut below = ok(&app, &planning_head, &split("splitPart"), json!({ "itemId": signed["id"],
        "fromTaskId": task["id"], "tasks": [ { "unitId": group, "measures": "现场踏勘", "responsible": "组长" } ] }))
    .await["tasks"][0]
        .clone();
    let item = &signed;
    let act = |name: &'static str, token: String, extra: Value| {
        let app = &app;
        async move {
            let t = tasks_seen(app, &token, item)
                .await
                .expect("tasks")
                .into_iter()
                .find(|t| t["unit"]["name"] == "规划科一组")
                .expect("the group's task");
            let mut input = json!({ "taskId": t["id"], "version": t["version"] });
            if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
                input.extend(extra.clone());
            }
            ok(app, &token, &task_mutation(name), input).await["task"].clone()
        }
    };

    // The part's own due is far (10-09); the group's, a working day before the 科室's, is
    // tomorrow (09-30): the part is blue for it, and says so.
    let before = colours(&app, &d.supervisor, &signed).await;
    assert_eq!(before["colour"], "BLUE", "{before}");
    assert_eq!(
        before["assignments"][0]["colourReason"],
        "下级任务（规划科一组）1个工作日内到期（期限2026-09-30）"
    );
    // The board counts it blue too: it reads the tasks that may have a colour today.
    assert_eq!(board_count(&app, &d, "BLUE").await, Some(json!(1)));
    act("signTask", group_head.clone(), json!({})).await;
    // The group's report is sent back twice: its task is red (§3's rule on rejections), and
    // with it the part, the item, and the 规划科's task above it, each naming the group.
    for round in 0..2 {
        act(
            "submitTaskFeedback",
            group_head.clone(),
            json!({ "body": format!("踏勘完成（第{}次）", round + 1) }),
        )
        .await;
        below = act(
            "rejectTask",
            planning_head.clone(),
            json!({ "reason": "缺少测绘数据" }),
        )
        .await;
    }
    assert_eq!(below["colour"], "RED", "{below}");
    let rolled = colours(&app, &d.supervisor, &signed).await;
    assert_eq!(rolled["colour"], "RED", "{rolled}");
    let reason = rolled["colourReason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("下级任务（规划科一组）") && reason.contains("退回重办2次"),
        "{rolled}"
    );
    let lead = &rolled["assignments"][0];
    assert_eq!(lead["unit"]["name"], "区住房和城乡建设局", "{rolled}");
    assert_eq!(lead["colour"], "RED", "{rolled}");
    let co = &rolled["assignments"][1];
    assert_eq!(
        co["colour"], "NONE",
        "the co-unit's part has no task: {rolled}"
    );
    // A sub-unit sees the item in its own task's colour, the 科室 above in the worst below it;
    // neither sees the 局's part.
    let seen = colours(&app, &group_head, &signed).await;
    assert_eq!(seen["colour"], "RED", "{seen}");
    assert_eq!(seen["colourReason"], "办结反馈被退回重办2次", "{seen}");
    assert_eq!(seen["assignments"], json!([]), "{seen}");
    let seen = colours(&app, &planning_head, &signed).await;
    assert_eq!(seen["colour"], "RED", "{seen}");
    assert_eq!(
        seen["colourReason"], "下级任务（规划科一组）办结反馈被退回重办2次",
        "{seen}"
    );
    let planning_task = tasks_seen(&app, &d.housing_head, &signed)
        .await
        .expect("tasks")
        .into_iter()
        .find(|t| t["unit"]["name"] == "住建局规划科")
        .expect("the 科室's task");
    assert_eq!(planning_task["colour"], "RED", "{planning_task}");

    // The board counts the item red, against the lead unit.
    assert_eq!(board_count(&app, &d, "BLUE").await, Some(json!(0)));
    let board = app
        .graphql_as(
            Some(&d.supervisor),
            "{ dashboard { byColour { colour count } units { unit { name } red } } }",
            json!({}),
        )
        .await;
    let red_items = board["data"]["dashboard"]["byColour"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["colour"] == "RED"))
        .map(|e| e["count"].clone());
    assert_eq!(red_items, Some(json!(1)), "{board}");
    let housing_red = board["data"]["dashboard"]["units"]
        .as_array()
        .and_then(|l| l.iter().find(|u| u["unit"]["name"] == "区住房和城乡建设局"))
        .map(|u| u["red"].clone());
    assert_eq!(housing_red, Some(json!(1)), "{board}");

    // The climb: the 科室 that handed the task down hears first, once a day.
    let group_task = crate::helpers::row_id(&below["id"]);
    sweep_at(&app, &d, shanghai(2026, 9, 29, 14, 0)).await;
    assert_eq!(
        climb(&app).await,
        [(planning, format!("TASK {group_task} RED 0"))]
    );
    let to_planning = mails_titled(&app, "下级任务红色预警").await;
    assert!(
        to_planning.contains(&format!("unit_head-{planning}@example.gov.cn")),
        "{to_planning:?}"
    );
    sweep_at(&app, &d, shanghai(2026, 9, 29, 16, 0)).await;
    assert_eq!(climb(&app).await.len(), 1, "one rung a day");
    // The next working day, the 局 holding the part; National Day's holidays move nothing.
    sweep_at(&app, &d, shanghai(2026, 9, 30, 8, 30)).await;
    sweep_at(&app, &d, shanghai(2026, 10, 3, 8, 30)).await;
    assert_eq!(
        climb(&app).await,
        [
            (planning, format!("TASK {group_task} RED 0")),
            (d.housing, format!("TASK {group_task} RED 1")),
        ]
    );
    // Then the office, as the 局's problem.
    sweep_at(&app, &d, shanghai(2026, 10, 8, 8, 30)).await;
    let climbed = climb(&app).await;
    assert_eq!(climbed.len(), 3, "{climbed:?}");
    assert_eq!(climbed[2], (d.housing, format!("TASK {group_task} RED 2")));
    assert_eq!(
        mails_titled(&app, "下级任务红色督办").await,
        ["supervisor-0@example.gov.cn"]
    );
    sweep_at(&app, &d, shanghai(2026, 10, 9, 8, 30)).await;
    assert_eq!(climb(&app).await.len(), 3, "the office hears once");
    // The board counts by top-level unit: the 科室 and the 组 are rolled into the 局.
    let board = app
        .graphql_as(
            Some(&d.supervisor),
            "{ dashboard { units { unit { name } } } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = board["data"]["dashboard"]["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["unit"]["name"].as_str())
        .collect();
    assert!(names.contains(&"区住房和城乡建设局"), "{board}");
    assert!(
        !names.iter().any(|n| n.contains("规划科")),
        "sub-units are rolled up: {board}"
    );
    // So does September's 通报: at its last instant the group's task was red (sent back
    // twice on 09-29), so the item is red for the 局, the reason naming the group.
    let september = ducha_server::service::reports::publish_due(
        app.state.publisher(),
        shanghai(2026, 10, 9, 9, 0),
    )
    .await
    .expect("publish_due")
    .expect("September published");
    let report = &september.report;
    assert!(
        report.units.iter().all(|u| !u.unit.contains("规划科")),
        "{:?}",
        report.units.iter().map(|u| &u.unit).collect::<Vec<_>>()
    );
    let red: Vec<(&str, &str)> = report
        .red_items
        .iter()
        .map(|r| (r.unit.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        red,
        [(
            "区住房和城乡建设局",
            "下级任务（规划科一组）办结反馈被退回重办2次"
        )]
    );
    // The climb's rows are in the trail, named by task, like every notice.
    let trail = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { auditTrail { action details } } }",
            json!({ "id": signed["id"] }),
        )
        .await;
    let climbs = trail["data"]["item"]["auditTrail"].as_array().map(|rows| {
        rows.iter()
            .filter(|r| {
                r["action"] == "NOTICE"
                    && r["details"]["level"]
                        .as_str()
                        .is_some_and(|l| l.contains(" RED "))
            })
            .count()
    });
    assert_eq!(climbs, Some(3), "{trail}");
}

async fn a_sub_unit_returns_its_task_and_the_unit_above_arranges_it_again(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (planning, planning_head) = sub_unit(&app, &d, d.housing, "住建局规划科").await;
    let (building, building_head) = sub_unit(&app, &d, d.housing, "住建局建设科").await;
    let (signed, task) = signed_and_split(&app, &d, planning).await;
    let hand = |unit: i64| {
        json!({ "itemId": signed["id"], "tasks": [
            { "unitId": unit, "measures": "摸清改造小区底数", "responsible": "科长" } ] })
    };
    let give_back = |reason: &str| json!({ "taskId": task["id"], "version": task["version"], "reason": reason });
    // Only the sub-unit's head gives it back, saying why; a sibling does not see it.
    assert_eq!(
        refused(
            &app,
            Some(&building_head),
            &task_mutation("returnTask"),
            give_back("不是我们的")
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &task_mutation("returnTask"),
            give_back("收回")
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &task_mutation("returnTask"),
            give_back("  ")
        )
        .await,
        "BAD_USER_INPUT"
    );
    let returned = ok(
        &app,
        &planning_head,
        &task_mutation("returnTask"),
        give_back("改造施工组织属建设科职责"),
    )
    .await["task"]
        .clone();
    assert_eq!(returned["status"], "RETURNED", "{returned}");
    assert_eq!(returned["colour"], "NONE", "{returned}");
    assert_eq!(returned["waiveReason"], "改造施工组织属建设科职责");
    // Given back, it is done with: no signing it now.
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &task_mutation("signTask"),
            json!({ "taskId": returned["id"], "version": returned["version"] })
        )
        .await,
        "INVALID_TRANSITION"
    );
    // The 局 hears of it, and hands the work to the other 科室.
    let heard: Vec<String> = entity::notice::Entity::find()
        .filter(entity::notice::Column::UnitId.eq(d.housing))
        .filter(entity::notice::Column::Kind.eq("TASK"))
        .all(&app.state.db)
        .await
        .expect("notices")
        .into_iter()
        .map(|n| n.level)
        .collect();
    let task_id = crate::helpers::row_id(&task["id"]);
    assert_eq!(heard, [format!("TASK {task_id} RETURNED")]);
    let mut to = mails_titled(&app, "子任务退回通知").await;
    to.sort();
    let mut expected = vec![
        "zjj@example.gov.cn".to_string(),
        format!("unit_head-{}@example.gov.cn", d.housing),
    ];
    expected.sort();
    assert_eq!(to, expected);
    let again =
        ok(&app, &d.housing_head, &split("splitPart"), hand(building)).await["tasks"][0].clone();
    let again = ok(
        &app,
        &building_head,
        &task_mutation("signTask"),
        json!({ "taskId": again["id"], "version": again["version"] }),
    )
    .await["task"]
        .clone();
    // A unit that signed took the task on: it cannot give it back.
    assert_eq!(
        refused(
            &app,
            Some(&building_head),
            &task_mutation("returnTask"),
            json!({ "taskId": again["id"], "version": again["version"], "reason": "太难" })
        )
        .await,
        "INVALID_TRANSITION"
    );
    // The returned task holds nothing back: once the other is waived, the 局 reports done.
    ok(
        &app,
        &d.housing_head,
        &task_mutation("waiveTask"),
        json!({ "taskId": again["id"], "version": again["version"], "reason": "已由本局直接组织" }),
    )
    .await;
    let current = crate::levels::item_now(&app, &d.housing_head, &signed).await;
    ok(
        &app,
        &d.housing_head,
        &item_mutation("submitFeedback", "SubmitFeedbackInput"),
        json!({ "itemId": current["id"], "version": current["version"], "body": "改造方案已制定并开工" }),
    )
    .await;
    let trail = crate::levels::item_now(&app, &d.supervisor, &signed).await;
    let returns: Vec<&Value> = trail["auditTrail"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "RETURN_TASK")
        .collect();
    assert_eq!(returns.len(), 1, "{trail}");
    assert_eq!(returns[0]["reason"], "改造施工组织属建设科职责");
}

async fn a_sub_unit_asks_for_more_time_and_the_unit_above_decides(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (planning, planning_head) = sub_unit(&app, &d, d.housing, "住建局规划科").await;
    let (signed, task) = signed_and_split(&app, &d, planning).await;
    // Due 10-08, a working day before the 局's 10-09.
    assert_eq!(task["dueAt"], "2026-10-08T10:00:00+00:00");
    let task = ok(
        &app,
        &planning_head,
        &task_mutation("signTask"),
        json!({ "taskId": task["id"], "version": task["version"] }),
    )
    .await["task"]
        .clone();
    let ask_mutation = crate::district::m(
        "requestTaskExtension",
        "TaskExtensionInput",
        "task { id version status dueAt requestedDueAt extensionReason }",
    );
    let decide_mutation = crate::district::m(
        "decideTaskExtension",
        "TaskExtensionDecisionInput",
        "task { id version status dueAt requestedDueAt }",
    );
    let ask = |t: &Value, date: &str, reason: &str| json!({ "taskId": t["id"], "version": t["version"], "dueDate": date, "reason": reason });
    // A rest day, a date no later than the due, no reason, the unit above: each refused.
    for (who, input, code) in [
        (
            &planning_head,
            ask(&task, "2026-10-04", "资料未齐"),
            "BAD_USER_INPUT",
        ),
        (
            &planning_head,
            ask(&task, "2026-09-30", "资料未齐"),
            "BAD_USER_INPUT",
        ),
        (
            &planning_head,
            ask(&task, "2026-10-09", " "),
            "BAD_USER_INPUT",
        ),
        (
            &d.housing_head,
            ask(&task, "2026-10-09", "资料未齐"),
            "FORBIDDEN",
        ),
    ] {
        assert_eq!(refused(&app, Some(who), &ask_mutation, input).await, code);
    }
    let asked = ok(
        &app,
        &planning_head,
        &ask_mutation,
        ask(&task, "2026-10-09", "测绘资料未齐"),
    )
    .await["task"]
        .clone();
    assert_eq!(asked["status"], "SIGNED");
    assert_eq!(asked["dueAt"], "2026-10-08T10:00:00+00:00");
    assert_eq!(asked["requestedDueAt"], "2026-10-09T10:00:00+00:00");
    // The 局's 待办 lists it as waiting on the 局, as the item page shows it to both.
    let account = crate::web::give_password(&app, &d.housing_head).await;
    let mut browser = crate::web::Browser::new(&app);
    browser.sign_in(&account, crate::web::PASSWORD).await;
    let (_, todo) = browser.page("/todo").await;
    assert!(todo.contains("子任务待核查或审批 1"), "{todo}");
    assert!(todo.contains("延期申请待审批"), "{todo}");
    let (_, page) = browser
        .page(&format!("/items/{}", crate::helpers::row_id(&signed["id"])))
        .await;
    assert!(
        page.contains("延期申请待上级单位审批：申请延至 <time datetime=\"2026-10-09T10:00:00+00:00\">2026-10-09 18:00</time>，理由：测绘资料未齐"),
        "{page}"
    );
    // One request at a time; only the unit above decides.
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &ask_mutation,
            ask(&asked, "2026-10-12", "再延")
        )
        .await,
        "INVALID_TRANSITION"
    );
    let decide = |t: &Value, approve: bool, reason: Option<&str>| json!({ "taskId": t["id"], "version": t["version"], "approve": approve, "reason": reason });
    assert_eq!(
        refused(
            &app,
            Some(&planning_head),
            &decide_mutation,
            decide(&asked, true, None)
        )
        .await,
        "FORBIDDEN"
    );
    let approved = ok(
        &app,
        &d.housing_head,
        &decide_mutation,
        decide(&asked, true, None),
    )
    .await["task"]
        .clone();
    assert_eq!(approved["dueAt"], "2026-10-09T10:00:00+00:00");
    assert!(approved["requestedDueAt"].is_null(), "{approved}");
    // Past the 局's own due, approval needs a reason; refused, the due stays.
    let asked = ok(
        &app,
        &planning_head,
        &ask_mutation,
        ask(&approved, "2026-10-12", "需现场复核"),
    )
    .await["task"]
        .clone();
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &decide_mutation,
            decide(&asked, true, None)
        )
        .await,
        "BAD_USER_INPUT"
    );
    // A refusal says why.
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &decide_mutation,
            decide(&asked, false, None)
        )
        .await,
        "BAD_USER_INPUT"
    );
    let kept = ok(
        &app,
        &d.housing_head,
        &decide_mutation,
        decide(&asked, false, Some("本局期限不能再延")),
    )
    .await["task"]
        .clone();
    assert_eq!(kept["dueAt"], "2026-10-09T10:00:00+00:00");
    assert!(kept["requestedDueAt"].is_null(), "{kept}");
    // Each request and decision is in the trail with its dues; each told the other side.
    let trail = crate::levels::item_now(&app, &d.supervisor, &signed).await;
    let rows: Vec<(String, Value)> = trail["auditTrail"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            matches!(
                e["action"].as_str(),
                Some("REQUEST_TASK_EXTENSION" | "DECIDE_TASK_EXTENSION")
            )
        })
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["details"]["newDueAt"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("REQUEST_TASK_EXTENSION".to_string(), Value::Null),
            (
                "DECIDE_TASK_EXTENSION".to_string(),
                json!("2026-10-09T10:00:00Z")
            ),
            ("REQUEST_TASK_EXTENSION".to_string(), Value::Null),
            (
                "DECIDE_TASK_EXTENSION".to_string(),
                json!("2026-10-09T10:00:00Z")
            ),
        ]
    );
    let task_id = crate::helpers::row_id(&task["id"]);
    let to_planning: Vec<String> = entity::notice::Entity::find()
        .filter(entity::notice::Column::UnitId.eq(planning))
        .filter(entity::notice::Column::Kind.eq("TASK"))
        .all(&app.state.db)
        .await
        .expect("notices")
        .into_iter()
        .map(|n| n.level)
        .filter(|l| l.contains(" EXT"))
        .collect();
    assert_eq!(to_planning.len(), 2, "{to_planning:?}");
    assert!(
        to_planning
            .iter()
            .all(|l| l.starts_with(&format!("TASK {task_id} EXTD ")))
    );
    assert_eq!(
        mails_titled(&app, "子任务延期申请").await.len(),
        4,
        "two asks, to the 局's contact and head"
    );
    // The approval's mail states the new due; the refusal's, the due kept: 10-09 both.
    let decided: Vec<String> = entity::outbox::Entity::find()
        .all(&app.state.db)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.subject.contains("子任务延期审批结果"))
        .map(|m| m.body_text)
        .collect();
    assert!(!decided.is_empty());
    assert!(
        decided
            .iter()
            .all(|body| body.contains("2026年10月09日 18:00")),
        "{decided:?}"
    );
}
