//! 导入台账 (`/items/import`): the office uploads its ledger (XLSX or CSV, the template's
//! columns or its own), sees what each row will become — item, units, the due with its
//! explanation — and each problem beside its cell, unticks what it does not want, and
//! registers the rest in one transaction (`uploadLedger`, `ledgerImport`,
//! `commitLedgerImport`). After the commit the same address is the import report.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::fields::{options, source_kinds};
use super::upload::{Posted, Unread, read_posted};
use super::view::{self, Nav, forged, see_other, text};
use super::viewer::{Failure, Form, Viewer, run, run_with_files};
use crate::graphql::Schemas;
use crate::state::AppState;

const ROW_FIELDS: &str = "databaseId fileName readAs createdAt committedAt passedOver
  rows { line title requirements sourceKind sourceReference urgency leader leadUnit coUnits
    deadlineRule defaultRule importable chosenByDefault
    due { dueAt explanation { summary } }
    problems { column cell message blocking } }
  created { line itemDatabaseId serial title assigned }";

/// A posted choice of rows: one field per ticked row, so a ledger of thousands of rows
/// needs more than an ordinary form's 64 KB.
const CHOICE_LIMIT: usize = 1024 * 1024;

fn office_only(viewer: &Viewer) -> Option<Response> {
    view::unless_allowed(
        viewer,
        ducha_domain::Action::Register,
        "无权导入",
        "只有督查室可以导入台账。",
    )
}

#[handler]
pub async fn page(viewer: Viewer) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    upload_page(&viewer, &Form::default(), None, StatusCode::OK)
}

fn upload_page(viewer: &Viewer, form: &Form, error: Option<&str>, status: StatusCode) -> Response {
    let chosen = match form.get("default_source") {
        "" => "LEADER_INSTRUCTION",
        chosen => chosen,
    };
    let body = html! {
        div.heading { h1 { "导入台账" } a.button href="/items" { "返回台账" } }
        (view::notice(None, error))
        p { "上传Excel台账（.xlsx）或CSV文件（UTF-8或GBK编码均可），先预览每一行将成为的事项、主办协办单位和办理期限，确认后再一次性立项；填了主办单位的行同时交办。" }
        ul.hints {
            li { a href="/items/import/template.xlsx" download { "下载导入模板（XLSX）" } "：列与导出的台账相同，“填写说明”工作表列出了单位全称、来源类别和区领导。" }
            li { "也可直接上传本系统导出的台账，或本单位原有的台账：表头为“事项（事项名称）”“主办单位（牵头单位）”“协办单位（配合单位）”“办理期限（完成时限）”等即可识别。" }
            li { "单个文件不超过20MB、10000行；不要使用合并单元格；旧版.xls请先另存为.xlsx。" }
        }
        form.card method="post" action="/items/import" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="file" { "台账文件" }
                input id="file" name="file" type="file" required accept=".xlsx,.csv,.txt,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv";
            }
            div.field {
                label for="default_source" { "未填来源的行按" }
                select id="default_source" name="default_source" { (options(&source_kinds(), chosen)) }
            }
            div.buttons { button.primary type="submit" { "上传并预览" } }
        }
    };
    view::respond(
        status,
        view::page(Some(viewer), Nav::Items, "导入台账", body),
    )
}

#[handler]
pub async fn upload(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
    viewer: Viewer,
) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    let Posted { form, files } = match read_posted(request, body).await {
        Ok(posted) => posted,
        Err(Unread::Refused(refused)) => return refused,
        Err(Unread::Said(status, why, typed)) => {
            return upload_page(&viewer, &typed, Some(&why), status);
        }
    };
    if let Some(refused) = forged(&viewer, &form) {
        return refused;
    }
    let Some(file) = files.into_iter().next() else {
        return upload_page(
            &viewer,
            &form,
            Some("请选择要导入的台账文件"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    // A source the form did not send, or one it does not know, is the API's default.
    let source = ducha_domain::SourceKind::parse(form.get("default_source"))
        .unwrap_or(ducha_domain::SourceKind::LeaderInstruction);
    let uploaded = run_with_files(
        &schemas,
        &state,
        &viewer,
        "mutation($file: Upload!, $defaultSource: SourceKind!) {
          uploadLedger(file: $file, defaultSource: $defaultSource) { databaseId } }",
        json!({ "file": null, "defaultSource": source.as_str() }),
        vec![("variables.file".into(), file)],
    )
    .await;
    match uploaded {
        Ok(data) => see_other(&format!(
            "/items/import/{}",
            data["uploadLedger"]["databaseId"]
        )),
        Err(failure) => upload_page(&viewer, &form, Some(&failure.message), failure.status()),
    }
}

#[handler]
pub async fn preview(
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    Path(id): Path<i64>,
    viewer: Viewer,
) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    show(&state, &schemas, &viewer, id, None, None, StatusCode::OK).await
}

async fn show(
    state: &AppState,
    schemas: &Schemas,
    viewer: &Viewer,
    id: i64,
    error: Option<&str>,
    chosen: Option<&[String]>,
    status: StatusCode,
) -> Response {
    let query = format!("query($id: Int!) {{ ledgerImport(databaseId: $id) {{ {ROW_FIELDS} }} }}");
    let data = match run(schemas, state, viewer, &query, json!({ "id": id })).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let import = &data["ledgerImport"];
    let body = if import["committedAt"].is_null() {
        preview_body(viewer, import, error, chosen)
    } else {
        report_body(import, error)
    };
    view::respond(
        status,
        view::page(Some(viewer), Nav::Items, "导入台账", body),
    )
}

#[handler]
pub async fn commit(
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    Path(id): Path<i64>,
    body: poem::Body,
    viewer: Viewer,
) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    let form = match crate::body::read_within(body, None, CHOICE_LIMIT).await {
        Ok(bytes) => Form::parse(&bytes),
        Err(_) => {
            return view::problem(
                Some(&viewer),
                StatusCode::PAYLOAD_TOO_LARGE,
                "提交未完成",
                "提交的内容未能完整收到或过长，请重试。",
            );
        }
    };
    if let Some(refused) = forged(&viewer, &form) {
        return refused;
    }
    let mut chosen: Vec<String> = form.all("line").into_iter().map(str::to_string).collect();
    let lines: Result<Vec<i64>, _> = chosen.iter().map(|l| l.parse::<i64>()).collect();
    let seen: Vec<i64> = form
        .all("seen")
        .into_iter()
        .filter_map(|l| l.parse().ok())
        .collect();
    chosen.extend(seen.iter().map(|l| format!("seen:{l}")));
    let Ok(lines) = lines else {
        return show(
            &state,
            &schemas,
            &viewer,
            id,
            Some("勾选的行号无效，请刷新页面后重试"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let committed = run(
        &schemas,
        &state,
        &viewer,
        "mutation($id: Int!, $lines: [Int!]!, $seen: [Int!]!) {
          commitLedgerImport(databaseId: $id, lines: $lines, acknowledgedDuplicates: $seen) { databaseId } }",
        json!({ "id": id, "lines": lines, "seen": seen }),
    )
    .await;
    match committed {
        Ok(_) => see_other(&format!("/items/import/{id}")),
        Err(Failure { message, code }) => {
            let status = if code == "CONFLICT" {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            show(
                &state,
                &schemas,
                &viewer,
                id,
                Some(&message),
                Some(&chosen),
                status,
            )
            .await
        }
    }
}

/// Whether the row's units could not be read (then it is not "only registered").
fn unit_problem(row: &Value) -> bool {
    row["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| matches!(text(&p["column"]), "主办单位" | "协办单位"))
}

fn rows(import: &Value) -> Vec<&Value> {
    import["rows"].as_array().into_iter().flatten().collect()
}

fn preview_body(
    viewer: &Viewer,
    import: &Value,
    error: Option<&str>,
    chosen: Option<&[String]>,
) -> Markup {
    let rows = rows(import);
    let importable = rows
        .iter()
        .filter(|r| r["importable"].as_bool() == Some(true))
        .count();
    let clean = rows
        .iter()
        .filter(|r| r["chosenByDefault"].as_bool() == Some(true))
        .count();
    let ticked = |row: &Value| match chosen {
        // A row with a warning stays ticked only if its warning was seen when it was ticked
        // (`seen:N`): one that turned up since is for the office to look at first.
        Some(chosen) => {
            let line = row["line"].to_string();
            chosen.contains(&line)
                && (row["chosenByDefault"] == true || chosen.contains(&format!("seen:{line}")))
        }
        None => row["chosenByDefault"].as_bool() == Some(true),
    };
    let passed_over: Vec<&str> = import["passedOver"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    html! {
        div.heading { h1 { "导入台账：预览" } a.button href="/items/import" { "重新上传" } }
        (view::notice(None, error))
        p {
            "文件“" (text(&import["fileName"])) "”（" (text(&import["readAs"])) "）共" (rows.len()) "行："
            strong { (clean) } "行可直接导入，"
            strong { (importable - clean) } "行有提示（默认不勾选，核实后可勾选），"
            strong.bad { (rows.len() - importable) } "行需修改文件后重新上传。"
        }
        @if !passed_over.is_empty() {
            p.sub { "以下列不导入：" (passed_over.join("、")) }
        }
        form method="post" action={ "/items/import/" (import["databaseId"]) } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.buttons {
                button.primary type="submit" { "导入勾选的行" }
                label.select-all hidden { input id="select-all-rows" type="checkbox"; " 全选可导入的行" }
                span.sub { "勾选的行在一个事务中全部立项（填了主办单位的同时交办）；任何一行不能导入，则都不导入。" }
            }
            div.scroll {
                table.list.import {
                    thead { tr { th { "导入" } th { "行" } th { "事项" } th { "来源" } th { "主办 / 协办" } th { "办理期限" } th { "问题" } } }
                    tbody {
                        @for row in &rows {
                            @let line = row["line"].to_string();
                            @let ok = row["importable"].as_bool() == Some(true);
                            tr class=[(!ok).then_some("blocked")] {
                                td data-label="导入" {
                                    input type="checkbox" name="line" value=(line) id={ "line-" (line) }
                                        checked[ok && ticked(row)] disabled[!ok]
                                        aria-label={ "导入第" (line) "行" };
                                    // The office saw this row's warning: ticking it is
                                    // importing it anyway (`acknowledgedDuplicates`).
                                    @if ok && row["chosenByDefault"] != true {
                                        input type="hidden" name="seen" value=(line);
                                    }
                                }
                                td.serial data-label="行" { label for={ "line-" (line) } { "第" (line) "行" } }
                                td data-label="事项" {
                                    strong { (text(&row["title"])) }
                                    @if row["requirements"] != row["title"] { div.sub { (text(&row["requirements"])) } }
                                    @if let Some(leader) = row["leader"].as_str() { div.sub { "责任领导：" (leader) } }
                                }
                                td data-label="来源" {
                                    (view::source_label(text(&row["sourceKind"])))
                                    @if !text(&row["sourceReference"]).is_empty() { div.sub { (text(&row["sourceReference"])) } }
                                    @if text(&row["urgency"]) != "NORMAL" { div { (super::fields::urgency_label(text(&row["urgency"]))) } }
                                }
                                td data-label="主办 / 协办" {
                                    @match row["leadUnit"].as_str() {
                                        Some(lead) => {
                                            (lead)
                                            @let co: Vec<&str> = row["coUnits"].as_array().into_iter().flatten().map(text).collect();
                                            @if !co.is_empty() { div.sub { "协办：" (co.join("、")) } }
                                        }
                                        None if unit_problem(row) => { "—" }
                                        None => { span.sub { "只立项，暂不交办" } }
                                    }
                                }
                                td data-label="办理期限" {
                                    @if let Some(rule) = row["deadlineRule"].as_str() {
                                        (rule) @if row["defaultRule"].as_bool() == Some(true) { span.sub { "（来源默认）" } }
                                        @if !row["due"].is_null() {
                                            div { (view::time(&row["due"]["dueAt"])) }
                                            div.sub { (text(&row["due"]["explanation"]["summary"])) }
                                        }
                                    }
                                }
                                td data-label="问题" {
                                    @for problem in row["problems"].as_array().into_iter().flatten() {
                                        @let blocking = problem["blocking"].as_bool() == Some(true);
                                        p class=(if blocking { "problem blocking" } else { "problem" }) {
                                            span.cell { (text(&problem["cell"])) } "：" (text(&problem["message"]))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div.buttons { button.primary type="submit" { "导入勾选的行" } }
        }
    }
}

fn report_body(import: &Value, error: Option<&str>) -> Markup {
    let created: Vec<&Value> = import["created"].as_array().into_iter().flatten().collect();
    let assigned = created
        .iter()
        .filter(|c| c["assigned"].as_bool() == Some(true))
        .count();
    html! {
        div.heading { h1 { "导入报告" } a.button href="/items" { "返回台账" } a.button href="/items/import" { "继续导入" } }
        (view::notice(None, error))
        p.notice.ok role="status" {
            "文件“" (text(&import["fileName"])) "”已于" (view::time(&import["committedAt"])) "导入："
            "立项" (created.len()) "项，其中同时交办" (assigned) "项。"
        }
        table.list {
            thead { tr { th { "文件行" } th { "督办编号" } th { "事项" } th { "状态" } } }
            tbody {
                @for row in created {
                    tr {
                        td data-label="文件行" { "第" (row["line"]) "行" }
                        td.serial data-label="督办编号" { a href={ "/items/" (row["itemDatabaseId"]) } { (text(&row["serial"])) } }
                        td data-label="事项" { (text(&row["title"])) }
                        td data-label="状态" { @if row["assigned"].as_bool() == Some(true) { "已立项并交办" } @else { "已立项，待交办" } }
                    }
                }
            }
        }
    }
}
