//! GraphQL over HTTP as standard clients expect it (issue 12): media types and status codes,
//! GET, content types, chunked bodies, persisted queries, introspection, CORS, compression,
//! security headers, `/metrics`.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    Backend, TestApp, error_code, settings_for, spawn_app, spawn_kept_on, spawn_with,
};

const SPEC: &str = "application/graphql-response+json";
const INTROSPECTION: &str = include_str!("../../server/src/http/introspection_query.graphql");

/// POSTs `body` as JSON with `accept`; status, content type and the JSON answer.
async fn post(
    app: &TestApp,
    accept: Option<&str>,
    token: Option<&str>,
    body: Value,
) -> (u16, String, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request.send().await.expect("sent")).await
}

async fn answer(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("HTTP {status} {kind}: not JSON: {text}"));
    (status, kind, json)
}

#[tokio::test]
async fn the_spec_media_type_gets_status_codes_and_no_data_on_request_errors() {
    let app = spawn_app().await;
    let token = Some(app.admin_token.as_str());
    let cases = [
        ("{ me { name ", "GRAPHQL_PARSE_FAILED"),
        ("{ me { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
    ];
    for (query, code) in cases {
        let (status, kind, body) = post(&app, Some(SPEC), token, json!({ "query": query })).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(kind.starts_with(SPEC), "{kind}");
        assert_eq!(error_code(&body), code, "{body}");
        assert!(body.get("data").is_none(), "no data entry: {body}");

        // The legacy type answers 200, and still without a data entry.
        let (status, kind, body) = post(&app, None, token, json!({ "query": query })).await;
        assert_eq!(status, 200, "{body}");
        assert!(kind.starts_with("application/json"), "{kind}");
        assert!(body.get("data").is_none(), "no data entry: {body}");
    }
    let (status, _, body) = post(
        &app,
        Some(SPEC),
        token,
        json!({ "query": "query($n: Int!) { items(first: $n) { edges { cursor } } }", "variables": { "n": "x" } }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "BAD_USER_INPUT"),
        "{body}"
    );
    assert!(body.get("data").is_none(), "{body}");

    // A field's error is not a request error: 200, with data (null here).
    let (status, _, body) = post(
        &app,
        Some(SPEC),
        token,
        json!({ "query": "{ item(id: 999999) { title } }" }),
    )
    .await;
    assert_eq!((status, error_code(&body)), (200, "NOT_FOUND"), "{body}");
    assert!(body.get("data").is_some(), "{body}");

    // A resolver refusing an anonymous reader is a field error too.
    let (status, _, body) = post(
        &app,
        Some(SPEC),
        None,
        json!({ "query": "{ me { name } }" }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (200, "UNAUTHENTICATED"),
        "{body}"
    );
}

#[tokio::test]
async fn queries_travel_by_get_and_mutations_do_not() {
    let app = spawn_app().await;
    let get = |query: &str, accept: &str| {
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", query), ("operationName", "Who")])
            .bearer_auth(&app.admin_token)
            .header(ACCEPT, accept)
            .send()
    };
    let (status, kind, body) = answer(
        get(
            "query Who { me { name } }",
            "application/graphql-response+json, application/json",
        )
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(kind.starts_with(SPEC), "{kind}");
    assert!(body["data"]["me"]["name"].is_string(), "{body}");

    let response = get(
        "mutation Who { requeueOutbox(ids: []) { retried } }",
        "application/json",
    )
    .await
    .expect("sent");
    assert_eq!(response.status(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let (_, _, body) = answer(response).await;
    assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED", "{body}");

    // A GET that names no query, from a client (not a browser), is told what is missing.
    let response = app
        .client
        .get(app.url("/graphql"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("sent");
    let (status, _, body) = answer(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "BAD_REQUEST", "{body}");
}

#[tokio::test]
async fn a_post_says_what_it_carries() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ __typename }" }).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/json; charset=latin1"),
    ] {
        let mut request = app.client.post(app.url("/graphql")).body(query.clone());
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let (status, _, body) = answer(request.send().await.expect("sent")).await;
        assert_eq!(status, 415, "{content_type:?}: {body}");
        assert_eq!(error_code(&body), "UNSUPPORTED_MEDIA_TYPE");
    }
    let (status, _, body) = answer(
        app.client
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(query)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query"))
    );

    // 256 KB is the most a request without files may carry.
    let (status, _, body) = post(
        &app,
        None,
        None,
        json!({ "query": "{ __typename }", "variables": { "x": "x".repeat(300 * 1024) } }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (413, "PAYLOAD_TOO_LARGE"),
        "{body}"
    );
}

/// node's form-data streams uploads without a Content-Length.
#[tokio::test]
async fn a_chunked_multipart_post_is_read() {
    let app = spawn_app().await;
    let operations = json!({ "query": "{ __typename }" }).to_string();
    let stream = futures_util::stream::iter(
        operations
            .into_bytes()
            .chunks(5)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let form = reqwest::multipart::Form::new()
        .part(
            "operations",
            reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream)),
        )
        .text("map", "{}");
    let response = app
        .client
        .post(app.url("/graphql"))
        .multipart(form)
        .send()
        .await
        .expect("sent");
    let (status, _, body) = answer(response).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query")),
        "{body}"
    );
}

#[tokio::test]
async fn persisted_queries_are_sent_by_hash_after_the_first_time() {
    let app = spawn_app().await;
    let query = "query Units { units { name } }";
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let by_hash = || {
        app.client
            .get(app.url("/graphql"))
            .query(&[("extensions", extensions.to_string())])
            .bearer_auth(&app.admin_token)
            .send()
    };
    let (status, _, body) = answer(by_hash().await.expect("sent")).await;
    assert_eq!(
        (status, error_code(&body)),
        (200, "PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "00".repeat(32) } });
    let (_, _, body) = post(
        &app,
        None,
        Some(&app.admin_token),
        json!({ "query": query, "extensions": wrong }),
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    let (_, _, body) = post(
        &app,
        None,
        Some(&app.admin_token),
        json!({ "query": query, "extensions": extensions }),
    )
    .await;
    assert!(body["data"]["units"].is_array(), "{body}");
    let (status, _, body) = answer(by_hash().await.expect("sent")).await;
    assert_eq!(status, 200);
    assert!(
        body["data"]["units"].is_array(),
        "known by hash now: {body}"
    );
}

#[tokio::test]
async fn the_standard_introspection_query_passes_and_stays_bounded() {
    let app = spawn_app().await;
    let (status, _, body) = post(
        &app,
        Some(SPEC),
        Some(&app.admin_token),
        json!({ "query": INTROSPECTION, "operationName": "IntrospectionQuery" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let types = body["data"]["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "Item"), "{body}");

    // Without a token, the schema is not shown unless a setting says so.
    let (status, _, body) = post(&app, Some(SPEC), None, json!({ "query": INTROSPECTION })).await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHENTICATED"),
        "{body}"
    );
    let (_, _, body) = post(
        &app,
        None,
        None,
        json!({ "query": "{ isWorkingDay(date: \"2026-10-10\") { working } }" }),
    )
    .await;
    assert_eq!(
        error_code(&body),
        "UNAUTHENTICATED",
        "the calendar neither: {body}"
    );

    // Nesting the lists of the introspection schema is refused, and real queries keep
    // their depth limit.
    let exploding =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let (status, _, body) = post(
        &app,
        Some(SPEC),
        Some(&app.admin_token),
        json!({ "query": exploding }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    // 13 levels: me, then unit and portfolioLeader in turn, then a name.
    let deep = format!(
        "{{ me {{ {} name {} }} }}",
        "unit { portfolioLeader { ".repeat(5) + "unit {",
        "} ".repeat(11)
    );
    let (status, _, body) = post(
        &app,
        Some(SPEC),
        Some(&app.admin_token),
        json!({ "query": deep }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{body}"
    );
}

#[tokio::test]
async fn anonymous_schema_and_calendar_reads_are_a_setting() {
    let mut settings = settings_for(crate::helpers::Backend::Sqlite).await;
    settings.http.public_schema = true;
    settings.http.public_calendar = true;
    let app = spawn_with(settings).await;
    let (status, _, body) = post(&app, Some(SPEC), None, json!({ "query": INTROSPECTION })).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["__schema"]["queryType"]["name"] == "Query",
        "{body}"
    );
    let (_, _, body) = post(
        &app,
        None,
        None,
        json!({ "query": "{ isWorkingDay(date: \"2026-10-10\") { working } }" }),
    )
    .await;
    assert_eq!(body["data"]["isWorkingDay"]["working"], true, "{body}");
    // Still nothing else.
    let (_, _, body) = post(&app, None, None, json!({ "query": "{ units { name } }" })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn browsers_on_configured_origins_may_call_and_others_may_not() {
    let mut settings = settings_for(crate::helpers::Backend::Sqlite).await;
    settings.http.cors_origins = vec!["https://dp.example.gov.cn".into()];
    let app = spawn_with(settings).await;
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://dp.example.gov.cn").await.expect("sent");
    assert_eq!(allowed.status(), 204);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        "https://dp.example.gov.cn"
    );
    assert!(header(&allowed, "access-control-allow-headers").contains("authorization"));
    assert!(header(&allowed, "access-control-allow-methods").contains("POST"));
    let refused = preflight("https://evil.example.com").await.expect("sent");
    assert_eq!(refused.status(), 403);
    assert!(header(&refused, "access-control-allow-origin").is_empty());

    let call = |origin: String| {
        app.client
            .post(app.url("/graphql"))
            .header("Origin", origin)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
    };
    let cross = call("https://dp.example.gov.cn".into())
        .await
        .expect("sent");
    assert_eq!(cross.status(), 200);
    assert_eq!(
        header(&cross, "access-control-allow-origin"),
        "https://dp.example.gov.cn"
    );
    assert!(header(&cross, "access-control-expose-headers").contains("x-request-id"));
    // GraphiQL on the service's own page sends its own origin.
    let own = call(format!("http://{}", app.address)).await.expect("sent");
    assert_eq!(own.status(), 200);
    let other = call("https://evil.example.com".into()).await.expect("sent");
    assert_eq!(other.status(), 403);
}

#[tokio::test]
async fn responses_are_compressed_and_carry_security_headers() {
    let app = spawn_app().await;
    for encoding in ["gzip", "br"] {
        let response = app
            .client
            .get(app.url("/assets/graphiql/graphiql.min.js"))
            .header("Accept-Encoding", encoding)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some(encoding)
        );
        let compressed = response.bytes().await.expect("bytes").len();
        assert!(
            compressed < 1_500_000,
            "{encoding}: {compressed} bytes of 3.5 MB"
        );
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("sent");
    let headers = response.headers();
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert_eq!(get("x-content-type-options"), "nosniff");
    assert_eq!(get("referrer-policy"), "no-referrer");
    assert!(get("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(get("cache-control"), "no-store");
    assert_eq!(get("x-request-id").len(), 16);
}

#[tokio::test]
async fn metrics_count_operations_and_read_the_backlog() {
    let app = spawn_kept_on(Backend::Sqlite).await;
    for _ in 0..3 {
        post(
            &app,
            None,
            Some(&app.admin_token),
            json!({ "query": "query Units { units { name } }" }),
        )
        .await;
    }
    post(
        &app,
        None,
        None,
        json!({ "query": "query Units { units { name } }" }),
    )
    .await;
    let text = app.get_text("/metrics").await;
    for expected in [
        "ducha_graphql_operations_total{operation=\"Units\",code=\"OK\"} 3",
        "ducha_graphql_operations_total{operation=\"Units\",code=\"UNAUTHENTICATED\"} 1",
        "ducha_http_responses_total{endpoint=\"graphql\",status=\"200\"} 4",
        "ducha_http_request_duration_seconds_count",
        "ducha_outbox_pending 0",
        "ducha_outbox_failed 0",
        "ducha_outbox_oldest_pending_age_seconds 0",
        "ducha_sweeps_total 0",
        "ducha_scheduler_last_tick_timestamp_seconds",
        "ducha_db_pool_connections",
        "ducha_database_up 1",
        "ducha_item_cache_trusted 1",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    // A sweep is counted with its notices.
    let body = app
        .graphql_signed_in("mutation { runSweep { ran notices } }", json!({}))
        .await;
    assert_eq!(body["data"]["runSweep"]["ran"], true, "{body}");
    let text = app.get_text("/metrics").await;
    assert!(text.contains("ducha_sweeps_total 1"), "{text}");
}

/// Oversized requests get their status and a reason, not a closed connection: a 100 KB
/// header 431, a 60 KB address 414, a 30 MB form 413 — the last one read to its end first,
/// so a client still sending hears the answer rather than a reset.
#[tokio::test]
async fn oversized_requests_are_answered_with_their_status() {
    let app = spawn_app().await;
    let header = app
        .client
        .get(app.url("/healthz"))
        .header("x-padding", "a".repeat(100 * 1024))
        .send()
        .await
        .expect("answered");
    assert_eq!(header.status(), 431);
    let body: Value = header.json().await.expect("json");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "REQUEST_HEADER_FIELDS_TOO_LARGE"
    );

    let address = app
        .client
        .get(app.url(&format!("/graphql?query={}", "a".repeat(60 * 1024))))
        .send()
        .await
        .expect("answered");
    assert_eq!(address.status(), 414);

    for (path, content_type) in [
        ("/login", "application/x-www-form-urlencoded"),
        ("/graphql", "application/json"),
    ] {
        let form = app
            .client
            .post(app.url(path))
            .header("content-type", content_type)
            .body(vec![b'a'; 30 * 1024 * 1024])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: the client heard no answer: {e}"));
        assert_eq!(form.status(), 413, "{path}");
    }
}
