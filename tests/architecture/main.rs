//! The server's modules depend on each other in one direction. This test reads the imports
//! of `server/src` as text (every `crate::…`, `super::…` and `self::…` path outside comments),
//! draws the graph between module files and fails on a cycle, or when anything but the
//! command line imports `startup` (only `main`, the CLI and the tests assemble the service).
//!
//! `cargo test -p ducha-tests --test architecture -- --nocapture` prints the module tree
//! with what each module uses, deepest layer first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`service::items`, `` for the crate root) → the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn server_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("server/src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `service/items/mod.rs` → `service::items`; `lib.rs` → ``.
fn module_of(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).expect("file under root");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The source without comments, so that prose and intra-doc links draw no arrows, and without
/// its unit tests (by convention last, after `#[cfg(test)]`), whose `super::` is the file's
/// own module.
fn without_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        if line.trim() == "#[cfg(test)]" {
            break;
        }
        let code = match line.find("//") {
            // `"http://…"` in a string literal is code, not a comment.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path written in a `use` tree or inline after `start`: `a::b::{c, d::e}` gives
/// `a::b::c` and `a::b::d::e`.
fn paths_in_tree(text: &str, prefix: &str, out: &mut Vec<String>) -> usize {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let mut path = prefix.to_string();
    loop {
        while i < chars.len() && chars[i].1.is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i].1 == '{' {
            i += 1;
            loop {
                let consumed = paths_in_tree(
                    &text[chars.get(i).map_or(text.len(), |c| c.0)..],
                    &path,
                    out,
                );
                let offset = chars.get(i).map_or(text.len(), |c| c.0) + consumed;
                i = chars
                    .iter()
                    .position(|c| c.0 >= offset)
                    .unwrap_or(chars.len());
                while i < chars.len() && chars[i].1.is_whitespace() {
                    i += 1;
                }
                match chars.get(i).map(|c| c.1) {
                    Some(',') => i += 1,
                    Some('}') => {
                        i += 1;
                        break;
                    }
                    _ => break,
                }
                while i < chars.len() && chars[i].1.is_whitespace() {
                    i += 1;
                }
                if chars.get(i).map(|c| c.1) == Some('}') {
                    i += 1;
                    break;
                }
            }
            return chars.get(i).map_or(text.len(), |c| c.0);
        }
        let start = i;
        while i < chars.len() && is_ident(chars[i].1) {
            i += 1;
        }
        if i == start {
            break;
        }
        let segment: String = chars[start..i].iter().map(|c| c.1).collect();
        if !path.is_empty() {
            path.push_str("::");
        }
        path.push_str(&segment);
        if text[chars.get(i).map_or(text.len(), |c| c.0)..].starts_with("::") {
            i += 2;
        } else {
            break;
        }
    }
    out.push(path);
    chars.get(i).map_or(text.len(), |c| c.0)
}

/// The module an absolute path lands in: its longest prefix that is a module.
fn owning_module(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|candidate| modules.contains(candidate))
}

fn graph() -> Graph {
    let root = server_src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&root, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let module = module_of(&root, file);
        let source = without_comments(&std::fs::read_to_string(file).expect("readable source"));
        let mut named = Vec::new();
        for (at, _) in source.match_indices("crate::") {
            if at > 0 && source[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                continue; // `$crate::` or `ducha_crate::`
            }
            paths_in_tree(&source[at + "crate::".len()..], "", &mut named);
        }
        for keyword in ["super::", "self::"] {
            for (at, _) in source.match_indices(keyword) {
                if at > 0 && source[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                    continue;
                }
                let mut base: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
                let mut rest = &source[at..];
                while let Some(after) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = after;
                }
                if let Some(after) = rest.strip_prefix("self::") {
                    rest = after;
                }
                paths_in_tree(rest, &base.join("::"), &mut named);
            }
        }
        // A parent names its own children without a prefix (`scope::visible_item`).
        let prefix = if module.is_empty() {
            String::new()
        } else {
            format!("{module}::")
        };
        for child in modules
            .iter()
            .filter_map(|m| m.strip_prefix(&prefix))
            .filter(|c| !c.is_empty() && !c.contains("::"))
        {
            let needle = format!("{child}::");
            for (at, _) in source.match_indices(&needle) {
                if at > 0 && source[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                    continue;
                }
                paths_in_tree(&source[at..], &module, &mut named);
            }
        }
        let targets = graph.entry(module.clone()).or_default();
        for path in named {
            if let Some(target) = owning_module(&path, &modules)
                && target != module
                && !target.is_empty()
            {
                targets.insert(target);
            }
        }
    }
    graph
}

/// One cycle, if the graph has any (depth-first search, grey/black marking).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(node, graph, &mut state, &mut stack) {
                return Some(cycle);
            }
        }
    }
    None
}

/// Layer 0 uses nothing of ours; each other module sits one above the highest it uses.
fn layers(graph: &Graph) -> BTreeMap<String, usize> {
    let mut layer = BTreeMap::new();
    let mut changed = true;
    while changed {
        changed = false;
        for (node, targets) in graph {
            let here = targets
                .iter()
                .map(|t| layer.get(t).copied().unwrap_or(0) + 1)
                .max()
                .unwrap_or(0)
                .min(graph.len());
            if layer.get(node) != Some(&here) {
                layer.insert(node.clone(), here);
                changed = true;
            }
        }
    }
    layer
}

#[test]
fn the_parser_reads_use_trees_and_inline_paths() {
    let mut out = Vec::new();
    paths_in_tree("{auth::Actor, error::{AppError, AppResult}};", "", &mut out);
    paths_in_tree("service::items::register(db)", "", &mut out);
    assert_eq!(
        out,
        [
            "auth::Actor",
            "error::AppError",
            "error::AppResult",
            "service::items::register"
        ]
    );
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&graph).map(|c| c.len()), Some(4));
    if let Some(targets) = graph.get_mut("c") {
        targets.clear();
    }
    assert_eq!(find_cycle(&graph), None);
}

/// The rooms of `service` (`store`, `notices`, `watch`, `items`…) use each other in one
/// direction too: each module collapsed to its room, the rooms' graph has no cycle.
#[test]
fn service_rooms_have_no_import_cycle() {
    let room = |module: &str| -> Option<String> {
        let mut parts = module.split("::");
        (parts.next() == Some("service"))
            .then(|| parts.next().map(|r| format!("service::{r}")))
            .flatten()
    };
    let mut rooms = Graph::new();
    for (module, targets) in graph() {
        let Some(from) = room(&module) else { continue };
        let entry = rooms.entry(from.clone()).or_default();
        for to in targets.iter().filter_map(|t| room(t)) {
            if to != from {
                entry.insert(to);
            }
        }
    }
    assert!(rooms.len() >= 5, "the rooms were found: {rooms:?}");
    for (from, to) in &rooms {
        println!(
            "{from:<22} {}",
            to.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    assert_eq!(
        find_cycle(&rooms),
        None,
        "rooms of service that use each other"
    );
}

#[test]
fn server_modules_have_no_import_cycle() {
    let graph = graph();
    assert!(
        graph.contains_key("service"),
        "the reader found the server's modules"
    );
    let layer = layers(&graph);
    let mut by_layer: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
    for (module, l) in &layer {
        by_layer.entry(*l).or_default().push(module);
    }
    for (l, modules) in by_layer {
        for module in modules {
            let uses: Vec<&str> = graph[module].iter().map(String::as_str).collect();
            println!(
                "{l:>2}  {:<28} {}",
                if module.is_empty() { "(lib)" } else { module },
                uses.join(", ")
            );
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle between modules: {}", cycle.join(" → "));
    }
}

#[test]
fn only_the_command_line_assembles_the_service() {
    let graph = graph();
    let importers: Vec<&String> = graph
        .iter()
        .filter(|(_, targets)| targets.contains("startup"))
        .map(|(module, _)| module)
        .collect();
    assert!(
        importers.iter().all(|m| m.as_str() == "cli"),
        "modules other than the CLI import startup: {importers:?}"
    );
}
