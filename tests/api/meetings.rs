//! 会议议定事项: a 常务会议 with five decisions pasted from its 纪要, previewed and imported
//! as items of that source with the 纪要 as their 文号; the 纪要's own due, 2 working days
//! after the meeting [003 Art.47], across National Day.

use reqwest::StatusCode;
use serde_json::json;

use crate::district::District;
use crate::helpers::{error_code, shanghai, spawn_app};
use crate::web::{Browser, PASSWORD, give_password, hidden};

#[tokio::test]
async fn a_meeting_with_five_decisions_becomes_five_items_and_its_minutes_are_due() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let mut office = Browser::new(&app);
    office
        .sign_in(&give_password(&app, &d.supervisor).await, PASSWORD)
        .await;
    let (status, page) = office.page("/meetings/new").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = hidden(&page, "csrf");
    // As copied from a spreadsheet: tab-separated, no header, some cells empty.
    let decisions = "制定夜间经济发展实施方案\t区住房和城乡建设局\t区城市管理局\t15个工作日\t形成方案报区政府\n\
        整治学校周边交通秩序\t区城市管理局\t\t10个工作日\t\n\
        推进东山片区老旧小区改造\t区住房和城乡建设局\t东山街道办事处\t2026-12-31\t年底前完工\n\
        研究背街小巷保洁机制\t东山街道办事处\t\t\t\n\
        开展燃气安全专项检查\t区住房和城乡建设局\t区城市管理局、东山街道办事处\t5个工作日\t检查结果报区政府";
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "EXECUTIVE"),
        ("title", "研究夜间经济、学校周边交通等事项"),
        ("held_on", "2026-09-29"),
        ("chair", "张区长"),
        ("minutes_number", "区政府常务会议纪要〔2026〕12号"),
        ("decisions", decisions),
    ];
    let recorded = office.post("/meetings/new", &form).await;
    assert_eq!(recorded.status(), StatusCode::SEE_OTHER);
    let preview_at = recorded.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let (_, preview) = office.page(&preview_at).await;
    assert!(preview.contains("5</strong>行可直接导入"), "{preview}");
    assert!(
        preview.contains("会议决定事项") && preview.contains("区政府常务会议纪要〔2026〕12号"),
        "{preview}"
    );

    let csrf = hidden(&preview, "csrf");
    let mut commit = vec![("csrf", csrf.as_str())];
    commit.extend([
        ("line", "1"),
        ("line", "2"),
        ("line", "3"),
        ("line", "4"),
        ("line", "5"),
    ]);
    assert_eq!(
        office.post(&preview_at, &commit).await.status(),
        StatusCode::SEE_OTHER
    );
    let items = app
        .graphql_as(
            Some(&d.supervisor),
            "{ items(first: 20, filter: { sourceKinds: [MEETING_DECISION] }) { edges { node {
               title sourceReference stage deadlineRule assignments { lead unit { name } } } } } }",
            json!({}),
        )
        .await;
    let nodes = items["data"]["items"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{items}"));
    assert_eq!(nodes.len(), 5, "{items}");
    for node in nodes {
        assert_eq!(
            node["node"]["sourceReference"],
            "区政府常务会议纪要〔2026〕12号"
        );
        assert_eq!(node["node"]["stage"], "ASSIGNED");
    }
    let fourth = nodes
        .iter()
        .find(|n| n["node"]["title"] == "研究背街小巷保洁机制")
        .expect("decision 4");
    // No rule given: the source kind's own default.
    assert_eq!(
        fourth["node"]["deadlineRule"],
        ducha_domain::SourceKind::MeetingDecision
            .default_deadline()
            .to_string()
    );

    // The 纪要: due the second working day after the meeting (National Day between).
    let list = "{ meetings { databaseId minutesDueAt minutesOverdue minutesIssuedAt } }";
    let body = app.graphql_as(Some(&d.supervisor), list, json!({})).await;
    let meeting = &body["data"]["meetings"][0];
    let due =
        chrono::DateTime::parse_from_rfc3339(meeting["minutesDueAt"].as_str().unwrap_or_default())
            .unwrap_or_else(|_| panic!("{body}"));
    assert_eq!(due, shanghai(2026, 10, 8, 18, 0), "{body}");
    assert_eq!(meeting["minutesOverdue"], false);
    app.clock.set(shanghai(2026, 10, 9, 9, 0));
    let body = app.graphql_as(Some(&d.supervisor), list, json!({})).await;
    assert_eq!(
        body["data"]["meetings"][0]["minutesOverdue"], true,
        "{body}"
    );
    // Ten days on, the session has lapsed: sign in again.
    office
        .sign_in(&give_password(&app, &d.supervisor).await, PASSWORD)
        .await;
    let (_, page) = office.page("/meetings").await;
    assert!(
        page.contains("已逾期") && page.contains("登记纪要已印发"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let id = meeting["databaseId"].to_string();
    let issued = office
        .post(&format!("/meetings/{id}/minutes"), &[("csrf", &csrf)])
        .await;
    assert_eq!(issued.status(), StatusCode::SEE_OTHER);
    let again = app
        .graphql_as(
            Some(&d.supervisor),
            "mutation($id: Int!) { issueMinutes(databaseId: $id) { databaseId } }",
            json!({ "id": meeting["databaseId"] }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    let (_, page) = office.page("/meetings").await;
    assert!(page.contains("逾期印发"), "issued after its due: {page}");
    // One 纪要, one record.
    let mut twice = form.to_vec();
    twice[0] = ("csrf", csrf.as_str());
    let refused = office.post("/meetings/new", &twice).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("page").contains("不能重复登记"));

    // Refusals keep what was typed: a meeting not yet held, nothing pasted.
    let mut late = form.to_vec();
    late[0] = ("csrf", csrf.as_str());
    late[3] = ("held_on", "2026-12-01");
    let refused = office.post("/meetings/new", &late).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = refused.text().await.expect("page");
    assert!(
        said.contains("晚于今天") && said.contains("制定夜间经济发展实施方案"),
        "{said}"
    );
    // A unit's people have no meetings.
    let mut unit = Browser::new(&app);
    unit.sign_in(&give_password(&app, &d.housing_head).await, PASSWORD)
        .await;
    assert_eq!(unit.page("/meetings").await.0, StatusCode::FORBIDDEN);
}
