//! A field that fails answers `null`, as the GraphQL specification says ("Handling Field
//! Errors"): async-graphql leaves a failed field out of its object altogether, so a typed
//! client reads `undefined` where the schema promised a key.
//!
//! The `null` goes where the specification puts it: on the failed field when the schema
//! lets it be null, else on the nearest enclosing field or list element that may be null,
//! else on `data` itself. Which field a response key names (an alias, a field inside a
//! fragment) is read from the request's document; whether it may be null, from the schema.
//! Both are read only for responses that have field errors: answers without errors pay
//! nothing.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
    ServiceDocument, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, PathSegment, Value};

/// Every object and interface field's type, from the schema's SDL.
#[derive(Debug)]
pub struct FieldTypes {
    fields: HashMap<String, HashMap<String, Type>>,
    /// The query, mutation and subscription roots' names.
    roots: [String; 3],
}

fn root_index(kind: OperationType) -> usize {
    match kind {
        OperationType::Query => 0,
        OperationType::Mutation => 1,
        OperationType::Subscription => 2,
    }
}

impl FieldTypes {
    /// From the schema's SDL (what `schema.graphql` holds).
    pub fn from_sdl(sdl: &str) -> FieldTypes {
        let mut types = FieldTypes {
            fields: HashMap::new(),
            roots: ["Query".into(), "Mutation".into(), "Subscription".into()],
        };
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return types;
        };
        types.read(&document);
        types
    }

    fn read(&mut self, document: &ServiceDocument) {
        for definition in &document.definitions {
            match definition {
                TypeSystemDefinition::Type(ty) => {
                    let fields = match &ty.node.kind {
                        TypeKind::Object(object) => &object.fields,
                        TypeKind::Interface(interface) => &interface.fields,
                        _ => continue,
                    };
                    self.fields.insert(
                        ty.node.name.node.to_string(),
                        fields
                            .iter()
                            .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                            .collect(),
                    );
                }
                TypeSystemDefinition::Schema(schema) => {
                    let schema = &schema.node;
                    for (kind, name) in [
                        (OperationType::Query, &schema.query),
                        (OperationType::Mutation, &schema.mutation),
                        (OperationType::Subscription, &schema.subscription),
                    ] {
                        if let Some(name) = name {
                            self.roots[root_index(kind)] = name.node.to_string();
                        }
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
    }

    fn field(&self, on: &str, name: &str) -> Option<&Type> {
        self.fields.get(on)?.get(name)
    }

    /// The type of field `name` on the object or interface `on`.
    pub fn field_type(&self, on: &str, name: &str) -> Option<&Type> {
        self.field(on, name)
    }

    /// The name of the root type of an operation of this kind.
    pub fn root_of(&self, kind: OperationType) -> &str {
        &self.roots[root_index(kind)]
    }
}

/// Puts each failed field's `null` where the specification says (see the module's comment).
pub fn fill(
    response: &mut async_graphql::Response,
    types: &FieldTypes,
    query: &str,
    operation_name: Option<&str>,
) {
    let mut failed: Vec<Vec<PathSegment>> = response
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| e.path.clone())
        .collect();
    if failed.is_empty() {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let Some((kind, selection)) = operation(&document, operation_name) else {
        return;
    };
    let root = &types.roots[root_index(kind)];
    let walk = Walk {
        types,
        document: &document,
    };
    if response.data == Value::Null {
        response.data = Value::Object(Default::default());
    }
    // async-graphql answers an object all of whose selected fields failed as `null` itself:
    // each such object along an error's path is an object again, for its nulls to go in.
    for path in &failed {
        reopen(&mut response.data, path);
    }
    // Deepest first, so that a null placed higher (a failed field's nearest nullable
    // ancestor) is not filled in again by an error below it.
    failed.sort_by_key(|path| std::cmp::Reverse(path.len()));
    for path in failed {
        // Where the null goes: the deepest point of the path that may be null.
        let nullable = walk.nullable_points(root, selection, &path);
        let data = std::mem::take(&mut response.data);
        response.data = match nullable.iter().rposition(|n| *n) {
            Some(at) => set_null(data, &path[..=at]),
            None => Value::Null,
        };
        if response.data == Value::Null {
            break;
        }
    }
}

fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, &'a SelectionSet)> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        _ => return None,
    };
    Some((operation.node.ty, &operation.node.selection_set.node))
}

struct Walk<'a> {
    types: &'a FieldTypes,
    document: &'a ExecutableDocument,
}

impl Walk<'_> {
    /// For each segment of `path`, whether the value there may be null. Unknown parts (a
    /// path the document does not explain) count as not nullable, so the null goes higher:
    /// never where the schema forbids it.
    fn nullable_points(
        &self,
        root: &str,
        selection: &SelectionSet,
        path: &[PathSegment],
    ) -> Vec<bool> {
        let mut points = Vec::with_capacity(path.len());
        let mut on = root.to_string();
        let mut selections: Vec<&SelectionSet> = vec![selection];
        // The list types still to be entered by Index segments, outermost first.
        let mut pending: Option<Type> = None;
        for segment in path {
            match segment {
                PathSegment::Index(_) => {
                    let element = pending.as_ref().and_then(|ty| match &ty.base {
                        BaseType::List(element) => Some((**element).clone()),
                        BaseType::Named(_) => None,
                    });
                    points.push(element.as_ref().is_some_and(|e| e.nullable));
                    pending = element;
                }
                PathSegment::Field(key) => {
                    let found = self.find(&on, &selections, key);
                    let Some((field_type, inner)) = found else {
                        points.push(false);
                        pending = None;
                        selections.clear();
                        continue;
                    };
                    points.push(field_type.nullable);
                    on = named(&field_type).to_string();
                    selections = inner;
                    pending = Some(field_type);
                }
            }
        }
        points
    }

    /// The type of the field answered under `key` on `on`, and the selections below it (a
    /// key may be selected several times, in fragments too).
    fn find<'s>(
        &'s self,
        on: &str,
        selections: &[&'s SelectionSet],
        key: &str,
    ) -> Option<(Type, Vec<&'s SelectionSet>)> {
        let mut found: Option<Type> = None;
        let mut inner = Vec::new();
        let mut stack: Vec<(&SelectionSet, String)> =
            selections.iter().map(|s| (*s, on.to_string())).collect();
        while let Some((set, on)) = stack.pop() {
            for selection in &set.items {
                match &selection.node {
                    Selection::Field(field) => {
                        let field = &field.node;
                        if field.response_key().node.as_str() != key {
                            continue;
                        }
                        let name = field.name.node.as_str();
                        let ty = if name == "__typename" {
                            Type::new("String!")
                        } else {
                            self.types.field(&on, name).cloned()
                        };
                        if let Some(ty) = ty {
                            found.get_or_insert(ty);
                        }
                        inner.push(&field.selection_set.node);
                    }
                    Selection::InlineFragment(fragment) => {
                        let fragment = &fragment.node;
                        let on = fragment
                            .type_condition
                            .as_ref()
                            .map_or(on.clone(), |c| c.node.on.node.to_string());
                        stack.push((&fragment.selection_set.node, on));
                    }
                    Selection::FragmentSpread(spread) => {
                        if let Some(fragment) =
                            self.document.fragments.get(&spread.node.fragment_name.node)
                        {
                            let fragment = &fragment.node;
                            stack.push((
                                &fragment.selection_set.node,
                                fragment.type_condition.node.on.node.to_string(),
                            ));
                        }
                    }
                }
            }
        }
        found.map(|ty| (ty, inner))
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(element) => named(element),
    }
}

/// Turns each `null` met before the end of `path` into an empty object.
fn reopen(data: &mut Value, path: &[PathSegment]) {
    let mut at = data;
    for segment in &path[..path.len().saturating_sub(1)] {
        let next = match (segment, at) {
            (PathSegment::Field(name), Value::Object(map)) => map.get_mut(name.as_str()),
            (PathSegment::Index(index), Value::List(list)) => list.get_mut(*index),
            _ => return,
        };
        let Some(next) = next else { return };
        if *next == Value::Null {
            *next = Value::Object(Default::default());
        }
        at = next;
    }
}

/// `data` with `null` at `path` (its parents present; nothing changes if they are not).
fn set_null(mut data: Value, path: &[PathSegment]) -> Value {
    let Some((last, parents)) = path.split_last() else {
        return Value::Null;
    };
    let parent = parents
        .iter()
        .try_fold(&mut data, |at, segment| match (segment, at) {
            (PathSegment::Field(name), Value::Object(map)) => map.get_mut(name.as_str()),
            (PathSegment::Index(index), Value::List(list)) => list.get_mut(*index),
            _ => None,
        });
    match (last, parent) {
        (PathSegment::Field(name), Some(Value::Object(map))) => {
            map.insert(Name::new(name), Value::Null);
        }
        (PathSegment::Index(index), Some(Value::List(list))) => {
            if let Some(element) = list.get_mut(*index) {
                *element = Value::Null;
            }
        }
        _ => {}
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::ServerError;

    const SDL: &str = r#"
        type Query { me: Person! item(id: ID!): Item node(id: ID!): Node items: [Item!]! }
        interface Node { id: ID! }
        type Person { name: String! unit: Unit }
        type Unit { name: String! }
        type Item implements Node { id: ID! title: String! colour: String units: [Unit]! }
    "#;

    fn filled(query: &str, data: serde_json::Value, paths: &[&[PathSegment]]) -> serde_json::Value {
        let mut response = async_graphql::Response::new(Value::from_json(data).expect("value"));
        response.errors = paths
            .iter()
            .map(|path| {
                let mut error = ServerError::new("failed", None);
                error.path = path.to_vec();
                error
            })
            .collect();
        fill(&mut response, &FieldTypes::from_sdl(SDL), query, None);
        response.data.into_json().expect("json")
    }

    fn field(name: &str) -> PathSegment {
        PathSegment::Field(name.into())
    }

    #[test]
    fn a_nullable_field_that_fails_is_null_beside_its_siblings() {
        let data = filled(
            r#"{ me { name } it: item(id: "9") { id } }"#,
            serde_json::json!({ "me": { "name": "甲" } }),
            &[&[field("it")]],
        );
        assert_eq!(
            data,
            serde_json::json!({ "me": { "name": "甲" }, "it": null })
        );
    }

    #[test]
    fn a_non_null_field_makes_its_nearest_nullable_parent_null() {
        // title is String!, so the item (nullable) becomes null; colour is nullable itself.
        let data = filled(
            r#"{ item(id: "1") { ... on Item { title colour } } }"#,
            serde_json::json!({ "item": {} }),
            &[
                &[field("item"), field("title")],
                &[field("item"), field("colour")],
            ],
        );
        assert_eq!(data, serde_json::json!({ "item": null }));
        let data = filled(
            r#"query { node(id: "1") { ...F } } fragment F on Item { colour }"#,
            serde_json::json!({ "node": {} }),
            &[&[field("node"), field("colour")]],
        );
        assert_eq!(data, serde_json::json!({ "node": { "colour": null } }));
    }

    #[test]
    fn an_object_whose_every_field_failed_gets_its_nulls_inside() {
        // As async-graphql answers it: `me` (Person!) whose one selected field, `unit`
        // (nullable), failed comes back as `null` itself.
        let data = filled(
            "{ me { unit { name } } }",
            serde_json::json!({ "me": null }),
            &[&[field("me"), field("unit")]],
        );
        assert_eq!(data, serde_json::json!({ "me": { "unit": null } }));
    }

    #[test]
    fn list_elements_that_may_be_null_take_it_and_otherwise_it_climbs() {
        let data = filled(
            "{ items { units { name } } }",
            serde_json::json!({ "items": [{ "units": [{}, { "name": "乙" }] }] }),
            &[&[
                field("items"),
                PathSegment::Index(0),
                field("units"),
                PathSegment::Index(0),
                field("name"),
            ]],
        );
        assert_eq!(
            data,
            serde_json::json!({ "items": [{ "units": [null, { "name": "乙" }] }] })
        );
        // Nothing nullable up to the root: data itself is null.
        let data = filled(
            "{ me { name } }",
            serde_json::json!({ "me": {} }),
            &[&[field("me"), field("name")]],
        );
        assert_eq!(data, serde_json::Value::Null);
    }
}
