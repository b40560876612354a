//! The application's state: what every request handler, job and command shares. Built by
//! [`AppState::connect`]; the services below it never see it whole, only the parts they
//! use (see docs/architecture.md).

use std::sync::Arc;
use std::time::Duration;

use ducha_calendar::DeadlinePolicy;
use sea_orm::DatabaseConnection;

use crate::calendar_store::CalendarStore;
use crate::changes::{Caches, ChangeFeed};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db;
use crate::error::AppResult;
use crate::service::notices::outbox::Sender;
use crate::service::reports::Publisher;
use crate::service::watch::board::BoardSources;
use crate::service::watch::colours::RuleSet;
use crate::service::watch::live::LiveTail;
use crate::service::watch::sweep::Sweeper;

/// The instance's in-memory copies of what the database holds, each subscribed to the one
/// feed that tells it of changes (`changes`; docs/architecture.md lists them).
pub struct KeptCopies {
    pub board: crate::service::watch::board::BoardCache,
    pub policies: crate::service::watch::colours::PolicyCache,
    pub directory: crate::directory::Directory,
    pub item_cache: crate::service::store::item_cache::ItemCache,
    pub changes: ChangeFeed,
}

impl KeptCopies {
    /// Every copy, subscribed. `items_trusted`: whether kept items may be served before
    /// anything is heard (SQLite: one writer process; PostgreSQL waits for its listener).
    pub fn new(caches: Caches, items_trusted: bool) -> KeptCopies {
        let changes = ChangeFeed::default();
        let board = crate::service::watch::board::BoardCache::new(caches);
        let item_cache = crate::service::store::item_cache::ItemCache::new(items_trusted, caches);
        let policies = crate::service::watch::colours::PolicyCache::new(caches);
        let directory = crate::directory::Directory::new(caches);
        changes.subscribe(Arc::new(board.clone()));
        changes.subscribe(Arc::new(item_cache.clone()));
        changes.subscribe(Arc::new(policies.clone()));
        changes.subscribe(Arc::new(directory.clone()));
        KeptCopies {
            board,
            policies,
            directory,
            item_cache,
            changes,
        }
    }
}

/// What every request handler, job and command may use. Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The parts of the state, built once at start.
#[derive(Clone)]
pub struct Inner {
    pub db: DatabaseConnection,
    pub calendar: CalendarStore,
    pub deadline_policy: DeadlinePolicy,
    pub clock: Clock,
    /// Where attachments (and unsent mail) are stored.
    pub data_dir: std::path::PathBuf,
    /// Where mail links point, the time zone mails speak in, and the sender's wake-up.
    pub notices: crate::service::notices::notify::NoticeContext,
    pub mailer: std::sync::Arc<crate::mail::Mailer>,
    /// The HTTP client of the channels besides mail (robots, webhooks, SMS).
    pub channel_http: reqwest::Client,
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
    /// Other origins, anonymous reads and socket limits of the HTTP face.
    pub http: crate::config::HttpSettings,
    /// What `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The board of "now" every reader of this instance is served from.
    pub board: crate::service::watch::board::BoardCache,
    /// The colour policy in force, kept per instance (forgotten by the live tail).
    pub policies: crate::service::watch::colours::PolicyCache,
    /// Tokens' holders and the units, kept in memory (forgotten by the live tail).
    pub directory: crate::directory::Directory,
    /// Items with their assignments, kept in memory (forgotten when they change).
    pub item_cache: crate::service::store::item_cache::ItemCache,
    /// Where every kept copy above hears of changes (`changes`).
    pub changes: ChangeFeed,
    /// Whether copies are kept at all (`caches = off` reads everything from the database).
    pub caches: Caches,
}

impl AppState {
    /// A state from its parts (tests build one over an instrumented connection).
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }

    /// Connects and migrates the database and loads the calendar: everything but the
    /// listener and the first administrator, so that commands such as `ducha report` can
    /// work beside a running server without side effects.
    pub async fn connect(settings: &Settings, clock: Clock) -> anyhow::Result<AppState> {
        let db = db::connect(settings).await?;
        let db_is_sqlite =
            sea_orm::ConnectionTrait::get_database_backend(&db) == sea_orm::DbBackend::Sqlite;
        crate::fonts::register_chart_font(settings.report_font.as_deref());
        let calendar = CalendarStore::load(&db)
            .await
            .map_err(|e| anyhow::anyhow!("loading calendar overrides: {e:?}"))?;
        // On PostgreSQL, items are kept only once this instance listens for other instances'
        // changes (`item_cache::follow_changes`, started with the server).
        let KeptCopies {
            board,
            policies,
            directory,
            item_cache,
            changes,
        } = KeptCopies::new(settings.caches, db_is_sqlite);
        let state = AppState(Arc::new(Inner {
            db,
            calendar: calendar.clone(),
            deadline_policy: settings.deadline_policy(),
            clock,
            data_dir: settings.data_dir.clone(),
            notices: crate::service::notices::notify::NoticeContext {
                public_url: settings.public_url.clone(),
                time_zone: settings.time_zone,
                wake: std::sync::Arc::new(tokio::sync::Notify::new()),
                window: chrono::Duration::from_std(settings.notice_window)
                    .unwrap_or(chrono::Duration::zero()),
                calendar: calendar.clone(),
                office_hours: ducha_calendar::OfficeHours::default(),
            },
            mailer: std::sync::Arc::new(crate::mail::Mailer::from_settings(settings)?),
            channel_http: crate::channels::http_client(
                settings
                    .smtp_timeout
                    .min(std::time::Duration::from_secs(30)),
            )?,
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
            http: settings.http.clone(),
            metrics: Arc::default(),
            board,
            policies,
            directory,
            item_cache,
            changes,
            caches: settings.caches,
        }));
        Ok(state)
    }

    /// The outbox sender of this instance: its database, mailer, claim length and clock.
    pub fn sender(&self) -> Sender<'_> {
        Sender {
            db: &self.db,
            mailer: &self.mailer,
            http: &self.channel_http,
            from: &self.mail_from,
            claim_ttl: self.outbox_claim_ttl,
            clock: &self.clock,
        }
    }

    /// What a sweep of this instance runs with.
    pub fn sweeper(&self) -> Sweeper {
        Sweeper {
            db: self.db.clone(),
            calendar: self.calendar.clone(),
            time_zone: self.deadline_policy.time_zone,
            notices: self.notices.clone(),
            sweep_lock: Arc::clone(&self.sweep_lock),
            instance_id: self.instance_id.clone(),
            metrics: Arc::clone(&self.metrics),
            notices_per_part: crate::service::watch::sweep::NOTICES_PER_PART,
        }
    }

    /// What computing and publishing a monthly report read.
    pub fn publisher(&self) -> Publisher<'_> {
        Publisher {
            db: &self.db,
            calendar: &self.calendar,
            time_zone: self.deadline_policy.time_zone,
            public_url: &self.notices.public_url,
        }
    }

    /// What the live tail of the audit trail reads and where it broadcasts.
    pub fn live_tail(&self) -> LiveTail {
        LiveTail {
            db: self.db.clone(),
            calendar: self.calendar.clone(),
            time_zone: self.deadline_policy.time_zone,
            clock: self.clock.clone(),
            events: self.events.clone(),
            board: self.board.clone(),
            colour_refresh: self.colour_refresh,
            policies: self.policies.clone(),
            item_cache: self.item_cache.clone(),
            changes: self.changes.clone(),
        }
    }

    /// What the board of "now" is computed from.
    pub fn board_sources(&self) -> BoardSources<'_> {
        BoardSources {
            db: &self.db,
            calendar: &self.calendar,
            time_zone: self.deadline_policy.time_zone,
            clock: &self.clock,
            fresh_for: self.colour_refresh,
        }
    }

    /// Today's calendar and the colour policy in force as this instance holds it
    /// (`PolicyCache`): what a page's colours are computed with.
    pub fn colour_rules(&self) -> impl Future<Output = AppResult<RuleSet>> + '_ {
        self.policies
            .rule_set(&self.db, &self.calendar, self.deadline_policy.time_zone)
    }

    /// The calendar and policy the verbs compute deadlines with, on today's calendar.
    pub fn rule_set(&self) -> impl Future<Output = AppResult<RuleSet>> + '_ {
        RuleSet::load(&self.db, &self.calendar, self.deadline_policy.time_zone)
    }
}
