//! LEGACY — the unit rule as it stood before issue 30 (domain/src/colour.rs before commit
//! a4f4776), kept here only so the simulation can show what it did: RED at two red items or
//! an on-time rate under 80 %, YELLOW at one red item or under 90 %, BLUE at any yellow item
//! or under 95 %, the rate over the month's closures alone with no minimum count, and
//! "two periods running" on top. Counts, not shares: a big unit is coloured by its volume,
//! and one late closure of two is a rate of 50 %. This is what gave "30 of 31 units RED".
//! Not the product's rule; do not use it for anything but the comparison.

use std::collections::HashMap;

use ducha_domain::colour::Colour;
use ducha_report::{MonthlyReport, UnitFigures};

/// The legacy defaults (fixed: the comparison is with what offices actually had).
const LEGACY_RED_ITEMS_FOR_RED: u32 = 2;
const LEGACY_BLUE_BELOW: f64 = 95.0;
const LEGACY_YELLOW_BELOW: f64 = 90.0;
const LEGACY_RED_BELOW: f64 = 80.0;

/// LEGACY unit colour of one unit's row, given its legacy colour last month.
pub fn legacy_unit_colour(u: &UnitFigures, previous: Option<Colour>) -> Colour {
    let mut colour = Colour::None;
    if u.red_open >= LEGACY_RED_ITEMS_FOR_RED {
        colour = colour.max(Colour::Red);
    } else if u.red_open > 0 {
        colour = colour.max(Colour::Yellow);
    }
    if u.yellow_open > 0 {
        colour = colour.max(Colour::Blue);
    }
    // The month's closures only, however few.
    if u.closed > 0 {
        let rate = f64::from(u.closed_on_time) * 100.0 / f64::from(u.closed);
        let by_rate = if rate < LEGACY_RED_BELOW {
            Colour::Red
        } else if rate < LEGACY_YELLOW_BELOW {
            Colour::Yellow
        } else if rate < LEGACY_BLUE_BELOW {
            Colour::Blue
        } else {
            Colour::None
        };
        colour = colour.max(by_rate);
    }
    match (previous, colour) {
        (Some(Colour::Blue), Colour::Blue) => Colour::Yellow,
        (Some(Colour::Yellow), Colour::Yellow) => Colour::Red,
        _ => colour,
    }
}

/// LEGACY colours of the report's units with items (those the report ranks), by unit id,
/// against the legacy colours of the month before.
pub fn legacy_colours(
    report: &MonthlyReport,
    previous: &HashMap<i64, Colour>,
) -> HashMap<i64, Colour> {
    report
        .units
        .iter()
        .filter(|u| u.rank.is_some())
        .map(|u| {
            (
                u.unit_id,
                legacy_unit_colour(u, previous.get(&u.unit_id).copied()),
            )
        })
        .collect()
}
