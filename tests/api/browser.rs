//! The pages in a real browser: Debian's Chromium driven through chromedriver (W3C
//! WebDriver, spoken here over HTTP with reqwest), against the service on loopback. A unit
//! head signs in, opens the to-do and signs an item from its page while the office's board,
//! open in a second browser, changes by itself; the office rejects and closes from the item
//! page; another unit cannot open the item or its file.
//!
//! `.ci/run` installs `chromium` and `chromium-driver`. `DUCHA_CHROMEDRIVER` and
//! `DUCHA_CHROMIUM` name other binaries. The README's screenshots come from
//! `cargo test -p ducha-tests --test api browser::screenshots -- --ignored` (they are written
//! to `docs/`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::attachments::upload;
use crate::district::{District, assigned_item, m, ok};
use crate::helpers::{TestApp, row_id, spawn_app};
use crate::web::{PASSWORD, give_password};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start() -> Driver {
        let binary =
            std::env::var("DUCHA_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}): install Debian's chromium and chromium-driver (.ci/run does)")
            });
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    base: String,
}

impl Browser {
    pub async fn open(driver: &Driver, base: &str) -> Browser {
        let http = crate::helpers::http_client();
        let chromium =
            std::env::var("DUCHA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,1000", "--lang=zh-CN"
            ] }
        } } });
        // chromedriver takes a moment to listen.
        let started = Instant::now();
        let created: Value = loop {
            match http
                .post(format!("{}/session", driver.url))
                .json(&capabilities)
                .send()
                .await
            {
                Ok(response) => break response.json().await.expect("session json"),
                Err(_) if started.elapsed() < Duration::from_secs(15) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("chromedriver does not answer: {e}"),
            }
        };
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_string();
        Browser {
            http,
            session: format!("{}/session/{session}", driver.url),
            base: base.to_string(),
        }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("json");
        answer["value"].clone()
    }

    pub async fn go(&self, path: &str) {
        self.call(
            reqwest::Method::POST,
            "/url",
            Some(json!({ "url": format!("{}{path}", self.base) })),
        )
        .await;
    }

    pub async fn find(&self, css: &str) -> Option<String> {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT].as_str().map(str::to_string)
    }

    pub async fn element(&self, css: &str) -> String {
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("no element {css}"))
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn run(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    pub async fn text(&self) -> String {
        self.run("return document.body.innerText;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn path(&self) -> String {
        self.run("return location.pathname + location.search;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the page's text contains `wanted`, or fails saying what it shows.
    pub async fn wait_for_text(&self, wanted: &str) {
        let started = Instant::now();
        loop {
            let text = self.text().await;
            if text.contains(wanted) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "waited for “{wanted}”; the page at {} shows:\n{text}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn sign_in(&self, account: &str, password: &str) {
        self.go("/").await;
        self.wait_for_text("督查督办系统").await;
        self.type_into("#account", account).await;
        self.type_into("#password", password).await;
        self.click("form button[type=submit]").await;
        self.wait_for_text("退出").await;
    }

    pub async fn screenshot(&self, file: &std::path::Path) {
        use base64::Engine;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("png"))
            .expect("base64");
        std::fs::write(file, bytes).expect("screenshot written");
    }

    /// Sizes the window, as a phone (390 wide) or a wall screen (1920×1080) would be.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Whether the page is wider than the window (a phone would scroll it sideways).
    pub async fn scrolls_sideways(&self) -> bool {
        self.run("return document.documentElement.scrollWidth > window.innerWidth + 1;")
            .await
            .as_bool()
            .unwrap_or(true)
    }

    pub async fn close(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

pub fn base(app: &TestApp) -> String {
    app.url("")
}

#[tokio::test]
async fn a_unit_signs_in_the_browser_and_the_offices_board_changes_by_itself() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let assigned = assigned_item(&app, &d, "老旧小区加装电梯").await;
    let id = row_id(&assigned["id"]);
    let head = give_password(&app, &d.housing_head).await;
    let office = give_password(&app, &d.supervisor).await;
    let street = give_password(&app, &d.street_head).await;
    let driver = Driver::start();

    // The office watches its board.
    let board = Browser::open(&driver, &base(&app)).await;
    board.sign_in(&office, PASSWORD).await;
    board.go("/board").await;
    board.wait_for_text("实时更新中").await;
    let in_progress = "return [...document.querySelectorAll('ul.stages a')].find(a => a.textContent.includes('承办中'))?.querySelector('strong').textContent ?? '0';";
    assert_eq!(board.run(in_progress).await, "0", "nothing in progress yet");
    board.run("window.stayed = 'yes';").await;

    // The unit head: to-do, the item from it, 签收.
    let unit = Browser::open(&driver, &base(&app)).await;
    unit.sign_in(&head, PASSWORD).await;
    assert_eq!(unit.path().await, "/todo");
    unit.wait_for_text("待签收").await;
    unit.click(&format!("a[href='/items/{id}']")).await;
    unit.wait_for_text("老旧小区加装电梯").await;
    unit.click("form.inline button[type=submit]").await;
    unit.wait_for_text("签收：已完成").await;
    unit.go("/todo").await;
    unit.wait_for_text("我的待办").await;
    assert!(!unit.text().await.contains("待签收"));

    // The board changed without being reloaded.
    let started = Instant::now();
    loop {
        let shown = board.run(in_progress).await;
        if shown == "1" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the board did not change: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        board.run("return window.stayed;").await,
        "yes",
        "updated in place, not reloaded"
    );

    // Feedback (through the API), then the office rejects from the item page with a reason.
    let item = app
        .graphql_as(
            Some(&d.housing_head),
            "query($id: ID!) { item(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    let fed = ok(&app, &d.housing_head, &m("submitFeedback", "SubmitFeedbackInput", "report { id } item { version }"),
        json!({ "itemId": id, "version": item["data"]["item"]["version"], "body": "已完成12部电梯加装" })).await;
    let uploaded = upload(
        &app,
        &d.housing_head,
        &fed["report"]["id"],
        "验收单.pdf",
        b"%PDF-1.4 acceptance".to_vec(),
    )
    .await;
    let file = row_id(&uploaded["data"]["attachFile"]["attachment"]["id"]);
    board.go(&format!("/items/{id}")).await;
    board.wait_for_text("办结反馈").await;
    board.run("[...document.querySelectorAll('summary')].find(s => s.textContent === '退回重办').click();").await;
    board.type_into("#reason-reject", "缺少验收材料").await;
    board
        .run("document.querySelector('#reason-reject').form.querySelector('button').click();")
        .await;
    board.wait_for_text("退回重办：已完成").await;

    // The unit does it again; the office verifies and closes.
    let item = app
        .graphql_as(
            Some(&d.housing_head),
            "query($id: ID!) { item(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    ok(&app, &d.housing_head, &m("submitFeedback", "SubmitFeedbackInput", "report { id }"),
        json!({ "itemId": id, "version": item["data"]["item"]["version"], "body": "已补充验收材料" })).await;
    board.go(&format!("/items/{id}")).await;
    board.wait_for_text("核查通过").await;
    board.run("[...document.querySelectorAll('summary')].find(s => s.textContent === '核查通过').click();").await;
    board
        .run("document.querySelector('#verify-reason').form.querySelector('button').click();")
        .await;
    board.wait_for_text("核查通过：已完成").await;
    board.run("[...document.querySelectorAll('summary')].find(s => s.textContent === '销号').click();").await;
    board.type_into("#reason-close", "经核查已整改到位").await;
    // 销号 asks once more; the person says yes.
    board.run("window.confirm = () => true;").await;
    board
        .run("document.querySelector('#reason-close').form.querySelector('button').click();")
        .await;
    board.wait_for_text("销号：已完成").await;
    assert!(board.text().await.contains("经核查已整改到位"));
    assert!(board.text().await.contains("已销号"));

    // Another unit sees neither the item nor its file.
    let other = Browser::open(&driver, &base(&app)).await;
    other.sign_in(&street, PASSWORD).await;
    other.go(&format!("/items/{id}")).await;
    other.wait_for_text("事项不存在").await;
    assert!(!other.text().await.contains("老旧小区加装电梯"));
    other.go(&format!("/attachments/{file}")).await;
    other.wait_for_text("附件不存在").await;

    for browser in [board, unit, other] {
        browser.close().await;
    }
}

/// The README's pictures, from the demo district: `-- --ignored` writes them to `docs/`.
#[tokio::test]
#[ignore = "writes the README's screenshots; run by hand"]
async fn screenshots() {
    let app = spawn_app().await;
    let demo = ducha_server::demo::load(&app.state)
        .await
        .expect("demo")
        .expect("loaded");
    let driver = Driver::start();
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let office = Browser::open(&driver, &base(&app)).await;
    office.sign_in("duchashi", &demo.password).await;
    office.go("/board").await;
    office.wait_for_text("实时更新中").await;
    office.screenshot(&docs.join("web-board.png")).await;
    let red = office
        .run("return document.querySelector('ul.flagged a').getAttribute('href');")
        .await;
    office.go(red.as_str().expect("a red item")).await;
    office.wait_for_text("办理过程").await;
    office.screenshot(&docs.join("web-item.png")).await;
    office.go("/items/new").await;
    office.wait_for_text("试算期限并查重").await;
    office
        .type_into("#title", "关于加快背街小巷改造的批示")
        .await;
    office
        .type_into("#requirements", "两周内拿出改造方案并报区政府")
        .await;
    office
        .run("[...document.querySelectorAll('button')].find(b => b.textContent.includes('试算')).click();")
        .await;
    office.wait_for_text("试算结果").await;
    office.screenshot(&docs.join("web-register.png")).await;
    office.resize(390, 844).await;
    office.screenshot(&docs.join("web-phone.png")).await;
    office.resize(1400, 1000).await;
    let red_id = red
        .as_str()
        .and_then(|h| h.rsplit('/').next())
        .expect("an id");
    office.go(&format!("/items/print?item={red_id}")).await;
    office.wait_for_text("督办通知单").await;
    office.resize(1000, 1300).await;
    office.screenshot(&docs.join("web-notice.png")).await;
    office.resize(1400, 1000).await;
    let unit = Browser::open(&driver, &base(&app)).await;
    unit.sign_in("unit12", &demo.password).await;
    unit.wait_for_text("我的待办").await;
    unit.screenshot(&docs.join("web-todo.png")).await;
    office.close().await;
    unit.close().await;
}
