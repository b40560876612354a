//! Other people's checks, run against the service: graphql-http's server audits (the
//! GraphQL-over-HTTP spec's MUSTs and SHOULDs) and the graphql-ws library's own client.
//! They need Node.js and the packages pinned in `tests/conformance/package-lock.json`,
//! which this installs from the npm registry the first time (`npm ci`).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::helpers::spawn_app;

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// `npm ci` once per run, unless the packages are there already.
fn install() -> &'static Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = conformance_dir();
        if dir.join("node_modules/graphql-http/package.json").exists()
            && dir.join("node_modules/graphql-ws/package.json").exists()
        {
            return Ok(());
        }
        let output = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("npm is needed for the conformance tests: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "npm ci failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    })
}

/// Runs `node script args…` in the conformance folder and returns its stdout lines as JSON.
async fn node(script: &str, args: Vec<String>) -> Vec<Value> {
    if let Err(why) = install() {
        panic!("{why}");
    }
    let script = script.to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .args(&args)
            .current_dir(conformance_dir())
            .output()
    })
    .await
    .expect("joined")
    .expect("node runs");
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

#[tokio::test]
async fn graphql_http_audits_pass_every_must_and_should() {
    let app = spawn_app().await;
    let results = node(
        "audit.mjs",
        vec![app.url("/graphql"), app.admin_token.clone()],
    )
    .await;
    assert!(results.len() > 40, "the audits ran: {}", results.len());
    let mut failed = Vec::new();
    for result in &results {
        let name = result["name"].as_str().unwrap_or_default();
        let level = name.split_whitespace().next().unwrap_or_default();
        let ok = result["status"] == "ok";
        // MAYs are the server's choice; every MUST and SHOULD holds.
        if !ok && (level == "MUST" || level == "SHOULD") {
            failed.push(format!("{name}: {}", result["reason"]));
        }
    }
    assert!(failed.is_empty(), "audits failed:\n{}", failed.join("\n"));
}

#[tokio::test]
async fn the_graphql_ws_client_queries_and_hears_errors_and_refusals() {
    let app = spawn_app().await;
    let results = node(
        "ws-client.mjs",
        vec![
            format!("ws://{}/graphql/ws", app.address),
            app.admin_token.clone(),
        ],
    )
    .await;
    let result = &results[0];
    assert!(result.get("failure").is_none(), "{result}");
    assert_eq!(result["query"]["data"]["me"]["role"], "ADMIN", "{result}");
    assert_eq!(
        result["invalid"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{result}"
    );
    assert_eq!(result["refused"], 4403, "{result}");
}
