//! The unit table: each unit's figures, its colour with reason and measure
//! (docs/rules.md §3, [000 Art.68]), and its rank; and the units the report praises, names
//! and calls in.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use ducha_domain::colour::{Colour, ColourPolicy, UnitFacts, Verdict, unit_colour, unit_measure};

use super::rate;
use super::tally::UnitTally;
use crate::facts::{ReportFacts, UnitInfo};
use crate::model::{ColourCounts, NamedUnit, UnitFigures};

/// The units in report order, with which of them had items this month.
pub(super) struct UnitTable {
    /// Ranked units first (by rank), then units without items this month.
    pub(super) units: Vec<UnitFigures>,
    /// By unit id: whether the unit had items this month or closures in the window (and so
    /// a colour that counts).
    active: HashMap<i64, bool>,
}

impl UnitTable {
    /// A row for every unit of the facts, coloured against last month's report (for the
    /// "two periods running" rules) and ranked.
    pub(super) fn build(
        facts: &ReportFacts,
        policy: &ColourPolicy,
        at: DateTime<Utc>,
        mut tallies: HashMap<i64, UnitTally>,
    ) -> UnitTable {
        let window = window_closures(facts, policy, at);
        let previous: HashMap<i64, &UnitFigures> = facts
            .previous
            .iter()
            .flat_map(|p| p.units.iter())
            .map(|u| (u.unit_id, u))
            .collect();
        let mut units: Vec<UnitFigures> = facts
            .units
            .iter()
            .map(|info| {
                let tally = tallies.remove(&info.id).unwrap_or_default();
                let before = previous.get(&info.id).copied();
                let closures = window.get(&info.id).copied().unwrap_or_default();
                let verdict = unit_verdict(policy, &tally, closures, before);
                let mut row = unit_figures(info, &tally, verdict, before);
                row.window_days = policy.on_time_window_days;
                (row.window_closed, row.window_closed_on_time) = closures;
                row.window_on_time_rate = rate(closures.1, closures.0);
                row
            })
            .collect();
        // Open co-unit parts count too: the board colours a unit by them.
        let active: HashMap<i64, bool> = units
            .iter()
            .map(|u| {
                (
                    u.unit_id,
                    u.assigned
                        + u.co_assigned
                        + u.closed
                        + u.open_at_end
                        + u.window_closed
                        + u.red_open
                        + u.yellow_open
                        > 0
                        || u.colour != Colour::None,
                )
            })
            .collect();
        rank_units(&mut units, &active);
        UnitTable { units, active }
    }

    /// The colours of the units with items; a unit without items has no colour to count.
    pub(super) fn colour_counts(&self) -> ColourCounts {
        let mut counts = ColourCounts::default();
        for u in self.units.iter().filter(|u| self.active[&u.unit_id]) {
            counts.add(u.colour);
        }
        counts
    }

    /// Units to praise (通报表扬, [002 Art.71]): every closure of the month on time, none
    /// overdue, and no colour.
    pub(super) fn praised(&self) -> Vec<String> {
        self.units
            .iter()
            .filter(|u| {
                u.closed > 0
                    && u.closed_on_time == u.closed
                    && u.overdue == 0
                    && u.colour == Colour::None
            })
            .map(|u| u.unit.clone())
            .collect()
    }

    /// The units with items of `colour`, with the reason, for the measure the colour leads
    /// to (BLUE 提醒, YELLOW 通报, RED 约谈 [000 Art.68]).
    pub(super) fn named_with(&self, colour: Colour) -> Vec<NamedUnit> {
        self.units
            .iter()
            .filter(|u| u.colour == colour && self.active[&u.unit_id])
            .map(|u| NamedUnit {
                unit: u.unit.clone(),
                reason: u.colour_reason.clone(),
            })
            .collect()
    }
}

/// Each unit's closures in the on-time window ending at `at` (closed, on time): the same
/// window the board judges by, so that at a month's end both give every unit one colour.
fn window_closures(
    facts: &ReportFacts,
    policy: &ColourPolicy,
    at: DateTime<Utc>,
) -> HashMap<i64, (u32, u32)> {
    let start = at - Duration::days(policy.on_time_window_days);
    let mut by_unit: HashMap<i64, (u32, u32)> = HashMap::new();
    for closure in facts
        .closures
        .iter()
        .filter(|c| c.at >= start && c.at <= at)
    {
        let entry = by_unit.entry(closure.unit_id).or_default();
        entry.0 += 1;
        entry.1 += u32::from(closure.on_time);
    }
    by_unit
}

/// A unit's colour by the unit rules (docs/rules.md §3) over its open assignments' colours
/// at the month's end and its closures in the window ending then: what the board showed at
/// that instant. A unit without items is not rated.
fn unit_verdict(
    policy: &ColourPolicy,
    tally: &UnitTally,
    (closed, closed_on_time): (u32, u32),
    before: Option<&UnitFigures>,
) -> Verdict {
    if tally.has_items() || closed > 0 {
        unit_colour(
            policy,
            &UnitFacts {
                items: tally.open_colours.clone(),
                closed: closed as usize,
                closed_on_time: closed_on_time as usize,
                previous_colour: previous_colour(before),
            },
        )
    } else {
        Verdict {
            colour: Colour::None,
            reason: "本月无督办事项".into(),
        }
    }
}

/// A unit's row, unranked, with last month's rate and colour beside this month's.
fn unit_figures(
    info: &UnitInfo,
    tally: &UnitTally,
    verdict: Verdict,
    before: Option<&UnitFigures>,
) -> UnitFigures {
    UnitFigures {
        unit_id: info.id,
        unit: info.name.clone(),
        kind: info.kind.clone(),
        rank: None,
        assigned: tally.assigned,
        co_assigned: tally.co_assigned,
        closed: tally.closed,
        closed_on_time_original: tally.closed_on_time_original,
        closed_on_time: tally.closed_on_time,
        closed_late: tally.closed - tally.closed_on_time,
        on_time_rate: rate(tally.closed_on_time, tally.closed),
        open_at_end: tally.open_at_end,
        overdue: tally.overdue,
        extended: tally.extended,
        reworked: tally.reworked,
        reopened: tally.reopened,
        window_days: 0,
        window_closed: 0,
        window_closed_on_time: 0,
        window_on_time_rate: None,
        red_open: count_of(&tally.open_colours, Colour::Red),
        yellow_open: count_of(&tally.open_colours, Colour::Yellow),
        measure: unit_measure(verdict.colour).to_string(),
        colour: verdict.colour,
        colour_reason: verdict.reason,
        previous_on_time_rate: before.and_then(|b| b.on_time_rate),
        previous_colour: previous_colour(before),
    }
}

fn count_of(colours: &[(String, Colour)], colour: Colour) -> u32 {
    u32::try_from(colours.iter().filter(|(_, c)| *c == colour).count()).unwrap_or(u32::MAX)
}

/// A unit's colour last month, if it had items then (a unit without items was not rated).
fn previous_colour(before: Option<&UnitFigures>) -> Option<Colour> {
    before.filter(|b| b.rank.is_some()).map(|b| b.colour)
}

/// Ranks the units with items (docs/rules.md §6), from the report's own columns: better
/// colour first, then the higher on-time rate over the window the colour is judged by (a
/// unit that closed nothing in it counts as on time unless it has overdue items), then
/// fewer overdue at the month's end, then more closed in the month. Equal keys share a rank
/// ("1, 2, 2, 4"); units without items are unranked and listed last, by name.
fn rank_units(units: &mut [UnitFigures], active: &HashMap<i64, bool>) {
    let key = |u: &UnitFigures| {
        let rate = u
            .window_on_time_rate
            .unwrap_or(if u.overdue == 0 { 100.0 } else { 0.0 });
        // Rates are percentages with finite precision; compare them in tenths of a basis
        // point so equal rates tie exactly.
        let rate = (rate * 1000.0).round() as i64;
        (u.colour, Reverse(rate), u.overdue, Reverse(u.closed))
    };
    units.sort_by(|x, y| {
        let (ax, ay) = (active[&x.unit_id], active[&y.unit_id]);
        ay.cmp(&ax)
            .then_with(|| {
                if ax && ay {
                    key(x).cmp(&key(y))
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then_with(|| x.unit.cmp(&y.unit))
    });
    let mut previous_key = None;
    let mut rank = 0;
    for (position, unit) in units.iter_mut().enumerate() {
        if !active[&unit.unit_id] {
            continue;
        }
        let this = key(unit);
        if previous_key.as_ref() != Some(&this) {
            rank = position as u32 + 1;
            previous_key = Some(this);
        }
        unit.rank = Some(rank);
    }
}
