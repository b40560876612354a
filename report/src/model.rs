//! The report as stored (JSON) and served: figures only, no markup. Field names are the
//! stored format; adding a field needs `#[serde(default)]` so older snapshots still load.

use chrono::{DateTime, NaiveDate, Utc};
use ducha_domain::colour::Colour;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    /// "2026-10"
    pub month: String,
    /// "2026年10月督查工作通报"
    pub title: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    /// The calendar data and colour policy the figures were computed with.
    pub calendar_version: String,
    pub policy_version: i32,
    pub totals: Totals,
    /// Ranked units first (by rank), then units without items this month.
    pub units: Vec<UnitFigures>,
    pub red_items: Vec<FlaggedItem>,
    pub yellow_items: Vec<FlaggedItem>,
    /// Units whose every item closed this month closed on time, with none overdue
    /// ([002 Art.71] 通报表扬).
    pub praised: Vec<String>,
    /// YELLOW units: named in the circulated report (通报) [000 Art.68].
    pub named: Vec<NamedUnit>,
    /// RED units: called in (约谈) and reported to the 分管 leader [000 Art.68].
    pub called_in: Vec<NamedUnit>,
    pub by_source_kind: Vec<SourceFigures>,
    /// Earlier months and this one, oldest first.
    pub trend: Vec<TrendPoint>,
    pub sections: Sections,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColourCounts {
    pub none: u32,
    pub blue: u32,
    pub yellow: u32,
    pub red: u32,
}

impl ColourCounts {
    pub fn add(&mut self, colour: Colour) {
        match colour {
            Colour::None => self.none += 1,
            Colour::Blue => self.blue += 1,
            Colour::Yellow => self.yellow += 1,
            Colour::Red => self.red += 1,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Items registered in the month.
    pub registered: u32,
    /// Lead assignments made in the month.
    pub assigned: u32,
    pub closed: u32,
    /// Closed by the original due.
    pub closed_on_time_original: u32,
    /// Closed by the due in force (the extended one if an extension was approved).
    pub closed_on_time: u32,
    /// closed_on_time / closed, in percent; none when nothing closed.
    pub on_time_rate: Option<f64>,
    pub open_at_end: u32,
    pub overdue: u32,
    pub extended: u32,
    pub reworked: u32,
    pub reopened: u32,
    pub cancelled: u32,
    /// Colours of the open items at the end of the month.
    pub item_colours: ColourCounts,
    /// Colours of the units with items.
    pub unit_colours: ColourCounts,
}

/// One unit's month. Figures count the items the unit leads (牵头), which it answers for;
/// `co_assigned` counts those it assists (协办).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitFigures {
    pub unit_id: i64,
    pub unit: String,
    pub kind: String,
    /// Competition rank ("1, 2, 2, 4"); none for a unit without items this month.
    pub rank: Option<u32>,
    pub assigned: u32,
    pub co_assigned: u32,
    pub closed: u32,
    pub closed_on_time_original: u32,
    pub closed_on_time: u32,
    pub closed_late: u32,
    pub on_time_rate: Option<f64>,
    pub open_at_end: u32,
    pub overdue: u32,
    pub extended: u32,
    pub reworked: u32,
    pub reopened: u32,
    /// Closures of the items it led in the on-time window ending at the month's end
    /// (`window_days`), how many on time, and the rate: what the colour is judged by, as
    /// the board judges it (docs/rules.md §3).
    #[serde(default)]
    pub window_days: i64,
    #[serde(default)]
    pub window_closed: u32,
    #[serde(default)]
    pub window_closed_on_time: u32,
    #[serde(default)]
    pub window_on_time_rate: Option<f64>,
    /// Its open items at the month's end that were RED and YELLOW for it.
    #[serde(default)]
    pub red_open: u32,
    #[serde(default)]
    pub yellow_open: u32,
    pub colour: Colour,
    pub colour_reason: String,
    /// What the colour leads to (提醒 / 通报 / 约谈).
    pub measure: String,
    pub previous_on_time_rate: Option<f64>,
    pub previous_colour: Option<Colour>,
}

/// An open item RED or YELLOW at the end of the month, per unit it is assigned to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlaggedItem {
    pub item_id: i64,
    pub serial: String,
    pub title: String,
    pub unit: String,
    pub lead: bool,
    pub due: NaiveDate,
    /// Working days late at the end of the month, as the reason states them: to the
    /// completion report when it came in late (the clock stopped there), else to the month's
    /// end (0 when not late: coloured for rework or a missed progress report).
    pub working_days_overdue: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedUnit {
    pub unit: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFigures {
    /// The API's enum value, e.g. LEADER_INSTRUCTION.
    pub kind: String,
    pub label: String,
    pub registered: u32,
    pub closed: u32,
    pub closed_on_time: u32,
    pub open_at_end: u32,
    pub overdue: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub month: String,
    pub assigned: u32,
    pub closed: u32,
    pub on_time_rate: Option<f64>,
    pub overdue: u32,
    pub red_items: u32,
    pub yellow_items: u32,
}

/// The three parts [000 Art.66] asks a supervision report for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sections {
    /// 落实情况
    pub progress: String,
    /// 存在问题
    pub problems: String,
    /// 工作建议
    pub suggestions: String,
}

impl MonthlyReport {
    pub fn trend_point(&self) -> TrendPoint {
        TrendPoint {
            month: self.month.clone(),
            assigned: self.totals.assigned,
            closed: self.totals.closed,
            on_time_rate: self.totals.on_time_rate,
            overdue: self.totals.overdue,
            red_items: self.totals.item_colours.red,
            yellow_items: self.totals.item_colours.yellow,
        }
    }
}
