//! The monthly supervision report (月度督查通报, docs/rules.md §6): the seeds ask for a ledger
//! that is 表格化、可量化、可视化 [000 Art.67], reports on 落实情况、存在问题、工作建议
//! [000 Art.66], praise for units that deliver [002 Art.71, 004 Art.82], and 通报 and 约谈
//! for those that do not [000 Art.68].
//!
//! Pure: `build` turns facts as of the month's end into a [`MonthlyReport`], and the
//! renderers turn a report into HTML (with charts), XLSX and CSV. The server loads the facts
//! and stores each report as an immutable, versioned snapshot.

mod compute;
mod facts;
pub mod import;
mod model;
mod month;
pub mod render;

pub use compute::{ReportRules, build, changes_between};
pub use facts::{
    AssignmentFacts, Closure, ItemFacts, PastTotals, PreviousReport, ReportFacts, TaskColourFacts,
    UnitInfo,
};
pub use model::{
    ColourCounts, FlaggedItem, MonthlyReport, NamedUnit, Sections, SourceFigures, Totals,
    TrendPoint, UnitFigures,
};
pub use month::{Month, MonthError};
