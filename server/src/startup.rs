//! Building and running the HTTP service: GraphQL at `/graphql` (GraphiQL on GET),
//! `GET /healthz`, and graceful shutdown. `main` and the black-box tests share this code.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use async_graphql::http::GraphiQLSource;
use async_graphql_poem::GraphQLResponse;
use ducha_calendar::DeadlinePolicy;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::middleware::Tracing;
use poem::web::{Data, Html, Json, Redirect};
use poem::{EndpointExt, IntoResponse, Response, Route, Server, get, handler};
use sea_orm::DatabaseConnection;

use crate::calendar_store::CalendarStore;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db;
use crate::error::AppError;
use crate::graphql::{AppSchema, Auth, build_schema};
use crate::service::org::ensure_first_admin;

/// What every request handler may use.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub calendar: CalendarStore,
    pub deadline_policy: DeadlinePolicy,
    pub clock: Clock,
    /// Where attachments (and unsent mail) are stored.
    pub data_dir: std::path::PathBuf,
    /// Where mail links point, the time zone mails speak in, and the sender's wake-up.
    pub notices: crate::service::notify::NoticeContext,
    pub mailer: std::sync::Arc<crate::mail::Mailer>,
    pub mail_from: String,
    /// Names this process in leases (one sweeping instance at a time).
    pub instance_id: String,
    /// Local times of the scheduled sweep on working days.
    pub sweep_times: Vec<chrono::NaiveTime>,
    /// One sweep at a time in this process (and, on PostgreSQL, an advisory lock across
    /// instances).
    pub sweep_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// How long an outbox claim lasts unless renewed.
    pub outbox_claim_ttl: Duration,
    /// Whether this process runs the scheduler and the outbox sender.
    pub background_jobs: bool,
    /// Live events for subscriptions.
    pub events: crate::events::EventHub,
    /// How often live colour changes are recomputed.
    pub colour_refresh: Duration,
    /// What people of a unit may read of the monthly report and other units' colours.
    pub unit_report_access: crate::config::UnitReportAccess,
}

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

impl AppState {
    pub fn from<'a>(ctx: &async_graphql::Context<'a>) -> Result<&'a AppState, AppError> {
        ctx.data::<AppState>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("schema built without AppState")))
    }

    /// Connects and migrates the database and loads the calendar: everything but the
    /// listener and the first administrator, so that commands such as `ducha report` can
    /// work beside a running server without side effects.
    pub async fn connect(settings: &Settings, clock: Clock) -> anyhow::Result<AppState> {
        let db = db::connect(settings).await?;
        crate::fonts::register_chart_font(settings.report_font.as_deref());
        let calendar = CalendarStore::load(&db)
            .await
            .map_err(|e| anyhow::anyhow!("loading calendar overrides: {e:?}"))?;
        let state = AppState {
            db,
            calendar,
            deadline_policy: settings.deadline_policy(),
            clock,
            data_dir: settings.data_dir.clone(),
            notices: crate::service::notify::NoticeContext {
                public_url: settings.public_url.clone(),
                time_zone: settings.time_zone,
                wake: std::sync::Arc::new(tokio::sync::Notify::new()),
            },
            mailer: std::sync::Arc::new(crate::mail::Mailer::from_settings(settings)?),
            mail_from: settings.mail_from.clone(),
            instance_id: crate::auth::new_token()
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .chars()
                .skip(4)
                .take(16)
                .collect(),
            sweep_times: settings.sweep_times.clone(),
            sweep_lock: std::sync::Arc::new(tokio::sync::Mutex::new(())),
            outbox_claim_ttl: settings.outbox_claim,
            background_jobs: settings.background_jobs,
            events: crate::events::EventHub::default(),
            colour_refresh: settings.colour_refresh,
            unit_report_access: settings.unit_report_access,
        };
        Ok(state)
    }
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
        let events = tokio::spawn(crate::events::run(
            self.state.clone(),
            Duration::from_millis(500),
            self.state.colour_refresh,
        ));
        let sender = self.state.background_jobs.then(|| {
            tokio::spawn(crate::service::outbox::run_sender(
                self.state.clone(),
                OUTBOX_POLL,
            ))
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
