//! The GraphQL API (README, Usage). Resolvers are thin: they parse input into domain types,
//! call the services, and map results into API types that are separate from the entities.

mod calendar;
mod colours;
mod guard;
mod items;
mod reports;
pub mod scalars;
mod subscription;
pub mod types;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::{Context, MergedObject, SDLExportOptions, Schema};
use ducha_calendar::Calendar;

use crate::auth::Actor;
use crate::error::AppError;
use crate::service::items::Deps;
use crate::startup::AppState;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    calendar::CalendarQuery,
    items::ItemQuery,
    colours::ColourQuery,
    colours::NoticeQuery,
    reports::ReportQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    items::ItemMutation,
    calendar::CalendarMutation,
    colours::ColourMutation,
    colours::NoticeMutation,
    reports::ReportMutation,
);

pub type AppSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Limits that keep one request from costing the server more than a dashboard page would.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;

/// Who is asking, as resolved from the `Authorization` header for this request.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub actor: Option<Actor>,
    /// Why a presented token was refused, if it was.
    pub refused: Option<String>,
    /// The hash of the token presented, so that a long-lived subscription can notice the
    /// token being replaced and end.
    pub token_hash: Option<String>,
}

impl Auth {
    /// Resolves an `Authorization` value (HTTP header or WebSocket `connection_init`). A
    /// refused token is kept as the reason and reported when a resolver needs the actor, so
    /// anonymous calendar queries still work.
    pub async fn resolve(db: &sea_orm::DatabaseConnection, header: Option<&str>) -> Auth {
        let token_hash = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(crate::auth::hash_token);
        match crate::auth::actor_for_header(db, header).await {
            Ok(actor) => Auth {
                actor,
                refused: None,
                token_hash,
            },
            Err(AppError::Internal(e)) => {
                tracing::error!(error.cause_chain = ?e, "authenticating a request");
                Auth {
                    actor: None,
                    refused: Some("内部错误，请稍后重试".into()),
                    token_hash: None,
                }
            }
            Err(refused) => Auth {
                actor: None,
                refused: Some(refused.to_string()),
                token_hash: None,
            },
        }
    }
}

/// The authenticated person, or UNAUTHENTICATED.
pub fn actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor, AppError> {
    let auth = ctx.data::<Auth>().ok();
    match auth {
        Some(Auth {
            actor: Some(actor), ..
        }) => Ok(actor),
        Some(Auth {
            refused: Some(why), ..
        }) => Err(AppError::Unauthenticated(why.clone())),
        _ => Err(AppError::Unauthenticated(
            "请先登录：在请求头中提供 Authorization: Bearer <令牌>".into(),
        )),
    }
}

/// Refuses instants no supervision record can have (and at which date arithmetic or the
/// database's timestamp type would overflow): before 2000 or from 2100 on.
pub fn sane_instant(
    at: chrono::DateTime<chrono::Utc>,
    field: &str,
) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    use chrono::Datelike;
    if (2000..2100).contains(&at.year()) {
        Ok(at)
    } else {
        Err(AppError::BadUserInput(format!(
            "{field}应在2000年至2099年之间"
        )))
    }
}

pub fn deps<'a>(state: &'a AppState, calendar: &'a Calendar) -> Deps<'a> {
    Deps {
        calendar,
        policy: &state.deadline_policy,
    }
}

pub fn build_schema(state: Option<AppState>) -> AppSchema {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .extension(guard::RejectNul);
    match state {
        Some(state) => builder.data(state).finish(),
        None => builder.finish(),
    }
}

/// DataLoaders cache for one request only: a page resolver primes them, and nothing stale
/// outlives the request.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// Per-request data: who is asking, and the request's DataLoaders.
pub fn prepare(
    request: async_graphql::Request,
    state: &AppState,
    auth: Auth,
) -> async_graphql::Request {
    let db = &state.db;
    request
        .data(auth)
        .data(DataLoader::with_cache(
            types::UnitLoader(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            types::PersonLoader(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            types::AssignmentsByItem(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            types::ReportsByItem(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            types::ExtensionsByItem(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            types::AuditByItem(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            types::ColourLoader(state.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            types::UnitColourLoader(state.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
}

/// The SDL checked in as `schema.graphql`; sorted and space-indented for stable diffs.
pub fn sdl() -> String {
    build_schema(None).sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items()
            .use_space_ident(),
    )
}
