//! Answers a dashboard, a leader and the monthly report can trust (issue 10, "Wrong
//! answers"), each on SQLite and PostgreSQL over HTTP.

use serde_json::{Value, json};

use crate::district::{District, assign_with, feed, feed_verify_close, item_mutation, m, ok};
use crate::helpers::{Backend, TestApp, shanghai, spawn_app_on};

async fn serials(app: &TestApp, token: &str, filter: Value) -> Vec<String> {
    let body = app
        .graphql_as(
            Some(token),
            "query($f: ItemFilter) { items(filter: $f, first: 100) { edges { node { serial } } } }",
            json!({ "f": filter }),
        )
        .await;
    let edges = body["data"]["items"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("items failed: {body}"));
    edges
        .iter()
        .map(|e| e["node"]["serial"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn colour_of(app: &TestApp, token: &str, id: &Value) -> (String, String) {
    let body = app
        .graphql_as(
            Some(token),
            "query($id: ID!) { item(id: $id) { colour colourReason } }",
            json!({ "id": id }),
        )
        .await;
    let item = &body["data"]["item"];
    (
        item["colour"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_string(),
        item["colourReason"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// Item 1: `overdue` means past a live assignment's effective due now — not every item in
/// a working stage — and `colours` lists the items of those colours.
async fn overdue_and_colour_filters_are_true(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    // Due 10-09 (3 working days from 09-29 across National Day).
    let late = assign_with(&app, &d, "排水管网清淤", "3个工作日", d.housing, &[]).await;
    let far = assign_with(&app, &d, "城市更新规划编制", "2027-01-06", d.housing, &[]).await;
    let extended = assign_with(&app, &d, "农贸市场提升改造", "3个工作日", d.housing, &[]).await;
    let signed = crate::district::sign(&app, &d.housing_head, &extended).await;
    let request = ok(
        &app,
        &d.housing_head,
        &m("requestExtension", "RequestExtensionInput", "extensionRequest { id }"),
        json!({ "itemId": signed["id"], "version": signed["version"], "proposedDueDate": "2026-10-20",
                "reason": "需协调施工单位" }),
    )
    .await;
    let version = signed["version"].as_i64().expect("version") + 1;
    ok(
        &app,
        &d.supervisor,
        &m("decideExtension", "DecideExtensionInput", "extensionRequest { id }"),
        json!({ "extensionRequestId": request["extensionRequest"]["id"], "version": version, "approve": true }),
    )
    .await;

    // Before anything is due, nothing is overdue.
    assert!(
        serials(&app, &d.supervisor, json!({ "overdue": true }))
            .await
            .is_empty()
    );

    // 10-12: `late` is two working days past its due (10-10 is a make-up Saturday); the
    // extended one is not, the far one is not.
    app.clock.set(shanghai(2026, 10, 12, 9, 0));
    let overdue = serials(&app, &d.supervisor, json!({ "overdue": true })).await;
    assert_eq!(overdue, vec![late["serial"].as_str().unwrap_or_default()]);
    let not_overdue = serials(&app, &d.supervisor, json!({ "overdue": false })).await;
    assert!(not_overdue.contains(&far["serial"].as_str().unwrap_or_default().to_string()));
    assert!(not_overdue.contains(&extended["serial"].as_str().unwrap_or_default().to_string()));
    assert!(!not_overdue.contains(&late["serial"].as_str().unwrap_or_default().to_string()));
    // A unit's filter stays within its scope: 住建局 leads all three and sees one overdue.
    assert_eq!(
        serials(&app, &d.housing_head, json!({ "overdue": true })).await,
        vec![late["serial"].as_str().unwrap_or_default()]
    );

    assert_eq!(
        serials(&app, &d.supervisor, json!({ "colours": ["YELLOW"] })).await,
        vec![late["serial"].as_str().unwrap_or_default()]
    );
    assert!(
        serials(&app, &d.supervisor, json!({ "colours": ["RED"] }))
            .await
            .is_empty()
    );
    // 10-15: five working days late, RED; colours combine with the other filters.
    app.clock.set(shanghai(2026, 10, 15, 9, 0));
    assert_eq!(
        serials(
            &app,
            &d.supervisor,
            json!({ "colours": ["RED"], "overdue": true })
        )
        .await,
        vec![late["serial"].as_str().unwrap_or_default()]
    );
    let calm = serials(&app, &d.supervisor, json!({ "colours": ["NONE", "BLUE"] })).await;
    assert!(
        calm.contains(&far["serial"].as_str().unwrap_or_default().to_string()),
        "{calm:?}"
    );
    assert!(!calm.contains(&late["serial"].as_str().unwrap_or_default().to_string()));
}

/// Item 10: a late completion report is never "按期推进": a VERIFIED item that came in late
/// says so, and a late-closed item says 逾期办结.
async fn late_items_never_read_on_schedule(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = assign_with(
        &app,
        &d,
        "学校周边交通整治",
        "3个工作日",
        d.housing,
        &[d.urban],
    )
    .await;
    app.clock.set(shanghai(2026, 10, 13, 10, 0));
    let fed = feed(&app, &d, &item).await;
    // The co-unit's part (due 10-08) ended four working days late when the lead reported:
    // RED, as the item (the lead itself is three late).
    let (colour, reason) = colour_of(&app, &d.supervisor, &fed["id"]).await;
    assert_eq!(colour, "RED", "{reason}");
    assert!(reason.contains("协办部分逾期4个工作日"), "{reason}");
    app.clock.set(shanghai(2026, 11, 2, 10, 0));
    let later = colour_of(&app, &d.supervisor, &fed["id"]).await;
    assert_eq!(later, (colour, reason), "the clock stopped at the report");
    let closed = feed_verify_close_from_fed(&app, &d, &fed).await;
    assert_eq!(closed["stage"], "CLOSED");
    let (colour, reason) = colour_of(&app, &d.supervisor, &closed["id"]).await;
    assert_eq!(colour, "NONE");
    assert!(reason.starts_with("逾期办结"), "{reason}");
    // The lead's late report was late for the co-unit's part too.
    let assignments = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { assignments { lead colourReason } } }",
            json!({ "id": closed["id"] }),
        )
        .await;
    for a in assignments["data"]["item"]["assignments"]
        .as_array()
        .expect("list")
    {
        let reason = a["colourReason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("逾期办结"), "{a}");
    }

    // One on time reads 按期办结.
    let on_time = assign_with(&app, &d, "公厕提质改造", "3个工作日", d.housing, &[]).await;
    let closed = feed_verify_close(&app, &d, &on_time).await;
    assert_eq!(
        colour_of(&app, &d.supervisor, &closed["id"]).await.1,
        "按期办结"
    );
}

async fn feed_verify_close_from_fed(app: &TestApp, d: &District, fed: &Value) -> Value {
    let verified = crate::district::verify(app, d, fed).await;
    let (colour, reason) = colour_of(app, &d.supervisor, &verified["id"]).await;
    assert_ne!(colour, "NONE", "{reason}");
    assert!(
        reason.contains("办结反馈逾期") || reason.contains("协办部分逾期"),
        "VERIFIED: {reason}"
    );
    crate::district::close(app, d, &verified).await
}

on_both_backends!(
    overdue_and_colour_filters_are_true,
    late_items_never_read_on_schedule
);

async fn deadline(app: &TestApp, start: &str, rule: Value) -> Value {
    app.graphql_signed_in(
        "query($s: DateTime!, $r: DeadlineRuleInput!) { deadline(start: $s, rule: $r) { dueDate explanation { summary provisionalYears } } }",
        json!({ "s": start, "r": rule }),
    )
    .await
}

/// Item 4: a rule counted backwards from a meeting rolls back onto the working day before,
/// never forward onto the meeting day.
async fn backward_rules_roll_back(backend: Backend) {
    let app = spawn_app_on(backend).await;
    // 会前3天 before 10-08: 10-05 is a National Day holiday, so 09-30.
    let body = deadline(&app, "2026-10-08T01:00:00Z", json!({ "calendarDays": -3 })).await;
    assert_eq!(body["data"]["deadline"]["dueDate"], "2026-09-30", "{body}");
    let summary = body["data"]["deadline"]["explanation"]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(summary.contains("提前至其前最后一个工作日"), "{summary}");
    // A month before 11-01 is 10-01 (National Day): also 09-30.
    let body = deadline(&app, "2026-11-01T01:00:00Z", json!({ "months": -1 })).await;
    assert_eq!(body["data"]["deadline"]["dueDate"], "2026-09-30", "{body}");
    // Forward rules still roll forward: 10 days from 09-25 is 10-05, then 10-08.
    let body = deadline(&app, "2026-09-25T01:00:00Z", json!({ "calendarDays": 10 })).await;
    assert_eq!(body["data"]["deadline"]["dueDate"], "2026-10-08", "{body}");
}

/// Item 5: rules have a sane range and dates before the calendar's data are "before
/// coverage" — BAD_USER_INPUT, nothing computed.
async fn rules_have_bounds_and_old_dates_are_before_coverage(backend: Backend) {
    let app = spawn_app_on(backend).await;
    for rule in [
        json!({ "workingDays": 100000 }),
        json!({ "workingDays": -100000 }),
        json!({ "months": 100000 }),
        json!({ "calendarDays": 5000 }),
        json!({ "hours": 0 }),
        json!({ "text": "100000个工作日" }),
    ] {
        let body = deadline(&app, "2026-09-29T01:00:00Z", rule.clone()).await;
        assert_eq!(
            crate::helpers::error_code(&body),
            "BAD_USER_INPUT",
            "{rule}: {body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    // Ten years back crosses National Day ten times: each year is its own entry.
    let body = deadline(&app, "2026-10-08T02:00:00Z", json!({ "months": -120 })).await;
    let summary = body["data"]["deadline"]["explanation"]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(!summary.contains("2018-10-01至2026-10-07"), "{summary}");
    assert!(summary.contains("2025-10-01至2025-10-08"), "{summary}");
    // Hours run on the clock: no start day is left out.
    let body = deadline(&app, "2026-09-29T01:00:00Z", json!({ "hours": 24 })).await;
    let summary = body["data"]["deadline"]["explanation"]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(!summary.contains("起算日不计入"), "{summary}");
    // The widest allowed rule is answered, with at most ten provisional years.
    let body = deadline(&app, "2026-09-29T01:00:00Z", json!({ "workingDays": 2500 })).await;
    let years = body["data"]["deadline"]["explanation"]["provisionalYears"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(years.len() <= 11, "{body}");

    let body = deadline(&app, "2003-06-02T01:00:00Z", json!({ "workingDays": 3 })).await;
    assert_eq!(
        crate::helpers::error_code(&body),
        "BAD_USER_INPUT",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("早于日历数据的覆盖范围"), "{message}");
    assert!(!message.contains("尚未公布"), "{message}");
    // Backwards out of coverage, and the day queries, answer the same way.
    let body = deadline(&app, "2004-01-05T01:00:00Z", json!({ "workingDays": -10 })).await;
    assert_eq!(
        crate::helpers::error_code(&body),
        "BAD_USER_INPUT",
        "{body}"
    );
    for query in [
        r#"{ isWorkingDay(date: "2003-05-01") { working } }"#,
        r#"{ addWorkingDays(date: "2026-09-29", days: 100000) { date } }"#,
        r#"{ workingDaysBetween(from: "2003-01-01", to: "2026-01-01") { days } }"#,
    ] {
        let body = app.graphql_signed_in(query, json!({})).await;
        assert_eq!(
            crate::helpers::error_code(&body),
            "BAD_USER_INPUT",
            "{query}: {body}"
        );
    }
}

on_both_backends!(
    backward_rules_roll_back,
    rules_have_bounds_and_old_dates_are_before_coverage
);

/// Item 9: a co-unit's extension past its lead's due is refused unless the office says so
/// explicitly; refused, it changes nothing.
async fn a_co_unit_is_not_due_after_its_lead_unless_the_office_says_so(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = crate::district::assigned_item(&app, &d, "夜间施工噪声治理").await;
    let signed = crate::district::sign(&app, &d.urban_head, &item).await;
    let request = ok(
        &app,
        &d.urban_head,
        &m("requestExtension", "RequestExtensionInput", "extensionRequest { id }"),
        json!({ "itemId": signed["id"], "version": signed["version"], "proposedDueDate": "2026-10-20",
                "reason": "需协调资金" }),
    )
    .await;
    let request_id = request["extensionRequest"]["id"].clone();
    let version = signed["version"].as_i64().expect("version") + 1;
    let decide = m(
        "decideExtension",
        "DecideExtensionInput",
        &format!("item {{ {} }}", crate::district::ITEM_FIELDS),
    );
    let refused = app
        .graphql_as(
            Some(&d.supervisor),
            &decide,
            json!({ "input": { "extensionRequestId": request_id, "version": version, "approve": true } }),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&refused),
        "BAD_USER_INPUT",
        "{refused}"
    );
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("晚于主办单位的期限"), "{message}");
    let unchanged = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { version extensionRequests { decision } assignments { lead extendedDueAt } } }",
            json!({ "id": item["id"] }),
        )
        .await;
    assert_eq!(unchanged["data"]["item"]["version"], version, "{unchanged}");
    assert!(unchanged["data"]["item"]["extensionRequests"][0]["decision"].is_null());
    let approved = ok(
        &app,
        &d.supervisor,
        &decide,
        json!({ "extensionRequestId": request_id, "version": version, "approve": true, "beyondLeadDue": true }),
    )
    .await;
    let co = approved["item"]["assignments"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["lead"] == false)
        .cloned()
        .expect("co-unit");
    assert!(co["extendedDueAt"].is_string(), "{approved}");
}

on_both_backends!(a_co_unit_is_not_due_after_its_lead_unless_the_office_says_so);

const IMPORT: &str =
    "mutation($input: ImportCalendarYearInput!) { importCalendarYear(input: $input) {
    year dryRun recalculated changedDays { date before { working name } after { working name } }
    movedDeadlines { serial oldDueAt newDueAt } } }";

async fn working(app: &TestApp, date: &str) -> bool {
    let body = app
        .graphql_signed_in(
            "query($d: Date!) { isWorkingDay(date: $d) { working } }",
            json!({ "d": date }),
        )
        .await;
    body["data"]["isWorkingDay"]["working"]
        .as_bool()
        .unwrap_or_else(|| panic!("{body}"))
}

async fn lead_due(app: &TestApp, token: &str, id: &Value) -> (Value, Value) {
    let body = app
        .graphql_as(
            Some(token),
            "query($id: ID!) { item(id: $id) { assignments { lead dueAt } deadlineExplanation { dueAt } } }",
            json!({ "id": id }),
        )
        .await;
    let item = &body["data"]["item"];
    (
        item["assignments"][0]["dueAt"].clone(),
        item["deadlineExplanation"]["dueAt"].clone(),
    )
}

/// Items 6 and 7: importing a year asks for a mode, can be tried first, refuses a file that
/// drops most of a published year unless forced; closed items keep their deadline.
async fn calendar_imports_are_deliberate_and_closed_items_are_frozen(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let open = assign_with(
        &app,
        &d,
        "国庆期间景区安全检查",
        "3个工作日",
        d.housing,
        &[],
    )
    .await;
    let closed = assign_with(&app, &d, "节前食品安全抽检", "3个工作日", d.housing, &[]).await;
    let closed = feed_verify_close(&app, &d, &closed).await;
    let (open_due, _) = lead_due(&app, &d.supervisor, &open["id"]).await;
    let (closed_due, closed_explained) = lead_due(&app, &d.supervisor, &closed["id"]).await;
    assert_eq!(closed_due, closed_explained);

    let one_day = json!({ "year": 2026, "papers": [], "days": [
        { "name": "元旦", "date": "2026-01-01", "isOffDay": true } ] })
    .to_string();
    // A file that drops most of a published year is refused, and changes nothing.
    let refused = app
        .graphql_as(
            Some(&d.admin),
            IMPORT,
            json!({ "input": { "holidayCnJson": one_day, "mode": "REPLACE" } }),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&refused),
        "BAD_USER_INPUT",
        "{refused}"
    );
    assert!(!working(&app, "2026-10-05").await);
    assert!(
        working(&app, "2026-10-10").await,
        "the make-up Saturday stays"
    );

    // A dry run lists the changed days and the deadlines that would move; stores nothing.
    let tried = app
        .graphql_as(
            Some(&d.admin),
            IMPORT,
            json!({ "input": { "holidayCnJson": one_day, "mode": "REPLACE", "force": true, "dryRun": true } }),
        )
        .await;
    let payload = &tried["data"]["importCalendarYear"];
    assert_eq!(payload["dryRun"], true, "{tried}");
    let changed = payload["changedDays"].as_array().expect("days");
    assert!(changed.contains(&json!({ "date": "2026-10-05", "before": { "working": false, "name": "国庆节" }, "after": null })), "{tried}");
    assert!(
        changed
            .iter()
            .any(|c| c["date"] == "2026-10-10" && c["before"]["working"] == true)
    );
    let moved: Vec<&Value> = payload["movedDeadlines"]
        .as_array()
        .expect("moved")
        .iter()
        .collect();
    assert!(
        moved.iter().any(|m| m["serial"] == open["serial"]),
        "{tried}"
    );
    assert!(moved.iter().all(|m| m["serial"] != closed["serial"]));
    assert!(
        !working(&app, "2026-10-05").await,
        "a dry run stores nothing"
    );
    assert_eq!(lead_due(&app, &d.supervisor, &open["id"]).await.0, open_due);

    // Amending changes only the file's days.
    let amendment = json!({ "year": 2026, "papers": ["补充通知"], "days": [
        { "name": "国庆节", "date": "2026-10-09", "isOffDay": true } ] })
    .to_string();
    let amended = app
        .graphql_as(
            Some(&d.admin),
            IMPORT,
            json!({ "input": { "holidayCnJson": amendment, "mode": "AMEND" } }),
        )
        .await;
    let payload = &amended["data"]["importCalendarYear"];
    assert_eq!(
        payload["changedDays"].as_array().map(Vec::len),
        Some(1),
        "{amended}"
    );
    assert!(!working(&app, "2026-10-05").await, "National Day kept");
    assert!(!working(&app, "2026-10-09").await);
    assert_ne!(lead_due(&app, &d.supervisor, &open["id"]).await.0, open_due);

    // Forced, the replacement happens; the closed item is frozen in every field.
    let forced = app
        .graphql_as(
            Some(&d.admin),
            IMPORT,
            json!({ "input": { "holidayCnJson": one_day, "mode": "REPLACE", "force": true } }),
        )
        .await;
    assert_eq!(
        forced["data"]["importCalendarYear"]["dryRun"], false,
        "{forced}"
    );
    assert!(working(&app, "2026-10-05").await);
    let (after_due, after_explained) = lead_due(&app, &d.supervisor, &closed["id"]).await;
    assert_eq!(after_due, closed_due);
    assert_eq!(
        after_explained, closed_due,
        "the explanation keeps the closed item's due"
    );
}

on_both_backends!(calendar_imports_are_deliberate_and_closed_items_are_frozen);

const DASHBOARD: &str = "query($at: DateTime) { dashboard(at: $at) {
    byColour { colour count } byStage { stage count } units { unit { name } openItems red } } }";

fn count_of(list: &Value, key: &str, value: &str) -> i64 {
    list.as_array()
        .and_then(|l| l.iter().find(|e| e[key] == value))
        .and_then(|e| e["count"].as_i64())
        .unwrap_or(-1)
}

/// Item 2: at any `at`, the dashboard counts the items that existed then, in their stage
/// then — stages, colours and units alike.
async fn the_dashboard_at_an_instant_counts_what_existed_then(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let early = crate::district::assigned_item(&app, &d, "早期事项").await;
    app.clock.set(shanghai(2026, 10, 20, 9, 0));
    crate::district::assigned_item(&app, &d, "后来的事项").await;
    feed_verify_close(&app, &d, &early).await;

    let board = |at: Option<&str>| {
        let app = &app;
        let token = d.leader.clone();
        let at = at.map(str::to_string);
        async move {
            let body = app
                .graphql_as(Some(&token), DASHBOARD, json!({ "at": at }))
                .await;
            assert!(body["errors"].is_null(), "{body}");
            body["data"]["dashboard"].clone()
        }
    };
    let mid = board(Some("2026-10-15T00:00:00Z")).await;
    assert_eq!(count_of(&mid["byStage"], "stage", "ASSIGNED"), 1, "{mid}");
    assert_eq!(count_of(&mid["byStage"], "stage", "CLOSED"), 0, "{mid}");
    let coloured: i64 = mid["byColour"]
        .as_array()
        .expect("colours")
        .iter()
        .map(|c| c["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(coloured, 1, "only the early item existed: {mid}");
    assert_eq!(
        count_of(&mid["byColour"], "colour", "RED"),
        1,
        "five working days late then"
    );
    let housing = mid["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit"]["name"] == "区住房和城乡建设局")
        .cloned()
        .expect("unit");
    assert_eq!(housing["openItems"], 1, "{mid}");

    let before = board(Some("2020-01-01T00:00:00Z")).await;
    assert!(
        before["byColour"]
            .as_array()
            .expect("colours")
            .iter()
            .all(|c| c["count"] == 0),
        "{before}"
    );
    assert!(
        before["units"]
            .as_array()
            .expect("units")
            .iter()
            .all(|u| u["openItems"] == 0),
        "{before}"
    );
    assert!(
        before["byStage"]
            .as_array()
            .expect("stages")
            .iter()
            .all(|s| s["count"] == 0)
    );

    let now = board(None).await;
    assert_eq!(count_of(&now["byStage"], "stage", "ASSIGNED"), 1);
    assert_eq!(count_of(&now["byStage"], "stage", "CLOSED"), 1);
}

on_both_backends!(the_dashboard_at_an_instant_counts_what_existed_then);

/// Item 3: a colour changed by a verb reaches subscribers with its kind, serial, colour
/// and previous colour, without waiting for the periodic refresh (set to an hour here).
async fn a_verb_that_changes_a_colour_is_heard_at_once(backend: Backend) {
    let mut settings = crate::helpers::settings_for(backend).await;
    settings.colour_refresh = std::time::Duration::from_secs(3600);
    let app = crate::helpers::spawn_with(settings).await;
    let d = District::create(&app).await;
    let mut socket = crate::live::subscribe(
        &app,
        &d.leader,
        "subscription { dashboardEvents { kind itemId serial colour previousColour reason } }",
    )
    .await;
    let item = assign_with(&app, &d, "违建拆除", "3个工作日", d.housing, &[]).await;
    app.clock.set(shanghai(2026, 10, 12, 9, 0));
    let fed = feed(&app, &d, &item).await;
    let mut version = fed["version"].clone();
    for round in 0..2 {
        let rejected = ok(
            &app,
            &d.supervisor,
            &item_mutation("verifyItem", "VerifyItemInput"),
            json!({ "itemId": item["id"], "version": version, "accept": false, "reason": format!("第{round}次退回") }),
        )
        .await;
        version = rejected["item"]["version"].clone();
        if round == 0 {
            let again = ok(
                &app,
                &d.housing_head,
                &m("submitFeedback", "SubmitFeedbackInput", "report { id }"),
                json!({ "itemId": item["id"], "version": version, "body": "再次报送" }),
            )
            .await;
            assert!(again.is_object());
            version = json!(version.as_i64().expect("version") + 1);
        }
    }
    loop {
        let message = crate::live::next_json(&mut socket).await;
        let event = &message["payload"]["data"]["dashboardEvents"];
        if event["kind"] == "COLOUR_CHANGE" && event["colour"] == "RED" {
            assert_eq!(event["serial"], item["serial"]);
            assert_eq!(event["itemId"], item["id"]);
            assert!(
                ["YELLOW", "NONE", "BLUE"]
                    .contains(&event["previousColour"].as_str().unwrap_or("")),
                "{event}"
            );
            assert!(
                event["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("退回重办2次"),
                "{event}"
            );
            break;
        }
    }
}

on_both_backends!(a_verb_that_changes_a_colour_is_heard_at_once);

/// A field that fails is `null` in `data`, its key present, with its error beside it; the
/// request's other fields keep their answers (GraphQL spec, "Handling Field Errors").
#[tokio::test]
async fn a_field_that_fails_is_null_with_its_key_present() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let d = District::create(&app).await;
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            r#"{ me { name } item(id: "999999") { id } other: item(id: "999998") { id } }"#,
            json!({}),
        )
        .await;
    let data = body["data"].as_object().expect("data is an object");
    assert!(body["data"]["me"]["name"].is_string(), "{body}");
    for key in ["item", "other"] {
        assert!(data.contains_key(key), "{key} missing from {body}");
        assert!(data[key].is_null(), "{body}");
    }
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{body}");
    assert!(
        errors
            .iter()
            .all(|e| e["extensions"]["code"] == "NOT_FOUND"),
        "{body}"
    );

    // Every top-level field failing still answers an object of nulls.
    let alone = app
        .graphql_as(
            Some(&d.supervisor),
            r#"{ item(id: "999999") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(alone["data"], json!({ "item": null }), "{alone}");
}
