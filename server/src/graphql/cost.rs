//! What a request may cost, counted with the sizes its lists can reach, and refused before
//! it runs when it is too much.
//!
//! async-graphql's complexity limit counts each field once. One 44 KB query (95 aliases of
//! `items(first: 100)` with nested fields) stayed under it, ran 3–4 s and built a 24 MB
//! answer. Here a field costs 1, plus its selection multiplied by how many times that
//! selection can be answered: `first`/`last` where the field takes them (the page asked
//! for, 20 when not given), [`LIST_SIZE`] for any other list, 1 otherwise; nested lists
//! multiply through. The connection's own `edges`/`nodes` are not counted twice.

use std::cell::RefCell;
use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, OperationDefinition, Selection,
    SelectionSet,
};
use async_graphql::{ErrorExtensions, Name, ServerError, Value, Variables};

use super::nulls::FieldTypes;

/// Most a request may cost. A dashboard's page of 100 items with their assignments, reports
/// and units costs about 16,000; the pages' own largest (the ledger's export) less.
pub const MAX_COST: u64 = 50_000;

/// How many rows a list without `first`/`last` is counted as (an item's assignments or
/// reports, a unit's people: a handful each).
pub const LIST_SIZE: u64 = 10;

/// A page's size when `first`/`last` is not given (the API's default).
const DEFAULT_PAGE: u64 = 20;

/// The request's cost, or a refusal that says the cost and the limit (code QUERY_TOO_COSTLY).
pub fn check(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    types: &FieldTypes,
) -> Result<u64, ServerError> {
    let cost = cost(document, operation_name, variables, types);
    if cost <= MAX_COST {
        return Ok(cost);
    }
    let mut refused = async_graphql::Error::new(format!(
        "查询开销过大：按各列表可能返回的条数计为{cost}，上限为{MAX_COST}；请减少 first/last、别名或嵌套的列表字段，分次查询"
    ))
    .extend_with(|_, e| {
        e.set("code", "QUERY_TOO_COSTLY");
        e.set("cost", cost);
        e.set("limit", MAX_COST);
    })
    .into_server_error(async_graphql::Pos::default());
    refused.locations.clear();
    Err(refused)
}

/// The cost of the operation `operation_name` selects (every operation's, summed, when the
/// name picks none: the worst a sender could run).
pub fn cost(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    types: &FieldTypes,
) -> u64 {
    let count = |operation: &OperationDefinition| {
        let counter = Counter {
            document,
            variables,
            defaults: operation
                .variable_definitions
                .iter()
                .filter_map(|d| {
                    let d = &d.node;
                    Some((d.name.node.clone(), d.default_value.as_ref()?.node.clone()))
                })
                .collect(),
            types,
            fragments: RefCell::default(),
        };
        counter.selection(
            types.root_of(operation.ty),
            &operation.selection_set.node,
            false,
        )
    };
    match &document.operations {
        DocumentOperations::Single(operation) => count(&operation.node),
        DocumentOperations::Multiple(operations) => {
            match operation_name.and_then(|name| operations.get(name)) {
                Some(operation) => count(&operation.node),
                None => operations
                    .values()
                    .map(|o| count(&o.node))
                    .fold(0, u64::saturating_add),
            }
        }
    }
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// The operation's variables' defaults, for those the request does not give.
    defaults: HashMap<Name, Value>,
    types: &'a FieldTypes,
    /// Each fragment's cost, worked out once however often it is spread (a document that
    /// spreads two fragments in each of thirty would otherwise be walked 2³⁰ times), and
    /// `None` while it is being worked out: a fragment that spreads itself costs everything.
    fragments: RefCell<HashMap<(Name, bool), Option<u64>>>,
}

impl Counter<'_> {
    fn selection(&self, on: &str, set: &SelectionSet, paged: bool) -> u64 {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => self.field(on, &field.node, paged),
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map_or(on, |c| c.node.on.node.as_str());
                    self.selection(on, &fragment.selection_set.node, paged)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, paged)
                }
            })
            .fold(0, u64::saturating_add)
    }

    fn fragment(&self, name: &Name, paged: bool) -> u64 {
        let key = (name.clone(), paged);
        if let Some(known) = self.fragments.borrow().get(&key) {
            return known.unwrap_or(u64::MAX);
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return 0;
        };
        self.fragments.borrow_mut().insert(key.clone(), None);
        let cost = self.selection(
            fragment.node.type_condition.node.on.node.as_str(),
            &fragment.node.selection_set.node,
            paged,
        );
        self.fragments.borrow_mut().insert(key, Some(cost));
        cost
    }

    /// `paged`: the field is directly inside a connection whose page size was counted.
    fn field(&self, on: &str, field: &Field, paged: bool) -> u64 {
        let name = field.name.node.as_str();
        let ty = self.types.field_type(on, name);
        let is_list = ty.is_some_and(|ty| matches!(ty.base, BaseType::List(_)));
        let inner = ty.map_or("", named);
        // A connection without `first`/`last` answers the API's default page.
        let page = self
            .page_size(field)
            .or_else(|| inner.ends_with("Connection").then_some(DEFAULT_PAGE));
        let times = match (page, is_list) {
            (Some(size), _) => size,
            (None, true) if paged && (name == "edges" || name == "nodes") => 1,
            (None, true) => list_size(name),
            (None, false) => 1,
        };
        let below = if field.selection_set.node.items.is_empty() {
            0
        } else {
            self.selection(inner, &field.selection_set.node, page.is_some())
        };
        1u64.saturating_add(times.saturating_mul(below))
    }

    /// `first` or `last` (the larger), from the text, the request's variables or their
    /// defaults.
    fn page_size(&self, field: &Field) -> Option<u64> {
        field
            .arguments
            .iter()
            .filter(|(name, _)| matches!(name.node.as_str(), "first" | "last"))
            .map(|(_, value)| {
                let value = value.node.clone().into_const_with(|variable| {
                    Ok::<_, std::convert::Infallible>(
                        self.variables
                            .get(&variable)
                            .or_else(|| self.defaults.get(&variable))
                            .cloned()
                            .unwrap_or(Value::Null),
                    )
                });
                match value {
                    Ok(Value::Number(n)) => n.as_u64().unwrap_or(DEFAULT_PAGE),
                    _ => DEFAULT_PAGE,
                }
            })
            .max()
    }
}

/// How many rows a list without `first`/`last` is counted as: the whole-district lists at
/// what a district holds, everything else (an item's assignments, reports…) at [`LIST_SIZE`].
fn list_size(field: &str) -> u64 {
    match field {
        "units" => 200,
        "people" => 1_000,
        "todo" | "followedItems" => 200,
        "auditTrail" => 50,
        _ => LIST_SIZE,
    }
}

fn named(ty: &async_graphql::parser::types::Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(element) => named(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        type Query { items(first: Int, last: Int): ItemConnection! units: [Unit!]! me: Person! }
        type ItemConnection { edges: [ItemEdge!]! pageInfo: PageInfo! }
        type PageInfo { hasNextPage: Boolean! }
        type ItemEdge { node: Item! }
        type Item { title: String! assignments: [Assignment!]! }
        type Assignment { unit: Unit! }
        type Unit { name: String! }
        type Person { name: String! }
    "#;

    fn cost_of(query: &str, variables: serde_json::Value) -> u64 {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        cost(
            &document,
            None,
            &Variables::from_json(variables),
            &FieldTypes::from_sdl(SDL),
        )
    }

    #[test]
    fn lists_multiply_what_they_hold() {
        assert_eq!(cost_of("{ me { name } }", serde_json::json!({})), 2);
        // items(1) + 100 × edges(1 + node(1 + title 1))
        assert_eq!(
            cost_of(
                "{ items(first: 100) { edges { node { title } } } }",
                serde_json::json!({})
            ),
            301
        );
        // assignments are a list of LIST_SIZE: node = 1 + title 1 + (1 + 10 × unit (1 + 1))
        let nested = "query($n: Int) { items(first: $n) { edges { node { title assignments { unit { name } } } } } }";
        assert_eq!(
            cost_of(nested, serde_json::json!({ "n": 100 })),
            1 + 100 * (1 + 23)
        );
        assert_eq!(cost_of(nested, serde_json::json!({})), 1 + 20 * (1 + 23));
    }

    #[test]
    fn a_fragment_spread_twice_at_every_level_is_counted_once_per_fragment_and_a_cycle_is_refused()
    {
        // F0 spreads F1 twice, F1 spreads F2 twice… 2^40 visits if walked naively.
        let mut query = String::from("{ ...F0 }");
        for i in 0..40 {
            query.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        query.push_str(" fragment F40 on Query { items(first: 100) { edges { node { title } } } }");
        let cost = cost_of(&query, serde_json::json!({}));
        assert_eq!(cost, 301u64 << 40, "{cost}");
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(cost_of(cycle, serde_json::json!({})), u64::MAX);
    }

    #[test]
    fn defaults_and_unpaged_connections_count_what_they_answer() {
        let by_default = "query($n: Int = 100) { items(first: $n) { edges { node { title } } } }";
        assert_eq!(cost_of(by_default, serde_json::json!({})), 301);
        assert_eq!(
            cost_of(
                "{ items { edges { node { title } } } }",
                serde_json::json!({})
            ),
            61
        );
    }

    #[test]
    fn aliases_and_fragments_count_every_time_they_run() {
        let one = "a: items(first: 100) { edges { node { ...F } } }";
        let query = format!(
            "{{ {} }} fragment F on Item {{ title assignments {{ unit {{ name }} }} }}",
            (0..95)
                .map(|i| one.replace("a:", &format!("a{i}:")))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let document = async_graphql::parser::parse_query(&query).expect("parses");
        let types = FieldTypes::from_sdl(SDL);
        let refused = check(&document, None, &Variables::default(), &types).expect_err("refused");
        let extensions = refused.extensions.expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&Value::from("QUERY_TOO_COSTLY"))
        );
        assert_eq!(extensions.get("limit"), Some(&Value::from(MAX_COST)));
        assert!(refused.message.contains("上限"), "{}", refused.message);
    }
}
