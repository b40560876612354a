//! The HTTP face: routes, and what every response gets on the way out — a request id in
//! the logs and the `X-Request-Id` header, security headers, CORS for the origins
//! configured, compression, and a place in `/metrics`.
//!
//! - `/graphql` — GraphQL over HTTP (`graphql`); GraphiQL for a browser (`assets`)
//! - `/graphql/ws` — GraphQL over WebSocket (`ws`)
//! - `/healthz`, `/metrics` — for operators and Prometheus
//! - the web pages (`crate::web`): `/`, `/login`, `/board`, `/todo`, `/items`, `/items/N`
//!   (the page every mail links to), `/reports`, `/attachments/N`

pub mod assets;
pub mod errors;
pub mod graphql;
pub mod ws;

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::middleware::Compression;
use poem::web::{CompressionAlgo, CompressionLevel};
use poem::web::{Data, Json};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};
use tracing::Instrument;

use crate::db;
use crate::graphql::Schemas;
use crate::state::AppState;

/// Every route of the service, wrapped in the layers every response passes through.
pub fn routes(state: AppState) -> impl Endpoint<Output = Response> {
    let schemas = Schemas::build(state.clone());
    let persisted = Arc::new(graphql::PersistedQueries::default());
    let compressed = Route::new()
        .at("/graphql", get(graphql_endpoint).post(graphql_endpoint))
        .at("/healthz", get(healthz))
        .at("/metrics", get(metrics))
        .at("/assets/*name", get(assets::asset));
    let compressed = crate::web::mount(compressed).with(
        Compression::new()
            .algorithms([CompressionAlgo::BR, CompressionAlgo::GZIP])
            .with_quality(CompressionLevel::Fastest),
    );
    Route::new()
        // A WebSocket upgrade has no body to compress.
        .at("/graphql/ws", get(graphql_ws))
        .nest("/", compressed)
        .data(schemas)
        .data(persisted)
        .data(crate::web::throttle())
        .data(state.clone())
        .catch_all_error(errors::poem_error)
        .around(pages_for_browsers)
        .around(edge_limits)
        .around(move |endpoint, request| observe(endpoint, request, state.clone()))
}

/// A request target or headers too large get their 414 or 431 with a reason, before any
/// handler reads them (hyper alone would accept them up to its buffer, then close).
async fn edge_limits<E: Endpoint<Output = Response>>(
    endpoint: Arc<E>,
    request: Request,
) -> poem::Result<Response> {
    if let Some((status, code, message)) =
        crate::body::refused_at_the_edge(request.uri(), request.headers())
    {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        return Ok(errors::json_error(status, code, message));
    }
    endpoint.call(request).await
}

/// A browser that asks for an address nobody serves gets a page in Chinese with a way home;
/// a client of the API gets the JSON error it reads (`errors::poem_error`).
async fn pages_for_browsers<E: Endpoint<Output = Response>>(
    endpoint: Arc<E>,
    request: Request,
) -> poem::Result<Response> {
    let wants_page = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let response = endpoint.call(request).await?;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if wants_page && json && status == StatusCode::NOT_FOUND {
        return Ok(crate::web::unknown_address());
    }
    Ok(response)
}

#[handler]
async fn graphql_endpoint(
    request: &Request,
    schemas: Data<&Schemas>,
    persisted: Data<&Arc<graphql::PersistedQueries>>,
    state: Data<&AppState>,
    body: poem::Body,
) -> Response {
    if request.method() == Method::GET
        && graphql::wants_page(request.headers(), request.uri().query())
    {
        return assets::graphiql_page();
    }
    graphql::serve(
        &schemas,
        &state,
        &persisted,
        request.method(),
        request.headers(),
        request.uri().query(),
        body,
    )
    .await
}

#[handler]
async fn graphql_ws(
    request: &Request,
    schemas: Data<&Schemas>,
    state: Data<&AppState>,
    websocket: poem::web::websocket::WebSocket,
) -> impl IntoResponse {
    let schemas = schemas.clone();
    let state = state.clone();
    // A browser's session signs the socket in only from this site's own pages: a page of
    // another site can open a socket here too, and the browser would send the cookie.
    let session = same_origin(request)
        .then(|| crate::web::session_secret(request))
        .flatten();
    let mut config = poem::web::websocket::WebSocketConfig::default();
    config.max_message_size = Some(ws::MAX_MESSAGE);
    config.max_frame_size = Some(ws::MAX_MESSAGE);
    let dialect = ws::Dialect::chosen(
        request
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok()),
    );
    websocket
        .protocols([ws::PROTOCOL, ws::LEGACY_PROTOCOL])
        .config(config)
        .on_upgrade(move |socket| ws::serve(socket, schemas, state, session, dialect))
}

/// Whether the request's `Origin` is this service as the client addressed it.
fn same_origin(request: &Request) -> bool {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match (header(header::ORIGIN), header(header::HOST)) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// Mail older than this still waiting to go makes `/healthz` say degraded.
const STUCK_MAIL_SECONDS: i64 = 3600;

#[handler]
async fn healthz(state: Data<&AppState>) -> Response {
    let database = db::ping(&state.db).await;
    // Reads can answer while writes fail (a full disk): a write is tried, and committed.
    let writes = crate::service::store::sql::write_probe(&state.db, state.clock.now())
        .await
        .is_ok();
    let calendar = state.calendar.current().ok();
    // The office must see mail that is stuck: how much waits, since when, and what failed.
    let outbox = crate::service::notices::outbox::backlog(&state.db, state.clock.now())
        .await
        .ok();
    let mail_stuck = outbox
        .as_ref()
        .and_then(|o| o.oldest_pending_age_seconds)
        .is_some_and(|age| age > STUCK_MAIL_SECONDS);
    let healthy = database && writes && !mail_stuck;
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "degraded" },
        "database": database,
        "writes": writes,
        "mailStuck": mail_stuck,
        "calendarVersion": calendar.as_ref().map(|c| c.version().to_string()),
        "outbox": outbox,
    });
    // Mail waiting on a relay is reported, not a reason to take the instance out of
    // service: it still answers every request.
    let status = if database && writes {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(body).with_status(status).into_response()
}

/// Prometheus's text format. Open like `/healthz`: it holds counts, never people's data.
#[handler]
async fn metrics(state: Data<&AppState>) -> Response {
    use crate::metrics::Gauge;
    let mut gauges = Vec::new();
    let gauge = |name, help, value: f64| Gauge {
        name,
        help,
        labels: Vec::new(),
        value,
    };
    match crate::service::notices::outbox::backlog(&state.db, state.clock.now()).await {
        Ok(backlog) => {
            gauges.push(gauge(
                "ducha_outbox_pending",
                "Mails waiting to be sent.",
                backlog.pending as f64,
            ));
            gauges.push(gauge(
                "ducha_outbox_oldest_pending_age_seconds",
                "Age of the oldest mail waiting (0: none).",
                backlog.oldest_pending_age_seconds.unwrap_or(0) as f64,
            ));
            gauges.push(gauge(
                "ducha_outbox_failed",
                "Mails a relay refused for good (requeue them with requeueOutbox).",
                backlog.failed as f64,
            ));
            gauges.push(gauge(
                "ducha_database_up",
                "Whether the database answers.",
                1.0,
            ));
        }
        Err(_) => gauges.push(gauge(
            "ducha_database_up",
            "Whether the database answers.",
            0.0,
        )),
    }
    let (size, idle) = db::pool_state(&state.db);
    gauges.push(gauge(
        "ducha_db_pool_connections",
        "Open connections in this process's database pool.",
        f64::from(size),
    ));
    gauges.push(gauge(
        "ducha_db_pool_idle_connections",
        "Idle connections in this process's database pool.",
        idle as f64,
    ));
    let queue = crate::service::store::write::queue_counts(&state.db);
    gauges.push(gauge(
        "ducha_sqlite_write_groups",
        "SQLite: groups of writes committed together by this process (one fsync each).",
        queue.groups as f64,
    ));
    gauges.push(gauge(
        "ducha_sqlite_grouped_writes",
        "SQLite: writes committed in those groups.",
        queue.grouped_writes as f64,
    ));
    gauges.push(gauge(
        "ducha_sqlite_write_turns_seconds",
        "SQLite: how long this process's writes held the one writer's turn, in all.",
        queue.turns_held_micros as f64 / 1e6,
    ));
    let board = state.board.counts();
    gauges.push(gauge(
        "ducha_board_passes",
        "Whole passes over the open assignments this instance made for its board.",
        board.passes as f64,
    ));
    gauges.push(gauge(
        "ducha_board_updates",
        "Updates of this instance's board that judged again only the items a change touched.",
        board.updates as f64,
    ));
    gauges.push(gauge(
        "ducha_item_cache_items",
        "Items this instance keeps in memory with their assignments.",
        state.item_cache.len() as f64,
    ));
    gauges.push(gauge(
        "ducha_item_cache_trusted",
        "Whether kept items are served (0 on PostgreSQL while changes cannot be heard).",
        if state.item_cache.is_trusted() {
            1.0
        } else {
            0.0
        },
    ));
    Response::builder()
        .header(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(state.metrics.render(&gauges))
}

/// The id of a request: the caller's `X-Request-Id` when it is a sane token (so one id
/// follows a request through a proxy), else a new one.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            // Without entropy the id is still unique enough within a process's logs.
            if getrandom::fill(&mut bytes).is_err() {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                bytes = (nanos as u64).to_be_bytes();
            }
            hex::encode(bytes)
        })
}

/// The `/metrics` endpoint label of a path (a bounded set, whatever clients ask for).
fn endpoint_of(path: &str) -> &'static str {
    match path {
        "/graphql" => "graphql",
        "/graphql/ws" => "graphql_ws",
        "/healthz" => "healthz",
        "/metrics" => "metrics",
        "/" => "root",
        p if p.starts_with("/items/") => "item_page",
        p if p.starts_with("/assets/") => "assets",
        _ => "other",
    }
}

/// Which browser origins may call the API: the service's own (the Host the request came
/// to, or the configured public URL), and those configured.
fn origin_allowed(request: &Request, origin: &str, state: &AppState) -> bool {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let same_host = origin
        .split_once("://")
        .is_some_and(|(_, rest)| Some(rest) == host);
    same_host
        || origin == state.notices.public_url.trim_end_matches('/')
        || state
            .http
            .cors_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed == origin)
}

/// Headers a cross-origin caller may send: what GraphQL clients (Apollo, urql,
/// graphql-request) set.
const CORS_HEADERS: &str = "authorization, content-type, accept, x-request-id, apollo-require-preflight, \
     x-apollo-operation-name, apollographql-client-name, apollographql-client-version";

/// Every request passes here: an id and a span that every log line inside carries, CORS,
/// security headers, the access log line and the metrics.
async fn observe<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    state: AppState,
) -> poem::Result<Response> {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let span = tracing::info_span!("request", id = %id, %method, path = %path);
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cors = origin
        .as_deref()
        .map(|o| (o.to_string(), origin_allowed(&request, o, &state)));
    let preflight = method == Method::OPTIONS;
    let mut response = match (&cors, preflight) {
        (Some((_, false)), _) => errors::json_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "该来源（Origin）未获准访问本接口；请管理员在 cors_origins 中加入",
        ),
        (_, true) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            if cors.is_some() {
                let headers = response.headers_mut();
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(CORS_HEADERS),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                );
            }
            response
        }
        _ => {
            endpoint
                .get_response(request)
                .instrument(span.clone())
                .await
        }
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("x-request-id", value);
    }
    if let Some((origin, true)) = &cors
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A page may ask for `same-origin` (the web pages do: with `no-referrer` a browser
    // sends `Origin: null` on their own form posts); nothing is ever sent to other sites.
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    let status = response.status();
    let took = started.elapsed();
    state
        .metrics
        .record_response(endpoint_of(&path), status.as_u16(), took);
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            // To the microsecond: `0.026`, not `0.026421999999999998`.
            took_ms = took.as_micros() as f64 / 1e3,
            "response"
        );
    });
    Ok(response)
}
