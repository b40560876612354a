//! A published report as stored, and what a unit of a district reads of it.

use chrono::{DateTime, Utc};
use ducha_report::MonthlyReport;
use sea_orm::DatabaseConnection;

use crate::calendar_store::CalendarStore;
use crate::error::{AppError, AppResult};
use entity::monthly_report;

/// How many earlier months the trend chart shows besides the report's own.
pub(super) const TREND_MONTHS: usize = 5;
/// Advisory-lock keys of publishing: this base plus the month's number.
pub(super) const REPORT_LOCK_KEY: i64 = 0x6475_6368_6200_0000;

/// What computing and publishing a report read: the database, the live calendar and the
/// office's time zone.
#[derive(Clone, Copy)]
pub struct Publisher<'a> {
    pub db: &'a DatabaseConnection,
    pub calendar: &'a CalendarStore,
    pub time_zone: chrono_tz::Tz,
    /// Where the pages are, for the mailed report's link to its complete lists.
    pub public_url: &'a str,
}

/// Who the report is from, in its masthead and emails.
pub const OFFICE: &str = "区政府办公室督查室";

/// The part of a published report people of `unit_id` read when the office circulates only
/// each unit's own part (`UnitReportAccess::OwnUnit`): the district's totals, the unit's own
/// row, and the lists cut down to its own items and its own mention.
pub fn own_part(mut published: Published, unit_id: i64) -> Published {
    let report = &mut published.report;
    let name = report
        .units
        .iter()
        .find(|u| u.unit_id == unit_id)
        .map(|u| u.unit.clone())
        .unwrap_or_default();
    report.units.retain(|u| u.unit_id == unit_id);
    report.red_items.retain(|i| i.unit == name);
    report.yellow_items.retain(|i| i.unit == name);
    report.praised.retain(|u| *u == name);
    report.named.retain(|u| u.unit == name);
    report.called_in.retain(|u| u.unit == name);
    // The problems and suggestions weigh units against each other by name.
    let withheld = "本部分涉及其他单位，按本系统设置仅向督查室和区领导提供。".to_string();
    report.sections.problems = withheld.clone();
    report.sections.suggestions = withheld;
    // What changed between versions, as far as it is the district's or the unit's own.
    let own_prefix = format!("{name}：");
    published.changes.retain(|c| {
        c.starts_with(&own_prefix)
            || c.starts_with("全区")
            || c.starts_with("颜色规则版本")
            || c.starts_with("节假日日历更新")
    });
    published
}

/// A stored version of a month's report.
#[derive(Debug, Clone)]
pub struct Published {
    pub id: i64,
    pub version: i32,
    pub report: MonthlyReport,
    pub changes: Vec<String>,
    pub reason: Option<String>,
    pub generated_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<monthly_report::Model> for Published {
    type Error = AppError;

    fn try_from(row: monthly_report::Model) -> AppResult<Published> {
        let unreadable = |e: serde_json::Error| {
            AppError::Internal(anyhow::anyhow!(
                "monthly report {} v{} unreadable: {e}",
                row.month,
                row.version
            ))
        };
        Ok(Published {
            id: row.id,
            version: row.version,
            report: serde_json::from_str(&row.data).map_err(unreadable)?,
            changes: serde_json::from_str(&row.changes).map_err(unreadable)?,
            reason: row.reason,
            generated_by: row.generated_by,
            created_at: row.created_at,
        })
    }
}
