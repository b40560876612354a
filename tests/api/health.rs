use crate::helpers::{Backend, spawn_app_on};

async fn healthz_reports_ok(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], true);
    assert_eq!(body["calendarVersion"].as_str().map(str::len), Some(16));
}

on_both_backends!(healthz_reports_ok);

#[tokio::test]
async fn graphiql_is_served_in_the_browser() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("text");
    assert!(html.contains("graphiql"), "GraphiQL page expected");
}

#[tokio::test]
async fn queries_nested_too_deep_are_refused() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let deep = "{ items(first: 1) { edges { node { assignments { unit { portfolioLeader { unit { portfolioLeader { unit { portfolioLeader { unit { portfolioLeader { name } } } } } } } } } } } } }";
    let body = app
        .graphql_as(Some(&app.admin_token), deep, serde_json::json!({}))
        .await;
    assert_eq!(
        crate::helpers::error_code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep")
    );
}
