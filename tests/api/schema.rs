/// `schema.graphql` is the API's contract, reviewed in diffs; it must match the code.
/// Regenerate with `cargo run -q -- schema > schema.graphql`.
#[test]
fn schema_graphql_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let generated = ducha_server::graphql::sdl();
    assert!(
        checked_in == generated,
        "schema.graphql is out of date: run `cargo run -q -- schema > schema.graphql`"
    );
}

/// What graphql-schema-linter's `*-have-descriptions` rules ask: every type of ours, field,
/// argument, input field and enum value describes itself; and one date scalar.
#[tokio::test]
async fn everything_in_the_schema_describes_itself() {
    let app = crate::helpers::spawn_app().await;
    let body = app
        .graphql_signed_in(
            include_str!("../../server/src/http/introspection_query.graphql"),
            serde_json::json!({}),
        )
        .await;
    let types = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let described = |v: &serde_json::Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for ty in types {
        let name = ty["name"].as_str().unwrap_or_default();
        // The spec's own scalars are described by the spec.
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(format!("type {name}"));
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            if !described(field) {
                missing.push(format!("field {name}.{}", field["name"]));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if !described(arg) {
                    missing.push(format!("arg {name}.{}({})", field["name"], arg["name"]));
                }
            }
        }
        for field in ty["inputFields"].as_array().into_iter().flatten() {
            if !described(field) {
                missing.push(format!("input {name}.{}", field["name"]));
            }
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            if !described(value) {
                missing.push(format!("enum value {name}.{}", value["name"]));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} without a description:\n{}",
        missing.len(),
        missing.join("\n")
    );
    let dates: Vec<&str> = types
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|n| n.contains("Date") && !n.contains("DateTime"))
        .filter(|n| {
            types
                .iter()
                .any(|t| t["name"] == *n && t["kind"] == "SCALAR")
        })
        .collect();
    assert_eq!(dates, ["Date"], "one date scalar");
    let node = types
        .iter()
        .find(|t| t["name"] == "Node")
        .expect("a Node interface");
    assert_eq!(node["kind"], "INTERFACE");
    assert!(
        node["possibleTypes"]
            .as_array()
            .is_some_and(|p| p.len() >= 7)
    );
}

/// Mutations meant for integrations only, with why no page runs them. Every other mutation is
/// something a person does, and the pages must offer it: people do all of their work in them.
const INTEGRATION_ONLY: [(&str, &str); 1] = [(
    "attachFile",
    "the pages send files with their report (reportProgress and submitFeedback take files, \
     in the report's own transaction); attachFile adds one to an earlier report for systems \
     that upload separately",
)];

/// Every mutation in `schema.graphql` that a person performs has a page: some page under
/// `server/src/web/` runs it by name (the pages run the API's own mutations as the reader).
#[test]
fn every_mutation_a_person_performs_has_a_page() {
    let schema = include_str!("../../schema.graphql");
    let start = schema.find("type Mutation {").expect("a Mutation type");
    let body = &schema[start
        ..schema[start..]
            .find("\n}")
            .map_or(schema.len(), |e| start + e)];
    let mutations: Vec<&str> = body
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|line| !line.starts_with(' ') && !line.starts_with('"'))
        .filter_map(|line| line.split(['(', ':']).next())
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect();
    assert!(mutations.len() > 20, "read the mutations: {mutations:?}");
    let mut pages = String::new();
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src/web");
    let mut folders = vec![web];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("web sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                pages.push_str(&std::fs::read_to_string(&path).expect("source"));
            }
        }
    }
    let missing: Vec<&&str> = mutations
        .iter()
        .filter(|m| !INTEGRATION_ONLY.iter().any(|(name, _)| name == *m))
        // Run with arguments, `name(`, or without, `name {`.
        .filter(|m| !pages.contains(&format!("{m}(")) && !pages.contains(&format!("{m} {{")))
        .collect();
    assert!(
        missing.is_empty(),
        "mutations a person performs with no page: {missing:?} (give each a page, or name it in INTEGRATION_ONLY with why)"
    );
    for (name, _) in INTEGRATION_ONLY {
        assert!(
            mutations.contains(&name),
            "{name} is no longer in the schema"
        );
    }
}
