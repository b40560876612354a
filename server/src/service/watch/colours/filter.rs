//! Colour filters: the items of a colour, judged in batches until a page is full.

use chrono::{DateTime, Utc};
use ducha_domain::Stage;
use ducha_domain::colour::Colour;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::watch::colours::facts::colours_for_items;
use crate::service::watch::colours::policy::Rules;
use entity::ItemStage;
use entity::item;

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
