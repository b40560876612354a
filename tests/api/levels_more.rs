//! Levels (docs/rules.md §8), continued: 转办 down to a 社区, a task handed down again and
//! waived with what is below it, two instances racing to pass one part down, and items
//! received from above — over real HTTP on both databases.

use serde_json::{Value, json};

use crate::district::{District, assign_with, item_mutation, m, ok, refused};
use crate::helpers::{Backend, TestApp, spawn_app_on};
use crate::levels::{item_now, split, sub_unit, task_mutation, tasks_seen};

on_both_backends!(
    a_street_passes_an_item_down_to_a_community_and_verifies_it,
    an_item_from_the_city_keeps_the_districts_buffer_and_goes_back_up,
    waiving_a_task_waives_what_was_handed_down_from_it,
);

async fn a_street_passes_an_item_down_to_a_community_and_verifies_it(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (community, community_head) = sub_unit(&app, &d, d.street, "东山街道幸福社区").await;
    let (sibling, sibling_head) = sub_unit(&app, &d, d.street, "东山街道和平社区").await;
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
    let signed = crate::district::sign(&app, &d.street_head, &item).await;

    let down = |unit: i64| {
        json!({ "itemId": signed["id"], "tasks": [
        { "unitId": unit, "measures": "清理背街小巷堆积物，建立长效保洁机制", "responsible": "幸福社区 黄书记" } ] })
    };
    let passed = ok(&app, &d.street_head, &split("passDown"), down(community)).await;
    let task = passed["tasks"][0].clone();
    assert_eq!(task["passedDown"], true);
    assert!(task["dueAt"].as_str() < due.as_str(), "{task} before {due}");
    // Passed down once: not again, and not split beside it — to the other 社区, which holds no
    // task, so only the 转办 refuses it.
    for verb in ["passDown", "splitPart"] {
        let body = app
            .graphql_as(
                Some(&d.street_head),
                &split(verb),
                json!({ "input": down(sibling) }),
            )
            .await;
        assert_eq!(
            crate::helpers::error_code(&body),
            "INVALID_TRANSITION",
            "{verb}: {body}"
        );
        assert!(body.to_string().contains("转办"), "{verb}: {body}");
    }
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
    let late = crate::district::sign(&app, &d.street_head, &late).await;
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
    // city's (a date, or a rule's due if assigned now), a missing document.
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
            json!({ "document": document, "dueDate": "2026-10-16" }),
            json!("30个工作日"),
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
    // 修改 keeps within the city's due too.
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &item_mutation("editItem", "EditItemInput"),
            json!({ "itemId": created["id"], "version": created["version"], "deadline": "2026-10-20" })
        )
        .await,
        "BAD_USER_INPUT"
    );
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

async fn waiving_a_task_waives_what_was_handed_down_from_it(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let (community, community_head) = sub_unit(&app, &d, d.street, "东山街道幸福社区").await;
    let (grid, grid_head) = sub_unit(&app, &d, community, "幸福社区第一网格").await;
    let item = assign_with(&app, &d, "网格化排查", "10个工作日", d.street, &[]).await;
    ok(
        &app,
        &d.street_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": item["id"], "version": item["version"] }),
    )
    .await;
    let task = ok(
        &app,
        &d.street_head,
        &split("passDown"),
        json!({ "itemId": item["id"], "tasks": [
        { "unitId": community, "measures": "全面排查", "responsible": "黄书记" } ] }),
    )
    .await["tasks"][0]
        .clone();
    let task = ok(
        &app,
        &community_head,
        &task_mutation("signTask"),
        json!({ "taskId": task["id"], "version": task["version"] }),
    )
    .await["task"]
        .clone();
    // The 社区 hands its task down again, to its 网格; the 网格 is due before the 社区.
    let below = ok(&app, &community_head, &split("splitPart"), json!({ "itemId": item["id"],
        "fromTaskId": task["id"], "tasks": [ { "unitId": grid, "measures": "逐户排查", "responsible": "网格员" } ] }))
        .await["tasks"][0].clone();
    assert!(
        below["dueAt"].as_str() < task["dueAt"].as_str(),
        "{below} {task}"
    );
    // The 社区 cannot hand in while its 网格 works; the street sees both levels.
    let task = tasks_seen(&app, &community_head, &item)
        .await
        .expect("tasks")
        .into_iter()
        .find(|t| t["id"] == task["id"])
        .expect("the 社区's task");
    assert_eq!(
        refused(
            &app,
            Some(&community_head),
            &task_mutation("submitTaskFeedback"),
            json!({ "taskId": task["id"], "version": task["version"], "body": "已完成" })
        )
        .await,
        "INVALID_TRANSITION"
    );
    assert_eq!(
        tasks_seen(&app, &d.street_head, &item)
            .await
            .map(|t| t.len()),
        Ok(2)
    );
    // Waived from above, the 社区's task takes the 网格's with it.
    ok(
        &app,
        &d.street_head,
        &task_mutation("waiveTask"),
        json!({ "taskId": task["id"], "version": task["version"], "reason": "改由街道直接办理" }),
    )
    .await;
    let seen = tasks_seen(&app, &grid_head, &item)
        .await
        .expect("the 网格 sees its task");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["status"], "WAIVED");
    assert!(
        seen[0]["waiveReason"]
            .as_str()
            .is_some_and(|r| r.contains("改由街道直接办理")),
        "{seen:?}"
    );
    let listed = app
        .graphql_as(
            Some(&grid_head),
            "{ myTasks { task { databaseId } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["myTasks"], json!([]), "{listed}");
}

/// Two instances on one PostgreSQL, one asked for the lead's 办结反馈 and the other for a 分解
/// of the same part at the same moment, twenty times over: either may win, but an item is
/// never left reported done with a task open under the lead's part.
#[tokio::test]
async fn feedback_and_a_split_racing_never_leave_a_task_under_a_report() {
    let (a, b) = crate::helpers::two_instances_on_postgres().await;
    let d = District::create(&a).await;
    let (section, _) = sub_unit(&a, &d, d.housing, "住建局规划科").await;
    for round in 0..20 {
        let item =
            crate::district::assigned_item(&a, &d, &format!("并发分解与反馈第{round}批")).await;
        let signed = crate::district::sign(&a, &d.housing_head, &item).await;
        let feedback = m("submitFeedback", "SubmitFeedbackInput", "report { id }");
        let splitting = split("splitPart");
        let (fed, split_answer) = tokio::join!(
            a.graphql_as(Some(&d.housing_head), &feedback, json!({ "input": {
                "itemId": signed["id"], "version": signed["version"], "body": "已办结" } })),
            b.graphql_as(Some(&d.housing_head), &splitting, json!({ "input": {
                "itemId": signed["id"], "tasks": [ { "unitId": section, "measures": "落实", "responsible": "刘" } ] } })),
        );
        for answer in [&fed, &split_answer] {
            if !answer["errors"].is_null() {
                let code = crate::helpers::error_code(answer);
                assert!(
                    matches!(code, "CONFLICT" | "INVALID_TRANSITION"),
                    "round {round}: {answer}"
                );
            }
        }
        let now = item_now(&a, &d.supervisor, &signed).await;
        let open = tasks_seen(&a, &d.supervisor, &signed).await.expect("tasks");
        assert!(
            now["stage"] != "FEEDBACK_SUBMITTED" || open.is_empty(),
            "round {round}: reported done with {open:?} ({fed} / {split_answer})"
        );
    }
}
