//! The append-only audit trail (docs/rules.md §1): who, when, from which stage to which, and
//! why — for every change, item or not.

use chrono::{DateTime, Utc};
use ducha_domain::Stage;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::Value;

use crate::auth::Actor;
use crate::error::AppResult;
use entity::audit_event;

/// One row of the audit trail about to be written.
pub struct Audit<'a> {
    pub item_id: Option<i64>,
    pub assignment_id: Option<i64>,
    pub actor: Option<&'a Actor>,
    pub at: DateTime<Utc>,
    pub action: &'a str,
    pub from: Option<Stage>,
    pub to: Option<Stage>,
    pub reason: Option<&'a str>,
    pub details: Value,
}

impl<'a> Audit<'a> {
    /// A change to the system rather than to an item (a unit, a person, the calendar, the
    /// colour policy, a report, the outbox): no item, no stages.
    pub fn admin(
        actor: Option<&'a Actor>,
        at: DateTime<Utc>,
        action: &'a str,
        details: Value,
    ) -> Audit<'a> {
        Audit {
            item_id: None,
            assignment_id: None,
            actor,
            at,
            action,
            from: None,
            to: None,
            reason: None,
            details,
        }
    }

    /// The same row, with why.
    pub fn because(self, reason: Option<&'a str>) -> Audit<'a> {
        Audit { reason, ..self }
    }

    /// The row, for callers that write many in one statement.
    pub fn into_model(self) -> audit_event::ActiveModel {
        audit_event::ActiveModel {
            item_id: Set(self.item_id),
            assignment_id: Set(self.assignment_id),
            actor_id: Set(self.actor.map(|a| a.person_id)),
            at: Set(self.at),
            action: Set(self.action.to_string()),
            from_stage: Set(self.from.map(|s| s.as_str().to_string())),
            to_stage: Set(self.to.map(|s| s.as_str().to_string())),
            reason: Set(self.reason.map(str::to_string)),
            details: Set(self.details),
            ..Default::default()
        }
    }
}

pub async fn audit(db: &impl ConnectionTrait, entry: Audit<'_>) -> AppResult<()> {
    entry.into_model().insert(db).await?;
    Ok(())
}
