//! Subscriptions reach clients connected to any instance: two servers share one PostgreSQL
//! database; a change made through one is pushed to a dashboard connected to the other.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::district::{District, assigned_item};
use crate::helpers::{TestApp, shanghai, two_instances_on_postgres};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn subscribe(app: &TestApp, token: &str, query: &str) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.address)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("init");
    let ack = next_json(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let start = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket
        .send(Message::Text(start.to_string().into()))
        .await
        .expect("subscribe");
    socket
}

pub async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("message");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("json");
        }
    }
}

/// The next `next` payload's event that satisfies `wanted`.
async fn next_event(socket: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Value {
    loop {
        let message = next_json(socket).await;
        if message["type"] == "error" {
            panic!("subscription error: {message}");
        }
        let event = &message["payload"]["data"]["dashboardEvents"];
        if wanted(event) {
            return event.clone();
        }
    }
}

#[tokio::test]
async fn a_dashboard_on_one_instance_hears_changes_made_through_another() {
    let (a, b) = two_instances_on_postgres().await;
    let d = District::create(&a).await;
    const EVENTS: &str = "subscription { dashboardEvents { kind action toStage itemId serial colour previousColour reason } }";
    let mut dashboard = subscribe(&b, &d.leader, EVENTS).await;

    let assigned = assigned_item(&a, &d, "汛期地下空间安全检查").await;
    let item_id = assigned["id"].clone();
    let event = next_event(&mut dashboard, |e| e["action"] == "ASSIGN").await;
    assert_eq!(event["kind"], "LIFECYCLE");
    assert_eq!(event["toStage"], "ASSIGNED");
    assert_eq!(event["itemId"], item_id);
    assert_eq!(
        event["serial"], assigned["serial"],
        "lifecycle events name the item"
    );

    // Instance B's clock reaches 09-30, when the co-unit's due (10-08) is the next working
    // day: the item turns BLUE and the dashboard is told.
    b.clock.set(shanghai(2026, 9, 30, 9, 0));
    let change = next_event(&mut dashboard, |e| e["kind"] == "COLOUR_CHANGE").await;
    assert_eq!(change["colour"], "BLUE");
    assert_eq!(change["previousColour"], "NONE");
    assert_eq!(change["serial"], assigned["serial"]);

    // Units may not open the office's dashboard.
    let mut refused = subscribe(&b, &d.housing_head, EVENTS).await;
    let error = next_json(&mut refused).await;
    assert_eq!(
        error["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{error}"
    );
}
