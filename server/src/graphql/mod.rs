//! The GraphQL API (README, Usage). Resolvers are thin: they parse input into domain types,
//! call the services, and map results into API types that are separate from the entities.

mod calendar;
mod colours;
pub mod context;
pub mod enums;
mod guard;
mod items;
pub mod loaders;
pub mod objects;
mod reports;
pub mod scalars;
mod subscription;

use async_graphql::{MergedObject, SDLExportOptions, Schema};

use crate::state::AppState;
pub use context::Auth;
pub use loaders::prepare;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    calendar::CalendarQuery,
    items::query::ItemQuery,
    colours::ColourQuery,
    colours::NoticeQuery,
    reports::ReportQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    items::register::RegisterMutation,
    items::assign::AssignMutation,
    items::extension::ExtensionMutation,
    items::feedback::FeedbackMutation,
    items::pause::PauseMutation,
    items::org::OrgMutation,
    calendar::CalendarMutation,
    colours::ColourMutation,
    colours::NoticeMutation,
    reports::ReportMutation,
);

pub type AppSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Limits that keep one request from costing the server more than a dashboard page would.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;

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

/// The SDL checked in as `schema.graphql`; sorted and space-indented for stable diffs.
pub fn sdl() -> String {
    build_schema(None).sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items()
            .use_space_ident(),
    )
}
