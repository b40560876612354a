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
mod shape;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::colour::Colour;
use sea_orm::ConnectionTrait;

use crate::error::AppResult;
use crate::service::watch::colours::{RuleSet, unit_standings};

pub use cache::{BoardCache, BoardCounts, MOST_TOUCHED};
pub use parts::{BoardParts, board_now};
pub use shape::{Board, BoardSources};

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
