//! A small district for lifecycle tests: a leader, a supervisor, three units with their
//! heads and a staff member, all created through the API as an administrator would.

use serde_json::{Value, json};

use crate::helpers::TestApp;

pub struct District {
    pub admin: String,
    pub leader: String,
    pub leader_id: i64,
    pub supervisor: String,
    /// 区住建局 (lead in most tests), its head and staff.
    pub housing: i64,
    pub housing_head: String,
    pub housing_staff: String,
    /// 区城管局 (co-unit).
    pub urban: i64,
    pub urban_head: String,
    /// 东山街道 (not involved; must see nothing).
    pub street: i64,
    pub street_head: String,
}

const CREATE_PERSON: &str =
    "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } token } }";
const CREATE_UNIT: &str =
    "mutation($input: CreateUnitInput!) { createUnit(input: $input) { unit { id } } }";

pub async fn person(
    app: &TestApp,
    admin: &str,
    name: &str,
    role: &str,
    unit: Option<i64>,
) -> (i64, String) {
    let email = format!(
        "{}-{}@example.gov.cn",
        role.to_lowercase(),
        unit.unwrap_or(0)
    );
    let body = app
        .graphql_as(
            Some(admin),
            CREATE_PERSON,
            // An account (no password: the web tests set one where they sign in).
            json!({ "input": { "name": name, "role": role, "unitId": unit, "email": email,
                               "account": format!("{}-{}", role.to_lowercase().replace('_', "-"), unit.unwrap_or(0)) } }),
        )
        .await;
    let created = &body["data"]["createPerson"];
    assert!(created.is_object(), "createPerson failed: {body}");
    (
        crate::helpers::row_id(&created["person"]["id"]),
        created["token"].as_str().expect("token").to_string(),
    )
}

pub async fn unit(
    app: &TestApp,
    admin: &str,
    name: &str,
    kind: &str,
    leader: i64,
    contact: &str,
) -> i64 {
    let body = app
        .graphql_as(
            Some(admin),
            CREATE_UNIT,
            json!({ "input": { "name": name, "kind": kind, "headName": "张三", "portfolioLeaderId": leader,
                               "contacts": [{ "name": "联络员", "email": contact }] } }),
        )
        .await;
    assert!(
        body["data"]["createUnit"]["unit"]["id"].is_string(),
        "createUnit failed: {body}"
    );
    crate::helpers::row_id(&body["data"]["createUnit"]["unit"]["id"])
}

impl District {
    pub async fn create(app: &TestApp) -> District {
        let admin = app.admin_token.clone();
        assert!(!admin.is_empty(), "first start creates an administrator");
        let (leader_id, leader) = person(app, &admin, "李副区长", "LEADER", None).await;
        let (_, supervisor) = person(app, &admin, "王督查", "SUPERVISOR", None).await;
        let housing = unit(
            app,
            &admin,
            "区住房和城乡建设局",
            "DEPARTMENT",
            leader_id,
            "zjj@example.gov.cn",
        )
        .await;
        let urban = unit(
            app,
            &admin,
            "区城市管理局",
            "DEPARTMENT",
            leader_id,
            "cgj@example.gov.cn",
        )
        .await;
        let street = unit(
            app,
            &admin,
            "东山街道办事处",
            "SUBDISTRICT",
            leader_id,
            "dsjd@example.gov.cn",
        )
        .await;
        let (_, housing_head) = person(app, &admin, "赵局长", "UNIT_HEAD", Some(housing)).await;
        let (_, housing_staff) = person(app, &admin, "钱科员", "UNIT_STAFF", Some(housing)).await;
        let (_, urban_head) = person(app, &admin, "孙局长", "UNIT_HEAD", Some(urban)).await;
        let (_, street_head) = person(app, &admin, "周主任", "UNIT_HEAD", Some(street)).await;
        District {
            admin,
            leader,
            leader_id,
            supervisor,
            housing,
            housing_head,
            housing_staff,
            urban,
            urban_head,
            street,
            street_head,
        }
    }
}

pub const ITEM_FIELDS: &str = "id serial stage version deadlineRule closedOnTimeOriginal closedOnTimeExtended
    assignments { id lead status dueAt extendedDueAt provisional signedAt pausedWorkingDays unit { name } }";

/// Runs a mutation and returns its payload, or panics with the whole body.
pub async fn ok(app: &TestApp, token: &str, mutation: &str, input: Value) -> Value {
    let body = app
        .graphql_as(Some(token), mutation, json!({ "input": input }))
        .await;
    assert!(body["errors"].is_null(), "expected success, got {body}");
    body["data"]
        .as_object()
        .and_then(|d| d.values().next().cloned())
        .expect("payload")
}

/// Runs a mutation that must fail, and returns its error code.
pub async fn refused(app: &TestApp, token: Option<&str>, mutation: &str, input: Value) -> String {
    let body = app
        .graphql_as(token, mutation, json!({ "input": input }))
        .await;
    crate::helpers::error_code(&body).to_string()
}

pub fn m(name: &str, input_type: &str, selection: &str) -> String {
    format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}")
}

pub fn item_mutation(name: &str, input_type: &str) -> String {
    m(name, input_type, &format!("item {{ {ITEM_FIELDS} }}"))
}

/// Registers a leader instruction (3 working days, [000 Art.67]) and assigns it to 住建局
/// with 城管局 as co-unit; returns the item payload after assignment.
/// The unit head signs the item for its unit; the item as it is then.
pub async fn sign(app: &TestApp, head: &str, item: &Value) -> Value {
    ok(
        app,
        head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": item["id"], "version": item["version"] }),
    )
    .await["item"]
        .clone()
}

pub async fn assigned_item(app: &TestApp, d: &District, title: &str) -> Value {
    let registered = ok(
        app,
        &d.supervisor,
        &m("registerItem", "RegisterItemInput", &format!("item {{ {ITEM_FIELDS} }} warnings {{ serial message }}")),
        json!({ "title": title, "requirements": "3个工作日内落实并反馈", "sourceKind": "LEADER_INSTRUCTION",
                "sourceReference": format!("区长批示〔2026〕{}号", title.len()), "urgency": "URGENT",
                "responsibleLeaderId": d.leader_id }),
    )
    .await;
    let item = &registered["item"];
    ok(
        app,
        &d.supervisor,
        &item_mutation("assignItem", "AssignItemInput"),
        json!({ "itemId": item["id"], "version": item["version"], "leadUnitId": d.housing, "coUnitIds": [d.urban] }),
    )
    .await["item"]
        .clone()
}

/// Registers an item with its own `deadline` and assigns it to `lead` (and `co_units`);
/// returns the item after assignment.
pub async fn assign_with(
    app: &TestApp,
    d: &District,
    title: &str,
    deadline: &str,
    lead: i64,
    co_units: &[i64],
) -> Value {
    let registered = ok(
        app,
        &d.supervisor,
        &m(
            "registerItem",
            "RegisterItemInput",
            &format!("item {{ {ITEM_FIELDS} }}"),
        ),
        json!({ "title": title, "requirements": "按期落实并反馈", "sourceKind": "MEETING_DECISION",
                "deadline": deadline }),
    )
    .await;
    let item = &registered["item"];
    ok(
        app,
        &d.supervisor,
        &item_mutation("assignItem", "AssignItemInput"),
        json!({ "itemId": item["id"], "version": item["version"], "leadUnitId": lead, "coUnitIds": co_units }),
    )
    .await["item"]
        .clone()
}

/// The lead unit (住建局) signs, files its completion report, and the office verifies and
/// closes: the sequence most lifecycle tests end with. Returns the closed item.
pub async fn feed_verify_close(app: &TestApp, d: &District, item: &Value) -> Value {
    let fed = feed(app, d, item).await;
    let verified = verify(app, d, &fed).await;
    close(app, d, &verified).await
}

/// The office accepts the completion report of an item in FEEDBACK_SUBMITTED.
pub async fn verify(app: &TestApp, d: &District, fed: &Value) -> Value {
    ok(
        app,
        &d.supervisor,
        &item_mutation("verifyItem", "VerifyItemInput"),
        json!({ "itemId": fed["id"], "version": fed["version"], "accept": true }),
    )
    .await["item"]
        .clone()
}

/// The office closes a VERIFIED item.
pub async fn close(app: &TestApp, d: &District, verified: &Value) -> Value {
    ok(
        app,
        &d.supervisor,
        &item_mutation("closeItem", "ItemReasonInput"),
        json!({ "itemId": verified["id"], "version": verified["version"] }),
    )
    .await["item"]
        .clone()
}

/// The lead unit (住建局) signs if it has not, and files its completion report; returns the
/// item in FEEDBACK_SUBMITTED.
pub async fn feed(app: &TestApp, d: &District, item: &Value) -> Value {
    let mut current = item.clone();
    if current["stage"] == "ASSIGNED" {
        current = ok(
            app,
            &d.housing_head,
            &item_mutation("signItem", "ItemVersionInput"),
            json!({ "itemId": current["id"], "version": current["version"] }),
        )
        .await["item"]
            .clone();
    }
    ok(
        app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "report { id }"),
        json!({ "itemId": current["id"], "version": current["version"], "body": "已全部落实" }),
    )
    .await;
    let body = app
        .graphql_as(
            Some(&d.supervisor),
            &format!("query($id: ID!) {{ item(id: $id) {{ {ITEM_FIELDS} }} }}"),
            json!({ "id": current["id"] }),
        )
        .await;
    body["data"]["item"].clone()
}

/// The stored row of an item as a payload names it (by its serial).
pub async fn item_row(app: &TestApp, item: &Value) -> entity::item::Model {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let serial = item["serial"].as_str().expect("the payload's serial");
    entity::item::Entity::find()
        .filter(entity::item::Column::Serial.eq(serial))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the item")
}
