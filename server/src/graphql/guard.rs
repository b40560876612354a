//! One check at the boundary for text no database should be asked to store: U+0000.
//! PostgreSQL refuses it in `text` columns (and would answer with an internal error deep in a
//! service), SQLite stores it silently, and no person types it. Every string that enters
//! through GraphQL — inline in the document or in the variables — is checked once, before
//! any resolver runs, so the answer is the same BAD_USER_INPUT on both databases.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use std::sync::Arc;

use async_graphql::{ErrorExtensions, Positioned, ServerError, ServerResult, Value};

/// Parses the request's document ahead of execution (which then reuses it) and refuses,
/// before any resolver runs, text too deeply nested to parse and U+0000 inline in the
/// document or in the variables. Every entry point calls it: HTTP, the WebSocket and the
/// pages.
///
/// This was a schema extension once. Any extension at all sends every field of every
/// query through async-graphql's slow path (a registry lookup, a boxed hook and a
/// `ResolveInfo` per field), which cost a page of 50 items about a fifth of its time.
pub fn admit(request: &mut async_graphql::Request) -> ServerResult<()> {
    let nul_in_variables = request.variables.values().any(const_has_nul);
    // A text admitted before parses to the same document, with no U+0000 in it.
    if let Some(document) = documents().known(&request.query) {
        if nul_in_variables {
            return Err(refusal());
        }
        request.set_parsed_query(document);
        return Ok(());
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
    let document = document.clone();
    documents().remember(&request.query, document);
    if nul_in_variables {
        return Err(refusal());
    }
    Ok(())
}

/// Documents parsed from query texts, by text, for the whole process. A dashboard sends the
/// same few texts again and again, and parsing one with async-graphql's parser cost about a
/// tenth of an `item(id)` request's CPU; copying the parsed document costs a fraction of
/// that. Parsing is a function of the text alone, so the memo cannot change an answer.
struct Documents {
    by_text: std::sync::Mutex<std::collections::HashMap<String, Arc<ExecutableDocument>>>,
}

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
    fn known(&self, text: &str) -> Option<ExecutableDocument> {
        let found = self
            .by_text
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(text)
            .cloned()?;
        Some(ExecutableDocument::clone(&found))
    }

    fn remember(&self, text: &str, document: ExecutableDocument) {
        if text.len() > MAX_DOCUMENT_TEXT {
            return;
        }
        let mut by_text = self.by_text.lock().unwrap_or_else(|e| e.into_inner());
        if by_text.len() >= MAX_DOCUMENTS {
            by_text.clear();
        }
        by_text.insert(text.to_owned(), Arc::new(document));
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
