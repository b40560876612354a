//! What a report is computed from: every item and assignment as they stood at the end of
//! the month (the loader rewinds later changes from the audit trail), and the earlier
//! reports it is compared with.

use chrono::{DateTime, Utc};
use ducha_domain::{SourceKind, Stage};

use serde::Deserialize;

use crate::model::{MonthlyReport, Totals, TrendPoint, UnitFigures};

#[derive(Debug, Clone)]
pub struct UnitInfo {
    pub id: i64,
    pub name: String,
    /// 部门 / 街道 / 园区…, as shown in the report.
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct ItemFacts {
    pub id: i64,
    pub serial: String,
    pub title: String,
    pub source_kind: SourceKind,
    /// The stage at the end of the month.
    pub stage_at_end: Stage,
    pub registered_at: DateTime<Utc>,
    /// Set when the item was closed (销号) by the end of the month.
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_on_time_original: Option<bool>,
    pub closed_on_time_extended: Option<bool>,
    /// Set when the item was cancelled by the end of the month.
    pub cancelled_at: Option<DateTime<Utc>>,
    pub report_cycle_days: Option<i32>,
    pub report_cycle_working_days: bool,
    /// Feedback rejections (退回重办) up to the end of the month, and within it.
    pub rejections_by_end: i64,
    pub rejections_in_month: i64,
    /// 回头看 found the problem back, up to the end of the month, and within it.
    pub reopened_by_end: bool,
    pub reopened_in_month: bool,
}

#[derive(Debug, Clone)]
pub struct AssignmentFacts {
    pub id: i64,
    pub item_id: i64,
    pub unit_id: i64,
    /// 牵头 (lead) or 协办 (co-unit).
    pub lead: bool,
    pub assigned_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// The extended due as approved by the end of the month.
    pub extended_due_at: Option<DateTime<Utc>>,
    /// An extension was approved within the month.
    pub extended_in_month: bool,
    /// The last progress report by the end of the month, or the assignment.
    pub last_report_or_assigned_at: DateTime<Utc>,
    /// The latest completion report (办结反馈) by the end of the month.
    pub feedback_at: Option<DateTime<Utc>>,
    /// The lead's first completion report by the end of the month: where a co-unit's part
    /// ends (docs/rules.md §3).
    pub first_feedback_at: Option<DateTime<Utc>>,
    /// This assignment's own latest report by the end of the month.
    pub own_report_at: Option<DateTime<Utc>>,
}

/// A 销号 in the on-time window that ends at the month's end (the policy's
/// `on_time_window_days`): what a unit's on-time rate is judged by, on the board and in the
/// report alike. Read from the CLOSE rows of the audit trail, so a later 回头看 does not
/// take back a closure that happened.
#[derive(Debug, Clone, Copy)]
pub struct Closure {
    pub item_id: i64,
    /// The lead unit when the item closed.
    pub unit_id: i64,
    pub at: DateTime<Utc>,
    /// Whether the accepted report came in by the due in force (the extended one), and by
    /// the original due.
    pub on_time: bool,
    pub on_time_original: bool,
}

/// Everything `build` needs besides the calendar and the colour policy.
#[derive(Debug, Clone, Default)]
pub struct ReportFacts {
    pub units: Vec<UnitInfo>,
    pub items: Vec<ItemFacts>,
    /// Live (not withdrawn) assignments of those items.
    pub assignments: Vec<AssignmentFacts>,
    /// Closures in the on-time window ending at the month's end.
    pub closures: Vec<Closure>,
    /// The previous month's published report (its latest version), if any.
    pub previous: Option<PreviousReport>,
    /// Earlier months' totals, oldest first, for the trend chart.
    pub history: Vec<TrendPoint>,
    /// Tasks handed down from those assignments as they stood at the month's end: their
    /// colours roll into their assignments' (docs/rules.md §8).
    pub tasks: Vec<TaskColourFacts>,
}

/// A task handed down from a live assignment (分解, 转办), for the roll-up of colours.
#[derive(Debug, Clone)]
pub struct TaskColourFacts {
    pub assignment_id: i64,
    /// The sub-unit holding it, as a rolled-up reason names it.
    pub unit_name: String,
    pub facts: ducha_domain::colour::TaskFacts,
}

/// What a report needs of the month before: its totals and its units. Deserialised from a
/// stored snapshot, skipping the long item lists.
#[derive(Debug, Clone, Deserialize)]
pub struct PreviousReport {
    pub month: String,
    pub totals: Totals,
    pub units: Vec<UnitFigures>,
}

impl From<MonthlyReport> for PreviousReport {
    fn from(report: MonthlyReport) -> PreviousReport {
        PreviousReport {
            month: report.month,
            totals: report.totals,
            units: report.units,
        }
    }
}

/// A month's place in the trend, deserialised from a stored snapshot.
#[derive(Debug, Clone, Deserialize)]
pub struct PastTotals {
    pub month: String,
    pub totals: Totals,
}

impl From<PastTotals> for TrendPoint {
    fn from(past: PastTotals) -> TrendPoint {
        TrendPoint {
            month: past.month,
            assigned: past.totals.assigned,
            closed: past.totals.closed,
            on_time_rate: past.totals.on_time_rate,
            overdue: past.totals.overdue,
            red_items: past.totals.item_colours.red,
            yellow_items: past.totals.item_colours.yellow,
        }
    }
}
