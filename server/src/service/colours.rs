//! Colours at read time: gather each assignment's facts (deadline, extension, stage,
//! rejections, reopen, progress reports) and let the pure rules in `ducha_domain::colour`
//! decide. Now, the facts are on the item and assignment rows a page reads anyway
//! (`colours_from_rows`); as of a past instant, they are read from the history in a few
//! batched queries (`colours_for_items`). No colour is ever stored.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;
use ducha_domain::Stage;
pub use ducha_domain::colour::ItemColours;
use ducha_domain::colour::{
    AssignmentFacts, Colour, ColourPolicy, UnitFacts, Verdict, assignment_colour, unit_colour,
    verdict_holds_until,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use super::audit::{Audit, audit};
use super::sql::in_chunks;
use crate::auth::Actor;
use crate::calendar_store::CalendarStore;
use crate::changes::{Caches, Change, ChangeFeed, KeptCopy};
use crate::error::{AppError, AppResult};
use entity::AssignmentStatus;
use entity::ItemStage;
use entity::{assignment, audit_event, colour_policy, item, report, unit};

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
    super::verb::require_duty(
        actor,
        ducha_domain::Duty::SetColourPolicy,
        "只有系统管理员可以修改颜色规则",
    )?;
    policy.validate().map_err(AppError::BadUserInput)?;
    let txn = super::sql::begin_write(db).await?;
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
    let committed = txn.commit().await;
    // Even when the commit's answer was lost: it may have happened.
    changes.publish(Change::Policy);
    committed?;
    Ok(version + 1)
}

pub struct Rules<'a> {
    pub calendar: &'a Calendar,
    pub time_zone: Tz,
    pub policy: &'a ColourPolicy,
}

/// The live calendar and the colour policy in force, loaded together once per use.
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

/// What the colour rules read of one live assignment, as of some instant.
pub struct FactsOf {
    pub assignment: assignment::Model,
    pub facts: AssignmentFacts,
}

/// The facts of every live assignment of `items` as of `at`, in a few queries whatever their
/// number (the assignments, their approvals, the dues and withdrawals recorded since, the
/// rejections and reopens, the reports): what colours are computed from, and what a unit's
/// to-do is made of.
pub async fn assignment_facts(
    db: &impl ConnectionTrait,
    items: &[item::Model],
    at: DateTime<Utc>,
) -> AppResult<Vec<FactsOf>> {
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut assignments = live_assignments_at(db, &ids, at).await?;
    // In id order whatever the chunks, as a page reads them: of two
    // assignments of one colour, the first gives the item its reason.
    assignments.sort_by_key(|a| a.id);
    let events = in_chunks(&ids, |chunk| {
        audit_event::Entity::find()
            .filter(audit_event::Column::ItemId.is_in(chunk))
            .filter(audit_event::Column::Action.is_in(["REJECT", "REOPEN"]))
            .filter(audit_event::Column::At.lte(at))
            .all(db)
    })
    .await?;
    let mut rejections: HashMap<i64, i64> = HashMap::new();
    let mut reopened: HashMap<i64, bool> = HashMap::new();
    for event in &events {
        let Some(item_id) = event.item_id else {
            continue;
        };
        match event.action.as_str() {
            "REJECT" => *rejections.entry(item_id).or_default() += 1,
            _ => {
                reopened.insert(item_id, true);
            }
        }
    }
    let reports = in_chunks(&ids, |chunk| {
        report::Entity::find()
            .filter(report::Column::ItemId.is_in(chunk))
            .filter(report::Column::CreatedAt.lte(at))
            .all(db)
    })
    .await?;
    let mut last_report: HashMap<i64, DateTime<Utc>> = HashMap::new();
    // The lead's latest completion report (its clock) and its first (the co-units' part).
    let mut feedback: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for r in &reports {
        if r.kind == "FEEDBACK" {
            let slot = feedback
                .entry(r.item_id)
                .or_insert((r.created_at, r.created_at));
            slot.0 = slot.0.max(r.created_at);
            slot.1 = slot.1.min(r.created_at);
        }
        let slot = last_report.entry(r.assignment_id).or_insert(r.created_at);
        if r.created_at > *slot {
            *slot = r.created_at;
        }
    }
    let by_id: HashMap<i64, &item::Model> = items.iter().map(|i| (i.id, i)).collect();
    Ok(assignments
        .into_iter()
        .filter_map(|a| {
            let current = by_id.get(&a.item_id)?;
            let facts = AssignmentFacts {
                stage: current.stage.into(),
                due_at: a.due_at,
                extended_due_at: a.extended_due_at,
                rejections: rejections.get(&a.item_id).copied().unwrap_or(0),
                reopened: reopened.get(&a.item_id).copied().unwrap_or(false),
                report_cycle_days: current.report_cycle_days,
                report_cycle_working_days: current.report_cycle_working_days,
                last_report_or_assigned_at: last_report.get(&a.id).copied().unwrap_or(a.created_at),
                feedback_at: feedback.get(&a.item_id).map(|f| f.0),
                lead: a.lead,
                first_feedback_at: feedback.get(&a.item_id).map(|f| f.1),
                own_report_at: last_report.get(&a.id).copied(),
            };
            Some(FactsOf {
                assignment: a,
                facts,
            })
        })
        .collect())
}

/// Colours of `items` as of `at`, in a few queries whatever their number.
#[tracing::instrument(skip_all)]
pub async fn colours_for_items(
    db: &impl ConnectionTrait,
    rules: &Rules<'_>,
    items: &[item::Model],
    at: DateTime<Utc>,
) -> AppResult<HashMap<i64, ItemColours>> {
    let assignments = assignment_facts(db, items, at).await?;
    Ok(colours_of(
        rules,
        items.iter(),
        assignments.iter().map(|f| (&f.assignment, &f.facts)),
        at,
    ))
}

/// Colours of `items` from their live assignments' facts (`ItemColours::add` says how they
/// make the item's).
fn colours_of<'a, 'i>(
    rules: &Rules<'_>,
    items: impl Iterator<Item = &'i item::Model>,
    facts: impl IntoIterator<Item = (&'a assignment::Model, &'a AssignmentFacts)>,
    at: DateTime<Utc>,
) -> HashMap<i64, ItemColours> {
    let mut result: HashMap<i64, ItemColours> = items
        .map(|i| (i.id, ItemColours::placeholder(i.stage.into())))
        .collect();
    for (a, facts) in facts {
        if let Some(entry) = result.get_mut(&a.item_id) {
            let verdict =
                assignment_colour(rules.calendar, rules.time_zone, rules.policy, facts, at);
            entry.add(a.id, a.unit_id, verdict);
        }
    }
    result
}

/// What the colour rules read of a live assignment now: its own row and its item's. The
/// facts that come from the history (reports, 退回重办, 回头看) are kept on those rows by the
/// writes that make them true (`item::Model::feedback_at` and the fields beside it), so they
/// are the latest ones: right for now and for any later instant, not for a past one (that is
/// `assignment_facts`, which reads the history as of its instant).
pub fn facts_now(item: &item::Model, a: &assignment::Model) -> AssignmentFacts {
    AssignmentFacts {
        stage: item.stage.into(),
        due_at: a.due_at,
        extended_due_at: a.extended_due_at,
        rejections: i64::from(item.rejections),
        reopened: item.reopened,
        report_cycle_days: item.report_cycle_days,
        report_cycle_working_days: item.report_cycle_working_days,
        last_report_or_assigned_at: a.last_report_at.unwrap_or(a.created_at),
        feedback_at: item.feedback_at,
        lead: a.lead,
        first_feedback_at: item.first_feedback_at,
        own_report_at: a.last_report_at,
    }
}

/// Colours of items at `at` (now, or later) from rows a page has read anyway: each item with
/// every one of its assignments (`read::kept_items`). No statement: issue 14 asked that
/// colours cost a page no more than a fifth of its time, and they are a function of these
/// rows, the calendar and the policy. Agrees with `colours_for_items` at any instant after
/// the latest write (a test holds them together on the demo district).
///
/// An item's colours are kept on its rows for as long as they hold
/// (`verdict_holds_until`: until the next local midnight or a due instant, with this
/// calendar and this policy), so the same page shown again judges nothing: rows that
/// change are new rows, with nothing kept.
pub fn colours_from_rows(
    rule_set: &RuleSet,
    rows: &[std::sync::Arc<super::rows::ItemRows>],
    at: DateTime<Utc>,
) -> HashMap<i64, std::sync::Arc<ItemColours>> {
    rows.iter()
        .map(|rows| (rows.item.id, colours_until(rule_set, rows, at).0))
        .collect()
}

/// One item's colours at `at` from its rows (kept ones while they hold), and the instant
/// until which they hold.
pub fn colours_until(
    rule_set: &RuleSet,
    rows: &super::rows::ItemRows,
    at: DateTime<Utc>,
) -> (std::sync::Arc<ItemColours>, DateTime<Utc>) {
    let kept = &rows.kept_colours;
    kept.get(&rule_set.calendar, rule_set.policy_version, at)
        .unwrap_or_else(|| {
            let (colours, until) = colours_of_rows(&rule_set.rules(), rows, at);
            let colours = std::sync::Arc::new(colours);
            kept.keep(
                &rule_set.calendar,
                rule_set.policy_version,
                at..until,
                &colours,
            );
            (colours, until)
        })
}

/// One item's colours at `at` from its rows, and the instant until which they hold.
fn colours_of_rows(
    rules: &Rules<'_>,
    rows: &super::rows::ItemRows,
    at: DateTime<Utc>,
) -> (ItemColours, DateTime<Utc>) {
    let mut colours = ItemColours::placeholder(rows.item.stage.into());
    let mut until = DateTime::<Utc>::MAX_UTC;
    for a in &rows.assignments {
        if a.status == AssignmentStatus::Withdrawn {
            continue;
        }
        if a.created_at > at {
            // Counted from the instant it was made.
            until = until.min(a.created_at);
            continue;
        }
        let facts = facts_now(&rows.item, a);
        until = until.min(verdict_holds_until(rules.time_zone, &facts, at));
        let verdict = assignment_colour(rules.calendar, rules.time_zone, rules.policy, &facts, at);
        colours.add(a.id, a.unit_id, verdict);
    }
    (colours, until)
}

/// Where the items of a colour filter are looked for: the items of `select`, and among them
/// only those of `known` (ascending ids) when a current board named the candidates.
pub struct Candidates {
    pub select: sea_orm::Select<item::Entity>,
    pub known: Option<Vec<i64>>,
}

/// Items of `candidates` whose colour at `at` is one of `wanted`, up to `limit`, newest first
/// or (for a page read backwards) oldest first. Colours are computed, not stored, so
/// candidates are read in batches and judged until the page is full; stages where the clock
/// does not run are skipped at once when no uncoloured item is wanted.
#[tracing::instrument(skip_all, fields(limit))]
pub async fn items_of_colours(
    db: &impl ConnectionTrait,
    rules: &Rules<'_>,
    candidates: Candidates,
    wanted: &[Colour],
    viewer_unit: Option<i64>,
    at: DateTime<Utc>,
    (limit, newest_first): (u64, bool),
) -> AppResult<Vec<item::Model>> {
    use sea_orm::{QueryOrder as _, QuerySelect};
    const BATCH: u64 = 500;
    let Candidates { select, known } = candidates;
    let select = if wanted.contains(&Colour::None) {
        select
    } else {
        let coloured = [
            Stage::Assigned,
            Stage::InProgress,
            Stage::FeedbackSubmitted,
            Stage::Verified,
        ]
        .map(ItemStage::from);
        select.filter(item::Column::Stage.is_in(coloured))
    };
    let order = if newest_first {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    // The known candidates in reading order, a batch at a time.
    let mut known = known.map(|mut ids| {
        if newest_first {
            ids.reverse();
        }
        ids.into_iter()
    });
    let mut found = Vec::new();
    let mut past: Option<i64> = None;
    loop {
        let (batch, exhausted) = match known.as_mut() {
            Some(ids) => {
                // A current board's candidates are almost all still of their colour: read
                // about as many as the page needs, not a whole batch.
                let wanted_now = (limit - found.len() as u64).div_ceil(4) * 5 + 4;
                let size = wanted_now.min(BATCH) as usize;
                let chunk: Vec<i64> = ids.by_ref().take(size).collect();
                if chunk.is_empty() {
                    return Ok(found);
                }
                let exhausted = chunk.len() < size;
                let batch = select
                    .clone()
                    .filter(item::Column::Id.is_in(chunk))
                    .order_by(item::Column::Id, order.clone())
                    .all(db)
                    .await?;
                (batch, exhausted)
            }
            None => {
                let mut batch_select = select.clone();
                if let Some(id) = past {
                    batch_select = batch_select.filter(if newest_first {
                        item::Column::Id.lt(id)
                    } else {
                        item::Column::Id.gt(id)
                    });
                }
                let batch = batch_select
                    .order_by(item::Column::Id, order.clone())
                    .limit(BATCH)
                    .all(db)
                    .await?;
                let Some(last) = batch.last() else {
                    return Ok(found);
                };
                past = Some(last.id);
                let exhausted = (batch.len() as u64) < BATCH;
                (batch, exhausted)
            }
        };
        let colours = colours_for_items(db, rules, &batch, at).await?;
        for candidate in batch {
            // People of a unit filter by the colour they see: their own unit's.
            let colour = colours
                .get(&candidate.id)
                .map_or(Colour::None, |c| match viewer_unit {
                    Some(unit) => c.by_unit.get(&unit).map_or(Colour::None, |v| v.colour),
                    None => c.item.colour,
                });
            if wanted.contains(&colour) {
                found.push(candidate);
                if found.len() as u64 >= limit {
                    return Ok(found);
                }
            }
        }
        if exhausted {
            return Ok(found);
        }
    }
}

/// The assignments of `item_ids` live at `at`, with the dues they had then: those created by
/// then and not yet withdrawn (a later 改派 leaves the past as it was), their extended dues
/// as approved by then, and their dues before any later change moved them (a resumption, a
/// calendar change, a lead's extension, a 回头看), so that an earlier instant is judged as
/// the live board judged it (docs/rules.md §3).
pub async fn live_assignments_at(
    db: &impl ConnectionTrait,
    item_ids: &[i64],
    at: DateTime<Utc>,
) -> AppResult<Vec<assignment::Model>> {
    let withdrawn_since = super::history::withdrawn_after(db, at).await?;
    let mut assignments: Vec<assignment::Model> = in_chunks(item_ids, |chunk| {
        assignment::Entity::find()
            .filter(assignment::Column::ItemId.is_in(chunk))
            .filter(assignment::Column::CreatedAt.lte(at))
            .all(db)
    })
    .await?
    .into_iter()
    .filter(|a| a.status != AssignmentStatus::Withdrawn || withdrawn_since.contains(&a.id))
    .collect();
    extensions_as_of(db, &mut assignments, at).await?;
    let dues = super::history::dues_at(db, at).await?;
    for a in &mut assignments {
        if let Some(then) = dues.get(&a.id) {
            then.apply(&mut a.due_at, &mut a.extended_due_at);
        }
    }
    Ok(assignments)
}

/// Sets each assignment's extended due to the one approved by `at` (none if none was yet):
/// colours asked of a past instant must not know of later extensions.
async fn extensions_as_of(
    db: &impl ConnectionTrait,
    assignments: &mut [assignment::Model],
    at: DateTime<Utc>,
) -> AppResult<()> {
    let extended: Vec<i64> = assignments
        .iter()
        .filter(|a| a.extended_due_at.is_some())
        .map(|a| a.id)
        .collect();
    if extended.is_empty() {
        return Ok(());
    }
    let approved = in_chunks(&extended, |chunk| {
        entity::extension_request::Entity::find()
            .filter(entity::extension_request::Column::AssignmentId.is_in(chunk))
            .filter(
                entity::extension_request::Column::Decision.eq(entity::ExtensionDecision::Approved),
            )
            .all(db)
    })
    .await?;
    // Per assignment: the latest approval by `at`, and whether any came after it.
    let mut by_then: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    let mut later: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for request in approved {
        let Some(decided) = request.decided_at else {
            continue;
        };
        if decided > at {
            later.insert(request.assignment_id);
            continue;
        }
        let slot = by_then
            .entry(request.assignment_id)
            .or_insert((decided, request.proposed_due_at));
        if decided >= slot.0 {
            *slot = (decided, request.proposed_due_at);
        }
    }
    for a in assignments
        .iter_mut()
        .filter(|a| a.extended_due_at.is_some())
    {
        a.extended_due_at = match (by_then.get(&a.id), later.contains(&a.id)) {
            // No request of its own: a co-unit carried by the lead's extension, whose
            // earlier dues the audit trail gives (`history::dues_at`).
            (None, false) => a.extended_due_at,
            // Nothing approved by then.
            (None, true) => None,
            // The approval in force now was in force then (with any resumption's shift).
            (Some(_), false) => a.extended_due_at,
            // A later approval replaced it: the due approved then.
            (Some((_, due)), true) => Some(*due),
        };
    }
    Ok(())
}

/// The items that were open at `at`, or closed since `closed_since`, as they stood at `at`:
/// registered by then, each in the stage it had then (later changes rewound from the audit
/// trail), closed only if closed by then. Items closed long before are not read.
pub async fn items_as_of(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    closed_since: DateTime<Utc>,
) -> AppResult<Vec<item::Model>> {
    let rewound = super::history::stages_at(db, at).await?;
    let mut items = item::Entity::find()
        .filter(item::Column::CreatedAt.lte(at))
        .filter(
            sea_orm::Condition::any()
                .add(item::Column::Stage.is_in(ItemStage::open()))
                .add(item::Column::ClosedAt.gte(closed_since)),
        )
        .all(db)
        .await?;
    // Items whose stage changed since `at` (closed or cancelled now, open then).
    let seen: std::collections::HashSet<i64> = items.iter().map(|i| i.id).collect();
    let changed: Vec<i64> = rewound
        .iter()
        .filter(|(id, before)| before.is_some() && !seen.contains(id))
        .map(|(id, _)| *id)
        .collect();
    items.extend(
        in_chunks(&changed, |chunk| {
            item::Entity::find()
                .filter(item::Column::Id.is_in(chunk))
                .all(db)
        })
        .await?,
    );
    Ok(items
        .into_iter()
        .filter_map(|mut i| {
            match rewound.get(&i.id) {
                // The first change at or after `at` created it: it did not exist yet.
                Some(None) => return None,
                Some(Some(before)) => i.stage = ItemStage::parse(before)?,
                None => {}
            }
            if i.closed_at.is_some_and(|c| c > at) {
                i.closed_at = None;
            }
            Some(i)
        })
        .collect())
}

/// One unit's colour and the counts behind it.
#[derive(Debug, Clone)]
pub struct UnitStanding {
    pub unit: unit::Model,
    pub verdict: Verdict,
    pub open_items: usize,
    pub by_colour: HashMap<Colour, usize>,
    pub closed: usize,
    pub closed_on_time: usize,
}

/// The units' standings, the colours of the open items behind them, and those items.
pub type Standings = (
    Vec<UnitStanding>,
    HashMap<i64, ItemColours>,
    Vec<item::Model>,
);

/// What each unit's colour is judged from, gathered one assignment at a time.
#[derive(Default)]
pub struct UnitTally {
    /// Each unit's open items: (id, serial, colour). Counts are derived from it, and a
    /// reason lists the items in the order they were registered, whatever order rows came in.
    open: HashMap<i64, Vec<(i64, String, Colour)>>,
    /// Items the unit led that were closed in the window, and how many on time.
    closed: HashMap<i64, (usize, usize)>,
}

impl UnitTally {
    /// A live assignment of an open item, of the colour it has for its unit.
    pub fn open(&mut self, unit_id: i64, (item_id, serial): (i64, String), colour: Colour) {
        self.open
            .entry(unit_id)
            .or_default()
            .push((item_id, serial, colour));
    }

    /// An item the unit led that was closed in the on-time window.
    pub fn closed(&mut self, unit_id: i64, on_time: bool) {
        let entry = self.closed.entry(unit_id).or_default();
        entry.0 += 1;
        entry.1 += usize::from(on_time);
    }

    /// Every unit's standing; `previous` holds the colours of the last published period.
    pub fn standings(
        mut self,
        policy: &ColourPolicy,
        units: Vec<unit::Model>,
        previous: &HashMap<i64, Colour>,
    ) -> Vec<UnitStanding> {
        units
            .into_iter()
            .map(|u| {
                let mut open = self.open.remove(&u.id).unwrap_or_default();
                open.sort_by_key(|(id, _, _)| *id);
                let mut by_colour: HashMap<Colour, usize> = HashMap::new();
                for (_, _, colour) in &open {
                    *by_colour.entry(*colour).or_default() += 1;
                }
                let (closed, closed_on_time) = self.closed.remove(&u.id).unwrap_or_default();
                let facts = UnitFacts {
                    items: open.into_iter().map(|(_, serial, c)| (serial, c)).collect(),
                    closed,
                    closed_on_time,
                    previous_colour: previous.get(&u.id).copied(),
                };
                UnitStanding {
                    verdict: unit_colour(policy, &facts),
                    unit: u,
                    open_items: facts.items.len(),
                    by_colour,
                    closed,
                    closed_on_time,
                }
            })
            .collect()
    }
}

/// The period before the one `at` falls in: the last month, as its published report froze
/// it, for the "two periods running" rules.
pub fn previous_month(rules: &Rules<'_>, at: DateTime<Utc>) -> ducha_report::Month {
    ducha_report::Month::of(at.with_timezone(&rules.time_zone).date_naive()).previous()
}

/// Every unit's colour as of `at` (its open assignments' colours, and its on-time rate over
/// the policy's window), and the colours of the open items behind them.
#[tracing::instrument(skip_all)]
pub async fn unit_standings(
    db: &impl ConnectionTrait,
    rules: &Rules<'_>,
    at: DateTime<Utc>,
) -> AppResult<Standings> {
    let units = unit::Entity::find()
        .order_by_asc(unit::Column::Id)
        .all(db)
        .await?;
    // As they stood at `at`: a dashboard asked about the past counts what existed then.
    // Items closed by then are not read: closures come from the audit trail.
    let open_items: Vec<item::Model> = items_as_of(db, at, at)
        .await?
        .into_iter()
        .filter(|i| Stage::from(i.stage).is_open())
        .collect();
    // The assignments as they stood at `at`, read once for the colours and the tally.
    let facts = assignment_facts(db, &open_items, at).await?;
    let colours = colours_of(
        rules,
        open_items.iter(),
        facts.iter().map(|f| (&f.assignment, &f.facts)),
        at,
    );
    let serials: HashMap<i64, &item::Model> = open_items.iter().map(|i| (i.id, i)).collect();
    let mut tally = UnitTally::default();
    for a in facts.iter().map(|f| &f.assignment) {
        let Some(current) = serials.get(&a.item_id) else {
            continue;
        };
        let colour = colours
            .get(&a.item_id)
            .and_then(|c| c.by_assignment.get(&a.id))
            .map(|v| v.colour)
            .unwrap_or(Colour::None);
        tally.open(a.unit_id, (a.item_id, current.serial.clone()), colour);
    }
    let window_start = at - Duration::days(rules.policy.on_time_window_days);
    for closure in super::history::closures(db, window_start, at).await? {
        tally.closed(closure.unit_id, closure.on_time);
    }
    let previous = super::history::unit_colours(db, previous_month(rules, at), at).await?;
    let standings = tally.standings(rules.policy, units, &previous);
    Ok((standings, colours, open_items))
}
