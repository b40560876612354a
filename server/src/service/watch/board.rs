//! The 蓝黄红 board: the open items by colour, every item by stage and source, and each
//! unit's colour with its reason and measure (docs/rules.md §3, design.md "看板").
//!
//! Colours are computed, not stored, and a unit's colour depends on every open assignment it
//! holds, so the board costs a pass over all of them — about a second at 100,000 items. The
//! office and the leaders keep it open all day, on wall screens that reload it at every
//! change. So each instance keeps one board, [`BoardCache`], that every reader of "now" is
//! served from while it is current: nothing has been written since (the audit trail's last
//! id, which every change moves), the calendar is the same, and it is younger than the
//! colour refresh (colours change as time passes). Otherwise the first reader computes it
//! and the others wait for that one computation; the live tail computes it ahead of them
//! when it hears a change, so readers seldom wait.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ducha_domain::colour::{Colour, assignment_colour};
use ducha_domain::{SourceKind, Stage};
use futures_util::TryStreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryOrder};

use crate::calendar_store::CalendarStore;
use crate::changes::{Caches, Change, KeptCopy};
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::service::store::sql::statement;
use crate::service::watch::colours::{
    RuleSet, UnitStanding, UnitTally, previous_month, unit_standings,
};
use entity::unit;

/// The board at one instant.
#[derive(Debug, Clone)]
pub struct Board {
    pub at: DateTime<Utc>,
    /// The colour policy's version it was judged by.
    pub policy_version: i32,
    /// Open items by their colour (the worst of their units').
    pub by_colour: HashMap<Colour, usize>,
    /// Every item (closed and cancelled too) by stage.
    pub by_stage: HashMap<Stage, usize>,
    pub by_source_kind: HashMap<SourceKind, usize>,
    /// Every unit, in the order of their ids.
    pub units: Vec<UnitStanding>,
    /// The open items that have a colour, and which, by ascending id: where a colour
    /// filter looks first.
    pub coloured_items: Vec<(i64, Colour)>,
}

fn by_id(worst: impl Iterator<Item = (i64, Colour)>) -> Vec<(i64, Colour)> {
    let mut items: Vec<(i64, Colour)> = worst.filter(|(_, c)| *c != Colour::None).collect();
    items.sort_unstable_by_key(|(id, _)| *id);
    items
}

/// The board as it stood at `at`, from the rows as they stood then (stages rewound from the
/// audit trail, extensions as approved by then), judged by `rule_set`.
pub async fn board_as_of(
    db: &impl ConnectionTrait,
    rule_set: &RuleSet,
    at: DateTime<Utc>,
) -> AppResult<Board> {
    let (units, colours, open_items) = unit_standings(db, &rule_set.rules(), at).await?;
    let mut by_colour: HashMap<Colour, usize> = HashMap::new();
    // Items not yet assigned have no colour to count, as on the live board.
    for item in open_items
        .iter()
        .filter(|i| i.stage != entity::ItemStage::Registered)
    {
        if let Some(c) = colours.get(&item.id) {
            *by_colour.entry(c.item.colour).or_default() += 1;
        }
    }
    let (by_stage, by_source_kind) =
        crate::service::store::history::stage_and_kind_counts_at(db, at).await?;
    Ok(Board {
        at,
        policy_version: rule_set.policy_version,
        by_colour,
        by_stage,
        by_source_kind,
        units,
        coloured_items: by_id(colours.iter().map(|(id, c)| (*id, c.item.colour))),
    })
}

#[derive(FromQueryResult)]
struct QuietAssignment {
    unit_id: i64,
    item_id: i64,
    serial: String,
}

#[derive(FromQueryResult)]
struct StageKindCount {
    stage: String,
    source_kind: String,
    n: i64,
}

/// The board now, in one streamed pass over the open assignments (the sweep's own query,
/// without its notices) and three grouped reads; [`board_as_of`] at the same instant gives
/// the same board (a test holds them together), at several times the cost.
pub async fn board_now(
    db: &DatabaseConnection,
    rule_set: &RuleSet,
    now: DateTime<Utc>,
) -> AppResult<Board> {
    let backend = db.get_database_backend();
    let rules = rule_set.rules();
    let units = unit::Entity::find()
        .order_by_asc(unit::Column::Id)
        .all(db)
        .await?;
    let mut tally = UnitTally::default();
    let mut worst: HashMap<i64, Colour> = HashMap::new();
    {
        let mut rows = crate::service::watch::sweep::open_assignment_facts(db, now).await?;
        let mut pacer = crate::service::store::sql::Pacer::default();
        while let Some(row) = rows.try_next().await? {
            pacer.row().await;
            let colour = assignment_colour(
                rules.calendar,
                rules.time_zone,
                rules.policy,
                &row.facts(),
                now,
            )
            .colour;
            let held = worst.entry(row.item_id).or_insert(colour);
            *held = (*held).max(colour);
            tally.open(row.unit_id, (row.item_id, row.serial), colour);
        }
        // The stream holds a pooled connection until dropped.
    }
    // Open items whose clock does not run (suspended) still count for their units, uncoloured.
    for quiet in QuietAssignment::find_by_statement(statement(
        backend,
        "SELECT a.unit_id, a.item_id, i.serial FROM assignment a JOIN item i ON i.id = a.item_id \
         WHERE i.stage NOT IN ('ASSIGNED', 'IN_PROGRESS', 'FEEDBACK_SUBMITTED', 'VERIFIED', \
                               'CLOSED', 'CANCELLED') \
           AND a.status <> 'WITHDRAWN'",
        Vec::new(),
    ))
    .all(db)
    .await?
    {
        tally.open(quiet.unit_id, (quiet.item_id, quiet.serial), Colour::None);
    }
    let window_start = now - chrono::Duration::days(rules.policy.on_time_window_days);
    for closure in crate::service::store::history::closures(db, window_start, now).await? {
        tally.closed(closure.unit_id, closure.on_time);
    }
    let mut by_stage: HashMap<Stage, usize> = HashMap::new();
    let mut by_source_kind: HashMap<SourceKind, usize> = HashMap::new();
    for row in StageKindCount::find_by_statement(statement(
        backend,
        "SELECT stage, source_kind, COUNT(*) AS n FROM item GROUP BY stage, source_kind",
        Vec::new(),
    ))
    .all(db)
    .await?
    {
        let n = usize::try_from(row.n).unwrap_or(0);
        if let Some(stage) = Stage::parse(&row.stage) {
            *by_stage.entry(stage).or_default() += n;
        }
        if let Some(kind) = SourceKind::parse(&row.source_kind) {
            *by_source_kind.entry(kind).or_default() += n;
        }
    }
    let mut by_colour: HashMap<Colour, usize> = HashMap::new();
    for colour in worst.values() {
        *by_colour.entry(*colour).or_default() += 1;
    }
    // Open items with no colour: those the pass did not colour (suspended, none of their
    // units live) and those it found on schedule. Items not yet assigned are owed by no
    // unit and have no colour to count (docs/rules.md §3).
    let open: usize = by_stage
        .iter()
        .filter(|(stage, _)| stage.is_open() && **stage != Stage::Registered)
        .map(|(_, n)| n)
        .sum();
    let coloured: usize = by_colour
        .iter()
        .filter(|(colour, _)| **colour != Colour::None)
        .map(|(_, n)| n)
        .sum();
    by_colour.insert(Colour::None, open.saturating_sub(coloured));
    let previous =
        crate::service::store::history::unit_colours(db, previous_month(&rules, now), now).await?;
    Ok(Board {
        at: now,
        policy_version: rule_set.policy_version,
        by_colour,
        by_stage,
        by_source_kind,
        units: tally.standings(rules.policy, units, &previous),
        coloured_items: by_id(worst.into_iter()),
    })
}

/// What the board is computed from.
pub struct BoardSources<'a> {
    pub db: &'a DatabaseConnection,
    pub calendar: &'a CalendarStore,
    pub time_zone: Tz,
    pub clock: &'a Clock,
    /// How long a board stays current when nothing is written (the colour refresh).
    pub fresh_for: Duration,
}

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
}

/// This instance's board of "now", shared by every reader; see the module's comment.
#[derive(Clone, Default)]
pub struct BoardCache(Arc<CacheInner>);

/// A change of what every colour rests on (the policy, the calendar, units, all items) drops
/// the held board at once. An item's change does not: every write moves the audit trail's
/// last id, which each read compares (on any instance), and dropping the board again when
/// the live tail hears the same write half a second later would compute it twice per write.
impl KeptCopy for BoardCache {
    fn changed(&self, change: &Change) {
        if matches!(change, Change::Unheard | Change::Heard | Change::Items(_)) {
            return;
        }
        if let Ok(mut held) = self.held() {
            self.0
                .forgotten
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            *held = None;
        }
    }
}

#[derive(Default)]
struct CacheInner {
    held: std::sync::Mutex<Option<Held>>,
    /// One computation at a time; readers that find the board out of date queue here and
    /// find the one computed while they waited.
    flight: tokio::sync::Mutex<()>,
    /// When a reader last asked: the live tail keeps the board ahead only while it is read.
    last_read: std::sync::Mutex<Option<std::time::Instant>>,
    /// `caches = off`: every reader computes the board.
    switched_off: bool,
    /// How many times the held board was dropped: a board computed across a drop is not
    /// kept (it may miss the change, whose audit id need not be the last on PostgreSQL).
    forgotten: std::sync::atomic::AtomicU64,
}

#[derive(FromQueryResult)]
struct LastId {
    id: Option<i64>,
}

impl BoardCache {
    pub fn new(caches: Caches) -> BoardCache {
        BoardCache(Arc::new(CacheInner {
            switched_off: !caches.on(),
            ..CacheInner::default()
        }))
    }

    /// The board now: the held one while it is current, else a new one.
    pub async fn now(&self, sources: &BoardSources<'_>) -> AppResult<Arc<Board>> {
        if self.0.switched_off {
            let rule_set = RuleSet::load(sources.db, sources.calendar, sources.time_zone).await?;
            return Ok(Arc::new(
                board_now(sources.db, &rule_set, sources.clock.now()).await?,
            ));
        }
        self.mark_read();
        let version = version_of(sources).await?;
        if let Some(board) = self.current_for(&version, sources) {
            return Ok(board);
        }
        let _flight = self.0.flight.lock().await;
        // Whoever held the flight may have computed it, or written since.
        let version = version_of(sources).await?;
        if let Some(board) = self.current_for(&version, sources) {
            return Ok(board);
        }
        let generation = self.0.forgotten.load(std::sync::atomic::Ordering::SeqCst);
        let rule_set = RuleSet::load(sources.db, sources.calendar, sources.time_zone).await?;
        let board = Arc::new(board_now(sources.db, &rule_set, sources.clock.now()).await?);
        // Kept under the version read before computing: a write that lands meanwhile makes
        // the next reader compute again rather than be missed; one heard meanwhile, too.
        let mut held = self.held()?;
        if self.0.forgotten.load(std::sync::atomic::Ordering::SeqCst) == generation {
            *held = Some(Held {
                version,
                board: Arc::clone(&board),
            });
        }
        Ok(board)
    }

    /// The held board if it is current, without computing one: for readers that can do
    /// without it.
    pub async fn current(&self, sources: &BoardSources<'_>) -> AppResult<Option<Arc<Board>>> {
        if self.0.switched_off {
            return Ok(None);
        }
        // Counts as a read: the tail keeps ahead a board that such readers would use.
        self.mark_read();
        let version = version_of(sources).await?;
        Ok(self.current_for(&version, sources))
    }

    /// Whether someone read the board within `within`: the tail computes ahead only then.
    pub fn read_within(&self, within: Duration) -> bool {
        self.0
            .last_read
            .lock()
            .ok()
            .and_then(|l| *l)
            .is_some_and(|at| at.elapsed() < within)
    }

    fn mark_read(&self) {
        if let Ok(mut last_read) = self.0.last_read.lock() {
            *last_read = Some(std::time::Instant::now());
        }
    }

    /// Whether a computation is under way.
    pub fn busy(&self) -> bool {
        self.0.flight.try_lock().is_err()
    }

    fn current_for(&self, version: &Version, sources: &BoardSources<'_>) -> Option<Arc<Board>> {
        let now = sources.clock.now();
        let held = self.held().ok()?;
        let held = held.as_ref()?;
        let age = now.signed_duration_since(held.board.at);
        let young = age >= chrono::Duration::zero()
            && age.to_std().is_ok_and(|age| age < sources.fresh_for);
        (held.version == *version && young).then(|| Arc::clone(&held.board))
    }

    fn held(&self) -> AppResult<std::sync::MutexGuard<'_, Option<Held>>> {
        self.0
            .held
            .lock()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("board cache lock poisoned")))
    }
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
