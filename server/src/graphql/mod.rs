//! The GraphQL API (design.md §7). Resolvers are thin: they parse input into domain types,
//! call the domain, and map results into API types that are separate from the entities.

mod calendar;
pub mod scalars;

use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, SDLExportOptions, Schema};

use crate::startup::AppState;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(calendar::CalendarQuery);

pub type AppSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Limits that keep one request from costing the server more than a dashboard page would.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 2_000;

pub fn build_schema(state: Option<AppState>) -> AppSchema {
    let builder = Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    match state {
        Some(state) => builder.data(state).finish(),
        None => builder.finish(),
    }
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
