//! Each item's life, drawn once from start to end: registration, assignment, an extension,
//! the lead's completion report (on time or late), the office's review with rework, 销号,
//! a 回头看 that may reopen it, and the progress reports of items on a cycle. A month's
//! facts are then read off these lives at its end (`snapshot`), the way the server rewinds
//! the audit trail.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ducha_domain::deadlines::{DueInputs, assignment_due};
use ducha_domain::{SourceKind, Stage};

use super::args::Scenario;
use super::clock::Clock;
use super::district::Unit;
use super::rng::Rng;

/// Where a district's items come from, and in what share. A district office's book is
/// mostly leaders' instructions (批示, 3 working days), meeting decisions and hotline or
/// online messages (10 working days); documents get a month; the long kinds — the 政府
/// 工作报告's tasks, key projects, audit rectification, deputies' suggestions — three.
const SOURCE_MIX: [(SourceKind, f64); 13] = [
    (SourceKind::LeaderInstruction, 0.20),
    (SourceKind::UpperLeaderInstruction, 0.05),
    (SourceKind::MeetingDecision, 0.20),
    (SourceKind::KeyDocument, 0.10),
    (SourceKind::GovWorkReport, 0.05),
    (SourceKind::KeyProject, 0.05),
    (SourceKind::AuditRectification, 0.05),
    (SourceKind::NpcSuggestion, 0.03),
    (SourceKind::CppccProposal, 0.02),
    (SourceKind::HotIssue, 0.05),
    (SourceKind::InternetMessage, 0.08),
    (SourceKind::PetitionHotline, 0.10),
    (SourceKind::MediaCriticism, 0.02),
];

/// Working days in an average month (about 250 a year).
const WORKING_DAYS_A_MONTH: f64 = 250.0 / 12.0;

/// At most this many rejections of one item: an office escalates rather than reject a
/// fifth time.
const MAX_REJECTIONS: usize = 4;

#[derive(Debug, Clone)]
pub struct SimAssignment {
    /// Index into the district's units.
    pub unit: usize,
    pub lead: bool,
    pub due_at: DateTime<Utc>,
    pub extended_due_at: Option<DateTime<Utc>>,
    /// Progress reports (定期报告) this unit filed.
    pub progress: Vec<DateTime<Utc>>,
}

/// A CLOSE row of the audit trail.
#[derive(Debug, Clone)]
pub struct CloseRow {
    pub at: DateTime<Utc>,
    pub on_time_original: bool,
    pub on_time_extended: bool,
}

#[derive(Debug, Clone)]
pub struct SimItem {
    pub id: i64,
    pub serial: String,
    pub kind: SourceKind,
    pub cycle_days: Option<i32>,
    pub registered_at: DateTime<Utc>,
    pub assigned_at: DateTime<Utc>,
    /// The lead first, then the co-units.
    pub assignments: Vec<SimAssignment>,
    /// When the extension (of the lead, and of co-units that follow) was approved.
    pub extension_at: Option<DateTime<Utc>>,
    /// Stage changes in time order, starting with registration.
    pub stages: Vec<(DateTime<Utc>, Stage)>,
    /// The lead's completion reports (办结反馈).
    pub feedbacks: Vec<DateTime<Utc>>,
    pub rejections: Vec<DateTime<Utc>>,
    pub reopens: Vec<DateTime<Utc>>,
    pub closes: Vec<CloseRow>,
}

impl SimItem {
    pub fn lead(&self) -> &SimAssignment {
        &self.assignments[0]
    }
}

/// What every item's life is drawn against.
#[derive(Clone, Copy)]
struct District<'a> {
    scenario: &'a Scenario,
    units: &'a [Unit],
    /// The units' intakes, the weights co-units are drawn with.
    weights: &'a [f64],
    clock: &'a Clock,
}

/// Every item of the district that arrives from `first_day` to `last_day`, in arrival
/// order, with its whole life drawn.
pub fn simulate(
    scenario: &Scenario,
    units: &[Unit],
    seed: u64,
    clock: &Clock,
    first_day: NaiveDate,
    last_day: NaiveDate,
) -> Vec<SimItem> {
    // Arrivals have their own streams, one a unit, so that the same seed brings the same
    // items whatever the rates: scenarios differ in what happens to items, not in which.
    let mut arrivals: Vec<Rng> = (0..units.len())
        .map(|u| Rng::derive(seed, 2, u as u64))
        .collect();
    let weights: Vec<f64> = units.iter().map(|u| u.intake).collect();
    let district = District {
        scenario,
        units,
        weights: &weights,
        clock,
    };
    let mut items = Vec::new();
    let mut day = first_day;
    while day <= last_day {
        if clock.is_working_day(day) {
            for (u, unit) in units.iter().enumerate() {
                let mean = unit.intake * scenario.scale / WORKING_DAYS_A_MONTH;
                for _ in 0..arrivals[u].poisson(mean) {
                    let id = items.len() as i64 + 1;
                    let mut rng = Rng::derive(seed, 3, id as u64);
                    items.push(life(&district, day, u, id, &mut rng));
                }
            }
        }
        day = day.succ_opt().unwrap_or(day);
        if day == NaiveDate::MAX {
            break;
        }
    }
    items
}

/// Working days late for a late report: short, medium or long, in the scenario's mix.
fn days_late(scenario: &Scenario, rng: &mut Rng) -> i64 {
    match rng.weighted(&scenario.late_mix) {
        0 => rng.between(1, 3),
        1 => rng.between(4, 10),
        _ => rng.between(11, 30),
    }
}

/// Co-units for an item led by `lead`: one mostly, sometimes two or three, drawn in
/// proportion to the units' intake (the big departments assist most often too).
fn co_units(scenario: &Scenario, weights: &[f64], lead: usize, rng: &mut Rng) -> Vec<usize> {
    if !rng.chance(scenario.co_share) {
        return Vec::new();
    }
    let count = 1 + rng.weighted(&[0.70, 0.25, 0.05]);
    let mut weights = weights.to_vec();
    weights[lead] = 0.0;
    let mut chosen = Vec::new();
    for _ in 0..count.min(weights.len().saturating_sub(1)) {
        let u = rng.weighted(&weights);
        weights[u] = 0.0;
        chosen.push(u);
    }
    chosen
}

/// One item's life. Draws happen in a fixed order whatever the outcomes, as far as the
/// life's shape allows, so that runs with different rates stay comparable item by item.
fn life(district: &District<'_>, day: NaiveDate, lead: usize, id: i64, rng: &mut Rng) -> SimItem {
    let District {
        scenario,
        units,
        weights,
        clock,
    } = *district;
    let diligence = units[lead].diligence;
    let scaled = |p: f64| (p * diligence).clamp(0.0, 0.95);
    let kinds: Vec<f64> = SOURCE_MIX.iter().map(|(_, w)| *w).collect();
    let kind = SOURCE_MIX[rng.weighted(&kinds)].0;
    let co = co_units(scenario, weights, lead, rng);
    let registered_at = clock.office_time(day, rng);
    // Most items are assigned the day they are registered, the rest the next working day.
    let assigned_at = if rng.chance(0.6) {
        registered_at + Duration::minutes(rng.between(10, 90))
    } else {
        clock.office_time(clock.add_working_days(day, 1), rng)
    };
    let assign_date = clock.date(assigned_at);
    let rule = kind.default_deadline();
    let due = |is_lead: bool| {
        assignment_due(
            &clock.calendar,
            &clock.deadlines,
            DueInputs {
                assigned_at,
                rule,
                lead: is_lead,
                paused_working_days: 0,
            },
        )
        .map(|d| d.due_at)
        .unwrap_or(assigned_at)
    };
    let mut assignments: Vec<SimAssignment> = std::iter::once((lead, true))
        .chain(co.iter().map(|u| (*u, false)))
        .map(|(unit, is_lead)| SimAssignment {
            unit,
            lead: is_lead,
            due_at: due(is_lead),
            extended_due_at: None,
            progress: Vec::new(),
        })
        .collect();
    let lead_due_date = clock.date(assignments[0].due_at);
    let period = clock
        .working_days_between(assign_date, lead_due_date)
        .max(1);

    // An extension, asked for and approved in the last working days before the due.
    let extension_draw = rng.unit();
    let extension_days = rng.between(
        (scenario.extension_days / 2).max(1),
        scenario.extension_days * 3 / 2,
    );
    let decided_back = rng.between(0, (period - 1).clamp(0, 3));
    let decided_date = clock.add_working_days(lead_due_date, -decided_back);
    let decided = if decided_date <= assign_date {
        assigned_at + Duration::hours(2)
    } else {
        clock.office_time(decided_date, rng)
    };
    let follows: Vec<bool> = assignments
        .iter()
        .map(|a| a.lead || rng.chance(scenario.co_follow))
        .collect();
    let mut extension_at = None;
    if extension_draw < scenario.extension {
        extension_at = Some(decided);
        // The lead always; a co-unit when it asks for the same (its due stays one working
        // day before the lead's).
        for (a, follows) in assignments.iter_mut().zip(follows) {
            if follows {
                let date = clock.add_working_days(clock.date(a.due_at), extension_days);
                a.extended_due_at = Some(clock.cutoff(date));
            }
        }
    }
    let in_force = assignments[0]
        .extended_due_at
        .unwrap_or(assignments[0].due_at);
    let in_force_date = clock.date(in_force);

    // The lead's first completion report: on time somewhere in the second half of its time
    // (after the extension, if it asked for one), or late by a drawn number of days.
    let late_draw = rng.unit();
    let late_by = days_late(scenario, rng);
    let full = clock
        .working_days_between(assign_date, in_force_date)
        .max(1);
    let mut earliest = ((full + 1) / 2).max(1);
    if let Some(decided) = extension_at {
        earliest = earliest.max(clock.working_days_between(assign_date, clock.date(decided)) + 1);
    }
    let on_time_day = clock.add_working_days(assign_date, rng.between(earliest.min(full), full));
    let first_day = if late_draw < scaled(scenario.late) {
        clock.add_working_days(in_force_date, late_by)
    } else {
        on_time_day
    };
    let first_feedback = clock
        .office_time(first_day, rng)
        .max(assigned_at + Duration::hours(2));

    // Signed (签收) within the hour: the stage is 承办中 from then on.
    let signed_at = assigned_at + Duration::hours(1);
    let mut stages = vec![
        (registered_at, Stage::Registered),
        (assigned_at, Stage::Assigned),
        (signed_at, Stage::InProgress),
    ];
    let mut feedbacks = Vec::new();
    let mut rejections = Vec::new();
    let mut closes = Vec::new();
    let mut reopens = Vec::new();
    let close_row = |at: DateTime<Utc>, feedbacks: &[DateTime<Utc>]| {
        let accepted = feedbacks.last().copied().unwrap_or(at);
        let lead = &assignments[0];
        let extended = lead
            .extended_due_at
            .filter(|_| extension_at.is_some_and(|d| d < at));
        CloseRow {
            at,
            on_time_original: accepted <= lead.due_at,
            on_time_extended: accepted <= extended.unwrap_or(lead.due_at),
        }
    };

    // The office's review: rework while it rejects, then 核查 and 销号.
    let review = |from: DateTime<Utc>,
                  may_reject: bool,
                  rng: &mut Rng,
                  stages: &mut Vec<(DateTime<Utc>, Stage)>,
                  feedbacks: &mut Vec<DateTime<Utc>>,
                  rejections: &mut Vec<DateTime<Utc>>| {
        let mut report = from;
        loop {
            feedbacks.push(report);
            stages.push((report, Stage::FeedbackSubmitted));
            let reviewed_day = clock.add_working_days(clock.date(report), rng.between(1, 3));
            let reviewed = clock
                .office_time(reviewed_day, rng)
                .max(report + Duration::minutes(5));
            let p = if rejections.is_empty() {
                scaled(scenario.rework)
            } else {
                scenario.rework_again
            };
            if may_reject && rejections.len() < MAX_REJECTIONS && rng.chance(p) {
                rejections.push(reviewed);
                stages.push((reviewed, Stage::InProgress));
                let again = clock.add_working_days(clock.date(reviewed), rng.between(2, 8));
                report = clock
                    .office_time(again, rng)
                    .max(reviewed + Duration::minutes(5));
                continue;
            }
            stages.push((reviewed, Stage::Verified));
            let close_day = clock.add_working_days(clock.date(reviewed), rng.between(0, 2));
            let closed = clock
                .office_time(close_day, rng)
                .max(reviewed + Duration::minutes(5));
            stages.push((closed, Stage::Closed));
            return closed;
        }
    };
    let closed = review(
        first_feedback,
        true,
        rng,
        &mut stages,
        &mut feedbacks,
        &mut rejections,
    );
    closes.push(close_row(closed, &feedbacks));

    // 回头看: some weeks after 销号 the office looks again, and a few items fail.
    let reopen_draw = rng.unit();
    let reopen_after = rng.between(10, 60);
    let redo = rng.between(5, 15);
    if reopen_draw < scenario.reopen {
        let day = clock.roll_forward(clock.date(closed) + Clock::days(reopen_after));
        let reopened = clock
            .office_time(day, rng)
            .max(closed + Duration::minutes(5));
        reopens.push(reopened);
        stages.push((reopened, Stage::InProgress));
        let again = clock.office_time(clock.add_working_days(day, redo), rng);
        let again = again.max(reopened + Duration::minutes(5));
        let closed = review(
            again,
            false,
            rng,
            &mut stages,
            &mut feedbacks,
            &mut rejections,
        );
        closes.push(close_row(closed, &feedbacks));
    }

    // Progress reports, for items on a cycle, until the lead's first completion report
    // stops every unit's clock.
    let cycle_days = kind.default_report_cycle_days();
    if let Some(cycle) = cycle_days {
        for a in assignments.iter_mut() {
            let missed_p = (scenario.missed_report * units[a.unit].diligence).clamp(0.0, 0.95);
            a.progress = progress_reports(clock, cycle, assigned_at, first_feedback, missed_p, rng);
        }
    }
    // Each co-unit reports its part (docs/rules.md §3: a co-unit's clock stops at its own
    // report): on time somewhere before its due, or late by a drawn number of days, at its
    // unit's own late rate. A part reported after the lead's first report is not waited for.
    for a in assignments.iter_mut().filter(|a| !a.lead) {
        let due = clock.date(a.extended_due_at.unwrap_or(a.due_at));
        let span = clock.working_days_between(assign_date, due).max(1);
        let late_p = (scenario.late * units[a.unit].diligence).clamp(0.0, 0.95);
        let day = if rng.unit() < late_p {
            clock.add_working_days(due, days_late(scenario, rng))
        } else {
            clock.add_working_days(assign_date, rng.between(1, span))
        };
        let part = clock
            .office_time(day, rng)
            .max(assigned_at + Duration::hours(1));
        if part < first_feedback {
            a.progress.push(part);
            a.progress.sort();
        }
    }

    SimItem {
        id,
        serial: format!("督〔{}〕{id}号", clock.date(registered_at).format("%Y")),
        kind,
        cycle_days,
        registered_at,
        assigned_at,
        assignments,
        extension_at,
        stages,
        feedbacks,
        rejections,
        reopens,
        closes,
    }
}

/// One unit's progress reports on a cycle of `cycle` calendar days (the kinds' default;
/// due on a working day, `ducha_domain::colour::progress_report_date`), from `start` until
/// `stop`: each on or a little before its date, or — with probability `missed` — some
/// working days after it, which leaves the assignment YELLOW in between.
fn progress_reports(
    clock: &Clock,
    cycle: i32,
    start: DateTime<Utc>,
    stop: DateTime<Utc>,
    missed: f64,
    rng: &mut Rng,
) -> Vec<DateTime<Utc>> {
    let mut reports = Vec::new();
    let mut last = start;
    loop {
        let reached = clock.date(last) + Clock::days(i64::from(cycle));
        let due = clock.roll_forward(reached);
        let filed_day = if rng.chance(missed) {
            clock.add_working_days(due, rng.between(1, 5))
        } else {
            clock.add_working_days(due, -rng.between(0, 2))
        };
        let filed = clock
            .office_time(filed_day, rng)
            .max(last + Duration::hours(1));
        if filed >= stop || reports.len() > 24 {
            return reports;
        }
        reports.push(filed);
        last = filed;
    }
}
