//! Typed settings: built-in defaults, then an optional TOML file, then environment variables.
//! Everything has a default, so `ducha serve` on a fresh machine needs no configuration.
//!
//! Environment variables: `DUCHA_LISTEN`, `DUCHA_DATABASE_URL` (or `DATABASE_URL`),
//! `DUCHA_DATA_DIR`, `DUCHA_TIME_ZONE`, `DUCHA_OFFICE_CUTOFF`, `DUCHA_LOG`,
//! `DUCHA_OUTBOX_CLAIM_SECONDS`, `DUCHA_SMTP_TIMEOUT_SECONDS`, `DUCHA_UNIT_REPORT_ACCESS`,
//! `DUCHA_CORS_ORIGINS`, `DUCHA_PUBLIC_SCHEMA`, `DUCHA_PUBLIC_CALENDAR`, `DUCHA_CACHES`,
//! `DUCHA_TRUSTED_PROXIES`, `DUCHA_TRUSTED_PROXY_HEADER` (and the SMTP settings); the file is
//! `ducha.toml` in the working directory, or the one named by `DUCHA_CONFIG`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveTime;
use chrono_tz::Tz;
use ducha_calendar::DeadlinePolicy;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// `sqlite://…` (default: a file in the data folder) or `postgres://…`.
    pub database_url: String,
    /// Most connections to PostgreSQL this process opens (SQLite has its own 8).
    pub db_pool: u32,
    /// Where the SQLite file, uploads and unsent mail live.
    pub data_dir: PathBuf,
    /// Deadlines and calendars are in this zone (Asia/Shanghai).
    pub time_zone: Tz,
    /// Working-day deadlines end at this local time on their last day.
    pub office_cutoff: NaiveTime,
    /// A `tracing` filter such as `info` or `ducha_server=debug,info`.
    pub log: String,
    /// SMTP relay; without one, email is written as `.eml` files under `<data_dir>/mail`.
    pub smtp: Option<SmtpSettings>,
    /// The sender of every email.
    pub mail_from: String,
    /// The address people open (links in emails point here).
    pub public_url: String,
    /// Local times (Asia/Shanghai) of the reminder sweep on working days (docs/rules.md §4).
    pub sweep_times: Vec<chrono::NaiveTime>,
    /// How often live colour changes are recomputed for subscriptions.
    pub colour_refresh: std::time::Duration,
    /// A font with Chinese glyphs for laying out report charts; by default the first of
    /// the usual system fonts found (see `fonts`).
    pub report_font: Option<PathBuf>,
    /// How long a sender's claim on outbox messages lasts unless renewed (a sender that
    /// dies gives its messages back after this).
    pub outbox_claim: std::time::Duration,
    /// How long a verb's notices are held so that others for the same person or channel
    /// join them in one message (`notice_window_seconds`, 120; 0 sends at once).
    pub notice_window: std::time::Duration,
    /// How long the relay may take to answer before a try counts as failed (and is retried).
    pub smtp_timeout: std::time::Duration,
    /// Whether this process runs the scheduler (sweeps, monthly report) and the outbox
    /// sender, which delivers within seconds of new mail. Tests that drive sweeps and
    /// delivery by hand, on a clock they move, turn them off.
    pub background_jobs: bool,
    /// What people of a unit may read of the monthly report and of other units' colours.
    pub unit_report_access: UnitReportAccess,
    /// What the HTTP face allows: other origins, anonymous reads, socket timeouts.
    pub http: HttpSettings,
    /// `caches = "off"` keeps no in-memory copy: every answer is read from the database
    /// (to tell a stale copy from a wrong rule; slower, never different).
    pub caches: crate::changes::Caches,
}

/// The HTTP face's settings (`cors_origins`, `public_schema`, `public_calendar`).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins of dashboards on other hosts that may call the API from a browser, such as
    /// `https://dp.example.gov.cn`; `*` allows any. The service's own origin always may.
    pub cors_origins: Vec<String>,
    /// Whether the schema may be read (introspection) without a token. Off by default: the
    /// schema names every kind of data the office keeps.
    pub public_schema: bool,
    /// Whether the calendar queries (working days, holidays) may be used without a token.
    pub public_calendar: bool,
    /// How long a WebSocket may stay open without `connection_init` (graphql-ws closes
    /// it with 4408 after this).
    pub ws_init_timeout: std::time::Duration,
    /// How long a signed-in browser may sit unused before it must sign in again.
    pub session_idle: chrono::Duration,
    /// How long a sign-in lasts at most, used or not.
    pub session_lifetime: chrono::Duration,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client
    /// (`trusted_proxies = "127.0.0.1, 10.0.0.0/8"`); believed from no one else.
    pub trusted_proxies: crate::proxies::TrustedProxies,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            cors_origins: Vec::new(),
            public_schema: false,
            public_calendar: false,
            ws_init_timeout: std::time::Duration::from_secs(10),
            // A working morning or afternoon away from the desk signs a person out; a
            // sign-in never outlives the working day.
            session_idle: chrono::Duration::minutes(120),
            session_lifetime: chrono::Duration::hours(12),
            trusted_proxies: crate::proxies::TrustedProxies::default(),
        }
    }
}

/// How much of the monthly 通报 and of the unit colours people of a unit may read. A 通报 is
/// circulated to every unit by nature ([000 Art.68]: 通报), so the default is the whole
/// report; an office that circulates only each unit's own part sets `own`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitReportAccess {
    /// The whole report, every unit's row, list and colour reason.
    Whole,
    /// The district's totals and the unit's own row, items and colour reason only; other
    /// units' colours stay visible (the 蓝黄红 board is the district's), their reasons not.
    OwnUnit,
}

/// A value that must never reach a log: its `Debug` prints stars. Read it with
/// [`Secret::expose`] where it is used, and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or network).
    None,
    StartTls,
    /// Implicit TLS (SMTPS, usually port 465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// PostgreSQL connections per process by default: enough for the requests of two runtime
/// threads beside a sweep, a report, the outbox sender and the live tail; few enough that
/// several instances fit under PostgreSQL's default 100. Not more: sqlx hands out idle
/// connections first in, first out, so a pool grown by a burst spreads one client's
/// statements over every backend in turn, each colder than the last one used. `list` at
/// one connection after a burst of 32: 1,310–1,337 req/s with 16, 1,371–1,384 with 8,
/// 1,400–1,445 with 4 (issue 14, BENCHMARKS.md, seventh round).
const DEFAULT_DB_POOL: u32 = 8;

/// The file and environment layers: every field optional, so each layer only overrides
/// what it states.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    listen: Option<String>,
    database_url: Option<String>,
    db_pool: Option<u32>,
    data_dir: Option<PathBuf>,
    time_zone: Option<String>,
    office_cutoff: Option<String>,
    log: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<String>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
    sweep_times: Option<String>,
    report_font: Option<PathBuf>,
    outbox_claim_seconds: Option<u64>,
    notice_window_seconds: Option<u64>,
    smtp_timeout_seconds: Option<u64>,
    unit_report_access: Option<String>,
    /// Comma-separated origins.
    cors_origins: Option<String>,
    public_schema: Option<bool>,
    public_calendar: Option<bool>,
    session_idle_minutes: Option<u64>,
    session_hours: Option<u64>,
    caches: Option<String>,
    trusted_proxies: Option<String>,
    trusted_proxy_header: Option<String>,
}

impl Layer {
    fn apply(self, onto: &mut Layer) {
        macro_rules! take {
            ($($field:ident),*) => { $( if self.$field.is_some() { onto.$field = self.$field; } )* };
        }
        take!(
            listen,
            database_url,
            db_pool,
            data_dir,
            time_zone,
            office_cutoff,
            log,
            smtp_host,
            smtp_port,
            smtp_tls,
            smtp_username,
            smtp_password,
            mail_from,
            public_url,
            sweep_times,
            report_font,
            outbox_claim_seconds,
            notice_window_seconds,
            smtp_timeout_seconds,
            unit_report_access,
            cors_origins,
            public_schema,
            public_calendar,
            session_idle_minutes,
            session_hours,
            caches,
            trusted_proxies,
            trusted_proxy_header
        );
    }

    fn from_env(var: impl Fn(&str) -> Option<String>) -> Layer {
        Layer {
            listen: var("DUCHA_LISTEN"),
            database_url: var("DUCHA_DATABASE_URL").or_else(|| var("DATABASE_URL")),
            db_pool: var("DUCHA_DB_POOL").and_then(|v| v.parse().ok()),
            data_dir: var("DUCHA_DATA_DIR").map(PathBuf::from),
            time_zone: var("DUCHA_TIME_ZONE"),
            office_cutoff: var("DUCHA_OFFICE_CUTOFF"),
            log: var("DUCHA_LOG"),
            smtp_host: var("DUCHA_SMTP_HOST"),
            smtp_port: var("DUCHA_SMTP_PORT").and_then(|p| p.parse().ok()),
            smtp_tls: var("DUCHA_SMTP_TLS"),
            smtp_username: var("DUCHA_SMTP_USERNAME"),
            smtp_password: var("DUCHA_SMTP_PASSWORD"),
            mail_from: var("DUCHA_MAIL_FROM"),
            public_url: var("DUCHA_PUBLIC_URL"),
            sweep_times: var("DUCHA_SWEEP_TIMES"),
            report_font: var("DUCHA_REPORT_FONT").map(PathBuf::from),
            outbox_claim_seconds: var("DUCHA_OUTBOX_CLAIM_SECONDS").and_then(|v| v.parse().ok()),
            notice_window_seconds: var("DUCHA_NOTICE_WINDOW_SECONDS").and_then(|v| v.parse().ok()),
            smtp_timeout_seconds: var("DUCHA_SMTP_TIMEOUT_SECONDS").and_then(|v| v.parse().ok()),
            unit_report_access: var("DUCHA_UNIT_REPORT_ACCESS"),
            cors_origins: var("DUCHA_CORS_ORIGINS"),
            public_schema: var("DUCHA_PUBLIC_SCHEMA").and_then(|v| parse_flag(&v)),
            public_calendar: var("DUCHA_PUBLIC_CALENDAR").and_then(|v| parse_flag(&v)),
            session_idle_minutes: var("DUCHA_SESSION_IDLE_MINUTES").and_then(|v| v.parse().ok()),
            session_hours: var("DUCHA_SESSION_HOURS").and_then(|v| v.parse().ok()),
            caches: var("DUCHA_CACHES"),
            trusted_proxies: var("DUCHA_TRUSTED_PROXIES"),
            trusted_proxy_header: var("DUCHA_TRUSTED_PROXY_HEADER"),
        }
    }
}

impl Settings {
    /// Defaults, then the config file (if any), then the process environment.
    pub fn load() -> anyhow::Result<Settings> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let file = env("DUCHA_CONFIG").map(PathBuf::from);
        let file = match file {
            Some(path) => Some(path),
            None => Some(PathBuf::from("ducha.toml")).filter(|p| p.exists()),
        };
        let mut merged = Layer::default();
        if let Some(path) = file {
            read_file(&path)?.apply(&mut merged);
        }
        Layer::from_env(env).apply(&mut merged);
        Settings::resolve(merged)
    }

    fn resolve(layer: Layer) -> anyhow::Result<Settings> {
        let listen = layer.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let listen: SocketAddr = listen
            .parse()
            .with_context(|| format!("listen address `{listen}` is not host:port"))?;
        let data_dir = layer.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let database_url = match layer.database_url {
            Some(url) => url,
            None => sqlite_url_for(&data_dir),
        };
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            bail!("database URL must start with sqlite: or postgres://");
        }
        let zone = layer.time_zone.as_deref().unwrap_or("Asia/Shanghai");
        let time_zone: Tz = zone
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown time zone `{zone}`"))?;
        let cutoff = layer.office_cutoff.as_deref().unwrap_or("18:00");
        let office_cutoff = NaiveTime::parse_from_str(cutoff, "%H:%M")
            .with_context(|| format!("office cut-off `{cutoff}` is not HH:MM"))?;
        let smtp = match layer.smtp_host {
            Some(host) => {
                let tls = match layer.smtp_tls.as_deref().unwrap_or("starttls") {
                    "none" => SmtpTls::None,
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Tls,
                    other => bail!("smtp_tls `{other}` is not none, starttls or tls"),
                };
                let port = layer.smtp_port.unwrap_or(match tls {
                    SmtpTls::Tls => 465,
                    SmtpTls::StartTls => 587,
                    SmtpTls::None => 25,
                });
                Some(SmtpSettings {
                    host,
                    port,
                    tls,
                    username: layer.smtp_username,
                    password: layer.smtp_password.map(Secret),
                })
            }
            None => None,
        };
        let unit_report_access = match layer.unit_report_access.as_deref().unwrap_or("whole") {
            "whole" => UnitReportAccess::Whole,
            "own" => UnitReportAccess::OwnUnit,
            other => bail!("unit_report_access `{other}` is not whole or own"),
        };
        let sweep_text = layer.sweep_times.as_deref().unwrap_or("08:30,14:00");
        let mut sweep_times = Vec::new();
        for part in sweep_text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            sweep_times.push(
                NaiveTime::parse_from_str(part, "%H:%M")
                    .with_context(|| format!("sweep time `{part}` is not HH:MM"))?,
            );
        }
        let mut cors_origins = Vec::new();
        for origin in layer
            .cors_origins
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                bail!("CORS origin `{origin}` is not `*` or scheme://host[:port] without a path");
            }
            cors_origins.push(origin.to_string());
        }
        let proxy_header = match layer.trusted_proxy_header.as_deref() {
            None => crate::proxies::ForwardedHeader::default(),
            Some(text) => crate::proxies::ForwardedHeader::parse(text).with_context(|| {
                format!("trusted_proxy_header `{text}` is not x-forwarded-for or forwarded")
            })?,
        };
        let trusted_proxies = crate::proxies::TrustedProxies::parse_with(
            layer.trusted_proxies.as_deref().unwrap_or(""),
            proxy_header,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let caches = match layer.caches.as_deref() {
            None => crate::changes::Caches::On,
            Some(text) => crate::changes::Caches::parse(text)
                .with_context(|| format!("caches `{text}` is not on or off"))?,
        };
        Ok(Settings {
            caches,
            public_url: layer
                .public_url
                .unwrap_or_else(|| format!("http://{listen}")),
            listen,
            database_url,
            db_pool: layer.db_pool.unwrap_or(DEFAULT_DB_POOL).clamp(2, 200),
            data_dir,
            time_zone,
            office_cutoff,
            log: layer.log.unwrap_or_else(|| "info".to_string()),
            smtp,
            mail_from: layer
                .mail_from
                .unwrap_or_else(|| "督查督办系统 <ducha@localhost>".to_string()),
            sweep_times,
            colour_refresh: std::time::Duration::from_secs(60),
            report_font: layer.report_font,
            outbox_claim: std::time::Duration::from_secs(
                layer.outbox_claim_seconds.unwrap_or(60).clamp(3, 3_600),
            ),
            notice_window: std::time::Duration::from_secs(
                layer.notice_window_seconds.unwrap_or(120).min(3_600),
            ),
            smtp_timeout: std::time::Duration::from_secs(
                // Long enough for a relay that scans content before it answers the end of
                // DATA (RFC 5321 allows it minutes); a try cut short may have been accepted.
                layer.smtp_timeout_seconds.unwrap_or(120).clamp(1, 600),
            ),
            background_jobs: true,
            unit_report_access,
            http: HttpSettings {
                cors_origins,
                public_schema: layer.public_schema.unwrap_or(false),
                public_calendar: layer.public_calendar.unwrap_or(false),
                session_idle: chrono::Duration::minutes(
                    layer.session_idle_minutes.unwrap_or(120).clamp(5, 24 * 60) as i64,
                ),
                session_lifetime: chrono::Duration::hours(
                    layer.session_hours.unwrap_or(12).clamp(1, 24 * 30) as i64,
                ),
                trusted_proxies,
                ..HttpSettings::default()
            },
        })
    }

    /// Loopback on a free port, and a private in-memory SQLite database.
    pub fn for_tests() -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: "sqlite::memory:".to_string(),
            db_pool: DEFAULT_DB_POOL,
            data_dir: std::env::temp_dir().join("ducha-tests"),
            time_zone: chrono_tz::Asia::Shanghai,
            office_cutoff: DeadlinePolicy::default().cutoff,
            log: "warn".to_string(),
            smtp: None,
            mail_from: "督查督办系统 <ducha@localhost>".to_string(),
            public_url: "http://127.0.0.1".to_string(),
            sweep_times: Vec::new(),
            colour_refresh: std::time::Duration::from_secs(1),
            report_font: None,
            outbox_claim: std::time::Duration::from_secs(60),
            // Tests read a verb's mail at once; the window's own tests set one.
            notice_window: std::time::Duration::ZERO,
            smtp_timeout: std::time::Duration::from_secs(30),
            background_jobs: false,
            unit_report_access: UnitReportAccess::Whole,
            http: HttpSettings::default(),
            // CI runs the black-box tests once more with DUCHA_CACHES=off.
            caches: std::env::var("DUCHA_CACHES")
                .ok()
                .and_then(|v| crate::changes::Caches::parse(&v))
                .unwrap_or_default(),
        }
    }

    pub fn deadline_policy(&self) -> DeadlinePolicy {
        DeadlinePolicy {
            time_zone: self.time_zone,
            cutoff: self.office_cutoff,
        }
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`) from an environment variable.
fn parse_flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn read_file(path: &Path) -> anyhow::Result<Layer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}

fn sqlite_url_for(data_dir: &Path) -> String {
    // `mode=rwc` creates the file on first start.
    format!("sqlite://{}?mode=rwc", data_dir.join("ducha.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_password_never_prints() {
        let env = |name: &str| match name {
            "DUCHA_SMTP_HOST" => Some("relay.example.gov.cn".to_string()),
            "DUCHA_SMTP_USERNAME" => Some("ducha".to_string()),
            "DUCHA_SMTP_PASSWORD" => Some("s3cret-pa55".to_string()),
            _ => None,
        };
        let settings = Settings::resolve(Layer::from_env(env)).expect("settings");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("s3cret-pa55"), "{printed}");
        let smtp = settings.smtp.expect("smtp");
        assert_eq!(
            smtp.password.as_ref().map(Secret::expose),
            Some("s3cret-pa55")
        );
    }

    #[test]
    fn defaults_need_no_configuration() {
        let settings = Settings::resolve(Layer::default()).expect("defaults are valid");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.database_url, "sqlite://data/ducha.db?mode=rwc");
        assert_eq!(settings.time_zone, chrono_tz::Asia::Shanghai);
        assert_eq!(
            settings.office_cutoff,
            NaiveTime::from_hms_opt(18, 0, 0).expect("time")
        );
    }

    #[test]
    fn environment_overrides_the_file_and_the_data_dir_moves_the_database() {
        let mut merged = Layer::default();
        let file: Layer = toml::from_str(
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/ducha\"\noffice_cutoff = \"17:30\"",
        )
        .expect("valid file");
        file.apply(&mut merged);
        Layer::from_env(|name| (name == "DUCHA_LISTEN").then(|| "127.0.0.1:7000".to_string()))
            .apply(&mut merged);
        let settings = Settings::resolve(merged).expect("valid");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(
            settings.database_url,
            "sqlite:///srv/ducha/ducha.db?mode=rwc"
        );
        assert_eq!(
            settings.office_cutoff,
            NaiveTime::from_hms_opt(17, 30, 0).expect("time")
        );
    }

    #[test]
    fn every_setting_passes_through_the_layers() {
        // An earlier version merged only the first few fields, so SMTP set in the
        // environment was silently ignored.
        let mut merged = Layer::default();
        let file: Layer = toml::from_str(
            "smtp_host = \"mail.example.gov.cn\"\nsweep_times = \"09:00\"\nreport_font = \"/fonts/a.ttc\"",
        )
        .expect("valid file");
        file.apply(&mut merged);
        Layer::from_env(|name| match name {
            "DUCHA_SMTP_PORT" => Some("2525".into()),
            "DUCHA_SMTP_TLS" => Some("none".into()),
            "DUCHA_MAIL_FROM" => Some("督查室 <dc@example.gov.cn>".into()),
            "DUCHA_PUBLIC_URL" => Some("https://dc.example.gov.cn".into()),
            "DUCHA_DB_POOL" => Some("6".into()),
            _ => None,
        })
        .apply(&mut merged);
        let settings = Settings::resolve(merged).expect("valid");
        let smtp = settings.smtp.expect("SMTP configured");
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.tls),
            ("mail.example.gov.cn", 2525, SmtpTls::None)
        );
        assert_eq!(settings.mail_from, "督查室 <dc@example.gov.cn>");
        assert_eq!(settings.public_url, "https://dc.example.gov.cn");
        assert_eq!(
            settings.sweep_times,
            [NaiveTime::from_hms_opt(9, 0, 0).expect("time")]
        );
        assert_eq!(settings.report_font, Some(PathBuf::from("/fonts/a.ttc")));
        assert_eq!(settings.db_pool, 6);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        for (field, value) in [
            ("listen", "nowhere"),
            ("time_zone", "Mars/Olympus"),
            ("office_cutoff", "6pm"),
        ] {
            let layer: Layer = toml::from_str(&format!("{field} = \"{value}\"")).expect("toml");
            let error = Settings::resolve(layer).expect_err("must be refused");
            assert!(error.to_string().contains(value), "{error}");
        }
        assert!(
            toml::from_str::<Layer>("colour = \"red\"").is_err(),
            "unknown keys are typos"
        );
    }
}
