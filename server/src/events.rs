//! Live events for dashboards: lifecycle changes and colour changes, pushed over GraphQL
//! subscriptions. Every instance tails the shared audit trail (rows are append-only with
//! increasing ids, so "everything after the last id I saw" is exact), and recomputes the
//! open items' colours periodically, broadcasting the differences to its own subscribers.
//! A client connected to any instance therefore sees changes made through every instance,
//! on PostgreSQL and SQLite alike, without a message broker.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ducha_domain::Stage;
use ducha_domain::colour::Colour;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast;

use crate::service::colours::{RuleSet, colours_for_items};
use crate::startup::AppState;

/// What a dashboard hears.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Lifecycle {
        audit_id: i64,
        item_id: Option<i64>,
        action: String,
        from_stage: Option<String>,
        to_stage: Option<String>,
        reason: Option<String>,
        at: DateTime<Utc>,
    },
    Colour {
        item_id: i64,
        serial: String,
        from: Colour,
        to: Colour,
        reason: String,
        at: DateTime<Utc>,
    },
}

#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<LiveEvent>,
}

impl Default for EventHub {
    fn default() -> Self {
        EventHub {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl EventHub {
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    fn publish(&self, event: LiveEvent) {
        // No subscribers is not an error: nobody is watching right now.
        let _ = self.sender.send(event);
    }
}

/// Tails the audit trail every `poll` and recomputes colours every `colour_every`, until the
/// task is dropped.
pub async fn run(state: AppState, poll: Duration, colour_every: Duration) {
    let mut last_id = latest_audit_id(&state).await;
    let mut colours: Option<HashMap<i64, Colour>> = None;
    let mut since_colours = colour_every;
    loop {
        match new_events(&state, last_id).await {
            Ok(events) => {
                for event in events {
                    if let LiveEvent::Lifecycle { audit_id, .. } = &event {
                        last_id = last_id.max(*audit_id);
                    }
                    state.events.publish(event);
                }
            }
            Err(error) => tracing::warn!(?error, "tailing the audit trail"),
        }
        if since_colours >= colour_every {
            since_colours = Duration::ZERO;
            match colour_changes(&state, colours.as_ref()).await {
                Ok((now_colours, changes)) => {
                    for change in changes {
                        state.events.publish(change);
                    }
                    colours = Some(now_colours);
                }
                Err(error) => tracing::warn!(?error, "recomputing colours"),
            }
        }
        tokio::time::sleep(poll).await;
        since_colours += poll;
    }
}

async fn latest_audit_id(state: &AppState) -> i64 {
    entity::audit_event::Entity::find()
        .order_by_desc(entity::audit_event::Column::Id)
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .map(|e| e.id)
        .unwrap_or(0)
}

async fn new_events(state: &AppState, after: i64) -> crate::error::AppResult<Vec<LiveEvent>> {
    let rows = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Id.gt(after))
        .order_by_asc(entity::audit_event::Column::Id)
        .limit(500)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|e| LiveEvent::Lifecycle {
            audit_id: e.id,
            item_id: e.item_id,
            action: e.action,
            from_stage: e.from_stage,
            to_stage: e.to_stage,
            reason: e.reason,
            at: e.at,
        })
        .collect())
}

/// The open items' colours now, and the changes against `before` (none on the first run).
async fn colour_changes(
    state: &AppState,
    before: Option<&HashMap<i64, Colour>>,
) -> crate::error::AppResult<(HashMap<i64, Colour>, Vec<LiveEvent>)> {
    let now = state.clock.now();
    let rule_set = RuleSet::load(state).await?;
    let rules = rule_set.rules();
    let open: Vec<&str> = Stage::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let items = entity::item::Entity::find()
        .filter(entity::item::Column::Stage.is_in(open))
        .all(&state.db)
        .await?;
    let verdicts = colours_for_items(&state.db, &rules, &items, now).await?;
    let mut current = HashMap::new();
    let mut changes = Vec::new();
    for item in &items {
        let Some(v) = verdicts.get(&item.id) else {
            continue;
        };
        current.insert(item.id, v.item.colour);
        if let Some(before) = before {
            let previous = before.get(&item.id).copied().unwrap_or(Colour::None);
            if previous != v.item.colour {
                changes.push(LiveEvent::Colour {
                    item_id: item.id,
                    serial: item.serial.clone(),
                    from: previous,
                    to: v.item.colour,
                    reason: v.item.reason.clone(),
                    at: now,
                });
            }
        }
    }
    Ok((current, changes))
}
