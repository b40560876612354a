//! This instance's board of "now", shared by every reader and kept up to date change by
//! change.
//!
//! The held board is current while nothing has been written since (the audit trail's last
//! id, which every change moves), no item the change feed named is waiting, the calendar is
//! the same and its whole pass is younger than twice the colour refresh. Otherwise the first
//! reader brings it up to date and the others wait for that one update:
//! - the items written since (the audit trail's rows after the held id) and the items the
//!   feed named (this instance's writes; on PostgreSQL also the other instances' notices,
//!   which tell of a commit whose audit id is below the last one read) are judged again
//!   ([`BoardParts::refresh`]): a few milliseconds;
//! - a change of what every colour rests on (the policy, the calendar, units, a published
//!   report: a row of no item), more than [`MOST_TOUCHED`] items, or a pass too old: the
//!   whole pass again.
//!
//! Time moves colours too, which no row tells of. So while the board is read, the live tail
//! renews the whole pass once a colour refresh ([`BoardCache::renew`]) in the background:
//! readers keep the held board meanwhile, brought up to date change by change, and the new
//! one takes its place once it has judged again what changed while it was computed. A
//! board's colours are thus at most one colour refresh and one pass old, and a change is on
//! the next read.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sea_orm::FromQueryResult;

use crate::changes::{Caches, Change, KeptCopy};
use crate::error::{AppError, AppResult};
use crate::service::store::sql::statement;
use crate::service::watch::board::parts::{BoardParts, board_now};
use crate::service::watch::board::shape::{Board, BoardSources};
use crate::service::watch::colours::RuleSet;

/// Past this many items changed at once, the whole pass is cheaper than judging them one
/// by one (a sweep's notices, a calendar's recalculation).
pub const MOST_TOUCHED: usize = 2_000;

/// What a board was computed against: when either differs, it is out of date.
#[derive(Clone)]
struct Version {
    /// Every change writes the audit trail, so its last id moves with every write (the
    /// colour policy, the calendar, units and published reports included).
    last_audit_id: i64,
    /// The calendar in force (replaced as a whole when an override changes); held, so that
    /// its address cannot be reused by a later one.
    calendar: Arc<ducha_calendar::Calendar>,
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.last_audit_id == other.last_audit_id && Arc::ptr_eq(&self.calendar, &other.calendar)
    }
}

struct Held {
    version: Version,
    board: Arc<Board>,
    parts: BoardParts,
}

/// Items the change feed named, not yet judged again.
#[derive(Default, Clone)]
struct Touched {
    items: HashSet<i64>,
    /// More than [`MOST_TOUCHED`]: the whole pass.
    overflowed: bool,
}

impl Touched {
    fn add(&mut self, items: impl IntoIterator<Item = i64>) {
        if self.overflowed {
            return;
        }
        self.items.extend(items);
        if self.items.len() > MOST_TOUCHED {
            self.overflowed = true;
            self.items = HashSet::new();
        }
    }

    fn is_empty(&self) -> bool {
        !self.overflowed && self.items.is_empty()
    }
}

/// This instance's board of "now"; see the module's comment.
#[derive(Clone, Default)]
pub struct BoardCache(Arc<CacheInner>);

/// A change of what every colour rests on (the policy, the calendar, units and people, all
/// items) drops the held board at once. A change of items is noted, and judged again by the
/// next reader.
impl KeptCopy for BoardCache {
    fn changed(&self, change: &Change) {
        match change {
            Change::Unheard | Change::Heard => {}
            Change::Items(items) => {
                if let Ok(mut touched) = self.0.touched.lock() {
                    touched.add(items.iter().copied());
                }
            }
            _ => {
                if let Ok(mut held) = self.held() {
                    self.0.forgotten.fetch_add(1, Ordering::SeqCst);
                    *held = None;
                }
            }
        }
    }
}

#[derive(Default)]
struct CacheInner {
    held: std::sync::Mutex<Option<Held>>,
    /// One update at a time; readers that find the board out of date queue here and find
    /// the one brought up to date while they waited.
    flight: tokio::sync::Mutex<()>,
    /// When a reader last asked: the live tail keeps the board ahead only while it is read.
    last_read: std::sync::Mutex<Option<std::time::Instant>>,
    /// `caches = off`: every reader computes the board.
    switched_off: bool,
    /// How many times the held board was dropped: a board computed across a drop is not
    /// kept (it may miss the change).
    forgotten: AtomicU64,
    /// Items the feed named since the held board was last brought up to date.
    touched: std::sync::Mutex<Touched>,
    /// While a renewal computes: every item named meanwhile, which the new board judges
    /// again before it is held.
    renewal: std::sync::Mutex<Option<Touched>>,
    renewing: AtomicBool,
    /// Whole passes made (by readers and renewals), and updates that judged items again.
    passes: AtomicU64,
    updates: AtomicU64,
}

/// How this instance's board was kept, for `/metrics`.
pub struct BoardCounts {
    pub passes: u64,
    pub updates: u64,
}

#[derive(FromQueryResult)]
struct LastId {
    id: Option<i64>,
}

#[derive(FromQueryResult)]
struct Written {
    item_id: Option<i64>,
    action: String,
}

/// Clears `renewing` however a renewal ends.
struct Renewing<'a>(&'a AtomicBool);

impl Drop for Renewing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl BoardCache {
    pub fn new(caches: Caches) -> BoardCache {
        BoardCache(Arc::new(CacheInner {
            switched_off: !caches.on(),
            ..CacheInner::default()
        }))
    }

    /// The board now: the held one brought up to date, or a new one.
    pub async fn now(&self, sources: &BoardSources<'_>) -> AppResult<Arc<Board>> {
        if self.0.switched_off {
            let rule_set = RuleSet::load(sources.db, sources.calendar, sources.time_zone).await?;
            return Ok(Arc::new(
                board_now(sources.db, &rule_set, sources.clock.now()).await?,
            ));
        }
        self.mark_read();
        if let Some(board) = self.unchanged(sources).await? {
            return Ok(board);
        }
        let _flight = self.0.flight.lock().await;
        match self.bring_up_to_date(sources).await? {
            Some(board) => Ok(board),
            None => self.compute_whole(sources).await,
        }
    }

    /// The held board brought up to date, without the whole pass: for readers that can do
    /// without it (`None` when only the whole pass would do).
    pub async fn current(&self, sources: &BoardSources<'_>) -> AppResult<Option<Arc<Board>>> {
        if self.0.switched_off {
            return Ok(None);
        }
        // Counts as a read: the tail keeps ahead a board that such readers would use.
        self.mark_read();
        if let Some(board) = self.unchanged(sources).await? {
            return Ok(Some(board));
        }
        let _flight = self.0.flight.lock().await;
        self.bring_up_to_date(sources).await
    }

    /// Computes the whole board again when it is held and its pass is older than half the
    /// colour refresh, without holding up its readers (see the module's comment). The live
    /// tail calls it once a colour refresh while the board is read.
    pub async fn renew(&self, sources: &BoardSources<'_>) -> AppResult<()> {
        if self.0.switched_off || self.0.renewing.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let _renewing = Renewing(&self.0.renewing);
        let now = sources.clock.now();
        let due = self.held()?.as_ref().is_some_and(|held| {
            now.signed_duration_since(held.parts.at())
                .to_std()
                .is_ok_and(|age| age >= sources.fresh_for / 2)
        });
        if !due {
            return Ok(());
        }
        let generation = self.0.forgotten.load(Ordering::SeqCst);
        // From here on, every item named is also the new board's to judge again.
        let pending = self.touched()?.clone();
        *self.renewal()? = Some(pending);
        let renewed = self.renew_from(sources, generation).await;
        *self.renewal()? = None;
        renewed
    }

    async fn renew_from(&self, sources: &BoardSources<'_>, generation: u64) -> AppResult<()> {
        let version = version_of(sources).await?;
        let rule_set = RuleSet::load(sources.db, sources.calendar, sources.time_zone).await?;
        let mut parts = BoardParts::compute(sources.db, rule_set, sources.clock.now()).await?;
        let _flight = self.0.flight.lock().await;
        if self.0.forgotten.load(Ordering::SeqCst) != generation {
            return Ok(());
        }
        // What the readers were told meanwhile, and what is still waiting.
        let waiting = self.take_touched()?;
        let mut named = self.renewal()?.take().unwrap_or_default();
        named.add(waiting.items);
        named.overflowed |= waiting.overflowed;
        let latest = version_of(sources).await?;
        let changed = if named.overflowed || !Arc::ptr_eq(&latest.calendar, &version.calendar) {
            None
        } else {
            changed_items(
                sources,
                version.last_audit_id,
                latest.last_audit_id,
                named.items,
            )
            .await?
        };
        let Some(changed) = changed else {
            // Too much changed while it was computed: the readers' next update does it whole.
            *self.held()? = None;
            return Ok(());
        };
        parts
            .refresh(sources.db, &changed, sources.clock.now())
            .await?;
        self.0.passes.fetch_add(1, Ordering::Relaxed);
        self.keep(generation, latest, parts);
        Ok(())
    }

    /// How many whole passes and how many updates this instance made.
    pub fn counts(&self) -> BoardCounts {
        BoardCounts {
            passes: self.0.passes.load(Ordering::Relaxed),
            updates: self.0.updates.load(Ordering::Relaxed),
        }
    }

    /// Whether someone read the board within `within`: the tail computes ahead only then.
    pub fn read_within(&self, within: std::time::Duration) -> bool {
        self.0
            .last_read
            .lock()
            .ok()
            .and_then(|l| *l)
            .is_some_and(|at| at.elapsed() < within)
    }

    /// Whether an update or a renewal is under way.
    pub fn busy(&self) -> bool {
        self.0.flight.try_lock().is_err() || self.0.renewing.load(Ordering::SeqCst)
    }

    fn mark_read(&self) {
        if let Ok(mut last_read) = self.0.last_read.lock() {
            *last_read = Some(std::time::Instant::now());
        }
    }

    /// The held board, if nothing has changed since it was brought up to date.
    async fn unchanged(&self, sources: &BoardSources<'_>) -> AppResult<Option<Arc<Board>>> {
        let version = version_of(sources).await?;
        if !self.touched()?.is_empty() {
            return Ok(None);
        }
        let held = self.held()?;
        Ok(held
            .as_ref()
            .filter(|held| held.version == version && servable(held.parts.at(), sources))
            .map(|held| Arc::clone(&held.board)))
    }

    /// Under the flight: the held board with the items changed since judged again, or
    /// `None` when only the whole pass will do.
    async fn bring_up_to_date(&self, sources: &BoardSources<'_>) -> AppResult<Option<Arc<Board>>> {
        let generation = self.0.forgotten.load(Ordering::SeqCst);
        // Named before the version is read: an item named later is judged again next time.
        let named = self.take_touched()?;
        let version = version_of(sources).await?;
        // Taken out while it is updated; an error leaves none held (the next reader
        // computes the whole board), never a half-updated one.
        let Some(mut held) = self.held()?.take() else {
            return Ok(None);
        };
        if named.overflowed
            || !Arc::ptr_eq(&held.version.calendar, &version.calendar)
            || !servable(held.parts.at(), sources)
        {
            return Ok(None);
        }
        if held.version == version && named.items.is_empty() {
            let board = Arc::clone(&held.board);
            *self.held()? = Some(held);
            return Ok(Some(board));
        }
        let Some(changed) = changed_items(
            sources,
            held.version.last_audit_id,
            version.last_audit_id,
            named.items,
        )
        .await?
        else {
            return Ok(None);
        };
        held.parts
            .refresh(sources.db, &changed, sources.clock.now())
            .await?;
        self.0.updates.fetch_add(1, Ordering::Relaxed);
        Ok(Some(self.keep(generation, version, held.parts)))
    }

    /// Under the flight: the whole pass.
    async fn compute_whole(&self, sources: &BoardSources<'_>) -> AppResult<Arc<Board>> {
        let generation = self.0.forgotten.load(Ordering::SeqCst);
        // The pass reads all that was committed before it; what is named later is judged
        // again next time.
        self.take_touched()?;
        let version = version_of(sources).await?;
        let rule_set = RuleSet::load(sources.db, sources.calendar, sources.time_zone).await?;
        let parts = BoardParts::compute(sources.db, rule_set, sources.clock.now()).await?;
        self.0.passes.fetch_add(1, Ordering::Relaxed);
        Ok(self.keep(generation, version, parts))
    }

    /// Holds the board of `parts` under `version`, unless the held board was dropped since
    /// `generation` (it may then miss that change, whose audit id need not be the last on
    /// PostgreSQL); returns it either way.
    fn keep(&self, generation: u64, version: Version, parts: BoardParts) -> Arc<Board> {
        let board = Arc::new(parts.board());
        if let Ok(mut held) = self.held()
            && self.0.forgotten.load(Ordering::SeqCst) == generation
        {
            *held = Some(Held {
                version,
                board: Arc::clone(&board),
                parts,
            });
        }
        board
    }

    /// The items named since the last update, no longer waiting; a renewal under way
    /// hears of them too.
    fn take_touched(&self) -> AppResult<Touched> {
        let named = std::mem::take(&mut *self.touched()?);
        if let Some(renewal) = self.renewal()?.as_mut() {
            renewal.add(named.items.iter().copied());
            renewal.overflowed |= named.overflowed;
        }
        Ok(named)
    }

    fn held(&self) -> AppResult<std::sync::MutexGuard<'_, Option<Held>>> {
        self.0.held.lock().map_err(|_| poisoned("held board"))
    }

    fn touched(&self) -> AppResult<std::sync::MutexGuard<'_, Touched>> {
        self.0.touched.lock().map_err(|_| poisoned("touched items"))
    }

    fn renewal(&self) -> AppResult<std::sync::MutexGuard<'_, Option<Touched>>> {
        self.0.renewal.lock().map_err(|_| poisoned("renewal"))
    }
}

fn poisoned(what: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("board cache lock poisoned: {what}"))
}

/// Whether a board whose pass ran at `at` may still be served: younger than twice the
/// colour refresh (the tail renews it once a refresh), and not from the future (a clock set
/// back).
fn servable(at: DateTime<Utc>, sources: &BoardSources<'_>) -> bool {
    sources
        .clock
        .now()
        .signed_duration_since(at)
        .to_std()
        .is_ok_and(|age| age < sources.fresh_for * 2)
}

/// Audit rows of no item that leave the board as it is (people and their tokens, the
/// outbox); any other row of no item (the policy, the calendar, units, a published report,
/// and any action added later) asks for the whole pass.
fn leaves_board_alone(action: &str) -> bool {
    matches!(
        action,
        "ROTATE_TOKEN" | "SET_PASSWORD" | "CREATE_PERSON" | "UPDATE_PERSON" | "REQUEUE_OUTBOX"
    )
}

/// The items written after audit id `after` up to `upto`, with those `named`, in id order;
/// `None` when the whole pass is needed (a row of no item that may move the board, or more
/// than [`MOST_TOUCHED`] items).
async fn changed_items(
    sources: &BoardSources<'_>,
    after: i64,
    upto: i64,
    named: HashSet<i64>,
) -> AppResult<Option<Vec<i64>>> {
    let mut items = named;
    if upto < after {
        // Rows gone from the trail: nothing can be judged from it.
        return Ok(None);
    }
    if upto > after {
        let limit = i64::try_from(MOST_TOUCHED).unwrap_or(i64::MAX) + 1;
        let rows = Written::find_by_statement(statement(
            sources.db.get_database_backend(),
            "SELECT item_id, action FROM audit_event WHERE id > $1 AND id <= $2 \
             ORDER BY id LIMIT $3",
            vec![after.into(), upto.into(), limit.into()],
        ))
        .all(sources.db)
        .await?;
        if rows.len() > MOST_TOUCHED {
            return Ok(None);
        }
        for row in rows {
            match row.item_id {
                Some(item_id) => {
                    items.insert(item_id);
                }
                None if leaves_board_alone(&row.action) => {}
                None => return Ok(None),
            }
        }
    }
    if items.len() > MOST_TOUCHED {
        return Ok(None);
    }
    let mut items: Vec<i64> = items.into_iter().collect();
    items.sort_unstable();
    Ok(Some(items))
}

async fn version_of(sources: &BoardSources<'_>) -> AppResult<Version> {
    let last = LastId::find_by_statement(statement(
        sources.db.get_database_backend(),
        "SELECT MAX(id) AS id FROM audit_event",
        Vec::new(),
    ))
    .one(sources.db)
    .await?;
    Ok(Version {
        last_audit_id: last.and_then(|l| l.id).unwrap_or(0),
        calendar: sources.calendar.current()?,
    })
}
