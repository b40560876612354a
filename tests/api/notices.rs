//! The reminder ladder and email delivery: the sweep walks items across National Day 2026
//! and its 调休 Saturday, each notice goes out once, through lettre's SMTP transport to a
//! real SMTP server on loopback; a killed delivery is resumed, a refusing relay retried.

use ducha_server::config::{SmtpSettings, SmtpTls};
use ducha_server::service::{outbox, sweep};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::district::{District, assigned_item, item_mutation, ok};
use crate::helpers::{Backend, TestApp, settings_for, shanghai, spawn_with};
use crate::smtp::SmtpServer;

async fn spawn_with_smtp(backend: Backend, smtp: &SmtpServer) -> TestApp {
    let mut settings = settings_for(backend).await;
    settings.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp.port(),
        tls: SmtpTls::None,
        username: None,
        password: None,
    });
    settings.sweep_times = vec![chrono::NaiveTime::from_hms_opt(8, 30, 0).expect("time")];
    spawn_with(settings).await
}

async fn notices(app: &TestApp) -> Vec<(i64, String, String)> {
    let mut rows: Vec<(i64, String, String)> = entity::notice::Entity::find()
        .all(&app.state.db)
        .await
        .expect("notices")
        .into_iter()
        .map(|n| (n.assignment_id, n.kind, n.level))
        .collect();
    rows.sort();
    rows
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
            "mutation { runSweep { ran notices emails } }",
            json!({}),
        )
        .await;
    body["data"]["runSweep"].clone()
}

async fn the_ladder_runs_across_national_day_and_each_notice_goes_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp).await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "国庆期间景区安全保障").await;
    let (lead, co) = (
        assigned["assignments"][0]["id"].as_i64().expect("id"),
        assigned["assignments"][1]["id"].as_i64().expect("id"),
    );
    ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;

    let first = sweep_at(&app, &d, shanghai(2026, 9, 29, 9, 30)).await;
    assert_eq!(
        first,
        json!({ "ran": true, "notices": 2, "emails": 2 }),
        "督查通知 to each unit"
    );
    assert_eq!(
        sweep_at(&app, &d, shanghai(2026, 9, 29, 14, 0)).await["notices"],
        0,
        "a re-run sends nothing"
    );
    // 09-30: the co-unit has not signed after a working day, and its due (10-08) is the next
    // working day.
    sweep_at(&app, &d, shanghai(2026, 9, 30, 8, 30)).await;
    // 10-08: the lead unit's due (10-09) is now one working day away.
    sweep_at(&app, &d, shanghai(2026, 10, 8, 8, 30)).await;
    // 10-10, the 调休 Saturday: both overdue by a working day.
    sweep_at(&app, &d, shanghai(2026, 10, 10, 8, 30)).await;
    // 10-14: more than three working days overdue.
    sweep_at(&app, &d, shanghai(2026, 10, 14, 8, 30)).await;
    sweep_at(&app, &d, shanghai(2026, 10, 14, 14, 0)).await;
    let expected: Vec<(i64, String, String)> = [
        (lead, "ASSIGNMENT", "NOTICE"),
        (lead, "COLOUR", "BLUE"),
        (lead, "COLOUR", "RED"),
        (lead, "COLOUR", "YELLOW"),
        (co, "ASSIGNMENT", "NOTICE"),
        (co, "COLOUR", "BLUE"),
        (co, "COLOUR", "RED"),
        (co, "COLOUR", "YELLOW"),
        (co, "NOT_SIGNED", "REMINDER"),
    ]
    .into_iter()
    .map(|(a, k, l)| (a, k.to_string(), l.to_string()))
    .collect();
    assert_eq!(notices(&app).await, expected);

    let delivered = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation { deliverOutbox { sent retried failed } }",
            json!({}),
        )
        .await;
    let sent = delivered["data"]["deliverOutbox"]["sent"]
        .as_i64()
        .expect("sent");
    let received = smtp.received();
    assert_eq!(received.len() as i64, sent, "{delivered}");
    if std::env::var("DEBUG_SMTP").is_ok() {
        eprintln!("{}", received[0].data.chars().take(800).collect::<String>());
    }
    let red: Vec<_> = received
        .iter()
        .filter(|m| m.subject().contains("红色督办"))
        .collect();
    assert!(
        !red.is_empty(),
        "subjects: {:?}",
        received.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    let red_recipients: Vec<&str> = red
        .iter()
        .flat_map(|m| m.recipients.iter().map(String::as_str))
        .collect();
    assert!(
        red_recipients.contains(&"leader-0@example.gov.cn"),
        "RED goes to the 分管 leader: {red_recipients:?}"
    );
    assert!(
        red_recipients.contains(&"supervisor-0@example.gov.cn"),
        "and to the office"
    );
    assert!(
        red_recipients.contains(&format!("unit_head-{}@example.gov.cn", d.housing).as_str()),
        "and to the unit head"
    );
    let serial = assigned["serial"].as_str().expect("serial");
    assert!(red[0].subject().contains(serial));
    assert!(
        red[0].data.contains("multipart/alternative"),
        "HTML and plain text"
    );
    let again = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation { deliverOutbox { sent } }",
            json!({}),
        )
        .await;
    assert_eq!(
        again["data"]["deliverOutbox"]["sent"], 0,
        "nothing is sent twice"
    );
    assert_eq!(smtp.received().len(), received.len());
}

#[tokio::test]
async fn the_ladder_runs_across_national_day_and_each_notice_goes_once_on_sqlite() {
    the_ladder_runs_across_national_day_and_each_notice_goes_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_ladder_runs_across_national_day_and_each_notice_goes_once_on_postgres() {
    the_ladder_runs_across_national_day_and_each_notice_goes_once(Backend::Postgres).await;
}

async fn a_killed_delivery_resumes_and_a_refusing_relay_is_retried(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(backend, &smtp).await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "校园周边交通秩序整治").await;
    app.clock.set(shanghai(2026, 9, 29, 9, 30));
    let report = sweep::run_sweep(&app.state, "instance-a", app.clock.now())
        .await
        .expect("sweep");
    assert_eq!(report.emails, 2);

    // The relay hangs in DATA on the first message; the sender is killed there.
    smtp.hang_next(1);
    let state = app.state.clone();
    let now = app.clock.now();
    let killed = tokio::spawn(async move {
        outbox::deliver_pending(&state.db, &state.mailer, &state.mail_from, now, 10).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    killed.abort();
    let _ = killed.await;
    assert!(smtp.received().is_empty(), "nothing completed");
    let pending = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::Status.eq(outbox::PENDING))
        .all(&app.state.db)
        .await
        .expect("outbox");
    assert_eq!(pending.len(), 2, "nothing lost");

    // Restarted six minutes later (past the claim): the relay now refuses once, then works.
    app.clock.advance(chrono::Duration::minutes(6));
    smtp.refuse_next(1);
    let first = outbox::deliver_pending(
        &app.state.db,
        &app.state.mailer,
        &app.state.mail_from,
        app.clock.now(),
        10,
    )
    .await
    .expect("deliver");
    assert_eq!((first.sent, first.retried), (1, 1));
    let listed = app
        .graphql_as(
            Some(&d.supervisor),
            "{ outbox(status: \"PENDING\") { attempts lastError nextAttemptAt } }",
            json!({}),
        )
        .await;
    let waiting = &listed["data"]["outbox"][0];
    assert!(
        waiting["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("451"),
        "{listed}"
    );
    // Not before its backoff…
    let early = outbox::deliver_pending(
        &app.state.db,
        &app.state.mailer,
        &app.state.mail_from,
        app.clock.now(),
        10,
    )
    .await
    .expect("deliver");
    assert_eq!(early.sent, 0);
    // …and an hour later it goes.
    app.clock.advance(chrono::Duration::hours(1));
    let later = outbox::deliver_pending(
        &app.state.db,
        &app.state.mailer,
        &app.state.mail_from,
        app.clock.now(),
        10,
    )
    .await
    .expect("deliver");
    assert_eq!(later.sent, 1);
    let received = smtp.received();
    assert_eq!(received.len(), 2, "each message exactly once");
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.recipients.clone()).collect();
    recipients.sort();
    assert_eq!(recipients, ["cgj@example.gov.cn", "zjj@example.gov.cn"]);
}

#[tokio::test]
async fn a_killed_delivery_resumes_and_a_refusing_relay_is_retried_on_sqlite() {
    a_killed_delivery_resumes_and_a_refusing_relay_is_retried(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_killed_delivery_resumes_and_a_refusing_relay_is_retried_on_postgres() {
    a_killed_delivery_resumes_and_a_refusing_relay_is_retried(Backend::Postgres).await;
}

#[tokio::test]
async fn only_one_instance_holds_the_sweep_lease_and_sweeps_run_on_working_days_only() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_smtp(Backend::Postgres, &smtp).await;
    let now = shanghai(2026, 10, 10, 8, 30);
    let until = now + chrono::Duration::minutes(10);
    assert!(
        sweep::acquire_lease(&app.state.db, "test-lease", "a", now, until)
            .await
            .expect("lease")
    );
    assert!(
        !sweep::acquire_lease(&app.state.db, "test-lease", "b", now, until)
            .await
            .expect("lease"),
        "held by a"
    );
    assert!(
        sweep::acquire_lease(&app.state.db, "test-lease", "a", now, until)
            .await
            .expect("lease"),
        "a renews"
    );
    let later = until + chrono::Duration::seconds(1);
    assert!(
        sweep::acquire_lease(
            &app.state.db,
            "test-lease",
            "b",
            later,
            later + chrono::Duration::minutes(10)
        )
        .await
        .expect("lease"),
        "expired: b takes it"
    );

    // 08:30 on the 调休 Saturday is a sweep; on a holiday, a Sunday, or at 08:31 it is not.
    let due = |at| ducha_server::jobs::sweep_due(&app.state, at);
    assert!(due(shanghai(2026, 10, 10, 8, 30)));
    assert!(!due(shanghai(2026, 10, 1, 8, 30)), "National Day");
    assert!(!due(shanghai(2026, 10, 11, 8, 30)), "Sunday");
    assert!(!due(shanghai(2026, 10, 12, 8, 31)));
    assert!(due(shanghai(2026, 10, 12, 8, 30)));
}

async fn recipients_of(app: &TestApp, assignment: i64, kind: &str, level: &str) -> Vec<String> {
    let Some(sent) = entity::notice::Entity::find()
        .filter(entity::notice::Column::AssignmentId.eq(assignment))
        .filter(entity::notice::Column::Kind.eq(kind))
        .filter(entity::notice::Column::Level.eq(level))
        .one(&app.state.db)
        .await
        .expect("notice")
    else {
        return Vec::new();
    };
    let mut to: Vec<String> = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::NoticeId.eq(sent.id))
        .all(&app.state.db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|m| m.recipient)
        .collect();
    to.sort();
    to
}

/// design.md §5: "progress report due / missed → handler / unit head", once per cycle; a
/// report starts the next cycle, which is reminded again. A missed report does not use up
/// the one-off colour notices that a real overdue needs later.
async fn progress_reports_are_reminded_once_per_cycle(backend: Backend) {
    let app = spawn_with(settings_for(backend).await).await;
    let d = District::create(&app).await;
    app.clock.set(shanghai(2026, 10, 12, 9, 0));
    let registered = ok(
        &app,
        &d.supervisor,
        &crate::district::m("registerItem", "RegisterItemInput", "item { id version }"),
        json!({ "title": "老旧小区加装电梯推进", "requirements": "每周报送进展，30个工作日内办结",
                "sourceKind": "MEETING_DECISION", "deadline": "30个工作日", "reportCycleDays": 7 }),
    )
    .await;
    let item = &registered["item"];
    let assigned = ok(
        &app,
        &d.supervisor,
        &item_mutation("assignItem", "AssignItemInput"),
        json!({ "itemId": item["id"], "version": item["version"], "leadUnitId": d.housing, "coUnitIds": [] }),
    )
    .await["item"]
        .clone();
    let lead = assigned["assignments"][0]["id"].as_i64().expect("id");
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;
    assert_eq!(signed["item"]["stage"], "IN_PROGRESS");

    // The first report is due 10-19 09:00 (7 days after assignment); 10-16 is one working day
    // before it.
    sweep_at(&app, &d, shanghai(2026, 10, 15, 8, 30)).await;
    let progress = |rows: Vec<(i64, String, String)>| -> Vec<String> {
        rows.into_iter()
            .filter(|(a, k, _)| *a == lead && k == "PROGRESS")
            .map(|(_, _, l)| l)
            .collect()
    };
    assert!(progress(notices(&app).await).is_empty(), "not yet due");
    sweep_at(&app, &d, shanghai(2026, 10, 16, 8, 30)).await;
    sweep_at(&app, &d, shanghai(2026, 10, 16, 14, 0)).await;
    assert_eq!(progress(notices(&app).await), ["DUE 2026-10-19"]);
    let staff = format!("unit_staff-{}@example.gov.cn", d.housing);
    let head = format!("unit_head-{}@example.gov.cn", d.housing);
    let due_to = recipients_of(&app, lead, "PROGRESS", "DUE 2026-10-19").await;
    assert!(
        due_to.contains(&staff) && !due_to.contains(&head),
        "due → the handler: {due_to:?}"
    );

    sweep_at(&app, &d, shanghai(2026, 10, 20, 8, 30)).await;
    assert_eq!(
        progress(notices(&app).await),
        ["DUE 2026-10-19", "MISSED 2026-10-19"]
    );
    let missed_to = recipients_of(&app, lead, "PROGRESS", "MISSED 2026-10-19").await;
    assert!(
        missed_to.contains(&head),
        "missed → the unit head: {missed_to:?}"
    );
    let colour_rungs: Vec<_> = notices(&app)
        .await
        .into_iter()
        .filter(|(a, k, _)| *a == lead && k == "COLOUR")
        .collect();
    assert!(
        colour_rungs.is_empty(),
        "a missed report is not a deadline notice: {colour_rungs:?}"
    );

    // A report on 10-20 10:00 starts the next cycle: due 10-27 10:00.
    ok(
        &app,
        &d.housing_staff,
        "mutation($input: ReportProgressInput!) { reportProgress(input: $input) { report { id } } }",
        json!({ "itemId": item["id"], "body": "已完成12部电梯的方案征询" }),
    )
    .await;
    sweep_at(&app, &d, shanghai(2026, 10, 26, 8, 30)).await;
    sweep_at(&app, &d, shanghai(2026, 10, 26, 14, 0)).await;
    assert_eq!(
        progress(notices(&app).await),
        ["DUE 2026-10-19", "DUE 2026-10-27", "MISSED 2026-10-19"]
    );
}

#[tokio::test]
async fn progress_reports_are_reminded_once_per_cycle_on_sqlite() {
    progress_reports_are_reminded_once_per_cycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn progress_reports_are_reminded_once_per_cycle_on_postgres() {
    progress_reports_are_reminded_once_per_cycle(Backend::Postgres).await;
}
