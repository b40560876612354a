//! The one pass over the month's items and assignments: the district's totals, the figures
//! per source kind, a tally per unit, and the red and yellow lists. Each fact is read once,
//! which keeps the report linear in items and assignments (BENCHMARKS.md).

use std::cmp::Ordering;
use std::collections::HashMap;

use ducha_domain::colour::{self, Colour, Verdict, assignment_colour, working_days_late};
use ducha_domain::{SourceKind, Stage};

use super::{Period, ReportRules, rate};
use crate::facts::{AssignmentFacts, Closure, ItemFacts, ReportFacts};
use crate::model::{FlaggedItem, SourceFigures, Totals};

/// One unit's counts, before its colour and rank are known.
#[derive(Default)]
pub(super) struct UnitTally {
    pub(super) assigned: u32,
    pub(super) co_assigned: u32,
    pub(super) closed: u32,
    pub(super) closed_on_time_original: u32,
    pub(super) closed_on_time: u32,
    pub(super) open_at_end: u32,
    pub(super) overdue: u32,
    pub(super) extended: u32,
    pub(super) reworked: u32,
    pub(super) reopened: u32,
    /// (serial, colour) of its open assignments, for the unit colour rules.
    pub(super) open_colours: Vec<(String, Colour)>,
}

impl UnitTally {
    /// Whether the unit had anything to do this month; a unit without items is not rated.
    pub(super) fn has_items(&self) -> bool {
        self.assigned + self.co_assigned + self.closed + self.open_at_end > 0
            || !self.open_colours.is_empty()
    }
}

/// What the pass yields: everything of the report that is counted rather than judged.
pub(super) struct Tally {
    /// All totals but the units' colours, which need the unit table.
    pub(super) totals: Totals,
    /// In `SourceKind::ALL` order, kinds without figures left out.
    pub(super) by_source_kind: Vec<SourceFigures>,
    pub(super) units: HashMap<i64, UnitTally>,
    /// Most overdue first.
    pub(super) red_items: Vec<FlaggedItem>,
    pub(super) yellow_items: Vec<FlaggedItem>,
}

/// Counts the month: every item, then every assignment of an item among the facts.
pub(super) fn tally(facts: &ReportFacts, rules: &ReportRules<'_>, period: &Period) -> Tally {
    let mut counter = Counter::default();
    // Each item's last 销号 of the month, from the audit trail: an item closed and then
    // reopened by 回头看 within the month still counts as closed in it (docs/rules.md §1).
    for closure in facts.closures.iter().filter(|c| period.contains(c.at)) {
        let slot = counter
            .month_closure
            .entry(closure.item_id)
            .or_insert(*closure);
        if closure.at > slot.at {
            *slot = *closure;
        }
    }
    for item in &facts.items {
        counter.count_item(item, period);
    }
    counter.count_assignments(facts, rules, period);
    counter.finish()
}

/// The running counts of the pass.
#[derive(Default)]
struct Counter {
    totals: Totals,
    by_kind: HashMap<SourceKind, SourceFigures>,
    units: HashMap<i64, UnitTally>,
    /// The worst colour of each open item over its assignments (docs/rules.md §3: an item's
    /// colour is the worst of its units').
    item_colour: HashMap<i64, Colour>,
    red_items: Vec<FlaggedItem>,
    yellow_items: Vec<FlaggedItem>,
    /// Each item's last closure of the month, by item id.
    month_closure: HashMap<i64, Closure>,
}

impl Counter {
    /// Counts an item towards the district's totals and its source kind's row. Items are
    /// counted here once, whatever the number of units they are assigned to.
    fn count_item(&mut self, item: &ItemFacts, period: &Period) {
        let kind = self
            .by_kind
            .entry(item.source_kind)
            .or_insert_with(|| SourceFigures {
                kind: item.source_kind.as_str().to_string(),
                label: item.source_kind.label().to_string(),
                registered: 0,
                closed: 0,
                closed_on_time: 0,
                open_at_end: 0,
                overdue: 0,
            });
        let totals = &mut self.totals;
        if period.contains(item.registered_at) {
            totals.registered += 1;
            kind.registered += 1;
        }
        if item.cancelled_at.is_some_and(|t| period.contains(t)) {
            totals.cancelled += 1;
        }
        if let Some(closure) = self.month_closure.get(&item.id) {
            totals.closed += 1;
            kind.closed += 1;
            totals.closed_on_time_original += u32::from(closure.on_time_original);
            totals.closed_on_time += u32::from(closure.on_time);
            kind.closed_on_time += u32::from(closure.on_time);
        }
        totals.reworked += u32::try_from(item.rejections_in_month).unwrap_or(0);
        totals.reopened += u32::from(item.reopened_in_month);
        if open_at_end(item.stage_at_end) {
            totals.open_at_end += 1;
            kind.open_at_end += 1;
        }
    }

    /// Counts each assignment towards its unit, and colours those still open at the
    /// month's end. An assignment of an item missing from the facts is skipped.
    fn count_assignments(&mut self, facts: &ReportFacts, rules: &ReportRules<'_>, period: &Period) {
        let items: HashMap<i64, &ItemFacts> = facts.items.iter().map(|i| (i.id, i)).collect();
        let unit_names: HashMap<i64, &str> = facts
            .units
            .iter()
            .map(|u| (u.id, u.name.as_str()))
            .collect();
        let mut tasks: HashMap<i64, Vec<&crate::facts::TaskColourFacts>> = HashMap::new();
        for task in &facts.tasks {
            tasks.entry(task.assignment_id).or_default().push(task);
        }
        for a in &facts.assignments {
            let Some(item) = items.get(&a.item_id).copied() else {
                continue;
            };
            self.count_work(a, item, period);
            if !open_at_end(item.stage_at_end) {
                continue;
            }
            let facts = colour_facts(a, item);
            self.count_open(a, item, colour::is_overdue(&facts, period.at));
            let own = assignment_colour(
                rules.calendar,
                rules.time_zone,
                rules.policy,
                &facts,
                period.at,
            );
            // The tasks handed down from it roll in (docs/rules.md §8).
            let verdict = tasks.get(&a.id).into_iter().flatten().fold(own, |held, t| {
                let task = colour::task_colour(
                    rules.calendar,
                    rules.time_zone,
                    rules.policy,
                    &t.facts,
                    period.at,
                );
                colour::rolled_up(held, &t.unit_name, task)
            });
            self.units
                .entry(a.unit_id)
                .or_default()
                .open_colours
                .push((item.serial.clone(), verdict.colour));
            let worst = self.item_colour.entry(item.id).or_insert(Colour::None);
            *worst = (*worst).max(verdict.colour);
            if verdict.colour >= Colour::Yellow {
                let unit = unit_names.get(&a.unit_id).copied().unwrap_or("");
                let red = verdict.colour == Colour::Red;
                let late = working_days_late(rules.calendar, rules.time_zone, &facts, period.at);
                let flagged = flagged_item(rules, a, item, unit, late, verdict);
                if red {
                    self.red_items.push(flagged);
                } else {
                    self.yellow_items.push(flagged);
                }
            }
        }
    }

    /// Counts an assignment's work of the month towards its unit. A unit answers for the
    /// items it leads (牵头), so closures, extensions, rework and reopenings count for the
    /// lead only; an assisting unit (协办) counts its assignment as co-assigned.
    fn count_work(&mut self, a: &AssignmentFacts, item: &ItemFacts, period: &Period) {
        let tally = self.units.entry(a.unit_id).or_default();
        if period.contains(a.assigned_at) {
            if a.lead {
                tally.assigned += 1;
                self.totals.assigned += 1;
            } else {
                tally.co_assigned += 1;
            }
        }
        if a.lead {
            if let Some(closure) = self
                .month_closure
                .get(&item.id)
                .filter(|c| c.unit_id == a.unit_id)
            {
                tally.closed += 1;
                tally.closed_on_time_original += u32::from(closure.on_time_original);
                tally.closed_on_time += u32::from(closure.on_time);
            }
            tally.extended += u32::from(a.extended_in_month);
            self.totals.extended += u32::from(a.extended_in_month);
            tally.reworked += u32::try_from(item.rejections_in_month).unwrap_or(0);
            tally.reopened += u32::from(item.reopened_in_month);
        }
    }

    /// Counts an assignment open at the month's end towards the open and overdue figures.
    /// As with the work, only the lead's assignment counts, so an item is overdue once in
    /// the totals however many units assist.
    fn count_open(&mut self, a: &AssignmentFacts, item: &ItemFacts, overdue: bool) {
        if a.lead {
            let tally = self.units.entry(a.unit_id).or_default();
            tally.open_at_end += 1;
            if overdue {
                tally.overdue += 1;
                self.totals.overdue += 1;
                if let Some(kind) = self.by_kind.get_mut(&item.source_kind) {
                    kind.overdue += 1;
                }
            }
        }
    }

    /// Completes the totals with what needs the whole pass, and orders the red and yellow
    /// lists.
    fn finish(mut self) -> Tally {
        for colour in self.item_colour.values() {
            self.totals.item_colours.add(*colour);
        }
        self.totals.on_time_rate = rate(self.totals.closed_on_time, self.totals.closed);
        self.red_items.sort_by(by_most_overdue);
        self.yellow_items.sort_by(by_most_overdue);
        Tally {
            totals: self.totals,
            by_source_kind: source_kind_rows(self.by_kind),
            units: self.units,
            red_items: self.red_items,
            yellow_items: self.yellow_items,
        }
    }
}

/// Whether an item counts as in hand (在办) at the month's end: not closed or cancelled,
/// and assigned (a merely registered item is owed by no unit yet).
fn open_at_end(stage: Stage) -> bool {
    stage.is_open() && stage != Stage::Registered
}

/// The assignment's facts for the colour rules (docs/rules.md §3) as they stood at the
/// month's end.
fn colour_facts(a: &AssignmentFacts, item: &ItemFacts) -> colour::AssignmentFacts {
    colour::AssignmentFacts {
        stage: item.stage_at_end,
        due_at: a.due_at,
        extended_due_at: a.extended_due_at,
        rejections: item.rejections_by_end,
        reopened: item.reopened_by_end,
        report_cycle_days: item.report_cycle_days,
        report_cycle_working_days: item.report_cycle_working_days,
        last_report_or_assigned_at: a.last_report_or_assigned_at,
        feedback_at: a.feedback_at,
        lead: a.lead,
        first_feedback_at: a.first_feedback_at,
        own_report_at: a.own_report_at,
    }
}

/// A row of the red or yellow list: the item as one unit's assignment, so an item with
/// several units has a row per unit. `late` is the lateness its reason states.
fn flagged_item(
    rules: &ReportRules<'_>,
    a: &AssignmentFacts,
    item: &ItemFacts,
    unit: &str,
    late: i64,
    verdict: Verdict,
) -> FlaggedItem {
    FlaggedItem {
        item_id: item.id,
        serial: item.serial.clone(),
        title: item.title.clone(),
        unit: unit.to_string(),
        lead: a.lead,
        due: a
            .extended_due_at
            .unwrap_or(a.due_at)
            .with_timezone(&rules.time_zone)
            .date_naive(),
        working_days_overdue: late,
        reason: verdict.reason,
    }
}

/// The red and yellow lists' order: most working days overdue first, then by serial, the
/// lead unit's row before its co-units'.
fn by_most_overdue(x: &FlaggedItem, y: &FlaggedItem) -> Ordering {
    y.working_days_overdue
        .cmp(&x.working_days_overdue)
        .then_with(|| x.serial.cmp(&y.serial))
        .then_with(|| y.lead.cmp(&x.lead))
}

/// The source kinds' rows in their fixed order, leaving out kinds with nothing to show.
fn source_kind_rows(mut by_kind: HashMap<SourceKind, SourceFigures>) -> Vec<SourceFigures> {
    let mut rows: Vec<SourceFigures> = SourceKind::ALL
        .iter()
        .filter_map(|k| by_kind.remove(k))
        .collect();
    rows.retain(|k| k.registered + k.closed + k.open_at_end > 0);
    rows
}
