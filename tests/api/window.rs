//! Digests, not floods (issue 34, item 2; docs/rules.md §4, "Held for a window"): a verb's
//! messages are held for the window, and what arises meanwhile for the same reader or channel
//! joins them as one message grouped by kind; after the window a new message starts. On
//! SQLite and on PostgreSQL.

use entity::outbox;
use serde_json::json;

use crate::channels::rows;
use crate::district::{District, assigned_item, ok};
use crate::helpers::{Backend, settings_for, spawn_with};
use crate::providers;

on_both_backends!(what_arises_within_the_window_goes_as_one_message);

const URGE: &str =
    "mutation($input: UrgeItemInput!) { urgeItem(input: $input) { unitsTold item { stage } } }";
const LEAD: &str = "zjj@example.gov.cn";

async fn what_arises_within_the_window_goes_as_one_message(backend: Backend) {
    let mut settings = settings_for(backend).await;
    settings.notice_window = std::time::Duration::from_secs(120);
    let app = spawn_with(settings).await;
    let (base, providers) = providers::start().await;
    let d = District::create(&app).await;
    ok(
        &app,
        &d.admin,
        "mutation($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }",
        json!({ "kind": "WECOM_ROBOT", "unitId": d.housing,
                "address": format!("{base}/cgi-bin/webhook/send?key=window") }),
    )
    .await;
    let start = app.clock.now();

    // 交办 of two items and a 催办, a minute apart: one mail to the lead's address, one robot
    // message, listing all of them, due two minutes after the first.
    let first = assigned_item(&app, &d, "关于整治餐饮油烟扰民的批示").await;
    app.clock.advance(chrono::Duration::seconds(40));
    assigned_item(&app, &d, "关于背街小巷路灯修复的批示").await;
    app.clock.advance(chrono::Duration::seconds(40));
    ok(
        &app,
        &d.supervisor,
        URGE,
        json!({ "itemId": first["id"], "message": "请于本周五前报送整治进展", "insist": false }),
    )
    .await;
    let held = rows(&app).await;
    let to_lead: Vec<&outbox::Model> = held.iter().filter(|r| r.recipient == LEAD).collect();
    assert_eq!(to_lead.len(), 1, "{to_lead:#?}");
    let mail = to_lead[0];
    assert_eq!(mail.next_attempt_at, start + chrono::Duration::seconds(120));
    assert!(
        mail.subject.contains("催办通知1项") && mail.subject.contains("督查通知2项"),
        "{}",
        mail.subject
    );
    for said in [
        "关于整治餐饮油烟扰民的批示",
        "关于背街小巷路灯修复的批示",
        "请于本周五前报送整治进展",
    ] {
        assert!(
            mail.body_text.contains(said),
            "{said} in {}",
            mail.body_text
        );
    }
    let robot: Vec<&outbox::Model> = held.iter().filter(|r| r.channel == "WECOM_ROBOT").collect();
    assert_eq!(robot.len(), 1, "{robot:#?}");

    // Not before its time; then once.
    app.state.sender().deliver_due(100).await.expect("delivery");
    assert!(rows(&app).await.iter().all(|r| r.status == "PENDING"));
    assert!(providers.of("wecom").is_empty());
    app.clock.advance(chrono::Duration::seconds(41));
    app.state.sender().deliver_due(100).await.expect("delivery");
    let all = rows(&app).await;
    for row in &all {
        // Each message goes when the window of its own first notice ends: the unit's
        // people heard first of the 催办, at 80 s.
        let first_at = if row.recipient.starts_with("unit_") {
            80
        } else {
            0
        };
        assert_eq!(
            row.next_attempt_at,
            start + chrono::Duration::seconds(first_at + 120),
            "{row:?}"
        );
        let due = first_at == 0;
        assert_eq!(row.status == "SENT", due, "{row:?}");
    }
    app.clock.advance(chrono::Duration::seconds(80));
    app.state.sender().deliver_due(100).await.expect("delivery");
    assert!(rows(&app).await.iter().all(|r| r.status == "SENT"));
    let got = providers.of("wecom");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].body.contains("关于背街小巷路灯修复的批示") && got[0].body.contains("催办通知"),
        "{}",
        got[0].body
    );

    // After the window, a new message starts.
    ok(
        &app,
        &d.supervisor,
        URGE,
        json!({ "itemId": first["id"], "message": "再次催办", "insist": true }),
    )
    .await;
    let all = rows(&app).await;
    let pending: Vec<&outbox::Model> = all.iter().filter(|r| r.status == "PENDING").collect();
    assert!(pending.iter().any(|r| r.recipient == LEAD), "{pending:#?}");
    assert!(
        pending
            .iter()
            .all(|r| !r.body_text.contains("关于背街小巷路灯修复的批示"))
    );
}
