//! Importing a calendar year at runtime (a new State Council notice, or a correction): store
//! it, rebuild the live calendar, and recalculate every open deadline it affects.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ducha_calendar::{CalendarData, DeadlinePolicy, SpecialKind, YearArrangement};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::json;

use crate::auth::Actor;
use crate::calendar_store::CalendarStore;
use crate::changes::{Change, ChangeFeed};
use crate::error::{AppError, AppResult};
use crate::service::items::verb::{Deps, require_duty};
use crate::service::items::{MovedDeadline, recalculate_open_deadlines};
use crate::service::store::audit::{Audit, audit};
use ducha_domain::Duty;
use entity::calendar_year;

pub struct ImportOutcome {
    pub year: i32,
    pub calendar_version: String,
    /// Open assignments whose due instant moved.
    pub recalculated: usize,
    /// Nothing was stored: the outcome says what the import would do.
    pub dry_run: bool,
    /// The days whose kind changed (of the year imported, or the local day set).
    pub changed_days: Vec<DayChange>,
    /// The open deadlines that moved (or would move).
    pub moved: Vec<MovedDeadline>,
}

/// A day whose meaning changed: what it was and what it is now (`None`: an ordinary day,
/// working Monday to Friday and resting at weekends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayChange {
    pub date: NaiveDate,
    pub before: Option<(SpecialKind, String)>,
    pub after: Option<(SpecialKind, String)>,
}

/// How an imported year meets the one already known for that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// The file is the whole year: days it does not list become ordinary days.
    Replace,
    /// The file amends the year: its days win, every other day stays as it was (as a later
    /// notice amends an earlier one, like 2020's Spring Festival extension).
    Amend,
}

/// What to import and how.
pub struct ImportRequest<'a> {
    pub holiday_cn_json: &'a str,
    pub mode: ImportMode,
    /// Compute and report, store nothing.
    pub dry_run: bool,
    /// Replace a published year even though the file drops most of its days.
    pub force: bool,
}

/// A replacement that keeps less than this share of a published year's special days is
/// refused unless forced: it is far more likely a partial file than a correction.
const MIN_KEPT_SHARE: f64 = 0.5;

/// Imports one year in the holiday-cn JSON shape. `actor` is `None` for the CLI. The year,
/// its audit row and every deadline it moves are one transaction.
#[tracing::instrument(skip_all)]
pub async fn import_year(
    db: &DatabaseConnection,
    store: &CalendarStore,
    changes: &ChangeFeed,
    policy: &DeadlinePolicy,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
    request: ImportRequest<'_>,
) -> AppResult<ImportOutcome> {
    if let Some(actor) = actor {
        require_duty(actor, Duty::ImportCalendar, "只有系统管理员可以导入日历")?;
    }
    let incoming = CalendarData::parse_holiday_cn(request.holiday_cn_json)
        .map_err(|e| AppError::BadUserInput(e.to_string()))?;
    // The year as stored now, read inside the transaction that will replace it: two
    // amendments at once, or an instance whose calendar is behind, must not drop one.
    let txn = crate::service::store::write::begin_long_write(db).await?;
    crate::service::store::calendar_state::lock_for_change(&txn, now).await?;
    let current = CalendarStore::build_from(&txn).await?;
    let known = current.data().year(incoming.year).cloned();
    let year = match (request.mode, known.clone()) {
        (ImportMode::Amend, Some(mut known)) => {
            known.amendments.push(ducha_calendar::Amendment {
                notice: incoming.notice.clone(),
                holidays: incoming.holidays.clone(),
            });
            known
        }
        _ => incoming,
    };
    let mut next = current.data().clone();
    next.insert_year(year.clone())
        .map_err(|e| AppError::BadUserInput(e.to_string()))?;
    let changed_days = day_changes(current.data(), &next, |d| d.year() == year.year);
    if let (ImportMode::Replace, Some(known), false) = (request.mode, &known, request.force) {
        let before = year_days(known);
        let after = year_days(&year);
        let kept = before.iter().filter(|d| after.contains(d)).count();
        if !before.is_empty() && (kept as f64) < (before.len() as f64) * MIN_KEPT_SHARE {
            return Err(AppError::BadUserInput(format!(
                "导入的{}年安排只保留了已公布的{}个放假、调休日中的{}个，看起来不完整；如确需整体替换，请确认强制导入，或改用补充（AMEND）方式",
                year.year,
                before.len(),
                kept
            )));
        }
    }
    let stored = serde_json::to_string(&year).map_err(|e| AppError::Internal(e.into()))?;
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
    let details = json!({
        "year": year.year,
        "mode": match request.mode { ImportMode::Replace => "REPLACE", ImportMode::Amend => "AMEND" },
        "forced": request.force,
        "replacedStored": existing.is_some(),
        "changedDays": changed_days.iter().map(|c| c.date).collect::<Vec<_>>(),
    });
    let (calendar_version, moved) = apply(
        txn,
        (store, changes),
        policy,
        actor,
        now,
        ("IMPORT_CALENDAR_YEAR", details),
        request.dry_run,
    )
    .await?;
    Ok(ImportOutcome {
        year: year.year,
        calendar_version,
        recalculated: moved.len(),
        dry_run: request.dry_run,
        changed_days,
        moved,
    })
}

/// The special days of one arrangement alone, amendments applied.
fn year_days(year: &YearArrangement) -> std::collections::HashSet<(NaiveDate, SpecialKind)> {
    let mut alone = CalendarData::default();
    // An arrangement that is already part of a calendar has been validated.
    if alone.insert_year(year.clone()).is_err() {
        return Default::default();
    }
    alone
        .special_days()
        .into_values()
        .map(|d| (d.date, d.kind))
        .collect()
}

/// The days, among those `within` selects, whose kind or name differs between two calendars.
fn day_changes(
    before: &CalendarData,
    after: &CalendarData,
    within: impl Fn(NaiveDate) -> bool,
) -> Vec<DayChange> {
    // The days in force, assumed holidays of years without a notice included: a notice
    // that arrives shows the assumed days it confirms or changes.
    let (old, new) = (before.effective_days(), after.effective_days());
    let dates: std::collections::BTreeSet<NaiveDate> = old
        .keys()
        .chain(new.keys())
        .copied()
        .filter(|d| within(*d))
        .collect();
    let meaning =
        |days: &std::collections::BTreeMap<NaiveDate, ducha_calendar::SpecialDay>,
         date: &NaiveDate| { days.get(date).map(|d| (d.kind, d.name.clone())) };
    dates
        .into_iter()
        .filter_map(|date| {
            let (b, a) = (meaning(&old, &date), meaning(&new, &date));
            (b != a).then_some(DayChange {
                date,
                before: b,
                after: a,
            })
        })
        .collect()
}

/// The end of every calendar change, inside `txn` that has written it: rebuild the calendar
/// from the database, recalculate the open deadlines on it, audit the change with the new
/// version, and commit — then swap the calendar in for readers. A dry run rolls it all back.
async fn apply(
    txn: crate::service::store::write::WriteTxn,
    // The calendar readers use, and where its replacement is published.
    (store, changes): (&CalendarStore, &ChangeFeed),
    policy: &DeadlinePolicy,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
    (action, mut details): (&str, serde_json::Value),
    dry_run: bool,
) -> AppResult<(String, Vec<MovedDeadline>)> {
    let calendar = CalendarStore::build_from(&txn).await?;
    let version = calendar.version().to_string();
    let deps = Deps {
        calendar: &calendar,
        policy,
    };
    let moved = recalculate_open_deadlines(&txn, deps, actor, now).await?;
    if dry_run {
        txn.rollback().await?;
        return Ok((version, moved));
    }
    details["calendarVersion"] = json!(version);
    details["movedDeadlines"] = json!(moved.len());
    crate::service::store::calendar_state::record(&txn, &version).await?;
    audit(&txn, Audit::admin(actor, now, action, details)).await?;
    // Not `ChangeFeed::commit`: the calendar readers use must be the new one before any copy
    // hears the change. Published even when the commit's answer was lost: it may have
    // happened, and deadlines moved.
    let committed = txn.commit().await;
    if committed.is_ok() {
        store.replace(calendar)?;
    }
    changes.publish(Change::Calendar);
    committed?;
    Ok((version, moved))
}

/// At start-up: when the calendar this binary builds (its bundled notices, the law's
/// holidays of years without one, the database's years and local days) is not the one the
/// stored dues rest on, recalculates the open deadlines on it, audited as
/// CALENDAR_UPGRADE, so that no due rests on a superseded calendar after an upgrade.
/// Instances starting together take turns on the state row; the later finds nothing to do.
pub async fn settle_on_start(
    db: &DatabaseConnection,
    store: &CalendarStore,
    changes: &ChangeFeed,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let txn = crate::service::store::write::begin_long_write(db).await?;
    crate::service::store::calendar_state::lock_for_change(&txn, now).await?;
    let calendar = CalendarStore::build_from(&txn).await?;
    let stored = crate::service::store::calendar_state::version_in_force(&txn).await?;
    if stored.as_deref() == Some(calendar.version()) {
        txn.rollback().await?;
        return Ok(0);
    }
    let first = stored.as_deref().is_none_or(str::is_empty);
    let (version, moved) = apply(
        txn,
        (store, changes),
        policy,
        None,
        now,
        (
            "CALENDAR_UPGRADE",
            json!({ "previousVersion": stored, "firstStart": first }),
        ),
        false,
    )
    .await?;
    tracing::info!(%version, moved = moved.len(), "calendar in force recorded");
    Ok(moved.len())
}

/// Sets (or replaces) a jurisdiction's own day off or day on, rebuilds the live calendar and
/// recalculates the open deadlines it affects (docs/rules.md §2: local overrides layer on top).
#[tracing::instrument(skip_all)]
pub async fn set_local_day(
    db: &DatabaseConnection,
    store: &CalendarStore,
    changes: &ChangeFeed,
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
    require_duty(actor, Duty::SetLocalDay, "只有系统管理员可以调整本地日历")?;
    let name = crate::service::store::input::Text::parse("名称", &name, 50)?;
    let txn = crate::service::store::write::begin_long_write(db).await?;
    crate::service::store::calendar_state::lock_for_change(&txn, now).await?;
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
    let before = store.current()?;
    let mut next = before.data().clone();
    next.add_override(ducha_calendar::LocalOverride {
        date,
        working,
        name: name.as_str().to_string(),
    });
    let changed_days = day_changes(before.data(), &next, |d| d == date);
    let (calendar_version, moved) = apply(
        txn,
        (store, changes),
        policy,
        Some(actor),
        now,
        (
            "SET_LOCAL_DAY",
            json!({ "date": date, "working": working, "name": name.as_str() }),
        ),
        false,
    )
    .await?;
    Ok(ImportOutcome {
        year: date.year(),
        calendar_version,
        recalculated: moved.len(),
        dry_run: false,
        changed_days,
        moved,
    })
}
