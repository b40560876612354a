//! The colour policy: its stored versions, the one in force kept per instance, and the rules (calendar, zone, policy) colours are judged by.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;
use ducha_domain::colour::ColourPolicy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use crate::auth::Actor;
use crate::calendar_store::CalendarStore;
use crate::changes::{Caches, Change, ChangeFeed, KeptCopy};
use crate::error::{AppError, AppResult};
use crate::service::store::audit::{Audit, audit};
use entity::colour_policy;

/// The policy in force and its version (0 = the built-in defaults, never changed).
pub async fn current_policy(db: &impl ConnectionTrait) -> AppResult<(i32, ColourPolicy)> {
    decoded(
        colour_policy::Entity::find()
            .order_by_desc(colour_policy::Column::Version)
            .one(db)
            .await?,
    )
}

/// The policy that was in force at `at` (the latest version stored before it), so that a
/// month's report judges the month by the rules of that month, even when republished later.
pub async fn policy_at(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> AppResult<(i32, ColourPolicy)> {
    decoded(
        colour_policy::Entity::find()
            .filter(colour_policy::Column::CreatedAt.lt(at))
            .order_by_desc(colour_policy::Column::Version)
            .one(db)
            .await?,
    )
}

/// Every stored version, newest first, with when it was made (the built-in defaults, version
/// 0, last): what the administrator's page lists.
pub async fn policy_versions(
    db: &impl ConnectionTrait,
) -> AppResult<Vec<(i32, ColourPolicy, Option<DateTime<Utc>>)>> {
    let rows = colour_policy::Entity::find()
        .order_by_desc(colour_policy::Column::Version)
        .all(db)
        .await?;
    let mut versions = Vec::with_capacity(rows.len() + 1);
    for row in rows {
        let at = row.created_at;
        let (version, policy) = decoded(Some(row))?;
        versions.push((version, policy, Some(at)));
    }
    versions.push((0, ColourPolicy::default(), None));
    Ok(versions)
}

/// A stored version and its policy; no row is version 0, the built-in defaults.
fn decoded(row: Option<colour_policy::Model>) -> AppResult<(i32, ColourPolicy)> {
    match row {
        Some(row) => {
            let policy = serde_json::from_str(&row.data).map_err(|e| {
                AppError::Internal(anyhow::anyhow!(
                    "colour policy {} unreadable: {e}",
                    row.version
                ))
            })?;
            Ok((row.version, policy))
        }
        None => Ok((0, ColourPolicy::default())),
    }
}

/// Stores a new version of the policy; it takes effect at once (colours are computed on read).
#[tracing::instrument(skip_all)]
pub async fn update_policy(
    db: &DatabaseConnection,
    changes: &ChangeFeed,
    actor: &Actor,
    now: DateTime<Utc>,
    policy: ColourPolicy,
) -> AppResult<i32> {
    crate::service::store::scope::require_duty(
        actor,
        ducha_domain::Duty::SetColourPolicy,
        "只有系统管理员可以修改颜色规则",
    )?;
    policy.validate().map_err(AppError::BadUserInput)?;
    let txn = crate::service::store::write::begin_write(db).await?;
    let (version, previous) = current_policy(&txn).await?;
    let data = serde_json::to_string(&policy).map_err(|e| AppError::Internal(e.into()))?;
    colour_policy::ActiveModel {
        version: Set(version + 1),
        data: Set(data),
        created_by: Set(Some(actor.person_id)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit(
        &txn,
        Audit::admin(Some(actor), now, "UPDATE_COLOUR_POLICY", json!({ "fromVersion": version, "toVersion": version + 1, "from": previous, "to": policy })),
    )
    .await?;
    changes.commit(txn.commit(), Change::Policy).await?;
    Ok(version + 1)
}

pub struct Rules<'a> {
    pub calendar: &'a Calendar,
    pub time_zone: Tz,
    pub policy: &'a ColourPolicy,
}

/// The live calendar and the colour policy in force, loaded together once per use.
#[derive(Clone)]
pub struct RuleSet {
    pub calendar: std::sync::Arc<Calendar>,
    pub policy: ColourPolicy,
    pub policy_version: i32,
    pub time_zone: Tz,
}

impl RuleSet {
    pub async fn load(
        db: &impl ConnectionTrait,
        calendar: &CalendarStore,
        time_zone: Tz,
    ) -> AppResult<RuleSet> {
        RuleSet::with_policy(calendar, time_zone, current_policy(db).await?)
    }

    fn with_policy(
        calendar: &CalendarStore,
        time_zone: Tz,
        (policy_version, policy): (i32, ColourPolicy),
    ) -> AppResult<RuleSet> {
        Ok(RuleSet {
            calendar: calendar.current()?,
            policy,
            policy_version,
            time_zone,
        })
    }

    pub fn rules(&self) -> Rules<'_> {
        Rules {
            calendar: &self.calendar,
            time_zone: self.time_zone,
            policy: &self.policy,
        }
    }
}

/// How long an instance colours by the policy it holds without reading it again. A change
/// is published at once where it is made and by the live tail of every other instance
/// within half a second ([`Change::Policy`]); this bounds an audit row the tail skipped.
pub const POLICY_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// The colour policy in force, kept per instance: a page's colours are computed from rows
/// it reads anyway and this, with no statement of their own (issue 14). Policies change a
/// few times a year; each change is audited with no item, which is what the live tail
/// listens for.
#[derive(Clone, Default)]
pub struct PolicyCache(std::sync::Arc<PolicyHeld>);

#[derive(Default)]
pub struct PolicyHeld {
    held: std::sync::Mutex<Option<(i32, ColourPolicy, std::time::Instant)>>,
    /// Counts forgets, so that a read that raced one does not store what it read.
    forgotten: std::sync::atomic::AtomicU64,
    /// `caches = off`: the policy is read for every use.
    switched_off: bool,
}

impl KeptCopy for PolicyCache {
    fn changed(&self, change: &Change) {
        if *change == Change::Policy {
            self.forget();
        }
    }
}

impl PolicyCache {
    pub fn new(caches: Caches) -> PolicyCache {
        PolicyCache(std::sync::Arc::new(PolicyHeld {
            switched_off: !caches.on(),
            ..PolicyHeld::default()
        }))
    }

    /// Forgets the policy: a new one may have been stored.
    fn forget(&self) {
        self.0
            .forgotten
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *self.0.held.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The rules with the policy in force: the one held, or read again when none is held
    /// or it was read more than [`POLICY_TTL`] ago.
    pub async fn rule_set(
        &self,
        db: &impl ConnectionTrait,
        calendar: &CalendarStore,
        time_zone: Tz,
    ) -> AppResult<RuleSet> {
        use std::sync::atomic::Ordering;
        let held = self
            .0
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(_, _, read_at)| read_at.elapsed() < POLICY_TTL)
            .map(|(version, policy, _)| (*version, policy.clone()));
        let policy = match held {
            Some(held) => held,
            None => {
                let generation = self.0.forgotten.load(Ordering::SeqCst);
                let read_at = std::time::Instant::now();
                let loaded = current_policy(db).await?;
                let mut slot = self.0.held.lock().unwrap_or_else(|e| e.into_inner());
                if self.0.forgotten.load(Ordering::SeqCst) == generation && !self.0.switched_off {
                    *slot = Some((loaded.0, loaded.1.clone(), read_at));
                }
                loaded
            }
        };
        RuleSet::with_policy(calendar, time_zone, policy)
    }
}
