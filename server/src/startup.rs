//! Building and running the HTTP service: GraphQL at `/graphql` (GraphiQL on GET),
//! `GET /healthz`, and graceful shutdown. `main` and the black-box tests share this code.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use async_graphql::http::GraphiQLSource;
use async_graphql_poem::GraphQLResponse;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::middleware::Tracing;
use poem::web::{Data, Html, Json, Redirect};
use poem::{EndpointExt, IntoResponse, Response, Route, Server, get, handler};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db;
use crate::graphql::{AppSchema, Auth, build_schema};
use crate::service::org::ensure_first_admin;
use crate::state::AppState;

/// How often an idle sender looks for mail written by other instances or coming due after
/// a backoff; mail written by this process wakes it at once.
const OUTBOX_POLL: Duration = Duration::from_secs(2);

/// A bound, migrated, ready-to-run service.
pub struct Application {
    address: SocketAddr,
    state: AppState,
    acceptor: poem::listener::TcpAcceptor,
    first_admin_token: Option<String>,
}

impl Application {
    /// Connects and migrates the database, loads the calendar, and binds the listener
    /// (port 0 picks a free port; [`Application::address`] tells which).
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Clock::system()).await
    }

    /// As [`Application::build`], with a clock the caller controls (tests walk time).
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Clock,
    ) -> anyhow::Result<Application> {
        let state = AppState::connect(settings, clock).await?;
        let first_admin_token = ensure_first_admin(&state.db, state.clock.now())
            .await
            .map_err(|e| anyhow::anyhow!("creating the first administrator: {e:?}"))?;
        let acceptor = TcpListener::bind(settings.listen)
            .into_acceptor()
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        let address = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("listener has no socket address")?;
        Ok(Application {
            address,
            state,
            acceptor,
            first_admin_token,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The token of the administrator created on this start, when the database had none.
    pub fn first_admin_token(&self) -> Option<&str> {
        self.first_admin_token.as_deref()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (up to 10 s).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let scheduler = if self.state.background_jobs {
            crate::jobs::start(self.state.clone()).await
        } else {
            None
        };
        let events = tokio::spawn(crate::service::live::run(
            self.state.live_tail(),
            Duration::from_millis(500),
            self.state.colour_refresh,
        ));
        let sender = self.state.background_jobs.then(|| {
            let state = self.state.clone();
            tokio::spawn(async move {
                crate::service::outbox::run_sender(state.sender(), &state.notices.wake, OUTBOX_POLL)
                    .await
            })
        });
        let app = routes(self.state);
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(10)))
            .await;
        events.abort();
        if let Some(sender) = sender {
            sender.abort();
        }
        if let Some(mut scheduler) = scheduler {
            let _ = scheduler.shutdown().await;
        }
        served
    }
}

pub fn routes(state: AppState) -> impl poem::Endpoint {
    let schema = build_schema(Some(state.clone()));
    Route::new()
        .at("/", get(root))
        .at(
            "/graphql",
            // Body limits are applied while reading (`http_errors::read_request`), so that
            // chunked bodies are accepted and refusals are GraphQL-shaped.
            get(graphiql).post(graphql),
        )
        .at("/graphql/ws", get(graphql_ws))
        .at("/healthz", get(healthz))
        .at("/items/:id", get(crate::item_page::item_page))
        .data(schema)
        .data(state)
        .catch_all_error(crate::http_errors::poem_error)
        .with(Tracing)
}

#[handler]
fn root() -> Redirect {
    Redirect::see_other("/graphql")
}

#[handler]
fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("ducha 督查督办")
            .finish(),
    )
}

#[handler]
async fn graphql(
    schema: Data<&AppSchema>,
    state: Data<&AppState>,
    headers: &poem::http::HeaderMap,
    body: poem::Body,
) -> Response {
    let request = match crate::http_errors::read_request(headers, body).await {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let header = headers
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let auth = Auth::resolve(&state.db, header).await;
    let mut response = schema
        .execute(crate::graphql::prepare(request, &state, auth))
        .await;
    // Errors raised before any resolver runs (syntax, validation, a malformed `Date`) carry
    // no code of ours; give them one so clients can always branch on `extensions.code`.
    for error in &mut response.errors {
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
    GraphQLResponse::from(response).into_response()
}

/// Subscriptions over WebSocket (graphql-ws and graphql-transport-ws). The token travels in
/// the `connection_init` payload as `{"Authorization": "Bearer …"}`, since browsers cannot
/// set headers on a WebSocket.
#[handler]
async fn graphql_ws(
    schema: Data<&AppSchema>,
    state: Data<&AppState>,
    protocol: async_graphql_poem::GraphQLProtocol,
    websocket: poem::web::websocket::WebSocket,
) -> impl IntoResponse {
    let schema = schema.clone();
    let state = state.clone();
    websocket
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            async_graphql_poem::GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let header = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    let auth = Auth::resolve(&state.db, header.as_deref()).await;
                    let mut data = async_graphql::Data::default();
                    data.insert(auth);
                    Ok(data)
                })
                .serve()
        })
}

#[handler]
async fn healthz(state: Data<&AppState>) -> Response {
    let database = db::ping(&state.db).await;
    let calendar = state.calendar.current().ok();
    // The office must see mail that is stuck: how much waits, since when, and what failed.
    let outbox = crate::service::outbox::backlog(&state.db, state.clock.now())
        .await
        .ok();
    let body = serde_json::json!({
        "status": if database { "ok" } else { "degraded" },
        "database": database,
        "calendarVersion": calendar.as_ref().map(|c| c.version().to_string()),
        "outbox": outbox,
    });
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(body).with_status(status).into_response()
}
