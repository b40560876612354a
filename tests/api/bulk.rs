//! Acting on many items from the ledger's selection, in the pages: 批量交办, 批量催办, the
//! printed 督办通知单 and 催办单, and the export of what is ticked.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::district::{District, ok};
use crate::helpers::{TestApp, spawn_app};
use crate::web::{Browser, PASSWORD, give_password, hidden};

async fn register(app: &TestApp, d: &District, title: &str) -> Value {
    ok(
        app,
        &d.supervisor,
        "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id databaseId version } } }",
        json!({ "title": title, "requirements": format!("{title}，按期完成"), "sourceKind": "LEADER_INSTRUCTION",
                "sourceReference": "区长批示〔2026〕7号", "deadline": "10个工作日" }),
    )
    .await["item"]
        .clone()
}

async fn stage_and_units(app: &TestApp, token: &str, id: &Value) -> (String, Vec<String>) {
    let body = app
        .graphql_as(
            Some(token),
            "query($id: ID!) { item(id: $id) { stage assignments { lead unit { name } } } }",
            json!({ "id": id }),
        )
        .await;
    let item = &body["data"]["item"];
    let units = item["assignments"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|a| {
            format!(
                "{}{}",
                if a["lead"] == true {
                    "主办"
                } else {
                    "协办"
                },
                a["unit"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    (item["stage"].as_str().unwrap_or("").to_string(), units)
}

#[tokio::test]
async fn the_office_assigns_urges_prints_and_exports_a_selection() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let a = register(&app, &d, "整治东山片区占道经营").await;
    let b = register(&app, &d, "清理背街小巷卫生死角").await;
    let c = register(&app, &d, "排查老旧小区消防通道").await;
    ok(
        &app,
        &d.supervisor,
        "mutation($input: AssignItemInput!) { assignItem(input: $input) { item { id } } }",
        json!({ "itemId": c["id"], "version": c["version"], "leadUnitId": d.housing }),
    )
    .await;
    let ids = [&a, &b, &c].map(|i| i["databaseId"].to_string());
    let query: String = ids
        .iter()
        .map(|id| format!("item={id}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut office = Browser::new(&app);
    office
        .sign_in(&give_password(&app, &d.supervisor).await, PASSWORD)
        .await;
    let (_, list) = office.page("/items").await;
    assert!(
        list.contains("form=\"selection\"") && list.contains("批量交办"),
        "{list}"
    );

    // 批量交办: the two waiting items go to the same units; the assigned one is left alone.
    let (status, page) = office.page(&format!("/items/bulk/assign?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("2个待交办"), "{page}");
    let csrf = hidden(&page, "csrf");
    let (lead, co) = (d.housing.to_string(), d.urban.to_string());
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("lead", lead.as_str()),
        ("co", co.as_str()),
    ];
    form.extend(ids.iter().map(|id| ("item", id.as_str())));
    let done = office.post("/items/bulk/assign", &form).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done = done.text().await.expect("page");
    assert!(
        done.contains("2项已完成，1项未办理") && done.contains("未重复交办"),
        "{done}"
    );
    for item in [&a, &b] {
        let (stage, units) = stage_and_units(&app, &d.supervisor, &item["id"]).await;
        assert_eq!(stage, "ASSIGNED");
        assert_eq!(units, ["主办区住房和城乡建设局", "协办区城市管理局"]);
    }
    assert_eq!(
        stage_and_units(&app, &d.supervisor, &c["id"]).await.1,
        ["主办区住房和城乡建设局"]
    );

    // 批量催办: every open unit hears once; a second time the same day is refused per item.
    let (_, page) = office.page(&format!("/items/bulk/urge?{query}")).await;
    let csrf = hidden(&page, "csrf");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("message", "请于本周五前报送最新进展"),
    ];
    form.extend(ids.iter().map(|id| ("item", id.as_str())));
    let urged = office
        .post("/items/bulk/urge", &form)
        .await
        .text()
        .await
        .expect("page");
    assert!(
        urged.contains("3项已完成")
            && urged.matches("已催办2个单位").count() == 2
            && urged.contains("已催办1个单位"),
        "{urged}"
    );
    let again = office
        .post("/items/bulk/urge", &form)
        .await
        .text()
        .await
        .expect("page");
    assert!(
        again.contains("0项已完成，3项未办理") && again.contains("今日已催办过"),
        "{again}"
    );

    // The printed forms: a 督办通知单 per item, a 催办单 per unit.
    let (status, notices) = office.page(&format!("/items/print?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        notices.matches("<article class=\"sheet\">").count(),
        3,
        "{notices}"
    );
    assert!(
        notices.contains("督〔2026〕1号") && notices.contains("区住房和城乡建设局、区城市管理局："),
        "{notices}"
    );
    assert!(
        notices.contains("区长批示〔2026〕7号") && notices.contains("18时前办结"),
        "{notices}"
    );
    let (_, urges) = office
        .page(&format!("/items/print?kind=urge&{query}"))
        .await;
    assert_eq!(
        urges.matches("<article class=\"sheet\">").count(),
        2,
        "one per unit: {urges}"
    );
    assert!(
        urges.contains("你单位承办的以下3项督办事项")
            && urges.contains("你单位承办的以下2项督办事项"),
        "{urges}"
    );

    // Not assigned yet: a fixed date prints as a date, a counted rule from the 交办.
    let fixed = ok(
        &app,
        &d.supervisor,
        "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { databaseId } } }",
        json!({ "title": "编制年度督查计划", "requirements": "报区政府审定", "sourceKind": "LEADER_INSTRUCTION", "deadline": "2026-12-31" }),
    )
    .await;
    let (_, sheet) = office
        .page(&format!(
            "/items/print?item={}",
            fixed["item"]["databaseId"]
        ))
        .await;
    assert!(
        sheet.contains("2026年12月31日前") && !sheet.contains("自交办之日起算"),
        "{sheet}"
    );

    // The export of what is ticked: those items only.
    let csv = office
        .get(&format!("/items/export.csv?item={}", ids[0]))
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        csv.contains("整治东山片区占道经营") && !csv.contains("清理背街小巷卫生死角"),
        "{csv}"
    );

    // Nothing ticked, too many ticked, or a unit's reader: said plainly.
    assert_eq!(
        office.page("/items/bulk/urge").await.0,
        StatusCode::BAD_REQUEST
    );
    let many: String = (1..=101)
        .map(|n| format!("item={n}"))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(
        office.page(&format!("/items/print?{many}")).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut unit = Browser::new(&app);
    unit.sign_in(&give_password(&app, &d.housing_head).await, PASSWORD)
        .await;
    assert_eq!(
        unit.page(&format!("/items/print?{query}")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        unit.page(&format!("/items/bulk/assign?{query}")).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, unit_list) = unit.page("/items").await;
    assert!(
        !unit_list.contains("form=\"selection\""),
        "units have no bulk actions"
    );
}
