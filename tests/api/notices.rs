//! The reminder ladder and email delivery (issue 9): the sweep walks items across National
//! Day 2026 and its 调休 Saturday sending one true rung per assignment, each reader gets one
//! digest per sweep, verbs mail at once, and delivery through lettre to a real SMTP server
//! on loopback neither doubles nor loses a message — with a slow relay, one that refuses,
//! one that is down for hours, and a sender killed mid-delivery.

use std::collections::{BTreeMap, HashMap};

use ducha_server::config::{SmtpSettings, SmtpTls};
use ducha_server::service::notices::outbox;
use ducha_server::service::watch::sweep;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::district::{District, assigned_item, item_mutation, m, ok};
use crate::helpers::{Backend, TestApp, settings_for, shanghai, spawn_with};
use crate::smtp::SmtpServer;

fn smtp_settings(smtp: &SmtpServer) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp.port(),
        tls: SmtpTls::None,
        username: None,
        password: None,
    }
}

async fn spawn_with_smtp(backend: Backend, smtp: &SmtpServer) -> TestApp {
    spawn_with_smtp_and(backend, smtp, |_| {}).await
}

/// An app mailing through `smtp`, with settings of the test's own.
async fn spawn_with_smtp_and(
    backend: Backend,
    smtp: &SmtpServer,
    adjust: impl FnOnce(&mut ducha_server::config::Settings),
) -> TestApp {
    let mut settings = settings_for(backend).await;
    settings.smtp = Some(smtp_settings(smtp));
    settings.smtp_timeout = std::time::Duration::from_secs(5);
    adjust(&mut settings);
    spawn_with(settings).await
}

/// (assignment, kind, level, state) of every notice on record.
async fn notices(app: &TestApp) -> Vec<(i64, String, String, String)> {
    let mut rows: Vec<_> = entity::notice::Entity::find()
        .all(&app.state.db)
        .await
        .expect("notices")
        .into_iter()
        .map(|n| (n.assignment_id, n.kind, n.level, n.state))
        .collect();
    rows.sort();
    rows
}

async fn outbox_rows(app: &TestApp) -> Vec<entity::outbox::Model> {
    entity::outbox::Entity::find()
        .all(&app.state.db)
        .await
        .expect("outbox")
}

async fn sweep_at(
    app: &TestApp,
    d: &District,
    at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    app.clock.set(at);
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation { runSweep { ran notices skipped emails } }",
            json!({}),
        )
        .await;
    body["data"]["runSweep"].clone()
}

fn sender(app: &TestApp) -> outbox::Sender<'_> {
    app.state.sender()
}

/// Items 1 and 5 of the issue: one true rung per assignment per sweep, across National Day,
/// and the office hears of a red item once although both its units are red.
async fn the_ladder_climbs_one_true_rung_per_sweep(backend: Backend) {
    let app = spawn_with(settings_for(backend).await).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "国庆期间景区安全保障").await;
    let item_id = crate::helpers::row_id(&assigned["id"]);
    let (lead, co) = (
        crate::helpers::row_id(&assigned["assignments"][0]["id"]),
        crate::helpers::row_id(&assigned["assignments"][1]["id"]),
    );
    // Item 3: 督查通知 is written with the assignment, before any sweep.
    let first_mails = outbox_rows(&app).await;
    let mut to: Vec<&str> = first_mails.iter().map(|m| m.recipient.as_str()).collect();
    to.sort();
    assert_eq!(to, ["cgj@example.gov.cn", "zjj@example.gov.cn"]);
    assert!(first_mails[0].subject.starts_with("【督查通知】"));
    ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;

    let first = sweep_at(&app, &d, shanghai(2026, 9, 29, 14, 0)).await;
    assert_eq!(first["notices"], 0, "nothing new the same day: {first}");
    // 09-30 08:30: the co-unit's due (10-08) is the next working day. Its 签收提醒 is not
    // due yet (a full working day ends 09-30 09:00), and BLUE outranks it anyway.
    let blue = sweep_at(&app, &d, shanghai(2026, 9, 30, 8, 30)).await;
    assert_eq!(blue["notices"], 1, "{blue}");
    // 10-08: the lead unit's due (10-09) is a working day away; the co-unit's is today.
    assert_eq!(
        sweep_at(&app, &d, shanghai(2026, 10, 8, 8, 30)).await["notices"],
        1
    );
    // 10-10, the 调休 Saturday: both overdue by a working day.
    assert_eq!(
        sweep_at(&app, &d, shanghai(2026, 10, 10, 8, 30)).await["notices"],
        2
    );
    // 10-14: more than three working days overdue.
    let red = sweep_at(&app, &d, shanghai(2026, 10, 14, 8, 30)).await;
    assert_eq!(red["notices"], 2, "{red}");
    assert_eq!(
        sweep_at(&app, &d, shanghai(2026, 10, 14, 14, 0)).await["notices"],
        0
    );

    // 签收提醒 was passed over (BLUE came first): recorded in the audit entry of the 临期提醒,
    // never mailed.
    let expected: Vec<(i64, String, String, String)> = [
        (lead, "ASSIGNMENT", "NOTICE", "MAILED"),
        (lead, "COLOUR", "BLUE", "MAILED"),
        (lead, "COLOUR", "RED", "MAILED"),
        (lead, "COLOUR", "YELLOW", "MAILED"),
        (co, "ASSIGNMENT", "NOTICE", "MAILED"),
        (co, "COLOUR", "BLUE", "MAILED"),
        (co, "COLOUR", "RED", "MAILED"),
        (co, "COLOUR", "YELLOW", "MAILED"),
    ]
    .into_iter()
    .map(|(a, k, l, s)| (a, k.to_string(), l.to_string(), s.to_string()))
    .collect();
    assert_eq!(notices(&app).await, expected);
    let trail = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { auditTrail { action reason details } } }",
            json!({ "id": item_id }),
        )
        .await;
    let skipped_with_blue: Vec<&serde_json::Value> = trail["data"]["item"]["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter(|e| e["action"] == "NOTICE" && e["reason"] == "临期提醒")
        .collect();
    assert_eq!(skipped_with_blue.len(), 2);
    let naming_signing: Vec<_> = skipped_with_blue
        .iter()
        .filter(|e| e["details"].to_string().contains("签收提醒"))
        .collect();
    assert_eq!(
        naming_signing.len(),
        1,
        "only the unsigned co-unit passed its 签收提醒: {skipped_with_blue:?}"
    );

    // Item 2: the red sweep wrote one mail per reader. The office's lists the item once,
    // naming both units, and asks the office (not the unit) to act.
    let mails = outbox_rows(&app).await;
    let red_mails: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("红色督办"))
        .collect();
    let mut red_to: Vec<&str> = red_mails.iter().map(|m| m.recipient.as_str()).collect();
    red_to.sort();
    let head_housing = format!("unit_head-{}@example.gov.cn", d.housing);
    let head_urban = format!("unit_head-{}@example.gov.cn", d.urban);
    assert_eq!(
        red_to,
        [
            "cgj@example.gov.cn",
            "leader-0@example.gov.cn",
            "supervisor-0@example.gov.cn",
            head_housing.as_str(),
            head_urban.as_str(),
            "zjj@example.gov.cn",
        ],
        "one mail each: the units (their addresses and heads), the 分管 leader (both units \
         are his) and the office"
    );
    let office = red_mails
        .iter()
        .find(|m| m.recipient == "supervisor-0@example.gov.cn")
        .expect("office mail");
    let serial = assigned["serial"].as_str().expect("serial");
    assert_eq!(
        office.body_text.matches(serial).count(),
        1,
        "{}",
        office.body_text
    );
    // Names on record as titles are not followed by 同志.
    assert!(
        office.body_text.starts_with("王督查："),
        "{}",
        office.body_text
    );
    assert!(office.body_text.contains("请跟进督办"));
    assert!(office.body_text.contains("区住房和城乡建设局（主办）"));
    assert!(office.body_text.contains("区城市管理局（协办）"));
    let leader = red_mails
        .iter()
        .find(|m| m.recipient == "leader-0@example.gov.cn")
        .expect("leader mail");
    assert!(leader.body_text.starts_with("李副区长："));
    assert!(leader.body_text.contains("由您分管的单位"));
    // Item 5: words that are true, and the item's stable address.
    for mail in &mails {
        assert!(!mail.body_text.contains("通知通知"), "{}", mail.body_text);
        assert!(!mail.subject.contains("通知通知"), "{}", mail.subject);
        assert!(
            mail.body_text
                .contains(&format!("http://127.0.0.1/items/{item_id}")),
            "{}",
            mail.body_text
        );
        assert!(!mail.body_text.contains("/graphql"));
    }
    let blue_mail = mails
        .iter()
        .find(|m| m.subject.contains("临期提醒") && m.recipient == "cgj@example.gov.cn")
        .expect("co-unit's 临期提醒");
    assert!(blue_mail.body_text.starts_with("区城市管理局："));
    assert!(
        blue_mail.body_text.contains("尚未签收"),
        "{}",
        blue_mail.body_text
    );
}

on_both_backends!(the_ladder_climbs_one_true_rung_per_sweep);

/// The mails written since `before` other than a monthly report's (the minute tick may
/// publish one meanwhile), which must be the sweep's `emails`, and how many each person got.
async fn sweep_mails(
    app: &TestApp,
    before: &[i64],
    emails: usize,
) -> (Vec<entity::outbox::Model>, BTreeMap<String, usize>) {
    let mails: Vec<_> = outbox_rows(app)
        .await
        .into_iter()
        .filter(|m| !before.contains(&m.id) && !m.subject.contains("通报"))
        .collect();
    assert_eq!(mails.len(), emails);
    let mut per_person: BTreeMap<String, usize> = BTreeMap::new();
    for mail in &mails {
        *per_person.entry(mail.recipient.clone()).or_default() += 1;
    }
    (mails, per_person)
}

/// The demo district loaded, the time, and the mails on record before its first sweep.
async fn demo_before_its_first_sweep(
    backend: Backend,
) -> (TestApp, chrono::DateTime<chrono::Utc>, Vec<i64>) {
    let app = spawn_with(settings_for(backend).await).await;
    ducha_server::demo::load(&app.state)
        .await
        .expect("demo")
        .expect("loaded");
    let now = app.clock.now();
    let before: Vec<i64> = outbox_rows(&app).await.iter().map(|m| m.id).collect();
    (app, now, before)
}

/// Item 1: the demo's first sweep. Every assignment gets at most one notice, a red item
/// made red by rejections is never told "即将到期", and each person gets one mail.
async fn the_demo_first_sweep_sends_one_mail_per_person(backend: Backend) {
    let (app, now, before) = demo_before_its_first_sweep(backend).await;
    let report = sweep::run_sweep(&app.state.sweeper(), "test", now)
        .await
        .expect("sweep");
    assert!(report.ran && report.notices > 0, "{report:?}");
    let rows = entity::notice::Entity::find()
        .all(&app.state.db)
        .await
        .expect("notices");
    let mut sent_per_assignment: HashMap<i64, usize> = HashMap::new();
    for n in rows.iter().filter(|n| n.state != "SKIPPED") {
        *sent_per_assignment.entry(n.assignment_id).or_default() += 1;
    }
    assert!(
        sent_per_assignment.values().all(|n| *n == 1),
        "one rung per assignment: {sent_per_assignment:?}"
    );
    let (_, per_person) = sweep_mails(&app, &before, report.emails).await;
    assert!(
        per_person.values().all(|n| *n == 1),
        "one digest per person: {per_person:?}"
    );
    // No 临期提醒 for an assignment that is not near its due.
    let left: Vec<_> = rows.iter().filter(|n| n.state == "DIGEST").collect();
    assert!(left.is_empty(), "every decided notice was mailed: {left:?}");
    for n in rows
        .iter()
        .filter(|n| n.level == "BLUE" && n.state == "MAILED")
    {
        let reason = n.reason.clone().unwrap_or_default();
        assert!(reason.contains("到期"), "{reason}");
    }
    eprintln!(
        "demo first sweep: {} notices, {} skipped, {} mails, {} red",
        report.notices,
        report.skipped,
        report.emails,
        rows.iter()
            .filter(|n| n.level == "RED" && n.state == "MAILED")
            .count()
    );
    let again = sweep::run_sweep(&app.state.sweeper(), "test", now)
        .await
        .expect("sweep");
    assert_eq!((again.notices, again.emails), (0, 0), "at most once");
}

on_both_backends!(the_demo_first_sweep_sends_one_mail_per_person);

/// Item 3: assignment, 退回重办 and extension decisions reach the units in seconds, through
/// the sender that wakes on new mail (no sweep, no minute tick).
async fn events_reach_units_in_seconds(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp_and(backend, &smtp, |s| s.background_jobs = true).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "校园周边交通秩序整治").await;
    wait_for(&smtp, 2).await;
    let subjects: Vec<String> = smtp.received().iter().map(|m| m.subject()).collect();
    assert!(
        subjects.iter().all(|s| s.starts_with("【督查通知】")),
        "{subjects:?}"
    );

    let signed = crate::district::sign(&app, &d.housing_head, &assigned).await;
    let asked = ok(
        &app,
        &d.housing_head,
        &m("requestExtension", "RequestExtensionInput", "extensionRequest { id } item { version }"),
        json!({ "itemId": signed["id"], "version": signed["version"], "proposedDueDate": "2026-10-16", "reason": "需协调资金" }),
    )
    .await;
    let decided = ok(
        &app,
        &d.supervisor,
        &m("decideExtension", "DecideExtensionInput", "item { version }"),
        json!({ "extensionRequestId": asked["extensionRequest"]["id"], "version": asked["item"]["version"], "approve": true }),
    )
    .await;
    wait_for(&smtp, 5).await;
    let extension: Vec<_> = smtp
        .received()
        .into_iter()
        .filter(|m| m.subject().contains("延期审批结果"))
        .collect();
    assert!(!extension.is_empty(), "延期审批结果 delivered");
    let fed = ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "item { version }"),
        json!({ "itemId": signed["id"], "version": decided["item"]["version"], "body": "已完成整治" }),
    )
    .await;
    ok(
        &app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": signed["id"], "version": fed["item"]["version"], "accept": false, "reason": "缺少现场照片" }),
    )
    .await;
    // The feedback's own mails (the office's, the co-unit's) arrive too: wait for these.
    let expected = [
        "zjj@example.gov.cn".to_string(),
        format!("unit_head-{}@example.gov.cn", d.housing),
    ];
    let mut rework: Vec<String> = Vec::new();
    for _ in 0..100 {
        rework = smtp
            .received()
            .into_iter()
            .filter(|m| m.subject().contains("退回重办通知"))
            .flat_map(|m| m.recipients)
            .collect();
        if expected.iter().all(|to| rework.contains(to)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        expected.iter().all(|to| rework.contains(to)),
        "the lead unit's contacts and head: {rework:?}"
    );
}

/// Waits (up to 10 s of real time) until the relay has `n` messages.
async fn wait_for(smtp: &SmtpServer, n: usize) {
    for _ in 0..100 {
        if smtp.received().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "expected {n} messages within 10 s, got {}: {:?}",
        smtp.received().len(),
        smtp.received()
            .iter()
            .map(|m| m.subject())
            .collect::<Vec<_>>()
    );
}

on_both_backends!(events_reach_units_in_seconds);

/// Items 6 and 8: a slow relay and two senders at once, with claims shorter than the whole
/// delivery: every message arrives exactly once, and the claims are renewed while working.
async fn a_slow_relay_and_two_senders_deliver_each_message_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp_and(backend, &smtp, |s| {
        s.outbox_claim = std::time::Duration::from_secs(1);
    })
    .await;
    let d = District::create(&app).await;
    for title in [
        "河道保洁",
        "燃气管道排查",
        "停车秩序整治",
        "夜市油烟治理",
        "老旧小区改造",
        "校园安全排查",
        "农贸市场整治",
        "违建拆除",
        "道路破损修复",
        "噪声扰民治理",
    ] {
        assigned_item(&app, &d, title).await;
    }
    let total = outbox_rows(&app).await.len();
    assert_eq!(total, 20, "two claims' worth");
    // Each message takes 400 ms: a claim of 10 takes 4 s, four times the claim's life, so
    // only renewal keeps it. Two
    // senders keep looking for work until everything arrived.
    smtp.delay(400);
    // The claims are judged by the app's clock: let it run with real time.
    let clock = app.clock.clone();
    let ticking = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            clock.advance(chrono::Duration::milliseconds(50));
        }
    });
    let keep_sending = || async {
        let mut sent = 0;
        for _ in 0..100 {
            sent += sender(&app).deliver_due(100).await.expect("deliver").sent;
            if smtp.received().len() >= total {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        sent
    };
    let (x, y) = tokio::join!(keep_sending(), keep_sending());
    ticking.abort();
    assert_eq!(x + y, total, "{x} + {y}");
    assert!(x > 0 && y > 0, "both senders worked: {x} + {y}");
    let received = smtp.received();
    let mut ids: Vec<String> = received.iter().map(|m| m.message_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (received.len(), ids.len()),
        (total, total),
        "no message twice"
    );
}

on_both_backends!(a_slow_relay_and_two_senders_deliver_each_message_once);

/// Items 7 and 8: a sender killed in DATA costs the message nothing; a relay that refuses
/// (451) or is down for five hours is retried, backoff capped at 30 minutes, and nothing
/// becomes FAILED; a permanent 550 does, shows in `/healthz`, and can be requeued.
async fn outages_are_waited_out_and_only_permanent_refusals_fail(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp_and(backend, &smtp, |s| {
        s.outbox_claim = std::time::Duration::from_secs(3);
    })
    .await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "校园周边交通秩序整治").await;
    assert_eq!(outbox_rows(&app).await.len(), 2);

    // The relay hangs in DATA on the first message; the sender is killed there.
    smtp.hang_next(1);
    let state = app.state.clone();
    let killed = tokio::spawn(async move { state.sender().deliver_due(10).await });
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    killed.abort();
    let _ = killed.await;
    assert!(smtp.received().is_empty(), "nothing completed");
    let claimed = outbox_rows(&app).await;
    assert!(
        claimed
            .iter()
            .all(|m| m.status == "PENDING" && m.attempts == 0)
    );
    assert_eq!(
        sender(&app).deliver_due(10).await.expect("deliver").sent,
        0,
        "a live-looking claim is not taken"
    );

    // Once the claim lapses the relay refuses for now (451): a retry, not a failure.
    app.clock.advance(chrono::Duration::seconds(4));
    smtp.refuse_next(1);
    let refused = sender(&app).deliver_due(10).await.expect("deliver");
    assert_eq!((refused.sent, refused.retried, refused.failed), (0, 1, 0));
    let listed = app
        .graphql_as(
            Some(&d.supervisor),
            "{ outbox(status: \"PENDING\") { attempts lastError } }",
            json!({}),
        )
        .await;
    assert!(
        listed.to_string().contains("451"),
        "the error is kept for the office: {listed}"
    );

    // Then the relay goes down for five hours, far past the old retry budget.
    smtp.set_down(true);
    let mut tries = 0;
    for _ in 0..(5 * 60) {
        let delivery = sender(&app).deliver_due(10).await.expect("deliver");
        tries += delivery.retried;
        assert_eq!(delivery.failed, 0);
        app.clock.advance(chrono::Duration::minutes(1));
    }
    let waiting = outbox_rows(&app).await;
    assert!(waiting.iter().all(|m| m.status == "PENDING"), "{waiting:?}");
    assert!(
        (12..=40).contains(&tries),
        "backoff capped at 30 minutes: {tries} tries"
    );
    let health: serde_json::Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(health["outbox"]["pending"], 2, "{health}");
    assert!(health["outbox"]["oldestPendingAgeSeconds"].as_i64() >= Some(5 * 3600));

    // Back up, refusing the first message for good (550) and taking the other.
    smtp.set_down(false);
    smtp.reject_next(1);
    app.clock.advance(chrono::Duration::minutes(31));
    let back = sender(&app).deliver_due(10).await.expect("deliver");
    assert_eq!((back.sent, back.failed), (1, 1), "{back:?}");
    let health: serde_json::Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(health["outbox"]["failed"], 1, "{health}");
    let listed = app
        .graphql_as(
            Some(&d.supervisor),
            "{ outbox(status: \"FAILED\") { id lastError } }",
            json!({}),
        )
        .await;
    assert!(
        listed["data"]["outbox"][0]["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("550"),
        "{listed}"
    );
    let requeued = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation { requeueOutbox { requeued } }",
            json!({}),
        )
        .await;
    assert_eq!(
        requeued["data"]["requeueOutbox"]["requeued"], 1,
        "{requeued}"
    );
    assert_eq!(sender(&app).deliver_due(10).await.expect("deliver").sent, 1);
    let received = smtp.received();
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.recipients.clone()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["cgj@example.gov.cn", "zjj@example.gov.cn"],
        "each once"
    );
}

on_both_backends!(outages_are_waited_out_and_only_permanent_refusals_fail);

/// Item 9: one sweep at a time — on one instance, and across two on one PostgreSQL — with a
/// lock that goes with its holder; and a scheduled slot that was missed runs once.
async fn one_sweep_at_a_time_and_missed_slots_run_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp).await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "汛期安全隐患排查").await;
    // The scheduler's minute tick may hold the lock for a moment (leftover digests).
    let mut held = None;
    for _ in 0..50 {
        held = sweep::try_lock(&app.state.db, &app.state.sweep_lock)
            .await
            .expect("lock");
        if held.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let held = held.expect("the lock comes free");
    assert_eq!(
        sweep_at(&app, &d, shanghai(2026, 10, 8, 8, 30)).await["ran"],
        false
    );
    if let Backend::Postgres = backend {
        // A second instance on the same database is excluded by the advisory lock.
        let mut settings = settings_for(Backend::Sqlite).await;
        settings.database_url = app_database_url(&app).await;
        let other = spawn_with(settings).await;
        other.clock.set(shanghai(2026, 10, 8, 8, 30));
        let report = sweep::run_sweep(&other.state.sweeper(), "other", other.clock.now())
            .await
            .expect("sweep");
        assert!(!report.ran);
        held.release().await;
        let report = sweep::run_sweep(&other.state.sweeper(), "other", other.clock.now())
            .await
            .expect("sweep");
        assert!(report.ran, "released with its holder");
    } else {
        held.release().await;
    }
    // Eight parallel sweeps: each notice once, whatever ran.
    let sweeper = app.state.sweeper();
    let runs = futures_util::future::join_all(
        (0..8).map(|_| sweep::run_sweep(&sweeper, "same", shanghai(2026, 10, 10, 8, 30))),
    )
    .await;
    assert!(runs.iter().all(|r| r.is_ok()));
    let rows = notices(&app).await;
    let mut keys: Vec<_> = rows.iter().map(|(a, k, l, _)| (a, k, l)).collect();
    let before = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), before);

    // Slots: 08:30 on working days. Started at 10:00 on 10-12 with the slot unrecorded, the
    // tick runs it once; the next ticks do not.
    let state = ducha_server::state::AppState::new(ducha_server::state::Inner {
        sweep_times: vec![chrono::NaiveTime::from_hms_opt(8, 30, 0).expect("time")],
        ..(*app.state).clone()
    });
    app.clock.set(shanghai(2026, 10, 12, 10, 0));
    let slot = ducha_server::jobs::latest_slot(&state, app.clock.now()).expect("a slot");
    assert_eq!(slot, shanghai(2026, 10, 12, 8, 30));
    assert_eq!(
        ducha_server::jobs::latest_slot(&state, shanghai(2026, 10, 12, 8, 0)),
        Some(shanghai(2026, 10, 10, 8, 30)),
        "before 08:30 on Monday the latest slot is the 调休 Saturday's"
    );
    assert!(!sweep::slot_done(&state.db, slot).await.expect("slot"));
    ducha_server::jobs::tick(&state).await;
    assert!(sweep::slot_done(&state.db, slot).await.expect("slot"));
    let ran = entity::sweep_slot::Entity::find()
        .all(&state.db)
        .await
        .expect("slots");
    assert_eq!(ran.len(), 1);
    ducha_server::jobs::tick(&state).await;
    assert_eq!(
        entity::sweep_slot::Entity::find()
            .all(&state.db)
            .await
            .expect("slots")
            .len(),
        1,
        "a slot runs once"
    );
}

async fn app_database_url(app: &TestApp) -> String {
    use sea_orm::ConnectionTrait;
    let row = app
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT current_database() AS name",
        ))
        .await
        .expect("query")
        .expect("row");
    let name: String = row.try_get("", "name").expect("name");
    let admin = crate::helpers::postgres_admin_url();
    let (server, _) = admin.rsplit_once('/').expect("url");
    format!("{server}/{name}")
}

on_both_backends!(one_sweep_at_a_time_and_missed_slots_run_once);

async fn recipients_of(app: &TestApp, assignment: i64, level: &str) -> Vec<String> {
    let Some(n) = entity::notice::Entity::find()
        .filter(entity::notice::Column::AssignmentId.eq(assignment))
        .filter(entity::notice::Column::Level.eq(level))
        .one(&app.state.db)
        .await
        .expect("notice")
    else {
        return Vec::new();
    };
    // The audit entry of a notice names who it went to, or the digest does: read the mails
    // that mention the item written at the notice's instant.
    let serial = entity::item::Entity::find_by_id(n.item_id)
        .one(&app.state.db)
        .await
        .expect("item")
        .expect("item")
        .serial;
    let mut to: Vec<String> = outbox_rows(app)
        .await
        .into_iter()
        .filter(|m| m.created_at == n.created_at && m.body_text.contains(&serial))
        .map(|m| m.recipient)
        .collect();
    to.sort();
    to
}

/// docs/rules.md §4: "progress report due / missed → handler / unit head", once per cycle; a
/// report starts the next cycle, which is reminded again. Item 4: a report never falls due
/// on a holiday — a 7-day cycle from 09-29 is due on 10-08, not on National Day's 10-06.
async fn progress_reports_are_reminded_once_per_cycle_on_working_days(backend: Backend) {
    let app = spawn_with(settings_for(backend).await).await;
    let d = District::create(&app).await;
    let registered = ok(
        &app,
        &d.supervisor,
        &m(
            "registerItem",
            "RegisterItemInput",
            "item { id version reportCycleUnit }",
        ),
        json!({ "title": "老旧小区加装电梯推进", "requirements": "每周报送进展，30个工作日内办结",
                "sourceKind": "MEETING_DECISION", "deadline": "30个工作日", "reportCycleDays": 7 }),
    )
    .await;
    let item = &registered["item"];
    assert_eq!(item["reportCycleUnit"], "CALENDAR_DAYS");
    let assigned = ok(
        &app,
        &d.supervisor,
        &item_mutation("assignItem", "AssignItemInput"),
        json!({ "itemId": item["id"], "version": item["version"], "leadUnitId": d.housing, "coUnitIds": [] }),
    )
    .await["item"]
        .clone();
    let lead = crate::helpers::row_id(&assigned["assignments"][0]["id"]);
    ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;
    let progress = |rows: Vec<(i64, String, String, String)>| -> Vec<String> {
        rows.into_iter()
            .filter(|(a, k, _, _)| *a == lead && k == "PROGRESS")
            .map(|(_, _, l, _)| l)
            .collect()
    };
    sweep_at(&app, &d, shanghai(2026, 9, 29, 14, 0)).await;
    assert!(progress(notices(&app).await).is_empty(), "not yet due");
    // On 09-30 the report (due 10-08, the first working day after the holiday) is one
    // working day away.
    sweep_at(&app, &d, shanghai(2026, 9, 30, 8, 30)).await;
    assert_eq!(progress(notices(&app).await), ["DUE 2026-10-08"]);
    // On 10-08 it is due today, not missed.
    sweep_at(&app, &d, shanghai(2026, 10, 8, 8, 30)).await;
    assert_eq!(progress(notices(&app).await), ["DUE 2026-10-08"]);
    let staff = format!("unit_staff-{}@example.gov.cn", d.housing);
    let head = format!("unit_head-{}@example.gov.cn", d.housing);
    let due_to = recipients_of(&app, lead, "DUE 2026-10-08").await;
    assert!(
        due_to.contains(&staff) && !due_to.contains(&head),
        "due → the handler: {due_to:?}"
    );
    sweep_at(&app, &d, shanghai(2026, 10, 8, 14, 0)).await;
    sweep_at(&app, &d, shanghai(2026, 10, 9, 8, 30)).await;
    assert_eq!(
        progress(notices(&app).await),
        ["DUE 2026-10-08", "MISSED 2026-10-08"]
    );
    let missed_to = recipients_of(&app, lead, "MISSED 2026-10-08").await;
    assert!(
        missed_to.contains(&head),
        "missed → the unit head: {missed_to:?}"
    );
    assert!(
        notices(&app)
            .await
            .iter()
            .all(|(a, k, _, _)| *a != lead || k != "COLOUR"),
        "a missed report is not a deadline notice"
    );

    // A report on 10-09 10:00 starts the next cycle: 10-16, a Friday.
    ok(
        &app,
        &d.housing_staff,
        "mutation($input: ReportProgressInput!) { reportProgress(input: $input) { report { id } } }",
        json!({ "itemId": item["id"], "body": "已完成12部电梯的方案征询" }),
    )
    .await;
    sweep_at(&app, &d, shanghai(2026, 10, 15, 8, 30)).await;
    sweep_at(&app, &d, shanghai(2026, 10, 15, 14, 0)).await;
    assert_eq!(
        progress(notices(&app).await),
        ["DUE 2026-10-08", "DUE 2026-10-16", "MISSED 2026-10-08"]
    );

    // The same cycle in working days.
    let working = ok(
        &app,
        &d.supervisor,
        &m("registerItem", "RegisterItemInput", "item { reportCycleDays reportCycleUnit }"),
        json!({ "title": "背街小巷整治", "requirements": "每5个工作日报送进展", "sourceKind": "MEETING_DECISION",
                "deadline": "30个工作日", "reportCycleDays": 5, "reportCycleUnit": "WORKING_DAYS" }),
    )
    .await;
    assert_eq!(working["item"]["reportCycleUnit"], "WORKING_DAYS");
}

on_both_backends!(progress_reports_are_reminded_once_per_cycle_on_working_days);

/// A relay that accepts the connection and then never answers (lettre's own timeout covers
/// each read, not the whole conversation): the try ends at the configured limit, counts as
/// transient, and the message goes at the next try.
#[tokio::test]
async fn a_relay_that_never_answers_is_timed_out_and_retried() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp_and(Backend::Sqlite, &smtp, |s| {
        s.smtp_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "城中村消防隐患整治").await;
    smtp.stall_next(1);
    let started = std::time::Instant::now();
    let stalled = sender(&app).deliver_due(10).await.expect("deliver");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "bounded by the limit"
    );
    assert_eq!((stalled.sent, stalled.retried), (0, 1), "{stalled:?}");
    let waiting = outbox_rows(&app).await;
    assert!(waiting.iter().all(|m| m.status == "PENDING"));
    assert!(
        waiting.iter().any(|m| m
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("未完成应答")),
        "{waiting:?}"
    );
    app.clock.advance(chrono::Duration::minutes(2));
    let later = sender(&app).deliver_due(10).await.expect("deliver");
    assert_eq!(later.sent, 2, "{later:?}");
}

/// A relay that refuses us (530: our login or rights) is an outage, not a verdict on the
/// message: nothing turns FAILED while the credentials are fixed.
#[tokio::test]
async fn a_relay_refusing_our_login_is_retried_not_failed() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(Backend::Sqlite, &smtp).await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "违规占道经营整治").await;
    smtp.refuse_sender(true);
    let refused = sender(&app).deliver_due(10).await.expect("deliver");
    assert_eq!((refused.sent, refused.retried, refused.failed), (0, 1, 0));
    let rows = outbox_rows(&app).await;
    assert!(rows.iter().all(|m| m.status == "PENDING"), "{rows:?}");
    assert!(rows.iter().any(|m| {
        m.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("拒绝登录或发信权限")
    }));
    smtp.refuse_sender(false);
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(sender(&app).deliver_due(10).await.expect("deliver").sent, 2);
}

/// Notices a sweep wrote but did not mail (it died in between) are mailed by the next
/// digest only if they still hold: a 签收提醒 for an assignment signed since is skipped.
async fn leftover_notices_are_mailed_only_if_still_true(backend: Backend) {
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_with(settings_for(backend).await).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "冬季供暖保障").await;
    let (lead, co) = (
        crate::helpers::row_id(&assigned["assignments"][0]["id"]),
        crate::helpers::row_id(&assigned["assignments"][1]["id"]),
    );
    let item_id = crate::helpers::row_id(&assigned["id"]);
    let before = outbox_rows(&app).await.len();
    for (assignment, unit, kind, level) in [
        (lead, d.housing, "NOT_SIGNED", "REMINDER"),
        (co, d.urban, "COLOUR", "BLUE"),
    ] {
        entity::notice::ActiveModel {
            item_id: Set(item_id),
            assignment_id: Set(assignment),
            unit_id: Set(unit),
            kind: Set(kind.into()),
            level: Set(level.into()),
            created_at: Set(app.clock.now()),
            state: Set("DIGEST".into()),
            reason: Set(Some("交办后超过1个工作日仍未签收".into())),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("notice");
    }
    // The lead unit signs before the next digest.
    ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;
    let mailed = sweep::digest_leftovers(&app.state.sweeper(), app.clock.now())
        .await
        .expect("digest");
    assert_eq!(mailed, 1, "only the co-unit's 临期提醒 still holds");
    let new: Vec<_> = outbox_rows(&app).await.into_iter().skip(before).collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].recipient, "cgj@example.gov.cn");
    let states: Vec<(String, String)> = notices(&app)
        .await
        .into_iter()
        .filter(|(_, k, l, _)| k == "NOT_SIGNED" || l == "BLUE")
        .map(|(_, _, l, s)| (l, s))
        .collect();
    assert_eq!(
        states,
        [
            ("REMINDER".to_string(), "SKIPPED".to_string()),
            ("BLUE".to_string(), "MAILED".to_string())
        ]
    );
}

on_both_backends!(leftover_notices_are_mailed_only_if_still_true);

/// A notice another writer put on record between the sweep's reading and its writing (here a
/// trigger writes it just before the sweep's own row) is neither written twice nor mailed:
/// on PostgreSQL the sweep's `COPY` meets the unique key and everything is written again as
/// statements that skip it; on SQLite those statements are the only way. The other notices
/// of the sweep are written, audited and mailed as usual.
async fn a_notice_on_record_meanwhile_is_not_written_or_mailed_twice(backend: Backend) {
    on_record_meanwhile(backend, sweep::NOTICES_PER_PART).await;
}

/// The same with a transaction per notice: the part that meets the notice on record starts
/// over with statements; the other part is committed with its mail as usual.
async fn a_notice_on_record_meanwhile_in_a_later_part(backend: Backend) {
    on_record_meanwhile(backend, 1).await;
}

async fn on_record_meanwhile(backend: Backend, notices_per_part: usize) {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_with(settings_for(backend).await).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "河道汛后清淤").await;
    let item_id = crate::helpers::row_id(&assigned["id"]);
    let (lead, co) = (
        crate::helpers::row_id(&assigned["assignments"][0]["id"]),
        crate::helpers::row_id(&assigned["assignments"][1]["id"]),
    );
    let meanwhile = "另一写入方已记录";
    let trigger = match backend {
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION put_on_record() RETURNS trigger AS $$ BEGIN \
                   IF pg_trigger_depth() = 1 AND NEW.assignment_id = {lead} AND NEW.kind = 'COLOUR' AND NEW.level = 'RED' THEN \
                     INSERT INTO notice (item_id, assignment_id, unit_id, kind, level, created_at, state, reason) \
                     VALUES (NEW.item_id, NEW.assignment_id, NEW.unit_id, NEW.kind, NEW.level, NEW.created_at, 'MAILED', '{meanwhile}') \
                     ON CONFLICT DO NOTHING; \
                   END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER put_on_record BEFORE INSERT ON notice FOR EACH ROW EXECUTE FUNCTION put_on_record()".into(),
        ],
        Backend::Sqlite | Backend::SqliteFile => vec![format!(
            "CREATE TRIGGER put_on_record BEFORE INSERT ON notice \
             WHEN NEW.assignment_id = {lead} AND NEW.kind = 'COLOUR' AND NEW.level = 'RED' BEGIN \
               INSERT OR IGNORE INTO notice (item_id, assignment_id, unit_id, kind, level, created_at, state, reason) \
               VALUES (NEW.item_id, NEW.assignment_id, NEW.unit_id, NEW.kind, NEW.level, NEW.created_at, 'MAILED', '{meanwhile}'); \
             END"
        )],
    };
    let db = &app.state.db;
    for sql in trigger {
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("trigger");
    }
    let before = outbox_rows(&app).await.len();
    // 10-14: both units more than three working days overdue, both RED.
    let at = shanghai(2026, 10, 14, 8, 30);
    app.clock.set(at);
    let mut sweeper = app.state.sweeper();
    sweeper.notices_per_part = notices_per_part;
    let report = sweep::run_sweep(&sweeper, "test", at).await.expect("sweep");
    assert_eq!(
        report.notices, 1,
        "only the co-unit's RED is the sweep's: {report:?}"
    );

    let red: Vec<entity::notice::Model> = entity::notice::Entity::find()
        .filter(entity::notice::Column::Level.eq("RED"))
        .all(db)
        .await
        .expect("notices");
    let reasons: BTreeMap<i64, Option<String>> = red
        .iter()
        .map(|n| (n.assignment_id, n.reason.clone()))
        .collect();
    assert_eq!(red.len(), 2, "one RED each, none twice: {red:?}");
    assert_eq!(
        reasons[&lead].as_deref(),
        Some(meanwhile),
        "the one on record stays"
    );
    assert!(
        reasons[&co].as_deref().is_some_and(|r| r.contains("逾期")),
        "{reasons:?}"
    );
    assert!(red.iter().all(|n| n.state == "MAILED"));
    // One audit entry: the sweep's notice, not the one it did not write.
    let audited: Vec<Option<i64>> = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::ItemId.eq(item_id))
        .filter(entity::audit_event::Column::Action.eq("NOTICE"))
        .all(db)
        .await
        .expect("audit")
        .into_iter()
        .filter(|a| a.reason.as_deref() == Some("红色督办"))
        .map(|a| a.assignment_id)
        .collect();
    assert_eq!(audited, [Some(co)]);
    // The mails name the co-unit's part only: its head hears, the lead unit's head does not.
    let mails: Vec<_> = outbox_rows(&app).await.into_iter().skip(before).collect();
    let recipients: Vec<&str> = mails.iter().map(|m| m.recipient.as_str()).collect();
    assert!(
        recipients.contains(&format!("unit_head-{}@example.gov.cn", d.urban).as_str()),
        "{recipients:?}"
    );
    assert!(
        !recipients.contains(&format!("unit_head-{}@example.gov.cn", d.housing).as_str()),
        "{recipients:?}"
    );
    for mail in &mails {
        assert!(
            mail.body_text.contains("区城市管理局"),
            "{}",
            mail.body_text
        );
        assert!(
            !mail.body_text.contains("区住房和城乡建设局"),
            "{}",
            mail.body_text
        );
        assert!(
            mail.body_text.contains("河道汛后清淤"),
            "the item's title is listed"
        );
    }
}

on_both_backends!(
    a_notice_on_record_meanwhile_is_not_written_or_mailed_twice,
    a_notice_on_record_meanwhile_in_a_later_part
);

/// A file, as the service runs: the sweep's rows come from the file reader, its writes go
/// through the pool.
#[tokio::test]
async fn a_notice_on_record_meanwhile_is_not_written_or_mailed_twice_in_a_file() {
    a_notice_on_record_meanwhile_is_not_written_or_mailed_twice(Backend::SqliteFile).await;
}

/// A first sweep over a backlog larger than a part commits it in parts, each with its own
/// digests: every notice is on record once, audited, and in a mail; a person gets one
/// digest per part at most; the next sweep finds nothing left.
async fn a_first_sweep_in_parts_mails_every_notice_once(backend: Backend) {
    let (app, now, before) = demo_before_its_first_sweep(backend).await;
    let notices_before: Vec<i64> = entity::notice::Entity::find()
        .all(&app.state.db)
        .await
        .expect("notices")
        .iter()
        .map(|n| n.id)
        .collect();
    let mut sweeper = app.state.sweeper();
    sweeper.notices_per_part = 10;
    let report = sweep::run_sweep(&sweeper, "test", now)
        .await
        .expect("sweep");
    let parts = report.notices.div_ceil(10);
    assert!(
        parts >= 3,
        "the demo's first sweep takes several parts: {report:?}"
    );
    let written: Vec<entity::notice::Model> = entity::notice::Entity::find()
        .filter(entity::notice::Column::State.eq("MAILED"))
        .all(&app.state.db)
        .await
        .expect("notices")
        .into_iter()
        .filter(|n| !notices_before.contains(&n.id))
        .collect();
    assert_eq!(written.len(), report.notices);
    let audited = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.eq("NOTICE"))
        .all(&app.state.db)
        .await
        .expect("audit")
        .len();
    assert_eq!(audited, report.notices, "one audit entry a notice");
    let (mails, per_person) = sweep_mails(&app, &before, report.emails).await;
    assert!(
        per_person.values().all(|n| *n <= parts),
        "one digest a part at most: {per_person:?}"
    );
    assert!(
        per_person.values().any(|n| *n > 1),
        "someone hears in more than one part: {per_person:?}"
    );
    let items: HashMap<i64, String> = entity::item::Entity::find()
        .all(&app.state.db)
        .await
        .expect("items")
        .into_iter()
        .map(|i| (i.id, i.serial))
        .collect();
    for notice in &written {
        let serial = &items[&notice.item_id];
        assert!(
            mails.iter().any(|m| m.body_text.contains(serial.as_str())),
            "{serial} is in a mail"
        );
    }
    let again = sweep::run_sweep(&sweeper, "test", now)
        .await
        .expect("sweep");
    assert_eq!((again.notices, again.emails), (0, 0), "at most once");
}

on_both_backends!(a_first_sweep_in_parts_mails_every_notice_once);
