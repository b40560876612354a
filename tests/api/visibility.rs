//! Who sees what (issue 10, items 13–15): one visibility rule per kind of record, the
//! report access setting both ways, and subscriptions that end with their token.

use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, m, ok};
use crate::helpers::{Backend, TestApp, settings_for, shanghai, spawn_app_on, spawn_with};

const VIEW: &str = "query($id: ID!) { item(id: $id) { colourReason
    auditTrail { action reason details } extensionRequests { reason decisionReason }
    reports { body verdictReason } } }";

async fn view(app: &TestApp, token: &str, id: &Value) -> Value {
    let body = app.graphql_as(Some(token), VIEW, json!({ "id": id })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["item"].clone()
}

/// Item 13: the lead's extension reason, the decision on it, and the verdict on its
/// feedback reach neither the co-unit's `extensionRequests` and `reports` nor its
/// `auditTrail`; the lead unit sees all of them; the co-unit's colour reason is its own.
async fn a_co_unit_never_reads_the_lead_units_records(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "地下管网普查").await;
    let signed = crate::district::sign(&app, &d.housing_head, &item).await;
    let asked = ok(
        &app,
        &d.housing_head,
        &m(
            "requestExtension",
            "RequestExtensionInput",
            "extensionRequest { id }",
        ),
        json!({ "itemId": item["id"], "version": signed["version"], "proposedDueDate": "2026-10-16",
                "reason": "需协调资金，申请延期" }),
    )
    .await;
    let version = signed["version"].as_i64().expect("version") + 1;
    ok(
        &app,
        &d.supervisor,
        &m(
            "decideExtension",
            "DecideExtensionInput",
            "extensionRequest { id }",
        ),
        json!({ "extensionRequestId": asked["extensionRequest"]["id"], "version": version,
                "approve": false, "reason": "理由不充分" }),
    )
    .await;
    let fed = crate::district::feed(
        &app,
        &d,
        &json!({ "id": item["id"], "version": version + 1, "stage": "IN_PROGRESS" }),
    )
    .await;
    ok(
        &app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": item["id"], "version": fed["version"], "accept": false, "reason": "佐证材料不全" }),
    )
    .await;

    let secrets = ["需协调资金", "理由不充分", "佐证材料不全", "已全部落实"];
    let co = view(&app, &d.urban_head, &item["id"]).await;
    let text = co.to_string();
    for secret in secrets {
        assert!(!text.contains(secret), "the co-unit reads “{secret}”: {co}");
    }
    // The stage changes themselves are shared.
    let actions: Vec<&str> = co["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"REJECT") && actions.contains(&"REQUEST_EXTENSION"),
        "{actions:?}"
    );
    assert!(
        co["extensionRequests"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    assert!(co["reports"].as_array().is_some_and(Vec::is_empty));
    // The co-unit's colour and reason are its own assignment's, as the office sees them.
    let assignments = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { assignments { lead colourReason } } }",
            json!({ "id": item["id"] }),
        )
        .await;
    let co_reason = assignments["data"]["item"]["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["lead"] == false)
        .map(|a| a["colourReason"].clone())
        .expect("co-unit");
    assert_eq!(co["colourReason"], co_reason, "{co}");

    let lead = view(&app, &d.housing_head, &item["id"]).await.to_string();
    for secret in secrets {
        assert!(
            lead.contains(secret),
            "the lead unit reads its own “{secret}”"
        );
    }
    let office = view(&app, &d.supervisor, &item["id"]).await.to_string();
    assert!(office.contains("需协调资金") && office.contains("佐证材料不全"));
}

on_both_backends!(a_co_unit_never_reads_the_lead_units_records);

async fn filtered(app: &TestApp, token: &str, filter: Value) -> usize {
    let body = app
        .graphql_as(
            Some(token),
            "query($f: ItemFilter) { items(filter: $f) { edges { node { id } } } }",
            json!({ "f": filter }),
        )
        .await;
    body["data"]["items"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .len()
}

/// People of a unit filter by what they see — their own assignment's due and colour — and
/// the lead's dates in a CLOSE row are not theirs to read.
async fn a_units_filters_and_trail_see_its_own_part(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    // Lead 住建局 due 10-09, co-unit 城管局 due 10-08.
    let item = assigned_item(&app, &d, "夜市油烟整治").await;
    app.clock.set(shanghai(2026, 10, 9, 12, 0));
    assert_eq!(
        filtered(&app, &d.urban_head, json!({ "overdue": true })).await,
        1
    );
    assert_eq!(
        filtered(&app, &d.housing_head, json!({ "overdue": true })).await,
        0,
        "the lead is not late"
    );
    assert_eq!(
        filtered(
            &app,
            &d.housing_head,
            json!({ "colours": ["YELLOW", "RED"] })
        )
        .await,
        0
    );
    assert_eq!(
        filtered(&app, &d.housing_head, json!({ "colours": ["BLUE"] })).await,
        1,
        "due today"
    );
    assert_eq!(
        filtered(&app, &d.urban_head, json!({ "colours": ["YELLOW"] })).await,
        1
    );
    assert_eq!(
        filtered(&app, &d.supervisor, json!({ "colours": ["YELLOW"] })).await,
        1,
        "the office sees the worst"
    );

    crate::district::feed_verify_close(&app, &d, &item).await;
    let trail = view(&app, &d.urban_head, &item["id"]).await;
    let close = trail["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .find(|e| e["action"] == "CLOSE")
        .cloned()
        .expect("a CLOSE row");
    assert_eq!(close["details"], json!({}), "the lead's dates: {close}");
    let lead_view = view(&app, &d.housing_head, &item["id"]).await;
    assert!(lead_view["auditTrail"].to_string().contains("feedbackAt"));
}

on_both_backends!(a_units_filters_and_trail_see_its_own_part);

const MONTH: &str = r#"{ monthlyReport(month: "2026-09") { units { unit colourReason } redItems { unit }
    html csv xlsxBase64 changes sections { problems suggestions } } }"#;
const UNITS: &str = "{ units { id name colourReason } }";

async fn published_september(
    access: ducha_server::config::UnitReportAccess,
    backend: Backend,
) -> (TestApp, District) {
    let mut settings = settings_for(backend).await;
    settings.unit_report_access = access;
    let app = spawn_with(settings).await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "九月事项甲").await;
    crate::district::assign_with(&app, &d, "九月事项乙", "3个工作日", d.street, &[]).await;
    app.clock.set(shanghai(2026, 10, 20, 9, 0));
    ok(
        &app,
        &d.supervisor,
        &m(
            "publishMonthlyReport",
            "PublishMonthlyReportInput",
            "report { version }",
        ),
        json!({ "month": "2026-09" }),
    )
    .await;
    (app, d)
}

/// Item 14: by default a unit reads the whole 通报 and every unit's colour reason; with
/// `unit_report_access = own` only its own part.
async fn the_report_access_setting_is_honoured_both_ways(backend: Backend) {
    use ducha_server::config::UnitReportAccess;
    let (app, d) = published_september(UnitReportAccess::Whole, backend).await;
    let whole = app.graphql_as(Some(&d.street_head), MONTH, json!({})).await;
    let units = whole["data"]["monthlyReport"]["units"]
        .as_array()
        .expect("units");
    assert!(units.len() >= 3, "the whole report: {whole}");
    let reasons = app.graphql_as(Some(&d.street_head), UNITS, json!({})).await;
    assert!(
        !reasons.to_string().contains("不向承办单位公开"),
        "{reasons}"
    );

    let (app, d) = published_september(UnitReportAccess::OwnUnit, backend).await;
    let own = app.graphql_as(Some(&d.street_head), MONTH, json!({})).await;
    let units = own["data"]["monthlyReport"]["units"]
        .as_array()
        .expect("units");
    assert_eq!(units.len(), 1, "{own}");
    assert_eq!(units[0]["unit"], "东山街道办事处");
    assert!(
        own["data"]["monthlyReport"]["redItems"]
            .as_array()
            .expect("red")
            .iter()
            .all(|i| i["unit"] == "东山街道办事处"),
        "{own}"
    );
    // No other unit is named anywhere in what the unit reads: not in the page, the table,
    // the workbook or the sections.
    let report = &own["data"]["monthlyReport"];
    let xlsx = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        report["xlsxBase64"].as_str().unwrap_or_default(),
    )
    .expect("base64");
    let workbook = workbook_text(xlsx);
    let sections = report["sections"].to_string();
    for other in ["区住房和城乡建设局", "区城市管理局"] {
        for (what, text) in [
            ("html", report["html"].as_str().unwrap_or_default()),
            ("csv", report["csv"].as_str().unwrap_or_default()),
            ("sections", sections.as_str()),
            ("xlsx", workbook.as_str()),
        ] {
            assert!(!text.contains(other), "{what} names {other}");
        }
    }
    let reasons = app.graphql_as(Some(&d.street_head), UNITS, json!({})).await;
    for unit in reasons["data"]["units"].as_array().expect("units") {
        let hidden = unit["colourReason"]
            .as_str()
            .unwrap_or_default()
            .contains("不向承办单位公开");
        assert_eq!(
            hidden,
            crate::helpers::row_id(&unit["id"]) != d.street,
            "{unit}"
        );
    }
    // The office still reads everything.
    let office = app.graphql_as(Some(&d.supervisor), MONTH, json!({})).await;
    assert!(
        office["data"]["monthlyReport"]["units"]
            .as_array()
            .expect("units")
            .len()
            >= 3
    );
}

on_both_backends!(the_report_access_setting_is_honoured_both_ways);

/// Every cell of every sheet of an XLSX workbook, as one text to search.
fn workbook_text(bytes: Vec<u8>) -> String {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let mut text = String::new();
    for name in book.sheet_names() {
        if let Ok(range) = book.worksheet_range(&name) {
            for cell in range.cells() {
                text.push_str(&cell.2.to_string());
                text.push('\n');
            }
        }
    }
    text
}

/// Item 15: a subscription ends, with UNAUTHENTICATED, once its person's token is reissued.
#[tokio::test]
async fn a_subscription_ends_when_its_token_is_reissued() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let d = District::create(&app).await;
    let mut socket = crate::live::subscribe(
        &app,
        &d.leader,
        "subscription { dashboardEvents { kind action } }",
    )
    .await;
    ducha_server::service::org::rotate_token(
        &app.state.db,
        &app.state.changes,
        app.state.clock.now(),
        d.leader_id,
    )
    .await
    .expect("reissued");
    let mut ended_with_error = false;
    loop {
        let message = crate::live::next_json(&mut socket).await;
        match message["type"].as_str() {
            Some("next") => {
                let code = &message["payload"]["errors"][0]["extensions"]["code"];
                if code == "UNAUTHENTICATED" {
                    ended_with_error = true;
                }
            }
            Some("complete") => break,
            _ => {}
        }
    }
    assert!(ended_with_error, "the subscriber is told why");
}
