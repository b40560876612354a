//! Levels in a real browser (docs/rules.md §8): the head of 住建局 splits its signed part for
//! its two 科室 from the item page, at desktop and at phone width; a 科室 head finds the task
//! in the to-do, signs and reports it done; the 局 head accepts it. No GraphQL typed.

use serde_json::json;

use crate::browser::{Browser, Driver, base};
use crate::browser_office::{click_button, open_summary, submit_near};
use crate::district::{District, assigned_item, item_mutation, ok};
use crate::helpers::{row_id, spawn_app};
use crate::levels::sub_unit;
use crate::web::{PASSWORD, give_password};

#[tokio::test]
async fn a_unit_head_splits_its_part_for_two_sections_in_the_browser() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let (planning, planning_head) = sub_unit(&app, &d, d.housing, "住建局规划科").await;
    let (building, _) = sub_unit(&app, &d, d.housing, "住建局建设科").await;
    let assigned = assigned_item(&app, &d, "老旧小区加装电梯").await;
    ok(
        &app,
        &d.housing_head,
        &item_mutation("signItem", "ItemVersionInput"),
        json!({ "itemId": assigned["id"], "version": assigned["version"] }),
    )
    .await;
    let id = row_id(&assigned["id"]);
    let head_account = give_password(&app, &d.housing_head).await;
    let section_account = give_password(&app, &planning_head).await;
    let driver = Driver::start();

    let head = Browser::open(&driver, &base(&app)).await;
    head.sign_in(&head_account, PASSWORD).await;
    head.go(&format!("/items/{id}")).await;
    head.wait_for_text("分解或转办给下级单位").await;
    head.click("a[href$='/split']").await;
    head.wait_for_text("子任务默认期限").await;
    // A working day before the part's 2026-10-09 18:00: the first working day after 国庆.
    head.wait_for_text("2026-10-08 18:00").await;
    // At phone width the form scrolls only downwards.
    head.resize(390, 844).await;
    assert!(
        !head.scrolls_sideways().await,
        "the split page scrolls sideways on a phone"
    );
    head.resize(1400, 1000).await;

    // Nothing picked: refused, nothing made.
    click_button(&head, "确认分解或转办").await;
    head.wait_for_text("请至少选择一个下级单位").await;
    for (unit, measures, who) in [
        (planning, "摸清加装电梯需求，制定方案", "规划科 刘科长"),
        (building, "组织施工单位进场", "建设科 陈科长"),
    ] {
        head.click(&format!("#pick-{unit}")).await;
        head.type_into(&format!("#measures-{unit}"), measures).await;
        head.type_into(&format!("#responsible-{unit}"), who).await;
    }
    submit_near(&head, &format!("#measures-{planning}")).await;
    head.wait_for_text("分解任务：已完成").await;
    head.wait_for_text("下级任务（已办结、免除或退回 0 / 共 2）")
        .await;
    let page = head.text().await;
    assert!(
        page.contains("住建局规划科") && page.contains("住建局建设科"),
        "{page}"
    );
    assert!(page.contains("摸清加装电梯需求，制定方案"), "{page}");

    // The 科室 head: the task is in the to-do; sign it, report it done.
    let section = Browser::open(&driver, &base(&app)).await;
    section.sign_in(&section_account, PASSWORD).await;
    section.go("/todo").await;
    section.wait_for_text("交给本单位的子任务（1）").await;
    section.click("#tasks-mine a").await;
    section.wait_for_text("摸清加装电梯需求，制定方案").await;
    let seen = section.text().await;
    assert!(
        !seen.contains("组织施工单位进场"),
        "a 科室 sees its sibling's task: {seen}"
    );
    click_button(&section, "签收子任务").await;
    section.wait_for_text("签收子任务：已完成").await;
    open_summary(&section, "子任务办结反馈").await;
    let field = format!(
        "#submit_task_feedback-{}",
        first_task(&app, id, planning).await
    );
    section
        .type_into(&field, "方案已制定，已征求居民意见")
        .await;
    submit_near(&section, &field).await;
    section.wait_for_text("子任务办结反馈：已完成").await;
    section.wait_for_text("已反馈待核查").await;

    // The 局 head accepts it.
    head.go(&format!("/items/{id}")).await;
    head.wait_for_text("方案已制定，已征求居民意见").await;
    open_summary(&head, "子任务核查通过").await;
    click_button(&head, "确认子任务核查通过").await;
    head.wait_for_text("子任务核查通过：已完成").await;
    head.wait_for_text("下级任务（已办结、免除或退回 1 / 共 2）")
        .await;
    head.close().await;
    section.close().await;
}

/// The task handed to `unit` on item `item_id`.
async fn first_task(app: &crate::helpers::TestApp, item_id: i64, unit: i64) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::task::Entity::find()
        .filter(entity::task::Column::ItemId.eq(item_id))
        .filter(entity::task::Column::UnitId.eq(unit))
        .one(&app.state.db)
        .await
        .expect("tasks")
        .expect("a task")
        .id
}
