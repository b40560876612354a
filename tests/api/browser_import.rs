//! The ledger's import, selection and printed forms in Chromium, at desktop and phone
//! width: an office's GBK CSV with a good and a bad row uploaded through the file input, the
//! problem read beside its cell, the good row imported; then two items ticked in the ledger,
//! assigned together, and their 督办通知单 printed (the page lays out on a phone too).

use crate::browser::{Browser, Driver, base};
use crate::district::{District, ok};
use crate::helpers::spawn_app;
use crate::web::{PASSWORD, give_password};
use serde_json::json;

#[tokio::test]
async fn the_office_imports_a_ledger_ticks_items_and_prints_their_notices_in_chromium() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let account = give_password(&app, &d.supervisor).await;
    let dir = std::env::temp_dir().join(format!("ducha-import-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("2026年台账.csv");
    let text = "事项名称,牵头单位,配合单位,完成时限\n推进老旧小区加装电梯,区住房和城乡建设局,区城市管理局,10个工作日\n整治背街小巷,区不存在局,,5个工作日\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    std::fs::write(&file, gbk.as_ref()).expect("file");

    let driver = Driver::start();
    let office = Browser::open(&driver, &base(&app)).await;
    office.sign_in(&account, PASSWORD).await;
    office.go("/items").await;
    office.click("a[href='/items/import']").await;
    office.wait_for_text("下载导入模板").await;
    office
        .type_into("#file", file.to_str().expect("utf-8 path"))
        .await;
    office.click("form.card button.primary").await;
    office.wait_for_text("导入台账：预览").await;
    let preview = office.text().await;
    assert!(preview.contains("CSV，GBK编码"), "{preview}");
    assert!(
        preview.contains("第3行B列（主办单位）：没有名为“区不存在局”的单位"),
        "{preview}"
    );
    let disabled = office.run("return document.querySelector('#line-3').disabled && document.querySelector('#line-2').checked;").await;
    assert_eq!(disabled, json!(true));
    office.resize(390, 844).await;
    assert!(!office.scrolls_sideways().await, "the preview fits a phone");
    office.resize(1280, 900).await;
    office.click("form button.primary").await;
    office.wait_for_text("导入报告").await;
    assert!(office.text().await.contains("立项1项，其中同时交办1项"));

    // Two more items waiting; ticked in the ledger and assigned together.
    for title in ["清理背街小巷卫生死角", "整治东山片区占道经营"] {
        ok(
            &app,
            &d.supervisor,
            "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id } } }",
            json!({ "title": title, "requirements": "按期完成", "sourceKind": "LEADER_INSTRUCTION" }),
        )
        .await;
    }
    office.go("/items?stage=REGISTERED").await;
    office.wait_for_text("清理背街小巷卫生死角").await;
    office.click("#select-all").await;
    office.run("[...document.querySelectorAll('form#selection button')].find(b => b.textContent.includes('批量交办')).click();").await;
    office.wait_for_text("2个待交办").await;
    office
        .run(&format!(
            "document.querySelector('#lead').value = '{}';",
            d.housing
        ))
        .await;
    office.click("form.wide button.primary").await;
    office.wait_for_text("批量交办结果").await;
    assert!(office.text().await.contains("2项已完成，0项未办理"));

    office.go("/items").await;
    office.wait_for_text("清理背街小巷卫生死角").await;
    office.click("#select-all").await;
    office.run("[...document.querySelectorAll('form#selection button')].find(b => b.textContent.includes('打印督办通知单')).click();").await;
    office.wait_for_text("督办通知单（3个事项）").await;
    let sheets = office
        .run("return document.querySelectorAll('article.sheet').length;")
        .await;
    assert_eq!(sheets, json!(3));
    assert!(office.text().await.contains("区政府办公室督查室"));
    office.resize(390, 844).await;
    assert!(
        !office.scrolls_sideways().await,
        "the forms fit a phone's screen"
    );
    office.close().await;
    std::fs::remove_dir_all(&dir).ok();
}
