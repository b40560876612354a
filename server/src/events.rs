//! Live events for dashboards: lifecycle changes and colour changes, pushed over GraphQL
//! subscriptions. Every instance tails the shared audit trail (rows are append-only with
//! increasing ids, so "everything after the last id I saw" is exact), and recomputes the
//! open items' colours periodically, broadcasting the differences to its own subscribers.
//! A client connected to any instance therefore sees changes made through every instance,
//! on PostgreSQL and SQLite alike, without a message broker.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::TryStreamExt;

use chrono::{DateTime, Utc};
use ducha_domain::colour::{Colour, Verdict, assignment_colour};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast;

use crate::service::colours::RuleSet;
use crate::startup::AppState;

/// What a dashboard hears.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Lifecycle {
        audit_id: i64,
        item_id: Option<i64>,
        serial: Option<String>,
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
                let mut touched = std::collections::BTreeSet::new();
                for event in events {
                    if let LiveEvent::Lifecycle {
                        audit_id, item_id, ..
                    } = &event
                    {
                        last_id = last_id.max(*audit_id);
                        touched.extend(*item_id);
                    }
                    state.events.publish(event);
                }
                // A verb that changes an item's colour (a rejection, a closing) is heard
                // with its lifecycle event, not at the next full refresh.
                if let (Some(known), false) = (colours.as_mut(), touched.is_empty()) {
                    match touched_changes(&state, known, &touched).await {
                        Ok(changes) => changes.into_iter().for_each(|c| state.events.publish(c)),
                        Err(error) => tracing::warn!(?error, "recomputing touched colours"),
                    }
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
    let ids: Vec<i64> = rows.iter().filter_map(|e| e.item_id).collect();
    let serials = serials_of(state, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|e| LiveEvent::Lifecycle {
            audit_id: e.id,
            serial: e.item_id.and_then(|id| serials.get(&id).cloned()),
            item_id: e.item_id,
            action: e.action,
            from_stage: e.from_stage,
            to_stage: e.to_stage,
            reason: e.reason,
            at: e.at,
        })
        .collect())
}

/// The colours of the items a batch of lifecycle events touched, recomputed now against
/// `known` (which is updated): the changes to publish.
async fn touched_changes(
    state: &AppState,
    known: &mut HashMap<i64, Colour>,
    touched: &std::collections::BTreeSet<i64>,
) -> crate::error::AppResult<Vec<LiveEvent>> {
    let now = state.clock.now();
    let ids: Vec<i64> = touched.iter().copied().collect();
    let items = crate::service::in_chunks(&ids, |chunk| {
        entity::item::Entity::find()
            .filter(entity::item::Column::Id.is_in(chunk))
            .all(&state.db)
    })
    .await?;
    let rule_set = RuleSet::load(state).await?;
    let colours =
        crate::service::colours::colours_for_items(&state.db, &rule_set.rules(), &items, now)
            .await?;
    let mut changes = Vec::new();
    for item in items {
        let verdict = colours
            .get(&item.id)
            .map(|c| c.item.clone())
            .unwrap_or(Verdict {
                colour: Colour::None,
                reason: String::new(),
            });
        let previous = known.get(&item.id).copied().unwrap_or(Colour::None);
        if previous != verdict.colour {
            changes.push(LiveEvent::Colour {
                item_id: item.id,
                serial: item.serial.clone(),
                from: previous,
                to: verdict.colour,
                reason: verdict.reason,
                at: now,
            });
        }
        known.insert(item.id, verdict.colour);
    }
    Ok(changes)
}

async fn serials_of(
    state: &AppState,
    ids: &[i64],
) -> crate::error::AppResult<HashMap<i64, String>> {
    let rows = crate::service::in_chunks(ids, |chunk| {
        entity::item::Entity::find()
            .filter(entity::item::Column::Id.is_in(chunk))
            .all(&state.db)
    })
    .await?;
    Ok(rows.into_iter().map(|i| (i.id, i.serial)).collect())
}

/// The open items' colours now, and the changes against `before` (none on the first run).
/// Reads the same one narrow query as the reminder sweep, so a refresh costs about a plain
/// scan of the open assignments (BENCHMARKS.md), not a pass per table.
async fn colour_changes(
    state: &AppState,
    before: Option<&HashMap<i64, Colour>>,
) -> crate::error::AppResult<(HashMap<i64, Colour>, Vec<LiveEvent>)> {
    let now = state.clock.now();
    let rule_set = RuleSet::load(state).await?;
    let mut rows = crate::service::sweep::open_assignments(&state.db, now).await?;
    // The worst assignment's verdict is the item's, as everywhere else.
    let mut worst: HashMap<i64, (Verdict, String)> = HashMap::new();
    while let Some(row) = rows.try_next().await? {
        let verdict = assignment_colour(
            &rule_set.calendar,
            rule_set.time_zone,
            &rule_set.policy,
            &row.facts(),
            now,
        );
        match worst.get(&row.item_id) {
            Some((held, _)) if held.colour >= verdict.colour => {}
            _ => {
                worst.insert(row.item_id, (verdict, row.serial));
            }
        }
    }
    // The stream holds a pooled connection until dropped; the reads below need their own.
    drop(rows);
    let mut current = HashMap::new();
    let mut changes = Vec::new();
    // Items that left the open set (closed, cancelled) lose their colour.
    if let Some(before) = before {
        let gone: Vec<i64> = before
            .iter()
            .filter(|(id, colour)| **colour != Colour::None && !worst.contains_key(id))
            .map(|(id, _)| *id)
            .collect();
        let serials = serials_of(state, &gone).await?;
        for item_id in gone {
            changes.push(LiveEvent::Colour {
                item_id,
                serial: serials.get(&item_id).cloned().unwrap_or_default(),
                from: before.get(&item_id).copied().unwrap_or(Colour::None),
                to: Colour::None,
                reason: "事项已不在办理中".into(),
                at: now,
            });
        }
    }
    for (item_id, (verdict, serial)) in worst {
        current.insert(item_id, verdict.colour);
        if let Some(before) = before {
            let previous = before.get(&item_id).copied().unwrap_or(Colour::None);
            if previous != verdict.colour {
                changes.push(LiveEvent::Colour {
                    item_id,
                    serial,
                    from: previous,
                    to: verdict.colour,
                    reason: verdict.reason,
                    at: now,
                });
            }
        }
    }
    Ok((current, changes))
}
