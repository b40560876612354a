//! GraphQL over WebSocket, the graphql-transport-ws protocol of the `graphql-ws` library
//! (github.com/enisdenjo/graphql-ws, PROTOCOL.md), kept here rather than left to
//! async-graphql so that every close code is the protocol's: 4408 when no
//! `connection_init` comes in time, 4429 for a second one, 4403 for a refused token, 4401
//! for `subscribe` before the ack, 4409 for an id already in use, 4400 for anything
//! unreadable. Close reasons stay short (RFC 6455 allows 123 bytes; clients refuse more).
//!
//! The token travels in the `connection_init` payload as `{"Authorization": "Bearer …"}`,
//! since browsers cannot set headers on a WebSocket.
//!
//! The legacy `graphql-ws` subprotocol (subscriptions-transport-ws, what Python gql's and
//! Apollo's older clients speak) is spoken too, with the same authentication and limits:
//! `start`/`stop` for `subscribe`/`complete`, `data` for `next`, `ka` (with a WebSocket ping)
//! for the keep-alive, `connection_error` before a refused token's close.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::Value;
use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocketStream};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::graphql::{Auth, Schemas};
use crate::state::AppState;

/// The subprotocol of the `graphql-ws` library.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// The legacy subprotocol of subscriptions-transport-ws (its name is the other library's).
pub const LEGACY_PROTOCOL: &str = "graphql-ws";

/// Which of the two subprotocols a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    TransportWs,
    Legacy,
}

impl Dialect {
    /// The subprotocol the handshake chose: the first the client offers that is spoken
    /// here (as poem picks it). A client that offers none gets the current one.
    pub fn chosen(offered: Option<&str>) -> Dialect {
        offered
            .into_iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .find_map(|p| match p {
                PROTOCOL => Some(Dialect::TransportWs),
                LEGACY_PROTOCOL => Some(Dialect::Legacy),
                _ => None,
            })
            .unwrap_or(Dialect::TransportWs)
    }

    /// A message type of graphql-transport-ws as this dialect names it.
    fn outgoing(self, kind: &'static str) -> &'static str {
        match (self, kind) {
            (Dialect::Legacy, "next") => "data",
            (Dialect::Legacy, "ping") => "ka",
            _ => kind,
        }
    }

    /// A client's message type as graphql-transport-ws names it.
    fn incoming(self, kind: &str) -> &str {
        match (self, kind) {
            (Dialect::Legacy, "start") => "subscribe",
            (Dialect::Legacy, "stop") => "complete",
            (Dialect::Legacy, "connection_terminate") => "terminate",
            (Dialect::TransportWs, "start" | "stop" | "connection_terminate") => "unknown",
            _ => kind,
        }
    }
}

/// Largest message read; a subscription document is small (see `errors::JSON_BODY_LIMIT`).
pub const MAX_MESSAGE: usize = super::errors::JSON_BODY_LIMIT;

/// How long a peer may stay silent before the server pings it (and how long after an
/// unanswered ping it is closed): a dashboard behind a proxy that drops idle connections
/// keeps its socket, and a vanished one frees its subscriptions.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// How often a legacy (`graphql-ws`) client hears `ka`, whatever else it hears.
const LEGACY_KEEP_ALIVE: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    payload: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribePayload {
    query: String,
    operation_name: Option<String>,
    variables: Option<serde_json::Value>,
    extensions: Option<HashMap<String, Value>>,
}

/// What a subscription task tells the connection.
enum Outgoing {
    Message(serde_json::Value),
    /// The operation `id` ended on its own (completed, or failed with `error`).
    Finished(String),
}

/// Why the server closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    InvalidMessage,
    Unauthorized,
    Forbidden,
    InitTimeout,
    TooManyInits,
    DuplicateId,
}

impl Closing {
    fn code(self) -> u16 {
        match self {
            Closing::InvalidMessage => 4400,
            Closing::Unauthorized => 4401,
            Closing::Forbidden => 4403,
            Closing::InitTimeout => 4408,
            Closing::DuplicateId => 4409,
            Closing::TooManyInits => 4429,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Closing::InvalidMessage => "Invalid message received",
            Closing::Unauthorized => "Unauthorized",
            Closing::Forbidden => "Forbidden",
            Closing::InitTimeout => "Connection initialisation timeout",
            Closing::DuplicateId => "Subscriber already exists",
            Closing::TooManyInits => "Too many initialisation requests",
        }
    }
}

/// Serves one connection until either side closes it.
/// `session`: the web session's secret, when a page of this site opened the socket; it
/// signs the socket in when `connection_init` carries no token.
pub async fn serve(
    socket: WebSocketStream,
    schemas: Schemas,
    state: AppState,
    session: Option<String>,
    dialect: Dialect,
) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Outgoing>(64);
    let mut running: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut auth: Option<Auth> = None;
    let init_deadline = tokio::time::sleep(state.http.ws_init_timeout);
    tokio::pin!(init_deadline);
    let mut awaiting_pong = false;
    // The legacy protocol's clients (Apollo's subscriptions-transport-ws) close a socket that
    // sends no `ka` within their own timeout, whatever else it sends: a fixed beat for them.
    let mut legacy_beat = tokio::time::interval(LEGACY_KEEP_ALIVE);
    legacy_beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closing = loop {
        let keep_alive = tokio::time::sleep(KEEP_ALIVE);
        tokio::select! {
            () = &mut init_deadline, if auth.is_none() => break Some(Closing::InitTimeout),
            _ = legacy_beat.tick(), if dialect == Dialect::Legacy && auth.is_some() => {
                let ka = serde_json::json!({ "type": "ka" });
                if sink.send(Message::text(ka.to_string())).await.is_err() {
                    break None;
                }
            }
            () = keep_alive => {
                if awaiting_pong {
                    break None;
                }
                awaiting_pong = true;
                let ping = serde_json::json!({ "type": dialect.outgoing("ping") });
                if sink.send(Message::text(ping.to_string())).await.is_err() {
                    break None;
                }
                // A legacy client does not answer `ka`: its WebSocket answers this.
                if dialect == Dialect::Legacy && sink.send(Message::Ping(Vec::new())).await.is_err() {
                    break None;
                }
            }
            outgoing = rx.recv() => match outgoing {
                Some(Outgoing::Message(message)) => {
                    if sink.send(Message::text(message.to_string())).await.is_err() {
                        break None;
                    }
                }
                Some(Outgoing::Finished(id)) => {
                    running.remove(&id);
                }
                None => break None,
            },
            incoming = stream.next() => {
                awaiting_pong = false;
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => break Some(Closing::InvalidMessage),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                };
                let Ok(message) = serde_json::from_str::<Incoming>(&text) else {
                    break Some(Closing::InvalidMessage);
                };
                match dialect.incoming(message.kind.as_str()) {
                    "connection_init" => {
                        if auth.is_some() {
                            break Some(Closing::TooManyInits);
                        }
                        let token = message.payload.as_ref().and_then(|p| {
                            p.get("Authorization")
                                .or_else(|| p.get("authorization"))
                                .and_then(|v| v.as_str())
                                .map(str::to_string)
                        });
                        let resolved = match (token, &session) {
                            (None, Some(secret)) => signed_in(&state, secret).await,
                            (token, _) => Auth::resolve(&state, token.as_deref()).await,
                        };
                        // A token that was presented and refused ends the connection; no
                        // token at all is an anonymous reader, refused field by field.
                        if let Some(refused) = &resolved.refused {
                            if dialect == Dialect::Legacy {
                                let error = serde_json::json!({
                                    "type": "connection_error",
                                    "payload": { "message": refused },
                                });
                                let _ = sink.send(Message::text(error.to_string())).await;
                            }
                            break Some(Closing::Forbidden);
                        }
                        auth = Some(resolved);
                        let ack = serde_json::json!({ "type": "connection_ack" });
                        if sink.send(Message::text(ack.to_string())).await.is_err() {
                            break None;
                        }
                        // A legacy client hears its first `ka` at once: the beat's first
                        // tick, waiting since the socket opened, fires on the next turn.
                    }
                    "ping" => {
                        let mut pong = serde_json::json!({ "type": "pong" });
                        if let Some(payload) = message.payload {
                            pong["payload"] = payload;
                        }
                        if sink.send(Message::text(pong.to_string())).await.is_err() {
                            break None;
                        }
                    }
                    "pong" => {}
                    "subscribe" => {
                        let Some(auth) = auth.clone() else {
                            break Some(Closing::Unauthorized);
                        };
                        let (Some(id), Some(payload)) = (
                            message.id.filter(|id| !id.is_empty()),
                            message
                                .payload
                                .and_then(|p| serde_json::from_value::<SubscribePayload>(p).ok()),
                        ) else {
                            break Some(Closing::InvalidMessage);
                        };
                        if running.get(&id).is_some_and(|task| !task.is_finished()) {
                            break Some(Closing::DuplicateId);
                        }
                        let task = tokio::spawn(run_operation(
                            id.clone(),
                            payload,
                            auth,
                            (schemas.clone(), state.clone()),
                            tx.clone(),
                            dialect,
                        ));
                        running.insert(id, task);
                    }
                    "complete" => {
                        let Some(id) = message.id else {
                            break Some(Closing::InvalidMessage);
                        };
                        if let Some(task) = running.remove(&id) {
                            task.abort();
                        }
                    }
                    "terminate" => break None,
                    _ => break Some(Closing::InvalidMessage),
                }
            }
        }
    };
    for (_, task) in running.drain() {
        task.abort();
    }
    if let Some(closing) = closing {
        tracing::debug!(code = closing.code(), "closing a GraphQL WebSocket");
        let _ = sink
            .send(Message::close_with(
                CloseCode::from(closing.code()),
                closing.reason(),
            ))
            .await;
    }
    let _ = sink.close().await;
}

/// Runs one operation (a subscription, or a query or mutation sent this way) and reports
/// each result as `next`, a request error as `error`, and the end as `complete`.
async fn run_operation(
    id: String,
    payload: SubscribePayload,
    auth: Auth,
    (schemas, state): (Schemas, AppState),
    tx: mpsc::Sender<Outgoing>,
    dialect: Dialect,
) {
    let send = async |message: serde_json::Value| tx.send(Outgoing::Message(message)).await.is_ok();
    // Read again only if a field fails, to place its null (`graphql::nulls`).
    let text_sent = payload.query.clone();
    let operation_name = payload.operation_name.clone();
    let mut request = async_graphql::Request::new(payload.query);
    if let Some(name) = payload.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = payload.variables {
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    if let Some(extensions) = payload.extensions {
        request.extensions = async_graphql::Extensions(extensions);
    }
    // `Finished` goes first each time: the id is free before the client hears the end, so
    // it may reuse the id at once.
    let admitted = crate::graphql::guard::admit(&mut request, state.caches).and_then(|_| {
        let variables = std::mem::take(&mut request.variables);
        let costed = request.parsed_query().and_then(|document| {
            crate::graphql::cost::check(
                document,
                operation_name.as_deref(),
                &variables,
                &schemas.field_types,
            )
        });
        request.variables = variables;
        costed
    });
    if let Err(error) = admitted {
        let errors = serde_json::to_value(vec![error]).unwrap_or_default();
        let _ = tx.send(Outgoing::Finished(id.clone())).await;
        send(serde_json::json!({ "id": id, "type": "error", "payload": errors })).await;
        return;
    }
    if auth.actor.is_none() && !state.http.public_schema {
        request = request.disable_introspection();
    }
    let request = crate::graphql::prepare(request, &state, auth);
    let mut responses = std::pin::pin!(schemas.main.execute_stream(request));
    let mut first = true;
    while let Some(mut response) = responses.next().await {
        super::graphql::finish_answer(
            &mut response,
            &schemas,
            &text_sent,
            operation_name.as_deref(),
        );
        // A first answer with errors and no data never executed: the protocol's `error`,
        // which also ends the operation (no `complete` follows).
        if first && super::graphql::is_request_error(&response) {
            let errors = serde_json::to_value(&response.errors).unwrap_or_default();
            let _ = tx.send(Outgoing::Finished(id.clone())).await;
            send(serde_json::json!({ "id": id, "type": "error", "payload": errors })).await;
            return;
        }
        first = false;
        let Ok(payload) = serde_json::to_value(&response) else {
            continue;
        };
        if !send(
            serde_json::json!({ "id": id, "type": dialect.outgoing("next"), "payload": payload }),
        )
        .await
        {
            return;
        }
    }
    let _ = tx.send(Outgoing::Finished(id.clone())).await;
    send(serde_json::json!({ "id": id, "type": "complete" })).await;
}

/// The reader of a web session, or a refusal when it has ended.
async fn signed_in(state: &AppState, secret: &str) -> Auth {
    let policy = crate::auth::session::SessionPolicy {
        idle: state.http.session_idle,
        lifetime: state.http.session_lifetime,
    };
    match crate::auth::session::actor_for_session(&state.db, secret, state.clock.now(), policy)
        .await
    {
        Ok(Some(actor)) => Auth::of_session(actor, secret),
        Ok(None) => Auth {
            refused: Some("登录已失效，请重新登录".into()),
            ..Auth::default()
        },
        Err(error) => {
            tracing::error!(?error, "reading a session for a socket");
            Auth {
                refused: Some("内部错误，请稍后重试".into()),
                ..Auth::default()
            }
        }
    }
}
