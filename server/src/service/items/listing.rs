//! Lists of items, people and units as their reader may see them: the filters of the item
//! list, stage counts, and the people directory, each within `scope`'s rules.

use chrono::{DateTime, Utc};
use ducha_domain::colour::Colour;
use ducha_domain::{SourceKind, Stage};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::store::input::sane_instant;
use crate::service::store::item_cache::ItemCache;
use crate::service::store::rows::ItemRows;
use crate::service::store::scope;
use crate::service::watch::board::Board;
use crate::service::watch::colours::RuleSet;
use entity::{AssignmentStatus, ItemStage};
use entity::{assignment, item, person, unit};
use std::sync::Arc;

/// What the item list is filtered by; every part optional, all given parts must hold.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub stages: Option<Vec<Stage>>,
    pub unit_id: Option<i64>,
    pub source_kinds: Option<Vec<SourceKind>>,
    pub overdue: Option<bool>,
    pub due_from: Option<DateTime<Utc>>,
    pub due_to: Option<DateTime<Utc>>,
    pub text: Option<String>,
    pub colours: Option<Vec<Colour>>,
    /// Only these items (a selection on the ledger: print, export).
    pub ids: Option<Vec<i64>>,
}

/// Where a page of the item list starts and which way it reads: the list is newest first,
/// and a page reads on from a cursor (`Older`, `first`/`after`) or back from one (`Newer`,
/// `last`/`before`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek {
    /// Items older (lower id) than the one given, or from the newest; newest first.
    Older(Option<i64>),
    /// Items newer (higher id) than the one given, or from the oldest; oldest first.
    Newer(Option<i64>),
}

/// One page of the item list, in the order its `Seek` reads: each item with all its
/// assignments.
pub struct ItemPage {
    pub rows: Vec<Arc<ItemRows>>,
    /// Whether more items lie beyond the page in the direction read.
    pub has_more: bool,
    /// The assignments' units, when asked for and read in the page's statement.
    pub units: Vec<unit::Model>,
}

/// Which page of the item list to read, and what with it.
#[derive(Debug, Clone, Copy)]
pub struct PageAsked {
    pub seek: Seek,
    pub limit: u64,
    /// The assignments' units too, in the page's own statement, when it reads the rows from
    /// the database (the copies off or not trusted now). Kept rows bring none.
    pub units: bool,
}

/// What a colour filter is judged with: the rules, and the instance's current board if it has
/// one, whose item colours narrow the candidates (a district with a few red items among
/// 100,000 must not judge all of them to find the few).
#[derive(Clone, Copy)]
pub struct ColourLookup<'a> {
    pub rule_set: &'a RuleSet,
    pub board: Option<&'a Board>,
}

/// The items `actor` may see that match `filter`, from `seek`, at most `limit`.
/// `colours` is needed only when the filter asks for colours, which are computed.
#[tracing::instrument(skip_all, fields(?seek, limit))]
pub async fn items_page(
    db: &impl ConnectionTrait,
    cache: &ItemCache,
    actor: &Actor,
    filter: &ItemFilter,
    PageAsked { seek, limit, units }: PageAsked,
    colours: Option<ColourLookup<'_>>,
    now: DateTime<Utc>,
) -> AppResult<ItemPage> {
    // People of a unit filter by what they see: their own assignment's due and colour,
    // never another unit's.
    let viewer_unit = actor.own_unit().filter(|_| !actor.role.sees_everything());
    let mut select =
        scope::visible_items(db, actor)
            .await?
            .filter(condition(filter, now, viewer_unit)?);
    let newest_first = matches!(seek, Seek::Older(_));
    match seek {
        Seek::Older(Some(id)) => select = select.filter(item::Column::Id.lt(id)),
        Seek::Newer(Some(id)) => select = select.filter(item::Column::Id.gt(id)),
        _ => {}
    }
    let ids: Vec<i64> = match (&filter.colours, colours) {
        (Some(wanted), Some(lookup)) => {
            // The board judged every open item moments ago; the candidates it names are
            // judged again now. Only the worst colour is known there, so not for people of
            // a unit (who see their own), nor for uncoloured items (most of them).
            let candidates = lookup
                .board
                .filter(|_| viewer_unit.is_none() && !wanted.contains(&Colour::None))
                .map(|board| {
                    board
                        .coloured_items
                        .iter()
                        .filter(|(id, colour)| {
                            wanted.contains(colour)
                                && match seek {
                                    Seek::Older(Some(before)) => *id < before,
                                    Seek::Newer(Some(after)) => *id > after,
                                    _ => true,
                                }
                        })
                        .map(|(id, _)| *id)
                        .collect::<Vec<i64>>()
                });
            crate::service::watch::colours::items_of_colours(
                db,
                &lookup.rule_set.rules(),
                crate::service::watch::colours::Candidates {
                    select,
                    known: candidates,
                },
                wanted,
                viewer_unit,
                now,
                (limit + 1, newest_first),
            )
            .await?
            .into_iter()
            .map(|item| item.id)
            .collect()
        }
        (Some(_), None) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "a colour filter needs the colour rules"
            )));
        }
        (None, _) => {
            let order = if newest_first {
                sea_orm::Order::Desc
            } else {
                sea_orm::Order::Asc
            };
            let ids = select
                .select_only()
                .column(item::Column::Id)
                .order_by(item::Column::Id, order)
                .limit(limit + 1);
            if !cache.is_trusted() {
                // Nothing kept may be served: the page's rows, with their assignments (and
                // units), in the same statement that finds them.
                return page_in_one_statement(db, ids, (limit, newest_first), units).await;
            }
            // Only the ids: the rows themselves are what the instance keeps, most of them.
            ids.into_tuple::<i64>().all(db).await?
        }
    };
    let has_more = ids.len() as u64 > limit;
    let page = &ids[..ids.len().min(limit as usize)];
    Ok(ItemPage {
        rows: crate::service::store::read::kept_items(db, cache, page).await?,
        has_more,
        units: Vec::new(),
    })
}

/// The items that `ids` selects (at most `limit` + 1 of them), each with its assignments and,
/// with `units`, their units: one statement, the selection a subquery of it.
async fn page_in_one_statement(
    db: &impl ConnectionTrait,
    ids: sea_orm::Select<item::Entity>,
    (limit, newest_first): (u64, bool),
    units: bool,
) -> AppResult<ItemPage> {
    use crate::service::store::rows::{items_with_units_read, items_with_units_statement};
    use sea_orm::QueryTrait;
    let statement = items_with_units_statement(
        item::Entity::find().filter(item::Column::Id.in_subquery(ids.into_query())),
        units,
        db.get_database_backend(),
    );
    let statement = crate::service::store::sql::literal_last_limit(statement, limit + 1);
    let mut found = items_with_units_read(db, statement, units).await?;
    // The statement gives them oldest first.
    if newest_first {
        found.reverse();
    }
    let has_more = found.len() as u64 > limit;
    found.truncate(limit as usize);
    let mut page = ItemPage {
        rows: Vec::with_capacity(found.len()),
        has_more,
        units: Vec::new(),
    };
    let mut rows = Vec::with_capacity(found.len());
    for (item, assignments, units) in found {
        rows.push(ItemRows::new(item, assignments));
        page.units.extend(units);
    }
    crate::service::store::read::attach_tasks(db, &mut rows).await?;
    page.rows = rows.into_iter().map(Arc::new).collect();
    Ok(page)
}

/// How many items `actor` may see in each stage.
#[tracing::instrument(skip_all)]
pub async fn stage_counts(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<Vec<(Stage, u64)>> {
    let mut counts = Vec::new();
    let tasked = scope::has_tasks(db, actor).await?;
    for stage in Stage::ALL {
        let count = scope::items_for(actor, tasked)
            .filter(item::Column::Stage.eq(ItemStage::from(stage)))
            .count(db)
            .await?;
        counts.push((stage, count));
    }
    Ok(counts)
}

/// The people `actor` may see: everyone for the office and leaders; a unit's own people and
/// the people of no unit (leaders, the office) for people of a unit.
#[tracing::instrument(skip_all)]
pub async fn people(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<Vec<person::Model>> {
    let mut select = person::Entity::find();
    if let Some(unit_id) = actor.own_unit() {
        select = select.filter(
            Condition::any()
                .add(person::Column::UnitId.eq(unit_id))
                .add(person::Column::UnitId.is_null()),
        );
    }
    Ok(select.order_by_asc(person::Column::Id).all(db).await?)
}

/// The person signed in.
pub async fn me(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<person::Model> {
    person::Entity::find_by_id(actor.person_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("用户不存在".into()))
}

/// Every unit, in id order (units are public within the district).
pub async fn units(db: &impl ConnectionTrait) -> AppResult<Vec<unit::Model>> {
    Ok(unit::Entity::find()
        .order_by_asc(unit::Column::Id)
        .all(db)
        .await?)
}

fn condition(
    filter: &ItemFilter,
    now: DateTime<Utc>,
    viewer_unit: Option<i64>,
) -> AppResult<Condition> {
    let mut condition = Condition::all();
    if let Some(stages) = &filter.stages {
        let stages = stages.iter().map(|s| ItemStage::from(*s));
        condition = condition.add(item::Column::Stage.is_in(stages));
    }
    if let Some(kinds) = &filter.source_kinds {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        condition = condition.add(item::Column::SourceKind.is_in(names));
    }
    if let Some(unit_id) = filter.unit_id {
        condition = condition.add(scope::assigned_to(unit_id));
    }
    if let Some(ids) = &filter.ids {
        condition = condition.add(item::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if text.chars().count() > 100 {
            return Err(AppError::BadUserInput("查找文字不能超过100个字".into()));
        }
        condition = condition.add(
            Condition::any()
                .add(item::Column::Title.contains(text))
                .add(item::Column::Requirements.contains(text))
                .add(item::Column::Serial.contains(text))
                .add(item::Column::SourceReference.contains(text)),
        );
    }
    // Due filters look at the live assignments' effective due (extended, else original).
    let due_subquery = |extra: Condition| {
        use sea_orm::sea_query::{Expr, ExprTrait, Query};
        let mut assignments = Query::select()
            .column(assignment::Column::ItemId)
            .from(assignment::Entity)
            .and_where(Expr::col(assignment::Column::Status).ne(AssignmentStatus::Withdrawn))
            .cond_where(extra)
            .to_owned();
        if let Some(unit) = viewer_unit {
            assignments.and_where(Expr::col(assignment::Column::UnitId).eq(unit));
        }
        item::Column::Id.in_subquery(assignments)
    };
    let effective_due = |op: fn(assignment::Column, DateTime<Utc>) -> Condition,
                         at: DateTime<Utc>| {
        Condition::any()
            .add(
                Condition::all()
                    .add(assignment::Column::ExtendedDueAt.is_not_null())
                    .add(op(assignment::Column::ExtendedDueAt, at)),
            )
            .add(
                Condition::all()
                    .add(assignment::Column::ExtendedDueAt.is_null())
                    .add(op(assignment::Column::DueAt, at)),
            )
    };
    let before = |c: assignment::Column, at| Condition::all().add(c.lt(at));
    let not_before = |c: assignment::Column, at| Condition::all().add(c.gte(at));
    let not_after = |c: assignment::Column, at| Condition::all().add(c.lte(at));
    if let Some(from) = filter.due_from {
        sane_instant(from, "dueFrom")?;
        condition = condition.add(due_subquery(effective_due(not_before, from)));
    }
    if let Some(to) = filter.due_to {
        sane_instant(to, "dueTo")?;
        condition = condition.add(due_subquery(effective_due(not_after, to)));
    }
    if let Some(overdue) = filter.overdue {
        let open = [ItemStage::Assigned, ItemStage::InProgress];
        // Overdue (docs/rules.md §3, `colour::is_overdue`): the clock runs (assigned, in
        // progress) and the effective due (the approved extension, else the due) has passed
        // — the lead's for whoever sees the whole item, a unit's own for its people; a
        // co-unit's clock has stopped once it reported its part or the lead first reported.
        let owes = match viewer_unit {
            None => Condition::all().add(assignment::Column::Lead.eq(true)),
            Some(_) => Condition::any().add(assignment::Column::Lead.eq(true)).add(
                Condition::all()
                    .add(assignment::Column::LastReportAt.is_null())
                    .add(item::Column::FirstFeedbackAt.is_null()),
            ),
        };
        let is_overdue = Condition::all()
            .add(item::Column::Stage.is_in(open))
            .add(due_subquery(
                Condition::all().add(effective_due(before, now)).add(owes),
            ));
        condition = condition.add(if overdue {
            is_overdue
        } else {
            is_overdue.not()
        });
    }
    Ok(condition)
}
