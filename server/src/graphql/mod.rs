//! The GraphQL API (README, Usage). Resolvers are thin: they parse input into domain types,
//! call the services, and map results into API types that are separate from the entities.

mod calendar;
mod channels;
mod colours;
pub mod context;
pub mod cost;
pub mod enums;
pub mod guard;
pub mod ids;
mod instruction;
mod item_files;
mod items;
pub mod loaders;
pub mod nulls;
pub mod objects;
mod reports;
pub mod scalars;
mod subscription;
mod todo;

use async_graphql::{MergedObject, SDLExportOptions, Schema};

use crate::state::AppState;
pub use context::Auth;
pub use loaders::prepare;

/// 查询
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    calendar::CalendarQuery,
    items::query::ItemQuery,
    items::register::RegisterQuery,
    items::import::ImportQuery,
    items::meetings::MeetingQuery,
    items::instruct::InstructQuery,
    colours::ColourQuery,
    colours::NoticeQuery,
    channels::ChannelQuery,
    reports::ReportQuery,
    todo::TodoQuery,
    items::tasks::TaskQuery,
);

/// 办理操作与系统维护
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    items::register::RegisterMutation,
    items::import::ImportMutation,
    items::meetings::MeetingMutation,
    items::assign::AssignMutation,
    items::extension::ExtensionMutation,
    items::feedback::FeedbackMutation,
    items::pause::PauseMutation,
    items::instruct::InstructMutation,
    items::org::OrgMutation,
    items::tasks::TaskMutation,
    calendar::CalendarMutation,
    colours::ColourMutation,
    colours::NoticeMutation,
    channels::ChannelMutation,
    reports::ReportMutation,
);

pub type AppSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Limits that keep one request from costing the server more than a dashboard page would.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;

/// The standard introspection query of graphql-js (what GraphiQL, codegen and linters send)
/// nests `ofType` nine deep, past `MAX_DEPTH`; the introspection schema allows that much,
/// and answers nothing but introspection.
const INTROSPECTION_DEPTH: usize = 24;
const INTROSPECTION_COMPLEXITY: usize = 2_000;

/// The schema that serves requests, and the same schema for introspection only, which
/// `http::graphql` routes the queries to that ask nothing but `__schema`/`__type`.
#[derive(Clone)]
pub struct Schemas {
    pub main: AppSchema,
    /// The main schema under async-graphql's fast validation (depth, complexity, fragment
    /// cycles): for a text that has passed the strict rules with the same operation, and
    /// variables that certainly pass them too (`guard::variables_certainly_valid`). Strict
    /// validation walked the document with 22 rules on every request, a third of an
    /// `item(id)` request's instructions; its outcome for a text is known after the first.
    pub validated_before: AppSchema,
    pub introspection: AppSchema,
    /// Every field's type, read from the schema's SDL: where a failed field's `null` goes.
    pub field_types: std::sync::Arc<nulls::FieldTypes>,
}

impl Schemas {
    pub fn build(state: AppState) -> Schemas {
        let introspection = builder()
            .introspection_only()
            .limit_depth(INTROSPECTION_DEPTH)
            .limit_complexity(INTROSPECTION_COMPLEXITY)
            .data(state.clone())
            .finish();
        let main = build_schema(Some(state.clone()));
        Schemas {
            field_types: std::sync::Arc::new(nulls::FieldTypes::from_sdl(&main.sdl())),
            main,
            validated_before: main_builder()
                .validation_mode(async_graphql::ValidationMode::Fast)
                .data(state)
                .finish(),
            introspection,
        }
    }
}

/// The schema's types. Every typed id is called `ID` (see `ids`). No extension: see
/// `guard::admit`, which every entry point calls instead.
fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, subscription::Subscription> {
    Schema::build_with_ignore_name_conflicts(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
        ["ID"],
    )
}

/// The main schema's builder: its types and limits.
fn main_builder() -> async_graphql::SchemaBuilder<Query, Mutation, subscription::Subscription> {
    builder()
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

pub fn build_schema(state: Option<AppState>) -> AppSchema {
    let builder = main_builder();
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
