//! Importing a calendar year at runtime (a new State Council notice, or a correction): store
//! it, rebuild the live calendar, and recalculate every open deadline it affects.

use chrono::{DateTime, Utc};
use ducha_calendar::{CalendarData, DeadlinePolicy, YearArrangement};
use ducha_domain::Role;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::json;

use super::items::{Deps, recalculate_open_deadlines};
use super::{Audit, audit};
use crate::auth::Actor;
use crate::calendar_store::CalendarStore;
use crate::error::{AppError, AppResult};
use entity::calendar_year;

pub struct ImportOutcome {
    pub year: i32,
    pub calendar_version: String,
    /// Open assignments whose due instant moved.
    pub recalculated: usize,
}

/// Imports one year in the holiday-cn JSON shape. `actor` is `None` for the CLI.
pub async fn import_year(
    db: &DatabaseConnection,
    store: &CalendarStore,
    policy: &DeadlinePolicy,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
    holiday_cn_json: &str,
) -> AppResult<ImportOutcome> {
    if let Some(actor) = actor
        && actor.role != Role::Admin
    {
        return Err(AppError::Forbidden("只有系统管理员可以导入日历".into()));
    }
    let year = CalendarData::parse_holiday_cn(holiday_cn_json)
        .map_err(|e| AppError::BadUserInput(e.to_string()))?;
    let stored = serde_json::to_string(&year).map_err(|e| AppError::Internal(e.into()))?;
    let txn = super::begin_write(db).await?;
    let existing = calendar_year::Entity::find_by_id(year.year)
        .one(&txn)
        .await?;
    let row = calendar_year::ActiveModel {
        year: Set(year.year),
        data: Set(stored),
        imported_by: Set(actor.map(|a| a.person_id)),
        imported_at: Set(now),
    };
    if existing.is_some() {
        row.update(&txn).await?;
    } else {
        row.insert(&txn).await?;
    }
    let replaced = existing.is_some();
    let (calendar_version, recalculated) = apply(
        db,
        txn,
        store,
        policy,
        actor,
        now,
        "IMPORT_CALENDAR_YEAR",
        json!({ "year": year.year, "replaced": replaced }),
    )
    .await?;
    Ok(ImportOutcome {
        year: year.year,
        calendar_version,
        recalculated,
    })
}

/// The end of every calendar change, inside `txn` that has written it: rebuild the calendar
/// from the database, audit the change with the new version, commit, recalculate the open
/// deadlines on the new calendar, and only then swap it in for readers.
#[allow(clippy::too_many_arguments)]
async fn apply(
    db: &DatabaseConnection,
    txn: sea_orm::DatabaseTransaction,
    store: &CalendarStore,
    policy: &DeadlinePolicy,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
    action: &str,
    mut details: serde_json::Value,
) -> AppResult<(String, usize)> {
    let calendar = CalendarStore::build_from(&txn).await?;
    details["calendarVersion"] = json!(calendar.version());
    audit(
        &txn,
        Audit {
            item_id: None,
            assignment_id: None,
            actor,
            at: now,
            action,
            from: None,
            to: None,
            reason: None,
            details,
        },
    )
    .await?;
    txn.commit().await?;
    let version = calendar.version().to_string();
    let deps = Deps {
        calendar: &calendar,
        policy,
    };
    let recalculated = recalculate_open_deadlines(db, deps, actor, now).await?;
    store.replace(calendar)?;
    Ok((version, recalculated))
}

/// Years stored in the database, as arrangements.
pub fn decode(row: &calendar_year::Model) -> AppResult<YearArrangement> {
    serde_json::from_str(&row.data).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "stored calendar year {} is unreadable: {e}",
            row.year
        ))
    })
}

/// Sets (or replaces) a jurisdiction's own day off or day on, rebuilds the live calendar and
/// recalculates the open deadlines it affects (design.md §3: local overrides layer on top).
pub async fn set_local_day(
    db: &DatabaseConnection,
    store: &CalendarStore,
    policy: &DeadlinePolicy,
    actor: &Actor,
    now: DateTime<Utc>,
    day: ducha_calendar::LocalOverride,
) -> AppResult<ImportOutcome> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let ducha_calendar::LocalOverride {
        date,
        working,
        name,
    } = day;
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("只有系统管理员可以调整本地日历".into()));
    }
    let name = super::input::Text::parse("名称", &name, 50)?;
    let txn = super::begin_write(db).await?;
    entity::calendar_override::Entity::delete_many()
        .filter(entity::calendar_override::Column::Date.eq(date))
        .exec(&txn)
        .await?;
    entity::calendar_override::ActiveModel {
        date: Set(date),
        working: Set(working),
        name: Set(name.as_str().to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let (calendar_version, recalculated) = apply(
        db,
        txn,
        store,
        policy,
        Some(actor),
        now,
        "SET_LOCAL_DAY",
        json!({ "date": date, "working": working, "name": name.as_str() }),
    )
    .await?;
    Ok(ImportOutcome {
        year: chrono::Datelike::year(&date),
        calendar_version,
        recalculated,
    })
}
