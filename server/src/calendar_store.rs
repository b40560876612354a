//! The live calendar: the bundled national data plus this deployment's local overrides from
//! the database. Readers take an `Arc` snapshot; a change builds a new calendar and swaps it
//! in, so a deadline is always computed on one consistent version.

use std::sync::{Arc, RwLock};

use ducha_calendar::{Calendar, CalendarData, LocalOverride};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct CalendarStore {
    current: Arc<RwLock<Arc<Calendar>>>,
}

impl CalendarStore {
    pub fn new(calendar: Calendar) -> Self {
        CalendarStore {
            current: Arc::new(RwLock::new(Arc::new(calendar))),
        }
    }

    /// National data, with the years imported at runtime and the local overrides stored in
    /// the database on top.
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<Self> {
        Ok(CalendarStore::new(CalendarStore::build_from(db).await?))
    }

    pub async fn build_from(db: &impl ConnectionTrait) -> AppResult<Calendar> {
        let mut data = CalendarData::national();
        let years = entity::calendar_year::Entity::find()
            .order_by_asc(entity::calendar_year::Column::Year)
            .all(db)
            .await?;
        for row in &years {
            data.insert_year(decode_year(row)?)?;
        }
        let overrides = entity::calendar_override::Entity::find()
            .order_by_asc(entity::calendar_override::Column::Date)
            .all(db)
            .await?;
        for row in overrides {
            data.add_override(LocalOverride {
                date: row.date,
                working: row.working,
                name: row.name,
            });
        }
        Ok(Calendar::build(data))
    }

    pub fn current(&self) -> AppResult<Arc<Calendar>> {
        self.current
            .read()
            .map(|c| Arc::clone(&c))
            .map_err(|_| AppError::Internal(anyhow::anyhow!("calendar lock poisoned")))
    }

    pub fn replace(&self, calendar: Calendar) -> AppResult<()> {
        let mut slot = self
            .current
            .write()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("calendar lock poisoned")))?;
        *slot = Arc::new(calendar);
        Ok(())
    }
}

/// Years stored in the database, as arrangements.
pub fn decode_year(
    row: &entity::calendar_year::Model,
) -> AppResult<ducha_calendar::YearArrangement> {
    serde_json::from_str(&row.data).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "stored calendar year {} is unreadable: {e}",
            row.year
        ))
    })
}
