//! The published versions of a month, read back.

use chrono::{DateTime, Utc};
use ducha_report::Month;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::service::reports::published::Published;

use crate::error::{AppError, AppResult};
use entity::monthly_report;

/// The stored snapshot of `month`'s latest version, unparsed.
/// As [`latest_data`], among the versions published by `as_of`.
pub(super) async fn latest_data_by(
    db: &impl ConnectionTrait,
    month: Month,
    as_of: DateTime<Utc>,
) -> AppResult<Option<String>> {
    Ok(monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::Data)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .filter(monthly_report::Column::CreatedAt.lte(as_of))
        .order_by_desc(monthly_report::Column::Version)
        .into_tuple()
        .one(db)
        .await?)
}

pub(super) async fn latest_data(
    db: &impl ConnectionTrait,
    month: Month,
) -> AppResult<Option<String>> {
    Ok(monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::Data)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .order_by_desc(monthly_report::Column::Version)
        .into_tuple()
        .one(db)
        .await?)
}

/// Part of a stored snapshot (serde skips the rest, such as the long item lists).
pub(super) fn parse_stored<T: serde::de::DeserializeOwned>(
    month: Month,
    data: &str,
) -> AppResult<T> {
    serde_json::from_str(data)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("monthly report {month} unreadable: {e}")))
}

/// Whether any version of `month`'s report is published.
pub async fn is_published(db: &impl ConnectionTrait, month: Month) -> AppResult<bool> {
    Ok(monthly_report::Entity::find()
        .select_only()
        .column(monthly_report::Column::Id)
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

/// The latest published version of `month`'s report.
pub async fn latest(db: &impl ConnectionTrait, month: Month) -> AppResult<Option<Published>> {
    monthly_report::Entity::find()
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .order_by_desc(monthly_report::Column::Version)
        .one(db)
        .await?
        .map(Published::try_from)
        .transpose()
}

/// One version of `month`'s report, or the latest when `version` is none.
pub async fn find(
    db: &impl ConnectionTrait,
    month: Month,
    version: Option<i32>,
) -> AppResult<Option<Published>> {
    let Some(version) = version else {
        return latest(db, month).await;
    };
    monthly_report::Entity::find()
        .filter(monthly_report::Column::Month.eq(month.to_string()))
        .filter(monthly_report::Column::Version.eq(version))
        .one(db)
        .await?
        .map(Published::try_from)
        .transpose()
}

/// Every published version, newest month first.
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<Published>> {
    monthly_report::Entity::find()
        .order_by_desc(monthly_report::Column::Month)
        .order_by_desc(monthly_report::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(Published::try_from)
        .collect()
}
