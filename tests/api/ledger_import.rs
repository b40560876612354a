//! 台账导入 (docs/rules.md §9), black-box: an office's ledger in GBK with good and bad rows
//! previewed row by row, a commit that is all or nothing, files that cannot be read, and an
//! exported ledger imported into an empty district as the same items.

use serde_json::{Value, json};

use crate::district::{District, ok};
use crate::helpers::{Backend, TestApp, error_code, spawn_app, spawn_app_on};

const ROWS: &str = "databaseId readAs committedAt passedOver
  rows { line title requirements sourceKind sourceReference urgency leader leadUnit coUnits
    deadlineRule defaultRule importable chosenByDefault
    due { dueAt explanation { summary } } problems { column cell message blocking } }
  created { line itemDatabaseId serial title assigned }";

/// Uploads `bytes` as `name` through the API (GraphQL multipart request).
pub async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    let query = format!(
        "mutation($file: Upload!) {{ uploadLedger(file: $file, defaultSource: LEADER_INSTRUCTION) {{ {ROWS} }} }}"
    );
    let operations = json!({ "query": query, "variables": { "file": null } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

async fn commit(app: &TestApp, token: &str, id: &Value, lines: &[i64]) -> Value {
    commit_acknowledging(app, token, id, lines, &[]).await
}

/// Commits `lines`, `seen` being the rows whose possible duplicate the office acknowledged.
async fn commit_acknowledging(
    app: &TestApp,
    token: &str,
    id: &Value,
    lines: &[i64],
    seen: &[i64],
) -> Value {
    app.graphql_as(
        Some(token),
        &format!(
            "mutation($id: Int!, $lines: [Int!]!, $seen: [Int!]!) {{
               commitLedgerImport(databaseId: $id, lines: $lines, acknowledgedDuplicates: $seen) {{ {ROWS} }} }}"
        ),
        json!({ "id": id, "lines": lines, "seen": seen }),
    )
    .await
}

async fn item_count(app: &TestApp) -> usize {
    let body = app
        .graphql_as(
            Some(&app.admin_token),
            "{ items(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    body["data"]["items"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .len()
}

fn row(import: &Value, line: i64) -> &Value {
    import["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["line"] == line)
        .unwrap_or_else(|| panic!("no line {line} in {import}"))
}

fn problems(row: &Value) -> String {
    row["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            format!(
                "{}：{}",
                p["cell"].as_str().unwrap_or(""),
                p["message"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// An office ledger as older systems save it: GBK CSV, its own headers, a title line.
fn office_ledger() -> Vec<u8> {
    let text = "2026年督查事项台账\n\
序号,事项名称,工作要求,来源,文号,牵头单位,配合单位,完成时限,责任领导,紧急程度\n\
1,推进老旧小区加装电梯,年底前完成30台,政府工作报告,区政府〔2026〕1号,区住房和城乡建设局,区城市管理局,10个工作日,李副区长,急\n\
2,整治背街小巷环境,,领导批示,,区不存在局,,5个工作日,,\n\
3,规范共享单车停放,每周报送进展,领导批示,,区城市管理局,,三天内,,\n\
4,国庆期间安全检查,,领导批示,,区城市管理局,,2026年10月3日,,\n\
5,推进老旧小区加装电梯工作,,领导批示,,区住房和城乡建设局,,10个工作日,,\n\
6,政协提案第12号办理,,政协提案,政协〔2026〕12号,,,,,\n\
7,东山片区雨污分流改造,,重点项目,,城市管理局,东山街道办事处,2026-12-31,,特急\n\
8,排查燃气管道隐患,,领导批示,,区住房和城乡建设局,,,王督查,\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

async fn previews_and_commits_the_chosen_rows(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    // An open item the ledger's row 8 looks like (重复督查).
    ok(
        &app,
        &d.supervisor,
        "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id } } }",
        json!({ "title": "排查燃气管道安全隐患", "requirements": "全面排查", "sourceKind": "LEADER_INSTRUCTION" }),
    )
    .await;
    let before = item_count(&app).await;

    // A unit may not import.
    let refused = upload(&app, &d.housing_head, "台账.csv", office_ledger()).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");

    let body = upload(&app, &d.supervisor, "2026年台账.csv", office_ledger()).await;
    let import = &body["data"]["uploadLedger"];
    assert!(
        import["readAs"].as_str().unwrap_or("").contains("GBK"),
        "{body}"
    );
    assert_eq!(import["passedOver"], json!(["序号"]));
    assert_eq!(import["rows"].as_array().map(Vec::len), Some(8), "{body}");

    // Row 3 of the file (its first data row): every column read, the due counted now.
    let good = row(import, 3);
    assert_eq!(good["importable"], true, "{}", problems(good));
    assert_eq!(good["chosenByDefault"], true, "{}", problems(good));
    assert_eq!(good["sourceKind"], "GOV_WORK_REPORT");
    assert_eq!(good["urgency"], "URGENT");
    assert_eq!(good["leader"], "李副区长");
    assert_eq!(good["leadUnit"], "区住房和城乡建设局");
    assert_eq!(good["coUnits"], json!(["区城市管理局"]));
    assert_eq!(good["deadlineRule"], "10个工作日");
    assert!(
        good["due"]["explanation"]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("国庆"),
        "the due crosses National Day: {good}"
    );
    // Each problem beside its cell.
    let unknown = row(import, 4);
    assert_eq!(unknown["importable"], false);
    assert!(
        problems(unknown).contains("第4行F列（主办单位）：没有名为“区不存在局”的单位"),
        "{}",
        problems(unknown)
    );
    let bad_rule = row(import, 5);
    assert_eq!(bad_rule["importable"], false);
    assert!(
        problems(bad_rule).contains("第5行H列（办理期限）"),
        "{}",
        problems(bad_rule)
    );
    let rest_day = row(import, 6);
    assert_eq!(rest_day["importable"], false);
    assert!(
        problems(rest_day).contains("2026-10-03是休息日"),
        "{}",
        problems(rest_day)
    );
    let same_as_row = row(import, 7);
    assert_eq!(
        (
            same_as_row["importable"].as_bool(),
            same_as_row["chosenByDefault"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert!(
        problems(same_as_row).contains("本表第3行"),
        "{}",
        problems(same_as_row)
    );
    let register_only = row(import, 8);
    assert_eq!(
        register_only["chosenByDefault"],
        true,
        "{}",
        problems(register_only)
    );
    assert!(register_only["leadUnit"].is_null());
    assert_eq!(register_only["sourceKind"], "CPPCC_PROPOSAL");
    assert_eq!(register_only["defaultRule"], true);
    let short_name = row(import, 9);
    assert_eq!(
        short_name["leadUnit"],
        "区城市管理局",
        "{}",
        problems(short_name)
    );
    assert_eq!(short_name["urgency"], "CRITICAL");
    let duplicate_and_not_a_leader = row(import, 10);
    let said = problems(duplicate_and_not_a_leader);
    assert!(
        said.contains("在办事项督〔2026〕1号") && said.contains("不是系统中的区领导"),
        "{said}"
    );

    // A chosen row that cannot be imported: refused, and nothing is written.
    let id = &import["databaseId"];
    let refused = commit(&app, &d.supervisor, id, &[3, 4, 8]).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("第4行"),
        "{refused}"
    );
    assert_eq!(item_count(&app).await, before);
    let refused = commit(&app, &d.supervisor, id, &[]).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    let refused = commit(&app, &d.supervisor, id, &[3, 99]).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");

    // A possible duplicate goes only when acknowledged.
    let refused = commit(&app, &d.supervisor, id, &[3, 7, 8, 9]).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("第7行"),
        "{refused}"
    );
    assert_eq!(item_count(&app).await, before);
    // The same file uploaded again before the first commit (another tab): its preview was
    // clean, but once the first is committed its rows duplicate the new items.
    let stale = upload(&app, &d.supervisor, "2026年台账.csv", office_ledger()).await;
    let stale_id = stale["data"]["uploadLedger"]["databaseId"].clone();
    assert_eq!(
        row(&stale["data"]["uploadLedger"], 3)["chosenByDefault"],
        true
    );

    // The chosen rows, the duplicate of row 3 included on purpose: one transaction.
    let done = commit_acknowledging(&app, &d.supervisor, id, &[3, 7, 8, 9], &[7]).await;
    let report = &done["data"]["commitLedgerImport"];
    let created = report["created"]
        .as_array()
        .unwrap_or_else(|| panic!("{done}"));
    assert_eq!(created.len(), 4, "{done}");
    assert_eq!(
        report["rows"],
        json!([]),
        "a committed upload is its report"
    );
    assert_eq!(item_count(&app).await, before + 4);
    assert_eq!(created[0]["serial"], "督〔2026〕2号");
    assert_eq!(created[3]["serial"], "督〔2026〕5号");
    assert_eq!(
        created
            .iter()
            .map(|c| c["assigned"].as_bool())
            .collect::<Vec<_>>(),
        [Some(true), Some(true), Some(false), Some(true)]
    );

    // The first row is assigned with the due the preview showed, and its trail says how.
    let item = app
        .graphql_as(
            Some(&d.supervisor),
            "query($id: ID!) { item(id: $id) { title stage urgency sourceReference responsibleLeader { name }
               assignments { lead effectiveDueAt unit { name } } auditTrail { action toStage } } }",
            json!({ "id": created[0]["itemDatabaseId"] }),
        )
        .await;
    let item = &item["data"]["item"];
    assert_eq!(item["stage"], "ASSIGNED", "{item}");
    assert_eq!(item["responsibleLeader"]["name"], "李副区长");
    assert_eq!(item["sourceReference"], "区政府〔2026〕1号");
    let lead = item["assignments"]
        .as_array()
        .expect("parts")
        .iter()
        .find(|a| a["lead"] == true)
        .expect("lead");
    assert_eq!(lead["unit"]["name"], "区住房和城乡建设局");
    assert_eq!(lead["effectiveDueAt"], good["due"]["dueAt"]);
    let actions: Vec<&str> = item["auditTrail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for action in ["REGISTER", "ASSIGN_LEAD", "ASSIGN_CO_UNIT", "ASSIGN"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
    // The units are told, as at 交办.
    let mails = app
        .graphql_as(
            Some(&app.admin_token),
            "{ outbox(first: 50) { recipient subject } }",
            json!({}),
        )
        .await;
    let to: Vec<&str> = mails["data"]["outbox"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["recipient"].as_str())
        .collect();
    assert!(
        to.contains(&"zjj@example.gov.cn") && to.contains(&"cgj@example.gov.cn"),
        "{mails}"
    );

    // Once only; and the stale tab's commit is stopped by what was just imported.
    let again = commit(&app, &d.supervisor, id, &[3]).await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    let stale = commit(&app, &d.supervisor, &stale_id, &[3, 8]).await;
    assert_eq!(error_code(&stale), "BAD_USER_INPUT", "{stale}");
    assert!(
        stale["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("预览时未提示"),
        "{stale}"
    );
    assert_eq!(item_count(&app).await, before + 4);
}

#[tokio::test]
async fn an_office_ledger_is_previewed_row_by_row_and_committed_once_on_sqlite() {
    previews_and_commits_the_chosen_rows(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_office_ledger_is_previewed_row_by_row_and_committed_once_on_postgres() {
    previews_and_commits_the_chosen_rows(Backend::Postgres).await;
}

#[tokio::test]
async fn files_that_cannot_be_read_are_refused_and_nothing_is_kept() {
    use rust_xlsxwriter::{Format, Workbook};
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let merged = {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "事项").expect("cell");
        sheet.write_string(0, 1, "主办单位").expect("cell");
        sheet
            .merge_range(1, 1, 2, 1, "区城市管理局", &Format::new())
            .expect("merge");
        sheet.write_string(1, 0, "甲").expect("cell");
        sheet.write_string(2, 0, "乙").expect("cell");
        book.save_to_buffer().expect("xlsx")
    };
    // Small as a file, huge as text: one long text shared by every row.
    let bomb = {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "事项").expect("cell");
        let long = "重".repeat(20_000);
        for row in 1..2_000 {
            sheet.write_string(row, 0, &long).expect("cell");
        }
        book.save_to_buffer().expect("xlsx")
    };
    assert!(bomb.len() < 1024 * 1024);
    let mut too_many = "事项\n".to_string();
    for n in 0..50_000 {
        too_many.push_str(&format!("事项{n}\n"));
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "旧台账.xls",
            vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
            "另存为",
        ),
        ("合并.xlsx", merged, "合并单元格（B2:B3）"),
        ("五万行.csv", too_many.into_bytes(), "一次最多导入10000行"),
        (
            "乱码.csv",
            vec![0x81, 0x20, 0x81, 0x20, b'\n'],
            "编码无法识别",
        ),
        ("空.csv", Vec::new(), "文件是空的"),
        (
            "无表头.csv",
            "甲,乙\n丙,丁\n".as_bytes().to_vec(),
            "没有找到表头",
        ),
        (
            "图片.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "不是XLSX或CSV",
        ),
        (
            "坏的.xlsx",
            b"PK\x03\x04\x14\0\0\0not really a zip".to_vec(),
            "无法读取这个XLSX文件",
        ),
        (
            "引号.csv",
            "事项,主办单位\n\"未闭合,区城市管理局\n乙,区城市管理局\n"
                .as_bytes()
                .to_vec(),
            "第2行的引号没有成对",
        ),
        ("膨胀.xlsx", bomb, "表格内容过多"),
    ];
    for (name, bytes, expected) in cases {
        let body = upload(&app, &d.supervisor, name, bytes).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{name}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(expected) && message.contains(name),
            "{name}: {message}"
        );
    }
    let kept = entity::ledger_import::Entity::find()
        .all(&app.state.db)
        .await
        .expect("read");
    assert!(kept.is_empty(), "{kept:?}");
}

use sea_orm::EntityTrait;

#[tokio::test]
async fn an_exported_ledger_imports_into_an_empty_district_as_the_same_items() {
    let source = spawn_app().await;
    let d = District::create(&source).await;
    let register = "mutation($input: RegisterItemInput!) { registerItem(input: $input) { item { id version } } }";
    let assign = "mutation($input: AssignItemInput!) { assignItem(input: $input) { item { id } } }";
    let items = [
        (
            "推进老旧小区加装电梯",
            "年底前完成30台\n每月报送进展",
            "GOV_WORK_REPORT",
            "区政府〔2026〕1号",
            "URGENT",
            Some(d.leader_id),
            "10个工作日",
            Some((d.housing, vec![d.urban])),
        ),
        (
            "=HYPERLINK(\"http://example.com\",\"点我\")",
            "+1 元",
            "LEADER_INSTRUCTION",
            "-",
            "NORMAL",
            None,
            "2026-12-31",
            Some((d.urban, vec![])),
        ),
        (
            "政协提案第12号办理",
            "按期答复",
            "CPPCC_PROPOSAL",
            "政协〔2026〕12号",
            "CRITICAL",
            None,
            "3个月",
            None,
        ),
    ];
    for (title, requirements, kind, reference, urgency, leader, rule, units) in &items {
        let registered = ok(
            &source,
            &d.supervisor,
            register,
            json!({ "title": title, "requirements": requirements, "sourceKind": kind, "sourceReference": reference,
                    "urgency": urgency, "responsibleLeaderId": leader, "deadline": rule }),
        )
        .await;
        if let Some((lead, co)) = units {
            ok(
                &source,
                &d.supervisor,
                assign,
                json!({ "itemId": registered["item"]["id"], "version": registered["item"]["version"], "leadUnitId": lead, "coUnitIds": co }),
            )
            .await;
        }
    }
    let mut browser = crate::web::Browser::new(&source);
    let account = crate::web::give_password(&source, &d.supervisor).await;
    browser.sign_in(&account, crate::web::PASSWORD).await;
    let xlsx = browser
        .get("/items/export.xlsx")
        .await
        .bytes()
        .await
        .expect("xlsx")
        .to_vec();
    let csv = browser
        .get("/items/export.csv")
        .await
        .bytes()
        .await
        .expect("csv")
        .to_vec();
    let csv_text = String::from_utf8(csv[3..].to_vec()).expect("utf-8");
    assert!(csv_text.starts_with("督办编号,事项,办理要求,来源,来源文号,紧急程度,责任领导,主办单位,协办单位,期限规则,办理期限"), "{csv_text}");
    assert!(
        csv_text.contains("\"'=HYPERLINK(")
            && csv_text.contains(",'+1 元,")
            && csv_text.contains(",'-,"),
        "formulas neutralised: {csv_text}"
    );

    for file in [("督办台账.xlsx", xlsx), ("督办台账.csv", csv)] {
        let target = spawn_app().await;
        let t = District::create(&target).await;
        let body = upload(&target, &t.supervisor, file.0, file.1).await;
        let import = &body["data"]["uploadLedger"];
        let rows = import["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(rows.len(), 3, "{body}");
        let lines: Vec<i64> = rows
            .iter()
            .map(|r| {
                assert_eq!(r["chosenByDefault"], true, "{}: {}", file.0, problems(r));
                r["line"].as_i64().expect("line")
            })
            .collect();
        let done = commit(&target, &t.supervisor, &import["databaseId"], &lines).await;
        assert_eq!(
            done["data"]["commitLedgerImport"]["created"]
                .as_array()
                .map(Vec::len),
            Some(3),
            "{done}"
        );
        assert_eq!(
            ledger_of(&target, &t.supervisor).await,
            ledger_of(&source, &d.supervisor).await,
            "{}",
            file.0
        );
    }
}

/// What makes an item the same item in another district: its words, source, rule, people.
async fn ledger_of(app: &TestApp, token: &str) -> Vec<String> {
    let body = app
        .graphql_as(
            Some(token),
            "{ items(first: 50) { edges { node { title requirements sourceKind sourceReference urgency deadlineRule stage
               responsibleLeader { name } assignments { lead unit { name } } } } } }",
            json!({}),
        )
        .await;
    let mut items: Vec<String> = body["data"]["items"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| {
            let mut node = e["node"].clone();
            let mut parts: Vec<String> = node["assignments"]
                .as_array()
                .expect("parts")
                .iter()
                .map(|a| {
                    format!(
                        "{}{}",
                        if a["lead"] == true {
                            "主办"
                        } else {
                            "协办"
                        },
                        a["unit"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect();
            parts.sort();
            node["assignments"] = json!(parts);
            node.to_string()
        })
        .collect();
    items.sort();
    items
}

/// The office's walk through the pages, as a browser without script does it: the template,
/// the upload, the preview with a problem beside its cell, the commit, the report.
#[tokio::test]
async fn the_office_imports_through_the_pages() {
    use crate::web::{Browser, PASSWORD, give_password, hidden};
    use reqwest::StatusCode;
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let mut office = Browser::new(&app);
    office
        .sign_in(&give_password(&app, &d.supervisor).await, PASSWORD)
        .await;

    let (status, page) = office.page("/items").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("href=\"/items/import\""),
        "the ledger offers the import"
    );
    let (status, page) = office.page("/items/import").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("下载导入模板"), "{page}");
    let template = office
        .get("/items/import/template.xlsx")
        .await
        .bytes()
        .await
        .expect("template");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(template.to_vec())).expect("xlsx");
    use calamine::Reader;
    let notes = book.worksheet_range("填写说明").expect("notes");
    let names: Vec<String> = notes
        .rows()
        .filter_map(|r| r.get(1).map(|c| c.to_string()))
        .collect();
    assert!(
        names.contains(&"东山街道办事处".to_string()) && names.contains(&"李副区长".to_string()),
        "{names:?}"
    );

    let csv = "事项,主办单位,协办单位,期限规则\n推进老旧小区加装电梯,区住房和城乡建设局,区城市管理局,10个工作日\n整治背街小巷,区不存在局,,5个工作日\n";
    let form = reqwest::multipart::Form::new()
        .text("csrf", hidden(&page, "csrf"))
        .text("default_source", "GOV_WORK_REPORT")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("台账.csv"),
        );
    // The same file in a second tab, previewed clean before the first is committed.
    let second = reqwest::multipart::Form::new()
        .text("csrf", hidden(&page, "csrf"))
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("台账.csv"),
        );
    let uploaded = office.post_multipart("/items/import", form).await;
    let stale = office.post_multipart("/items/import", second).await;
    let stale_at = stale.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let preview_at = uploaded.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let (status, preview) = office.page(&preview_at).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        preview.contains("第3行B列（主办单位）</span>：没有名为“区不存在局”的单位"),
        "{preview}"
    );
    assert!(
        preview.contains("政府工作报告任务"),
        "the default source chosen: {preview}"
    );
    assert!(
        preview.contains("name=\"line\" value=\"2\" id=\"line-2\" checked"),
        "{preview}"
    );
    assert!(
        preview.contains("value=\"3\" id=\"line-3\" disabled"),
        "{preview}"
    );

    // A forged or stale form changes nothing; the chosen row is registered and assigned.
    let forged = office
        .post(&preview_at, &[("csrf", "x"), ("line", "2")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let csrf = hidden(&preview, "csrf");
    let refused = office
        .post(&preview_at, &[("csrf", &csrf), ("line", "3")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("page").contains("第3行"));
    let done = office
        .post(&preview_at, &[("csrf", &csrf), ("line", "2")])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, report) = office.page(&preview_at).await;
    assert!(
        report.contains("导入报告")
            && report.contains("督〔2026〕1号")
            && report.contains("已立项并交办"),
        "{report}"
    );
    // The second tab's commit: refused, the row now unticked with its warning beside it.
    let stale = office
        .post(&stale_at, &[("csrf", &csrf), ("line", "2")])
        .await;
    assert_eq!(stale.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stale = stale.text().await.expect("page");
    assert!(stale.contains("预览时未提示"), "{stale}");
    assert!(
        stale.contains("value=\"2\" id=\"line-2\" aria-label")
            && stale.contains("name=\"seen\" value=\"2\""),
        "unticked, its warning seen now: {stale}"
    );
    let again = office
        .post(&preview_at, &[("csrf", &csrf), ("line", "2")])
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // A unit's people have no import.
    let mut unit = Browser::new(&app);
    unit.sign_in(&give_password(&app, &d.housing_head).await, PASSWORD)
        .await;
    assert_eq!(unit.page("/items/import").await.0, StatusCode::FORBIDDEN);
    assert_eq!(unit.page(&preview_at).await.0, StatusCode::FORBIDDEN);
}
