//! What each item adds to the board, kept beside the held board so that a change judges
//! again only the items it touched (issue 32: after any write the board took 0.4–0.7 s at
//! 100,000 items, recomputing every unit from every open assignment).
//!
//! The parts are the board's sums taken apart: every item's stage and source kind (the
//! counts), the units each open item counts for with its colour there (the units'
//! standings), the items' worst colours (the colour counts and the colour filter's
//! candidates) and the closures in the on-time window. Taking an item's old parts out and
//! putting its new ones in gives the board a full pass would give at the same instant: a
//! test holds the two together change by change.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use ducha_domain::colour::{Colour, assignment_colour};
use ducha_domain::{SourceKind, Stage};
use futures_util::TryStreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryOrder};

use crate::error::AppResult;
use crate::service::store::sql::{Pacer, json_ids, json_ids_in, statement};
use crate::service::watch::board::shape::Board;
use crate::service::watch::colours::tasks::TaskVerdicts;
use crate::service::watch::colours::{RuleSet, UnitStanding, previous_month, unit_standing};
use crate::service::watch::sweep::{
    OpenAssignment, open_assignment_facts, open_assignment_facts_among,
};
use entity::unit;

/// An item's place in one unit's list: by item, then assignment (a unit may hold two live
/// assignments of one item, and each counts, as in the full pass).
type UnitItemKey = (i64, i64);

/// One open item in a unit's list: its colour there, and its serial when a reason may name
/// it (only red and yellow items are named, so the others keep none).
type UnitItem = (Colour, Option<Box<str>>);

/// The board taken apart by item; see the module's comment.
pub struct BoardParts {
    rule_set: RuleSet,
    /// The instant the whole board was judged at (touched items are judged when touched).
    at: DateTime<Utc>,
    /// The start of the on-time window at `at`.
    window_start: DateTime<Utc>,
    units: Vec<unit::Model>,
    /// The units' colours in the last published period.
    previous: HashMap<i64, Colour>,
    /// Every item's stage and source kind, and their sums.
    items: HashMap<i64, (Stage, SourceKind)>,
    by_stage: HashMap<Stage, usize>,
    by_source_kind: HashMap<SourceKind, usize>,
    /// The units each open item counts for (one entry per live assignment).
    open: HashMap<i64, Vec<i64>>,
    unit_open: HashMap<i64, BTreeMap<UnitItemKey, UnitItem>>,
    /// The open items with a colour (red, yellow or blue): the worst of their assignments'.
    coloured: BTreeMap<i64, Colour>,
    /// The 销号 in the window, by item: (the lead unit then, whether on time).
    closures: HashMap<i64, Vec<(i64, bool)>>,
    unit_closed: HashMap<i64, (usize, usize)>,
    standings: HashMap<i64, UnitStanding>,
    /// The open tasks' verdicts, rolled into their parts' colours (docs/rules.md §8).
    tasks: TaskVerdicts,
    /// Each unit's top-level unit: a sub-unit's parts count under it (§8).
    tops: HashMap<i64, i64>,
}

#[derive(FromQueryResult)]
struct QuietAssignment {
    id: i64,
    unit_id: i64,
    item_id: i64,
    serial: String,
}

#[derive(FromQueryResult)]
struct ItemKind {
    id: i64,
    stage: String,
    source_kind: String,
}

/// Open items whose clock does not run (suspended) still count for their units,
/// uncoloured.
const QUIET_SQL: &str = "SELECT a.id, a.unit_id, a.item_id, i.serial FROM assignment a \
     JOIN item i ON i.id = a.item_id \
     WHERE i.stage NOT IN ('ASSIGNED', 'IN_PROGRESS', 'FEEDBACK_SUBMITTED', 'VERIFIED', \
                           'CLOSED', 'CANCELLED') \
       AND a.status <> 'WITHDRAWN'";

impl BoardParts {
    /// The parts of the board at `now`, in one streamed pass over the open assignments (the
    /// sweep's own query, without its notices) and a few plain reads.
    pub async fn compute(
        db: &DatabaseConnection,
        rule_set: RuleSet,
        now: DateTime<Utc>,
    ) -> AppResult<BoardParts> {
        let backend = db.get_database_backend();
        let units = unit::Entity::find()
            .order_by_asc(unit::Column::Id)
            .all(db)
            .await?;
        let window_start = now - chrono::Duration::days(rule_set.policy.on_time_window_days);
        let previous = crate::service::store::history::unit_colours(
            db,
            previous_month(&rule_set.rules(), now),
            now,
        )
        .await?;
        let tops = ducha_domain::tasks::top_levels(units.iter().map(|u| (u.id, u.parent_id)));
        let mut parts = BoardParts {
            rule_set,
            at: now,
            window_start,
            units,
            previous,
            items: HashMap::new(),
            by_stage: HashMap::new(),
            by_source_kind: HashMap::new(),
            open: HashMap::new(),
            unit_open: HashMap::new(),
            coloured: BTreeMap::new(),
            closures: HashMap::new(),
            unit_closed: HashMap::new(),
            tasks: TaskVerdicts::default(),
            tops,
            standings: HashMap::new(),
        };
        let mut pacer = Pacer::default();
        {
            let mut rows = ItemKind::find_by_statement(statement(
                backend,
                "SELECT id, stage, source_kind FROM item",
                Vec::new(),
            ))
            .stream(db)
            .await?;
            while let Some(row) = rows.try_next().await? {
                pacer.row().await;
                parts.add_item(&row);
            }
        }
        parts.tasks = TaskVerdicts::open_now(db, &parts.rule_set.rules(), None, now).await?;
        {
            let mut rows = open_assignment_facts(db, now).await?;
            while let Some(row) = rows.try_next().await? {
                pacer.row().await;
                parts.add_open(&row, now);
            }
            // The stream holds a pooled connection until dropped.
        }
        for quiet in QuietAssignment::find_by_statement(statement(backend, QUIET_SQL, Vec::new()))
            .all(db)
            .await?
        {
            parts.add_quiet(&quiet);
        }
        for closure in crate::service::store::history::closures(db, window_start, now).await? {
            parts.add_closure(&closure);
        }
        let every_unit: Vec<i64> = parts.units.iter().map(|u| u.id).collect();
        parts.stand(every_unit);
        Ok(parts)
    }

    /// Judges the items `touched` again as they are at `now`, in place of what they added
    /// before. Everything is read before anything is changed, so an error leaves the parts
    /// as they were.
    pub async fn refresh(
        &mut self,
        db: &impl ConnectionTrait,
        touched: &[i64],
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        if touched.is_empty() {
            return Ok(());
        }
        let among = json_ids_in(db.get_database_backend(), 1);
        let items: Vec<ItemKind> = rows_among(
            db,
            &format!("SELECT id, stage, source_kind FROM item WHERE id IN {among}"),
            touched,
        )
        .await?;
        let open = open_assignment_facts_among(db, now, touched).await?;
        let tasks = TaskVerdicts::open_now(db, &self.rule_set.rules(), Some(touched), now).await?;
        let quiet: Vec<QuietAssignment> = rows_among(
            db,
            &format!("{QUIET_SQL} AND a.item_id IN {among}"),
            touched,
        )
        .await?;
        let closures = crate::service::store::history::closures_among(
            db,
            self.window_start,
            now,
            Some(touched),
        )
        .await?;

        let mut units = HashSet::new();
        for item_id in touched {
            self.take_out(*item_id, &mut units);
        }
        self.tasks.replace(touched, tasks);
        for row in &items {
            self.add_item(row);
        }
        for row in &open {
            units.insert(self.top(row.unit_id));
            self.add_open(row, now);
        }
        for row in &quiet {
            units.insert(self.top(row.unit_id));
            self.add_quiet(row);
        }
        for closure in &closures {
            units.insert(self.top(closure.unit_id));
            self.add_closure(closure);
        }
        self.stand(units);
        Ok(())
    }

    /// The board these parts add up to.
    pub fn board(&self) -> Board {
        let mut by_colour: HashMap<Colour, usize> = HashMap::new();
        for colour in self.coloured.values() {
            *by_colour.entry(*colour).or_default() += 1;
        }
        // Open items with no colour: those on schedule, suspended, or with none of their
        // units live. Items not yet assigned are owed by no unit and have no colour to
        // count (docs/rules.md §3).
        let open: usize = self
            .by_stage
            .iter()
            .filter(|(stage, _)| stage.is_open() && **stage != Stage::Registered)
            .map(|(_, n)| n)
            .sum();
        by_colour.insert(Colour::None, open.saturating_sub(self.coloured.len()));
        Board {
            at: self.at,
            policy_version: self.rule_set.policy_version,
            by_colour,
            by_stage: self.by_stage.clone(),
            by_source_kind: self.by_source_kind.clone(),
            // Top-level units, the levels below rolled up into them (§8).
            units: self
                .units
                .iter()
                .filter(|u| u.parent_id.is_none())
                .filter_map(|u| self.standings.get(&u.id).cloned())
                .collect(),
            coloured_items: self.coloured.iter().map(|(id, c)| (*id, *c)).collect(),
        }
    }

    /// When the whole board was judged.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The calendar the parts were judged by.
    pub fn calendar(&self) -> &std::sync::Arc<ducha_calendar::Calendar> {
        &self.rule_set.calendar
    }

    fn add_item(&mut self, row: &ItemKind) {
        // A stage or kind this build does not know counts nowhere, as in the grouped read
        // the board used to make.
        let (Some(stage), Some(kind)) = (
            Stage::parse(&row.stage),
            SourceKind::parse(&row.source_kind),
        ) else {
            return;
        };
        self.items.insert(row.id, (stage, kind));
        *self.by_stage.entry(stage).or_default() += 1;
        *self.by_source_kind.entry(kind).or_default() += 1;
    }

    fn add_open(&mut self, row: &OpenAssignment, now: DateTime<Utc>) {
        let rules = self.rule_set.rules();
        let own = assignment_colour(
            rules.calendar,
            rules.time_zone,
            rules.policy,
            &row.facts(),
            now,
        );
        let colour = self.tasks.roll(row.id, own).colour;
        if colour != Colour::None {
            let worst = self.coloured.entry(row.item_id).or_insert(colour);
            *worst = (*worst).max(colour);
        }
        self.add_to_unit(row.unit_id, (row.item_id, row.id), &row.serial, colour);
    }

    fn add_quiet(&mut self, row: &QuietAssignment) {
        self.add_to_unit(
            row.unit_id,
            (row.item_id, row.id),
            &row.serial,
            Colour::None,
        );
    }

    /// The unit a part of `unit_id` counts for: its top-level unit.
    fn top(&self, unit_id: i64) -> i64 {
        self.tops.get(&unit_id).copied().unwrap_or(unit_id)
    }

    fn add_to_unit(&mut self, unit_id: i64, key: UnitItemKey, serial: &str, colour: Colour) {
        let unit_id = self.top(unit_id);
        self.open.entry(key.0).or_default().push(unit_id);
        let named = matches!(colour, Colour::Red | Colour::Yellow).then(|| serial.into());
        self.unit_open
            .entry(unit_id)
            .or_default()
            .insert(key, (colour, named));
    }

    fn add_closure(&mut self, closure: &ducha_report::Closure) {
        let unit_id = self.top(closure.unit_id);
        self.closures
            .entry(closure.item_id)
            .or_default()
            .push((unit_id, closure.on_time));
        let counts = self.unit_closed.entry(unit_id).or_default();
        counts.0 += 1;
        counts.1 += usize::from(closure.on_time);
    }

    /// Takes out all that `item_id` added, noting the units whose standing it changes.
    fn take_out(&mut self, item_id: i64, units: &mut HashSet<i64>) {
        if let Some((stage, kind)) = self.items.remove(&item_id) {
            decrement(&mut self.by_stage, stage);
            decrement(&mut self.by_source_kind, kind);
        }
        self.coloured.remove(&item_id);
        for unit_id in self.open.remove(&item_id).unwrap_or_default() {
            units.insert(unit_id);
            if let Some(list) = self.unit_open.get_mut(&unit_id) {
                let keys: Vec<UnitItemKey> = list
                    .range((item_id, i64::MIN)..=(item_id, i64::MAX))
                    .map(|(key, _)| *key)
                    .collect();
                for key in keys {
                    list.remove(&key);
                }
            }
        }
        for (unit_id, on_time) in self.closures.remove(&item_id).unwrap_or_default() {
            units.insert(unit_id);
            if let Some(counts) = self.unit_closed.get_mut(&unit_id) {
                counts.0 = counts.0.saturating_sub(1);
                counts.1 = counts.1.saturating_sub(usize::from(on_time));
            }
        }
    }

    /// Judges the standing of each of `units` again from its parts.
    fn stand(&mut self, units: impl IntoIterator<Item = i64>) {
        for unit_id in units {
            let Some(unit) = self.units.iter().find(|u| u.id == unit_id) else {
                // Not a unit of the board's (created since): the next full pass counts it.
                continue;
            };
            let open: Vec<(String, Colour)> = self
                .unit_open
                .get(&unit_id)
                .map(|list| {
                    list.values()
                        .map(|(colour, serial)| {
                            (serial.as_deref().unwrap_or_default().to_string(), *colour)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let standing = unit_standing(
                &self.rule_set.policy,
                unit.clone(),
                open,
                self.unit_closed.get(&unit_id).copied().unwrap_or_default(),
                self.previous.get(&unit_id).copied(),
            );
            self.standings.insert(unit_id, standing);
        }
    }
}

fn decrement<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(n) = counts.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&key);
        }
    }
}

/// The board now, in one streamed pass over the open assignments (the sweep's own query,
/// without its notices) and a few plain reads; `board_as_of` at the same instant gives the
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

/// The rows of `sql`, whose `$1` is the JSON array of `ids` (`sql::json_ids_in`).
async fn rows_among<T: FromQueryResult>(
    db: &impl ConnectionTrait,
    sql: &str,
    ids: &[i64],
) -> AppResult<Vec<T>> {
    Ok(T::find_by_statement(statement(
        db.get_database_backend(),
        sql,
        vec![json_ids(ids)],
    ))
    .all(db)
    .await?)
}
