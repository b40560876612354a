//! The web pages over real HTTP, as a browser without script uses them: sign-in (bad
//! passwords, the account's block, sessions that end), the pages in the reader's scope,
//! actions through forms with their CSRF token, the ledger's export, downloads.

use chrono::Duration;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::attachments::upload;
use crate::district::{District, assigned_item, item_mutation, m, ok};
use crate::helpers::{TestApp, row_id, spawn_app};

pub const PASSWORD: &str = "督查-2026-pass";

/// Gives the holder of `token` the password [`PASSWORD`] (as the administrator).
pub async fn give_password(app: &TestApp, token: &str) -> String {
    let me = app
        .graphql_as(Some(token), "{ me { databaseId account } }", json!({}))
        .await;
    let account = me["data"]["me"]["account"]
        .as_str()
        .expect("account")
        .to_string();
    let set = app
        .graphql_as(
            Some(&app.admin_token),
            "mutation($input: SetPasswordInput!) { setPassword(input: $input) { person { account } } }",
            json!({ "input": { "personId": me["data"]["me"]["databaseId"], "newPassword": PASSWORD } }),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");
    account
}

/// A browser: no redirects followed, the session cookie kept by hand.
pub struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            client: crate::helpers::http_builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    pub async fn sign_in(&mut self, account: &str, password: &str) -> reqwest::Response {
        let response = self
            .client
            .post(self.app.url("/login"))
            .form(&[
                ("account", account),
                ("password", password),
                ("next", "/todo"),
            ])
            .send()
            .await
            .expect("login");
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let set = set.to_str().expect("ascii");
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Lax"),
                "{set}"
            );
            self.cookie = set.split(';').next().map(str::to_string);
        }
        response
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.client.get(self.app.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("get")
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.expect("body"))
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.post(self.app.url(path)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("post")
    }
}

impl Browser<'_> {
    /// Posts a form with files (`multipart/form-data`), as a browser sends one.
    pub async fn post_multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.app.url(path)).multipart(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("post")
    }
}

/// The value of the first hidden input `name` on a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).expect("hidden input") + marker.len();
    page[start..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn sign_in_opens_a_session_that_ends_and_bad_passwords_are_limited() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let account = give_password(&app, &d.housing_head).await;
    let mut browser = Browser::new(&app);

    // Nobody signed in: every page leads to the sign-in form, and back afterwards.
    let anonymous = browser.get("/items?colour=RED").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.headers()[LOCATION],
        "/login?next=%2Fitems%3Fcolour%3DRED"
    );

    let wrong = browser.sign_in(&account, "not-the-password-1").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .expect("body")
            .contains("账号或密码不正确")
    );
    let unknown = browser.sign_in("nobody-here", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    // Case and spaces in the account do not matter; the session cookie is HttpOnly.
    let signed = browser
        .sign_in(&format!(" {} ", account.to_uppercase()), PASSWORD)
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed.headers()[LOCATION], "/todo");
    let (status, todo) = browser.page("/todo").await;
    assert_eq!(status, StatusCode::OK);
    assert!(todo.contains("赵局长") && todo.contains("我的待办"));
    let csrf = hidden(&todo, "csrf");

    // Idle past the limit: signed out.
    app.clock.advance(Duration::minutes(121));
    assert_eq!(browser.get("/todo").await.status(), StatusCode::SEE_OTHER);

    // Sign-out ends the session on the server, whatever the browser keeps.
    browser.sign_in(&account, PASSWORD).await;
    let (_, todo) = browser.page("/todo").await;
    let csrf_now = hidden(&todo, "csrf");
    assert_ne!(csrf, csrf_now, "each session has its own form token");
    let forged = browser.post("/logout", &[("csrf", "guess")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/todo").await.status(), StatusCode::OK);
    let out = browser.post("/logout", &[("csrf", &csrf_now)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/todo").await.status(), StatusCode::SEE_OTHER);

    // Five bad passwords in a row block the account, even for the right password.
    for _ in 0..4 {
        assert_eq!(
            browser.sign_in(&account, "wrong-pass-1").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = browser.sign_in(&account, "wrong-pass-1").await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let right_but_blocked = browser.sign_in(&account, PASSWORD).await;
    assert_eq!(right_but_blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        right_but_blocked
            .text()
            .await
            .expect("body")
            .contains("暂停登录")
    );
    app.clock.advance(Duration::minutes(16));
    assert_eq!(
        browser.sign_in(&account, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn passwords_are_set_by_the_administrator_or_by_their_owner_with_the_current_one() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let account = give_password(&app, &d.housing_head).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&account, PASSWORD).await;
    let me = app
        .graphql_as(Some(&d.housing_head), "{ me { databaseId } }", json!({}))
        .await;
    let id = &me["data"]["me"]["databaseId"];
    let change =
        "mutation($input: SetPasswordInput!) { setPassword(input: $input) { person { account } } }";
    let weak = app
        .graphql_as(Some(&d.housing_head), change, json!({ "input": { "personId": id, "currentPassword": PASSWORD, "newPassword": "short" } }))
        .await;
    assert_eq!(crate::helpers::error_code(&weak), "BAD_USER_INPUT");
    let without_current = app
        .graphql_as(
            Some(&d.housing_head),
            change,
            json!({ "input": { "personId": id, "newPassword": "another-pass-2" } }),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&without_current),
        "BAD_USER_INPUT"
    );
    let someone_else = app
        .graphql_as(
            Some(&d.housing_head),
            change,
            json!({ "input": { "personId": 1, "newPassword": "another-pass-2" } }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&someone_else), "FORBIDDEN");
    let changed = app
        .graphql_as(Some(&d.housing_head), change, json!({ "input": { "personId": id, "currentPassword": PASSWORD, "newPassword": "another-pass-2" } }))
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    // The session opened with the old password has ended.
    assert_eq!(browser.get("/todo").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        browser.sign_in(&account, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser.sign_in(&account, "another-pass-2").await.status(),
        StatusCode::SEE_OTHER
    );
    // A taken account is a conflict.
    let taken = app
        .graphql_as(
            Some(&app.admin_token),
            "mutation($input: CreatePersonInput!) { createPerson(input: $input) { token } }",
            json!({ "input": { "name": "重名", "role": "SUPERVISOR", "account": account } }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&taken), "CONFLICT");
}

#[tokio::test]
async fn a_unit_signs_from_its_to_do_and_the_office_rejects_and_closes_from_the_item_page() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "老旧小区加装电梯").await;
    let id = row_id(&assigned["id"]);
    let head = give_password(&app, &d.housing_head).await;
    let office = give_password(&app, &d.supervisor).await;
    let street = give_password(&app, &d.street_head).await;

    let mut unit = Browser::new(&app);
    unit.sign_in(&head, PASSWORD).await;
    let (_, todo) = unit.page("/todo").await;
    assert!(
        todo.contains("待签收") && todo.contains("老旧小区加装电梯"),
        "{todo}"
    );
    assert!(todo.contains(&format!("href=\"/items/{id}\"")));
    // Units have no board: their home is the to-do.
    assert_eq!(unit.get("/").await.headers()[LOCATION], "/todo");
    assert_eq!(unit.get("/board").await.headers()[LOCATION], "/todo");

    let (status, page) = unit.page(&format!("/items/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("value=\"SIGN\"") && !page.contains("value=\"VERIFY\""));
    let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
    let without_token = unit
        .post(
            &format!("/items/{id}"),
            &[("action", "SIGN"), ("version", &version)],
        )
        .await;
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);
    let signed = unit
        .post(
            &format!("/items/{id}"),
            &[("csrf", &csrf), ("action", "SIGN"), ("version", &version)],
        )
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        signed.headers()[LOCATION],
        format!("/items/{id}?done=SIGN").as_str()
    );
    let (_, after) = unit.page(&format!("/items/{id}?done=SIGN")).await;
    assert!(after.contains("签收：已完成") && !after.contains("value=\"SIGN\""));
    // The same form again is refused with the service's words, and changes nothing.
    let again = unit
        .post(
            &format!("/items/{id}"),
            &[("csrf", &csrf), ("action", "SIGN"), ("version", &version)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.expect("body").contains("已被他人修改"));
    let (_, todo) = unit.page("/todo").await;
    assert!(!todo.contains("待签收"), "signed items leave the to-do");

    // Feedback from the page.
    let (_, page) = unit.page(&format!("/items/{id}")).await;
    let fed = unit
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &csrf),
                ("action", "SUBMIT_FEEDBACK"),
                ("version", &hidden(&page, "version")),
                ("body", "已完成12部电梯加装"),
            ],
        )
        .await;
    assert_eq!(fed.status(), StatusCode::SEE_OTHER);

    // Another unit cannot open the item, nor act on it.
    let mut other = Browser::new(&app);
    other.sign_in(&street, PASSWORD).await;
    let (status, body) = other.page(&format!("/items/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("老旧小区加装电梯"));

    // The office: reject with a reason (required), then the unit resubmits, then verify and close.
    let mut desk = Browser::new(&app);
    desk.sign_in(&office, PASSWORD).await;
    let (_, todo) = desk.page("/todo").await;
    assert!(todo.contains("反馈待核查") && todo.contains("老旧小区加装电梯"));
    let (_, page) = desk.page(&format!("/items/{id}")).await;
    let desk_csrf = hidden(&page, "csrf");
    let no_reason = desk
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &desk_csrf),
                ("action", "REJECT"),
                ("version", &hidden(&page, "version")),
            ],
        )
        .await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let rejected = desk
        .post(
            &format!("/items/{id}"),
            &[
                ("csrf", &desk_csrf),
                ("action", "REJECT"),
                ("version", &hidden(&page, "version")),
                ("reason", "缺少验收材料"),
            ],
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::SEE_OTHER);
    let (_, todo) = unit.page("/todo").await;
    assert!(todo.contains("退回重办"), "{todo}");
    let (_, page) = unit.page(&format!("/items/{id}")).await;
    unit.post(
        &format!("/items/{id}"),
        &[
            ("csrf", &csrf),
            ("action", "SUBMIT_FEEDBACK"),
            ("version", &hidden(&page, "version")),
            ("body", "已补充验收材料"),
        ],
    )
    .await;
    for action in ["VERIFY", "CLOSE"] {
        let (_, page) = desk.page(&format!("/items/{id}")).await;
        assert!(
            page.contains(&format!("value=\"{action}\"")),
            "{action} offered"
        );
        let done = desk
            .post(
                &format!("/items/{id}"),
                &[
                    ("csrf", &desk_csrf),
                    ("action", action),
                    ("version", &hidden(&page, "version")),
                ],
            )
            .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "{action}");
    }
    let (_, page) = desk.page(&format!("/items/{id}")).await;
    assert!(
        page.contains("已销号") && page.contains("缺少验收材料"),
        "the timeline keeps the rejection"
    );
}

#[tokio::test]
async fn lists_boards_exports_and_files_stay_in_the_readers_scope() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "消防通道堵塞整治").await;
    let signed = ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;
    let fed = ok(
        &app,
        &d.housing_head,
        &m("submitFeedback", "SubmitFeedbackInput", "report { id }"),
        json!({ "itemId": assigned["id"], "version": signed["item"]["version"], "body": "已清理" }),
    )
    .await;
    let uploaded = upload(
        &app,
        &d.housing_staff,
        &fed["report"]["id"],
        "整改照片.pdf",
        b"%PDF-1.4 photo".to_vec(),
    )
    .await;
    let file = row_id(&uploaded["data"]["attachFile"]["attachment"]["id"]);
    let head = give_password(&app, &d.housing_head).await;
    let street = give_password(&app, &d.street_head).await;
    let office = give_password(&app, &d.supervisor).await;

    let mut unit = Browser::new(&app);
    unit.sign_in(&head, PASSWORD).await;
    let download = unit.get(&format!("/attachments/{file}")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment;")
    );
    assert_eq!(
        download.bytes().await.expect("bytes").as_ref(),
        b"%PDF-1.4 photo"
    );

    let mut other = Browser::new(&app);
    other.sign_in(&street, PASSWORD).await;
    assert_eq!(
        other.get(&format!("/attachments/{file}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, list) = other.page("/items").await;
    assert!(!list.contains("消防通道堵塞整治") && list.contains("没有符合条件的事项"));

    let mut desk = Browser::new(&app);
    desk.sign_in(&office, PASSWORD).await;
    let (status, board) = desk.page("/board").await;
    assert_eq!(status, StatusCode::OK);
    assert!(board.contains("区住房和城乡建设局") && board.contains("东山街道办事处"));
    let (_, streets) = desk.page("/board?kind=SUBDISTRICT&part=1").await;
    assert!(streets.contains("东山街道办事处") && !streets.contains("区住房和城乡建设局"));
    let (_, found) = desk
        .page("/items?q=%E6%B6%88%E9%98%B2&stage=FEEDBACK_SUBMITTED")
        .await;
    assert!(found.contains("消防通道堵塞整治"));
    let (_, none) = desk.page("/items?stage=CLOSED").await;
    assert!(!none.contains("消防通道堵塞整治"));
    let export = desk
        .get("/items/export.xlsx?stage=FEEDBACK_SUBMITTED")
        .await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(
        export.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = export.bytes().await.expect("xlsx");
    assert_eq!(bytes.get(..2), Some(&b"PK"[..]));
    let unit_export = unit.get("/items/export.xlsx").await;
    assert_eq!(unit_export.status(), StatusCode::OK);
    // Pages carry their security policy; assets come from the binary.
    let policy = desk.get("/todo").await.headers()["content-security-policy"].clone();
    assert!(
        policy
            .to_str()
            .expect("ascii")
            .contains("script-src 'self'")
    );
    assert_eq!(
        desk.get("/assets/web/ducha.js").await.status(),
        StatusCode::OK
    );
    let (status, _) = desk.page("/items/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let value: Value = app
        .graphql_as(
            Some(&d.supervisor),
            "{ todo { kind item { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(value["data"]["todo"][0]["kind"], "VERIFY", "{value}");
}
