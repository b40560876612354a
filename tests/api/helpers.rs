//! `spawn_app()`: the real service on a free loopback port, with a fresh migrated database
//! per test — a private in-memory SQLite, or a new PostgreSQL database.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use ducha_server::clock::Clock;
use ducha_server::config::Settings;
use ducha_server::startup::Application;
use ducha_server::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub struct TestApp {
    pub address: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    /// Token of the administrator created on first start.
    pub admin_token: String,
    pub clock: Clock,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    /// The PostgreSQL test database this instance uses, dropped with its last user.
    _database: Option<DatabaseLease>,
}

/// How many live test instances use each PostgreSQL test database: the last one to go
/// drops it, so a run leaves no databases behind (two instances may share one).
static DATABASE_USERS: std::sync::Mutex<Vec<(String, usize)>> = std::sync::Mutex::new(Vec::new());

struct DatabaseLease {
    name: String,
}

impl DatabaseLease {
    fn take(url: &str) -> Option<DatabaseLease> {
        let name = url.rsplit_once('/')?.1.to_string();
        if !name.starts_with("ducha_test_") {
            return None;
        }
        let mut users = DATABASE_USERS.lock().unwrap_or_else(|e| e.into_inner());
        match users.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => users.push((name.clone(), 1)),
        }
        Some(DatabaseLease { name })
    }
}

impl Drop for DatabaseLease {
    fn drop(&mut self) {
        let last = {
            let mut users = DATABASE_USERS.lock().unwrap_or_else(|e| e.into_inner());
            let Some(index) = users.iter().position(|(n, _)| *n == self.name) else {
                return;
            };
            users[index].1 -= 1;
            if users[index].1 > 0 {
                return;
            }
            users.remove(index);
            true
        };
        if !last {
            return;
        }
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its
        // own, with a runtime of its own, drops the database (closing what still uses it).
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let admin = Database::connect(&postgres_admin_url()).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// SQLite in a file, as the service runs by default (WAL, a pool of connections): the
    /// backend for tests of concurrent writers, which an in-memory database cannot show.
    SqliteFile,
}

/// A client for the tests: the TLS provider installed first (`channels::install_crypto`;
/// cargo builds one reqwest for the whole workspace, without a provider of its own).
pub fn http_client() -> reqwest::Client {
    http_builder().build().expect("an HTTP client")
}

pub fn http_builder() -> reqwest::ClientBuilder {
    ducha_server::channels::install_crypto();
    reqwest::Client::builder()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Sqlite).await
}

pub async fn spawn_app_on(backend: Backend) -> TestApp {
    spawn_with(settings_for(backend).await).await
}

/// A fresh instance on `backend` with the demo district loaded, and the demo's tokens.
pub async fn spawn_demo_on(backend: Backend) -> (TestApp, ducha_server::demo::DemoTokens) {
    let app = spawn_app_on(backend).await;
    let tokens = ducha_server::demo::load(&app.state)
        .await
        .expect("demo loads")
        .expect("empty database");
    (app, tokens)
}

/// [`spawn_demo_on`] with the in-memory copies kept whatever `DUCHA_CACHES` says: for the
/// tests of the copies themselves (CI runs every other test once with them off).
pub async fn spawn_kept_demo_on(backend: Backend) -> (TestApp, ducha_server::demo::DemoTokens) {
    let app = spawn_kept_on(backend).await;
    let tokens = ducha_server::demo::load(&app.state)
        .await
        .expect("demo loads")
        .expect("empty database");
    (app, tokens)
}

/// [`spawn_app_on`] with the in-memory copies kept whatever `DUCHA_CACHES` says.
pub async fn spawn_kept_on(backend: Backend) -> TestApp {
    let mut settings = settings_for(backend).await;
    settings.caches = ducha_server::changes::Caches::On;
    spawn_with(settings).await
}

/// Two instances sharing one fresh PostgreSQL database, as production runs them.
pub async fn two_instances_on_postgres() -> (TestApp, TestApp) {
    let settings = settings_for(Backend::Postgres).await;
    let a = spawn_with(settings.clone()).await;
    let b = spawn_with(settings).await;
    (a, b)
}

/// Test settings with a fresh database on `backend`, and a data folder of the test's own.
pub async fn settings_for(backend: Backend) -> Settings {
    let mut settings = Settings::for_tests();
    settings.data_dir =
        std::env::temp_dir().join(format!("ducha-test-{}", uuid::Uuid::new_v4().simple()));
    match backend {
        Backend::Postgres => settings.database_url = fresh_postgres_database().await,
        Backend::SqliteFile => {
            settings.database_url = format!(
                "sqlite://{}?mode=rwc",
                settings.data_dir.join("ducha.db").display()
            )
        }
        Backend::Sqlite => {}
    }
    settings
}

/// An instant in Asia/Shanghai.
pub fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid Shanghai time")
        .with_timezone(&Utc)
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    // Tests start on the eve of National Day 2026 unless they move the clock.
    let clock = Clock::manual(shanghai(2026, 9, 29, 9, 0));
    let app = Application::build_with_clock(&settings, clock.clone())
        .await
        .expect("application builds");
    let address = app.address();
    let state = app.state().clone();
    let database = DatabaseLease::take(&settings.database_url);
    let admin_token = app.first_admin_token().unwrap_or_default().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        address,
        state,
        client: crate::helpers::http_client(),
        admin_token,
        clock,
        _shutdown: tx,
        _database: database,
    }
}

/// The server PostgreSQL tests create their databases on (trust auth on loopback here;
/// `.ci/run` makes sure it is running).
pub fn postgres_admin_url() -> String {
    std::env::var("DUCHA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

async fn fresh_postgres_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let admin_url = postgres_admin_url();
    let name = format!(
        "ducha_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4().simple()
    );
    let admin = Database::connect(&admin_url)
        .await
        .expect("PostgreSQL is reachable (is it running on 127.0.0.1:5432?)");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    match admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("admin URL has no database part: {admin_url}"),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// GETs `path` and returns the body as text (`/metrics`, an asset).
    pub async fn get_text(&self, path: &str) -> String {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("text")
    }

    /// POSTs a GraphQL request over HTTP and returns the JSON body; asserts HTTP 200,
    /// since GraphQL errors travel in the body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(None, query, variables).await
    }

    /// As [`TestApp::graphql`], as the first administrator (the calendar queries, for
    /// one, are not open to anonymous readers unless a setting says so).
    pub async fn graphql_signed_in(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(Some(&self.admin_token), query, variables)
            .await
    }

    /// As [`TestApp::graphql`], with `Authorization: Bearer <token>`.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self.client.post(self.url("/graphql"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        assert_eq!(
            response.status(),
            200,
            "GraphQL answers 200 even for errors"
        );
        response.json().await.expect("JSON body")
    }
}

/// The row number behind an object's global `id` (base64 of `Item:61`), as the database
/// and the `/items/N` links know it.
pub fn row_id(id: &Value) -> i64 {
    use base64::Engine as _;
    let text = id
        .as_str()
        .unwrap_or_else(|| panic!("a global id, got {id}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|_| panic!("not base64: {text}"));
    let plain = String::from_utf8(bytes).expect("utf-8");
    plain
        .split_once(':')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("not Kind:N: {plain}"))
}

/// The `extensions.code` of the first error, or a panic naming the whole body.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code, got {body}"))
}

/// A module per scenario with a `sqlite` and a `postgres` test, each running
/// `scenario(backend)`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    super::$scenario(crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$scenario(crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}
