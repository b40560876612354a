//! Issue 32: SQLite's writes are committed in groups, and a write is answered only once its
//! group has committed. Eight clients report progress as fast as they can on the demo
//! district's SQLite file while the process is killed with SIGKILL at a random moment; after
//! a restart every report that was answered OK is there. (An answer given before its
//! group's COMMIT would be lost with the group: that is what this catches.)

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::{Gen, fresh_data_dir, graphql, seed, start};

const REPORT: &str = "mutation($id: ID!) { reportProgress(input: { itemId: $id, body: \"故障演练：本周进展\" }) { report { databaseId } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_grouped_writes_every_answered_report_survives() {
    let seed = seed();
    let mut dice = Gen(seed);
    let (data_dir, env) = fresh_data_dir(&format!("ducha-acknowledged-{seed}"));
    let client = crate::http_client();
    let first = start(&env, true).await;
    let token = first.token("UNIT_STAFF");
    // The clerk's items that take a progress report now.
    let listed = graphql(
        &client,
        &first.address,
        &token,
        "{ items(first: 100) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let mut open = Vec::new();
    for edge in listed["data"]["items"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = edge["node"]["id"].as_str().unwrap_or_default().to_string();
        let probe = graphql(&client, &first.address, &token, REPORT, json!({ "id": id })).await;
        if probe["data"]["reportProgress"]["report"]["databaseId"].is_i64() {
            open.push(id);
        }
    }
    assert!(
        open.len() >= 2,
        "the clerk has items to report on: {listed}"
    );

    let answered: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..8u64 {
        let (client, address, token) = (client.clone(), first.address.clone(), token.clone());
        let (answered, open) = (Arc::clone(&answered), open.clone());
        writers.push(tokio::spawn(async move {
            let mut dice = Gen(seed ^ (writer + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            loop {
                let id = &open[dice.below(open.len() as u64) as usize];
                let body = graphql(&client, &address, &token, REPORT, json!({ "id": id })).await;
                match body["data"]["reportProgress"]["report"]["databaseId"].as_i64() {
                    Some(report) => {
                        answered.lock().expect("lock").insert(report);
                    }
                    // The instance is gone: this writer is done.
                    None if body.is_null() => return,
                    None => {}
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(400 + dice.below(1_200))).await;
    first.kill9().await;
    for writer in writers {
        writer.await.expect("writer");
    }
    let answered = answered.lock().expect("lock").clone();
    assert!(
        answered.len() > 20,
        "the writers got answers before the kill: {}",
        answered.len()
    );

    let again = start(&env, false).await;
    let mut found = BTreeSet::new();
    for id in &open {
        let body = graphql(
            &client,
            &again.address,
            &token,
            "query($id: ID!) { item(id: $id) { reports { databaseId } } }",
            json!({ "id": id }),
        )
        .await;
        for report in body["data"]["item"]["reports"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(id) = report["databaseId"].as_i64() {
                found.insert(id);
            }
        }
    }
    let lost: Vec<&i64> = answered.difference(&found).collect();
    eprintln!(
        "seed {seed}: {} reports answered OK before the kill, {} lost",
        answered.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "answered OK but lost: {lost:?}");
    again.kill9().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
