use crate::helpers::{Backend, spawn_app_on};

async fn healthz_reports_ok(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], true);
    assert_eq!(body["calendarVersion"].as_str().map(str::len), Some(16));
    assert_eq!(body["writes"], true, "a write was tried and committed");
}

/// Issue 30, item 10: mail waiting more than an hour makes the instance say degraded (it
/// still answers, so it stays in service).
async fn healthz_says_degraded_when_mail_waits_over_an_hour(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = crate::district::District::create(&app).await;
    crate::district::assigned_item(&app, &d, "背街小巷整治").await;
    let health = |app: &crate::helpers::TestApp| {
        let request = app.client.get(app.url("/healthz")).send();
        async move {
            let response = request.await.expect("sent");
            let status = response.status();
            (
                status,
                response.json::<serde_json::Value>().await.expect("json"),
            )
        }
    };
    let (status, fresh) = health(&app).await;
    assert_eq!(status, 200);
    assert!(
        fresh["outbox"]["pending"].as_u64().unwrap_or(0) > 0,
        "{fresh}"
    );
    assert_eq!(fresh["status"], "ok", "{fresh}");
    app.clock
        .set(app.clock.now() + chrono::Duration::minutes(61));
    let (status, stuck) = health(&app).await;
    assert_eq!(status, 200, "still in service");
    assert_eq!(stuck["status"], "degraded", "{stuck}");
    assert_eq!(stuck["mailStuck"], true);
}

on_both_backends!(
    healthz_reports_ok,
    healthz_says_degraded_when_mail_waits_over_an_hour
);

#[tokio::test]
async fn graphiql_is_served_in_the_browser_from_the_binary() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = response.text().await.expect("text");
    assert!(
        !html.contains("unpkg") && !html.contains("https://"),
        "nothing from a CDN: {html}"
    );
    // Every script and stylesheet the page names is served here.
    let mut served = 0;
    for part in html.split(['"', '\'']) {
        if part.starts_with("/assets/") {
            let asset = app.client.get(app.url(part)).send().await.expect("sent");
            assert_eq!(asset.status(), 200, "{part}");
            let kind = asset
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            assert!(
                kind.starts_with("text/javascript") || kind.starts_with("text/css"),
                "{part}: {kind}"
            );
            assert!(asset.bytes().await.expect("bytes").len() > 50, "{part}");
            served += 1;
        }
    }
    assert_eq!(
        served, 6,
        "React, ReactDOM, GraphiQL's script and style, and the page's own"
    );
    let page_script = app.get_text("/assets/graphiql-page.js").await;
    assert!(
        page_script.contains("subscriptionUrl"),
        "subscriptions are set up"
    );
    assert!(
        page_script.contains("Authorization"),
        "the header editor hints the token"
    );
}

#[tokio::test]
async fn queries_nested_too_deep_are_refused() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let deep = "{ items(first: 1) { edges { node { assignments { unit { portfolioLeader { unit { portfolioLeader { unit { portfolioLeader { unit { portfolioLeader { name } } } } } } } } } } } } }";
    let body = app
        .graphql_as(Some(&app.admin_token), deep, serde_json::json!({}))
        .await;
    assert_eq!(
        crate::helpers::error_code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep")
    );
}

/// sqlx 0.9.0 left Nagle's algorithm on; with it a statement longer than one TCP segment
/// waits 40 ms for the server's delayed ACK (every multi-row insert of a sweep did). 0.9.1
/// sets TCP_NODELAY again, and ducha's own workaround (a scan of the process's sockets) is
/// gone: this holds every pooled connection to it, so a release that loses it again fails
/// here. The database names the client port of the connection that asks, and that socket of
/// this process is looked at.
#[tokio::test]
async fn postgres_connections_do_not_wait_for_delayed_acks() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app_on(Backend::Postgres).await;
    let backend = app.state.db.get_database_backend();
    // Several at once, so the pool opens more than the one connection migrations used.
    let ports = futures_util::future::join_all((0..4).map(|_| {
        app.state.db.query_one_raw(Statement::from_string(
            backend,
            "SELECT inet_client_port() AS port, pg_sleep(0.05)::text AS slept",
        ))
    }))
    .await;
    let mut seen = 0;
    for row in ports {
        let port: i32 = row
            .expect("queried")
            .expect("a row")
            .try_get("", "port")
            .expect("a TCP client port");
        let port = u16::try_from(port).expect("a port");
        let nodelay = nodelay_of_local_port(port).expect("sockets read");
        assert_eq!(nodelay, Some(true), "connection from port {port}");
        seen += 1;
    }
    assert_eq!(seen, 4);
}

/// Is Nagle's algorithm off on the socket whose local port is `local_port`? `None` when
/// this process has no such TCP socket. With `SELECT inet_client_port()` it tells whether
/// a given database connection may wait for delayed ACKs.
fn nodelay_of_local_port(local_port: u16) -> std::io::Result<Option<bool>> {
    tcp_sockets(|local, _| local.port() == local_port)?
        .first()
        .map(TcpSocket::nodelay)
        .transpose()
}

/// One of this process's connected TCP sockets, through a descriptor of our own.
struct TcpSocket {
    fd: std::os::fd::OwnedFd,
}

impl TcpSocket {
    fn nodelay(&self) -> std::io::Result<bool> {
        Ok(rustix::net::sockopt::tcp_nodelay(&self.fd)?)
    }
}

/// The process's connected TCP sockets whose (local, peer) addresses `wanted` accepts, each
/// duplicated with `pidfd_getfd` (the pidfd of our own process), so their options can be
/// read and set in safe code. Only the wanted ones are kept open: a busy server has
/// thousands of client sockets, and holding a duplicate of each could exhaust descriptors.
fn tcp_sockets(
    wanted: impl Fn(&std::net::SocketAddr, &std::net::SocketAddr) -> bool,
) -> std::io::Result<Vec<TcpSocket>> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
    let pidfd = pidfd_open(getpid(), PidfdFlags::empty())?;
    let address = |a: Option<rustix::net::SocketAddrAny>| {
        a.and_then(|a| std::net::SocketAddr::try_from(a).ok())
    };
    let mut sockets = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")?.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|target| {
            target
                .as_os_str()
                .as_encoded_bytes()
                .starts_with(b"socket:")
        });
        if !is_socket {
            continue;
        }
        // Closed since the listing: nothing to do.
        let Ok(fd) = pidfd_getfd(&pidfd, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let stream = rustix::net::sockopt::socket_type(&fd)
            .is_ok_and(|kind| kind == rustix::net::SocketType::STREAM);
        if !stream {
            continue;
        }
        let local = address(rustix::net::getsockname(&fd).ok());
        let peer = address(rustix::net::getpeername(&fd).ok().flatten());
        if let (Some(local), Some(peer)) = (local, peer)
            && wanted(&local, &peer)
        {
            sockets.push(TcpSocket { fd });
        }
    }
    Ok(sockets)
}
