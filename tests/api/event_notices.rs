//! Who hears of what a verb did, event by event (issue 34, item 1; docs/rules.md §4, "Who hears
//! of what"): a unit's request reaches the office (and the leader a long extension needs);
//! a suspension, resumption, cancellation or 回头看 reaches the units on the item; the lead's
//! first 办结反馈 reaches the co-units whose parts it ends. On SQLite and on PostgreSQL.

use std::collections::BTreeSet;

use entity::outbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_mutation, item_row, m, ok};
use crate::helpers::{Backend, TestApp, spawn_app_on};

on_both_backends!(every_request_and_change_reaches_who_acts_on_it);

const OFFICE: &str = "supervisor-0@example.gov.cn";
const LEADER: &str = "leader-0@example.gov.cn";
/// The lead's (区住建局) and the co-unit's (区城管局) contact addresses.
const LEAD: &str = "zjj@example.gov.cn";
const CO: &str = "cgj@example.gov.cn";

/// The mails written since the last call, as (recipient, subject); `texts` keeps their
/// plain text by recipient.
struct Mailbox {
    seen: i64,
    texts: Vec<(String, String)>,
}

impl Mailbox {
    async fn new(app: &TestApp) -> Mailbox {
        let mut mailbox = Mailbox {
            seen: 0,
            texts: Vec::new(),
        };
        mailbox.since(app).await;
        mailbox
    }

    /// The text of the last batch's mail to `to`.
    fn text_to(&self, to: &str) -> &str {
        self.texts
            .iter()
            .find(|(recipient, _)| recipient == to)
            .map(|(_, text)| text.as_str())
            .unwrap_or_else(|| panic!("no mail to {to}"))
    }

    async fn since(&mut self, app: &TestApp) -> Vec<(String, String)> {
        let rows = outbox::Entity::find()
            .order_by_asc(outbox::Column::Id)
            .all(&app.state.db)
            .await
            .expect("outbox");
        let new: Vec<(String, String)> = rows
            .iter()
            .filter(|row| row.id > self.seen)
            .map(|row| (row.recipient.clone(), row.subject.clone()))
            .collect();
        self.texts = rows
            .iter()
            .filter(|row| row.id > self.seen)
            .map(|row| (row.recipient.clone(), row.body_text.clone()))
            .collect();
        self.seen = rows.last().map_or(self.seen, |row| row.id);
        new
    }
}

/// Who got a mail whose subject names `title`, and that nobody got any other.
fn told(mails: &[(String, String)], title: &str) -> BTreeSet<String> {
    for (to, subject) in mails {
        assert!(subject.contains(title), "{to} got {subject:?}, not {title}");
    }
    mails.iter().map(|(to, _)| to.clone()).collect()
}

/// The item's pending extension request, by its database id.
async fn pending_extension_id(app: &TestApp, item: &Value) -> i64 {
    let found = item_row(app, item).await;
    entity::extension_request::Entity::find()
        .filter(entity::extension_request::Column::ItemId.eq(found.id))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("a request")
        .id
}

/// The item's version now.
async fn version_now(app: &TestApp, item: &Value) -> i32 {
    item_row(app, item).await.version
}

async fn sign(app: &TestApp, token: &str, item: &Value) -> Value {
    ok(
        app,
        token,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": item["id"], "version": item["version"] }),
    )
    .await["item"]
        .clone()
}

async fn every_request_and_change_reaches_who_acts_on_it(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let mut mailbox = Mailbox::new(&app).await;
    let extension = m(
        "requestExtension",
        "RequestExtensionInput",
        "extensionRequest { id } item { version }",
    );

    // 延期申请 within the office's limit: the office decides, and hears.
    let a = assigned_item(&app, &d, "关于加快老旧管网改造的批示").await;
    let a = sign(&app, &d.housing_head, &a).await;
    mailbox.since(&app).await;
    ok(&app, &d.housing_head, &extension,
        json!({ "itemId": a["id"], "version": a["version"], "proposedDueDate": "2026-10-13", "reason": "需协调燃气公司停气" })).await;
    let mails = mailbox.since(&app).await;
    assert_eq!(
        told(&mails, "延期申请待审批"),
        BTreeSet::from([OFFICE.to_string()])
    );
    assert!(mailbox.text_to(OFFICE).contains("同意则期限延至申请的日期"));
    // Approved, the lead's extension carries the co-unit's due: the lead hears the decision,
    // the co-unit that its due moved with it.
    let asked = pending_extension_id(&app, &a).await;
    ok(
        &app,
        &d.supervisor,
        &m("decideExtension", "DecideExtensionInput", "item { version }"),
        json!({ "extensionRequestId": asked, "version": version_now(&app, &a).await, "approve": true }),
    )
    .await;
    let mails = mailbox.since(&app).await;
    let to_lead: Vec<_> = mails
        .iter()
        .filter(|(_, s)| s.contains("延期审批结果"))
        .cloned()
        .collect();
    let to_co: Vec<_> = mails
        .iter()
        .filter(|(_, s)| !s.contains("延期审批结果"))
        .cloned()
        .collect();
    assert!(told(&to_lead, "延期审批结果").contains(LEAD));
    let carried = told(&to_co, "协办期限顺延通知");
    assert!(
        carried.contains(CO) && !carried.contains(LEAD),
        "{carried:?}"
    );

    // Beyond 10 working days a leader must approve: the item's 责任领导 hears too.
    let b = assigned_item(&app, &d, "关于推进农贸市场提升改造的批示").await;
    let b = sign(&app, &d.housing_head, &b).await;
    mailbox.since(&app).await;
    ok(&app, &d.housing_head, &extension,
        json!({ "itemId": b["id"], "version": b["version"], "proposedDueDate": "2026-11-13", "reason": "涉及产权单位协调，需延期" })).await;
    let mails = mailbox.since(&app).await;
    assert_eq!(
        told(&mails, "延期申请待审批"),
        BTreeSet::from([OFFICE.to_string(), LEADER.to_string()])
    );
    // The leader's 待办 holds it until the item no longer takes a decision (撤销 below).
    let todo = "{ todo { kinds extensionRequestId } }";
    let waiting = |body: &Value| -> usize {
        body["data"]["todo"]
            .as_array()
            .expect("todo")
            .iter()
            .filter(|e| !e["extensionRequestId"].is_null())
            .count()
    };
    assert_eq!(
        waiting(&app.graphql_as(Some(&d.leader), todo, json!({})).await),
        1
    );
    // The office may refuse it but not approve it, and is not asked to.
    let to_office = mailbox.text_to(OFFICE);
    assert!(to_office.contains("须由区领导审批"), "{to_office}");
    assert!(
        !to_office.contains("同意则期限延至申请的日期"),
        "{to_office}"
    );

    ok(
        &app,
        &d.supervisor,
        &item_mutation("cancelItem", "ItemReasonInput"),
        json!({ "itemId": b["id"], "version": version_now(&app, &b).await, "reason": "市场整体搬迁" }),
    )
    .await;
    assert_eq!(
        waiting(&app.graphql_as(Some(&d.leader), todo, json!({})).await),
        0,
        "a cancelled item's request waits for nobody"
    );

    // 退回申请: the office answers it.
    let c = assigned_item(&app, &d, "关于整治占道经营的批示").await;
    mailbox.since(&app).await;
    ok(
        &app,
        &d.urban_head,
        &item_mutation("returnItem", "ItemReasonInput"),
        json!({ "itemId": c["id"], "version": c["version"], "reason": "占道经营不属于本局职责" }),
    )
    .await;
    let mails = mailbox.since(&app).await;
    assert_eq!(
        told(&mails, "退回申请待处理"),
        BTreeSet::from([OFFICE.to_string()])
    );
    // 改派 to 东山街道: the street is given the part, the returning unit hears the answer, and
    // the lead, which stays, hears who now works beside it.
    let co_part = c["assignments"]
        .as_array()
        .and_then(|parts| parts.iter().find(|p| p["lead"] == false))
        .expect("the co-unit's part")["id"]
        .clone();
    ok(
        &app,
        &d.supervisor,
        &item_mutation("resolveReturn", "ResolveReturnInput"),
        json!({ "itemId": c["id"], "version": version_now(&app, &c).await, "assignmentId": co_part,
                "reassignToUnitId": d.street, "reason": "改由东山街道配合" }),
    )
    .await;
    let mails = mailbox.since(&app).await;
    let by_title = |title: &str| -> BTreeSet<String> {
        mails
            .iter()
            .filter(|(_, subject)| subject.contains(title))
            .map(|(to, _)| to.clone())
            .collect()
    };
    assert!(
        by_title("督查通知").contains("dsjd@example.gov.cn"),
        "{mails:?}"
    );
    assert!(by_title("退回申请处理结果").contains(CO), "{mails:?}");
    let staying = by_title("承办单位调整通知");
    assert!(staying.contains(LEAD) && !staying.contains(CO), "{mails:?}");
    assert_eq!(
        by_title("督查通知").len() + by_title("退回申请处理结果").len() + staying.len(),
        mails.len(),
        "nobody else: {mails:?}"
    );

    // 挂起, 恢复 and 撤销: every unit on the item.
    let e = assigned_item(&app, &d, "关于建设口袋公园的批示").await;
    mailbox.since(&app).await;
    let suspended = ok(
        &app,
        &d.supervisor,
        &item_mutation("suspendItem", "ItemReasonInput"),
        json!({ "itemId": e["id"], "version": e["version"], "reason": "等待规划调整" }),
    )
    .await;
    let units = told(&mailbox.since(&app).await, "事项挂起通知");
    assert!(units.contains(LEAD) && units.contains(CO), "{units:?}");
    assert!(!units.contains(OFFICE), "{units:?}");
    let resumed = ok(
        &app,
        &d.supervisor,
        &item_mutation("resumeItem", "ItemReasonInput"),
        json!({ "itemId": e["id"], "version": suspended["item"]["version"] }),
    )
    .await;
    let units = told(&mailbox.since(&app).await, "事项恢复办理通知");
    assert!(units.contains(LEAD) && units.contains(CO), "{units:?}");
    assert!(
        mailbox
            .text_to(LEAD)
            .contains("恢复办理：挂起0个工作日，期限相应顺延"),
        "{}",
        mailbox.text_to(LEAD)
    );
    ok(
        &app,
        &d.supervisor,
        &item_mutation("cancelItem", "ItemReasonInput"),
        json!({ "itemId": e["id"], "version": resumed["item"]["version"], "reason": "规划取消" }),
    )
    .await;
    let units = told(&mailbox.since(&app).await, "事项撤销通知");
    assert!(units.contains(LEAD) && units.contains(CO), "{units:?}");

    // 办结反馈: the office verifies it; the co-unit's part ends with it, and it hears so.
    // Sent back and fed back again, the co-unit does not hear a second time.
    let f = assigned_item(&app, &d, "关于改造背街小巷路灯的批示").await;
    let f = sign(&app, &d.housing_head, &f).await;
    mailbox.since(&app).await;
    let feedback = m(
        "submitFeedback",
        "SubmitFeedbackInput",
        "item { id version }",
    );
    let fed = ok(
        &app,
        &d.housing_head,
        &feedback,
        json!({ "itemId": f["id"], "version": f["version"], "body": "路灯已全部更换并通电" }),
    )
    .await;
    let mails = mailbox.since(&app).await;
    let to_office: Vec<_> = mails
        .iter()
        .filter(|(to, _)| to == OFFICE)
        .cloned()
        .collect();
    assert_eq!(
        told(&to_office, "办结反馈待核查"),
        BTreeSet::from([OFFICE.to_string()])
    );
    let to_units: Vec<_> = mails
        .iter()
        .filter(|(to, _)| to != OFFICE)
        .cloned()
        .collect();
    let units = told(&to_units, "主办单位已办结反馈");
    assert!(units.contains(CO) && !units.contains(LEAD), "{units:?}");
    // The trail says where each went: the office's notice to the office.
    let trail = entity::audit_event::Entity::find()
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .expect("trail");
    let went_to = |reason: &str| -> Vec<String> {
        trail
            .iter()
            .filter(|e| e.action == "NOTICE" && e.reason.as_deref() == Some(reason))
            .filter_map(|e| e.details["unitName"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(went_to("办结反馈待核查"), ["督查室"]);
    assert_eq!(went_to("主办单位已办结反馈"), ["区城市管理局"]);
    assert_eq!(went_to("延期申请待审批"), ["督查室", "督查室、区领导"]);
    let rejected = ok(
        &app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": f["id"], "version": fed["item"]["version"], "accept": false, "reason": "缺少验收照片" }),
    )
    .await;
    mailbox.since(&app).await;
    let fed = ok(&app, &d.housing_head, &feedback,
        json!({ "itemId": f["id"], "version": rejected["item"]["version"], "body": "已补充验收照片" })).await;
    let mails = mailbox.since(&app).await;
    assert_eq!(
        told(&mails, "办结反馈待核查"),
        BTreeSet::from([OFFICE.to_string()])
    );

    // 回头看: the lead's part opens again, and only the lead hears.
    let verified = ok(
        &app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": f["id"], "version": fed["item"]["version"], "accept": true }),
    )
    .await;
    let closed = ok(
        &app,
        &d.supervisor,
        &item_mutation("closeItem", "ItemReasonInput"),
        json!({ "itemId": f["id"], "version": verified["item"]["version"] }),
    )
    .await;
    mailbox.since(&app).await;
    ok(
        &app,
        &d.supervisor,
        &item_mutation("reopenItem", "ReopenItemInput"),
        json!({ "itemId": f["id"], "version": closed["item"]["version"],
                "reason": "群众反映部分路灯夜间不亮", "rectificationDue": "10个工作日" }),
    )
    .await;
    let units = told(&mailbox.since(&app).await, "事项回头看通知");
    assert!(units.contains(LEAD) && !units.contains(CO), "{units:?}");
}

on_both_backends!(the_office_urges_each_unit_once_a_day_unless_it_insists);

const URGE: &str =
    "mutation($input: UrgeItemInput!) { urgeItem(input: $input) { unitsTold item { stage } } }";

/// 催办 by hand (issue 34, item 3): each unit still working on the item hears the office's line
/// once a day; a second on the same day is refused unless the office insists; the units are
/// pressed only while the work is theirs. Audited with the line. In the pages too.
async fn the_office_urges_each_unit_once_a_day_unless_it_insists(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "关于整治餐饮油烟扰民的批示").await;
    let mut mailbox = Mailbox::new(&app).await;
    let urge = |message: &str, insist: bool| json!({ "itemId": item["id"], "message": message, "insist": insist });

    let first = ok(
        &app,
        &d.supervisor,
        URGE,
        urge("请于本周五前报送整治进展", false),
    )
    .await;
    assert_eq!(first["unitsTold"], 2);
    let units = told(&mailbox.since(&app).await, "催办通知");
    assert!(units.contains(LEAD) && units.contains(CO), "{units:?}");
    assert!(!units.contains(OFFICE));

    // The same day again: refused, nothing written; insisted on, sent.
    let trail_before = entity::audit_event::Entity::find()
        .all(&app.state.db)
        .await
        .expect("trail")
        .len();
    assert_eq!(
        crate::district::refused(&app, Some(&d.supervisor), URGE, urge("再次催办", false)).await,
        "CONFLICT"
    );
    assert!(mailbox.since(&app).await.is_empty());
    assert_eq!(
        entity::audit_event::Entity::find()
            .all(&app.state.db)
            .await
            .expect("trail")
            .len(),
        trail_before
    );
    let insisted = ok(
        &app,
        &d.supervisor,
        URGE,
        urge("群众再次投诉，请今日内处理", true),
    )
    .await;
    assert_eq!(insisted["unitsTold"], 2);
    assert!(!mailbox.since(&app).await.is_empty());

    // Refusals: a unit may not urge; a blank line says why.
    assert_eq!(
        crate::district::refused(&app, Some(&d.housing_head), URGE, urge("自己催自己", false))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        crate::district::refused(&app, Some(&d.supervisor), URGE, urge("  ", true)).await,
        "BAD_USER_INPUT"
    );

    // The next day, in the item's page: the form is offered and its post is mailed.
    app.clock.set(crate::helpers::shanghai(2026, 9, 30, 10, 0));
    let account = crate::web::give_password(&app, &d.supervisor).await;
    let mut office = crate::web::Browser::new(&app);
    office.sign_in(&account, crate::web::PASSWORD).await;
    let item_id = item_row(&app, &item).await.id;
    let (_, page) = office.page(&format!("/items/{item_id}")).await;
    assert!(
        page.contains("催办内容（将通知仍在办理的承办单位）"),
        "{page}"
    );
    let posted = office
        .post(
            &format!("/items/{item_id}"),
            &[
                ("csrf", crate::web::hidden(&page, "csrf").as_str()),
                ("version", crate::web::hidden(&page, "version").as_str()),
                ("action", "URGE"),
                ("reason", "请抓紧落实，明日督查室现场检查"),
            ],
        )
        .await;
    assert_eq!(posted.status(), reqwest::StatusCode::SEE_OTHER);
    let units = told(&mailbox.since(&app).await, "催办通知");
    assert!(units.contains(LEAD) && units.contains(CO), "{units:?}");

    // The trail keeps each 催办 with its line.
    let lines: Vec<Option<String>> = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.eq("URGE"))
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .expect("trail")
        .into_iter()
        .map(|e| e.reason)
        .collect();
    assert_eq!(
        lines,
        [
            Some("请于本周五前报送整治进展".to_string()),
            Some("群众再次投诉，请今日内处理".to_string()),
            Some("请抓紧落实，明日督查室现场检查".to_string()),
        ]
    );

    // A 催办 insisted on is the day's 催办 where none was sent yet; a part waiting for the
    // office's answer to its 退回 is not pressed.
    let other = assigned_item(&app, &d, "关于清理小广告的批示").await;
    let other_urge = |message: &str, insist: bool| json!({ "itemId": other["id"], "message": message, "insist": insist });
    ok(
        &app,
        &d.urban_head,
        &item_mutation("returnItem", "ItemReasonInput"),
        json!({ "itemId": other["id"], "version": other["version"], "reason": "小广告清理属街道职责" }),
    )
    .await;
    let pressed = ok(
        &app,
        &d.supervisor,
        URGE,
        other_urge("请立即组织清理", true),
    )
    .await;
    assert_eq!(pressed["unitsTold"], 1, "the lead only: {pressed}");
    assert_eq!(
        crate::district::refused(
            &app,
            Some(&d.supervisor),
            URGE,
            other_urge("再催一次", false)
        )
        .await,
        "CONFLICT"
    );

    // Once the lead has reported the whole, the office verifies: no 催办 then.
    let signed = sign(&app, &d.housing_head, &item).await;
    let signed = json!({ "id": item["id"], "version": signed["version"] });
    ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "item { version }"),
        json!({ "itemId": signed["id"], "version": signed["version"], "body": "油烟净化设备已全部安装" }),
    )
    .await;
    assert_eq!(
        crate::district::refused(&app, Some(&d.supervisor), URGE, urge("核查期间催办", true)).await,
        "INVALID_TRANSITION"
    );
}
