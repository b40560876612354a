//! GraphQL over HTTP as the spec (graphql-over-http, 2024 draft) asks, MUSTs and SHOULDs:
//! queries by POST (JSON or multipart with files) and by GET (queries only, never
//! mutations); `application/graphql-response+json` when the client accepts it, with 4xx for
//! requests that never executed (unparsable, invalid, bad variables); no `data` entry on
//! those; automatic persisted queries (Apollo's protocol); and the standard introspection
//! query let through to a schema that answers nothing else (`graphql::Schemas`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{ErrorExtensions, ServerError, Value};
use poem::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use poem::{Body, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::errors::{self, json_error};
use crate::graphql::{Auth, Schemas};
use crate::state::AppState;

/// The spec's own media type; clients that ask for it get real status codes.
pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// What the client asked the answer to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: 4xx for requests that did not execute.
    GraphqlResponse,
    /// `application/json`, the legacy type: 200 whatever the GraphQL errors.
    Json,
}

impl Media {
    /// From `Accept`: the spec's type when the client lists it with a q no lower than that
    /// of `application/json`; `application/json` for everything else, including no header
    /// and `*/*` (the spec's SHOULD for legacy clients).
    pub fn negotiate(accept: Option<&str>) -> Media {
        let Some(accept) = accept else {
            return Media::Json;
        };
        let mut best_graphql: Option<f32> = None;
        let mut best_json: Option<f32> = None;
        for part in accept.split(',') {
            let mut pieces = part.split(';');
            let essence = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            let slot = match essence.as_str() {
                GRAPHQL_RESPONSE => &mut best_graphql,
                "application/json" | "application/*" | "*/*" => &mut best_json,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |old: f32| old.max(q)));
        }
        match (best_graphql, best_json) {
            (Some(g), Some(j)) if j > g => Media::Json,
            (Some(_), _) => Media::GraphqlResponse,
            _ => Media::Json,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// Whether a GET is a browser asking for a page (GraphiQL) rather than a client asking
/// for a result: it accepts `text/html` and names no query.
pub fn wants_page(headers: &HeaderMap, uri_query: Option<&str>) -> bool {
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let names_query = uri_query.is_some_and(|q| q.split('&').any(|p| p.starts_with("query=")));
    html && !names_query
}

/// The GET parameters of the spec; `variables` and `extensions` are JSON text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// A GET request's GraphQL request, or why it cannot be read (a 400).
fn read_get(uri_query: Option<&str>) -> Result<async_graphql::Request, String> {
    let bad = |message: String| message;
    let params: GetParams = serde_urlencoded::from_str(uri_query.unwrap_or(""))
        .map_err(|_| bad("查询参数无法解析".into()))?;
    let mut request = async_graphql::Request::new(params.query.unwrap_or_default());
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(text) = params.variables.filter(|t| !t.is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| bad("variables 参数应为 JSON 对象".into()))?;
        if !(value.is_object() || value.is_null()) {
            return Err(bad("variables 参数应为 JSON 对象".into()));
        }
        request = request.variables(async_graphql::Variables::from_json(value));
    }
    if let Some(text) = params.extensions.filter(|t| !t.is_empty()) {
        let value: HashMap<String, Value> =
            serde_json::from_str(&text).map_err(|_| bad("extensions 参数应为 JSON 对象".into()))?;
        request.extensions = async_graphql::Extensions(value);
    }
    Ok(request)
}

/// Serves one GraphQL request over HTTP (GET or POST; the router sends nothing else).
pub async fn serve(
    schemas: &Schemas,
    state: &AppState,
    persisted: &PersistedQueries,
    method: &Method,
    headers: &HeaderMap,
    uri_query: Option<&str>,
    body: Body,
) -> Response {
    let media = Media::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let is_get = method == Method::GET;
    let request = if is_get {
        read_get(uri_query).map_err(|why| {
            json_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &why).with_media(media)
        })
    } else {
        errors::read_request(headers, body)
            .await
            .map_err(|r| r.with_media(media))
    };
    let request = match request {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    // The operation's name for the metrics: as the request gives it, or as the document
    // names its only operation.
    let mut name = request.operation_name.clone();
    let response = execute(
        schemas, state, persisted, is_get, headers, request, &mut name,
    )
    .await;
    state
        .metrics
        .record_operation(name.as_deref(), outcome_code(&response));
    encode(response, media)
}

/// Runs a request read off HTTP: persisted query, parse, the GET rule, the token, and the
/// schema it belongs to. Every refusal is a GraphQL response; `encode` gives its status.
async fn execute(
    schemas: &Schemas,
    state: &AppState,
    persisted: &PersistedQueries,
    is_get: bool,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
    name: &mut Option<String>,
) -> async_graphql::Response {
    if let Err(error) = persisted.resolve(&mut request) {
        return async_graphql::Response::from_errors(vec![error]);
    }
    if request.query.trim().is_empty() {
        return request_error("请求缺少 query（GraphQL 查询文本）", "BAD_REQUEST");
    }
    let admitted = match crate::graphql::guard::admit(&mut request, state.caches) {
        Ok(admitted) => admitted,
        Err(error) => return async_graphql::Response::from_errors(vec![error]),
    };
    let operation_name = request.operation_name.clone();
    // Set aside while the parsed document (a mutable borrow of the request) is read.
    let variables = std::mem::take(&mut request.variables);
    let (operation_type, introspection, bounded, certainly_valid) = match request.parsed_query() {
        Ok(document) => {
            let selected = selected_operation_named(document, operation_name.as_deref());
            if let Some((_, Some(named))) = selected {
                *name = Some(named.to_string());
            }
            let introspection = selected.is_some_and(|(operation, _)| {
                asks_only_introspection(document, &operation.selection_set.node)
            });
            let certainly_valid =
                crate::graphql::guard::variables_certainly_valid(document, &variables);
            // Refused before it runs when its lists could answer too much.
            if !introspection
                && let Err(refused) = crate::graphql::cost::check(
                    document,
                    operation_name.as_deref(),
                    &variables,
                    &schemas.field_types,
                )
            {
                return async_graphql::Response::from_errors(vec![refused]);
            }
            (
                selected.map(|(operation, _)| operation.ty),
                introspection,
                !introspection || introspection_is_bounded(document),
                certainly_valid,
            )
        }
        Err(error) => return async_graphql::Response::from_errors(vec![error]),
    };
    request.variables = variables;
    if is_get && operation_type == Some(OperationType::Mutation) {
        return request_error(
            "GET 请求只能用于查询，修改请使用 POST",
            "METHOD_NOT_ALLOWED",
        );
    }
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let auth = Auth::resolve(state, header).await;
    let anonymous = auth.actor.is_none();
    let schema = if introspection {
        if anonymous && !state.http.public_schema {
            return request_error(
                &auth.refused.clone().unwrap_or_else(|| {
                    "读取接口结构（introspection）需要登录：在请求头中提供 Authorization: Bearer <令牌>"
                        .into()
                }),
                "UNAUTHENTICATED",
            );
        }
        if !bounded {
            return request_error(
                "接口结构查询展开过多（fields、types 等列表至多嵌套3层）",
                "GRAPHQL_VALIDATION_FAILED",
            );
        }
        &schemas.introspection
    } else if admitted.validated_before && certainly_valid {
        state.metrics.record_fast_validation();
        &schemas.validated_before
    } else {
        &schemas.main
    };
    if anonymous && !state.http.public_schema {
        request = request.disable_introspection();
    }
    // A text validated strictly for the first time, with variables that leave no argument
    // unchecked, is remembered once it has executed (`guard::remember_validated`).
    let strictly_validated = !introspection && !admitted.validated_before && certainly_valid;
    // Kept past execution: remembered as validated, or read again if a field fails.
    let text_sent = request.query.clone();
    let mut response = schema
        .execute(crate::graphql::prepare(request, state, auth))
        .await;
    if strictly_validated && !is_request_error(&response) {
        crate::graphql::guard::remember_validated(&text_sent, operation_name.as_deref());
    }
    finish_answer(
        &mut response,
        schemas,
        &text_sent,
        operation_name.as_deref(),
    );
    response
}

/// What every executed answer gets, over HTTP and the WebSocket: a failed field's `null` in
/// its place (`graphql::nulls`), and a code on every error.
pub fn finish_answer(
    response: &mut async_graphql::Response,
    schemas: &Schemas,
    text_sent: &str,
    operation_name: Option<&str>,
) {
    crate::graphql::nulls::fill(response, &schemas.field_types, text_sent, operation_name);
    codify(&mut response.errors);
}

/// Gives every error raised before a resolver ran (syntax, validation, a malformed
/// variable) a code, so clients can always branch on `extensions.code`.
pub fn codify(errors: &mut [ServerError]) {
    for error in errors {
        let bad_value = error.message.starts_with("Failed to parse")
            || error.message.starts_with("Invalid value for argument")
            || error.message.starts_with("Invalid value for variable");
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let code = if bad_value {
                "BAD_USER_INPUT"
            } else {
                "GRAPHQL_VALIDATION_FAILED"
            };
            extensions.set("code", code);
        }
    }
}

/// A response to a request that was refused before execution.
fn request_error(message: &str, code: &str) -> async_graphql::Response {
    let error = async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code))
        .into_server_error(async_graphql::Pos::default());
    let mut error = error;
    error.locations.clear();
    async_graphql::Response::from_errors(vec![error])
}

/// True when the request never executed: no data, and every error outside any field
/// (a field's error has a path, and then `data` is present, perhaps null).
pub fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// `OK`, or the first error's code, for the metrics.
fn outcome_code(response: &async_graphql::Response) -> &str {
    match response.errors.first() {
        None => "OK",
        Some(error) => error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(|c| match c {
                Value::String(code) => Some(code.as_str()),
                _ => None,
            })
            .unwrap_or("ERROR"),
    }
}

/// The status a request error gets under `application/graphql-response+json`.
fn request_error_status(response: &async_graphql::Response) -> StatusCode {
    match outcome_code(response) {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "METHOD_NOT_ALLOWED" => StatusCode::METHOD_NOT_ALLOWED,
        // Apollo's clients retry with the full query on this; it is not a failure.
        "PERSISTED_QUERY_NOT_FOUND" => StatusCode::OK,
        "INTERNAL_SERVER_ERROR" => StatusCode::INTERNAL_SERVER_ERROR,
        "SERVICE_UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

#[derive(Serialize)]
struct Encoded<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, Value>,
}

/// The HTTP response for `response` in `media`. A request error carries no `data` entry
/// whichever the media type (the spec's SHOULD; `null` would claim execution began).
pub fn encode(response: async_graphql::Response, media: Media) -> Response {
    let request_error = is_request_error(&response);
    let status = match (media, request_error) {
        (Media::GraphqlResponse, true) => request_error_status(&response),
        (Media::Json, true) if outcome_code(&response) == "METHOD_NOT_ALLOWED" => {
            StatusCode::METHOD_NOT_ALLOWED
        }
        _ => StatusCode::OK,
    };
    let encoded = Encoded {
        data: (!request_error).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    let body = match serde_json::to_vec(&encoded) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "encoding a GraphQL response");
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "内部错误，请稍后重试",
            );
        }
    };
    let mut http = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, media.content_type())
        .header(header::CACHE_CONTROL, "no-store")
        .body(body);
    for (name, value) in response.http_headers.iter() {
        http.headers_mut().append(name.clone(), value.clone());
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        http.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    http
}

trait WithMedia {
    fn with_media(self, media: Media) -> Response;
}

impl WithMedia for Response {
    /// An HTTP-level refusal keeps its status but speaks the negotiated media type.
    fn with_media(mut self, media: Media) -> Response {
        if let Ok(value) = HeaderValue::from_str(media.content_type()) {
            self.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        self.into_response()
    }
}

/// The operation the request runs (the one named, or the only one), with its name when it
/// has one.
fn selected_operation_named<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(&'a OperationDefinition, Option<&'a str>)> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some((&op.node, None)),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get_key_value(name)
            .map(|(n, op)| (&op.node, Some(n.as_str()))),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .iter()
            .next()
            .map(|(n, op)| (&op.node, Some(n.as_str()))),
        _ => None,
    }
}

/// Whether the top of `set` (through fragments) asks only `__schema`, `__type` and
/// `__typename`, and at least one of the first two.
fn asks_only_introspection(document: &ExecutableDocument, set: &SelectionSet) -> bool {
    fn walk(
        document: &ExecutableDocument,
        set: &SelectionSet,
        seen: &mut Vec<String>,
        found: &mut bool,
    ) -> bool {
        set.items.iter().all(|item| match &item.node {
            Selection::Field(field) => match field.node.name.node.as_str() {
                "__schema" | "__type" => {
                    *found = true;
                    true
                }
                "__typename" => true,
                _ => false,
            },
            Selection::InlineFragment(fragment) => {
                walk(document, &fragment.node.selection_set.node, seen, found)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.to_string();
                if seen.contains(&name) {
                    return true;
                }
                seen.push(name.clone());
                document
                    .fragments
                    .get(spread.node.fragment_name.node.as_str())
                    .is_some_and(|f| walk(document, &f.node.selection_set.node, seen, found))
            }
        })
    }
    let mut found = false;
    walk(document, set, &mut Vec::new(), &mut found) && found
}

/// The lists of the introspection schema that multiply an answer's size.
const EXPANDING: [&str; 8] = [
    "types",
    "fields",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "args",
    "directives",
];

/// At most three expanding lists on any path (the standard query's deepest is `types →
/// fields → args`). The depth allowed for `ofType` chains would otherwise let a small query
/// nest `fields { type { fields { … } } }` into an answer of billions of entries.
fn introspection_is_bounded(document: &ExecutableDocument) -> bool {
    fn deepest(document: &ExecutableDocument, set: &SelectionSet, budget: usize) -> usize {
        if budget == 0 {
            return 0;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    let own = usize::from(EXPANDING.contains(&field.node.name.node.as_str()));
                    own + deepest(document, &field.node.selection_set.node, budget - 1)
                }
                Selection::InlineFragment(fragment) => {
                    deepest(document, &fragment.node.selection_set.node, budget - 1)
                }
                Selection::FragmentSpread(spread) => document
                    .fragments
                    .get(spread.node.fragment_name.node.as_str())
                    .map_or(0, |f| {
                        deepest(document, &f.node.selection_set.node, budget - 1)
                    }),
            })
            .max()
            .unwrap_or(0)
    }
    // The budget bounds the walk itself: fragments may spread each other in a cycle until
    // validation (which runs later) refuses them.
    let operations: Vec<&SelectionSet> = match &document.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    operations
        .into_iter()
        .all(|set| deepest(document, set, 64) <= 3)
}

/// Apollo's automatic persisted queries: a client sends the SHA-256 of its query; the
/// first time, the server answers PERSISTED_QUERY_NOT_FOUND and the client sends the query
/// with its hash, which is kept. Each instance keeps its own, bounded, cache: a client
/// sent to another instance just sends the full query once more.
pub struct PersistedQueries {
    cache: Mutex<(HashMap<String, String>, VecDeque<String>)>,
    capacity: usize,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        PersistedQueries {
            cache: Mutex::default(),
            capacity: 2_000,
        }
    }
}

impl PersistedQueries {
    /// Fills in `request.query` from the cache, or records it; an error when the hash is
    /// unknown (and no query came) or does not match the query.
    pub fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), ServerError> {
        let Some(Value::Object(persisted)) = request.extensions.get("persistedQuery") else {
            return Ok(());
        };
        let coded = |message: &str, code: &str| {
            let mut error = async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", code))
                .into_server_error(async_graphql::Pos::default());
            error.locations.clear();
            error
        };
        if persisted.get("version") != Some(&Value::from(1)) {
            return Err(coded(
                "不支持的 persistedQuery 版本（应为 1）",
                "BAD_REQUEST",
            ));
        }
        let Some(Value::String(hash)) = persisted.get("sha256Hash") else {
            return Err(coded("persistedQuery 缺少 sha256Hash", "BAD_REQUEST"));
        };
        let hash = hash.to_ascii_lowercase();
        let Ok(mut guard) = self.cache.lock() else {
            return Err(coded("内部错误，请稍后重试", "INTERNAL_SERVER_ERROR"));
        };
        let (queries, order) = &mut *guard;
        if request.query.is_empty() {
            return match queries.get(&hash) {
                Some(query) => {
                    request.query = query.clone();
                    Ok(())
                }
                // The message is the protocol's word, which Apollo's clients match on.
                None => Err(coded("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")),
            };
        }
        if hex::encode(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(coded(
                "persistedQuery 的 sha256Hash 与查询文本不符",
                "BAD_USER_INPUT",
            ));
        }
        if !queries.contains_key(&hash) {
            if order.len() >= self.capacity
                && let Some(oldest) = order.pop_front()
            {
                queries.remove(&oldest);
            }
            order.push_back(hash.clone());
            queries.insert(hash, request.query.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_chooses_the_spec_type_only_when_asked_for() {
        assert_eq!(Media::negotiate(None), Media::Json);
        assert_eq!(Media::negotiate(Some("*/*")), Media::Json);
        assert_eq!(Media::negotiate(Some("application/json")), Media::Json);
        assert_eq!(
            Media::negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Media::GraphqlResponse
        );
        assert_eq!(
            Media::negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Media::Json
        );
        assert_eq!(
            Media::negotiate(Some("application/graphql-response+json;q=0")),
            Media::Json
        );
    }

    #[test]
    fn the_standard_introspection_query_is_introspection_and_bounded() {
        let query = include_str!("introspection_query.graphql");
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let (operation, _) = selected_operation_named(&document, None).expect("one operation");
        let set = &operation.selection_set.node;
        assert!(asks_only_introspection(&document, set));
        assert!(introspection_is_bounded(&document));

        let nested =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        let document = async_graphql::parser::parse_query(nested).expect("parses");
        assert!(!introspection_is_bounded(&document));

        let mixed = "{ __schema { queryType { name } } me { name } }";
        let document = async_graphql::parser::parse_query(mixed).expect("parses");
        let (operation, _) = selected_operation_named(&document, None).expect("one operation");
        let set = &operation.selection_set.node;
        assert!(!asks_only_introspection(&document, set));

        let typename = "{ __typename }";
        let document = async_graphql::parser::parse_query(typename).expect("parses");
        let (operation, _) = selected_operation_named(&document, None).expect("one operation");
        let set = &operation.selection_set.node;
        assert!(!asks_only_introspection(&document, set));
    }

    #[test]
    fn persisted_queries_need_the_matching_hash() {
        let persisted = PersistedQueries::default();
        let query = "{ __typename }";
        let hash = hex::encode(Sha256::digest(query.as_bytes()));
        let with_hash = |text: &str, hash: &str| {
            let mut request = async_graphql::Request::new(text);
            let extension: Value = serde_json::from_value(serde_json::json!({
                "version": 1, "sha256Hash": hash
            }))
            .expect("value");
            request
                .extensions
                .insert("persistedQuery".into(), extension);
            request
        };
        let mut unknown = with_hash("", &hash);
        let error = persisted.resolve(&mut unknown).expect_err("not yet known");
        assert_eq!(error.message, "PersistedQueryNotFound");
        let mut wrong = with_hash("{ me { name } }", &hash);
        assert!(persisted.resolve(&mut wrong).is_err(), "hash must match");
        let mut full = with_hash(query, &hash);
        persisted.resolve(&mut full).expect("kept");
        let mut again = with_hash("", &hash);
        persisted.resolve(&mut again).expect("found");
        assert_eq!(again.query, query);
    }
}
