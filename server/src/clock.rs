//! Time as a dependency: the system clock in production, a clock the tests move by hand, so
//! a test can walk an item across weeks and holidays without sleeping.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug)]
pub struct Clock {
    fixed: Option<Arc<RwLock<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock that stands still at `at` until moved.
    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock {
            fixed: Some(Arc::new(RwLock::new(at))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(at) => at.read().map(|t| *t).unwrap_or_else(|e| *e.into_inner()),
            None => Utc::now(),
        }
    }

    /// Moves a manual clock (no effect on the system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(slot) = &self.fixed {
            match slot.write() {
                Ok(mut t) => *t = at,
                Err(e) => *e.into_inner() = at,
            }
        }
    }

    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}
