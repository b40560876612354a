//! What arrives from outside is checked once, at the boundary, and every refusal — GraphQL
//! or HTTP — is JSON with `extensions.code` (issue 10, items 18 and 19).

use serde_json::{Value, json};

use crate::district::{District, assigned_item, m};
use crate::helpers::{Backend, TestApp, error_code, spawn_app, spawn_app_on, spawn_kept_on};

/// Text with U+0000 is BAD_USER_INPUT in every input that takes text, on both databases,
/// whether it travels in the variables or inline in the document; nothing is stored.
async fn nul_characters_are_bad_user_input(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "燃气管道老化更新").await;
    let nul = "含有\u{0}的文字";
    let cases: Vec<(&str, String, Value)> = vec![
        (
            &d.supervisor,
            "query($t: String) { items(filter: { text: $t }) { edges { node { id } } } }".into(),
            json!({ "t": nul }),
        ),
        (
            &d.supervisor,
            m("registerItem", "RegisterItemInput", "item { id }"),
            json!({ "input": { "title": nul, "requirements": "落实", "sourceKind": "MEETING_DECISION" } }),
        ),
        (
            &d.supervisor,
            "query($s: String) { outbox(status: $s) { id } }".into(),
            json!({ "s": nul }),
        ),
        (
            &d.admin,
            m("createUnit", "CreateUnitInput", "unit { id }"),
            json!({ "input": { "name": nul, "kind": "DEPARTMENT" } }),
        ),
        (
            &d.admin,
            m("createPerson", "CreatePersonInput", "person { id }"),
            json!({ "input": { "name": nul, "role": "SUPERVISOR" } }),
        ),
        (
            &d.admin,
            m("setLocalDay", "SetLocalDayInput", "calendarVersion"),
            json!({ "input": { "date": "2026-12-05", "name": nul, "working": true } }),
        ),
        (
            &d.housing_staff,
            m("reportProgress", "ReportProgressInput", "report { id }"),
            json!({ "input": { "itemId": item["id"], "body": nul } }),
        ),
        (
            &d.supervisor,
            m("publishMonthlyReport", "PublishMonthlyReportInput", "report { month }"),
            json!({ "input": { "month": "2026-09", "reason": nul } }),
        ),
        // Inline in the document, as a GraphQL escape.
        (
            &d.supervisor,
            r#"mutation { registerItem(input: { title: "a\u0000b", requirements: "落实", sourceKind: MEETING_DECISION }) { item { id } } }"#.into(),
            json!({}),
        ),
    ];
    for (token, query, variables) in &cases {
        let body = app.graphql_as(Some(token), query, variables.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
        assert!(body["data"].is_null(), "nothing ran: {body}");
    }
    // U+0000 escaped inside a JSON document carried as text (a calendar file) is refused
    // where the document is read.
    let import = app
        .graphql_as(
            Some(&d.admin),
            "mutation($input: ImportCalendarYearInput!) { importCalendarYear(input: $input) { year } }",
            json!({ "input": { "mode": "AMEND", "holidayCnJson":
                r#"{"year": 2026, "papers": [], "days": [{"name": "节\u0000日", "date": "2026-11-27", "isOffDay": true}]}"# } }),
        )
        .await;
    assert_eq!(error_code(&import), "BAD_USER_INPUT", "{import}");
    let import = app
        .graphql_as(
            Some(&d.admin),
            "mutation($input: ImportCalendarYearInput!) { importCalendarYear(input: $input) { year } }",
            json!({ "input": { "mode": "AMEND", "holidayCnJson":
                r#"{"year": 2026, "papers": ["通知\u0000"], "days": [{"name": "节日", "date": "2026-11-27", "isOffDay": true}]}"# } }),
        )
        .await;
    assert_eq!(error_code(&import), "BAD_USER_INPUT", "{import}");
    let items = app
        .graphql_as(
            Some(&d.supervisor),
            "{ items(first: 100) { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        items["data"]["items"]["edges"].as_array().map(Vec::len),
        Some(1),
        "no item with U+0000 was registered: {items}"
    );
}

on_both_backends!(nul_characters_are_bad_user_input);

async fn post_raw(app: &TestApp, content_type: &str, body: reqwest::Body) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!("HTTP {status} answered with something that is not JSON: {text}")
    });
    (status, json)
}

#[tokio::test]
async fn every_http_refusal_is_json_with_a_code() {
    let app = spawn_app().await;
    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]).to_string();
    let (status, body) = post_raw(&app, "application/json", batch.into()).await;
    assert_eq!((status, error_code(&body)), (400, "BATCH_NOT_SUPPORTED"));

    let huge = json!({ "query": "{ __typename }", "variables": { "x": "字".repeat(2_000_000) } })
        .to_string();
    let (status, body) = post_raw(&app, "application/json", huge.clone().into()).await;
    assert_eq!((status, error_code(&body)), (413, "PAYLOAD_TOO_LARGE"));

    // The same body without a Content-Length (chunked) is measured while it is read.
    let chunks = futures_util::stream::iter(
        huge.into_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let (status, body) =
        post_raw(&app, "application/json", reqwest::Body::wrap_stream(chunks)).await;
    assert_eq!((status, error_code(&body)), (413, "PAYLOAD_TOO_LARGE"));

    let (status, body) = post_raw(&app, "application/json", "{not json".into()).await;
    assert_eq!((status, error_code(&body)), (400, "BAD_REQUEST"));

    let response = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("JSON 404");
    assert_eq!(error_code(&body), "NOT_FOUND");

    let response = app
        .client
        .delete(app.url("/graphql"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.expect("JSON 405");
    assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED");
}

/// A multipart body is allowed its size for a file only; a file over the limit is 413.
/// Posts a multipart form that must be refused as too large; returns the JSON body.
async fn refused_form(app: &TestApp, form: reqwest::multipart::Form) -> Value {
    let response = app
        .client
        .post(app.url("/graphql"))
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");
    body
}

#[tokio::test]
async fn multipart_limits_are_for_files() {
    let app = spawn_app().await;
    let padding = "字".repeat(700_000);
    let operations = json!({ "query": "{ __typename }", "variables": { "pad": padding } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", "{}");
    refused_form(&app, form).await;

    let attach =
        "mutation($input: AttachFileInput!) { attachFile(input: $input) { attachment { id } } }";
    let operations =
        json!({ "query": attach, "variables": { "input": { "reportId": 1, "file": null } } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(vec![b'x'; 20 * 1024 * 1024 + 1]).file_name("big.pdf"),
        );
    let body = refused_form(&app, form).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("附件不超过20MB")
    );
}

/// Brackets nested thousands deep would overflow the parser's stack and abort the whole
/// process; they are refused, and the server goes on answering.
#[tokio::test]
async fn deeply_nested_documents_are_refused_and_the_server_lives() {
    let app = spawn_app().await;
    let objects = format!(
        "mutation {{ registerItem(input: {}1{}) {{ __typename }} }}",
        "{a:".repeat(1200),
        "}".repeat(1200)
    );
    let lists = format!(
        "{{ items(filter: {{ colours: {}RED{} }}) {{ edges {{ cursor }} }} }}",
        "[".repeat(3000),
        "]".repeat(3000)
    );
    for query in [objects, lists] {
        let body = app.graphql(&query, json!({})).await;
        assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED", "{body}");
    }
    let alive = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(alive["data"]["__typename"], "Query");
    // Out-of-range instants are refused before any arithmetic on them.
    for at in ["1899-01-01T00:00:00Z", "2100-01-01T00:00:00Z"] {
        let body = app
            .graphql_as(
                Some(&app.admin_token),
                "query($at: DateTime) { dashboard(at: $at) { at } }",
                json!({ "at": at }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
}

#[tokio::test]
async fn a_chunked_post_is_answered() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ __typename }" }).to_string();
    let chunks = futures_util::stream::iter(
        query
            .into_bytes()
            .chunks(7)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let (status, body) =
        post_raw(&app, "application/json", reqwest::Body::wrap_stream(chunks)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

/// A text that passed strict validation once skips most of it afterwards, so its variables
/// must still be refused exactly as on the text's first sending: for each bad value, the
/// answer through the remembered text equals the answer through a text never seen before
/// (the same text with a comment after it, so positions agree). Values of every other
/// kind than a built-in scalar's are validated strictly again.
#[tokio::test]
async fn a_text_validated_before_refuses_bad_variables_as_on_its_first_sending() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "老旧小区加装电梯").await;
    let cases: Vec<(&str, Value, Vec<Value>)> = vec![
        (
            "query($id: ID!) { item(id: $id) { id title } }",
            json!({ "id": item["id"] }),
            vec![
                json!({ "id": true }),
                json!({ "id": 1.5 }),
                json!({ "id": [item["id"]] }),
                json!({ "id": { "a": 1 } }),
                json!({ "id": null }),
                json!({}),
                json!({ "id": "不是标识" }),
            ],
        ),
        (
            "query($n: Int, $t: String) { items(first: $n, filter: { text: $t }) { edges { node { id } } } }",
            json!({ "n": 2, "t": "电梯" }),
            vec![
                json!({ "n": "两", "t": "电梯" }),
                json!({ "n": 1.5, "t": "电梯" }),
                json!({ "n": 1_099_511_627_776_i64, "t": "电梯" }),
                json!({ "n": -1, "t": "电梯" }),
                json!({ "n": 2, "t": 5 }),
                json!({ "n": 2, "t": true }),
                json!({ "n": 2, "t": ["电梯"] }),
            ],
        ),
    ];
    let mut fresh = 0;
    for (text, good, bad) in cases {
        // Unique to this test: other tests share the process's memo of texts.
        let text = format!("{text}\n# validated before");
        let first = app.graphql_as(Some(&d.supervisor), &text, good).await;
        assert!(first.get("errors").is_none(), "{first}");
        for variables in bad {
            fresh += 1;
            let never_seen = format!("{text} {fresh}");
            let expected = app
                .graphql_as(Some(&d.supervisor), &never_seen, variables.clone())
                .await;
            let again = app
                .graphql_as(Some(&d.supervisor), &text, variables.clone())
                .await;
            assert_eq!(again, expected, "variables {variables}");
            assert!(expected.get("errors").is_some(), "{variables}: {expected}");
        }
    }
}

/// The fast way is taken (the counter in `/metrics` moves) for a remembered text with good
/// variables, and not learnt from sendings that leave arguments unchecked: one missing a
/// variable (strict validation then skips the argument's literal parts as well), or
/// choosing one of several operations (fragments are checked with every variable sent).
#[tokio::test]
async fn only_sendings_that_leave_nothing_unchecked_teach_the_fast_way() {
    let app = spawn_kept_on(Backend::Sqlite).await;
    let d = District::create(&app).await;
    let fast_validations = || async {
        let text = app.get_text("/metrics").await;
        text.lines()
            .find_map(|line| line.strip_prefix("ducha_graphql_fast_validations_total "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no fast validation counter in {text}"))
    };
    // Other tests share the process's memo of texts, which empties when full: a few tries.
    let text = "query($n: Int) { items(first: $n) { edges { node { id } } } }\n# fast way";
    let mut taken = false;
    for _ in 0..5 {
        let before = fast_validations().await;
        for _ in 0..2 {
            let body = app
                .graphql_as(Some(&d.supervisor), text, json!({ "n": 1 }))
                .await;
            assert!(body.get("errors").is_none(), "{body}");
        }
        if fast_validations().await == before + 1 {
            taken = true;
            break;
        }
    }
    assert!(
        taken,
        "a text sent twice with good variables is validated fast the second time"
    );

    let cases: Vec<(&str, Option<&str>, Value, Value)> = vec![
        (
            "query($t: String = \"电梯\") { items(filter: { text: $t, bogus: 1 }) { edges { node { id } } } }",
            None,
            json!({}),
            json!({ "t": "电梯" }),
        ),
        (
            "query A { __typename } query B($x: ID!) { ...F } fragment F on Query { item(id: $x) { id } }",
            Some("A"),
            json!({}),
            json!({ "x": true }),
        ),
    ];
    for (n, (text, operation, first, then)) in cases.into_iter().enumerate() {
        let text = format!("{text}\n# unchecked {n}");
        let send = |text: String, variables: Value| {
            let token = d.supervisor.clone();
            let app = &app;
            async move {
                let mut body = json!({ "query": text, "variables": variables });
                if let Some(operation) = operation {
                    body["operationName"] = json!(operation);
                }
                app.client
                    .post(app.url("/graphql"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("sent")
                    .json::<Value>()
                    .await
                    .expect("JSON")
            }
        };
        let _ = send(text.clone(), first).await;
        let before = fast_validations().await;
        let again = send(text.clone(), then.clone()).await;
        let expected = send(format!("{text} fresh"), then.clone()).await;
        assert_eq!(again, expected, "{text} with {then}");
        assert!(expected.get("errors").is_some(), "{text}: {expected}");
        assert_eq!(
            fast_validations().await,
            before,
            "{text}: not validated fast"
        );
    }
}

/// A request is counted with the sizes its lists can reach and refused, before it runs,
/// when that is over the limit: the error says the cost and the limit. A dashboard's page
/// of 100 items with their assignments runs.
#[tokio::test]
async fn requests_that_could_answer_too_much_are_refused_before_they_run() {
    let app = spawn_app().await;
    let d = crate::district::District::create(&app).await;
    let page = "a: items(first: 100) { edges { node { serial title colour \
                assignments { dueAt colour unit { name } } } } }";
    let many = format!(
        "{{ {} }}",
        (0..95)
            .map(|i| page.replace("a:", &format!("a{i}:")))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let refused = app.graphql_as(Some(&d.supervisor), &many, json!({})).await;
    assert_eq!(error_code(&refused), "QUERY_TOO_COSTLY", "{refused}");
    let extensions = &refused["errors"][0]["extensions"];
    assert!(
        extensions["cost"].as_u64() > extensions["limit"].as_u64(),
        "{refused}"
    );
    assert!(refused["data"].is_null(), "nothing ran: {refused}");

    let one = format!("{{ {page} }}");
    let body = app.graphql_as(Some(&d.supervisor), &one, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    // The same page asked through a variable is counted with the variable's value.
    let by_variable = "query($n: Int) { items(first: $n) { edges { node { serial } } } }";
    let body = app
        .graphql_as(Some(&d.supervisor), by_variable, json!({ "n": 100 }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
}
