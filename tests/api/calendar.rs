//! The calendar over GraphQL: the answers, their explanations, and clear errors.

use chrono::{NaiveDate, Utc};
use ducha_server::config::Settings;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{Backend, error_code, spawn_app, spawn_app_on, spawn_with};

#[tokio::test]
async fn the_makeup_saturday_after_national_day_is_a_working_day() {
    let app = spawn_app().await;
    let body = app
        .graphql_signed_in(
            "query($d: Date!) { isWorkingDay(date: $d) { date working kind holidayName provisional } }",
            json!({ "d": "2026-10-10" }),
        )
        .await;
    assert_eq!(
        body["data"]["isWorkingDay"],
        json!({ "date": "2026-10-10", "working": true, "kind": "MAKEUP_WORKDAY", "holidayName": "国庆节", "provisional": false })
    );
    let holiday = app
        .graphql_signed_in(
            "{ isWorkingDay(date: \"2026-10-05\") { working kind holidayName } }",
            json!({}),
        )
        .await;
    assert_eq!(holiday["data"]["isWorkingDay"]["kind"], "HOLIDAY");
    assert_eq!(holiday["data"]["isWorkingDay"]["working"], false);
}

#[tokio::test]
async fn add_and_between_agree_with_the_cli_contract() {
    let app = spawn_app().await;
    let body = app
        .graphql_signed_in(
            r#"{ add: addWorkingDays(date: "2026-09-30", days: 3) { date provisional }
                 back: addWorkingDays(date: "2026-10-08", days: -1) { date }
                 count: workingDaysBetween(from: "2026-09-30", to: "2026-10-12") { days provisional }
                 reverse: workingDaysBetween(from: "2026-10-12", to: "2026-09-30") { days }
                 next: addWorkingDays(date: "2026-12-31", days: 3) { date provisional } }"#,
            json!({}),
        )
        .await;
    let data = &body["data"];
    assert_eq!(
        data["add"],
        json!({ "date": "2026-10-10", "provisional": false })
    );
    assert_eq!(data["back"]["date"], "2026-09-30");
    assert_eq!(data["count"], json!({ "days": 4, "provisional": false }));
    assert_eq!(data["reverse"]["days"], -4);
    assert_eq!(
        data["next"],
        json!({ "date": "2027-01-06", "provisional": true })
    );
}

const DEADLINE: &str = r#"query($start: DateTime!, $rule: DeadlineRuleInput!) {
  deadline(start: $start, rule: $rule) {
    dueAt dueDate provisional calendarVersion
    explanation { rule startDate rolledFrom provisionalYears summary crossed { date name kind local } }
  }
}"#;

#[tokio::test]
async fn a_leader_instruction_assigned_before_national_day_is_due_on_the_makeup_saturday() {
    let app = spawn_app_on(Backend::Postgres).await;
    // 2026-09-30 16:00 in Shanghai; [000 Art.67] gives 批示件 3 working days.
    let body = app
        .graphql_signed_in(
            DEADLINE,
            json!({ "start": "2026-09-30T08:00:00Z", "rule": { "workingDays": 3 } }),
        )
        .await;
    let deadline = &body["data"]["deadline"];
    assert_eq!(
        deadline["dueAt"], "2026-10-10T10:00:00+00:00",
        "18:00 Shanghai"
    );
    assert_eq!(deadline["dueDate"], "2026-10-10");
    assert_eq!(deadline["provisional"], false);
    let crossed = deadline["explanation"]["crossed"].as_array().expect("list");
    assert_eq!(
        crossed.len(),
        8,
        "seven days off and one 调休 Saturday: {crossed:?}"
    );
    assert_eq!(
        crossed[7],
        json!({ "date": "2026-10-10", "name": "国庆节", "kind": "WORK_DAY", "local": false })
    );
    let summary = deadline["explanation"]["summary"]
        .as_str()
        .expect("summary");
    assert!(
        summary.contains("国庆节") && summary.contains("调休上班"),
        "{summary}"
    );
}

#[tokio::test]
async fn text_rules_are_parsed_and_calendar_days_roll_forward() {
    let app = spawn_app().await;
    let body = app
        .graphql_signed_in(
            DEADLINE,
            json!({ "start": "2026-09-25T01:00:00Z", "rule": { "text": "7天内" } }),
        )
        .await;
    let explanation = &body["data"]["deadline"]["explanation"];
    assert_eq!(body["data"]["deadline"]["dueDate"], "2026-10-08");
    assert_eq!(explanation["rule"], "7天");
    assert_eq!(explanation["rolledFrom"], "2026-10-02");
}

#[tokio::test]
async fn deadlines_past_the_published_years_say_they_are_provisional() {
    let app = spawn_app().await;
    let body = app
        .graphql_signed_in(
            DEADLINE,
            json!({ "start": "2026-12-30T02:00:00Z", "rule": { "workingDays": 5 } }),
        )
        .await;
    let deadline = &body["data"]["deadline"];
    assert_eq!(deadline["provisional"], true);
    assert_eq!(deadline["explanation"]["provisionalYears"], json!([2027]));
    assert!(
        deadline["explanation"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("2027年的放假安排尚未公布")
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_a_code_and_a_chinese_reason() {
    let app = spawn_app().await;
    let cases: [(&str, Value); 4] = [
        (
            DEADLINE,
            json!({ "start": "2026-09-30T08:00:00Z", "rule": { "text": "三天左右" } }),
        ),
        (
            DEADLINE,
            json!({ "start": "2026-09-30T08:00:00Z", "rule": { "workingDays": 3, "hours": 4 } }),
        ),
        (
            "{ isWorkingDay(date: \"2026-02-30\") { working } }",
            json!({}),
        ),
        (
            "{ addWorkingDays(date: \"2026-01-01\", days: 2000000000) { date } }",
            json!({}),
        ),
    ];
    for (query, variables) in cases {
        let body = app.graphql_signed_in(query, variables.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{variables}: {body}");
        assert!(
            body["data"].is_null()
                || body["data"]
                    .as_object()
                    .is_some_and(|d| d.values().all(Value::is_null))
        );
    }
    let unparsable = app
        .graphql_signed_in(
            DEADLINE,
            json!({ "start": "2026-09-30T08:00:00Z", "rule": { "text": "三天左右" } }),
        )
        .await;
    let message = unparsable["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("无法识别的期限规则"), "{message}");
    let syntax = app.graphql_signed_in("{ isWorkingDay(", json!({})).await;
    assert_eq!(error_code(&syntax), "GRAPHQL_PARSE_FAILED");
}

#[tokio::test]
async fn the_calendar_lists_every_year_with_its_notice_and_amendments() {
    let app = spawn_app().await;
    let body = app
        .graphql_signed_in(
            "{ calendar { version timeZone officeCutoff years { year notice { title document } amendments { title document issued } } } }",
            json!({}),
        )
        .await;
    let calendar = &body["data"]["calendar"];
    assert_eq!(calendar["timeZone"], "Asia/Shanghai");
    assert_eq!(calendar["officeCutoff"], "18:00");
    let years = calendar["years"].as_array().expect("years");
    let numbers: Vec<i64> = years.iter().filter_map(|y| y["year"].as_i64()).collect();
    assert_eq!(numbers, (2004..=2026).collect::<Vec<i64>>());
    let y2020 = &years[2020 - 2004];
    assert_eq!(y2020["amendments"][0]["document"], "国办发明电〔2020〕1号");
    assert_eq!(y2020["amendments"][0]["issued"], "2020-01-26");
}

#[tokio::test]
async fn local_days_off_stored_in_the_database_apply_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("ducha-test-{}", uuid::Uuid::new_v4().simple()));
    let mut settings = Settings::for_tests();
    settings.data_dir = dir.clone();
    settings.database_url = format!("sqlite://{}?mode=rwc", dir.join("ducha.db").display());
    // The restarted instance creates no administrator (the first did): it reads the
    // calendar as anyone may when the office says so.
    settings.http.public_calendar = true;
    let before = {
        let app = spawn_with(settings.clone()).await;
        entity::calendar_override::ActiveModel {
            date: Set(NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")),
            working: Set(false),
            name: Set("区运动会".to_string()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("insert override");
        app.graphql_signed_in("{ calendar { version } }", json!({}))
            .await
    };
    let app = spawn_with(settings).await;
    let body = app
        .graphql_signed_in(
            "{ isWorkingDay(date: \"2026-11-25\") { working holidayName } calendar { version localDays { date name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["isWorkingDay"],
        json!({ "working": false, "holidayName": "区运动会" })
    );
    assert_eq!(
        body["data"]["calendar"]["localDays"],
        json!([{ "date": "2026-11-25", "name": "区运动会" }])
    );
    assert_ne!(
        body["data"]["calendar"]["version"],
        before["data"]["calendar"]["version"]
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn an_administrator_sets_a_local_day_off_and_open_deadlines_move() {
    let app = crate::helpers::spawn_app().await;
    let d = crate::district::District::create(&app).await;
    app.clock.set(crate::helpers::shanghai(2026, 11, 23, 9, 0));
    let assigned = crate::district::assigned_item(&app, &d, "区运动会期间交通保障").await;
    assert_eq!(
        assigned["assignments"][0]["dueAt"],
        "2026-11-26T10:00:00+00:00"
    );
    const SET: &str = "mutation($input: SetLocalDayInput!) { setLocalDay(input: $input) { calendarVersion recalculated } }";
    let input = json!({ "input": { "date": "2026-11-25", "working": false, "name": "区运动会" } });
    let denied = app
        .graphql_as(Some(&d.supervisor), SET, input.clone())
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");
    let set = app.graphql_as(Some(&d.admin), SET, input).await;
    assert_eq!(set["data"]["setLocalDay"]["recalculated"], 2, "{set}");
    let item = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { assignments { dueAt } } isWorkingDay(date: \"2026-11-25\") { working holidayName } }",
            json!({ "id": assigned["id"] }),
        )
        .await;
    assert_eq!(
        item["data"]["item"]["assignments"][0]["dueAt"], "2026-11-27T10:00:00+00:00",
        "one more day"
    );
    assert_eq!(
        item["data"]["isWorkingDay"],
        json!({ "working": false, "holidayName": "区运动会" })
    );
}

/// A local day set through one instance is a day off on the other too, once its live tail
/// hears the audit row: deadlines and colours there are computed on the same calendar.
#[tokio::test]
async fn a_local_day_set_through_one_instance_is_known_to_the_other() {
    let (a, b) = crate::helpers::two_instances_on_postgres().await;
    const SET: &str =
        "mutation($input: SetLocalDayInput!) { setLocalDay(input: $input) { calendarVersion } }";
    const ASK: &str = "{ isWorkingDay(date: \"2026-11-25\") { working holidayName } }";
    let admin = Some(a.admin_token.as_str());
    let before = b.graphql_as(admin, ASK, json!({})).await;
    assert_eq!(before["data"]["isWorkingDay"]["working"], true, "{before}");
    let input = json!({ "input": { "date": "2026-11-25", "working": false, "name": "区运动会" } });
    let set = a.graphql_as(admin, SET, input).await;
    assert!(set["errors"].is_null(), "{set}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = b.graphql_as(admin, ASK, json!({})).await;
        if now["data"]["isWorkingDay"] == json!({ "working": false, "holidayName": "区运动会" })
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other instance still calls it a working day: {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
