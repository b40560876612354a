//! Issue 30, item 10: a full disk on SQLite. The binary runs under a limit on the size of
//! the files it writes (RLIMIT_FSIZE, with SIGXFSZ ignored: writes past it fail as a full
//! disk fails them), writes until they fail, then the limit is lifted on the live process
//! ("space returns"). Every write answered OK must be readable at once and survive a
//! `kill -9` and a restart; writes must resume by themselves; `/healthz` must say when
//! writes fail. No privilege is needed: the limit is set on our own child.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Instance, fresh_data_dir, graphql, start, start_blocking_with};

const REGISTER: &str =
    "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id } } }";

/// A write of a few kilobytes, as a real 立项 with its requirements pasted in.
async fn register(client: &reqwest::Client, instance: &Instance, token: &str, n: usize) -> Value {
    graphql(
        client,
        &instance.address,
        token,
        REGISTER,
        json!({ "input": { "title": format!("磁盘写满测试事项{n}"), "sourceKind": "MEETING_DECISION",
                           "sourceReference": format!("测试纪要〔2026〕{n}号"), "deadline": "5个工作日",
                           "requirements": "按会议要求逐项落实整改，".repeat(120) } }),
    )
    .await
}

fn item_id(body: &Value) -> Option<String> {
    body["data"]["registerItem"]["item"]["id"]
        .as_str()
        .map(str::to_string)
}

async fn readable(client: &reqwest::Client, instance: &Instance, token: &str, id: &str) -> bool {
    let body = graphql(
        client,
        &instance.address,
        token,
        "query($id: ID!) { item(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    body["data"]["item"]["id"].as_str() == Some(id)
}

async fn healthz(client: &reqwest::Client, instance: &Instance) -> Value {
    match client
        .get(format!("http://{}/healthz", instance.address))
        .timeout(Duration::from_secs(20))
        .send()
        .await
    {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

fn largest_file(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_full_disk_on_sqlite_loses_no_write_answered_ok_and_writes_resume() {
    let (data_dir, env) = fresh_data_dir(&format!("ducha-full-disk-{}", std::process::id()));
    let client = crate::http_client();
    // A district to write into; the demo prints the office's token.
    let first = start(&env, true).await;
    let token = first.token("SUPERVISOR");
    first.kill9().await;
    // Room for a few hundred kilobytes more than the largest file holds now.
    let limit = largest_file(&data_dir) + 512 * 1024;
    let env_for_limited = env.clone();
    let limited = tokio::task::spawn_blocking(move || {
        start_blocking_with(&env_for_limited, false, |command| {
            let mut wrapped = Command::new("sh");
            wrapped
                .arg("-c")
                .arg("trap '' XFSZ; exec prlimit --fsize=\"$0\": -- \"$@\"")
                .arg(limit.to_string())
                .arg(command.get_program())
                .args(command.get_args());
            wrapped
        })
    })
    .await
    .expect("starting ducha under a file size limit");

    // Write until writes fail, and a little beyond.
    let mut answered_ok: Vec<String> = Vec::new();
    let mut failures = 0;
    let mut n = 0;
    let mut saw_write_failure_in_health = false;
    let mut saw_storage_full = false;
    while failures < 12 && n < 2_000 {
        n += 1;
        let body = register(&client, &limited, &token, n).await;
        match item_id(&body) {
            Some(id) => answered_ok.push(id),
            None => {
                failures += 1;
                // A full disk is said in words the office understands, nothing saved.
                let code = body["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default();
                assert!(
                    matches!(code, "SERVICE_UNAVAILABLE" | "INTERNAL_SERVER_ERROR"),
                    "{body}"
                );
                saw_storage_full |= code == "SERVICE_UNAVAILABLE";
                let health = healthz(&client, &limited).await;
                saw_write_failure_in_health |= health["writes"] == false;
            }
        }
    }
    assert!(failures > 0, "the limit was never reached in {n} writes");
    assert!(
        saw_write_failure_in_health,
        "/healthz never said writes fail while they did"
    );
    assert!(saw_storage_full, "no refusal said the disk was full");
    // Space returns: lift the limit on the live process.
    let pid = limited.child.id().to_string();
    let lifted = Command::new("prlimit")
        .args(["--pid", &pid, "--fsize=unlimited:unlimited"])
        .stdout(Stdio::null())
        .status()
        .expect("prlimit runs");
    assert!(lifted.success());
    // Writes resume by themselves, without a restart.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut resumed = false;
    while Instant::now() < deadline {
        n += 1;
        if let Some(id) = item_id(&register(&client, &limited, &token, n).await) {
            answered_ok.push(id);
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(resumed, "writes did not resume once space returned");
    for _ in 0..20 {
        n += 1;
        let body = register(&client, &limited, &token, n).await;
        let id =
            item_id(&body).unwrap_or_else(|| panic!("a write after space returned failed: {body}"));
        answered_ok.push(id);
    }
    assert_eq!(healthz(&client, &limited).await["writes"], true);
    // Every OK is readable at once from other requests...
    for id in &answered_ok {
        assert!(
            readable(&client, &limited, &token, id).await,
            "{id} answered OK, not found"
        );
    }
    limited.kill9().await;
    // ...and after a kill -9 and a restart.
    let restarted = start(&env, false).await;
    let mut lost = Vec::new();
    for id in &answered_ok {
        if !readable(&client, &restarted, &token, id).await {
            lost.push(id.clone());
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} writes answered OK were lost: {lost:?}",
        lost.len(),
        answered_ok.len()
    );
    drop(restarted);
    let _ = std::fs::remove_dir_all(&data_dir);
}
