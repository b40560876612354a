//! The office starts its work in the pages, as a browser without script does: 立项 with the
//! due the rule gives and the duplicate warning shown before saving, 修改 while 已立项, 交办
//! with each unit's due confirmed first, the 待办 that lists 待交办 first; a refused form
//! keeps every word and says why beside the field; an unknown address is a page in Chinese.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, LOCATION};
use serde_json::{Value, json};

use crate::district::{District, assigned_item, ok};
use crate::helpers::{TestApp, spawn_app};
use crate::web::{Browser, PASSWORD, give_password, hidden};

async fn item_by_title(app: &TestApp, token: &str, title: &str) -> Option<Value> {
    let body = app
        .graphql_as(
            Some(token),
            "query($text: String) { items(first: 50, filter: { text: $text }) { edges { node {
               databaseId title stage version deadlineRule requirements
               assignments { lead dueAt unit { databaseId } }
               auditTrail { action reason } } } } }",
            json!({ "text": title }),
        )
        .await;
    body["data"]["items"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| &e["node"])
        .find(|i| i["title"] == title)
        .cloned()
}

/// The due `rule` gives from now, as the pages print it (Asia/Shanghai, minutes).
async fn due_shown(app: &TestApp, token: &str, rule: &str) -> String {
    let now = app.clock.now().to_rfc3339();
    let body = app
        .graphql_as(
            Some(token),
            "query($start: DateTime!, $rule: String!) { deadline(start: $start, rule: { text: $rule }) { dueAt } }",
            json!({ "start": now, "rule": rule }),
        )
        .await;
    let due = body["data"]["deadline"]["dueAt"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    chrono::DateTime::parse_from_rfc3339(due)
        .expect("instant")
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[tokio::test]
async fn the_office_registers_with_a_preview_edits_and_assigns_in_the_pages() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "老旧小区加装电梯").await;
    let account = give_password(&app, &d.supervisor).await;
    let mut office = Browser::new(&app);
    office.sign_in(&account, PASSWORD).await;

    // The ledger offers 立项; the form carries the source kinds with their default rules.
    let (_, ledger) = office.page("/items").await;
    assert!(ledger.contains("href=\"/items/new\""), "{ledger}");
    let (status, form) = office.page("/items/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("领导批示交办（默认3个工作日）"), "{form}");
    let csrf = hidden(&form, "csrf");

    // The preview: the due from the rule, across the National Day holiday, and the similar
    // open item as a 重复督查 warning with its link. Nothing is saved yet.
    let title = "老旧小区加装电梯改造";
    let fields = [
        ("csrf", csrf.as_str()),
        ("title", title),
        ("requirements", "5个工作日内拿出方案"),
        ("source_kind", "LEADER_INSTRUCTION"),
        ("source_reference", "区长批示〔2026〕88号"),
        ("urgency", "URGENT"),
        ("deadline", "5个工作日内"),
        ("report_cycle_days", ""),
    ];
    let mut previewing = fields.to_vec();
    previewing.push(("step", "preview"));
    let preview = office.post("/items/new", &previewing).await;
    assert_eq!(preview.status(), StatusCode::OK);
    let preview = preview.text().await.expect("page");
    let due = due_shown(&app, &d.supervisor, "5个工作日").await;
    assert!(preview.contains(&due), "the due {due} is shown: {preview}");
    assert!(preview.contains("国庆"), "the holiday crossed is named");
    assert!(preview.contains("重复督查提示") && preview.contains("老旧小区加装电梯"));
    assert!(
        preview.contains(&format!("value=\"{title}\"")),
        "the title typed is kept"
    );
    assert!(item_by_title(&app, &d.supervisor, title).await.is_none());

    // A save claiming to have seen other warnings than these is shown again, unsaved.
    let mut stale = fields.to_vec();
    stale.extend([("step", "save"), ("seen_warnings", "999")]);
    let shown_again = office.post("/items/new", &stale).await;
    assert_eq!(shown_again.status(), StatusCode::OK);
    assert!(item_by_title(&app, &d.supervisor, title).await.is_none());

    // Saving after the warning was seen registers it.
    let seen = hidden(&preview, "seen_warnings");
    assert!(!seen.is_empty(), "the warned items are named in the form");
    let mut saving = fields.to_vec();
    saving.extend([("step", "save"), ("seen_warnings", seen.as_str())]);
    let saved = office.post("/items/new", &saving).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let item = item_by_title(&app, &d.supervisor, title)
        .await
        .expect("registered");
    assert_eq!(item["stage"], "REGISTERED");
    assert_eq!(item["deadlineRule"], "5个工作日");
    let id = item["databaseId"].as_i64().expect("id");
    assert_eq!(
        saved.headers()[LOCATION],
        format!("/items/{id}?done=REGISTER").as_str()
    );
    let (_, page) = office.page(&format!("/items/{id}?done=REGISTER")).await;
    assert!(page.contains("立项：已完成"));
    assert!(page.contains(&format!("href=\"/items/{id}/assign\"")));

    // The office's 待办 lists 待交办 first, in the page and the API.
    let (_, todo) = office.page("/todo").await;
    let waiting = todo.find("待交办").expect("待交办 listed");
    assert!(todo[waiting..].contains(title));
    let todo_api = app
        .graphql_as(
            Some(&d.supervisor),
            "{ todo { kind item { databaseId } } }",
            json!({}),
        )
        .await;
    assert_eq!(todo_api["data"]["todo"][0]["kind"], "ASSIGN", "{todo_api}");
    assert_eq!(todo_api["data"]["todo"][0]["item"]["databaseId"], id);

    // 修改 while 已立项: a refusal keeps what was typed and names the field; then it saves.
    let (_, edit) = office.page(&format!("/items/{id}/edit")).await;
    let version = hidden(&edit, "version");
    let refused = office
        .post(
            &format!("/items/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("title", "  "),
                ("requirements", "改为7个工作日内拿出方案并报区长"),
                ("urgency", "CRITICAL"),
                ("deadline", "7个工作日"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.expect("page");
    assert!(refused.contains("id=\"title-error\""), "{refused}");
    assert!(refused.contains("标题不能为空"));
    assert!(refused.contains("改为7个工作日内拿出方案并报区长"));
    let edited = office
        .post(
            &format!("/items/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("title", title),
                ("requirements", "改为7个工作日内拿出方案并报区长"),
                ("urgency", "CRITICAL"),
                ("deadline", "7个工作日"),
            ],
        )
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let item = item_by_title(&app, &d.supervisor, title)
        .await
        .expect("item");
    assert_eq!(item["deadlineRule"], "7个工作日");
    assert!(
        item["auditTrail"]
            .as_array()
            .expect("trail")
            .iter()
            .any(|e| e["action"] == "EDIT"),
        "{item}"
    );

    // 交办: pick, see each unit's due, confirm.
    let (_, assign) = office.page(&format!("/items/{id}/assign")).await;
    assert!(assign.contains("区住房和城乡建设局") && assign.contains("optgroup label=\"部门\""));
    let version = hidden(&assign, "version");
    let lead = d.housing.to_string();
    let co = d.urban.to_string();
    let confirm = office
        .post(
            &format!("/items/{id}/assign"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("lead", &lead),
                ("co", &co),
                ("step", "preview"),
            ],
        )
        .await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let confirm = confirm.text().await.expect("page");
    let lead_due = due_shown(&app, &d.supervisor, "7个工作日").await;
    let co_due = due_shown(&app, &d.supervisor, "6个工作日").await;
    assert!(
        confirm.contains("请确认") && confirm.contains(&lead_due) && confirm.contains(&co_due),
        "{confirm}"
    );
    let item = item_by_title(&app, &d.supervisor, title)
        .await
        .expect("item");
    assert_eq!(
        item["stage"], "REGISTERED",
        "nothing assigned before confirming"
    );
    let assigned = office
        .post(
            &format!("/items/{id}/assign"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("lead", &lead),
                ("co", &co),
                ("step", "save"),
            ],
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::SEE_OTHER);
    let item = item_by_title(&app, &d.supervisor, title)
        .await
        .expect("item");
    assert_eq!(item["stage"], "ASSIGNED");
    let units: Vec<(bool, i64)> = item["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .map(|a| {
            (
                a["lead"].as_bool().expect("lead"),
                a["unit"]["databaseId"].as_i64().expect("unit"),
            )
        })
        .collect();
    assert!(units.contains(&(true, d.housing)) && units.contains(&(false, d.urban)));

    // The same confirmation sent twice is refused as stale, and changes nothing.
    let again = office
        .post(
            &format!("/items/{id}/assign"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("lead", &lead),
                ("step", "save"),
            ],
        )
        .await;
    assert_ne!(again.status(), StatusCode::SEE_OTHER);
    let item = item_by_title(&app, &d.supervisor, title)
        .await
        .expect("item");
    assert_eq!(item["assignments"].as_array().expect("a").len(), 2);
}

#[tokio::test]
async fn a_refused_registration_keeps_every_word_and_says_why_by_the_field() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let account = give_password(&app, &d.supervisor).await;
    let mut office = Browser::new(&app);
    office.sign_in(&account, PASSWORD).await;
    let (_, form) = office.page("/items/new").await;
    let csrf = hidden(&form, "csrf");
    let requirements = "<script>alert(1)</script> 全面排查燃气管道";
    for (deadline, cycle, field) in [
        ("明天之前吧", "", "deadline-error"),
        // A fixed date already past (a typo for 2026): refused before it turns red.
        ("2025-10-08", "", "deadline-error"),
        ("5个工作日", "abc", "report_cycle_days-error"),
        ("5个工作日", "400", "report_cycle_days-error"),
    ] {
        let refused = office
            .post(
                "/items/new",
                &[
                    ("csrf", &csrf),
                    ("title", "燃气管道排查"),
                    ("requirements", requirements),
                    ("source_kind", "HOT_ISSUE"),
                    ("deadline", deadline),
                    ("report_cycle_days", cycle),
                    ("step", "save"),
                ],
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{deadline} {cycle}"
        );
        let page = refused.text().await.expect("page");
        assert!(page.contains(&format!("id=\"{field}\"")), "{field}: {page}");
        assert!(page.contains("value=\"燃气管道排查\""));
        assert!(page.contains(&format!("value=\"{deadline}\"")));
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt; 全面排查燃气管道"),
            "kept, and escaped"
        );
        assert!(page.contains("<option value=\"HOT_ISSUE\" data-rule=\"10个工作日\" selected>"));
    }
    assert!(
        item_by_title(&app, &d.supervisor, "燃气管道排查")
            .await
            .is_none()
    );

    // A choice the form never offered, sent by hand: a plain refusal, not a server error.
    let bogus = office
        .post(
            "/items/new",
            &[
                ("csrf", &csrf),
                ("title", "燃气管道排查"),
                ("requirements", "x"),
                ("source_kind", "NOT_A_KIND"),
                ("step", "preview"),
            ],
        )
        .await;
    assert_eq!(bogus.status(), StatusCode::BAD_REQUEST);
    assert!(bogus.text().await.expect("page").contains("不被接受的值"));

    // Forged or unauthorised forms change nothing.
    let forged = office
        .post(
            "/items/new",
            &[
                ("csrf", "guess"),
                ("title", "燃气管道排查"),
                ("requirements", "x"),
                ("step", "save"),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let head = give_password(&app, &d.housing_head).await;
    let mut unit = Browser::new(&app);
    unit.sign_in(&head, PASSWORD).await;
    assert_eq!(unit.get("/items/new").await.status(), StatusCode::FORBIDDEN);
    let (_, todo) = unit.page("/todo").await;
    let unit_csrf = hidden(&todo, "csrf");
    let posted = unit
        .post(
            "/items/new",
            &[
                ("csrf", &unit_csrf),
                ("title", "燃气管道排查"),
                ("requirements", "x"),
                ("step", "save"),
            ],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    assert!(
        item_by_title(&app, &d.supervisor, "燃气管道排查")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_browser_asking_for_an_unknown_address_gets_a_page_in_chinese() {
    let app = spawn_app().await;
    let client = crate::helpers::http_client();
    let page = client
        .get(app.url("/no/such/page"))
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let body = page.text().await.expect("body");
    assert!(
        body.contains("页面不存在") && body.contains("href=\"/\""),
        "{body}"
    );
    let api = client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("get");
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let json: Value = api.json().await.expect("json for clients");
    assert_eq!(json["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn files_received_with_an_item_are_saved_with_it_and_seen_by_its_units_only() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let account = give_password(&app, &d.supervisor).await;
    let mut office = Browser::new(&app);
    office.sign_in(&account, PASSWORD).await;
    let (_, form) = office.page("/items/new").await;
    assert!(form.contains("enctype=\"multipart/form-data\""));
    let csrf = hidden(&form, "csrf");
    let fields = |step: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("title", "河道清淤专项整治")
            .text("requirements", "汛前完成主要河道清淤")
            .text("source_kind", "MEETING_DECISION")
            .text("deadline", "20个工作日")
            .text("step", step.to_string())
    };
    // The preview, sent the same way, offers the file input beside 确认立项.
    let preview = office.post_multipart("/items/new", fields("preview")).await;
    assert_eq!(preview.status(), StatusCode::OK);
    let preview = preview.text().await.expect("page");
    assert!(
        preview.contains("id=\"files\"") && preview.contains("确认立项"),
        "{preview}"
    );
    let saved = office
        .post_multipart(
            "/items/new",
            fields("save").part(
                "files",
                reqwest::multipart::Part::bytes(b"%PDF minutes".to_vec())
                    .file_name("常务会议纪要.pdf")
                    .mime_str("application/pdf")
                    .expect("mime"),
            ),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let item = item_by_title(&app, &d.supervisor, "河道清淤专项整治")
        .await
        .expect("registered");
    let id = item["databaseId"].as_i64().expect("id");
    let (_, page) = office.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("立项附件") && page.contains("常务会议纪要.pdf"),
        "{page}"
    );
    let files = app
        .graphql_as(Some(&d.supervisor), "query($id: ID!) { item(id: $id) { files { databaseId fileName } auditTrail { action } } }", json!({ "id": id }))
        .await;
    let file = files["data"]["item"]["files"][0]["databaseId"]
        .as_i64()
        .expect("a file");
    let trail: Vec<&str> = files["data"]["item"]["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(trail, ["REGISTER", "ATTACH_FILE"], "one write, 立项 first");
    let download = office.get(&format!("/items/{id}/files/{file}")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.bytes().await.expect("bytes").as_ref(),
        b"%PDF minutes"
    );

    // Assigned to 住建局: its head reads the file; 东山街道 does not even see it.
    ok(
        &app,
        &d.supervisor,
        &crate::district::item_mutation("assignItem", "AssignItemInput"),
        json!({ "itemId": id, "version": item["version"], "leadUnitId": d.housing }),
    )
    .await;
    let head = give_password(&app, &d.housing_head).await;
    let mut unit = Browser::new(&app);
    unit.sign_in(&head, PASSWORD).await;
    assert_eq!(
        unit.get(&format!("/items/{id}/files/{file}"))
            .await
            .status(),
        StatusCode::OK
    );
    let street = give_password(&app, &d.street_head).await;
    let mut other = Browser::new(&app);
    other.sign_in(&street, PASSWORD).await;
    assert_eq!(
        other
            .get(&format!("/items/{id}/files/{file}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
