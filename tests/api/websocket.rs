//! The graphql-transport-ws protocol's close codes and messages (issue 12, point 3).

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::{TestApp, settings_for, spawn_with};
use crate::live::{Socket, next_json};

async fn app() -> TestApp {
    let mut settings = settings_for(crate::helpers::Backend::Sqlite).await;
    settings.http.ws_init_timeout = std::time::Duration::from_millis(300);
    spawn_with(settings).await
}

async fn connect(app: &TestApp) -> Socket {
    connect_offering(app, "graphql-transport-ws", "graphql-transport-ws").await
}

/// A socket offering the subprotocols `offered`, holding the server to choosing `chosen`.
async fn connect_offering(app: &TestApp, offered: &str, chosen: &str) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.address)
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", offered.parse().expect("header"));
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(chosen),
        "offered {offered}"
    );
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("sent");
}

async fn init(socket: &mut Socket, token: &str) {
    send(
        socket,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert_eq!(next_json(socket).await["type"], "connection_ack");
}

/// The close frame that ends the connection: its code and reason.
async fn closed(socket: &mut Socket) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("closed within 5 s");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                panic!("closed without a code")
            }
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_silent_socket_is_closed_with_4408() {
    let app = app().await;
    let mut socket = connect(&app).await;
    let (code, reason) = closed(&mut socket).await;
    assert_eq!(code, 4408, "{reason}");
}

#[tokio::test]
async fn subscribing_before_the_ack_is_4401_and_garbage_is_4400() {
    let app = app().await;
    let mut socket = connect(&app).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(closed(&mut socket).await.0, 4401);

    for garbage in [
        Message::Text("not json".into()),
        Message::Text(json!({ "type": "nonsense" }).to_string().into()),
        Message::Binary(vec![1, 2, 3].into()),
    ] {
        let mut socket = connect(&app).await;
        init(&mut socket, &app.admin_token).await;
        socket.send(garbage).await.expect("sent");
        let (code, reason) = closed(&mut socket).await;
        assert_eq!(code, 4400, "{reason}");
        assert!(reason.len() <= 123, "RFC 6455 allows 123 bytes: {reason}");
    }
}

#[tokio::test]
async fn a_refused_token_is_4403_and_a_second_init_is_4429() {
    let app = app().await;
    let mut socket = connect(&app).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer dch_nonsense" } }),
    )
    .await;
    assert_eq!(closed(&mut socket).await.0, 4403);

    let mut socket = connect(&app).await;
    init(&mut socket, &app.admin_token).await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(closed(&mut socket).await.0, 4429);
}

#[tokio::test]
async fn an_id_in_use_is_4409() {
    let app = app().await;
    let mut socket = connect(&app).await;
    init(&mut socket, &app.admin_token).await;
    let subscribe = json!({ "id": "dash", "type": "subscribe", "payload": { "query": "subscription { dashboardEvents { kind } }" } });
    send(&mut socket, subscribe.clone()).await;
    send(&mut socket, subscribe).await;
    assert_eq!(closed(&mut socket).await.0, 4409);
}

#[tokio::test]
async fn operations_answer_next_complete_error_and_pong() {
    let app = app().await;
    let mut socket = connect(&app).await;
    init(&mut socket, &app.admin_token).await;
    send(
        &mut socket,
        json!({ "type": "ping", "payload": { "n": 1 } }),
    )
    .await;
    let pong = next_json(&mut socket).await;
    assert_eq!(
        (pong["type"].as_str(), &pong["payload"]["n"]),
        (Some("pong"), &json!(1))
    );

    send(
        &mut socket,
        json!({ "id": "q", "type": "subscribe", "payload": { "query": "query { me { name } }" } }),
    )
    .await;
    let next = next_json(&mut socket).await;
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["id"], "q");
    assert!(next["payload"]["data"]["me"]["name"].is_string(), "{next}");
    let complete = next_json(&mut socket).await;
    assert_eq!(
        (complete["type"].as_str(), complete["id"].as_str()),
        (Some("complete"), Some("q"))
    );

    // Invalid operations are `error` messages whose errors carry a code.
    for (query, code) in [
        ("subscription { noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
        ("subscription {", "GRAPHQL_PARSE_FAILED"),
    ] {
        send(
            &mut socket,
            json!({ "id": "bad", "type": "subscribe", "payload": { "query": query } }),
        )
        .await;
        let error = next_json(&mut socket).await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["id"], "bad");
        assert_eq!(error["payload"][0]["extensions"]["code"], code, "{error}");
    }
    // The id is free again once its operation ended.
    send(
        &mut socket,
        json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "next");
    socket
        .send(Message::Close(Some(
            tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            },
        )))
        .await
        .ok();
}

/// A client of the legacy `graphql-ws` subprotocol (subscriptions-transport-ws: Python gql's
/// default transport, older Apollo clients), answered in its own words with the same
/// authentication as the current one; the first subprotocol the client offers is chosen.
async fn connect_legacy(app: &TestApp, offered: &str) -> Socket {
    connect_offering(app, offered, "graphql-ws").await
}

#[tokio::test]
async fn the_legacy_graphql_ws_subprotocol_is_spoken_too() {
    let app = app().await;
    let mut socket = connect_legacy(&app, "graphql-ws").await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", app.admin_token) } }),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    assert_eq!(next_json(&mut socket).await["type"], "ka");
    send(
        &mut socket,
        json!({ "type": "start", "id": "1", "payload": { "query": "{ me { name } }" } }),
    )
    .await;
    let data = next_json(&mut socket).await;
    assert_eq!(data["type"], "data", "{data}");
    assert_eq!(data["id"], "1");
    assert!(data["payload"]["data"]["me"]["name"].is_string(), "{data}");
    let complete = next_json(&mut socket).await;
    assert_eq!(
        (complete["type"].as_str(), complete["id"].as_str()),
        (Some("complete"), Some("1"))
    );
    // A subscription runs until `stop`; `connection_terminate` ends the connection.
    send(
        &mut socket,
        json!({ "type": "start", "id": "2", "payload": { "query": "subscription { dashboardEvents { __typename } }" } }),
    )
    .await;
    send(&mut socket, json!({ "type": "stop", "id": "2" })).await;
    send(&mut socket, json!({ "type": "connection_terminate" })).await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(_) = message {
                return true;
            }
        }
        true
    })
    .await
    .expect("ends within 5 s");
    assert!(ended);

    // A refused token: `connection_error`, then the close.
    let mut socket = connect_legacy(&app, "graphql-ws, graphql-transport-ws").await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer dch_nope" } }),
    )
    .await;
    let refused = next_json(&mut socket).await;
    assert_eq!(refused["type"], "connection_error", "{refused}");
    assert!(refused["payload"]["message"].is_string());
    let (code, _) = closed(&mut socket).await;
    assert_eq!(code, 4403);
}
