//! The request's DataLoaders: rows of many items or units in one query each, cached for one
//! request only, and the page priming that fills them before the fields are resolved.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::DatabaseConnection;

use super::context::app_state;
use crate::error::{AppError, AppResult};
use crate::service::store::rows::ItemRows;
use crate::service::store::{read, scope};
use crate::service::watch::colours;
use crate::state::AppState;
use entity::{assignment, attachment, audit_event, extension_request, person, report};

/// A unit's row as the instance shares it between the fields that name it.
pub type UnitRow = Arc<entity::unit::Model>;

/// Colours of items, computed for a whole batch at once at the request's instant from the
/// items and their assignments (as the instance keeps them, else one statement; a page
/// primes it with none of its own). Shared, not copied, by the many fields that read one
/// item's colours.
pub struct ColourLoader(pub AppState);

impl Loader<i64> for ColourLoader {
    type Value = Arc<colours::ItemColours>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let run = async {
            let state = &self.0;
            let now = state.clock.now();
            let rows = read::kept_items(&state.db, &state.item_cache, keys).await?;
            let rule_set = state.colour_rules().await?;
            Ok(colours::colours_from_rows(&rule_set, &rows, now))
        };
        run.await.map_err(Arc::new)
    }
}

/// Unit colours: every unit's standing is computed once per request.
pub struct UnitColourLoader(pub AppState);

impl Loader<i64> for UnitColourLoader {
    type Value = (ducha_domain::colour::Verdict, f64);
    type Error = Arc<AppError>;

    async fn load(&self, _keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let run = async {
            let state = &self.0;
            let board = state.board.now(&state.board_sources()).await?;
            Ok::<_, AppError>(
                board
                    .units
                    .iter()
                    .map(|s| {
                        let rate = if s.closed > 0 {
                            s.closed_on_time as f64 * 100.0 / s.closed as f64
                        } else {
                            100.0
                        };
                        (s.unit.id, (s.verdict.clone(), rate))
                    })
                    .collect(),
            )
        };
        run.await.map_err(Arc::new)
    }
}

pub async fn item_colours(ctx: &Context<'_>, item_id: i64) -> AppResult<Arc<colours::ItemColours>> {
    let loader = ctx
        .data::<Cached<ColourLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no colour loader")))?;
    loader
        .load_one(item_id)
        .await
        .map_err(loader_error)?
        .ok_or_else(|| AppError::NotFound(format!("事项 {item_id} 不存在")))
}

/// A loader over one batched read of `service::store::read`: many keys, one query.
macro_rules! batch_loader {
    ($(#[$doc:meta])* $loader:ident => $value:ty, $read:path) => {
        $(#[$doc])*
        pub struct $loader(pub DatabaseConnection);

        impl Loader<i64> for $loader {
            type Value = $value;
            type Error = Arc<AppError>;

            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, $value>, Self::Error> {
                $read(&self.0, keys).await.map_err(Arc::new)
            }
        }
    };
}

/// Units by id, from the instance's copy of them (`directory::Directory`): a page names
/// its units without a statement.
pub struct UnitLoader(pub AppState);

impl Loader<i64> for UnitLoader {
    type Value = UnitRow;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, UnitRow>, Self::Error> {
        let state = &self.0;
        state
            .directory
            .units(&state.db, keys)
            .await
            .map_err(Arc::new)
    }
}

batch_loader!(
    /// People by id.
    PersonLoader => person::Model, read::people
);
batch_loader!(
    /// Live (not withdrawn) and withdrawn assignments of many items at once.
    AssignmentsByItem => Vec<assignment::Model>, read::assignments_of_items
);
batch_loader!(
    /// Progress reports and feedback of many items.
    ReportsByItem => Vec<report::Model>, read::reports_of_items
);
batch_loader!(
    /// Extension requests of many items.
    ExtensionsByItem => Vec<extension_request::Model>, read::extensions_of_items
);
batch_loader!(
    /// Audit trails of many items.
    AuditByItem => Vec<audit_event::Model>, read::audit_of_items
);
batch_loader!(
    /// Attachments of many reports.
    AttachmentsByReport => Vec<attachment::Model>, read::attachments_of_reports
);

/// What a page (or one item) asks for beyond the items' own columns, so that priming
/// reads only that.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageWants {
    /// The assignments' units.
    pub units: bool,
    /// The responsible leaders, and the units' portfolio leaders.
    pub people: bool,
    pub reports: bool,
    pub extension_requests: bool,
    pub audit_trail: bool,
    /// The item's or its assignments' colour or reason.
    pub colours: bool,
}

impl PageWants {
    /// Reads the selection under `edges { node { … } }` of a connection field.
    pub fn of_connection(ctx: &Context<'_>) -> PageWants {
        PageWants::of_item(ctx.look_ahead().field("edges").field("node"))
    }

    /// Reads the selection of an item.
    pub fn of_item(node: async_graphql::Lookahead<'_>) -> PageWants {
        let assignments = node.field("assignments");
        let unit = assignments.field("unit");
        let reports = node.field("reports").exists();
        let extension_requests = node.field("extensionRequests").exists();
        let colours = node.field("colour").exists()
            || node.field("colourReason").exists()
            || assignments.field("colour").exists()
            || assignments.field("colourReason").exists();
        PageWants {
            units: unit.exists(),
            people: node.field("responsibleLeader").exists()
                || unit.field("portfolioLeader").exists(),
            reports,
            extension_requests,
            audit_trail: node.field("auditTrail").exists(),
            colours,
        }
    }
}

async fn prime_rows<L>(loader: Option<&Cached<L>>, item_ids: &[i64]) -> AppResult<()>
where
    L: Loader<i64, Error = Arc<AppError>>,
    L::Value: Clone,
{
    if let Some(loader) = loader {
        let rows = loader.loader().load(item_ids).await.map_err(loader_error)?;
        loader.feed_many(rows).await;
    }
    Ok(())
}

/// Primes the request's loaders with what the page asks for beyond its items' own columns,
/// in one query each (their units and people from the instance's directory, reports…): a
/// page costs the same number of queries whatever its size, with no timing window. The
/// assignments come with the items (`read::kept_items`), and colours are computed from them
/// (`colours::colours_from_rows`) with no query of their own. What is not asked for is not
/// read; a field that needs it anyway finds its loader, which reads it then.
///
/// Returns the items' colours when the page asks for them, for the items to carry
/// (`objects::Item::of_rows`).
pub async fn prime_page(
    ctx: &Context<'_>,
    rows: &[Arc<ItemRows>],
    wants: PageWants,
    units_read: Vec<entity::unit::Model>,
) -> AppResult<HashMap<i64, Arc<colours::ItemColours>>> {
    let (Ok(assignments), Ok(people), Ok(state)) = (
        ctx.data::<Cached<AssignmentsByItem>>(),
        ctx.data::<Cached<PersonLoader>>(),
        app_state(ctx),
    ) else {
        return Ok(HashMap::new());
    };
    let item_ids: Vec<i64> = rows.iter().map(|r| r.item.id).collect();
    let mut page_colours = HashMap::new();
    if wants.colours {
        let rule_set = state.colour_rules().await?;
        page_colours = colours::colours_from_rows(&rule_set, rows, state.clock.now());
    }
    // The items carry their assignments; reports and extension requests are shown by the
    // assignments one may see, which they find in the loader.
    if wants.reports || wants.extension_requests {
        assignments
            .feed_many(rows.iter().map(|r| (r.item.id, r.assignments.clone())))
            .await;
    }
    let mut person_ids: Vec<i64> = Vec::new();
    if wants.units && rows.iter().any(|r| !r.assignments.is_empty()) {
        let unit_ids: Vec<i64> = rows
            .iter()
            .flat_map(|r| r.assignments.iter().map(|a| a.unit_id))
            .collect();
        // Those read with the items (copies off), the rest from the directory, where the
        // units' fields look first; and all into the request's loader, where they look
        // next: with the copies off the directory keeps nothing, and the fields would read
        // the same units a second time (issue 32).
        let mut unit_rows: HashMap<i64, crate::directory::UnitRow> = units_read
            .into_iter()
            .map(|unit| (unit.id, Arc::new(unit)))
            .collect();
        let missing: Vec<i64> = unit_ids
            .iter()
            .filter(|id| !unit_rows.contains_key(id))
            .copied()
            .collect();
        if !missing.is_empty() {
            unit_rows.extend(state.directory.units(&state.db, &missing).await?);
        }
        person_ids.extend(unit_rows.values().filter_map(|u| u.portfolio_leader_id));
        if let Ok(units) = ctx.data::<Cached<UnitLoader>>() {
            units.feed_many(unit_rows).await;
        }
    }
    if wants.people {
        person_ids.extend(rows.iter().filter_map(|r| r.item.responsible_leader_id));
        if !person_ids.is_empty() {
            let person_rows = people
                .loader()
                .load(&person_ids)
                .await
                .map_err(loader_error)?;
            people.feed_many(person_rows).await;
        }
    }
    if wants.reports {
        prime_rows(ctx.data::<Cached<ReportsByItem>>().ok(), &item_ids).await?;
    }
    if wants.extension_requests {
        prime_rows(ctx.data::<Cached<ExtensionsByItem>>().ok(), &item_ids).await?;
    }
    if wants.audit_trail {
        prime_rows(ctx.data::<Cached<AuditByItem>>().ok(), &item_ids).await?;
    }
    Ok(page_colours)
}

pub fn loader_error(e: Arc<AppError>) -> AppError {
    AppError::Internal(anyhow::anyhow!("loading related rows: {e}"))
}

pub async fn load_unit(ctx: &Context<'_>, id: i64) -> AppResult<Option<UnitRow>> {
    if let Some(unit) = app_state(ctx)
        .ok()
        .and_then(|state| state.directory.known_unit(id))
    {
        return Ok(Some(unit));
    }
    let loader = ctx
        .data::<Cached<UnitLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no unit loader")))?;
    loader.load_one(id).await.map_err(loader_error)
}

pub async fn load_person(ctx: &Context<'_>, id: Option<i64>) -> AppResult<Option<person::Model>> {
    let Some(id) = id else { return Ok(None) };
    let loader = ctx
        .data::<Cached<PersonLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no person loader")))?;
    loader.load_one(id).await.map_err(loader_error)
}

pub async fn unit_verdict(
    ctx: &Context<'_>,
    unit_id: i64,
) -> AppResult<(ducha_domain::colour::Verdict, f64)> {
    let loader = ctx
        .data::<Cached<UnitColourLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no unit colour loader")))?;
    loader
        .load_one(unit_id)
        .await
        .map_err(loader_error)?
        .ok_or_else(|| AppError::NotFound(format!("单位 {unit_id} 不存在")))
}

/// The ids of an item's assignments that `actor` may see (all, or their unit's own).
/// The ids of the item's assignments the actor may see (scope rules as `scope::assignments_for`),
/// from the request's assignment loader.
pub async fn visible_assignment_ids(
    ctx: &Context<'_>,
    actor: &crate::auth::Actor,
    item_id: i64,
) -> AppResult<Vec<i64>> {
    let rows = rows_of::<AssignmentsByItem>(ctx, item_id).await?;
    Ok(rows
        .into_iter()
        .filter(|a| scope::sees_unit(actor, a.unit_id))
        .map(|a| a.id)
        .collect())
}

/// The rows a per-item (or per-report) loader holds for `key`; none if it has none.
pub async fn rows_of<L>(ctx: &Context<'_>, key: i64) -> AppResult<L::Value>
where
    L: Loader<i64, Error = Arc<AppError>>,
    L::Value: Default + Clone,
{
    Ok(cached::<L>(ctx)?
        .load_one(key)
        .await
        .map_err(loader_error)?
        .unwrap_or_default())
}

pub fn cached<'a, L: Loader<i64>>(ctx: &Context<'a>) -> AppResult<&'a Cached<L>> {
    ctx.data::<Cached<L>>().map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "request prepared without {}",
            std::any::type_name::<L>()
        ))
    })
}

/// DataLoaders cache for one request only: a page resolver primes them, and nothing stale
/// outlives the request.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// A request's loader. No batching delay: async-graphql waits 1 ms by default for more keys,
/// which cost each nesting level of a query a millisecond (an item with its assignments and
/// their units took 3.7 ms against 0.7 ms for its scalars). Sibling fields register their
/// keys in the same poll, before the spawned fetch runs, so they still share one query
/// (`tests/api/dataloader.rs` counts them).
fn loader<T: Loader<i64>>(loader: T) -> Cached<T> {
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
        .delay(std::time::Duration::ZERO)
}

/// Per-request data: who is asking, and the request's DataLoaders.
pub fn prepare(
    request: async_graphql::Request,
    state: &AppState,
    auth: super::context::Auth,
) -> async_graphql::Request {
    let db = &state.db;
    request
        .data(auth)
        .data(loader(UnitLoader(state.clone())))
        .data(loader(PersonLoader(db.clone())))
        .data(loader(AssignmentsByItem(db.clone())))
        .data(loader(ReportsByItem(db.clone())))
        .data(loader(ExtensionsByItem(db.clone())))
        .data(loader(AttachmentsByReport(db.clone())))
        .data(loader(AuditByItem(db.clone())))
        .data(loader(ColourLoader(state.clone())))
        .data(loader(UnitColourLoader(state.clone())))
}
