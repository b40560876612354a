//! Figures from facts: one pass over the assignments, then per-unit colours and ranks.
//! Linear in items and assignments, so a report over 100,000 items takes milliseconds
//! (BENCHMARKS.md); the time goes to loading the facts.
//!
//! The parts follow the report (docs/rules.md §6): `tally` counts the month, `units`
//! colours and ranks the units, `sections` writes the three sections [000 Art.66], and
//! `changes` says what a regenerated version changed.

mod changes;
mod sections;
mod tally;
#[cfg(test)]
mod tests;
mod units;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;
use ducha_domain::colour::{Colour, ColourPolicy};

use crate::facts::ReportFacts;
use crate::model::{MonthlyReport, Sections, TrendPoint};
use crate::month::Month;

pub use changes::changes_between;

/// The rules a report is computed with.
pub struct ReportRules<'a> {
    pub calendar: &'a Calendar,
    pub calendar_version: String,
    pub time_zone: Tz,
    pub policy: &'a ColourPolicy,
    pub policy_version: i32,
}

/// Builds the report of `month` from facts as of its end.
pub fn build(
    month: Month,
    facts: &ReportFacts,
    rules: &ReportRules<'_>,
    generated_at: DateTime<Utc>,
) -> MonthlyReport {
    let period = Period::of(month, rules.time_zone);
    let tally = tally::tally(facts, rules, &period);
    let mut totals = tally.totals;
    let table = units::UnitTable::build(facts, rules.policy, period.at, tally.units);
    totals.unit_colours = table.colour_counts();
    // The measures of [000 Art.68] and the praise of [002 Art.71].
    let praised = table.praised();
    let named = table.named_with(Colour::Yellow);
    let called_in = table.named_with(Colour::Red);
    let reminded = table.named_with(Colour::Blue);
    let mut report = MonthlyReport {
        month: month.to_string(),
        title: format!("{}督查工作通报", month.label()),
        period_start: period.start,
        period_end: period.end,
        generated_at,
        calendar_version: rules.calendar_version.clone(),
        policy_version: rules.policy_version,
        totals,
        units: table.units,
        red_items: tally.red_items,
        yellow_items: tally.yellow_items,
        praised,
        named,
        called_in,
        by_source_kind: tally.by_source_kind,
        trend: Vec::new(),
        sections: Sections::default(),
    };
    report.trend = trend(&facts.history, &report);
    report.sections = sections::sections(&report, facts.previous.as_ref(), &reminded);
    report
}

/// The month a report covers, in UTC, and the instant its figures are judged at.
struct Period {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// The month's last instant: colours and overdue are those of the month's end, not of
    /// the first moment of the next month.
    at: DateTime<Utc>,
}

impl Period {
    fn of(month: Month, time_zone: Tz) -> Period {
        let (start, end) = month.bounds(time_zone);
        // A microsecond before the next month: every event of the month counts, none after.
        let at = end - Duration::microseconds(1);
        Period { start, end, at }
    }

    fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.start && t < self.end
    }
}

/// The trend chart's months: those of the history before this month (so the chart ends at
/// this month and never shows it twice), then this month's own figures.
fn trend(history: &[TrendPoint], report: &MonthlyReport) -> Vec<TrendPoint> {
    let mut trend: Vec<_> = history
        .iter()
        .filter(|p| p.month < report.month)
        .cloned()
        .collect();
    trend.push(report.trend_point());
    trend
}

/// On-time closures as a percentage of closures; none when nothing closed, so that a
/// month without closures is a gap rather than 0 %.
fn rate(on_time: u32, closed: u32) -> Option<f64> {
    (closed > 0).then(|| f64::from(on_time) * 100.0 / f64::from(closed))
}

/// A rate as the report writes it ("87.5%", or "—" when there is none).
fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.1}%"))
        .unwrap_or_else(|| "—".into())
}
