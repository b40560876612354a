//! Issue 30 in the pages: 回头看 asks for the rectification due and refuses without it,
//! keeping what was typed; a lead's extension decided in the page carries the co-units
//! unless the office ticks 协办单位期限不随之顺延.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::district::{District, assigned_item, feed_verify_close};
use crate::helpers::{TestApp, row_id, spawn_app};
use crate::web::{Browser, PASSWORD, give_password, hidden};

async fn signed_in<'a>(app: &'a TestApp, token: &str) -> Browser<'a> {
    let account = give_password(app, token).await;
    let mut browser = Browser::new(app);
    browser.sign_in(&account, PASSWORD).await;
    browser
}

async fn assignments(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let body = app
        .graphql_as(
            Some(token),
            "query($id: ID!) { item(id: $id) { stage assignments { lead dueAt extendedDueAt } } }",
            json!({ "id": id }),
        )
        .await;
    body["data"]["item"]["assignments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn lead_of(list: &[Value]) -> Value {
    list.iter()
        .find(|a| a["lead"] == true)
        .cloned()
        .expect("lead")
}

async fn post(browser: &Browser<'_>, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(path, &pairs).await
}

#[tokio::test]
async fn reopening_in_the_page_asks_for_the_rectification_due() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "背街小巷环境整治").await;
    let closed = feed_verify_close(&app, &d, &item).await;
    let id = row_id(&closed["id"]);
    let before = lead_of(&assignments(&app, &d.supervisor, id).await);
    let office = signed_in(&app, &d.supervisor).await;
    let (_, page) = office.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("name=\"rectification\""),
        "the form asks for it"
    );
    let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
    let path = format!("/items/{id}");
    let reopen = |due: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("version", version.clone()),
            ("action", "REOPEN".to_string()),
            ("reason", "回头看发现垃圾堆放反弹".to_string()),
            ("rectification", due.to_string()),
        ]
    };
    let refused = post(&office, &path, &reopen("尽快")).await;
    assert_ne!(refused.status(), StatusCode::SEE_OTHER);
    let text = refused.text().await.expect("page");
    assert!(
        text.contains("整改期限") && text.contains("无法识别"),
        "{text}"
    );
    assert!(
        text.contains("回头看发现垃圾堆放反弹"),
        "the reason typed is kept"
    );
    assert_eq!(lead_of(&assignments(&app, &d.supervisor, id).await), before);
    let reopened = post(&office, &path, &reopen("10个工作日")).await;
    assert_eq!(reopened.status(), StatusCode::SEE_OTHER);
    let after = lead_of(&assignments(&app, &d.supervisor, id).await);
    assert_ne!(
        after["dueAt"], before["dueAt"],
        "the lead runs on the new due"
    );
}

#[tokio::test]
async fn a_lead_extension_decided_in_the_page_keeps_the_co_units_when_asked() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "老旧管网改造").await;
    let id = row_id(&item["id"]);
    let head = signed_in(&app, &d.housing_head).await;
    let (_, page) = head.page(&format!("/items/{id}")).await;
    let asked = head
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &hidden(&page, "csrf")),
                ("version", &hidden(&page, "version")),
                ("action", "REQUEST_EXTENSION"),
                ("date", "2026-10-16"),
                ("reason", "需协调产权单位"),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let office = signed_in(&app, &d.supervisor).await;
    let (_, page) = office.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("协办单位期限不随之顺延"),
        "offered for a lead's request"
    );
    let decided = office
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &hidden(&page, "csrf")),
                ("version", &hidden(&page, "version")),
                ("action", "DECIDE_EXTENSION"),
                ("request", &hidden(&page, "request")),
                ("approve", "1"),
                ("keep_co", "1"),
            ],
        )
        .await;
    assert_eq!(decided.status(), StatusCode::SEE_OTHER);
    let list = assignments(&app, &d.supervisor, id).await;
    let co = list.iter().find(|a| a["lead"] == false).expect("co-unit");
    assert_eq!(co["extendedDueAt"], Value::Null, "kept where it was");
    assert!(!lead_of(&list)["extendedDueAt"].is_null());
}
