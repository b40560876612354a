//! Channels besides mail (issue 34, items 4–6; docs/rules.md §4, "Channels"): the same
//! notices reach a unit's 企业微信 group, the office's 钉钉 group and webhook, and a person's
//! phone, each request in its provider's shape and signed as it requires (checked by the
//! local providers in `providers`); "too many" is a wait, a refusal FAILED with the
//! provider's code, an outage retried, one channel's trouble no other's; robots and SMS wait
//! for the working morning; secrets never come back out.

use entity::{audit_event, channel, outbox};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::district::{District, assigned_item, feed, item_mutation, m, ok, person, refused};
use crate::helpers::{Backend, TestApp, shanghai, spawn_app_on};
use crate::providers::{self, Script};

on_both_backends!(notices_reach_robots_webhooks_and_phones);

const CREATE: &str = "mutation($input: CreateChannelInput!) { createChannel(input: $input) {
  channel { id kind name address hasSecret fromLevel settings } generatedSecret } }";
const URGE: &str =
    "mutation($input: UrgeItemInput!) { urgeItem(input: $input) { unitsTold item { stage } } }";

/// The outbox, oldest first.
pub async fn rows(app: &TestApp) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .order_by_asc(outbox::Column::Id)
        .all(&app.state.db)
        .await
        .expect("outbox")
}

async fn deliver(app: &TestApp) {
    app.state
        .sender()
        .deliver_due(10_000)
        .await
        .expect("delivery runs");
}

fn urge(item: &Value, line: &str) -> Value {
    json!({ "itemId": item["id"], "message": line, "insist": true })
}

/// A message's status and tries, and the words its error holds.
fn expect_row(row: &outbox::Model, status: &str, attempts: i32, said: &[&str]) {
    assert_eq!(
        (row.status.as_str(), row.attempts),
        (status, attempts),
        "{row:?}"
    );
    let error = row.last_error.as_deref().unwrap_or_default();
    assert!(
        said.iter().all(|s| error.contains(s)),
        "{said:?} in {row:?}"
    );
}

/// Registers a channel as the administrator; its `createChannel` payload.
async fn channel(app: &TestApp, d: &District, input: Value) -> Value {
    ok(app, &d.admin, CREATE, input).await
}

/// What people see of the channels, over the API: it must never hold a secret.
async fn listed(app: &TestApp, token: &str) -> String {
    let body = app
        .graphql_as(
            Some(token),
            "{ channels { id kind unitId personId name address hasSecret settings fromLevel enabled } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["channels"].to_string()
}

async fn notices_reach_robots_webhooks_and_phones(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let (base, providers) = providers::start().await;
    let d = District::create(&app).await;
    let (staff_id, _) = person(&app, &d.admin, "吴科员", "UNIT_STAFF", Some(d.urban)).await;
    // A head without a mail address: a phone reaches them all the same.
    let unaddressed = ok(
        &app,
        &d.admin,
        "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
        json!({ "name": "郑副局长", "role": "UNIT_HEAD", "unitId": d.urban }),
    )
    .await;
    let unaddressed_id = crate::helpers::row_id(&unaddressed["person"]["id"]);

    // The address people copy from 企业微信 carries the key: it is kept as the secret.
    let wecom = channel(
        &app,
        &d,
        json!({ "kind": "WECOM_ROBOT", "unitId": d.housing, "name": "住建局督办工作群",
                "address": format!("{base}/cgi-bin/webhook/send?key=wk-housing") }),
    )
    .await;
    assert_eq!(
        wecom["channel"]["address"],
        format!("{base}/cgi-bin/webhook/send")
    );
    assert_eq!(wecom["channel"]["hasSecret"], true);
    providers.secret("dt-office", "SECoffice-sign");
    channel(&app, &d, json!({ "kind": "DINGTALK_ROBOT", "name": "督查室工作群",
                "address": format!("{base}/robot/send?access_token=dt-office"), "secret": "SECoffice-sign" })).await;
    let hook = channel(&app, &d, json!({ "kind": "WEBHOOK", "name": "大数据平台", "address": format!("{base}/hooks/office") })).await;
    let generated = hook["generatedSecret"]
        .as_str()
        .expect("a webhook secret is made and shown once")
        .to_string();
    assert!(generated.starts_with("whsec_"), "{generated}");
    providers.secret("office", &generated);
    channel(&app, &d, json!({ "kind": "SMS_GATEWAY", "address": format!("{base}/sms"), "secret": "Bearer gw-token",
                "authHeader": "Authorization", "successMarker": "\"code\":0" })).await;
    let phone = channel(&app, &d, json!({ "kind": "SMS", "personId": staff_id, "address": "+86 138-0000-0001", "fromLevel": "YELLOW" })).await;
    assert_eq!(phone["channel"]["address"], "138****0001");
    channel(&app, &d, json!({ "kind": "SMS", "personId": unaddressed_id, "address": "13900000002", "fromLevel": "YELLOW" })).await;

    // 交办 (every notice): the lead's group and the office's webhook; 催办 (yellow): also the
    // co-unit's staff member by SMS, who chose yellow and above.
    let item = assigned_item(&app, &d, "关于整治餐饮油烟扰民的批示").await;
    let told = ok(
        &app,
        &d.supervisor,
        URGE,
        urge(&item, "请于本周五前报送整治进展"),
    )
    .await;
    assert_eq!(told["unitsTold"], 2);
    deliver(&app).await;

    let wecom = providers.of("wecom");
    assert_eq!(wecom.len(), 2, "{wecom:?}");
    for got in &wecom {
        assert_eq!(got.query.get("key").map(String::as_str), Some("wk-housing"));
        assert!(got.signed, "a markdown message: {}", got.body);
    }
    let contents: Vec<String> = wecom
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).expect("JSON")["markdown"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        contents
            .iter()
            .any(|c| c.contains("催办通知") && c.contains("关于整治餐饮油烟扰民的批示")),
        "{contents:?}"
    );
    assert!(
        contents.iter().all(|c| c.contains("区住房和城乡建设局")),
        "{contents:?}"
    );

    let hooks = providers.of("webhook");
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let item_id = crate::helpers::row_id(&item["id"]);
    for got in &hooks {
        assert!(got.signed, "signature checks out: {:?}", got.headers);
        assert!(
            got.headers["webhook-id"].starts_with("msg_ducha_"),
            "{:?}",
            got.headers
        );
        let payload: Value = serde_json::from_str(&got.body).expect("JSON");
        assert_eq!(payload["type"], "notices.created");
        assert!(
            payload["data"]["notices"]
                .as_array()
                .expect("notices")
                .iter()
                .all(|n| n["itemId"] == item_id),
            "{payload}"
        );
    }

    let sms = providers.of("gateway");
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(
        sms.iter().all(|r| r.signed),
        "the gateway's auth header: {sms:?}"
    );
    let bodies: Vec<Value> = sms
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("JSON body"))
        .collect();
    let mut phones: Vec<&str> = bodies.iter().filter_map(|b| b["mobile"].as_str()).collect();
    phones.sort_unstable();
    assert_eq!(phones, ["13800000001", "13900000002"]);
    let text = bodies[0]["content"].as_str().expect("content");
    assert!(
        text.starts_with("【督查督办】") && text.contains("催办通知"),
        "{text}"
    );
    assert!(text.chars().count() <= 130, "{text}");

    // The lead's 办结反馈 asks the office to act: the office's 钉钉 group hears, signed.
    assert!(providers.of("dingtalk").is_empty());
    feed(&app, &d, &item).await;
    deliver(&app).await;
    let dingtalk = providers.of("dingtalk");
    assert_eq!(dingtalk.len(), 1, "{dingtalk:?}");
    assert!(
        dingtalk[0].signed,
        "加签 checks out: {:?}",
        dingtalk[0].query
    );
    let message: Value = serde_json::from_str(&dingtalk[0].body).expect("JSON");
    assert_eq!(message["msgtype"], "markdown");
    assert!(
        message["markdown"]["title"]
            .as_str()
            .is_some_and(|t| t.contains("办结反馈待核查")),
        "{message}"
    );

    // The office's webhook takes every notice: the 办结反馈 and the co-unit's part it ended.
    assert_eq!(providers.of("webhook").len(), 3);
    assert!(providers.of("webhook").iter().all(|r| r.signed));

    // Everything went, once; nothing waits or failed.
    let all = rows(&app).await;
    assert!(all.iter().all(|r| r.status == "SENT"), "{all:#?}");
    assert_eq!(all.iter().filter(|r| r.channel != "MAIL").count(), 8);

    // No secret comes back out: not in the list, not in the trail.
    let shown = listed(&app, &d.supervisor).await;
    let trail = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("CREATE_CHANNEL"))
        .all(&app.state.db)
        .await
        .expect("trail");
    assert_eq!(trail.len(), 6);
    let trail =
        serde_json::to_string(&trail.iter().map(|t| &t.details).collect::<Vec<_>>()).expect("json");
    for secret in [
        "wk-housing",
        "SECoffice-sign",
        generated.as_str(),
        "gw-token",
        "13800000001",
        "13900000002",
    ] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
        assert!(!trail.contains(secret), "{secret} in the trail {trail}");
    }
}

/// One channel waits ("too many"), one is refused for good, one is down, one is at its rate;
/// each keeps its own messages back and the rest, mail included, go. Fixed and requeued,
/// they go once.
#[tokio::test]
async fn a_channel_in_trouble_keeps_only_its_own_messages_back() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let (base, providers) = providers::start().await;
    let d = District::create(&app).await;
    let mut ids = std::collections::HashMap::new();
    for (key, rate) in [
        ("busy", None),
        ("bad", None),
        ("down", None),
        ("slow", Some(1)),
    ] {
        let created = channel(&app, &d, json!({ "kind": "WECOM_ROBOT", "unitId": d.housing, "name": key,
                    "address": format!("{base}/cgi-bin/webhook/send?key={key}"), "ratePerMinute": rate })).await;
        ids.insert(key, created["channel"]["id"].as_i64().expect("id"));
    }
    providers.script("busy", Script::TooMany);
    providers.script("bad", Script::Refuse);
    providers.script("down", Script::Down);
    let item = assigned_item(&app, &d, "关于背街小巷路灯修复的批示").await;
    let start = app.clock.now();
    deliver(&app).await;

    let of = |all: &[outbox::Model], key: &str| -> Vec<outbox::Model> {
        all.iter()
            .filter(|r| r.channel_id == Some(ids[key]))
            .cloned()
            .collect()
    };
    let all = rows(&app).await;
    let busy = &of(&all, "busy")[0];
    expect_row(busy, "PENDING", 0, &["45009"]);
    assert_eq!(busy.next_attempt_at, start + chrono::Duration::seconds(60));
    let bad = &of(&all, "bad")[0];
    expect_row(bad, "FAILED", 1, &["93000", "invalid webhook url"]);
    let down = &of(&all, "down")[0];
    expect_row(down, "PENDING", 1, &["502"]);
    assert_eq!(of(&all, "slow")[0].status, "SENT");
    assert!(
        all.iter()
            .filter(|r| r.channel == "MAIL")
            .all(|r| r.status == "SENT"),
        "mail goes whatever the robots do"
    );

    // A second message within the minute: the slow robot's rate (1 a minute) holds it back
    // without trying; the busy one is not asked again before its wait is over.
    let asked_before = providers.of("wecom").len();
    ok(&app, &d.supervisor, URGE, urge(&item, "请加快进度")).await;
    deliver(&app).await;
    let all = rows(&app).await;
    let slow = of(&all, "slow");
    assert_eq!(slow[1].status, "PENDING");
    assert_eq!(slow[1].attempts, 0);
    assert!(
        slow[1]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("每分钟1条")),
        "{:?}",
        slow[1]
    );
    let busy = of(&all, "busy");
    assert!(
        busy.iter()
            .all(|r| r.status == "PENDING" && r.attempts == 0),
        "{busy:?}"
    );
    // Tried now: only the refused robot's new message (the busy, slow and down robots wait).
    assert_eq!(providers.of("wecom").len(), asked_before + 1);

    // The providers recover; two minutes on, every waiting message goes once.
    providers.script("busy", Script::Accept);
    providers.script("down", Script::Accept);
    providers.script("bad", Script::Accept);
    app.clock.advance(chrono::Duration::minutes(2));
    deliver(&app).await;
    let all = rows(&app).await;
    for key in ["busy", "down", "slow"] {
        assert!(
            of(&all, key).iter().all(|r| r.status == "SENT"),
            "{key}: {:?}",
            of(&all, key)
        );
    }
    assert!(of(&all, "bad").iter().all(|r| r.status == "FAILED"));

    // A channel paused by "too many" is asked again at once when the office says deliver now.
    providers.script("busy", Script::TooMany);
    ok(&app, &d.supervisor, URGE, urge(&item, "第三次催办")).await;
    deliver(&app).await;
    assert!(
        of(&rows(&app).await, "busy")
            .iter()
            .any(|r| r.status == "PENDING")
    );
    providers.script("busy", Script::Accept);
    let now = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation { deliverOutbox(retryNow: true) { sent } }",
            json!({}),
        )
        .await;
    assert!(now["errors"].is_null(), "{now}");
    assert!(
        of(&rows(&app).await, "busy")
            .iter()
            .all(|r| r.status == "SENT"),
        "deliver now un-pauses the channel"
    );
    let requeued = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation { requeueOutbox { requeued } }",
            json!({}),
        )
        .await;
    assert_eq!(
        requeued["data"]["requeueOutbox"]["requeued"], 2,
        "{requeued}"
    );
    // The slow robot's third message waits for its minute.
    app.clock.advance(chrono::Duration::minutes(2));
    deliver(&app).await;
    let all = rows(&app).await;
    assert!(all.iter().all(|r| r.status == "SENT"), "{all:#?}");
    let keys: Vec<String> = providers
        .of("wecom")
        .iter()
        .filter_map(|r| r.query.get("key").cloned())
        .collect();
    for key in ["busy", "down", "slow", "bad"] {
        let accepted = keys.iter().filter(|k| *k == key).count();
        assert!(accepted >= 2, "{key} asked {accepted} times");
    }
}

/// Robots and SMS wait for the next working morning at night and on rest days, by the
/// calendar (National Day 2026: back on Thursday 8 October), unless the item is 特急; mail
/// and webhooks go at once.
#[tokio::test]
async fn instant_messages_wait_for_the_working_morning() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let (base, providers) = providers::start().await;
    let d = District::create(&app).await;
    let robot = channel(
        &app,
        &d,
        json!({ "kind": "WECOM_ROBOT", "unitId": d.housing,
                "address": format!("{base}/cgi-bin/webhook/send"), "secret": "night" }),
    )
    .await;
    let robot_id = robot["channel"]["id"].as_i64().expect("id");
    let hook = channel(
        &app,
        &d,
        json!({ "kind": "WEBHOOK", "address": format!("{base}/hooks/night"),
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    )
    .await;
    assert!(
        hook["generatedSecret"].is_null(),
        "a given secret is not made again"
    );
    providers.secret("night", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    app.clock.set(shanghai(2026, 9, 30, 21, 0));
    assigned_item(&app, &d, "关于国庆期间景区安全的批示").await;
    deliver(&app).await;
    let all = rows(&app).await;
    let waiting: Vec<&outbox::Model> = all
        .iter()
        .filter(|r| r.channel_id == Some(robot_id))
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].status, "PENDING");
    assert_eq!(waiting[0].next_attempt_at, shanghai(2026, 10, 8, 8, 30));
    assert!(providers.of("wecom").is_empty(), "not asked at night");
    assert_eq!(providers.of("webhook").len(), 1, "the webhook went at once");
    assert!(providers.of("webhook")[0].signed);

    // 特急: at once, even at night.
    let registered = ok(
        &app,
        &d.supervisor,
        &m("registerItem", "RegisterItemInput", "item { id version }"),
        json!({ "title": "关于暴雨红色预警的紧急批示", "requirements": "立即落实", "sourceKind": "LEADER_INSTRUCTION",
                "urgency": "CRITICAL", "deadline": "1个工作日" }),
    )
    .await;
    ok(
        &app,
        &d.supervisor,
        &item_mutation("assignItem", "AssignItemInput"),
        json!({ "itemId": registered["item"]["id"], "version": registered["item"]["version"],
                "leadUnitId": d.housing }),
    )
    .await;
    deliver(&app).await;
    assert_eq!(providers.of("wecom").len(), 1, "the 特急 item went at once");

    // The working morning comes: the waiting message goes.
    app.clock.set(shanghai(2026, 10, 8, 8, 31));
    deliver(&app).await;
    assert_eq!(providers.of("wecom").len(), 2);
    assert!(rows(&app).await.iter().all(|r| r.status == "SENT"));
}

/// Bad channel descriptions are refused with a clear message and write nothing; only the
/// administrator keeps channels.
#[tokio::test]
async fn a_bad_channel_is_refused_and_nothing_is_written() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let d = District::create(&app).await;
    let (staff_id, _) = person(&app, &d.admin, "吴科员", "UNIT_STAFF", Some(d.urban)).await;
    let robot =
        |address: &str| json!({ "kind": "WECOM_ROBOT", "unitId": d.housing, "address": address });
    for (input, code) in [
        (
            json!({ "kind": "PIGEON", "address": "https://example.gov.cn/" }),
            "BAD_USER_INPUT",
        ),
        (
            robot("https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
            "BAD_USER_INPUT",
        ),
        (robot("ftp://qyapi.weixin.qq.com/?key=1"), "BAD_USER_INPUT"),
        (robot("不是网址"), "BAD_USER_INPUT"),
        (
            json!({ "kind": "SMS", "personId": staff_id, "address": "12345" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "SMS", "unitId": d.housing, "address": "13800000000" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "WECOM_ROBOT", "address": "https://q.example/?key=1", "fromLevel": "PURPLE" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "WECOM_ROBOT", "unitId": 99_999, "address": "https://q.example/?key=1" }),
            "NOT_FOUND",
        ),
        (
            json!({ "kind": "DINGTALK_ROBOT", "address": "https://oapi.dingtalk.com/robot/send?access_token=x" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "SMS_ALIYUN", "secret": "s", "accessKeyId": "id", "address": "" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "SMS_GATEWAY", "address": "https://sms.example/", "bodyTemplate": "{\"to\":\"{phone}\"}" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "WEBHOOK", "address": "https://hooks.example/", "secret": "a\u{0007}b" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "WEBHOOK", "address": "https://hooks.example/", "secret": "abc" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "WEBHOOK", "address": "https://user:pass@hooks.example/" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "WEBHOOK", "address": "https://hooks.example/a\r\nHost: evil" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "DINGTALK_ROBOT", "address": "https://oapi.dingtalk.com/robot/send?access_token=x", "secret": "hello" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "SMS_GATEWAY", "address": "https://sms.example/", "bodyTemplate": "{\"to\":\"{phone}\",\"m\":{text}}" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "SMS_GATEWAY", "address": "https://sms.example/", "authHeader": "X Bad:Header", "secret": "v" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "kind": "WECOM_ROBOT", "address": "https://q.example/?key=1", "ratePerMinute": -1 }),
            "BAD_USER_INPUT",
        ),
    ] {
        assert_eq!(
            refused(&app, Some(&d.admin), CREATE, input.clone()).await,
            code,
            "{input}"
        );
    }
    assert_eq!(
        refused(
            &app,
            Some(&d.housing_head),
            CREATE,
            robot("https://q.example/?key=1")
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        refused(
            &app,
            Some(&d.supervisor),
            CREATE,
            robot("https://q.example/?key=1")
        )
        .await,
        "FORBIDDEN"
    );
    let body = app
        .graphql_as(Some(&d.housing_head), "{ channels { id } }", json!({}))
        .await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");
    assert!(
        channel::Entity::find()
            .all(&app.state.db)
            .await
            .expect("channels")
            .is_empty()
    );
    assert!(
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("CREATE_CHANNEL"))
            .all(&app.state.db)
            .await
            .expect("trail")
            .is_empty()
    );

    // The same robot twice, a second SMS platform: conflicts, the first ones kept.
    ok(
        &app,
        &d.admin,
        CREATE,
        robot("https://q.example/send?key=1"),
    )
    .await;
    assert_eq!(
        refused(
            &app,
            Some(&d.admin),
            CREATE,
            robot("https://q.example/send?key=1")
        )
        .await,
        "CONFLICT"
    );
    // A 钉钉 robot is its access token, in the address or in its own field.
    let dingtalk = |address: &str, token: Option<&str>, sign: &str| json!({ "kind": "DINGTALK_ROBOT", "address": address, "accessToken": token, "secret": sign });
    ok(
        &app,
        &d.admin,
        CREATE,
        dingtalk(
            "https://oapi.dingtalk.com/robot/send?access_token=T1",
            None,
            "SECa",
        ),
    )
    .await;
    assert_eq!(
        refused(
            &app,
            Some(&d.admin),
            CREATE,
            dingtalk("https://oapi.dingtalk.com/robot/send", Some("T1"), "SECb")
        )
        .await,
        "CONFLICT"
    );
    // One number, one person.
    channel(
        &app,
        &d,
        json!({ "kind": "SMS", "personId": staff_id, "address": "13600000006" }),
    )
    .await;
    let (other_id, _) = person(&app, &d.admin, "卫科员", "UNIT_STAFF", Some(d.street)).await;
    assert_eq!(
        refused(
            &app,
            Some(&d.admin),
            CREATE,
            json!({ "kind": "SMS", "personId": other_id, "address": "136 0000 0006" })
        )
        .await,
        "CONFLICT"
    );
    let platform = |url: &str| json!({ "kind": "SMS_GATEWAY", "address": url });
    ok(&app, &d.admin, CREATE, platform("https://sms-a.example/")).await;
    assert_eq!(
        refused(
            &app,
            Some(&d.admin),
            CREATE,
            platform("https://sms-b.example/")
        )
        .await,
        "CONFLICT"
    );
    assert_eq!(
        channel::Entity::find()
            .all(&app.state.db)
            .await
            .expect("channels")
            .len(),
        4
    );
}

/// A receiver that answers nothing for longer than the channel timeout holds only its own
/// message back: another channel's message of the same batch goes meanwhile.
#[tokio::test]
async fn a_slow_receiver_holds_only_its_own_channel_back() {
    let mut settings = crate::helpers::settings_for(Backend::Sqlite).await;
    // The channels' timeout follows the mail timeout (at most 30 s): 2 s here.
    settings.smtp_timeout = std::time::Duration::from_secs(2);
    let app = crate::helpers::spawn_with(settings).await;
    let (base, providers) = providers::start().await;
    let d = District::create(&app).await;
    providers.secret("slow", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    providers.script("slow", Script::Slow);
    channel(
        &app,
        &d,
        json!({ "kind": "WEBHOOK", "address": format!("{base}/hooks/slow"),
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    )
    .await;
    channel(
        &app,
        &d,
        json!({ "kind": "WECOM_ROBOT", "unitId": d.housing,
                "address": format!("{base}/cgi-bin/webhook/send?key=quick") }),
    )
    .await;
    assigned_item(&app, &d, "关于汛期排涝的批示").await;
    let started = std::time::Instant::now();
    deliver(&app).await;
    let quick = providers.of("wecom");
    assert_eq!(quick.len(), 1);
    assert_eq!(providers.of("webhook").len(), 1, "asked once");
    assert!(
        quick[0].at.duration_since(started) < std::time::Duration::from_millis(1_500),
        "the robot was not held up by the webhook: {:?}",
        quick[0].at.duration_since(started)
    );
    let all = rows(&app).await;
    let robot = all
        .iter()
        .find(|r| r.channel == "WECOM_ROBOT")
        .expect("robot row");
    assert_eq!(robot.status, "SENT");
    let hook = all
        .iter()
        .find(|r| r.channel == "WEBHOOK")
        .expect("webhook row");
    expect_row(hook, "PENDING", 1, &["未在限定时间内应答"]);
    assert!(
        all.iter()
            .filter(|r| r.channel == "MAIL")
            .all(|r| r.status == "SENT")
    );
}

/// The administrator keeps channels in the pages: a robot registered by pasting its address
/// (the key never shown again), a test message queued and delivered, the robot stopped; the
/// office reads the page without its forms; a unit's head may not open it.
#[tokio::test]
async fn the_administrator_keeps_channels_in_the_page() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let (base, providers) = providers::start().await;
    let d = District::create(&app).await;
    let (admin, csrf) = crate::web_admin::admin_signed_in(&app).await;
    let (status, page) = admin.page("/admin/channels").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        page.contains("还没有登记通知渠道") && page.contains("添加群机器人或 Webhook"),
        "{page}"
    );

    let address = format!("{base}/cgi-bin/webhook/send?key=page-key-123");
    let unit = format!("unit:{}", d.housing);
    let created = admin
        .post(
            "/admin/channels",
            &[
                ("csrf", &csrf),
                ("action", "create"),
                ("kind", "WECOM_ROBOT"),
                ("owner", &unit),
                ("name", "住建局工作群"),
                ("address", &address),
                ("fromLevel", "ALL"),
            ],
        )
        .await;
    assert_eq!(created.status(), reqwest::StatusCode::OK);
    let page = created.text().await.expect("page");
    assert!(
        page.contains("已登记“住建局工作群”") && page.contains("已设置"),
        "{page}"
    );
    assert!(!page.contains("page-key-123"), "the key is never shown");

    // A bad address is refused beside the form, which keeps what was typed.
    let refused = admin
        .post(
            "/admin/channels",
            &[
                ("csrf", &csrf),
                ("action", "create"),
                ("kind", "WECOM_ROBOT"),
                ("owner", ""),
                ("name", "督查室群"),
                ("address", "qyapi.weixin.qq.com"),
            ],
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("page");
    assert!(
        page.contains("不是有效的网址") && page.contains("督查室群"),
        "{page}"
    );

    let id = channel::Entity::find()
        .one(&app.state.db)
        .await
        .expect("read")
        .expect("one channel")
        .id
        .to_string();
    let tested = admin
        .post(
            "/admin/channels",
            &[("csrf", &csrf), ("action", "test"), ("id", &id)],
        )
        .await;
    assert!(
        tested
            .text()
            .await
            .expect("page")
            .contains("测试消息已排队")
    );
    deliver(&app).await;
    let got = providers.of("wecom");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].query.get("key").map(String::as_str),
        Some("page-key-123")
    );
    assert!(got[0].body.contains("测试消息"), "{}", got[0].body);
    let (_, queue) = admin.page("/admin/mail").await;
    assert!(
        queue.contains("企业微信") && queue.contains("已发"),
        "{queue}"
    );

    let stopped = admin
        .post(
            "/admin/channels",
            &[("csrf", &csrf), ("action", "disable"), ("id", &id)],
        )
        .await;
    assert!(stopped.text().await.expect("page").contains("渠道已停用"));
    let stored = channel::Entity::find()
        .all(&app.state.db)
        .await
        .expect("read");
    assert!(!stored[0].enabled);

    // The office reads, without the forms; a unit's head may not.
    let (office, _) = crate::web_admin::signed_in_as(&app, &d.supervisor).await;
    let (status, page) = office.page("/admin/channels").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        page.contains("住建局工作群") && !page.contains("添加群机器人"),
        "{page}"
    );
    let (head, _) = crate::web_admin::signed_in_as(&app, &d.housing_head).await;
    let (status, _) = head.page("/admin/channels").await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
}

/// Two instances on one PostgreSQL database deliver at once: every channel message reaches
/// its provider exactly once (the claim decides, as for mail).
#[tokio::test]
async fn two_instances_send_each_channel_message_once() {
    let (a, b) = crate::helpers::two_instances_on_postgres().await;
    let (base, providers) = providers::start().await;
    let d = District::create(&a).await;
    providers.secret("both", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    channel(
        &a,
        &d,
        json!({ "kind": "WEBHOOK", "address": format!("{base}/hooks/both"),
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    )
    .await;
    channel(
        &a,
        &d,
        json!({ "kind": "WECOM_ROBOT", "unitId": d.housing, "ratePerMinute": 600,
                "address": format!("{base}/cgi-bin/webhook/send?key=both") }),
    )
    .await;
    for n in 0..12 {
        assigned_item(&a, &d, &format!("关于第{n}项整改任务的批示")).await;
    }
    let (sender_a, sender_b) = (a.state.sender(), b.state.sender());
    let (first, second) = tokio::join!(sender_a.deliver_due(10_000), sender_b.deliver_due(10_000));
    let (first, second) = (first.expect("a delivers"), second.expect("b delivers"));
    let all = rows(&a).await;
    let channel_rows = all.iter().filter(|r| r.channel != "MAIL").count();
    assert_eq!(channel_rows, 24);
    assert!(all.iter().all(|r| r.status == "SENT"), "{all:#?}");
    assert_eq!(
        first.sent + second.sent,
        all.len(),
        "each message sent by one instance"
    );
    let hooks: Vec<String> = providers
        .of("webhook")
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = hooks.iter().collect();
    assert_eq!((hooks.len(), distinct.len()), (12, 12), "{hooks:?}");
    assert_eq!(providers.of("wecom").len(), 12);
}

/// SMS through 阿里云's SendSms: the request is signed over exactly the parameters sent (the
/// provider recomputes it), the number and the text go as the template's variable; flow
/// control is a wait, an illegal number FAILED with 阿里云's own code.
#[tokio::test]
async fn sms_go_through_aliyun_signed() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let (base, providers) = providers::start().await;
    let d = District::create(&app).await;
    providers.secret("LTAI-test-id", "aliyun-secret");
    channel(&app, &d, json!({ "kind": "SMS_ALIYUN", "address": format!("{base}/aliyun"), "secret": "aliyun-secret",
                "accessKeyId": "LTAI-test-id", "signName": "区督查室", "templateCode": "SMS_000001",
                "templateParam": "msg" })).await;
    let mut phones = Vec::new();
    for (name, phone) in [
        ("冯科员", "13700000003"),
        ("陈科员", "13700000004"),
        ("褚科员", "13700000005"),
    ] {
        let created = ok(
            &app,
            &d.admin,
            "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
            json!({ "name": name, "role": "UNIT_STAFF", "unitId": d.housing }),
        )
        .await;
        let id = crate::helpers::row_id(&created["person"]["id"]);
        channel(
            &app,
            &d,
            json!({ "kind": "SMS", "personId": id, "address": phone, "fromLevel": "YELLOW" }),
        )
        .await;
        phones.push(phone);
    }
    providers.script("13700000004", Script::TooMany);
    providers.script("13700000005", Script::Refuse);
    let item = assigned_item(&app, &d, "关于老旧小区加装电梯的批示").await;
    ok(&app, &d.supervisor, URGE, urge(&item, "请本周内反馈进度")).await;
    deliver(&app).await;

    let got = providers.of("aliyun");
    assert_eq!(got.len(), 3, "{got:?}");
    for request in &got {
        assert!(
            request.signed,
            "signature recomputed over what was sent: {:?}",
            request.query
        );
        assert_eq!(request.query["SignName"], "区督查室");
        assert_eq!(request.query["TemplateCode"], "SMS_000001");
        let param: Value = serde_json::from_str(&request.query["TemplateParam"]).expect("JSON");
        assert!(
            param["msg"]
                .as_str()
                .is_some_and(|t| t.contains("催办通知")),
            "{param}"
        );
    }
    let all = rows(&app).await;
    let sms: Vec<&outbox::Model> = all.iter().filter(|r| r.channel == "SMS").collect();
    assert_eq!(sms.len(), 3);
    let by_phone = |tail: &str| {
        sms.iter()
            .find(|r| r.recipient.contains(tail))
            .unwrap_or_else(|| panic!("no SMS to …{tail}: {sms:#?}"))
    };
    assert_eq!(by_phone("0003").status, "SENT");
    let waiting = by_phone("0004");
    assert_eq!((waiting.status.as_str(), waiting.attempts), ("PENDING", 0));
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("isv.BUSINESS_LIMIT_CONTROL"))
    );
    let refused = by_phone("0005");
    assert_eq!(refused.status, "FAILED");
    assert!(
        refused
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("isv.MOBILE_NUMBER_ILLEGAL"))
    );
}
