//! Units' standings: their open items by colour and the unit colour the board and the 通报 share.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use ducha_domain::Stage;
pub use ducha_domain::colour::ItemColours;
use ducha_domain::colour::{Colour, ColourPolicy, UnitFacts, Verdict, unit_colour};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::error::AppResult;
use crate::service::watch::colours::as_of::items_as_of;
use crate::service::watch::colours::facts::{assignment_facts, colours_of};
use crate::service::watch::colours::policy::Rules;
use entity::{item, unit};

/// One unit's colour and the counts behind it.
#[derive(Debug, Clone)]
pub struct UnitStanding {
    pub unit: unit::Model,
    pub verdict: Verdict,
    pub open_items: usize,
    pub by_colour: HashMap<Colour, usize>,
    pub closed: usize,
    pub closed_on_time: usize,
}

/// The units' standings, the colours of the open items behind them, and those items.
pub type Standings = (
    Vec<UnitStanding>,
    HashMap<i64, ItemColours>,
    Vec<item::Model>,
);

/// What each unit's colour is judged from, gathered one assignment at a time.
#[derive(Default)]
pub struct UnitTally {
    /// Each unit's open items: (id, serial, colour). Counts are derived from it, and a
    /// reason lists the items in the order they were registered, whatever order rows came in.
    open: HashMap<i64, Vec<(i64, String, Colour)>>,
    /// Items the unit led that were closed in the window, and how many on time.
    closed: HashMap<i64, (usize, usize)>,
}

impl UnitTally {
    /// A live assignment of an open item, of the colour it has for its unit.
    pub fn open(&mut self, unit_id: i64, (item_id, serial): (i64, String), colour: Colour) {
        self.open
            .entry(unit_id)
            .or_default()
            .push((item_id, serial, colour));
    }

    /// An item the unit led that was closed in the on-time window.
    pub fn closed(&mut self, unit_id: i64, on_time: bool) {
        let entry = self.closed.entry(unit_id).or_default();
        entry.0 += 1;
        entry.1 += usize::from(on_time);
    }

    /// Every top-level unit's standing, the levels below rolled up into it (docs/rules.md §8);
    /// `previous` holds the colours of the last published period.
    pub fn standings(
        mut self,
        policy: &ColourPolicy,
        units: Vec<unit::Model>,
        previous: &HashMap<i64, Colour>,
    ) -> Vec<UnitStanding> {
        let tops = ducha_domain::tasks::top_levels(units.iter().map(|u| (u.id, u.parent_id)));
        for (unit, top) in &tops {
            if unit == top {
                continue;
            }
            if let Some(open) = self.open.remove(unit) {
                self.open.entry(*top).or_default().extend(open);
            }
            if let Some((closed, on_time)) = self.closed.remove(unit) {
                let entry = self.closed.entry(*top).or_default();
                entry.0 += closed;
                entry.1 += on_time;
            }
        }
        units
            .into_iter()
            .filter(|u| tops.get(&u.id) == Some(&u.id))
            .map(|u| {
                let mut open = self.open.remove(&u.id).unwrap_or_default();
                open.sort_by_key(|(id, _, _)| *id);
                let closed = self.closed.remove(&u.id).unwrap_or_default();
                let previous = previous.get(&u.id).copied();
                let open = open.into_iter().map(|(_, serial, c)| (serial, c)).collect();
                unit_standing(policy, u, open, closed, previous)
            })
            .collect()
    }
}

/// One unit's standing from its open items ((serial, colour), in the order they were
/// registered; only red and yellow serials are named in a reason), the items it led that
/// closed in the window (`(closed, on time)`), and its colour in the last published period.
pub fn unit_standing(
    policy: &ColourPolicy,
    unit: unit::Model,
    open: Vec<(String, Colour)>,
    (closed, closed_on_time): (usize, usize),
    previous_colour: Option<Colour>,
) -> UnitStanding {
    let mut by_colour: HashMap<Colour, usize> = HashMap::new();
    for (_, colour) in &open {
        *by_colour.entry(*colour).or_default() += 1;
    }
    let facts = UnitFacts {
        items: open,
        closed,
        closed_on_time,
        previous_colour,
    };
    UnitStanding {
        verdict: unit_colour(policy, &facts),
        unit,
        open_items: facts.items.len(),
        by_colour,
        closed,
        closed_on_time,
    }
}

/// The period before the one `at` falls in: the last month, as its published report froze
/// it, for the "two periods running" rules.
pub fn previous_month(rules: &Rules<'_>, at: DateTime<Utc>) -> ducha_report::Month {
    ducha_report::Month::of(at.with_timezone(&rules.time_zone).date_naive()).previous()
}

/// Every unit's colour as of `at` (its open assignments' colours, and its on-time rate over
/// the policy's window), and the colours of the open items behind them.
#[tracing::instrument(skip_all)]
pub async fn unit_standings(
    db: &impl ConnectionTrait,
    rules: &Rules<'_>,
    at: DateTime<Utc>,
) -> AppResult<Standings> {
    let units = unit::Entity::find()
        .order_by_asc(unit::Column::Id)
        .all(db)
        .await?;
    // As they stood at `at`: a dashboard asked about the past counts what existed then.
    // Items closed by then are not read: closures come from the audit trail.
    let open_items: Vec<item::Model> = items_as_of(db, at, at)
        .await?
        .into_iter()
        .filter(|i| Stage::from(i.stage).is_open())
        .collect();
    // The assignments as they stood at `at`, read once for the colours and the tally.
    let facts = assignment_facts(db, &open_items, at).await?;
    let tasks = super::facts::task_verdicts_as_of(db, rules, &open_items, at).await?;
    let colours = colours_of(
        rules,
        open_items.iter(),
        facts.iter().map(|f| (&f.assignment, &f.facts)),
        &tasks,
        at,
    );
    let serials: HashMap<i64, &item::Model> = open_items.iter().map(|i| (i.id, i)).collect();
    let mut tally = UnitTally::default();
    for a in facts.iter().map(|f| &f.assignment) {
        let Some(current) = serials.get(&a.item_id) else {
            continue;
        };
        let colour = colours
            .get(&a.item_id)
            .and_then(|c| c.by_assignment.get(&a.id))
            .map(|v| v.colour)
            .unwrap_or(Colour::None);
        tally.open(a.unit_id, (a.item_id, current.serial.clone()), colour);
    }
    let window_start = at - Duration::days(rules.policy.on_time_window_days);
    for closure in crate::service::store::history::closures(db, window_start, at).await? {
        tally.closed(closure.unit_id, closure.on_time);
    }
    let previous =
        crate::service::store::history::unit_colours(db, previous_month(rules, at), at).await?;
    let standings = tally.standings(rules.policy, units, &previous);
    Ok((standings, colours, open_items))
}
