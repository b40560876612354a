//! The 蓝黄红 board: the open items by colour, every item by stage and source, and each
//! unit's colour with its reason and measure (docs/rules.md §3, design.md "看板").
//!
//! Colours are computed, not stored, and a unit's colour depends on every open assignment it
//! holds, so the board costs a pass over all of them — about a second at 100,000 items. The
//! office and the leaders keep it open all day, on wall screens that reload it at every
//! change. So each instance keeps one board ([`BoardCache`], `cache`) taken apart by item
//! ([`BoardParts`], `parts`): a change judges again only the items it touched, and the whole
//! pass runs once a colour refresh, in the background, to let time move the colours.

mod cache;
mod parts;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ducha_domain::colour::Colour;
use ducha_domain::{SourceKind, Stage};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::calendar_store::CalendarStore;
use crate::clock::Clock;
use crate::error::AppResult;
use crate::service::watch::colours::{RuleSet, UnitStanding, unit_standings};

pub use cache::{BoardCache, BoardCounts, MOST_TOUCHED};
pub use parts::BoardParts;

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

/// The board now, in one streamed pass over the open assignments (the sweep's own query,
/// without its notices) and a few plain reads; [`board_as_of`] at the same instant gives the
/// same board (a test holds them together), at several times the cost.
pub async fn board_now(
    db: &DatabaseConnection,
    rule_set: &RuleSet,
    now: DateTime<Utc>,
) -> AppResult<Board> {
    Ok(BoardParts::compute(db, rule_set.clone(), now)
        .await?
        .board())
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
