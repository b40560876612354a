//! Concurrent clients get answers, never internal errors (issue 10, items 16, 17 and 20):
//! real parallel HTTP clients against SQLite in a file (the default database, WAL and a
//! pool of connections) and PostgreSQL, one and two instances.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, m};
use crate::helpers::{Backend, TestApp, spawn_app_on, two_instances_on_postgres};

const REGISTER: &str =
    "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id serial } } }";

async fn register_in_parallel(apps: &[&TestApp], token: &str, count: usize) -> Vec<Value> {
    join_all((0..count).map(|n| {
        let app = apps[n % apps.len()];
        async move {
            app.graphql_as(
                Some(token),
                REGISTER,
                json!({ "input": { "title": format!("并发立项测试事项第{n}号关于道路修缮"),
                                   "requirements": "5个工作日内落实", "sourceKind": "MEETING_DECISION",
                                   "deadline": "5个工作日" } }),
            )
            .await
        }
    }))
    .await
}

/// Every registration succeeds with its own serial: a new item is never a stale edit.
async fn parallel_registrations_all_succeed(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let answers = register_in_parallel(&[&app], &d.supervisor, 100).await;
    let serials: HashSet<String> = answers
        .iter()
        .map(|a| {
            assert!(a["errors"].is_null(), "registration failed: {a}");
            a["data"]["registerItem"]["item"]["serial"]
                .as_str()
                .expect("serial")
                .to_string()
        })
        .collect();
    assert_eq!(serials.len(), 100, "one serial per item");
    let count = app
        .graphql_as(
            Some(&d.supervisor),
            "{ items(first: 100) { edges { node { id } } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        count["data"]["items"]["edges"].as_array().map(Vec::len),
        Some(100),
        "no item lost: {count}"
    );
}

mod parallel_registrations_all_succeed {
    #[tokio::test]
    async fn sqlite_file() {
        super::parallel_registrations_all_succeed(crate::helpers::Backend::SqliteFile).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::parallel_registrations_all_succeed(crate::helpers::Backend::Postgres).await;
    }
}

#[tokio::test]
async fn parallel_registrations_across_two_instances_on_postgres_all_succeed() {
    let (a, b) = two_instances_on_postgres().await;
    let d = District::create(&a).await;
    let answers = register_in_parallel(&[&a, &b], &d.supervisor, 200).await;
    let mut serials = HashSet::new();
    for answer in &answers {
        assert!(answer["errors"].is_null(), "registration failed: {answer}");
        serials.insert(answer["data"]["registerItem"]["item"]["serial"].to_string());
    }
    assert_eq!(serials.len(), 200);
}

/// 100 mixed verbs at once on one item: each gets its answer (success, CONFLICT for a stale
/// version, or a rule's refusal) and none an internal error; 8 parallel progress reports
/// all succeed (they claim no version).
async fn mixed_verbs_on_one_item_never_fail_internally(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "老旧小区加装电梯并发办理").await;
    let (id, version) = (item["id"].clone(), item["version"].clone());
    let sign = item_mutation("signItem", "ItemVersionInput");
    let progress = m("reportProgress", "ReportProgressInput", "report { id }");
    let extension = m(
        "requestExtension",
        "RequestExtensionInput",
        "extensionRequest { id }",
    );
    let answers = join_all((0..100).map(|n| {
        let (app, d, sign, progress, extension) = (&app, &d, &sign, &progress, &extension);
        let (id, version) = (id.clone(), version.clone());
        async move {
            match n % 4 {
                0 => {
                    app.graphql_as(
                        Some(&d.housing_head),
                        sign,
                        json!({ "input": { "itemId": id, "version": version } }),
                    )
                    .await
                }
                1 => {
                    app.graphql_as(
                        Some(&d.housing_staff),
                        progress,
                        json!({ "input": { "itemId": id, "body": format!("第{n}次进展") } }),
                    )
                    .await
                }
                2 => {
                    app.graphql_as(
                        Some(&d.urban_head),
                        progress,
                        json!({ "input": { "itemId": id, "body": format!("协办进展{n}") } }),
                    )
                    .await
                }
                _ => {
                    app.graphql_as(
                        Some(&d.housing_head),
                        extension,
                        json!({ "input": { "itemId": id, "version": version,
                        "proposedDueDate": "2026-10-30", "reason": "需协调资金，申请延期" } }),
                    )
                    .await
                }
            }
        }
    }))
    .await;
    let mut progress_ok = 0;
    for (n, answer) in answers.iter().enumerate() {
        if let Some(code) = answer["errors"][0]["extensions"]["code"].as_str() {
            assert!(
                ["CONFLICT", "INVALID_TRANSITION"].contains(&code),
                "verb {n} answered {answer}"
            );
            // A stale version names the version that won, never the one submitted.
            if code == "CONFLICT" {
                let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(
                    !message.contains(&format!("当前版本 {version}，")),
                    "{message}"
                );
            }
        } else {
            assert!(answer["errors"].is_null(), "{answer}");
            if n % 4 == 1 || n % 4 == 2 {
                progress_ok += 1;
            }
        }
    }
    assert_eq!(progress_ok, 50, "every progress report is stored");
    // And 8 more reports at once, as in the issue.
    let reports = join_all((0..8).map(|n| {
        let (app, d, progress, id) = (&app, &d, &progress, id.clone());
        async move {
            app.graphql_as(
                Some(&d.housing_staff),
                progress,
                json!({ "input": { "itemId": id, "body": format!("补充进展{n}") } }),
            )
            .await
        }
    }))
    .await;
    for report in &reports {
        assert!(report["errors"].is_null(), "{report}");
    }
}

mod mixed_verbs_on_one_item_never_fail_internally {
    #[tokio::test]
    async fn sqlite_file() {
        super::mixed_verbs_on_one_item_never_fail_internally(crate::helpers::Backend::SqliteFile)
            .await;
    }

    #[tokio::test]
    async fn postgres() {
        super::mixed_verbs_on_one_item_never_fail_internally(crate::helpers::Backend::Postgres)
            .await;
    }
}

/// A stale version is CONFLICT and names the current version and the one submitted.
async fn a_stale_version_names_both_versions(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "背街小巷整治").await;
    let stale = item["version"].as_i64().expect("version") - 1;
    let body = app
        .graphql_as(
            Some(&d.housing_head),
            &item_mutation("signItem", "ItemVersionInput"),
            json!({ "input": { "itemId": item["id"], "version": stale } }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&body), "CONFLICT");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("当前版本 {}，提交的版本 {stale}", item["version"])),
        "{message}"
    );
}

on_both_backends!(a_stale_version_names_both_versions);

/// Parallel publishers of one month's report each get an answer (one version is made; the
/// others find it unchanged or taken), and readers beside them are answered too.
async fn parallel_publishing_never_fails_internally(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "九月事项").await;
    app.clock.set(crate::helpers::shanghai(2026, 10, 20, 9, 0));
    let publish = m(
        "publishMonthlyReport",
        "PublishMonthlyReportInput",
        "created report { version }",
    );
    let answers = join_all((0..24).map(|n| {
        let (app, d, publish) = (&app, &d, &publish);
        async move {
            if n % 4 == 3 {
                app.graphql_as(
                    Some(&d.supervisor),
                    "{ items(first: 50) { edges { node { id colour auditTrail { action } } } } }",
                    json!({}),
                )
                .await
            } else {
                app.graphql_as(
                    Some(&d.supervisor),
                    publish,
                    json!({ "input": { "month": "2026-09" } }),
                )
                .await
            }
        }
    }))
    .await;
    let mut created = 0;
    for answer in &answers {
        match answer["errors"][0]["extensions"]["code"].as_str() {
            None => {
                created += usize::from(answer["data"]["publishMonthlyReport"]["created"] == true)
            }
            Some(code) => assert_eq!(code, "CONFLICT", "{answer}"),
        }
    }
    assert_eq!(created, 1, "one version is made");
}

mod parallel_publishing_never_fails_internally {
    #[tokio::test]
    async fn sqlite_file() {
        super::parallel_publishing_never_fails_internally(crate::helpers::Backend::SqliteFile)
            .await;
    }

    #[tokio::test]
    async fn postgres() {
        super::parallel_publishing_never_fails_internally(crate::helpers::Backend::Postgres).await;
    }
}
