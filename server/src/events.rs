//! Live events for dashboards: lifecycle changes and colour changes, broadcast within this
//! process to the GraphQL subscriptions. `service::watch::live` fills the hub from the shared
//! audit trail, so a client of any instance hears changes made through every instance.

use chrono::{DateTime, Utc};
use ducha_domain::colour::Colour;
use tokio::sync::broadcast;

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

    pub fn publish(&self, event: LiveEvent) {
        // No subscribers is not an error: nobody is watching right now.
        let _ = self.sender.send(event);
    }
}
