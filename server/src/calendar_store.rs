//! The live calendar: the bundled national data plus this deployment's local overrides from
//! the database. Readers take an `Arc` snapshot; a change builds a new calendar and swaps it
//! in, so a deadline is always computed on one consistent version.

use std::sync::{Arc, RwLock};

use ducha_calendar::{Calendar, CalendarData, LocalOverride};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

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

    /// National data with the overrides stored in the database on top.
    pub async fn load(db: &DatabaseConnection) -> AppResult<Self> {
        let overrides = entity::calendar_override::Entity::find()
            .order_by_asc(entity::calendar_override::Column::Date)
            .all(db)
            .await?;
        let mut data = CalendarData::national();
        for row in overrides {
            data.add_override(LocalOverride {
                date: row.date,
                working: row.working,
                name: row.name,
            });
        }
        Ok(CalendarStore::new(Calendar::build(data)))
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
