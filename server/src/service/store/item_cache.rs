//! Items with their assignments, kept in memory by each instance for the reads that every
//! page and every `item(id)` makes.
//!
//! Issue 14 measured what an item read costs when it goes to the database: a round trip of
//! about 0.13 ms on loopback before ducha does anything, and sqlx's decoding of every
//! column. `item(id)` at one connection could not come near three times PostGraphile's rate
//! with a statement in its path at all. Items change a few times a day each and are read all
//! day, so each instance keeps the rows it has read, as it keeps tokens and units
//! (`directory`), and forgets an item as soon as the change feed (`changes`) says it changed:
//! - **its own writes:** a verb publishes its item when its transaction has committed, before
//!   it answers (`service::items::verb::Write::finish`); a calendar change that moves deadlines
//!   publishes the calendar, which forgets everything. A client reads what it has just written.
//! - **other instances' writes, on PostgreSQL:** triggers on `item` and `assignment`
//!   (migration 9) send the item's id on [`CHANNEL`] when the writing transaction commits,
//!   and [`follow_changes`] publishes it. Any write counts, a hand-made `UPDATE` included.
//!   Another instance sees a change once the notice has crossed, typically well under a
//!   millisecond after the commit. While the listening connection is down nothing is
//!   believed, and everything is forgotten once it is back: notices sent meanwhile are lost.
//!   Each instance sends itself a heartbeat notice every 10 s, so that a connection cut
//!   without a word is given up after 30 s of silence.
//! - **other processes' writes to a SQLite file** (a `ducha` command beside the server): the
//!   live tail publishes the items of the audit rows it hears, every 0.5 s.
//! - and whatever else: nothing is believed longer than [`KEPT_FOR`].
//!
//! A read that began before a change was forgotten must not store what it read: every
//! forget counts, and a read stores its rows only if the count has not moved since it took
//! its [`Ticket`] (the check and the store happen under the same lock as the forget).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::changes::{Caches, Change, ChangeFeed, KeptCopy};
use crate::service::store::rows::ItemRows;

/// How long a kept item is believed at most, whatever was heard.
pub const KEPT_FOR: Duration = Duration::from_secs(60);

/// Items kept at most (in two halves, the older dropped whole): a few thousand items is a
/// district's open work several times over, at about 2 KB each.
const CAPACITY: usize = 8_192;

/// The channel migration 9's triggers notify with an item's id.
pub const CHANNEL: &str = migration::ITEM_CHANGED_CHANNEL;

/// The instance's kept items. Cloning shares them.
#[derive(Clone)]
pub struct ItemCache(Arc<Inner>);

struct Inner {
    held: RwLock<Held>,
    /// How many times anything was forgotten.
    forgotten: AtomicU64,
    /// Whether what is heard of changes can be relied on (false while PostgreSQL's
    /// listening connection is down, and before it first listens).
    trusted: AtomicBool,
    /// `caches = off`: nothing is ever kept or served.
    switched_off: bool,
}

/// Two halves: new rows go into `current`; when it is full it becomes `previous` and the
/// old `previous` is dropped, so memory stays bounded with no per-read bookkeeping.
#[derive(Default)]
struct Held {
    current: HashMap<i64, Kept>,
    previous: HashMap<i64, Kept>,
}

struct Kept {
    rows: Arc<ItemRows>,
    stored: Instant,
}

/// Taken before a read of the database; its rows are stored only if nothing was forgotten
/// since.
#[derive(Debug)]
pub struct Ticket(u64);

impl ItemCache {
    /// A cache that is used at once (`trusted`), or only once it hears [`Change::Heard`]
    /// (PostgreSQL, when the listener is listening); never with [`Caches::Off`].
    pub fn new(trusted: bool, caches: Caches) -> ItemCache {
        ItemCache(Arc::new(Inner {
            held: RwLock::default(),
            forgotten: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted && caches.on()),
            switched_off: !caches.on(),
        }))
    }

    /// Starts relying on what is heard: everything read before is forgotten.
    fn trust(&self) {
        self.forget_all();
        if !self.0.switched_off {
            self.0.trusted.store(true, Ordering::SeqCst);
        }
    }

    /// Stops relying on what is heard (changes may go unheard): nothing is kept or served.
    fn distrust(&self) {
        self.0.trusted.store(false, Ordering::SeqCst);
        self.forget_all();
    }

    /// Whether kept items are served now.
    pub fn is_trusted(&self) -> bool {
        self.0.trusted.load(Ordering::SeqCst)
    }

    /// A ticket for a read, or `None` when nothing may be served from the cache now.
    pub fn ticket(&self) -> Option<Ticket> {
        // The count first: a distrust that comes between the two reads then makes the
        // ticket stale (it forgets after it distrusts), so its read stores nothing.
        let forgotten = self.0.forgotten.load(Ordering::SeqCst);
        self.0
            .trusted
            .load(Ordering::SeqCst)
            .then_some(Ticket(forgotten))
    }

    /// The kept rows of each id, `None` where they are not kept (or kept too long). The
    /// ticket shows the cache was trusted when the read began.
    pub fn get_many(&self, _ticket: &Ticket, ids: &[i64]) -> Vec<Option<Arc<ItemRows>>> {
        let held = self.0.held.read().unwrap_or_else(|e| e.into_inner());
        ids.iter()
            .map(|id| {
                held.current
                    .get(id)
                    .or_else(|| held.previous.get(id))
                    .filter(|kept| kept.stored.elapsed() < KEPT_FOR)
                    .map(|kept| Arc::clone(&kept.rows))
            })
            .collect()
    }

    /// Keeps rows read under `ticket`, unless something was forgotten since it was taken.
    pub fn store(&self, ticket: Ticket, rows: &[Arc<ItemRows>]) {
        let mut held = self.0.held.write().unwrap_or_else(|e| e.into_inner());
        if self.0.forgotten.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        let stored = Instant::now();
        for rows in rows {
            if held.current.len() >= CAPACITY / 2 {
                held.previous = std::mem::take(&mut held.current);
            }
            let id = rows.item.id;
            held.previous.remove(&id);
            held.current.insert(
                id,
                Kept {
                    rows: Arc::clone(rows),
                    stored,
                },
            );
        }
    }

    /// Forgets these items: they changed.
    fn forget(&self, ids: impl IntoIterator<Item = i64>) {
        let mut held = self.0.held.write().unwrap_or_else(|e| e.into_inner());
        self.0.forgotten.fetch_add(1, Ordering::SeqCst);
        for id in ids {
            held.current.remove(&id);
            held.previous.remove(&id);
        }
    }

    /// Forgets every item.
    fn forget_all(&self) {
        let mut held = self.0.held.write().unwrap_or_else(|e| e.into_inner());
        self.0.forgotten.fetch_add(1, Ordering::SeqCst);
        *held = Held::default();
    }

    /// How many items are kept (for tests and `/metrics`).
    pub fn len(&self) -> usize {
        let held = self.0.held.read().unwrap_or_else(|e| e.into_inner());
        held.current.len() + held.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl KeptCopy for ItemCache {
    fn changed(&self, change: &Change) {
        match change {
            Change::Items(ids) => self.forget(ids.iter().copied()),
            // Deadlines recomputed on a new calendar are new rows.
            Change::AllItems | Change::Calendar => self.forget_all(),
            Change::Unheard => self.distrust(),
            Change::Heard => self.trust(),
            Change::Directory | Change::Policy => {}
        }
    }
}

/// How often each instance sends itself a notice when nothing else is heard, and how long
/// a listening connection may stay silent before it is given up for dead (a connection cut
/// without a reset, which no read would ever report).
const HEARTBEAT: Duration = Duration::from_secs(10);
const SILENT_FOR: Duration = Duration::from_secs(30);

/// The payload of the heartbeat's notice: no item.
const PING: &str = "ping";

/// What one notice on [`CHANNEL`] says changed.
fn heard(payload: &str) -> Option<Change> {
    match payload {
        PING => None,
        id => Some(match id.parse::<i64>() {
            Ok(id) => Change::Items(vec![id]),
            // Not ours to read: whatever it meant, nothing kept is sure any more.
            Err(_) => Change::AllItems,
        }),
    }
}

/// Publishes the items PostgreSQL says changed, for as long as the task runs: listens on
/// [`CHANNEL`] over a connection of its own (not one of the pool's), says [`Change::Heard`]
/// once it listens, and [`Change::Unheard`] from the moment the connection is lost until it
/// listens again. sqlx's own reconnection is turned off (it would go on trusting while it reconnects),
/// and a connection that hears nothing, not even the heartbeat this instance sends through
/// its pool, for [`SILENT_FOR`] is given up.
pub async fn follow_changes(changes: ChangeFeed, db: sea_orm::DatabaseConnection) {
    use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
    let options = db
        .get_postgres_connection_pool()
        .connect_options()
        .as_ref()
        .clone();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let mut failing = false;
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match listening.await {
            Ok(mut listener) => {
                changes.publish(Change::Heard);
                if failing {
                    tracing::info!("listening for item changes again");
                }
                let last_heard = std::sync::Mutex::new(Instant::now());
                let mark =
                    || *last_heard.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
                let receiving = async {
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notice)) => {
                                mark();
                                if let Some(change) = heard(notice.payload()) {
                                    changes.publish(change);
                                }
                            }
                            Ok(None) => break "the connection was closed".to_string(),
                            Err(error) => break error.to_string(),
                        }
                    }
                };
                let heartbeat = async {
                    loop {
                        tokio::time::sleep(HEARTBEAT).await;
                        let silent = last_heard
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .elapsed();
                        if silent > SILENT_FOR {
                            break format!("nothing heard for {} s", silent.as_secs());
                        }
                        let ping = sea_orm::Statement::from_sql_and_values(
                            sea_orm::DbBackend::Postgres,
                            "SELECT pg_notify($1, $2)",
                            [CHANNEL.into(), PING.into()],
                        );
                        // A database that cannot be reached shows as silence.
                        let _ = sea_orm::ConnectionTrait::execute_raw(&db, ping).await;
                    }
                };
                let lost = tokio::select! {
                    lost = receiving => lost,
                    lost = heartbeat => lost,
                };
                changes.publish(Change::Unheard);
                tracing::warn!(error = %lost, "stopped listening for item changes; items are read from the database until it is back");
                failing = true;
            }
            Err(error) => {
                changes.publish(Change::Unheard);
                if !failing {
                    tracing::warn!(%error, "cannot listen for item changes; items are read from the database until it can");
                }
                failing = true;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use entity::item;

    fn rows(id: i64, title: &str) -> Arc<ItemRows> {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 2, 1, 0, 0)
            .single()
            .expect("an instant");
        Arc::new(ItemRows::new(
            item::Model {
                id,
                serial: format!("督〔2026〕{id}号"),
                year: 2026,
                seq: id as i32,
                title: title.into(),
                requirements: String::new(),
                source_kind: "LEADER_INSTRUCTION".into(),
                source_reference: String::new(),
                urgency: "NORMAL".into(),
                responsible_leader_id: None,
                deadline_rule: "3个工作日".into(),
                deadline_explicit: true,
                report_cycle_days: None,
                report_cycle_working_days: true,
                stage: entity::ItemStage::Registered,
                assigned_at: None,
                closed_at: None,
                closed_on_time_original: None,
                closed_on_time_extended: None,
                version: 1,
                created_by: 1,
                created_at: at,
                updated_at: at,
                feedback_at: None,
                rejections: 0,
                reopened: false,
                first_feedback_at: None,
                rectification_rule: None,
                rectification_from: None,
                upstream_document: None,
                upstream_due_at: None,
                upstream_buffer_working_days: None,
                reported_upward_at: None,
                has_tasks: false,
            },
            Vec::new(),
        ))
    }

    fn title(cache: &ItemCache, id: i64) -> Option<String> {
        let ticket = cache.ticket()?;
        cache.get_many(&ticket, &[id])[0]
            .as_ref()
            .map(|r| r.item.title.clone())
    }

    #[test]
    fn rows_stored_are_served_until_forgotten() {
        let cache = ItemCache::new(true, Caches::On);
        let ticket = cache.ticket().expect("trusted");
        cache.store(ticket, &[rows(1, "一"), rows(2, "二")]);
        assert_eq!(title(&cache, 1).as_deref(), Some("一"));
        assert_eq!(title(&cache, 2).as_deref(), Some("二"));
        cache.forget([1]);
        assert_eq!(title(&cache, 1), None);
        assert_eq!(title(&cache, 2).as_deref(), Some("二"));
        cache.forget_all();
        assert_eq!(title(&cache, 2), None);
    }

    #[test]
    fn a_read_that_began_before_a_forget_stores_nothing() {
        let cache = ItemCache::new(true, Caches::On);
        let before = cache.ticket().expect("trusted");
        // The item changes (and is forgotten) while the read is at the database.
        cache.forget([1]);
        cache.store(before, &[rows(1, "改前")]);
        assert_eq!(title(&cache, 1), None);
        let after = cache.ticket().expect("trusted");
        cache.store(after, &[rows(1, "改后")]);
        assert_eq!(title(&cache, 1).as_deref(), Some("改后"));
    }

    #[test]
    fn nothing_is_served_or_kept_while_untrusted() {
        let cache = ItemCache::new(false, Caches::On);
        assert!(cache.ticket().is_none());
        cache.changed(&Change::Heard);
        let ticket = cache.ticket().expect("trusted");
        cache.store(ticket, &[rows(1, "一")]);
        assert_eq!(cache.len(), 1);
        cache.changed(&Change::Unheard);
        assert!(cache.ticket().is_none());
        assert!(cache.is_empty(), "distrusting forgets what was kept");
        cache.changed(&Change::Heard);
        assert_eq!(title(&cache, 1), None);
    }

    #[test]
    fn a_notice_forgets_its_item_a_ping_nothing_and_anything_else_everything() {
        let cache = ItemCache::new(true, Caches::On);
        let keep = |cache: &ItemCache| {
            let ticket = cache.ticket().expect("trusted");
            cache.store(ticket, &[rows(1, "一"), rows(2, "二")]);
        };
        keep(&cache);
        assert_eq!(heard("1"), Some(Change::Items(vec![1])));
        cache.changed(&Change::Items(vec![1]));
        assert_eq!((title(&cache, 1), title(&cache, 2).is_some()), (None, true));
        assert_eq!(heard(PING), None, "a heartbeat changes nothing");
        assert_eq!(heard("not an id"), Some(Change::AllItems));
        cache.changed(&Change::AllItems);
        assert!(cache.is_empty());
    }

    #[test]
    fn switched_off_it_keeps_nothing_whatever_it_hears() {
        let cache = ItemCache::new(true, Caches::Off);
        assert!(cache.ticket().is_none());
        cache.changed(&Change::Heard);
        assert!(
            cache.ticket().is_none(),
            "hearing again does not switch it on"
        );
    }

    #[test]
    fn memory_is_bounded_and_the_newest_are_kept() {
        let cache = ItemCache::new(true, Caches::On);
        for id in 0..(CAPACITY as i64 * 3) {
            let ticket = cache.ticket().expect("trusted");
            cache.store(ticket, &[rows(id, "x")]);
        }
        assert!(cache.len() <= CAPACITY, "{} kept", cache.len());
        let newest = CAPACITY as i64 * 3 - 1;
        assert!(title(&cache, newest).is_some());
        assert_eq!(title(&cache, 0), None);
    }
}
