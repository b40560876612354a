//! The one way an in-memory copy learns that what it keeps may be stale.
//!
//! Each instance keeps a few copies of what the database holds, because reading them per
//! request cost more than everything else a request does (issue 14): items with their
//! assignments (`item_cache`), tokens and units (`directory`), the colour policy
//! (`service::watch::colours::PolicyCache`) and the board of now (`service::watch::board::BoardCache`).
//! Every one of them subscribes here where the state is built (`state::AppState::connect`)
//! and forgets what a [`Change`] says may have changed. Nothing else makes a copy forget.
//!
//! Changes are published at the few places that write shared data:
//! - a verb's commit (`service::items::verb::Write::finish`): the item;
//! - the services that change people and units, the colour policy or the calendar;
//! - the live tail (`service::watch::live`), for what other processes wrote, read from the audit
//!   trail every half second;
//! - on PostgreSQL, the notices other instances' triggers send (`item_cache::follow_changes`),
//!   which also say when they can no longer be heard.
//!
//! Delivery is synchronous: `publish` returns once every copy has forgotten, so a verb that
//! publishes before it answers is read back as written by whoever sent it.
//!
//! With `caches = off` ([`Caches::Off`]) no copy keeps anything and every answer is read from
//! the database, which tells a stale copy from a wrong rule.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Whether the instance keeps in-memory copies at all (`caches` in the settings,
/// `DUCHA_CACHES` in the environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Caches {
    #[default]
    On,
    /// Every read goes to the database.
    Off,
}

impl Caches {
    pub fn parse(text: &str) -> Option<Caches> {
        match text.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Some(Caches::On),
            "off" | "false" | "0" | "no" => Some(Caches::Off),
            _ => None,
        }
    }

    pub fn on(self) -> bool {
        self == Caches::On
    }
}

/// What may have changed in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// These items, or their assignments.
    Items(Vec<i64>),
    /// Any item may have changed (deadlines recomputed, a notice that could not be read).
    AllItems,
    /// People, units, tokens.
    Directory,
    /// The colour policy.
    Policy,
    /// The calendar in force was replaced: deadlines and colours may all have moved.
    Calendar,
    /// Other instances' item changes can no longer be heard (PostgreSQL's listening
    /// connection is down): nothing kept of items may be served until [`Change::Heard`].
    Unheard,
    /// Other instances' item changes are heard again (or for the first time).
    Heard,
}

/// A copy kept in memory that forgets on [`Change`]s.
pub trait KeptCopy: Send + Sync {
    /// Forgets whatever `change` may have made stale. Called on the publisher's thread; it
    /// must not block on I/O.
    fn changed(&self, change: &Change);
}

/// The instance's change feed. Cloning shares it.
#[derive(Clone, Default)]
pub struct ChangeFeed(Arc<Inner>);

#[derive(Default)]
struct Inner {
    copies: RwLock<Vec<Arc<dyn KeptCopy>>>,
    published: AtomicU64,
}

impl ChangeFeed {
    /// `copy` hears every change published from now on.
    pub fn subscribe(&self, copy: Arc<dyn KeptCopy>) {
        self.0
            .copies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(copy);
    }

    /// Tells every copy; returns once each has forgotten what it must.
    pub fn publish(&self, change: Change) {
        self.0.published.fetch_add(1, Ordering::Relaxed);
        let copies = self.0.copies.read().unwrap_or_else(|e| e.into_inner());
        for copy in copies.iter() {
            copy.changed(&change);
        }
    }

    /// Awaits a write's commit (`txn.commit()`) and publishes `change`: also when the
    /// commit's answer was lost, since it may have happened. What a write of shared data ends
    /// with.
    pub async fn commit(
        &self,
        commit: impl std::future::Future<Output = Result<(), sea_orm::DbErr>>,
        change: Change,
    ) -> Result<(), sea_orm::DbErr> {
        let committed = commit.await;
        self.publish(change);
        committed
    }

    /// How many changes were published (for `/metrics`).
    pub fn published(&self) -> u64 {
        self.0.published.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Heard(Mutex<Vec<Change>>);

    impl KeptCopy for Heard {
        fn changed(&self, change: &Change) {
            self.0.lock().expect("lock").push(change.clone());
        }
    }

    #[test]
    fn every_subscriber_hears_every_change_before_publish_returns() {
        let feed = ChangeFeed::default();
        let first = Arc::new(Heard::default());
        let second = Arc::new(Heard::default());
        feed.subscribe(first.clone());
        feed.subscribe(second.clone());
        feed.publish(Change::Items(vec![7]));
        feed.publish(Change::Policy);
        for heard in [&first, &second] {
            assert_eq!(
                *heard.0.lock().expect("lock"),
                vec![Change::Items(vec![7]), Change::Policy]
            );
        }
        assert_eq!(feed.published(), 2);
    }

    #[test]
    fn the_switch_reads_the_usual_spellings() {
        assert_eq!(Caches::parse("off"), Some(Caches::Off));
        assert_eq!(Caches::parse(" OFF "), Some(Caches::Off));
        assert_eq!(Caches::parse("on"), Some(Caches::On));
        assert_eq!(Caches::parse("sometimes"), None);
    }
}
