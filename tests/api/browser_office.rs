//! A whole item's life in a real browser, with no GraphQL typed by anyone: the office
//! registers it with a rule (the preview's due and the 重复督查 warning first), assigns it to a
//! lead and a co-unit; the unit head signs; staff report progress with a file; the unit asks
//! for an extension beyond the office's 10 working days and a leader approves it; the leader
//! writes a 批示 and follows the item; the office rejects once, then verifies and closes with a
//! comment; the administrator creates a unit and a person, resets the password and imports a
//! calendar correction after a dry run. Then the pages at phone width scroll only downwards,
//! and the wall screen pages through the units by itself.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::browser::{Browser, Driver, base};
use crate::district::{District, assigned_item};
use crate::helpers::{TestApp, spawn_app};
use crate::web::{PASSWORD, give_password};

/// Clicks the button whose text is `label` inside the form holding `#field`.
pub async fn submit_near(browser: &Browser, field: &str) {
    browser
        .run(&format!(
            "document.querySelector('{field}').form.querySelector('button[type=submit]').click();"
        ))
        .await;
}

pub async fn open_summary(browser: &Browser, label: &str) {
    browser
        .run(&format!(
            "[...document.querySelectorAll('summary')].find(s => s.textContent.trim() === '{label}').click();"
        ))
        .await;
}

pub async fn click_button(browser: &Browser, label: &str) {
    let clicked = browser
        .run(&format!(
            "const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === '{label}'); \
             if (b) {{ b.click(); return true; }} return false;"
        ))
        .await;
    assert_eq!(clicked, true, "no button {label}");
}

async fn due_text(app: &TestApp, token: &str, rule: &str) -> String {
    let body = app
        .graphql_as(
            Some(token),
            "query($s: DateTime!, $r: String!) { deadline(start: $s, rule: { text: $r }) { dueAt } }",
            json!({ "s": app.clock.now().to_rfc3339(), "r": rule }),
        )
        .await;
    let due = body["data"]["deadline"]["dueAt"].as_str().expect("due");
    chrono::DateTime::parse_from_rfc3339(due)
        .expect("instant")
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[tokio::test]
async fn an_item_runs_from_registration_to_closing_in_the_browser_without_graphql() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    assigned_item(&app, &d, "老旧小区加装电梯").await;
    let office_account = give_password(&app, &d.supervisor).await;
    let head_account = give_password(&app, &d.housing_head).await;
    let staff_account = give_password(&app, &d.housing_staff).await;
    let leader_account = give_password(&app, &d.leader).await;
    let made = app
        .graphql_signed_in(
            "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
            json!({ "input": { "name": "吴管理员", "role": "ADMIN", "account": "wu-admin", "password": PASSWORD } }),
        )
        .await;
    assert!(made["errors"].is_null(), "{made}");
    let driver = Driver::start();

    // 立项: the source kind's rule filled in by the script, replaced by the office's own;
    // the preview shows the due and the similar item; then saved.
    let office = Browser::open(&driver, &base(&app)).await;
    office.sign_in(&office_account, PASSWORD).await;
    office.go("/items").await;
    office.click("a[href='/items/new']").await;
    office.wait_for_text("试算期限并查重").await;
    assert_eq!(
        office
            .run("return document.querySelector('#deadline').value;")
            .await,
        "3个工作日"
    );
    office.type_into("#title", "老旧小区加装电梯二期").await;
    office
        .type_into("#requirements", "年底前完成二期12部电梯加装")
        .await;
    office
        .run("document.querySelector('#deadline').value = '';")
        .await;
    office.type_into("#deadline", "15个工作日内").await;
    click_button(&office, "试算期限并查重").await;
    office.wait_for_text("试算结果").await;
    let page = office.text().await;
    assert!(
        page.contains(&due_text(&app, &d.supervisor, "15个工作日").await),
        "{page}"
    );
    assert!(page.contains("重复督查提示") && page.contains("老旧小区加装电梯"));
    click_button(&office, "确认立项").await;
    office.wait_for_text("立项：已完成").await;
    let path = office.path().await;
    let id: i64 = path
        .trim_start_matches("/items/")
        .split('?')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an item page: {path}"));

    // 交办: the search box narrows the units; the dues are confirmed before sending.
    office.click(&format!("a[href='/items/{id}/assign']")).await;
    office.wait_for_text("主办（牵头）单位").await;
    office.type_into("#unit-filter", "城管").await;
    assert_eq!(
        office.run("return document.querySelector('fieldset.units li[data-name=\"区住房和城乡建设局\"]').hidden;").await,
        true,
        "the search hides other units"
    );
    office
        .run(&format!(
            "document.querySelector('#lead').value = '{}';",
            d.housing
        ))
        .await;
    office.click(&format!("#co-{}", d.urban)).await;
    click_button(&office, "下一步：核对期限").await;
    office.wait_for_text("请确认").await;
    assert!(
        office
            .text()
            .await
            .contains(&due_text(&app, &d.supervisor, "14个工作日").await),
        "the co-unit a day earlier"
    );
    click_button(&office, "确认交办").await;
    office.wait_for_text("交办：已完成").await;

    // The unit head signs; staff report with a file.
    let head = Browser::open(&driver, &base(&app)).await;
    head.sign_in(&head_account, PASSWORD).await;
    head.go(&format!("/items/{id}")).await;
    head.wait_for_text("老旧小区加装电梯二期").await;
    click_button(&head, "签收").await;
    head.wait_for_text("签收：已完成").await;
    let staff = Browser::open(&driver, &base(&app)).await;
    staff.sign_in(&staff_account, PASSWORD).await;
    staff.go(&format!("/items/{id}")).await;
    staff.wait_for_text("报送进展").await;
    open_summary(&staff, "报送进展").await;
    staff
        .type_into("#body-report_progress", "已完成5部电梯的基础施工")
        .await;
    let file = std::env::temp_dir().join(format!("ducha-{}-施工照片.pdf", std::process::id()));
    std::fs::write(&file, b"%PDF-1.4 site photos").expect("file");
    staff
        .type_into("#files-report_progress", file.to_str().expect("path"))
        .await;
    submit_near(&staff, "#body-report_progress").await;
    staff.wait_for_text("报送进展：已完成").await;
    assert!(staff.text().await.contains("施工照片.pdf"));

    // An extension beyond 10 working days: the office cannot approve it, the leader can.
    head.go(&format!("/items/{id}")).await;
    head.wait_for_text("申请延期").await;
    open_summary(&head, "申请延期").await;
    head.run("document.querySelector('#ext-date').value = '2026-12-31';")
        .await;
    head.type_into("#ext-reason", "部分楼栋需业主协商").await;
    submit_near(&head, "#ext-reason").await;
    head.wait_for_text("申请延期：已完成").await;
    office.go(&format!("/items/{id}")).await;
    office.wait_for_text("须由区领导批准").await;
    assert!(!office.text().await.contains("批准延期"));
    let leader = Browser::open(&driver, &base(&app)).await;
    leader.sign_in(&leader_account, PASSWORD).await;
    leader.go(&format!("/items/{id}")).await;
    leader.wait_for_text("批准延期").await;
    click_button(&leader, "批准延期").await;
    leader.wait_for_text("审批延期：已完成").await;
    assert!(leader.text().await.contains("延期至 2026-12-31 18:00"));

    // The leader's 批示, and 关注 on the board.
    open_summary(&leader, "领导批示").await;
    leader
        .type_into("#instruction-body", "要加快进度，春节前全部投用")
        .await;
    submit_near(&leader, "#instruction-body").await;
    leader.wait_for_text("领导批示：已完成").await;
    click_button(&leader, "☆ 关注").await;
    leader.wait_for_text("★ 已关注").await;
    leader.go("/board").await;
    leader.wait_for_text("我关注的（1）").await;

    // 办结反馈, rejected once, given again, verified and closed with a comment.
    for round in ["已完成12部电梯加装", "已补齐验收资料"] {
        head.go(&format!("/items/{id}")).await;
        head.wait_for_text("办结反馈").await;
        open_summary(&head, "办结反馈").await;
        head.type_into("#body-submit_feedback", round).await;
        submit_near(&head, "#body-submit_feedback").await;
        head.wait_for_text("办结反馈：已完成").await;
        office.go(&format!("/items/{id}")).await;
        office.wait_for_text("核查通过").await;
        if round.starts_with("已完成") {
            open_summary(&office, "退回重办").await;
            office
                .type_into("#reason-reject", "缺少特种设备验收报告")
                .await;
            submit_near(&office, "#reason-reject").await;
            office.wait_for_text("退回重办：已完成").await;
        }
    }
    open_summary(&office, "核查通过").await;
    submit_near(&office, "#verify-reason").await;
    office.wait_for_text("核查通过：已完成").await;
    open_summary(&office, "销号").await;
    office
        .type_into("#reason-close", "经现场核查，12部电梯已全部投用")
        .await;
    office.run("window.confirm = () => true;").await;
    submit_near(&office, "#reason-close").await;
    office.wait_for_text("销号：已完成").await;
    let closed = office.text().await;
    assert!(closed.contains("已销号") && closed.contains("经现场核查，12部电梯已全部投用"));
    assert!(
        !closed.contains("ASSIGN_LEAD"),
        "the timeline reads in Chinese"
    );

    // The administrator: a unit, a person, a new password, a calendar correction tried first.
    let admin = Browser::open(&driver, &base(&app)).await;
    admin.sign_in("wu-admin", PASSWORD).await;
    admin.go("/admin/units").await;
    admin.wait_for_text("新建单位").await;
    admin.type_into("#name", "区水务局").await;
    admin
        .type_into("#contacts", "李科长 li@example.gov.cn")
        .await;
    submit_near(&admin, "#name").await;
    admin.wait_for_text("已新建单位“区水务局”").await;
    admin.go("/admin/people").await;
    admin.wait_for_text("新建人员").await;
    admin.type_into("#name", "周干事").await;
    admin.type_into("#account", "zhou").await;
    admin.type_into("#password", "起步-pass-2026").await;
    admin
        .run("document.querySelector('#role').value = 'SUPERVISOR';")
        .await;
    submit_near(&admin, "#name").await;
    admin.wait_for_text("周干事的访问令牌").await;
    admin
        .run("const row = [...document.querySelectorAll('tr')].find(r => r.textContent.includes('周干事')); row.querySelector('summary').click();")
        .await;
    admin
        .run("const row = [...document.querySelectorAll('tr')].find(r => r.textContent.includes('周干事')); const input = row.querySelector('input[name=new_password]'); input.value = '换新-pass-2026'; input.form.querySelector('button').click();")
        .await;
    admin.wait_for_text("已为周干事重设密码").await;
    admin.go("/admin/calendar").await;
    admin.wait_for_text("导入或更正一年的放假安排").await;
    let correction = json!({ "year": 2026, "papers": [], "days": [
        { "name": "区庆", "date": "2026-12-30", "isOffDay": true } ] })
    .to_string();
    admin
        .run(&format!(
            "document.querySelector('#json').value = {};",
            serde_json::to_string(&correction).expect("js")
        ))
        .await;
    click_button(&admin, "试算（不保存）").await;
    admin.wait_for_text("试算结果").await;
    assert!(admin.text().await.contains("2026-12-30"));
    admin.run("window.confirm = () => true;").await;
    click_button(&admin, "确认导入").await;
    admin.wait_for_text("已导入2026年放假安排").await;

    // At phone width no page scrolls sideways.
    for (browser, paths) in [
        (
            &office,
            vec![
                "/todo".to_string(),
                "/items".into(),
                format!("/items/{id}"),
                "/board".into(),
                "/items/new".into(),
                "/admin/mail".into(),
            ],
        ),
        (
            &admin,
            vec![
                "/admin/units".into(),
                "/admin/people".into(),
                "/admin/policy".into(),
                "/admin/calendar".into(),
            ],
        ),
        (&head, vec!["/todo".into(), format!("/items/{id}")]),
    ] {
        browser.resize(390, 844).await;
        for path in paths {
            browser.go(&path).await;
            browser.wait_for_text("退出").await;
            assert!(
                !browser.scrolls_sideways().await,
                "{path} scrolls sideways at 390 px"
            );
        }
    }

    // The wall screen shows its units a page at a time, turning by itself.
    office.resize(1920, 1080).await;
    office.go("/board?wall=1").await;
    office.wait_for_text("实时更新中").await;
    let shown = "return [...document.querySelectorAll('table.units tbody tr')].filter(r => !r.hidden).length;";
    let total = "return document.querySelectorAll('table.units tbody tr').length;";
    assert!(office.run(shown).await.as_i64() > Some(0));
    assert!(office.run(shown).await.as_i64() <= office.run(total).await.as_i64());
    let started = Instant::now();
    while office.run("return document.querySelector('table.units').getBoundingClientRect().bottom <= window.innerHeight;").await != true {
        assert!(started.elapsed() < Duration::from_secs(10), "the units table overflows the wall");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    std::fs::remove_file(&file).ok();
    for browser in [office, head, staff, leader, admin] {
        browser.close().await;
    }
}
