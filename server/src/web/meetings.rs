//! 会议议定事项 (`/meetings`): the office records a meeting — kind, date, chair, topic, 纪要
//! number — and pastes its decisions from the 纪要's table; they are previewed and imported
//! as items like a ledger (`/items/import/N`). The list shows each meeting's 纪要 due (2
//! working days after it, [003 Art.47]) and lets the office record that it was issued.

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde_json::{Value, json};

use super::fields::options;
use super::view::{self, Nav, posted, see_other, text};
use super::viewer::{Form, Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

const LIST: &str = "{ meetings(first: 200) { databaseId kindLabel title heldOn chair minutesNumber
  minutesDueAt minutesIssuedAt minutesOverdue ledgerImportId } }";

fn office_only(viewer: &Viewer) -> Option<Response> {
    view::unless_allowed(
        viewer,
        ducha_domain::Action::Register,
        "无权登记会议",
        "只有督查室可以登记会议议定事项。",
    )
}

#[handler]
pub async fn list(state: Data<&AppState>, schemas: Data<&Schemas>, viewer: Viewer) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    let data = match run(&schemas, &state, &viewer, LIST, json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(&viewer, &failure),
    };
    let meetings: Vec<&Value> = data["meetings"].as_array().into_iter().flatten().collect();
    let body = html! {
        div.heading {
            h1 { "会议议定事项" }
            a.button href="/items" { "事项台账" }
            a.button.primary href="/meetings/new" { "登记会议" }
        }
        p.sub { "会议纪要由区政府办公室在会后2个工作日内完成起草；纪要明确的决定事项逐一立项督办。" }
        @if meetings.is_empty() {
            p.empty { "还没有登记会议。" }
        } @else {
            table.list {
                thead { tr { th { "会议日期" } th { "会议" } th { "纪要文号" } th { "纪要期限" } th { "议定事项" } } }
                tbody {
                    @for m in &meetings {
                        tr {
                            td data-label="会议日期" { (text(&m["heldOn"])) }
                            td data-label="会议" { (text(&m["kindLabel"])) div.sub { (text(&m["title"])) "（主持：" (text(&m["chair"])) "）" } }
                            td data-label="纪要文号" { (text(&m["minutesNumber"])) }
                            td data-label="纪要期限" {
                                (view::time(&m["minutesDueAt"]))
                                @if !m["minutesIssuedAt"].is_null() {
                                    @let late = view::instant(&m["minutesIssuedAt"]) > view::instant(&m["minutesDueAt"]);
                                    div class=(if late { "" } else { "ok" }) {
                                        "已印发 " (view::time(&m["minutesIssuedAt"]))
                                        @if late { " " span.badge.red { "逾期印发" } }
                                    }
                                } @else {
                                    @if m["minutesOverdue"] == true { div { span.badge.red { "已逾期" } } }
                                    form method="post" action={ "/meetings/" (m["databaseId"]) "/minutes" } {
                                        input type="hidden" name="csrf" value=(viewer.csrf());
                                        button type="submit" { "登记纪要已印发" }
                                    }
                                }
                            }
                            td data-label="议定事项" {
                                @if let Some(id) = m["ledgerImportId"].as_i64() {
                                    a href={ "/items/import/" (id) } { "预览、导入或查看导入报告" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(&viewer), Nav::Items, "会议议定事项", body),
    )
}

#[handler]
pub async fn new_page(viewer: Viewer, state: Data<&AppState>) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    let today = state
        .clock
        .now()
        .with_timezone(&state.deadline_policy.time_zone)
        .date_naive()
        .to_string();
    form_page(
        &viewer,
        &Form::default().with("held_on", &today),
        None,
        StatusCode::OK,
    )
}

fn form_page(viewer: &Viewer, form: &Form, error: Option<&str>, status: StatusCode) -> Response {
    let kinds: Vec<(String, String)> = ducha_domain::MeetingKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    let body = html! {
        p.crumbs { a href="/meetings" { "会议议定事项" } " › 登记会议" }
        h1 { "登记会议议定事项" }
        (view::notice(None, error))
        form.card method="post" action="/meetings/new" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="kind" { "会议类别" }
                select id="kind" name="kind" { (options(&kinds, form.get("kind"))) }
            }
            div.field {
                label for="title" { "会议议题" }
                input id="title" name="title" required maxlength="200" value=(form.get("title"))
                    placeholder="如：研究夜间经济发展、学校周边交通整治等事项";
            }
            div.field {
                label for="held_on" { "会议日期" }
                input id="held_on" name="held_on" type="date" required value=(form.get("held_on"));
            }
            div.field {
                label for="chair" { "主持人" }
                input id="chair" name="chair" required maxlength="50" value=(form.get("chair"));
            }
            div.field {
                label for="minutes_number" { "纪要文号" }
                input id="minutes_number" name="minutes_number" required maxlength="200" value=(form.get("minutes_number"))
                    placeholder="如：区政府常务会议纪要〔2026〕12号";
            }
            div.field {
                label for="decisions" { "议定事项" }
                p.sub { "从纪要的表格中复制粘贴，每行一项，列依次为：事项、主办单位、协办单位、期限规则、办理要求（后几列可空；也可带表头）。" }
                textarea id="decisions" name="decisions" rows="10" required { (form.get("decisions")) }
            }
            div.buttons { button.primary type="submit" { "下一步：预览议定事项" } }
        }
    };
    view::respond(
        status,
        view::page(Some(viewer), Nav::Items, "登记会议", body),
    )
}

#[handler]
pub async fn record(
    request: &poem::Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match posted(request, &state, body).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    let input = json!({
        "kind": if ducha_domain::MeetingKind::parse(form.get("kind")).is_some() { form.get("kind") } else { "OTHER" },
        "title": form.get("title"), "heldOn": form.get("held_on"), "chair": form.get("chair"),
        "minutesNumber": form.get("minutes_number"), "decisions": form.get("decisions"),
    });
    match run(
        &schemas,
        &state,
        &viewer,
        "mutation($input: RecordMeetingInput!) { recordMeeting(input: $input) { ledgerImportId } }",
        json!({ "input": input }),
    )
    .await
    {
        Ok(data) => see_other(&format!(
            "/items/import/{}",
            data["recordMeeting"]["ledgerImportId"]
        )),
        Err(failure) => {
            let message = if failure.message.contains("Date") {
                "会议日期格式不正确，应为YYYY-MM-DD".to_string()
            } else {
                failure.message.clone()
            };
            form_page(
                &viewer,
                &form,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

#[handler]
pub async fn issue_minutes(
    request: &poem::Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    Path(id): Path<i64>,
    body: poem::Body,
) -> Response {
    let (viewer, _) = match posted(request, &state, body).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    match run(
        &schemas,
        &state,
        &viewer,
        "mutation($id: Int!) { issueMinutes(databaseId: $id) { databaseId } }",
        json!({ "id": id }),
    )
    .await
    {
        Ok(_) => see_other("/meetings"),
        Err(failure) => view::failure_page(&viewer, &failure),
    }
}
