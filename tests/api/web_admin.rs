//! 系统管理 in the pages, as a browser without script uses them: the administrator keeps units
//! (create, rename, contact addresses), people (create, reset a password, reissue a token shown
//! once), the colour policy (a new version, earlier ones listed), the calendar (a year tried
//! first, then imported; a local day) and the mail queue; nobody else may.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::district::{District, assign_with};
use crate::helpers::{TestApp, spawn_app};
use crate::web::{Browser, PASSWORD, give_password, hidden};

pub async fn signed_in_as<'a>(app: &'a TestApp, token: &str) -> (Browser<'a>, String) {
    let account = give_password(app, token).await;
    let mut browser = Browser::new(app);
    browser.sign_in(&account, PASSWORD).await;
    let (_, page) = browser.page("/todo").await;
    let csrf = hidden(&page, "csrf");
    (browser, csrf)
}

/// A second administrator with an account (the first one's password is its own to set).
pub async fn admin_signed_in(app: &TestApp) -> (Browser<'_>, String) {
    let created = app
        .graphql_signed_in(
            "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
            json!({ "input": { "name": "吴管理员", "role": "ADMIN", "account": "wu-admin", "password": PASSWORD } }),
        )
        .await;
    assert!(created["errors"].is_null(), "{created}");
    let mut browser = Browser::new(app);
    browser.sign_in("wu-admin", PASSWORD).await;
    let (_, page) = browser.page("/todo").await;
    let csrf = hidden(&page, "csrf");
    (browser, csrf)
}

async fn units(app: &TestApp, token: &str) -> Vec<Value> {
    let body = app
        .graphql_as(
            Some(token),
            "{ units { databaseId name kind contacts { name email } } }",
            json!({}),
        )
        .await;
    body["data"]["units"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

#[tokio::test]
async fn the_administrator_keeps_units_and_people_in_the_pages() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let (admin, csrf) = admin_signed_in(&app).await;

    // A unit with its contacts; a contact line without an address is refused by its field.
    let (status, page) = admin.page("/admin/units").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("区住房和城乡建设局"));
    let refused = admin
        .post(
            "/admin/units",
            &[
                ("csrf", &csrf),
                ("name", "区水务局"),
                ("kind", "DEPARTMENT"),
                ("head_name", "钱局长"),
                ("contacts", "李科长 li@example.gov.cn\n王科长"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.expect("page");
    assert!(
        refused.contains("id=\"contacts-error\"") && refused.contains("第2行"),
        "{refused}"
    );
    assert!(refused.contains("value=\"区水务局\"") && refused.contains("王科长"));
    assert!(
        !units(&app, &d.admin)
            .await
            .iter()
            .any(|u| u["name"] == "区水务局")
    );
    let created = admin
        .post(
            "/admin/units",
            &[
                ("csrf", &csrf),
                ("name", "区水务局"),
                ("kind", "DEPARTMENT"),
                ("head_name", "钱局长"),
                (
                    "contacts",
                    "李科长 li@example.gov.cn\n王科长，wang@example.gov.cn",
                ),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    assert!(
        created
            .text()
            .await
            .expect("page")
            .contains("已新建单位“区水务局”")
    );
    let water = units(&app, &d.admin)
        .await
        .into_iter()
        .find(|u| u["name"] == "区水务局")
        .expect("created");
    assert_eq!(
        water["contacts"][1],
        json!({ "name": "王科长", "email": "wang@example.gov.cn" })
    );

    // Renamed, to a street; a name another unit has is refused and the words stay.
    let id = water["databaseId"].to_string();
    let (_, form) = admin.page(&format!("/admin/units/{id}")).await;
    assert!(form.contains("李科长 li@example.gov.cn"), "{form}");
    let taken = admin
        .post(
            &format!("/admin/units/{id}"),
            &[
                ("csrf", &csrf),
                ("name", "区住房和城乡建设局"),
                ("kind", "DEPARTMENT"),
                ("contacts", ""),
            ],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.text().await.expect("page").contains("已存在"));
    let renamed = admin
        .post(
            &format!("/admin/units/{id}"),
            &[
                ("csrf", &csrf),
                ("name", "滨河街道"),
                ("kind", "SUBDISTRICT"),
                ("head_name", "孙主任"),
                ("contacts", "孙主任 sun@example.gov.cn"),
            ],
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    let (_, list) = admin.page("/admin/units").await;
    assert!(
        list.contains("滨河街道") && !list.contains("区水务局"),
        "the new name at once"
    );
    let street = units(&app, &d.admin)
        .await
        .into_iter()
        .find(|u| u["name"] == "滨河街道")
        .expect("renamed");
    assert_eq!(street["kind"], "SUBDISTRICT");
    assert_eq!(
        street["contacts"],
        json!([{ "name": "孙主任", "email": "sun@example.gov.cn" }])
    );

    // A person with an account signs in; a reset password replaces the old one.
    let created = admin
        .post(
            "/admin/people",
            &[
                ("csrf", &csrf),
                ("action", "create"),
                ("name", "周干事"),
                ("email", "zhou@example.gov.cn"),
                ("role", "UNIT_STAFF"),
                ("unit", &id),
                ("account", "zhou"),
                ("password", "起步-pass-2026"),
            ],
        )
        .await;
    let status = created.status();
    let created = created.text().await.expect("page");
    assert_eq!(status, StatusCode::OK, "{created}");
    assert!(created.contains("周干事的访问令牌"), "{created}");
    let token = created
        .split("<p class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the token, shown once")
        .to_string();
    let me = app
        .graphql_as(Some(&token), "{ me { name unit { name } } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["unit"]["name"], "滨河街道", "{me}");
    let mut zhou = Browser::new(&app);
    assert_eq!(
        zhou.sign_in("zhou", "起步-pass-2026").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, people) = admin.page("/admin/people").await;
    assert!(
        people.contains("周干事") && !people.contains(&token),
        "a token is never shown again"
    );
    let person = app
        .graphql_as(Some(&d.admin), "{ people { databaseId name } }", json!({}))
        .await;
    let zhou_id = person["data"]["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["name"] == "周干事")
        .expect("listed")["databaseId"]
        .to_string();
    let weak = admin
        .post(
            "/admin/people",
            &[
                ("csrf", &csrf),
                ("action", "password"),
                ("person", &zhou_id),
                ("who_name", "周干事"),
                ("new_password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reset = admin
        .post(
            "/admin/people",
            &[
                ("csrf", &csrf),
                ("action", "password"),
                ("person", &zhou_id),
                ("who_name", "周干事"),
                ("new_password", "换新-pass-2026"),
            ],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert!(
        reset
            .text()
            .await
            .expect("page")
            .contains("已为周干事重设密码")
    );
    assert_eq!(
        zhou.get("/todo").await.status(),
        StatusCode::SEE_OTHER,
        "signed out"
    );
    assert_eq!(
        zhou.sign_in("zhou", "起步-pass-2026").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        zhou.sign_in("zhou", "换新-pass-2026").await.status(),
        StatusCode::SEE_OTHER
    );

    // A reissued token is shown once; the old one stops working.
    let reissued = admin
        .post(
            "/admin/people",
            &[
                ("csrf", &csrf),
                ("action", "token"),
                ("person", &zhou_id),
                ("who_name", "周干事"),
            ],
        )
        .await;
    assert_eq!(reissued.status(), StatusCode::OK);
    let page = reissued.text().await.expect("page");
    let new_token = page
        .split("<p class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("new token")
        .to_string();
    assert_ne!(new_token, token);
    let old = app
        .graphql_as(Some(&token), "{ me { name } }", json!({}))
        .await;
    assert_eq!(crate::helpers::error_code(&old), "UNAUTHENTICATED", "{old}");
    let new = app
        .graphql_as(Some(&new_token), "{ me { name } }", json!({}))
        .await;
    assert_eq!(new["data"]["me"]["name"], "周干事");

    // Role and unit changed: a staff member becomes the street's head; a supervisor with a
    // unit is refused and changes nothing; nobody changes their own role.
    let promoted = admin
        .post(
            "/admin/people",
            &[
                ("csrf", &csrf),
                ("action", "update"),
                ("person", &zhou_id),
                ("who_name", "周干事"),
                ("name", "周主任"),
                ("email", "zhou@example.gov.cn"),
                ("role", "UNIT_HEAD"),
                ("unit", &id),
            ],
        )
        .await;
    assert_eq!(promoted.status(), StatusCode::OK);
    assert!(
        promoted
            .text()
            .await
            .expect("page")
            .contains("已保存周干事的信息")
    );
    let me = app
        .graphql_as(
            Some(&new_token),
            "{ me { name role unit { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["role"], "UNIT_HEAD", "{me}");
    assert_eq!(me["data"]["me"]["name"], "周主任");
    let wrong = admin
        .post(
            "/admin/people",
            &[
                ("csrf", &csrf),
                ("action", "update"),
                ("person", &zhou_id),
                ("who_name", "周主任"),
                ("name", "周主任"),
                ("role", "SUPERVISOR"),
                ("unit", &id),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.expect("page").contains("不属于承办单位"));
    let me = app
        .graphql_as(Some(&new_token), "{ me { role } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["role"], "UNIT_HEAD", "unchanged");
    let admin_id = person["data"]["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["name"] == "吴管理员")
        .expect("the administrator")["databaseId"]
        .to_string();
    let own = admin
        .post(
            "/admin/people",
            &[
                ("csrf", &csrf),
                ("action", "update"),
                ("person", &admin_id),
                ("who_name", "吴管理员"),
                ("name", "吴管理员"),
                ("role", "UNIT_STAFF"),
                ("unit", &id),
            ],
        )
        .await;
    assert_eq!(own.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        own.text()
            .await
            .expect("page")
            .contains("不能修改自己的角色")
    );

    // Nobody else keeps the organisation.
    let (unit, unit_csrf) = signed_in_as(&app, &d.housing_head).await;
    for path in [
        "/admin/units",
        "/admin/people",
        "/admin/policy",
        "/admin/calendar",
        "/admin/mail",
    ] {
        assert_eq!(
            unit.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let posted = unit
        .post(
            "/admin/units",
            &[("csrf", &unit_csrf), ("name", "假单位"), ("kind", "OTHER")],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    assert!(
        !units(&app, &d.admin)
            .await
            .iter()
            .any(|u| u["name"] == "假单位")
    );
}

#[tokio::test]
async fn the_administrator_keeps_the_policy_the_calendar_and_the_mail_queue() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let open = assign_with(&app, &d, "节前安全检查", "3个工作日", d.housing, &[]).await;
    let (admin, csrf) = admin_signed_in(&app).await;

    // The policy: a new version; earlier ones stay listed; nonsense changes nothing.
    let (_, page) = admin.page("/admin/policy").await;
    let mut fields: Vec<(String, String)> = [
        "blueWithinWorkingDays",
        "redAfterOverdueWorkingDays",
        "yellowRejections",
        "redRejections",
        "unitBlueBelowPercent",
        "unitYellowBelowPercent",
        "unitRedBelowPercent",
        "unitMinClosedForRate",
        "unitBlueSharePercent",
        "unitYellowSharePercent",
        "unitRedSharePercent",
        "unitShareMinItems",
        "onTimeWindowDays",
        "taskBufferWorkingDays",
        "upstreamBufferWorkingDays",
    ]
    .iter()
    .map(|name| {
        let marker = format!("name=\"{name}\" type=\"number\"");
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("{name}: {page}"));
        let value = page[at..]
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .expect("value");
        (name.to_string(), value.to_string())
    })
    .collect();
    fields.push(("csrf".into(), csrf.clone()));
    fields.push(("reopenIsRed".into(), "0".into()));
    fields.push(("reopenIsRed".into(), "1".into()));
    fields.push(("countProgressReports".into(), "0".into()));
    let set = |fields: &mut Vec<(String, String)>, name: &str, value: &str| {
        if let Some(f) = fields.iter_mut().find(|(n, _)| n == name) {
            f.1 = value.to_string();
        }
    };
    set(&mut fields, "blueWithinWorkingDays", "99999999999");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let too_big = admin.post("/admin/policy", &pairs).await;
    assert_eq!(too_big.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let too_big = too_big.text().await.expect("page");
    assert!(
        too_big.contains("id=\"blueWithinWorkingDays-error\"")
            && !too_big.contains("Failed to parse"),
        "{too_big}"
    );
    set(&mut fields, "blueWithinWorkingDays", "abc");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let refused = admin.post("/admin/policy", &pairs).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .expect("page")
            .contains("id=\"blueWithinWorkingDays-error\"")
    );
    set(&mut fields, "blueWithinWorkingDays", "5");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let saved = admin.post("/admin/policy", &pairs).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved = saved.text().await.expect("page");
    assert!(saved.contains("第1版"), "{saved}");
    assert!(saved.contains("默认"), "the built-in version is listed");
    let policy = app
        .graphql_as(Some(&d.admin), "{ colourPolicy { version rules { blueWithinWorkingDays reopenIsRed countProgressReports } } }", json!({}))
        .await;
    assert_eq!(policy["data"]["colourPolicy"]["version"], 1);
    assert_eq!(
        policy["data"]["colourPolicy"]["rules"]["blueWithinWorkingDays"],
        5
    );
    assert_eq!(policy["data"]["colourPolicy"]["rules"]["reopenIsRed"], true);
    assert_eq!(
        policy["data"]["colourPolicy"]["rules"]["countProgressReports"],
        false
    );

    // The calendar: a correction tried first shows the day and the deadline it moves and
    // stores nothing; confirmed, it is stored.
    let friday = json!({ "year": 2026, "papers": [], "days": [
        { "name": "国庆节", "date": "2026-10-09", "isOffDay": true } ] })
    .to_string();
    let tried = admin
        .post(
            "/admin/calendar",
            &[
                ("csrf", &csrf),
                ("json", &friday),
                ("mode", "AMEND"),
                ("step", "try"),
            ],
        )
        .await;
    assert_eq!(tried.status(), StatusCode::OK);
    let tried = tried.text().await.expect("page");
    assert!(
        tried.contains("试算结果") && tried.contains("2026-10-09"),
        "{tried}"
    );
    assert!(
        tried.contains(open["serial"].as_str().expect("serial")),
        "the moved deadline is named"
    );
    assert_eq!(working(&app).await, true, "a dry run stores nothing");
    let done = admin
        .post(
            "/admin/calendar",
            &[
                ("csrf", &csrf),
                ("json", &friday),
                ("mode", "AMEND"),
                ("step", "import"),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .expect("page")
            .contains("已导入2026年放假安排")
    );
    assert_eq!(working(&app).await, false);
    let garbage = admin
        .post(
            "/admin/calendar",
            &[
                ("csrf", &csrf),
                ("json", "{not json"),
                ("mode", "AMEND"),
                ("step", "try"),
            ],
        )
        .await;
    assert_eq!(garbage.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        garbage.text().await.expect("page").contains("{not json"),
        "the text is kept"
    );
    let local = admin
        .post(
            "/admin/calendar",
            &[
                ("csrf", &csrf),
                ("action", "local"),
                ("date", "2026-11-20"),
                ("name", "区运动会"),
                ("working", "0"),
            ],
        )
        .await;
    assert_eq!(local.status(), StatusCode::OK);
    let (_, calendar) = admin.page("/admin/calendar").await;
    assert!(calendar.contains("区运动会"));

    // The mail queue, for the office too; delivering now answers with counts.
    let (office, office_csrf) = signed_in_as(&app, &d.supervisor).await;
    let (status, queue) = office.page("/admin/mail").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains("邮件与提醒") && queue.contains("立即扫描"));
    let swept = office
        .post(
            "/admin/mail",
            &[("csrf", &office_csrf), ("action", "sweep")],
        )
        .await;
    assert_eq!(swept.status(), StatusCode::OK);
    let swept = swept.text().await.expect("page");
    assert!(
        swept.contains("提醒扫描已完成") && swept.contains("写出"),
        "{swept}"
    );
    let delivered = office
        .post(
            "/admin/mail",
            &[
                ("csrf", &office_csrf),
                ("action", "deliver"),
                ("retry", "1"),
            ],
        )
        .await;
    assert_eq!(delivered.status(), StatusCode::OK);
    assert!(delivered.text().await.expect("page").contains("已投递"));
    assert_eq!(
        office.get("/admin/units").await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn working(app: &TestApp) -> Value {
    app.graphql_signed_in(
        "{ isWorkingDay(date: \"2026-10-09\") { working } }",
        json!({}),
    )
    .await["data"]["isWorkingDay"]["working"]
        .clone()
}
