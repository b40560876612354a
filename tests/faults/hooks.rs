//! A webhook receiver on loopback for the fault tests: it accepts every delivery (after a
//! delay the test sets, so that kills fall between acceptance and mark) and records each
//! `webhook-id` with the moment it was accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::web::Data;
use poem::{EndpointExt, Response, Route, handler, post};

#[derive(Default)]
pub struct Hooks {
    accepted: Mutex<Vec<(String, Instant)>>,
    delay_ms: AtomicU64,
}

impl Hooks {
    pub fn delay(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn accepted(&self) -> Vec<(String, Instant)> {
        self.accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[handler]
async fn receive(request: &poem::Request, Data(hooks): Data<&Arc<Hooks>>) -> Response {
    let delay = hooks.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let id = request
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    hooks
        .accepted
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, Instant::now()));
    Response::builder()
        .status(poem::http::StatusCode::NO_CONTENT)
        .finish()
}

/// Starts the receiver; returns its URL.
pub async fn start() -> (String, Arc<Hooks>) {
    let hooks = Arc::new(Hooks::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind hooks");
    let address = listener.local_addr().expect("address");
    let app = Route::new()
        .at("/hooks", post(receive))
        .data(Arc::clone(&hooks));
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).expect("acceptor");
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    (format!("http://{address}/hooks"), hooks)
}
