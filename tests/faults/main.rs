//! Fault injection against the real `ducha` binary: child processes killed with SIGKILL at
//! random moments while a real SMTP server on loopback accepts, refuses with 451, stalls or
//! is down; then, on one PostgreSQL database, two instances killed in turn. At the end every
//! message of the outbox has reached the relay, and the only repeats are messages whose
//! acceptance and marking straddled a kill (counted, and never more than the kills). On
//! SQLite every notice also goes to a webhook (a slow one at times), held to the same
//! promise.
//!
//! A few rounds run under `cargo test`; a soak is the same test with more rounds:
//! `DUCHA_FAULT_ROUNDS=150 cargo test --release --test faults -- --nocapture`.

mod acknowledged;
mod full_disk;
mod hooks;

#[path = "../api/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use smtp::SmtpServer;

const DUCHA: &str = env!("CARGO_BIN_EXE_ducha");

/// A client for the tests: the TLS provider installed first (`channels::install_crypto`;
/// cargo builds one reqwest for the whole workspace, without a provider of its own).
pub fn http_client() -> reqwest::Client {
    ducha_server::channels::install_crypto();
    reqwest::Client::new()
}

/// Rounds per scenario: few by default, more for a soak.
fn rounds(default: usize) -> usize {
    std::env::var("DUCHA_FAULT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (a seed per run is printed, so a failure can be replayed).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    std::env::var("DUCHA_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(0x9e37_79b9)
        })
}

struct Instance {
    child: Child,
    address: String,
    /// Tokens printed by `--demo`, when it loaded.
    tokens: BTreeMap<String, String>,
}

/// Starts an instance without blocking the runtime: the relay runs on it, and a relay that
/// stalls while a test waits for a child would make the senders time out on messages it
/// stored — repeats no kill explains.
async fn start(env: &[(&'static str, String)], demo: bool) -> Instance {
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || start_blocking(&env, demo))
        .await
        .expect("starting ducha")
}

fn start_blocking(env: &[(&str, String)], demo: bool) -> Instance {
    start_blocking_with(env, demo, |command| command)
}

/// As [`start_blocking`], the command first passed through `wrap` (run under a limit, say).
fn start_blocking_with(
    env: &[(&str, String)],
    demo: bool,
    wrap: impl FnOnce(Command) -> Command,
) -> Instance {
    let mut command = Command::new(DUCHA);
    command.arg("serve");
    if demo {
        command.arg("--demo");
    }
    let mut command = wrap(command);
    command
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DUCHA_LISTEN", "127.0.0.1:0")
        .env("DUCHA_LOG", "warn")
        // No ducha.toml of the developer's is picked up.
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut instance = Instance {
        child: command.spawn().expect("ducha starts"),
        address: String::new(),
        tokens: BTreeMap::new(),
    };
    let stdout = instance.child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else {
            break;
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        if let (Some(role), Some(token)) = (words.get(1), words.last())
            && token.starts_with("dch_")
        {
            instance.tokens.insert(role.to_string(), token.to_string());
        }
        if let Some(rest) = line.strip_prefix("ducha listening on http://") {
            instance.address = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            // Keep reading stdout in the background so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return instance;
        }
    }
    panic!("ducha did not start");
}

/// A data folder of a test's own, emptied, and the environment that points an instance at
/// it.
fn fresh_data_dir(name: &str) -> (std::path::PathBuf, Vec<(&'static str, String)>) {
    let data_dir = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&data_dir);
    let env = vec![("DUCHA_DATA_DIR", data_dir.display().to_string())];
    (data_dir, env)
}

impl Instance {
    /// The demo's token for `role`, as it printed it.
    fn token(&self, role: &str) -> String {
        self.tokens
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("the demo prints a token for {role}"))
    }

    /// SIGKILL: no shutdown, no flush, as a crash or an OOM kill.
    async fn kill9(self) {
        let _ = tokio::task::spawn_blocking(move || drop(self)).await;
    }
}

impl Drop for Instance {
    // Also when a test fails half-way: no instance outlives its test.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn graphql(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let response = client
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    match response {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        // The instance was killed under the request: the caller moves on.
        Err(_) => Value::Null,
    }
}

/// Registers and assigns an item (its 督查通知 go out in the assignment's transaction).
async fn assign_one(client: &reqwest::Client, address: &str, token: &str, units: &[i64], n: u64) {
    let registered = graphql(
        client,
        address,
        token,
        "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id version } } }",
        json!({ "input": { "title": format!("故障演练事项{n}"), "requirements": "3个工作日内落实并反馈",
                           "sourceKind": "LEADER_INSTRUCTION", "sourceReference": format!("演练〔2026〕{n}号") } }),
    )
    .await;
    let item = &registered["data"]["registerItem"]["item"];
    if item.is_null() {
        return;
    }
    let lead = units[(n as usize) % units.len()];
    let co = units[(n as usize + 7) % units.len()];
    graphql(
        client,
        address,
        token,
        "mutation($input: AssignItemInput!) { assignItem(input: $input) { item { id } } }",
        json!({ "input": { "itemId": item["id"], "version": item["version"], "leadUnitId": lead, "coUnitIds": [co] } }),
    )
    .await;
}

/// Relay behaviour for one round.
fn set_relay(smtp: &SmtpServer, dice: &mut Gen) -> &'static str {
    smtp.set_down(false);
    smtp.delay(0);
    match dice.below(4) {
        0 => "accepts",
        1 => {
            smtp.refuse_next(1 + dice.below(3) as usize);
            "refuses 451"
        }
        2 => {
            smtp.delay(300);
            "slow"
        }
        _ => {
            smtp.set_down(true);
            "down"
        }
    }
}

/// Waits until the outbox is empty, then checks every message reached the relay and counts
/// the repeats.
async fn drain_and_check(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    smtp: &SmtpServer,
    hooks: Option<&hooks::Hooks>,
    kills: &[Instant],
) -> (usize, usize) {
    smtp.set_down(false);
    smtp.delay(0);
    smtp.refuse_next(0);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // The relay is back: what waits out a backoff goes now (claims of killed senders
        // lapse on their own, after DUCHA_OUTBOX_CLAIM_SECONDS).
        graphql(
            client,
            address,
            token,
            "mutation { deliverOutbox(retryNow: true) { sent } }",
            json!({}),
        )
        .await;
        let health: Value = match client.get(format!("http://{address}/healthz")).send().await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        if health["outbox"]["pending"] == 0 {
            assert_eq!(health["outbox"]["failed"], 0, "{health}");
            break;
        }
        assert!(Instant::now() < deadline, "outbox did not drain: {health}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Every row, newest first, a page at a time.
    let mut rows: Vec<Value> = Vec::new();
    loop {
        let before = rows.last().map(|r| r["id"].clone()).unwrap_or(Value::Null);
        let page = graphql(
            client,
            address,
            token,
            "query($before: Int) { outbox(first: 500, beforeId: $before) { id status channel } }",
            json!({ "before": before }),
        )
        .await;
        let page = page["data"]["outbox"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if page.is_empty() {
            break;
        }
        rows.extend(page);
    }
    assert!(!rows.is_empty());
    let received = smtp.received();
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    let mut accepted: BTreeMap<String, Vec<Instant>> = BTreeMap::new();
    for message in &received {
        *copies.entry(message.message_id()).or_default() += 1;
        accepted
            .entry(message.message_id())
            .or_default()
            .push(message.at);
    }
    // A webhook's delivery keeps its id (`msg_ducha_N`) on every try, as a mail its Message-ID.
    for (id, at) in hooks.map(hooks::Hooks::accepted).unwrap_or_default() {
        *copies.entry(id.clone()).or_default() += 1;
        accepted.entry(id).or_default().push(at);
    }
    // A repeat is a message whose sender was killed between handing it to the relay and
    // marking it sent: a kill falls between each two acceptances of one message (one that
    // straddled two kills came three times). A slow relay accepts (stores) a message up to
    // its delay after the sender handed it over, possibly after the kill, hence the margin.
    // A sender sends one message at a time, so a kill straddles one at most.
    let margin = Duration::from_secs(1);
    for (id, times) in accepted.iter().filter(|(_, t)| t.len() > 1) {
        for pair in times.windows(2) {
            assert!(
                kills
                    .iter()
                    .any(|k| pair[0].checked_sub(margin).unwrap_or(pair[0]) <= *k && *k <= pair[1]),
                "{id} was sent again without a kill in between: accepted at {:?} and {:?} \
                 after the first kill, kills at {:?}",
                pair[0].saturating_duration_since(kills[0]),
                pair[1].saturating_duration_since(kills[0]),
                kills
                    .iter()
                    .map(|k| k.saturating_duration_since(kills[0]))
                    .collect::<Vec<_>>()
            );
        }
    }
    if hooks.is_some() {
        assert!(
            rows.iter().any(|r| r["channel"] == "WEBHOOK"),
            "the webhook took notices"
        );
    }
    for row in &rows {
        assert_eq!(row["status"], "SENT", "{row}");
        let id = match row["channel"].as_str() {
            Some("WEBHOOK") => format!("msg_ducha_{}", row["id"]),
            _ => format!("<outbox-{}@ducha>", row["id"]),
        };
        assert!(copies.contains_key(&id), "{id} never reached the relay");
    }
    let repeats: usize = copies.values().map(|n| n - 1).sum();
    assert!(
        repeats <= kills.len(),
        "{repeats} repeats for {} kills: only a message straddling a kill may repeat",
        kills.len()
    );
    (rows.len(), repeats)
}

fn base_env(smtp: &SmtpServer, data_dir: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("DUCHA_DATA_DIR", data_dir.display().to_string()),
        ("DUCHA_SMTP_HOST", "127.0.0.1".into()),
        ("DUCHA_SMTP_PORT", smtp.port().to_string()),
        ("DUCHA_SMTP_TLS", "none".into()),
        ("DUCHA_OUTBOX_CLAIM_SECONDS", "3".into()),
        ("DUCHA_SMTP_TIMEOUT_SECONDS", "3".into()),
        // Each verb's messages at once: more deliveries for the kills to fall between.
        ("DUCHA_NOTICE_WINDOW_SECONDS", "0".into()),
    ]
}

async fn unit_ids(client: &reqwest::Client, address: &str, token: &str) -> Vec<i64> {
    let units = graphql(
        client,
        address,
        token,
        "{ units { databaseId } }",
        json!({}),
    )
    .await;
    units["data"]["units"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|u| u["databaseId"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_on_sqlite_nothing_is_lost_and_only_straddles_repeat() {
    let seed = seed();
    let mut dice = Gen(seed);
    let smtp = SmtpServer::start().await;
    let data_dir = std::env::temp_dir().join(format!("ducha-faults-{seed}"));
    let _ = std::fs::remove_dir_all(&data_dir);
    let env = base_env(&smtp, &data_dir);
    let client = crate::http_client();
    let first = start(&env, true).await;
    let token = first.token("SUPERVISOR");
    let units = unit_ids(&client, &first.address, &token).await;
    assert!(units.len() > 10);
    // Every notice also goes to the office's webhook.
    let (hook_url, hooks) = hooks::start().await;
    let created = graphql(
        &client,
        &first.address,
        &first.token("ADMIN"),
        "mutation($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }",
        json!({ "input": { "kind": "WEBHOOK", "address": hook_url,
                           "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } }),
    )
    .await;
    assert!(created["errors"].is_null(), "{created}");
    let mut instance = Some(first);
    let mut kills = Vec::new();
    let mut n = 0;
    let total_rounds = rounds(4);
    for round in 0..total_rounds {
        let running = match instance.take() {
            Some(i) => i,
            None => start(&env, false).await,
        };
        let relay = set_relay(&smtp, &mut dice);
        hooks.delay(if dice.below(2) == 0 {
            0
        } else {
            dice.below(1_000)
        });
        for _ in 0..3 {
            n += 1;
            assign_one(&client, &running.address, &token, &units, n).await;
        }
        if round % 2 == 0 {
            graphql(
                &client,
                &running.address,
                &token,
                "mutation { runSweep { ran } }",
                json!({}),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(dice.below(1_500))).await;
        eprintln!(
            "round {round}: relay {relay}, {} received so far; kill -9",
            smtp.received().len()
        );
        running.kill9().await;
        kills.push(Instant::now());
    }
    let last = start(&env, false).await;
    hooks.delay(0);
    let (rows, repeats) =
        drain_and_check(&client, &last.address, &token, &smtp, Some(&hooks), &kills).await;
    last.kill9().await;
    eprintln!(
        "SQLite, seed {seed}: {total_rounds} kills, {rows} messages, {} mails and {} webhook \
         deliveries received, {repeats} repeated across a kill",
        smtp.received().len(),
        hooks.accepted().len()
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn postgres_admin() -> String {
    std::env::var("DUCHA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Runs one statement on the PostgreSQL server with `psql` (trust auth on loopback).
fn psql(sql: &str) -> bool {
    Command::new("psql")
        .args([postgres_admin().as_str(), "-q", "-c", sql])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A fresh database on the machine's PostgreSQL.
fn fresh_postgres(name: &str) -> Option<String> {
    if !psql(&format!("CREATE DATABASE \"{name}\"")) {
        return None;
    }
    let admin = postgres_admin();
    let (server, _) = admin.rsplit_once('/')?;
    Some(format!("{server}/{name}"))
}

fn drop_postgres(name: &str) {
    psql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_killed_in_turn_lose_nothing() {
    let seed = seed();
    let mut dice = Gen(seed ^ 0x5555);
    let smtp = SmtpServer::start().await;
    let name = format!("ducha_faults_{seed}");
    let url = fresh_postgres(&name).expect("PostgreSQL on 127.0.0.1:5432 (is it running?)");
    let data_dir = std::env::temp_dir().join(format!("ducha-faults-pg-{seed}"));
    let mut env = base_env(&smtp, &data_dir);
    env.push(("DATABASE_URL", url));
    let client = crate::http_client();
    let first = start(&env, true).await;
    let token = first.token("SUPERVISOR");
    let units = unit_ids(&client, &first.address, &token).await;
    let mut pair = [Some(first), Some(start(&env, false).await)];
    let mut kills = Vec::new();
    let mut n = 0;
    let total_rounds = rounds(3);
    for round in 0..total_rounds {
        for slot in pair.iter_mut() {
            if slot.is_none() {
                *slot = Some(start(&env, false).await);
            }
        }
        let relay = set_relay(&smtp, &mut dice);
        // Work through both instances, and a sweep on each at once (one runs, one waits).
        for (i, slot) in pair.iter().enumerate() {
            if let Some(instance) = slot {
                n += 1;
                assign_one(&client, &instance.address, &token, &units, n).await;
                if round == 0 {
                    let sweep = graphql(
                        &client,
                        &instance.address,
                        &token,
                        "mutation { runSweep { ran emails } }",
                        json!({}),
                    )
                    .await;
                    eprintln!("instance {i} sweep: {sweep}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(dice.below(1_500))).await;
        let victim = dice.below(2) as usize;
        eprintln!("round {round}: relay {relay}; kill -9 instance {victim}");
        if let Some(instance) = pair[victim].take() {
            instance.kill9().await;
            kills.push(Instant::now());
        }
    }
    let survivor = match pair.iter_mut().find_map(|s| s.take()) {
        Some(instance) => instance,
        None => start(&env, false).await,
    };
    // Instances were killed mid-sweep: the lock died with them, so a sweep runs now (the
    // survivor's own minute tick may hold it for a moment).
    let mut swept = false;
    for _ in 0..20 {
        let sweep = graphql(
            &client,
            &survivor.address,
            &token,
            "mutation { runSweep { ran } }",
            json!({}),
        )
        .await;
        if sweep["data"]["runSweep"]["ran"] == true {
            swept = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(swept, "the sweep lock of a killed instance is free");
    let (rows, repeats) =
        drain_and_check(&client, &survivor.address, &token, &smtp, None, &kills).await;
    eprintln!(
        "PostgreSQL, two instances, seed {seed}: {} kills, {rows} messages, {} received, {repeats} repeated across a kill",
        kills.len(),
        smtp.received().len()
    );
    survivor.kill9().await;
    for instance in pair.into_iter().flatten() {
        instance.kill9().await;
    }
    drop_postgres(&name);
    let _ = std::fs::remove_dir_all(&data_dir);
}
