//! A unit's work in the pages with files and extensions, as a browser without script sends
//! it: progress and 办结反馈 carry their attachments in the same post (one write: the report
//! and its files, or nothing), a file over the limit is refused by name; an extension date on
//! a rest day is flagged before it is sent; an extension beyond the office's 10 working days
//! offers 批准 to a leader only; the timeline speaks Chinese.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::district::{District, assigned_item};
use crate::helpers::{TestApp, row_id, spawn_app};
use crate::web::{Browser, PASSWORD, give_password, hidden};

async fn signed_in<'a>(app: &'a TestApp, token: &str) -> Browser<'a> {
    let account = give_password(app, token).await;
    let mut browser = Browser::new(app);
    browser.sign_in(&account, PASSWORD).await;
    browser
}

async fn reports(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let body = app
        .graphql_as(
            Some(token),
            "query($id: ID!) { item(id: $id) { reports { kind body attachments { databaseId fileName size } } } }",
            json!({ "id": id }),
        )
        .await;
    body["data"]["item"]["reports"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

fn report_form(page: &str, action: &str, body: &str) -> Form {
    Form::new()
        .text("csrf", hidden(page, "csrf"))
        .text("version", hidden(page, "version"))
        .text("action", action.to_string())
        .text("body", body.to_string())
}

#[tokio::test]
async fn reports_carry_their_files_in_the_same_post_and_oversized_ones_are_refused() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "背街小巷环境整治").await;
    let id = row_id(&item["id"]);
    let staff = signed_in(&app, &d.housing_staff).await;
    let (_, page) = staff.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("enctype=\"multipart/form-data\"")
            && page.contains("data-max-bytes=\"20971520\"")
    );

    // Two files with the progress report, and an empty file input beside them.
    let form = report_form(&page, "REPORT_PROGRESS", "已完成8条小巷的整治")
        .part(
            "files",
            Part::bytes(b"%PDF-1.4 photos".to_vec())
                .file_name("现场照片.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        )
        .part(
            "files",
            Part::bytes(b"name,done\n".to_vec())
                .file_name("台账.csv")
                .mime_str("text/csv")
                .expect("mime"),
        )
        .part("files", Part::bytes(Vec::new()).file_name(""));
    let sent = staff.post_multipart(&format!("/items/{id}"), form).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let listed = reports(&app, &d.housing_staff, id).await;
    assert_eq!(listed.len(), 1);
    let files = listed[0]["attachments"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{listed:?}");
    assert_eq!(files[0]["fileName"], "现场照片.pdf");
    let (_, page) = staff.page(&format!("/items/{id}")).await;
    let file_id = files[1]["databaseId"].to_string();
    assert!(
        page.contains(&format!("href=\"/attachments/{file_id}\"")) && page.contains("台账.csv")
    );
    let download = staff.get(&format!("/attachments/{file_id}")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.bytes().await.expect("bytes").as_ref(),
        b"name,done\n"
    );

    // A file over 20 MB: refused by name, the page says so, nothing is written.
    let big = vec![b'x'; 20 * 1024 * 1024 + 1];
    let form = report_form(&page, "REPORT_PROGRESS", "再报一次")
        .part("files", Part::bytes(b"small".to_vec()).file_name("小.txt"))
        .part("files", Part::bytes(big).file_name("全景视频.mp4"));
    let refused = staff.post_multipart(&format!("/items/{id}"), form).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let text = refused.text().await.expect("page");
    assert!(
        text.contains("全景视频.mp4") && text.contains("20MB"),
        "{text}"
    );
    assert!(text.contains("再报一次"), "the words typed are kept");
    assert_eq!(
        reports(&app, &d.housing_staff, id).await.len(),
        1,
        "nothing written"
    );

    // A forged form with files changes nothing either.
    let forged = Form::new()
        .text("csrf", "guess")
        .text("version", "1")
        .text("action", "REPORT_PROGRESS")
        .text("body", "伪造")
        .part("files", Part::bytes(b"x".to_vec()).file_name("x.txt"));
    assert_eq!(
        staff
            .post_multipart(&format!("/items/{id}"), forged)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // 办结反馈 from the head, signed first, with its acceptance sheet.
    let head = signed_in(&app, &d.housing_head).await;
    let (_, page) = head.page(&format!("/items/{id}")).await;
    let csrf = hidden(&page, "csrf");
    let version = hidden(&page, "version");
    let signed = head
        .post(
            &format!("/items/{id}"),
            &[("csrf", &csrf), ("version", &version), ("action", "SIGN")],
        )
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let (_, page) = head.page(&format!("/items/{id}")).await;
    // A stale version: refused, and the words typed are kept in the open form.
    let stale = Form::new()
        .text("csrf", csrf.clone())
        .text("version", version.clone())
        .text("action", "SUBMIT_FEEDBACK")
        .text("body", "全部整治完毕，验收合格")
        .part(
            "files",
            Part::bytes(b"%PDF sheet".to_vec()).file_name("验收单.pdf"),
        );
    let refused = head.post_multipart(&format!("/items/{id}"), stale).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let text = refused.text().await.expect("page");
    assert!(text.contains("全部整治完毕，验收合格"), "the body is kept");
    assert_eq!(reports(&app, &d.housing_head, id).await.len(), 1);
    let feedback = report_form(&page, "SUBMIT_FEEDBACK", "全部整治完毕，验收合格").part(
        "files",
        Part::bytes(b"%PDF sheet".to_vec()).file_name("验收单.pdf"),
    );
    let sent = head.post_multipart(&format!("/items/{id}"), feedback).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let listed = reports(&app, &d.housing_head, id).await;
    let fed = listed
        .iter()
        .find(|r| r["kind"] == "FEEDBACK")
        .expect("feedback");
    assert_eq!(fed["attachments"][0]["fileName"], "验收单.pdf");

    // The timeline speaks Chinese and names the unit a row is about.
    let (_, page) = head.page(&format!("/items/{id}")).await;
    assert!(page.contains("交办主办单位") && page.contains("上传附件"));
    assert!(
        !page.contains("区城市管理局"),
        "a unit does not learn of the other units' parts"
    );
    let office = signed_in(&app, &d.supervisor).await;
    let (_, page) = office.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("交办协办单位</strong>（区城市管理局）"),
        "the office reads which co-unit: {page}"
    );
    for code in ["ASSIGN_LEAD", "ASSIGN_CO_UNIT", "ATTACH_FILE", "其他操作"] {
        assert!(!page.contains(code), "{code} shown as a code");
    }
}

#[tokio::test]
async fn extensions_are_flagged_on_rest_days_and_approved_beyond_the_office_by_a_leader() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "农贸市场提升改造").await;
    let id = row_id(&item["id"]);
    let head = signed_in(&app, &d.housing_head).await;
    let (_, page) = head.page(&format!("/items/{id}")).await;
    let csrf = hidden(&page, "csrf");
    let version = hidden(&page, "version");

    // A Saturday that is not a make-up working day: flagged, the words kept, nothing sent.
    let asked = head
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("action", "REQUEST_EXTENSION"),
                ("date", "2026-11-14"),
                ("reason", "需协调产权单位"),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = asked.text().await.expect("page");
    assert!(
        text.contains("是休息日") && text.contains("仍按此日期申请"),
        "{text}"
    );
    assert!(text.contains("需协调产权单位") && text.contains("value=\"2026-11-14\""));
    let none = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { extensionRequests { databaseId } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(none["data"]["item"]["extensionRequests"], json!([]));

    // A working Friday well beyond 10 working days.
    let asked = head
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("action", "REQUEST_EXTENSION"),
                ("date", "2026-11-13"),
                ("reason", "需协调产权单位"),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);

    // The office may refuse it but is not offered 批准; the leader is.
    let office = signed_in(&app, &d.supervisor).await;
    let (_, page) = office.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("须由区领导批准") && page.contains("不批准"),
        "{page}"
    );
    assert!(!page.contains("批准延期"));
    let leader = signed_in(&app, &d.leader).await;
    let (_, page) = leader.page(&format!("/items/{id}")).await;
    assert!(page.contains("批准延期"), "{page}");
    let request = hidden(&page, "request");
    let approved = leader
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &hidden(&page, "csrf")),
                ("version", &hidden(&page, "version")),
                ("action", "DECIDE_EXTENSION"),
                ("request", &request),
                ("approve", "1"),
                ("reason", "同意"),
            ],
        )
        .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);

    // The effective due comes first, the original beside it.
    let (_, page) = head.page(&format!("/items/{id}")).await;
    let effective = page.find("2026-11-13 18:00").expect("the extended due");
    let original = page.find("2026-10-09 18:00").expect("the original due");
    assert!(effective < original, "the effective due is shown first");
    assert!(page.contains("已延期"));
}

#[tokio::test]
async fn a_leader_writes_an_instruction_the_units_hear_and_follows_the_item_on_the_board() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "城区内涝点改造").await;
    let id = row_id(&item["id"]);
    let leader = signed_in(&app, &d.leader).await;
    let (_, page) = leader.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("发出批示") && page.contains("☆ 关注"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");

    // 批示: kept on the item, audited, and every unit on the item is told.
    let written = leader
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &csrf),
                ("version", &hidden(&page, "version")),
                ("action", "INSTRUCT"),
                ("body", "汛期前必须完成，住建局牵头、城管局配合，每周报进展"),
            ],
        )
        .await;
    assert_eq!(written.status(), StatusCode::SEE_OTHER);
    let head = signed_in(&app, &d.housing_head).await;
    let (_, seen) = head.page(&format!("/items/{id}")).await;
    assert!(
        seen.contains("领导批示") && seen.contains("汛期前必须完成"),
        "{seen}"
    );
    assert!(!seen.contains("发出批示"), "a unit is not offered 批示");
    let trail = app
        .graphql_as(Some(&d.supervisor), "query($id: ID!) { item(id: $id) { stage auditTrail { action actor { name } } instructions { body authorName } } }", json!({ "id": id }))
        .await;
    let item_now = &trail["data"]["item"];
    assert_eq!(item_now["stage"], "ASSIGNED", "the stage stays");
    assert!(
        item_now["auditTrail"]
            .as_array()
            .expect("trail")
            .iter()
            .any(|e| e["action"] == "INSTRUCT")
    );
    assert_eq!(
        item_now["instructions"][0]["body"],
        "汛期前必须完成，住建局牵头、城管局配合，每周报进展"
    );
    let outbox = app
        .graphql_as(
            Some(&d.supervisor),
            "{ outbox(first: 100) { recipient subject } }",
            json!({}),
        )
        .await;
    let told: Vec<&Value> = outbox["data"]["outbox"]
        .as_array()
        .expect("outbox")
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("领导批示"))
        })
        .collect();
    assert!(
        told.len() >= 2,
        "the lead and the co-unit are told: {outbox}"
    );

    // A unit head posting 批示 anyway is refused, and nothing is added.
    let (_, page) = head.page(&format!("/items/{id}")).await;
    let refused = head
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &hidden(&page, "csrf")),
                ("version", &hidden(&page, "version")),
                ("action", "INSTRUCT"),
                ("body", "自己批示"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // 关注: the board shows it first; 取消 takes it off.
    let followed = leader
        .post(
            &format!("/items/{id}/follow"),
            &[("csrf", &csrf), ("follow", "1")],
        )
        .await;
    assert_eq!(followed.status(), StatusCode::SEE_OTHER);
    let (_, board) = leader.page("/board").await;
    let mine = board.find("我关注的（1）").expect("followed first");
    let units = board.find("各单位（").expect("units");
    assert!(mine < units && board[mine..units].contains("城区内涝点改造"));
    let (_, page) = leader.page(&format!("/items/{id}")).await;
    assert!(page.contains("★ 已关注"));
    leader
        .post(
            &format!("/items/{id}/follow"),
            &[("csrf", &csrf), ("follow", "0")],
        )
        .await;
    let (_, board) = leader.page("/board").await;
    assert!(!board.contains("我关注的"));
    let (_, head_page) = head.page(&format!("/items/{id}")).await;
    assert!(!head_page.contains("☆ 关注"), "units are not offered 关注");
    let unit_follows = head
        .post(
            &format!("/items/{id}/follow"),
            &[("csrf", &hidden(&head_page, "csrf")), ("follow", "1")],
        )
        .await;
    assert_eq!(
        unit_follows.status(),
        StatusCode::FORBIDDEN,
        "units do not follow"
    );
}

#[tokio::test]
async fn an_instruction_on_a_suspended_item_leaves_it_free_to_resume() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "汛期排涝设施检修").await;
    let id = row_id(&item["id"]);
    let stage = |body: &Value| body["data"]["item"]["stage"].clone();
    let read = "query($id: ID!) { item(id: $id) { version stage } }";
    let now = app
        .graphql_as(Some(&d.supervisor), read, json!({ "id": id }))
        .await;
    let suspended = crate::district::ok(&app, &d.supervisor, &crate::district::item_mutation("suspendItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": now["data"]["item"]["version"], "reason": "等待汛期结束" })).await;
    assert_eq!(suspended["item"]["stage"], "SUSPENDED");
    crate::district::ok(&app, &d.leader, "mutation($input: WriteInstructionInput!) { writeInstruction(input: $input) { item { stage } } }",
        json!({ "itemId": id, "body": "汛期过后立即恢复检修" })).await;
    let now = app
        .graphql_as(Some(&d.supervisor), read, json!({ "id": id }))
        .await;
    assert_eq!(stage(&now), "SUSPENDED");
    let resumed = crate::district::ok(
        &app,
        &d.supervisor,
        &crate::district::item_mutation("resumeItem", "ItemReasonInput"),
        json!({ "itemId": id, "version": now["data"]["item"]["version"] }),
    )
    .await;
    assert_eq!(
        resumed["item"]["stage"], "ASSIGNED",
        "resumed to where it was suspended from"
    );
}
