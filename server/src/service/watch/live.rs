//! The live tail: every instance tails the shared audit trail (rows are append-only with
//! increasing ids, so "everything after the last id I saw" is exact) and recomputes the open
//! items' colours periodically, broadcasting the differences to its own subscribers through
//! the [`EventHub`]. A client connected to any instance therefore sees changes made through
//! every instance, on PostgreSQL and SQLite alike, without a message broker.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ducha_domain::colour::{Colour, Verdict, assignment_colour, verdict_holds_until};
use futures_util::TryStreamExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::calendar_store::CalendarStore;
use crate::changes::Change;
use crate::clock::Clock;
use crate::events::{EventHub, LiveEvent};
use crate::service::watch::board::{BoardCache, BoardSources};
use crate::service::watch::colours::RuleSet;

/// What the tail reads and where it broadcasts.
#[derive(Clone)]
pub struct LiveTail {
    pub db: DatabaseConnection,
    pub calendar: CalendarStore,
    pub time_zone: chrono_tz::Tz,
    pub clock: Clock,
    pub events: EventHub,
    /// The instance's board, computed ahead of its readers when something changes.
    pub board: BoardCache,
    pub colour_refresh: Duration,
    /// The colour policy this instance holds, which touched colours are computed by.
    pub policies: crate::service::watch::colours::PolicyCache,
    /// The items this instance keeps, which touched colours are computed from.
    pub item_cache: crate::service::store::item_cache::ItemCache,
    /// Where what the trail says changed is published, for every kept copy: on SQLite the
    /// only way to hear of another process's writes; on PostgreSQL the item notices come
    /// first, and people, units, the policy and the calendar are heard only here.
    pub changes: crate::changes::ChangeFeed,
}

impl LiveTail {
    fn board_sources(&self) -> BoardSources<'_> {
        BoardSources {
            db: &self.db,
            calendar: &self.calendar,
            time_zone: self.time_zone,
            clock: &self.clock,
            fresh_for: self.colour_refresh,
        }
    }
}

/// Boards unread for this long are not kept ahead (an office closed for the night).
const BOARD_READ_WITHIN: Duration = Duration::from_secs(15 * 60);

/// Keeps the board ahead of its readers while it is read: brought up to date when a change
/// is heard (`renew` false), so that the wall screens reloading after it find it ready, and
/// its whole pass renewed once a colour refresh (`renew` true), in the background.
fn keep_board_ahead(state: &LiveTail, renew: bool) {
    if !state.board.read_within(BOARD_READ_WITHIN) || (!renew && state.board.busy()) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let sources = state.board_sources();
        let kept = if renew {
            state.board.renew(&sources).await
        } else {
            state.board.now(&sources).await.map(drop)
        };
        if let Err(error) = kept {
            tracing::warn!(?error, "keeping the board ahead");
        }
    });
}

/// Items' colours as the tail last published them (the open items', and those a verb
/// touched since the last full refresh), each with the instant until which it holds
/// (`service::watch::colours::colours_until`: the next local midnight, a due instant, or when an
/// assignment dated later counts).
#[derive(Default)]
struct Known {
    colours: HashMap<i64, Colour>,
    /// The items to judge again, by when: few distinct instants (midnights, due instants),
    /// so an open district costs a few bytes an item. An item judged again before its end
    /// stays under the old instant too, and is judged once more then, which is harmless.
    ends: BTreeMap<DateTime<Utc>, Vec<i64>>,
}

impl Known {
    fn colour(&self, item_id: i64) -> Colour {
        self.colours.get(&item_id).copied().unwrap_or(Colour::None)
    }

    fn set(&mut self, item_id: i64, colour: Colour, until: DateTime<Utc>) {
        self.colours.insert(item_id, colour);
        self.ends.entry(until).or_default().push(item_id);
    }

    /// The items whose colours no longer hold at `now`, taken off the schedule.
    fn take_ended(&mut self, now: DateTime<Utc>) -> BTreeSet<i64> {
        let later = self
            .ends
            .split_off(&(now + chrono::TimeDelta::nanoseconds(1)));
        let ended = std::mem::replace(&mut self.ends, later);
        ended.into_values().flatten().collect()
    }

    /// How many items the schedule holds (an item judged again may count twice).
    fn scheduled(&self) -> usize {
        self.ends.values().map(Vec::len).sum()
    }
}

/// Every this many colour refreshes, the open items are all judged again from the database
/// rather than only those whose colours have ended: what catches a change no audit row told
/// of (a hand-made `UPDATE`). The other refreshes cost next to nothing, so a busy instance's
/// answers are no longer held up once a minute by a pass over every open assignment (issue
/// 14: the pass was what put one request in a hundred over a millisecond at one
/// connection).
const FULL_REFRESH_EVERY: u32 = 15;

/// Whether an audit row of no item may change the colours of items (a policy or calendar
/// change may; people, units, tokens and reports may not): such a row brings the next
/// colour refresh forward to a full one.
fn may_change_colours(action: &str) -> bool {
    !matches!(
        action,
        "ROTATE_TOKEN"
            | "SET_PASSWORD"
            | "CREATE_UNIT"
            | "CREATE_PERSON"
            | "PUBLISH_REPORT"
            | "REQUEUE_OUTBOX"
    )
}

/// Whether an audit row of no item may record a change of people, units or tokens: all but
/// those known to be about something else (an action added later counts, to be safe).
fn changes_directory(action: &str) -> bool {
    !matches!(
        action,
        "UPDATE_COLOUR_POLICY"
            | "SET_LOCAL_DAY"
            | "IMPORT_CALENDAR_YEAR"
            | "CALENDAR_UPGRADE"
            | "PUBLISH_REPORT"
            | "REQUEUE_OUTBOX"
    )
}

/// Whether an audit row of no item records a change of the calendar, which every instance
/// must then read again.
fn changes_calendar(action: &str) -> bool {
    matches!(action, "SET_LOCAL_DAY" | "IMPORT_CALENDAR_YEAR")
}

/// Tails the audit trail every `poll` and refreshes colours every `colour_every`, until the
/// task is dropped.
pub async fn run(state: LiveTail, poll: Duration, colour_every: Duration) {
    let mut last_id = latest_audit_id(&state).await;
    let mut colours: Option<Known> = None;
    let mut since_colours = colour_every;
    let mut refreshes: u32 = 0;
    // A change of policy or calendar heard, or a recomputation failed, since the last full
    // refresh: the next one is full.
    let mut full_refresh_due = false;
    let mut last_refresh_at = state.clock.now();
    loop {
        match new_events(&state, last_id).await {
            Ok(events) => {
                let heard = !events.is_empty();
                let mut touched = BTreeSet::new();
                let mut directory_changed = false;
                let mut policy_changed = false;
                let mut calendar_changed = false;
                for event in events {
                    if let LiveEvent::Lifecycle {
                        audit_id,
                        item_id,
                        action,
                        ..
                    } = &event
                    {
                        last_id = last_id.max(*audit_id);
                        touched.extend(*item_id);
                        // Rows of no item are the administration's: people, units, tokens,
                        // the colour policy, the calendar.
                        directory_changed |= item_id.is_none() && changes_directory(action);
                        policy_changed |= item_id.is_none() && action == "UPDATE_COLOUR_POLICY";
                        full_refresh_due |= item_id.is_none() && may_change_colours(action);
                        calendar_changed |= item_id.is_none() && changes_calendar(action);
                    }
                    state.events.publish(event);
                }
                if !touched.is_empty() {
                    state
                        .changes
                        .publish(Change::Items(touched.iter().copied().collect()));
                }
                if directory_changed {
                    state.changes.publish(Change::Directory);
                }
                if policy_changed {
                    state.changes.publish(Change::Policy);
                }
                if calendar_changed {
                    // Made through another instance (or this one, which already has it):
                    // deadlines and colours are computed on the calendar in the database.
                    match crate::calendar_store::CalendarStore::build_from(&state.db).await {
                        Ok(calendar) => {
                            if let Err(error) = state.calendar.replace(calendar) {
                                tracing::warn!(?error, "replacing the calendar");
                            }
                            state.changes.publish(Change::Calendar);
                        }
                        Err(error) => tracing::warn!(?error, "reading the changed calendar"),
                    }
                }
                if heard {
                    keep_board_ahead(&state, false);
                }
                // A verb that changes an item's colour (a rejection, a closing) is heard
                // with its lifecycle event, not at the next full refresh.
                if let (Some(known), false) = (colours.as_mut(), touched.is_empty()) {
                    match touched_changes(&state, known, &touched).await {
                        Ok(changes) => changes.into_iter().for_each(|c| state.events.publish(c)),
                        Err(error) => {
                            tracing::warn!(?error, "recomputing touched colours");
                            full_refresh_due = true;
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(?error, "tailing the audit trail"),
        }
        if since_colours >= colour_every {
            since_colours = Duration::ZERO;
            keep_board_ahead(&state, true);
            let now = state.clock.now();
            // A clock set back (tests do) makes every end held meaningless.
            full_refresh_due |= now < last_refresh_at;
            last_refresh_at = now;
            let ended = colours.as_mut().map(|known| known.take_ended(now));
            match (colours.as_mut(), ended) {
                // After midnight nearly every item has ended: one streamed pass reads them
                // faster than fetching them by id, and keeps the item cache for the pages.
                (Some(known), Some(ended))
                    if !full_refresh_due
                        && !refreshes.is_multiple_of(FULL_REFRESH_EVERY)
                        && ended.len() <= known.scheduled() =>
                {
                    if !ended.is_empty()
                        && let Err(error) =
                            touched_changes(&state, known, &ended).await.map(|changes| {
                                changes.into_iter().for_each(|c| state.events.publish(c))
                            })
                    {
                        tracing::warn!(?error, "recomputing ended colours");
                        full_refresh_due = true;
                    }
                    refreshes = refreshes.wrapping_add(1);
                }
                _ => match colour_changes(&state, colours.as_ref()).await {
                    Ok((now_colours, changes)) => {
                        for change in changes {
                            state.events.publish(change);
                        }
                        colours = Some(now_colours);
                        full_refresh_due = false;
                        refreshes = 1;
                    }
                    Err(error) => tracing::warn!(?error, "recomputing colours"),
                },
            }
        }
        tokio::time::sleep(poll).await;
        since_colours += poll;
    }
}

async fn latest_audit_id(state: &LiveTail) -> i64 {
    entity::audit_event::Entity::find()
        .order_by_desc(entity::audit_event::Column::Id)
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .map(|e| e.id)
        .unwrap_or(0)
}

async fn new_events(state: &LiveTail, after: i64) -> crate::error::AppResult<Vec<LiveEvent>> {
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

/// The colours of the items a batch of lifecycle events touched (or whose colours ended),
/// recomputed now against `known` (which is updated): the changes to publish.
async fn touched_changes(
    state: &LiveTail,
    known: &mut Known,
    touched: &BTreeSet<i64>,
) -> crate::error::AppResult<Vec<LiveEvent>> {
    let now = state.clock.now();
    let ids: Vec<i64> = touched.iter().copied().collect();
    // From the rows, as a page computes them: the items and their assignments carry the
    // facts, and the policy is the one this instance holds.
    let rows = crate::service::store::read::kept_items(&state.db, &state.item_cache, &ids).await?;
    let rule_set = state
        .policies
        .rule_set(&state.db, &state.calendar, state.time_zone)
        .await?;
    let mut changes = Vec::new();
    for rows in &rows {
        let item = &rows.item;
        let (colours, until) = crate::service::watch::colours::colours_until(&rule_set, rows, now);
        let verdict = &colours.item;
        let previous = known.colour(item.id);
        if previous != verdict.colour {
            changes.push(LiveEvent::Colour {
                item_id: item.id,
                serial: item.serial.clone(),
                from: previous,
                to: verdict.colour,
                reason: verdict.reason.clone(),
                at: now,
            });
        }
        known.set(item.id, verdict.colour, until);
    }
    // Gone (deleted by hand): no colour any more (its end, if any, finds no rows).
    for item_id in touched {
        if !rows.iter().any(|rows| rows.item.id == *item_id)
            && let Some(colour) = known.colours.remove(item_id)
            && colour != Colour::None
        {
            changes.push(LiveEvent::Colour {
                item_id: *item_id,
                serial: String::new(),
                from: colour,
                to: Colour::None,
                reason: "事项已不在办理中".into(),
                at: now,
            });
        }
    }
    Ok(changes)
}

async fn serials_of(
    state: &LiveTail,
    ids: &[i64],
) -> crate::error::AppResult<HashMap<i64, String>> {
    let rows = crate::service::store::sql::in_chunks(ids, |chunk| {
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
    state: &LiveTail,
    before: Option<&Known>,
) -> crate::error::AppResult<(Known, Vec<LiveEvent>)> {
    let now = state.clock.now();
    let rule_set = RuleSet::load(&state.db, &state.calendar, state.time_zone).await?;
    // Tasks first: the stream below holds a pooled connection.
    let tasks = crate::service::watch::colours::tasks::TaskVerdicts::open_now(
        &state.db,
        &rule_set.rules(),
        None,
        now,
    )
    .await?;
    let tasks_until = tasks.holds_until.unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut rows = crate::service::watch::sweep::open_assignment_facts(&state.db, now).await?;
    // The worst assignment's verdict is the item's, as everywhere else (its tasks rolled
    // in); it holds until the first of its assignments' and tasks' verdicts ends.
    let mut worst: HashMap<i64, (Verdict, String, DateTime<Utc>)> = HashMap::new();
    let mut pacer = crate::service::store::sql::Pacer::default();
    while let Some(row) = rows.try_next().await? {
        pacer.row().await;
        let facts = row.facts();
        let verdict = tasks.roll(
            row.id,
            assignment_colour(
                &rule_set.calendar,
                rule_set.time_zone,
                &rule_set.policy,
                &facts,
                now,
            ),
        );
        let ends = verdict_holds_until(rule_set.time_zone, &facts, now).min(tasks_until);
        match worst.get_mut(&row.item_id) {
            Some((held, _, until)) => {
                *until = (*until).min(ends);
                if verdict.colour > held.colour {
                    *held = verdict;
                }
            }
            None => {
                worst.insert(row.item_id, (verdict, row.serial, ends));
            }
        }
    }
    // The stream holds a pooled connection until dropped; the reads below need their own.
    drop(rows);
    let mut current = Known::default();
    let mut changes = Vec::new();
    // Items that left the open set (closed, cancelled) lose their colour.
    if let Some(before) = before {
        let gone: Vec<i64> = before
            .colours
            .iter()
            .filter(|(id, colour)| **colour != Colour::None && !worst.contains_key(id))
            .map(|(id, _)| *id)
            .collect();
        let serials = serials_of(state, &gone).await?;
        for item_id in gone {
            changes.push(LiveEvent::Colour {
                item_id,
                serial: serials.get(&item_id).cloned().unwrap_or_default(),
                from: before.colour(item_id),
                to: Colour::None,
                reason: "事项已不在办理中".into(),
                at: now,
            });
        }
    }
    for (item_id, (verdict, serial, ends)) in worst {
        current.set(item_id, verdict.colour, ends);
        if let Some(before) = before {
            let previous = before.colour(item_id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, hour, 0, 0)
            .single()
            .expect("an instant")
    }

    #[test]
    fn only_the_colours_that_have_ended_are_judged_again() {
        let mut known = Known::default();
        known.set(1, Colour::Blue, at(10));
        known.set(2, Colour::None, at(16));
        known.set(3, Colour::Red, at(12));
        assert!(known.take_ended(at(9)).is_empty());
        assert_eq!(known.take_ended(at(12)), BTreeSet::from([1, 3]));
        assert_eq!(known.take_ended(at(12)), BTreeSet::new(), "taken once");
        // Judged again: item 1 now holds until 16:00.
        known.set(1, Colour::Yellow, at(16));
        assert_eq!(known.take_ended(at(15)), BTreeSet::new());
        assert_eq!(known.take_ended(at(16)), BTreeSet::from([1, 2]));
        assert_eq!(known.colour(1), Colour::Yellow);
        assert_eq!(known.colour(4), Colour::None);
        assert_eq!(known.scheduled(), 0);
    }

    #[test]
    fn a_policy_or_calendar_change_brings_a_full_refresh_and_a_token_does_not() {
        assert!(may_change_colours("UPDATE_COLOUR_POLICY"));
        assert!(may_change_colours("IMPORT_CALENDAR_YEAR"));
        assert!(!may_change_colours("ROTATE_TOKEN"));
        assert!(!may_change_colours("CREATE_UNIT"));
    }
}
