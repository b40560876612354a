//! China's working-day calendar and deadline rules, as pure code: no I/O, no database types.
//!
//! A working day is a Monday to Friday that is not a holiday day off, or a weekend day that
//! a State Council notice declared a make-up working day (调休上班). The national data covers
//! every year from 2004 through 2026 (`data/cn-holidays.toml`); a year without a notice is
//! *provisional* and every answer that depends on one says so. In the ten years after the
//! last notice the statutory holidays themselves are still known — 《全国年节及纪念日放假办法》
//! fixes them, and [`statutory`] computes their lunar and solar-term dates — so those years
//! count the law's days off (with 补假 for a holiday on a weekend) and only the notice's
//! 调休 is missing; beyond them, and before the first notice, only weekends rest.
//!
//! ```text
//! let cal = Calendar::national();
//! cal.add_working_days(date(2026, 9, 30), 3)   // 2026-10-10, the 调休 Saturday
//! ```

mod data;
mod deadline;
mod engine;
mod hours;
pub mod statutory;

pub use data::{
    ASSUMED_YEARS, Amendment, CalendarData, DateRange, Holiday, LocalOverride, NATIONAL_TOML,
    Notice, Origin, SpecialDay, SpecialKind, YearArrangement,
};
pub use deadline::{CrossedDay, Deadline, DeadlinePolicy, DeadlineRule, Explanation};
pub use engine::{Answer, Calendar, DayKind};
pub use hours::OfficeHours;

/// Everything that can go wrong; the messages are for people (Chinese), the variants for code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("日期超出可计算范围（2004年至2099年）")]
    OutOfRange,
    #[error("无法识别的期限规则：“{0}”（示例：3个工作日、10天、24小时、2个月、2026-10-15）")]
    BadRule(String),
    #[error("日历数据有误：{0}")]
    BadData(String),
    /// A rule beyond the range any supervision period has (see [`DeadlineRule::check_bounds`]).
    #[error("期限“{rule}”超出允许范围（{limit}）")]
    RuleOutOfBounds { rule: String, limit: &'static str },
    /// A date before the first year the calendar has data for: its working days cannot be
    /// known, which is not the same as a year whose notice is still to be published.
    #[error("{date}早于日历数据的覆盖范围（{first_year}年起），无法按工作日计算")]
    BeforeCoverage {
        date: chrono::NaiveDate,
        first_year: i32,
    },
}
