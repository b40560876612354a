//! Every transition of the lifecycle, and every illegal one, through the GraphQL API over
//! real HTTP, on SQLite and on PostgreSQL.

use serde_json::{Value, json};

use crate::district::{District, ITEM_FIELDS, assigned_item, item_mutation, m, ok, refused};
use crate::helpers::{Backend, TestApp, shanghai, spawn_app_on};

on_both_backends!(
    an_instruction_goes_from_registration_to_closing_on_time,
    illegal_transitions_and_stale_versions_change_nothing,
    units_see_and_act_only_on_their_own_assignments,
    a_returned_item_is_reassigned_or_insisted_on,
    extensions_are_asked_before_the_due_and_long_ones_need_a_leader,
    rejected_feedback_keeps_the_original_due_and_reopen_follows_a_failed_reinspection,
    suspension_pauses_the_clock_and_cancel_ends_it,
    importing_a_calendar_year_recalculates_only_open_deadlines,
    registering_a_lookalike_item_warns_of_duplicate_supervision,
);

async fn item(app: &TestApp, token: &str, id: &Value) -> Value {
    let body = app
        .graphql_as(
            Some(token),
            &format!("query($id: ID!) {{ item(id: $id) {{ {ITEM_FIELDS} auditTrail {{ action fromStage toStage reason actor {{ name }} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    body["data"]["item"].clone()
}

fn actions(item: &Value) -> Vec<String> {
    item["auditTrail"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["action"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn ver(item: &Value) -> Value {
    item["version"].clone()
}

async fn an_instruction_goes_from_registration_to_closing_on_time(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "关于推进老旧小区改造的批示").await;
    assert_eq!(assigned["stage"], "ASSIGNED");
    assert_eq!(assigned["deadlineRule"], "3个工作日");
    let lead = &assigned["assignments"][0];
    let co = &assigned["assignments"][1];
    // Assigned 2026-09-29 09:00: working days 09-30, 10-08, 10-09 → lead due 10-09 18:00,
    // the co-unit one working day earlier.
    assert_eq!(lead["lead"], true);
    assert_eq!(lead["dueAt"], "2026-10-09T10:00:00+00:00");
    assert_eq!(co["dueAt"], "2026-10-08T10:00:00+00:00");
    assert_eq!(lead["provisional"], false);

    let id = &assigned["id"];
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": id, "version": ver(&assigned) }),
    )
    .await;
    assert_eq!(signed["item"]["stage"], "IN_PROGRESS");
    let co_signed = ok(
        &app,
        &d.urban_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": id, "version": ver(&signed["item"]) }),
    )
    .await;
    assert_eq!(
        co_signed["item"]["stage"], "IN_PROGRESS",
        "a co-unit's signature does not move the item"
    );

    let progress = ok(
        &app,
        &d.housing_staff,
        &m(
            "reportProgress",
            "ReportProgressInput",
            "report { id kind author { name } } item { version }",
        ),
        json!({ "itemId": id, "body": "已完成摸底调查，正在制定改造方案" }),
    )
    .await;
    assert_eq!(progress["report"]["kind"], "PROGRESS");
    assert_eq!(progress["report"]["author"]["name"], "钱科员");

    app.clock.set(shanghai(2026, 10, 8, 15, 0));
    let fed_back = ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", &format!("report {{ id }} item {{ {ITEM_FIELDS} }}")),
        json!({ "itemId": id, "version": ver(&progress["item"]), "body": "改造方案已印发，首批3个小区开工" }),
    )
    .await;
    assert_eq!(fed_back["item"]["stage"], "FEEDBACK_SUBMITTED");
    let verified = ok(
        &app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": id, "version": ver(&fed_back["item"]), "accept": true }),
    )
    .await;
    assert_eq!(verified["item"]["stage"], "VERIFIED");
    app.clock.set(shanghai(2026, 10, 12, 10, 0));
    let closed = ok(
        &app,
        &d.supervisor,
        &item_mutation("closeItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": ver(&verified["item"]) }),
    )
    .await;
    assert_eq!(closed["item"]["stage"], "CLOSED");
    assert_eq!(
        closed["item"]["closedOnTimeOriginal"], true,
        "feedback on 10-08 beat the 10-09 due"
    );
    assert_eq!(closed["item"]["closedOnTimeExtended"], true);

    let full = item(&app, &d.leader, id).await;
    assert_eq!(
        actions(&full),
        [
            "REGISTER",
            "ASSIGN_LEAD",
            "ASSIGN_CO_UNIT",
            "ASSIGN",
            // 督查通知 to each unit, written with the assignment.
            "NOTICE",
            "NOTICE",
            "SIGN",
            "SIGN",
            "REPORT_PROGRESS",
            "SUBMIT_FEEDBACK",
            // The office is told to verify, the co-unit that its part has ended.
            "NOTICE",
            "NOTICE",
            "VERIFY",
            "CLOSE"
        ]
    );
    let stages: Vec<(Value, Value)> = full["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter(|e| !e["toStage"].is_null())
        .map(|e| (e["fromStage"].clone(), e["toStage"].clone()))
        .collect();
    assert_eq!(stages[0], (Value::Null, json!("REGISTERED")));
    assert_eq!(
        stages.last().cloned(),
        Some((json!("VERIFIED"), json!("CLOSED")))
    );
    assert_eq!(full["auditTrail"][6]["actor"]["name"], "赵局长");
}

async fn illegal_transitions_and_stale_versions_change_nothing(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "防汛物资储备检查").await;
    let id = &assigned["id"];
    let v = ver(&assigned);
    let close = item_mutation("closeItem", "ItemReasonInput");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &close,
            json!({ "itemId": id, "version": v })
        )
        .await,
        "INVALID_TRANSITION"
    );
    let feedback = m("submitFeedback", "SubmitFeedbackInput", "item { id }");
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &feedback,
            json!({ "itemId": id, "version": v, "body": "完成" })
        )
        .await,
        "INVALID_TRANSITION",
        "feedback before signing"
    );
    let assign = item_mutation("assignItem", "AssignItemInput");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &assign,
            json!({ "itemId": id, "version": v, "leadUnitId": d.street })
        )
        .await,
        "INVALID_TRANSITION",
        "assigned twice"
    );
    let sign = item_mutation("signItem", "ItemVersionInput");
    let stale = json!({ "itemId": id, "version": v.as_i64().unwrap_or_default() - 1 });
    assert_eq!(
        refused(&app, Some(&d.housing_head), &sign, stale).await,
        "CONFLICT"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &close,
            json!({ "itemId": 99_999, "version": 1 })
        )
        .await,
        "NOT_FOUND"
    );
    let unchanged = item(&app, &d.supervisor, id).await;
    assert_eq!(
        unchanged["version"], v,
        "refused writes do not bump the version"
    );
    assert_eq!(unchanged["stage"], "ASSIGNED");
    assert_eq!(
        actions(&unchanged).len(),
        // REGISTER, ASSIGN_LEAD, ASSIGN_CO_UNIT, ASSIGN and the two 督查通知.
        6,
        "refused writes leave no audit entry"
    );

    let signed = ok(
        &app,
        &d.housing_head,
        &sign,
        json!({ "itemId": id, "version": v }),
    )
    .await;
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &sign,
            json!({ "itemId": id, "version": ver(&signed["item"]) })
        )
        .await,
        "INVALID_TRANSITION",
        "signed twice"
    );
    let register = m("registerItem", "RegisterItemInput", "item { id }");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &register,
            json!({ "title": "  ", "requirements": "x", "sourceKind": "OTHER" })
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &register,
            json!({ "title": "t", "requirements": "x", "sourceKind": "OTHER", "deadline": "尽快" })
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &register,
            json!({ "title": "t", "requirements": "x", "sourceKind": "OTHER", "unitIds": [424242] })
        )
        .await,
        "NOT_FOUND"
    );
}

async fn units_see_and_act_only_on_their_own_assignments(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "背街小巷环境整治").await;
    let id = &assigned["id"];
    let v = ver(&assigned);
    // 东山街道 has no part in it: it cannot see it, and cannot learn that it exists.
    assert!(item(&app, &d.street_head, id).await.is_null());
    let listed = app
        .graphql_as(
            Some(&d.street_head),
            "{ items(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["items"]["edges"], json!([]));
    let sign = item_mutation("signItem", "ItemVersionInput");
    assert_eq!(
        refused(
            &app,
            Some(&d.street_head),
            &sign,
            json!({ "itemId": id, "version": v })
        )
        .await,
        "NOT_FOUND"
    );
    // Staff report but do not sign; leaders read but do not register.
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_staff),
            &sign,
            json!({ "itemId": id, "version": v })
        )
        .await,
        "FORBIDDEN"
    );
    let register = m("registerItem", "RegisterItemInput", "item { id }");
    assert_eq!(
        refused(
            &app,
            Some(&d.leader),
            &register,
            json!({ "title": "t", "requirements": "r", "sourceKind": "OTHER" })
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &m("createUnit", "CreateUnitInput", "unit { id }"),
            json!({ "name": "新单位", "kind": "OTHER" })
        )
        .await,
        "FORBIDDEN",
        "only administrators maintain units"
    );
    // The co-unit sees the item but only its own assignment.
    let as_co = item(&app, &d.urban_head, id).await;
    let units: Vec<&str> = as_co["assignments"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["unit"]["name"].as_str())
        .collect();
    assert_eq!(units, ["区城市管理局"]);
    // No token, or a bad one: UNAUTHENTICATED.
    assert_eq!(
        refused(&app, None, &sign, json!({ "itemId": id, "version": v })).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        refused(
            &app,
            Some("dch_forged"),
            &sign,
            json!({ "itemId": id, "version": v })
        )
        .await,
        "UNAUTHENTICATED"
    );
    let me = app
        .graphql_as(
            Some(&d.housing_head),
            "{ me { name role unit { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "name": "赵局长", "role": "UNIT_HEAD", "unit": { "name": "区住房和城乡建设局" } })
    );
}

async fn a_returned_item_is_reassigned_or_insisted_on(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "占道经营整治").await;
    let id = &assigned["id"];
    let returned = ok(
        &app,
        &d.housing_head,
        &item_mutation("returnItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": ver(&assigned), "reason": "占道经营属城管职责" }),
    )
    .await;
    let lead_assignment = returned["item"]["assignments"][0].clone();
    assert_eq!(lead_assignment["status"], "RETURN_REQUESTED");
    let return_without_reason = item_mutation("returnItem", "ItemReasonInput");
    assert_eq!(
        refused(
            &app,
            Some(&d.urban_head),
            &return_without_reason,
            json!({ "itemId": id, "version": ver(&returned["item"]) })
        )
        .await,
        "BAD_USER_INPUT"
    );
    // Reassigning to a unit already on the item is a bad choice, not a conflict.
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &item_mutation("resolveReturn", "ResolveReturnInput"),
            json!({ "itemId": id, "version": ver(&returned["item"]), "assignmentId": lead_assignment["id"],
                    "reassignToUnitId": d.urban, "reason": "改由城管局牵头" })
        )
        .await,
        "BAD_USER_INPUT"
    );
    let reassigned = ok(
        &app,
        &d.supervisor,
        &item_mutation("resolveReturn", "ResolveReturnInput"),
        json!({ "itemId": id, "version": ver(&returned["item"]), "assignmentId": lead_assignment["id"],
                "reassignToUnitId": d.street, "reason": "属地管理，由街道牵头" }),
    )
    .await;
    let statuses: Vec<(Value, Value, Value)> = reassigned["item"]["assignments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| {
            (
                a["unit"]["name"].clone(),
                a["status"].clone(),
                a["lead"].clone(),
            )
        })
        .collect();
    assert!(statuses.contains(&(json!("区住房和城乡建设局"), json!("WITHDRAWN"), json!(true))));
    assert!(statuses.contains(&(json!("东山街道办事处"), json!("ACTIVE"), json!(true))));
    assert!(
        item(&app, &d.housing_head, id).await.is_null(),
        "a withdrawn unit no longer sees it"
    );
    let signed = ok(
        &app,
        &d.street_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": id, "version": ver(&reassigned["item"]) }),
    )
    .await;
    assert_eq!(signed["item"]["stage"], "IN_PROGRESS");
    // The co-unit returns too; the unit that returned first is not a choice any more.
    let co_returned = ok(
        &app,
        &d.urban_head,
        &item_mutation("returnItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": ver(&signed["item"]), "reason": "非本局职责" }),
    )
    .await;
    let co_assignment = co_returned["item"]["assignments"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["status"] == "RETURN_REQUESTED")
        .cloned()
        .expect("co-unit's return");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &item_mutation("resolveReturn", "ResolveReturnInput"),
            json!({ "itemId": id, "version": ver(&co_returned["item"]), "assignmentId": co_assignment["id"],
                    "reassignToUnitId": d.housing, "reason": "改回住建局" })
        )
        .await,
        "BAD_USER_INPUT"
    );

    // Insisting: the unit keeps it.
    let other = assigned_item(&app, &d, "供暖管网改造").await;
    let back = ok(
        &app,
        &d.housing_head,
        &item_mutation("returnItem", "ItemReasonInput"),
        json!({ "itemId": other["id"], "version": ver(&other), "reason": "不属于本局" }),
    )
    .await;
    let insisted = ok(&app, &d.supervisor, &item_mutation("resolveReturn", "ResolveReturnInput"),
        json!({ "itemId": other["id"], "version": ver(&back["item"]), "assignmentId": back["item"]["assignments"][0]["id"], "reason": "管网改造属住建职责" })).await;
    assert_eq!(insisted["item"]["assignments"][0]["status"], "ACTIVE");
    assert_eq!(
        refused(&app, Some(&d.supervisor), &item_mutation("resolveReturn", "ResolveReturnInput"),
            json!({ "itemId": other["id"], "version": ver(&insisted["item"]), "assignmentId": back["item"]["assignments"][0]["id"], "reason": "再次" })).await,
        "INVALID_TRANSITION",
        "nothing left to resolve"
    );
    // Insisting is final for that unit: it cannot return the item again (issue 10, item 8)…
    let again = app
        .graphql_as(
            Some(&d.housing_head),
            &item_mutation("returnItem", "ItemReasonInput"),
            json!({ "input": { "itemId": other["id"], "version": ver(&insisted["item"]), "reason": "仍不属于本局" } }),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&again),
        "INVALID_TRANSITION",
        "{again}"
    );
    let message = again["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("已维持交办"), "{message}");
    // …while another unit on the item still may.
    let co_unit = ok(
        &app,
        &d.urban_head,
        &item_mutation("returnItem", "ItemReasonInput"),
        json!({ "itemId": other["id"], "version": ver(&insisted["item"]), "reason": "协办事项不属于本局" }),
    )
    .await;
    assert!(
        co_unit["item"]["assignments"]
            .as_array()
            .expect("list")
            .iter()
            .any(|a| a["status"] == "RETURN_REQUESTED")
    );
}

async fn extensions_are_asked_before_the_due_and_long_ones_need_a_leader(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "农贸市场改造提升").await;
    let id = &assigned["id"];
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": id, "version": ver(&assigned) }),
    )
    .await;
    let request = m(
        "requestExtension",
        "RequestExtensionInput",
        "extensionRequest { id proposedDueAt decision } item { version }",
    );
    // Lead due is 2026-10-09 18:00; ask for 11-13, 25 working days later.
    let asked = ok(&app, &d.housing_head, &request,
        json!({ "itemId": id, "version": ver(&signed["item"]), "proposedDueDate": "2026-11-13", "reason": "涉及产权单位协调，需延期" })).await;
    assert_eq!(
        asked["extensionRequest"]["proposedDueAt"],
        "2026-11-13T10:00:00+00:00"
    );
    assert_eq!(
        refused(&app, Some(&d.housing_head), &request,
            json!({ "itemId": id, "version": ver(&asked["item"]), "proposedDueDate": "2026-11-20", "reason": "再申请" })).await,
        "CONFLICT",
        "one pending request at a time"
    );
    let decide = m(
        "decideExtension",
        "DecideExtensionInput",
        "extensionRequest { decision } item { version assignments { dueAt extendedDueAt } }",
    );
    let decision = json!({ "extensionRequestId": asked["extensionRequest"]["id"], "version": ver(&asked["item"]), "approve": true });
    assert_eq!(
        refused(&app, Some(&d.supervisor), &decide, decision.clone()).await,
        "FORBIDDEN",
        "beyond 10 working days"
    );
    assert_eq!(
        refused(&app, Some(&d.housing_head), &decide, decision.clone()).await,
        "FORBIDDEN"
    );
    let approved = ok(&app, &d.leader, &decide, decision).await;
    assert_eq!(approved["extensionRequest"]["decision"], "APPROVED");
    assert_eq!(
        approved["item"]["assignments"][0]["dueAt"], "2026-10-09T10:00:00+00:00",
        "original kept"
    );
    assert_eq!(
        approved["item"]["assignments"][0]["extendedDueAt"],
        "2026-11-13T10:00:00+00:00"
    );

    // Past the (extended) due, no more extensions.
    app.clock.set(shanghai(2026, 11, 16, 9, 0));
    assert_eq!(
        refused(&app, Some(&d.housing_head), &request,
            json!({ "itemId": id, "version": ver(&approved["item"]), "proposedDueDate": "2026-12-31", "reason": "还需时间" })).await,
        "INVALID_TRANSITION"
    );
    // Feedback after the original due but before the extended one: late and on time.
    app.clock.set(shanghai(2026, 11, 12, 9, 0));
    let fed = ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "item { version }"),
        json!({ "itemId": id, "version": ver(&approved["item"]), "body": "已完成改造" }),
    )
    .await;
    let verified = ok(
        &app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": id, "version": ver(&fed["item"]), "accept": true }),
    )
    .await;
    let closed = ok(
        &app,
        &d.supervisor,
        &item_mutation("closeItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": ver(&verified["item"]) }),
    )
    .await;
    assert_eq!(closed["item"]["closedOnTimeOriginal"], false);
    assert_eq!(closed["item"]["closedOnTimeExtended"], true);
}

async fn rejected_feedback_keeps_the_original_due_and_reopen_follows_a_failed_reinspection(
    backend: Backend,
) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "小区加装电梯").await;
    let id = &assigned["id"];
    let due = assigned["assignments"][0]["dueAt"].clone();
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": id, "version": ver(&assigned) }),
    )
    .await;
    let fed = ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "item { version }"),
        json!({ "itemId": id, "version": ver(&signed["item"]), "body": "已完成" }),
    )
    .await;
    let verify = item_mutation("verifyItem", "VerifyItemInput");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &verify,
            json!({ "itemId": id, "version": ver(&fed["item"]), "accept": false })
        )
        .await,
        "BAD_USER_INPUT",
        "a rejection needs a reason"
    );
    let rejected = ok(&app, &d.supervisor, &verify, json!({ "itemId": id, "version": ver(&fed["item"]), "accept": false, "reason": "缺少验收材料" })).await;
    assert_eq!(rejected["item"]["stage"], "IN_PROGRESS");
    assert_eq!(
        rejected["item"]["assignments"][0]["dueAt"], due,
        "the clock runs from the original due"
    );
    let fed = ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "item { version }"),
        json!({ "itemId": id, "version": ver(&rejected["item"]), "body": "已补充验收材料" }),
    )
    .await;
    let verified = ok(
        &app,
        &d.supervisor,
        &verify,
        json!({ "itemId": id, "version": ver(&fed["item"]), "accept": true }),
    )
    .await;
    let closed = ok(
        &app,
        &d.supervisor,
        &item_mutation("closeItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": ver(&verified["item"]) }),
    )
    .await;
    let reopen = item_mutation("reopenItem", "ReopenItemInput");
    let version = ver(&closed["item"]);
    // A reason and a rectification due are both required, and the due must be readable and
    // ahead (docs/rules.md §1: 回头看 sets a new rectification due).
    for (reason, due) in [
        ("", "10个工作日"),
        ("回头看发现电梯未通过验收", ""),
        ("回头看发现电梯未通过验收", "尽快"),
        ("回头看发现电梯未通过验收", "2020-01-06"),
    ] {
        assert_eq!(
            refused(
                &app,
                Some(&d.supervisor),
                &reopen,
                json!({ "itemId": id, "version": version, "reason": reason, "rectificationDue": due })
            )
            .await,
            "BAD_USER_INPUT",
            "{reason:?} {due:?}"
        );
    }
    let reopened = ok(&app, &d.supervisor, &reopen, json!({ "itemId": id, "version": version, "reason": "回头看发现电梯未通过验收", "rectificationDue": "10个工作日" })).await;
    let after = item(&app, &d.supervisor, id).await;
    let lead = after["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["lead"] == true)
        .expect("lead");
    let reopened_at = after["auditTrail"]
        .as_array()
        .and_then(|a| a.last())
        .map(|e| e["at"].clone())
        .expect("reopen row");
    assert_ne!(
        lead["dueAt"], due,
        "the lead runs on the rectification due, not the first one"
    );
    assert!(
        lead["dueAt"].as_str() > reopened_at.as_str(),
        "{} after {}",
        lead["dueAt"],
        reopened_at
    );
    assert_eq!(reopened["item"]["stage"], "IN_PROGRESS");
    let trail = item(&app, &d.supervisor, id).await;
    assert_eq!(actions(&trail).iter().filter(|a| *a == "REJECT").count(), 1);
    // The reopening, and after it the lead's notice of it (事项回头看通知).
    let rows = trail["auditTrail"].as_array().expect("trail");
    let reopen = rows
        .iter()
        .rposition(|e| e["action"] == "REOPEN")
        .expect("the reopening");
    assert_eq!(rows[reopen]["reason"], json!("回头看发现电梯未通过验收"));
    let after: Vec<(&Value, &Value)> = rows[reopen + 1..]
        .iter()
        .map(|e| (&e["action"], &e["reason"]))
        .collect();
    assert_eq!(after, [(&json!("NOTICE"), &json!("事项回头看通知"))]);
}

async fn suspension_pauses_the_clock_and_cancel_ends_it(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    app.clock.set(shanghai(2026, 11, 23, 9, 0));
    let assigned = assigned_item(&app, &d, "停车场建设").await;
    let id = &assigned["id"];
    assert_eq!(
        assigned["assignments"][0]["dueAt"],
        "2026-11-26T10:00:00+00:00"
    );
    let suspend = item_mutation("suspendItem", "ItemReasonInput");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &suspend,
            json!({ "itemId": id, "version": ver(&assigned) })
        )
        .await,
        "BAD_USER_INPUT"
    );
    let suspended = ok(
        &app,
        &d.supervisor,
        &suspend,
        json!({ "itemId": id, "version": ver(&assigned), "reason": "等待规划调整" }),
    )
    .await;
    assert_eq!(suspended["item"]["stage"], "SUSPENDED");
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            &item_mutation("signItem", "ItemVersionInput"),
            json!({ "itemId": id, "version": ver(&suspended["item"]) })
        )
        .await,
        "INVALID_TRANSITION"
    );
    // Resumed a week later: 5 working days paused, so the due moves from 11-26 to 12-03.
    app.clock.set(shanghai(2026, 11, 30, 9, 0));
    let resumed = ok(
        &app,
        &d.supervisor,
        &item_mutation("resumeItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": ver(&suspended["item"]) }),
    )
    .await;
    assert_eq!(
        resumed["item"]["stage"], "ASSIGNED",
        "back where it stopped"
    );
    assert_eq!(resumed["item"]["assignments"][0]["pausedWorkingDays"], 5);
    assert_eq!(
        resumed["item"]["assignments"][0]["dueAt"],
        "2026-12-03T10:00:00+00:00"
    );
    // The explanation says the same due, and why it moved.
    let explained = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { deadlineExplanation { dueAt explanation { summary } } } }",
            json!({ "id": id }),
        )
        .await;
    let explanation = &explained["data"]["item"]["deadlineExplanation"];
    assert_eq!(
        explanation["dueAt"], "2026-12-03T10:00:00+00:00",
        "{explained}"
    );
    assert!(
        explanation["explanation"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("暂停计时5个工作日"),
        "{explained}"
    );
    let cancel = item_mutation("cancelItem", "ItemReasonInput");
    let cancelled = ok(
        &app,
        &d.supervisor,
        &cancel,
        json!({ "itemId": id, "version": ver(&resumed["item"]), "reason": "项目取消" }),
    )
    .await;
    assert_eq!(cancelled["item"]["stage"], "CANCELLED");
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            &cancel,
            json!({ "itemId": id, "version": ver(&cancelled["item"]), "reason": "再撤" })
        )
        .await,
        "INVALID_TRANSITION"
    );
}

const IMPORT: &str = "mutation($input: ImportCalendarYearInput!) { importCalendarYear(input: $input) { year calendarVersion recalculated } }";

async fn importing_a_calendar_year_recalculates_only_open_deadlines(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    app.clock.set(shanghai(2026, 12, 29, 9, 0));
    // Due on the third working day: provisional 2027-01-04 (元旦 is a day off by law though
    // 2027 has no notice yet).
    let open = assigned_item(&app, &d, "元旦期间安全检查").await;
    assert_eq!(open["assignments"][0]["dueAt"], "2027-01-04T10:00:00+00:00");
    assert_eq!(open["assignments"][0]["provisional"], true);
    // A closed item with a due in 2027 must never change.
    let closing = assigned_item(&app, &d, "年终考核材料报送").await;
    let cid = &closing["id"];
    let s = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": cid, "version": ver(&closing) }),
    )
    .await;
    let f = ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "item { version }"),
        json!({ "itemId": cid, "version": ver(&s["item"]), "body": "已报送" }),
    )
    .await;
    let v = ok(
        &app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": cid, "version": ver(&f["item"]), "accept": true }),
    )
    .await;
    let closed = ok(
        &app,
        &d.supervisor,
        &item_mutation("closeItem", "ItemReasonInput"),
        json!({ "itemId": cid, "version": ver(&v["item"]) }),
    )
    .await;
    let closed_due = closed["item"]["assignments"][0]["dueAt"].clone();

    let year_2027 = json!({ "year": 2027, "papers": [], "days": [
        { "name": "元旦", "date": "2027-01-01", "isOffDay": true },
        { "name": "元旦", "date": "2027-01-02", "isOffDay": true },
        { "name": "元旦", "date": "2027-01-03", "isOffDay": true }
    ] })
    .to_string();
    let input = json!({ "input": { "holidayCnJson": year_2027, "mode": "REPLACE" } });
    let denied = app
        .graphql_as(Some(&d.supervisor), IMPORT, input.clone())
        .await;
    assert_eq!(crate::helpers::error_code(&denied), "FORBIDDEN");
    let imported = app.graphql_as(Some(&d.admin), IMPORT, input).await;
    assert_eq!(
        imported["data"]["importCalendarYear"]["year"], 2027,
        "{imported}"
    );
    assert_eq!(
        imported["data"]["importCalendarYear"]["recalculated"], 2,
        "lead and co-unit of the open item"
    );

    let after = item(&app, &d.supervisor, &open["id"]).await;
    assert_eq!(
        after["assignments"][0]["dueAt"], "2027-01-04T10:00:00+00:00",
        "the notice confirms the holiday the law gave: the due stays, no longer provisional"
    );
    assert_eq!(after["assignments"][0]["provisional"], false);
    let recalculated = after["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter(|e| e["action"] == "RECALCULATE_DUE")
        .count();
    assert_eq!(recalculated, 2);
    let untouched = item(&app, &d.supervisor, cid).await;
    assert_eq!(untouched["assignments"][0]["dueAt"], closed_due);
    assert!(!actions(&untouched).contains(&"RECALCULATE_DUE".to_string()));
    let answer = app
        .graphql_signed_in(
            "{ isWorkingDay(date: \"2027-01-01\") { working provisional } }",
            json!({}),
        )
        .await;
    assert_eq!(
        answer["data"]["isWorkingDay"],
        json!({ "working": false, "provisional": false })
    );
    let bad = app
        .graphql_as(
            Some(&d.admin),
            IMPORT,
            json!({ "input": { "holidayCnJson": "{not json", "mode": "REPLACE" } }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&bad), "BAD_USER_INPUT");
}

async fn registering_a_lookalike_item_warns_of_duplicate_supervision(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "关于推进老旧小区改造工作的批示").await;
    let register = m(
        "registerItem",
        "RegisterItemInput",
        "item { id stage } warnings { serial message }",
    );
    let similar = ok(&app, &d.supervisor, &register,
        json!({ "title": "推进老旧小区改造工作", "requirements": "抓紧落实", "sourceKind": "MEETING_DECISION", "unitIds": [d.housing] })).await;
    assert_eq!(
        similar["item"]["stage"], "REGISTERED",
        "a warning, not a block"
    );
    let warnings = similar["warnings"].as_array().expect("list");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("重复督查")
    );
    let unrelated = ok(&app, &d.supervisor, &register,
        json!({ "title": "森林防火专项检查", "requirements": "抓紧落实", "sourceKind": "UPPER_INSPECTION" })).await;
    assert_eq!(unrelated["warnings"], json!([]));
}
