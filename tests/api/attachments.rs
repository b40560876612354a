//! Attachments over the GraphQL multipart request spec, stored by content hash.

use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, m, ok};
use crate::helpers::{TestApp, spawn_app};

const ATTACH: &str = "mutation($input: AttachFileInput!) { attachFile(input: $input) { attachment { id fileName contentType size sha256 } } }";

pub async fn upload(
    app: &TestApp,
    token: &str,
    report_id: &Value,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let operations = json!({ "query": ATTACH, "variables": { "input": { "reportId": report_id, "file": null } } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_unit_attaches_evidence_to_its_report_and_nobody_else_can() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "消防通道堵塞整治").await;
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;
    let fed = ok(&app, &d.housing_head, &m("submitFeedback", "SubmitFeedbackInput", "report { id } item { version }"),
        json!({ "itemId": assigned["id"], "version": signed["item"]["version"], "body": "已清理消防通道12处" })).await;
    let report_id = &fed["report"]["id"];

    let evidence = "%PDF-1.4 整改前后对比照片".as_bytes().to_vec();
    let body = upload(
        &app,
        &d.housing_staff,
        report_id,
        "整改照片.pdf",
        evidence.clone(),
    )
    .await;
    let attachment = &body["data"]["attachFile"]["attachment"];
    assert_eq!(attachment["fileName"], "整改照片.pdf", "{body}");
    assert_eq!(attachment["size"], evidence.len());
    assert_eq!(attachment["contentType"], "application/pdf");
    let sha = attachment["sha256"].as_str().expect("sha");
    let stored = ducha_server::service::items::attachments::storage_path(&app.state.data_dir, sha);
    assert_eq!(
        std::fs::read(&stored).expect("stored under the data folder"),
        evidence
    );

    // The co-unit can see the item but not attach to the lead unit's report; an outsider
    // cannot see it at all.
    let co = upload(&app, &d.urban_head, report_id, "x.pdf", b"x".to_vec()).await;
    assert_eq!(co["errors"][0]["extensions"]["code"], "FORBIDDEN", "{co}");
    let outsider = upload(&app, &d.street_head, report_id, "x.pdf", b"x".to_vec()).await;
    assert_eq!(
        outsider["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{outsider}"
    );

    let listed = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { reports { kind attachments { fileName sha256 } } } }",
            json!({ "id": assigned["id"] }),
        )
        .await;
    assert_eq!(
        listed["data"]["item"]["reports"][0]["attachments"],
        json!([{ "fileName": "整改照片.pdf", "sha256": sha }])
    );

    // A program downloads it with its API token, at the address the API gives; the token
    // opens exactly what the API would show its holder.
    let listed = app
        .graphql_as(
            Some(&d.housing_staff),
            "query($id: ID!) { item(id: $id) { reports { attachments { databaseId downloadUrl } } } }",
            json!({ "id": assigned["id"] }),
        )
        .await;
    let file = &listed["data"]["item"]["reports"][0]["attachments"][0];
    let url = file["downloadUrl"].as_str().expect("a download address");
    let path = format!("/attachments/{}", file["databaseId"]);
    assert_eq!(url, format!("{}{path}", app.state.notices.public_url));
    let fetch = |token: Option<&str>| {
        let mut request = app.client.get(app.url(&path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let by_token = fetch(Some(&d.housing_staff)).await.expect("sent");
    assert_eq!(by_token.status(), 200);
    assert_eq!(by_token.bytes().await.expect("bytes").to_vec(), evidence);
    assert_eq!(
        fetch(Some(&d.supervisor)).await.expect("sent").status(),
        200
    );
    let outsider = fetch(Some(&d.street_head)).await.expect("sent");
    assert_eq!(outsider.status(), 404, "another unit's file is not found");
    // Another scheme (an intranet proxy's Basic) is not a token: the reader is sent to
    // sign in, as without the header.
    let basic = app
        .client
        .get(app.url(&path))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("sent");
    assert!(basic.url().path().starts_with("/login"), "{}", basic.url());
    let forged = fetch(Some("dch_not-a-token")).await.expect("sent");
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.headers()["www-authenticate"], "Bearer");
    let refusal: Value = forged.json().await.expect("json");
    assert_eq!(
        refusal["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}
