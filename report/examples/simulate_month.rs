//! Replays a realistic district month and prints the spread of unit colours (issue 30,
//! item 5): a unit colour that nearly every unit carries tells an office nothing, so the
//! unit rules' defaults (docs/rules.md §3) are checked against a simulated district
//! before an office lives with them. Deterministic: the same flags and seed print the same
//! tables. Run it with `scripts/simulate-month --help`.
//!
//! The simulation draws each item's whole life (`timeline`), reads each month's facts off
//! those lives at the month's end as the server's loader reads the audit trail
//! (`snapshot`), and builds the months' reports in a row with `ducha_report::build`, each
//! passed the one before as `previous`, so "two periods running" is exercised. The legacy
//! rule (`legacy`) is applied to the same reports for comparison.

// An example root resolves modules beside it, not under its name: the paths say where.
#[path = "simulate_month/args.rs"]
mod args;
#[path = "simulate_month/clock.rs"]
mod clock;
#[path = "simulate_month/district.rs"]
mod district;
#[path = "simulate_month/legacy.rs"]
mod legacy;
#[path = "simulate_month/output.rs"]
mod output;
#[path = "simulate_month/rng.rs"]
mod rng;
#[path = "simulate_month/snapshot.rs"]
mod snapshot;
#[path = "simulate_month/timeline.rs"]
mod timeline;

use std::collections::HashMap;

use chrono::Duration;
use ducha_domain::colour::{Colour, ColourPolicy};
use ducha_report::{Month, MonthlyReport, PreviousReport, ReportRules, build};

use clock::Clock;
use district::Unit;

/// One simulated district: its units, the judged month's report, and the legacy colours.
pub struct Run {
    pub seed: u64,
    pub units: Vec<Unit>,
    pub items_simulated: usize,
    pub report: MonthlyReport,
    /// LEGACY colours of the units with items, by unit id.
    pub legacy: HashMap<i64, Colour>,
    /// Open assignments (lead and co-unit) at the month's end, by unit id.
    pub open_assignments: HashMap<i64, u32>,
    /// What the drawn rates came to in the judged month.
    pub calibration: String,
}

fn main() {
    let options = match args::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            print!("{}", args::HELP);
            return;
        }
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let clock = Clock::national();
    let runs: Vec<Run> = options
        .scenario
        .seeds
        .iter()
        .map(|seed| run(&options.scenario, &options.policy, &clock, *seed))
        .collect();
    output::header(&options);
    // One district prints in full; several print a row each, and in full only if asked.
    let table = options.scenario.table;
    if runs.len() == 1 || table == Some(true) {
        for run in &runs {
            output::detail(run, &options);
        }
    }
    if runs.len() > 1 {
        output::summary(&runs);
    }
}

/// The months built in a row, ending with the judged one.
fn months(last: Month, chain: u32) -> Vec<Month> {
    let mut months = vec![last];
    for _ in 1..chain {
        let earlier = months[0].previous();
        months.insert(0, earlier);
    }
    months
}

fn run(scenario: &args::Scenario, policy: &ColourPolicy, clock: &Clock, seed: u64) -> Run {
    let units = district::units(scenario, seed);
    let months = months(scenario.month, scenario.chain);
    // Arrivals start a fixed time before the judged month, whatever the chain, so that
    // building fewer months before it changes what is compared, not which items arrive.
    let first_day = scenario.month.first_day() - Duration::days(scenario.lead_in_days);
    let last_day = scenario.month.next().first_day() - Duration::days(1);
    let items = timeline::simulate(scenario, &units, seed, clock, first_day, last_day);
    let rules = ReportRules {
        calendar: &clock.calendar,
        calendar_version: clock.calendar.version().to_string(),
        time_zone: clock.tz(),
        policy,
        policy_version: 0,
    };
    let mut previous: Option<PreviousReport> = None;
    let mut legacy_before: HashMap<i64, Colour> = HashMap::new();
    let mut last = None;
    for month in months {
        let (mut facts, open_assignments) = snapshot::facts_at(&items, &units, month, clock);
        facts.previous = previous.take();
        let (_, end) = month.bounds(clock.tz());
        let report = build(month, &facts, &rules, end);
        let legacy = legacy::legacy_colours(&report, &legacy_before);
        previous = Some(report.clone().into());
        legacy_before = legacy.clone();
        last = Some((report, legacy, open_assignments));
    }
    let (report, legacy, open_assignments) = last.expect("at least one month is built");
    Run {
        seed,
        units,
        items_simulated: items.len(),
        calibration: snapshot::calibration(&items, scenario.month, clock),
        report,
        legacy,
        open_assignments,
    }
}
