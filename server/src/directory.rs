//! What nearly every request reads and almost nothing changes, kept in memory by each
//! instance: whose a bearer token is, and the units. Reading them from the database cost
//! every API request one statement for the token and every page one more for its units'
//! names (issue 14 measured a statement at about 115 µs of a request's wall time on
//! loopback, a third of `item(id)`'s).
//!
//! Several instances share one database, so what one of them changes the others must stop
//! believing. Three things see to it:
//! - every change to people and units publishes [`Change::Directory`] where it is made
//!   (`service::org`) and is audited, and the live tail every instance runs
//!   (`service::watch::live`, every 0.5 s) publishes the same change when it hears an audit row of
//!   the directory from another process; the copy forgets both caches on it;
//! - a token is believed for at most [`TOKEN_TTL`] before it is looked up again, which
//!   bounds what an audit row the tail skipped could cost (on PostgreSQL, rows of
//!   concurrent transactions can become visible out of id order);
//! - units are only ever added, never renamed or removed, so a unit that is not in the copy
//!   makes the copy be read again: a page never misses a unit created a moment ago.
//!
//! A read that began before a change was forgotten must not store what it read after it:
//! each cache counts what it forgets, and a read stores its rows only if the count has not
//! moved since it began.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::changes::{Caches, Change, KeptCopy};
use crate::error::AppResult;

/// How long a token is believed without asking the database again.
pub const TOKEN_TTL: Duration = Duration::from_secs(10);

/// How long the units are kept before they are read again, whatever was heard.
pub const UNITS_TTL: Duration = Duration::from_secs(300);

/// Tokens kept at most; beyond it the cache starts again (a scan of made-up tokens must not
/// grow the process).
const MAX_TOKENS: usize = 10_000;

/// A unit's row, shared by every page that names it rather than copied into each.
pub type UnitRow = Arc<entity::unit::Model>;

/// Every unit by id.
type Units = Arc<HashMap<i64, UnitRow>>;

/// The instance's in-memory directory of tokens and units. Cloning shares it.
#[derive(Clone, Default)]
pub struct Directory(Arc<Inner>);

#[derive(Default)]
struct Inner {
    /// Token hash → the person holding it, and when that was read.
    tokens: Mutex<HashMap<String, (Actor, Instant)>>,
    /// Every unit by id, and when they were read.
    units: RwLock<Option<(Units, Instant)>>,
    /// Held while the units are read, so that the many fields of a page that find the
    /// copy missing read the table once, not once each.
    reading_units: tokio::sync::Mutex<()>,
    /// How many times the caches were told to forget.
    forgotten: AtomicU64,
    /// `caches = off`: every token and unit is read from the database.
    switched_off: bool,
}

impl KeptCopy for Directory {
    fn changed(&self, change: &Change) {
        if *change == Change::Directory {
            self.forget_all();
        }
    }
}

impl Directory {
    pub fn new(caches: Caches) -> Directory {
        Directory(Arc::new(Inner {
            switched_off: !caches.on(),
            ..Inner::default()
        }))
    }

    /// Forgets every token and unit: something about people or units changed.
    fn forget_all(&self) {
        self.0.forgotten.fetch_add(1, Ordering::SeqCst);
        lock(&self.0.tokens).clear();
        *self.0.units.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The person holding the token whose SHA-256 is `hash`, if anyone does.
    pub async fn actor_of_token(
        &self,
        db: &impl ConnectionTrait,
        hash: &str,
    ) -> AppResult<Option<Actor>> {
        if self.0.switched_off {
            return crate::auth::actor_of_token_hash(db, hash).await;
        }
        if let Some((actor, read_at)) = lock(&self.0.tokens).get(hash)
            && read_at.elapsed() < TOKEN_TTL
        {
            return Ok(Some(actor.clone()));
        }
        let generation = self.0.forgotten.load(Ordering::SeqCst);
        let found = crate::auth::actor_of_token_hash(db, hash).await?;
        let mut tokens = lock(&self.0.tokens);
        match &found {
            // A refused token is not remembered: it may be issued the next moment.
            None => {
                tokens.remove(hash);
            }
            Some(actor) if self.0.forgotten.load(Ordering::SeqCst) == generation => {
                if tokens.len() >= MAX_TOKENS {
                    tokens.clear();
                }
                tokens.insert(hash.to_owned(), (actor.clone(), Instant::now()));
            }
            Some(_) => {}
        }
        Ok(found)
    }

    /// The units with these ids (those that exist), from the copy when it has them all.
    pub async fn units(
        &self,
        db: &impl ConnectionTrait,
        ids: &[i64],
    ) -> AppResult<HashMap<i64, UnitRow>> {
        if let Some(known) = self.known_units(ids) {
            return Ok(known);
        }
        if self.0.switched_off {
            let found = entity::unit::Entity::find()
                .filter(entity::unit::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?;
            return Ok(found.into_iter().map(|u| (u.id, Arc::new(u))).collect());
        }
        let _reading = self.0.reading_units.lock().await;
        // Another field may have read them while this one waited.
        if let Some(known) = self.known_units(ids) {
            return Ok(known);
        }
        let generation = self.0.forgotten.load(Ordering::SeqCst);
        let all: Units = Arc::new(
            entity::unit::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, Arc::new(u)))
                .collect(),
        );
        if self.0.forgotten.load(Ordering::SeqCst) == generation && !self.0.switched_off {
            *self.0.units.write().unwrap_or_else(|e| e.into_inner()) =
                Some((Arc::clone(&all), Instant::now()));
        }
        Ok(pick(&all, ids))
    }

    /// The unit with this id if the copy holds it now, without waiting: what a field naming
    /// one unit asks first (a page's units were read into the copy before its fields).
    pub fn known_unit(&self, id: i64) -> Option<UnitRow> {
        let units = self.0.units.read().unwrap_or_else(|e| e.into_inner());
        let (all, read_at) = units.as_ref()?;
        (read_at.elapsed() < UNITS_TTL)
            .then(|| all.get(&id).map(Arc::clone))
            .flatten()
    }

    /// The units asked for, if the copy is fresh and has every one of them.
    fn known_units(&self, ids: &[i64]) -> Option<HashMap<i64, UnitRow>> {
        let units = self.0.units.read().unwrap_or_else(|e| e.into_inner());
        let (all, read_at) = units.as_ref()?;
        (read_at.elapsed() < UNITS_TTL && ids.iter().all(|id| all.contains_key(id)))
            .then(|| pick(all, ids))
    }
}

fn pick(all: &HashMap<i64, UnitRow>, ids: &[i64]) -> HashMap<i64, UnitRow> {
    ids.iter()
        .filter_map(|id| all.get(id).map(|u| (*id, Arc::clone(u))))
        .collect()
}

/// A poisoned lock still holds a usable map: the cache is only ever a copy.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};

    use super::*;

    async fn add_unit(db: &sea_orm::DatabaseConnection, name: &str) -> i64 {
        entity::unit::ActiveModel {
            name: Set(name.into()),
            kind: Set(entity::UnitKind::Department),
            head_name: Set(None),
            contacts: Set(serde_json::json!([])),
            portfolio_leader_id: Set(None),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("unit")
        .id
    }

    async fn database() -> sea_orm::DatabaseConnection {
        crate::db::connect(&crate::config::Settings::for_tests())
            .await
            .expect("database")
    }

    #[tokio::test]
    async fn units_are_read_once_and_again_for_a_unit_not_yet_known() {
        let db = database().await;
        let directory = Directory::default();
        let housing = add_unit(&db, "区住房和城乡建设局").await;
        let found = directory.units(&db, &[housing]).await.expect("read");
        assert_eq!(found[&housing].name, "区住房和城乡建设局");

        // Written behind the directory's back: the copy does not have it, so it is read.
        let water = add_unit(&db, "区水务局").await;
        let found = directory.units(&db, &[housing, water]).await.expect("read");
        assert_eq!(found.len(), 2);
        assert_eq!(found[&water].name, "区水务局");

        // The copy answers while the table is gone; forgetting sends the next read to it.
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("DELETE FROM unit")
            .await
            .expect("emptied");
        assert_eq!(directory.units(&db, &[water]).await.expect("read").len(), 1);
        directory.changed(&Change::Policy);
        assert_eq!(directory.units(&db, &[water]).await.expect("read").len(), 1);
        directory.changed(&Change::Directory);
        assert!(
            directory
                .units(&db, &[water])
                .await
                .expect("read")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn switched_off_it_reads_every_unit_and_token_from_the_database() {
        let db = database().await;
        let directory = Directory::new(Caches::Off);
        let housing = add_unit(&db, "区住房和城乡建设局").await;
        assert_eq!(
            directory.units(&db, &[housing]).await.expect("read").len(),
            1
        );
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("DELETE FROM unit")
            .await
            .expect("emptied");
        assert!(
            directory
                .units(&db, &[housing])
                .await
                .expect("read")
                .is_empty()
        );
        assert!(directory.known_unit(housing).is_none());
    }

    #[tokio::test]
    async fn a_token_is_kept_and_forgotten_and_a_refused_one_is_not_kept() {
        let db = database().await;
        let directory = Directory::default();
        let admin = crate::service::org::ensure_first_admin(&db, chrono::Utc::now())
            .await
            .expect("admin")
            .expect("first start");
        let hash = crate::auth::hash_token(&admin.token);
        let actor = directory.actor_of_token(&db, &hash).await.expect("read");
        assert!(actor.is_some());

        use sea_orm::ConnectionTrait;
        db.execute_unprepared("UPDATE person SET token_hash = NULL")
            .await
            .expect("tokens cleared");
        assert_eq!(
            directory.actor_of_token(&db, &hash).await.expect("read"),
            actor,
            "kept for a while without asking"
        );
        directory.forget_all();
        assert_eq!(
            directory.actor_of_token(&db, &hash).await.expect("read"),
            None
        );
        assert!(
            lock(&directory.0.tokens).is_empty(),
            "a refusal is not kept"
        );
    }
}
