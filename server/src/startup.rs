//! Building and running the service: the database, the listener, the background jobs,
//! the routes of `http`, and graceful shutdown. `main` and the black-box tests share this code.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpListener};
use sea_orm::DbBackend;

use crate::clock::Clock;
use crate::config::Settings;
use crate::service::org::{FirstAdmin, ensure_first_admin};
use crate::state::AppState;

/// How often an idle sender looks for mail written by other instances or coming due after
/// a backoff; mail written by this process wakes it at once.
const OUTBOX_POLL: Duration = Duration::from_secs(2);

/// A bound, migrated, ready-to-run service.
pub struct Application {
    address: SocketAddr,
    state: AppState,
    acceptor: poem::listener::TcpAcceptor,
    first_admin: Option<FirstAdmin>,
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
        let first_admin = ensure_first_admin(&state.db, state.clock.now())
            .await
            .map_err(|e| anyhow::anyhow!("creating the first administrator: {e:?}"))?;
        // No due may rest on a calendar this binary supersedes (a new year's holidays, an
        // upgrade's bundled notices): recalculated before the first request.
        crate::service::calendar::settle_on_start(
            &state.db,
            &state.calendar,
            &state.changes,
            &state.deadline_policy,
            state.clock.now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("settling the calendar in force: {e:?}"))?;
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
            first_admin,
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
        self.first_admin.as_ref().map(|a| a.token.as_str())
    }

    /// How the first administrator gets in, when this start created them.
    pub fn first_admin(&self) -> Option<&FirstAdmin> {
        self.first_admin.as_ref()
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
        let events = tokio::spawn(crate::service::watch::live::run(
            self.state.live_tail(),
            Duration::from_millis(500),
            self.state.colour_refresh,
        ));
        // On PostgreSQL other instances write too: the kept items are used only while
        // their changes are heard (with `caches = off` nothing is kept to hear them for).
        let item_changes = (self.state.db.get_database_backend() == DbBackend::Postgres
            && self.state.caches.on())
        .then(|| {
            tokio::spawn(crate::service::store::item_cache::follow_changes(
                self.state.changes.clone(),
                self.state.db.clone(),
            ))
        });
        let sender = self.state.background_jobs.then(|| {
            let state = self.state.clone();
            tokio::spawn(async move {
                crate::service::notices::outbox::run_sender(
                    state.sender(),
                    &state.notices.wake,
                    OUTBOX_POLL,
                )
                .await
            })
        });
        let app = crate::http::routes(self.state);
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(10)))
            .await;
        events.abort();
        if let Some(item_changes) = item_changes {
            item_changes.abort();
        }
        if let Some(sender) = sender {
            sender.abort();
        }
        if let Some(mut scheduler) = scheduler {
            let _ = scheduler.shutdown().await;
        }
        served
    }
}
