//! A month's `ReportFacts` read off the simulated lives, as the server's loader reads them
//! off the audit trail (`server/src/service/reports.rs`): items registered before the
//! month's end and not closed before its start, each as it stood at the end; every CLOSE
//! row for the on-time window; each assignment's latest progress or completion report.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::Stage;
use ducha_report::{AssignmentFacts, Closure, ItemFacts, Month, ReportFacts};

use super::clock::Clock;
use super::district::Unit;
use super::timeline::SimItem;

/// The facts of `month`, and each unit's open assignments at its end (lead and co-unit):
/// the denominator of the unit's shares, which the report does not print.
pub fn facts_at(
    items: &[SimItem],
    units: &[Unit],
    month: Month,
    clock: &Clock,
) -> (ReportFacts, HashMap<i64, u32>) {
    let (start, end) = month.bounds(clock.tz());
    let before_end = |t: &DateTime<Utc>| *t < end;
    let in_month = |t: &DateTime<Utc>| *t >= start && *t < end;
    let mut facts = ReportFacts {
        units: units.iter().map(|u| u.info.clone()).collect(),
        ..ReportFacts::default()
    };
    let mut open_assignments: HashMap<i64, u32> = HashMap::new();
    for item in items.iter().take_while(|i| i.registered_at < end) {
        let lead_unit = units[item.lead().unit].info.id;
        // Every CLOSE row counts in the window, even of an item reopened since: a 回头看
        // does not take back a closure that happened.
        for close in item.closes.iter().filter(|c| c.at < end) {
            facts.closures.push(Closure {
                item_id: item.id,
                unit_id: lead_unit,
                at: close.at,
                on_time: close.on_time_extended,
                on_time_original: close.on_time_extended,
            });
        }
        let stage = item
            .stages
            .iter()
            .take_while(|(t, _)| before_end(t))
            .last()
            .map_or(Stage::Registered, |(_, s)| *s);
        let last_close = item.closes.iter().rfind(|c| before_end(&c.at));
        let closed = last_close.filter(|_| stage == Stage::Closed);
        if closed.is_some_and(|c| c.at < start) {
            continue;
        }
        let rejections_by_end = item.rejections.iter().filter(|t| before_end(t)).count();
        let rejections_in_month = item.rejections.iter().filter(|t| in_month(t)).count();
        facts.items.push(ItemFacts {
            id: item.id,
            serial: item.serial.clone(),
            title: format!("{}事项", item.kind.label()),
            source_kind: item.kind,
            stage_at_end: stage,
            registered_at: item.registered_at,
            closed_at: closed.map(|c| c.at),
            closed_on_time_original: closed.map(|c| c.on_time_original),
            closed_on_time_extended: closed.map(|c| c.on_time_extended),
            cancelled_at: None,
            report_cycle_days: item.cycle_days,
            report_cycle_working_days: false,
            rejections_by_end: rejections_by_end as i64,
            rejections_in_month: rejections_in_month as i64,
            reopened_by_end: item.reopens.iter().any(before_end),
            reopened_in_month: item.reopens.iter().any(in_month),
        });
        if item.assigned_at >= end {
            continue;
        }
        let feedbacks: Vec<DateTime<Utc>> =
            item.feedbacks.iter().copied().filter(before_end).collect();
        let extended = item.extension_at.filter(before_end);
        let open = stage.is_open() && stage != Stage::Registered;
        for (k, a) in item.assignments.iter().enumerate() {
            let unit_id = units[a.unit].info.id;
            if open {
                *open_assignments.entry(unit_id).or_default() += 1;
            }
            // The lead's completion reports are reports too (the loader takes the latest
            // report of any kind); a co-unit's clock restarts from its own only.
            let own_reports = a.progress.iter().copied().filter(before_end);
            let latest = if a.lead {
                own_reports.chain(feedbacks.iter().copied()).max()
            } else {
                own_reports.max()
            };
            let own_latest = a.progress.iter().copied().filter(before_end).max();
            facts.assignments.push(AssignmentFacts {
                id: item.id * 10 + k as i64,
                item_id: item.id,
                unit_id,
                lead: a.lead,
                assigned_at: item.assigned_at,
                due_at: a.due_at,
                extended_due_at: a.extended_due_at.filter(|_| extended.is_some()),
                extended_in_month: a.extended_due_at.is_some()
                    && extended.is_some_and(|t| t >= start),
                last_report_or_assigned_at: latest.unwrap_or(item.assigned_at),
                feedback_at: feedbacks.last().copied(),
                first_feedback_at: feedbacks.first().copied(),
                own_report_at: if a.lead { latest } else { own_latest },
            });
        }
    }
    (facts, open_assignments)
}

/// What the drawn rates came to in `month`, for the reader to check the inputs against:
/// first completion reports after the due in force, first reports sent back, and
/// assignments extended. The rates are per item and scaled by each unit's diligence, so
/// they come out near, not at, the flags.
pub fn calibration(items: &[SimItem], month: Month, clock: &Clock) -> String {
    let (start, end) = month.bounds(clock.tz());
    let in_month = |t: DateTime<Utc>| t >= start && t < end;
    let (mut first, mut late, mut rejected, mut assigned, mut extended) = (0, 0, 0, 0, 0);
    for item in items {
        if let Some(report) = item.feedbacks.first().copied().filter(|t| in_month(*t)) {
            let lead = item.lead();
            let due = lead
                .extended_due_at
                .filter(|_| item.extension_at.is_some_and(|d| d < report))
                .unwrap_or(lead.due_at);
            first += 1;
            late += u32::from(report > due);
            let second = item.feedbacks.get(1).copied().unwrap_or(end);
            rejected += u32::from(item.rejections.iter().any(|r| *r > report && *r < second));
        }
        if in_month(item.assigned_at) {
            assigned += 1;
            extended += u32::from(item.extension_at.is_some());
        }
    }
    let percent = |n: u32, of: u32| f64::from(n) * 100.0 / f64::from(of.max(1));
    format!(
        "first completion reports in {month}: {first}, late {:.1}%, sent back {:.1}%; assigned in {month}: {assigned}, extended {:.1}%",
        percent(late, first),
        percent(rejected, first),
        percent(extended, assigned)
    )
}
