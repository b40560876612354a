//! One check at the boundary for text no database should be asked to store: U+0000.
//! PostgreSQL refuses it in `text` columns (and would answer with an internal error deep in a
//! service), SQLite stores it silently, and no person types it. Every string that enters
//! through GraphQL — inline in the document or in the variables — is checked once, before
//! any resolver runs, so the answer is the same BAD_USER_INPUT on both databases.

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use std::sync::Arc;

use async_graphql::{ErrorExtensions, Positioned, ServerError, ServerResult, Value, Variables};

use crate::changes::Caches;

/// What [`admit`] knows of a request's text besides its parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// The text, with the request's operation name, has passed async-graphql's strict
    /// validation before (see [`remember_validated`]).
    pub validated_before: bool,
}

/// Parses the request's document ahead of execution (which then reuses it) and refuses,
/// before any resolver runs, text too deeply nested to parse and U+0000 inline in the
/// document or in the variables. Every entry point calls it: HTTP, the WebSocket and the
/// pages.
///
/// This was a schema extension once. Any extension at all sends every field of every
/// query through async-graphql's slow path (a registry lookup, a boxed hook and a
/// `ResolveInfo` per field), which cost a page of 50 items about a fifth of its time.
///
/// With `caches = off` no parsed document is kept (and so nothing runs on fast validation).
pub fn admit(request: &mut async_graphql::Request, caches: Caches) -> ServerResult<Admitted> {
    let nul_in_variables = request.variables.values().any(const_has_nul);
    // A text admitted before parses to the same document, with no U+0000 in it.
    if let Some((document, validated_before)) = caches
        .on()
        .then(|| documents().known(&request.query, request.operation_name.as_deref()))
        .flatten()
    {
        if nul_in_variables {
            return Err(refusal());
        }
        request.set_parsed_query(document);
        return Ok(Admitted { validated_before });
    }
    check_nesting(&request.query)?;
    let document = match request.parsed_query() {
        Ok(document) => document,
        Err(mut error) => {
            error.message = format!("查询语法错误：{}", error.message);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "GRAPHQL_PARSE_FAILED");
            return Err(error);
        }
    };
    if document_has_nul(document) {
        return Err(refusal());
    }
    if caches.on() {
        let document = document.clone();
        documents().remember(&request.query, document);
    }
    if nul_in_variables {
        return Err(refusal());
    }
    Ok(Admitted {
        validated_before: false,
    })
}

/// Notes that `text`, run as `operation_name`, passed async-graphql's strict validation:
/// the caller saw it executed, with variables [`variables_certainly_valid`] accepted. Every
/// strict rule but one is a function of the schema, the document and the operation alone,
/// so they hold for the text from now on. The one that reads the variables
/// (`ArgumentsOfCorrectType`) checks each argument with its variables put in, and skips an
/// argument whole when one of them is missing, literal parts included: so a text is
/// remembered only from a sending that gave every variable a value, and later sendings
/// pass that rule exactly when their variables do, which the predicate stands in for.
pub fn remember_validated(text: &str, operation_name: Option<&str>) {
    documents().remember_validated(text, operation_name);
}

/// True when the document has one operation, the request gives every variable it
/// declares a value and no other variable, and each value is one that strict validation
/// accepts wherever the document may use it: a value of the built-in scalar the variable
/// is declared as, not null. (Strict validation checks a variable's value against each
/// argument it is passed to; a document that passed it puts a variable only where its
/// declared named type is expected, and a non-null value of that type is valid there.)
/// The values accepted are a subset of what async-graphql's own scalars accept, so `true`
/// is never wrong. Anything else — a list, an input object, an enum, one of our scalars, a
/// null, a missing or undeclared variable, several operations (fragments are checked with
/// every variable the request sends, whichever operation declares it) — answers false, and
/// the request is validated strictly again: its errors are then the same as on its first
/// sending.
pub fn variables_certainly_valid(document: &ExecutableDocument, variables: &Variables) -> bool {
    let DocumentOperations::Single(operation) = &document.operations else {
        return false;
    };
    let declared = &operation.node.variable_definitions;
    if variables.len() != declared.len() {
        return false;
    }
    declared.iter().all(|definition| {
        let definition = &definition.node;
        let BaseType::Named(type_name) = &definition.var_type.node.base else {
            return false;
        };
        let Some(value) = variables.get(&definition.name.node) else {
            return false;
        };
        match (type_name.as_str(), value) {
            ("ID" | "String", Value::String(_)) | ("Boolean", Value::Boolean(_)) => true,
            ("ID", Value::Number(number)) => number.is_i64(),
            ("Int", Value::Number(number)) => number
                .as_i64()
                .is_some_and(|number| i32::try_from(number).is_ok()),
            ("Float", Value::Number(_)) => true,
            _ => false,
        }
    })
}

/// Documents parsed from query texts, by text, for the whole process. A dashboard sends the
/// same few texts again and again, and parsing one with async-graphql's parser cost about a
/// tenth of an `item(id)` request's CPU; copying the parsed document costs a fraction of
/// that. Parsing is a function of the text alone, so the memo cannot change an answer.
struct Documents {
    by_text: std::sync::Mutex<std::collections::HashMap<String, KnownText>>,
}

struct KnownText {
    document: Arc<ExecutableDocument>,
    /// The operation names (`None`: the request named none) the text passed strict
    /// validation with.
    validated: Vec<Option<String>>,
}

/// Operation names remembered per text at most (a text holds a few operations).
const MAX_VALIDATED_OPERATIONS: usize = 8;

/// Texts kept at most, and the longest text kept: bounded memory whatever clients send
/// (a client making up a new text per request only ever empties the memo).
const MAX_DOCUMENTS: usize = 128;
const MAX_DOCUMENT_TEXT: usize = 8 * 1024;

fn documents() -> &'static Documents {
    static DOCUMENTS: std::sync::OnceLock<Documents> = std::sync::OnceLock::new();
    DOCUMENTS.get_or_init(|| Documents {
        by_text: Default::default(),
    })
}

impl Documents {
    /// The text's document, and whether it passed strict validation as `operation_name`.
    fn known(
        &self,
        text: &str,
        operation_name: Option<&str>,
    ) -> Option<(ExecutableDocument, bool)> {
        let (document, validated) = {
            let by_text = self.by_text.lock().unwrap_or_else(|e| e.into_inner());
            let known = by_text.get(text)?;
            let validated = known
                .validated
                .iter()
                .any(|name| name.as_deref() == operation_name);
            (Arc::clone(&known.document), validated)
        };
        Some((ExecutableDocument::clone(&document), validated))
    }

    fn remember_validated(&self, text: &str, operation_name: Option<&str>) {
        let mut by_text = self.by_text.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = by_text.get_mut(text)
            && known.validated.len() < MAX_VALIDATED_OPERATIONS
            && !known
                .validated
                .iter()
                .any(|name| name.as_deref() == operation_name)
        {
            known.validated.push(operation_name.map(str::to_owned));
        }
    }

    fn remember(&self, text: &str, document: ExecutableDocument) {
        if text.len() > MAX_DOCUMENT_TEXT {
            return;
        }
        let mut by_text = self.by_text.lock().unwrap_or_else(|e| e.into_inner());
        if by_text.len() >= MAX_DOCUMENTS {
            by_text.clear();
        }
        by_text.insert(
            text.to_owned(),
            KnownText {
                document: Arc::new(document),
                validated: Vec::new(),
            },
        );
    }
}

/// Refuses text nested deeper than [`MAX_NESTING`]. The parser descends once per bracket:
/// a few thousand nested brackets overflow the worker's stack and abort the process, so
/// they are counted before it runs — here, and by anyone who parses a query ahead of
/// execution (`http::graphql`, `http::ws`).
pub fn check_nesting(query: &str) -> ServerResult<()> {
    if nesting(query) > MAX_NESTING {
        let error = async_graphql::Error::new(format!("查询嵌套过深（不超过{MAX_NESTING}层）"))
            .extend_with(|_, ext| ext.set("code", "GRAPHQL_PARSE_FAILED"));
        let mut error = error.into_server_error(async_graphql::Pos::default());
        error.locations.clear();
        return Err(error);
    }
    Ok(())
}

/// Deeper than any real query or input (the depth limit of selections is 12).
const MAX_NESTING: usize = 64;

/// The deepest nesting of `{`, `[` and `(` outside strings and comments.
fn nesting(query: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '[' | '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                }
            }
            '"' => {
                // A string (block strings close on their own quotes); escapes skip a char.
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    deepest
}

fn refusal() -> ServerError {
    let error = async_graphql::Error::new("输入的文字含有不允许的控制字符（U+0000），请删除后重试")
        .extend_with(|_, ext| ext.set("code", "BAD_USER_INPUT"));
    error.into_server_error(async_graphql::Pos::default())
}

fn const_has_nul(value: &Value) -> bool {
    use async_graphql::Value as ConstValue;
    match value {
        ConstValue::String(s) => s.contains('\0'),
        ConstValue::Enum(name) => name.contains('\0'),
        ConstValue::List(items) => items.iter().any(const_has_nul),
        ConstValue::Object(fields) => fields
            .iter()
            .any(|(name, v)| name.contains('\0') || const_has_nul(v)),
        _ => false,
    }
}

fn document_has_nul(document: &ExecutableDocument) -> bool {
    let operations = document.operations.iter().any(|(_, op)| {
        op.node.variable_definitions.iter().any(|v| {
            v.node
                .default_value
                .as_ref()
                .is_some_and(|d| const_has_nul(&d.node))
        }) || selection_has_nul(&op.node.selection_set.node)
    });
    operations
        || document
            .fragments
            .values()
            .any(|f| selection_has_nul(&f.node.selection_set.node))
}

fn selection_has_nul(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            argument_has_nul(field) || selection_has_nul(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => selection_has_nul(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

/// A literal argument, with its variables read as null (they are checked as variables).
fn argument_has_nul(value: &Positioned<async_graphql::parser::types::Field>) -> bool {
    value.node.arguments.iter().any(|(_, v)| {
        v.node
            .clone()
            .into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null))
            .is_ok_and(|c| const_has_nul(&c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `variables_certainly_valid` and `remember_validated` rest on async-graphql 7.2.1's
    /// strict rules: only `ArgumentsOfCorrectType` reads the variables, and it skips an
    /// argument whole when one of its variables is missing. Another version may differ:
    /// read its `validation/rules` again (and `tests/api/boundary.rs`'s two tests), then
    /// move this pin and the workspace's `=7.2.1` together.
    #[test]
    fn the_fast_path_rests_on_the_async_graphql_it_was_verified_against() {
        let lock = include_str!("../../../Cargo.lock");
        assert!(
            lock.contains("name = \"async-graphql\"\nversion = \"7.2.1\"\n"),
            "async-graphql is no longer 7.2.1: verify the strict rules the fast validation \
             relies on (graphql::guard) before moving this pin"
        );
    }

    fn operation(text: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(text).expect("parses")
    }

    fn variables(json: serde_json::Value) -> Variables {
        Variables::from_json(json)
    }

    #[test]
    fn only_values_of_built_in_scalars_are_certainly_valid() {
        let scalars = operation(
            "query($id: ID!, $n: Int, $t: String, $f: Float, $b: Boolean) { __typename }",
        );
        let good =
            serde_json::json!({ "id": "SXRlbTox", "n": 5, "t": "文字", "f": 1.5, "b": true });
        assert!(variables_certainly_valid(
            &scalars,
            &variables(good.clone())
        ));
        let numeric_id = serde_json::json!({ "id": 7, "n": -5, "t": "", "f": 2, "b": false });
        assert!(variables_certainly_valid(&scalars, &variables(numeric_id)));
        for (name, bad) in [
            ("id", serde_json::json!(true)),
            ("id", serde_json::json!(1.5)),
            ("id", serde_json::json!(null)),
            ("n", serde_json::json!("5")),
            ("n", serde_json::json!(1.5)),
            ("n", serde_json::json!(i64::from(i32::MAX) + 1)),
            ("t", serde_json::json!(5)),
            ("t", serde_json::json!(["a"])),
            ("f", serde_json::json!("1.5")),
            ("b", serde_json::json!(1)),
        ] {
            let mut values = good.clone();
            values[name] = bad.clone();
            assert!(
                !variables_certainly_valid(&scalars, &variables(values)),
                "{name} = {bad}"
            );
        }
        let mut missing = good.clone();
        missing.as_object_mut().expect("an object").remove("n");
        assert!(!variables_certainly_valid(&scalars, &variables(missing)));
        // Lists, input objects, enums and our own scalars are left to strict validation.
        for (text, values) in [
            (
                "query($ids: [ID!]!) { __typename }",
                serde_json::json!({ "ids": ["a"] }),
            ),
            (
                "query($filter: ItemFilter) { __typename }",
                serde_json::json!({ "filter": {} }),
            ),
            (
                "query($stage: Stage) { __typename }",
                serde_json::json!({ "stage": "ASSIGNED" }),
            ),
            (
                "query($at: DateTime) { __typename }",
                serde_json::json!({ "at": "2026-11-25T00:00:00Z" }),
            ),
            // A variable the operation does not declare (a fragment may use it).
            (
                "query($id: ID!) { __typename }",
                serde_json::json!({ "id": "a", "x": true }),
            ),
            // Several operations: fragments see every variable sent.
            (
                "query A($id: ID!) { __typename } query B { __typename }",
                serde_json::json!({ "id": "a" }),
            ),
        ] {
            assert!(
                !variables_certainly_valid(&operation(text), &variables(values)),
                "{text}"
            );
        }
        assert!(variables_certainly_valid(
            &operation("{ __typename }"),
            &variables(serde_json::json!({}))
        ));
    }
}
