//! `/admin/calendar`: the years the calendar holds with their State Council notices, the local
//! days set on top of them, and a year's import — tried first (试算: the days that would
//! change and the open deadlines that would move), then done.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::frame::{admin_posted, admin_reader, frame, rows};
use crate::graphql::Schemas;
use crate::state::AppState;
use crate::web::fields::{Refusal, options};
use crate::web::view::{self, text};
use crate::web::viewer::{Form, Viewer, run};

const CALENDAR_QUERY: &str = "{ calendar { version timeZone officeCutoff
  years { year notice { title document issued } amendments { title } }
  localDays { date name working } } }";

const IMPORT: &str =
    "mutation($input: ImportCalendarYearInput!) { importCalendarYear(input: $input) {
  year dryRun calendarVersion recalculated
  changedDays { date before { name working } after { name working } }
  movedDeadlines { itemId serial oldDueAt newDueAt } } }";

const LOCAL_DAY: &str = "mutation($input: SetLocalDayInput!) { setLocalDay(input: $input) {
  calendarVersion recalculated movedDeadlines { itemId serial oldDueAt newDueAt } } }";

/// Largest holiday file accepted in the form (a year's is a few KB).
const MAX_JSON: usize = 60 * 1024;

#[handler]
pub async fn page(request: &Request, state: Data<&AppState>, schemas: Data<&Schemas>) -> Response {
    let viewer = match admin_reader(request, &state, false).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    render(
        &schemas,
        &state,
        &viewer,
        &Form::default(),
        Outcome::None,
        StatusCode::OK,
    )
    .await
}

enum Outcome {
    None,
    /// A dry run's result, with the confirmation that does it.
    Tried(Value),
    Done(String, Value),
    Refused(Refusal),
}

#[handler]
pub async fn post(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match admin_posted(request, &state, body, false).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let outcome = if form.get("action") == "local" {
        let input = json!({ "input": {
            "date": form.get("date"), "name": form.get("name"), "working": form.get("working") == "1",
        } });
        match run(&schemas, &state, &viewer, LOCAL_DAY, input).await {
            Ok(data) => Outcome::Done(
                format!("已设置{}（{}）", form.get("date"), form.get("name").trim()),
                data["setLocalDay"].clone(),
            ),
            Err(failure) => Outcome::Refused(Refusal {
                field: Some("local"),
                message: failure.message,
            }),
        }
    } else if form.get("json").len() > MAX_JSON {
        Outcome::Refused(Refusal {
            field: Some("json"),
            message: "放假安排文件过大，请确认是一年的安排".into(),
        })
    } else {
        let dry_run = form.get("step") != "import";
        let input = json!({ "input": {
            "holidayCnJson": form.get("json"),
            "mode": if form.get("mode") == "REPLACE" { "REPLACE" } else { "AMEND" },
            "dryRun": dry_run, "force": form.get("force") == "1",
        } });
        match run(&schemas, &state, &viewer, IMPORT, input).await {
            Ok(data) if dry_run => Outcome::Tried(data["importCalendarYear"].clone()),
            Ok(data) => Outcome::Done(
                format!("已导入{}年放假安排", data["importCalendarYear"]["year"]),
                data["importCalendarYear"].clone(),
            ),
            Err(failure) => Outcome::Refused(Refusal {
                field: Some("json"),
                message: failure.message,
            }),
        }
    };
    let status = match outcome {
        Outcome::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let kept = match outcome {
        Outcome::Done(..) => Form::default(),
        _ => form,
    };
    render(&schemas, &state, &viewer, &kept, outcome, status).await
}

fn meaning(day: &Value) -> String {
    if day.is_null() {
        return "普通日期".into();
    }
    let kind = if day["working"].as_bool() == Some(true) {
        "上班"
    } else {
        "放假"
    };
    format!("{}{}", text(&day["name"]), kind)
}

fn moved(result: &Value) -> Markup {
    let all = rows(result, "movedDeadlines");
    // A recalculation may give a due the same instant on the new calendar (only the calendar
    // version it was counted on changes): those are counted apart, not listed as moved.
    let (moved, same): (Vec<&Value>, Vec<&Value>) = all
        .into_iter()
        .partition(|m| m["oldDueAt"] != m["newDueAt"]);
    html! {
        @if moved.is_empty() {
            p { "没有在办事项的期限时刻因此改变。" }
        } @else {
            p { strong { (moved.len()) } " 个在办期限将随之改变：" }
            table.list {
                thead { tr { th { "事项" } th { "原期限" } th { "新期限" } } }
                tbody {
                    @for m in moved {
                        tr {
                            td data-label="事项" { a href={ "/items/" (text(&m["itemId"])) } { (text(&m["serial"])) } }
                            td data-label="原期限" { (view::time(&m["oldDueAt"])) }
                            td data-label="新期限" { (view::time(&m["newDueAt"])) }
                        }
                    }
                }
            }
        }
        @if !same.is_empty() {
            p.sub { "另有 " (same.len()) " 个在办期限按新日历重算，时刻不变。" }
        }
    }
}

fn tried(viewer: &Viewer, form: &Form, result: &Value) -> Markup {
    let changed = rows(result, "changedDays");
    html! {
        section.preview aria-label="导入试算" {
            h2 { (result["year"]) "年放假安排：试算结果（尚未保存）" }
            @if changed.is_empty() {
                p { "与现有安排相同，没有日期改变。" }
            } @else {
                p { strong { (changed.len()) } " 个日期将改变：" }
                table.list {
                    thead { tr { th { "日期" } th { "原来" } th { "导入后" } } }
                    tbody {
                        @for c in changed {
                            tr {
                                td data-label="日期" { (text(&c["date"])) }
                                td data-label="原来" { (meaning(&c["before"])) }
                                td data-label="导入后" { (meaning(&c["after"])) }
                            }
                        }
                    }
                }
            }
            (moved(result))
            form method="post" action="/admin/calendar" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="step" value="import";
                input type="hidden" name="mode" value=(form.get("mode"));
                input type="hidden" name="force" value=(form.get("force"));
                textarea name="json" hidden { (form.get("json")) }
                button.primary type="submit" data-confirm="确认导入？受影响的在办期限将同时重算。" { "确认导入" }
            }
        }
    }
}

async fn render(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
    outcome: Outcome,
    status: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, CALENDAR_QUERY, json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let calendar = &data["calendar"];
    let refusal = match &outcome {
        Outcome::Refused(r) => Some(r),
        _ => None,
    };
    let modes = [
        (
            "AMEND".to_string(),
            "补充更正（文件中的日期为准，其余不变）".to_string(),
        ),
        (
            "REPLACE".to_string(),
            "整体替换（文件即该年全部安排）".to_string(),
        ),
    ];
    let body = html! {
        h1 { "工作日历" }
        @if let Outcome::Done(done, result) = &outcome {
            (view::notice(Some(done), None))
            (moved(result))
        }
        p.sub { "日历版本 " (text(&calendar["version"])) "，时区 " (text(&calendar["timeZone"])) "，办公截止 " (text(&calendar["officeCutoff"])) }
        h2 { "已收录的年份" }
        table.list {
            thead { tr { th { "年份" } th { "国务院办公厅通知" } th { "补充通知" } } }
            tbody {
                @for y in rows(calendar, "years").into_iter().rev() {
                    tr {
                        td data-label="年份" { (y["year"]) }
                        td data-label="通知" { (text(&y["notice"]["title"])) " " span.sub { (text(&y["notice"]["document"])) } }
                        td data-label="补充通知" { @for a in rows(y, "amendments") { div { (text(&a["title"])) } } }
                    }
                }
            }
        }
        h2 { "导入或更正一年的放假安排" }
        @if let Outcome::Tried(result) = &outcome { (tried(viewer, form, result)) }
        form.wide method="post" action="/admin/calendar" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (Refusal::at(refusal, "json"))
            label for="json" { "放假安排（holiday-cn 格式的 JSON）" }
            textarea id="json" name="json" rows="8" required placeholder="{\"year\": 2027, \"papers\": [\"…\"], \"days\": [{\"name\": \"元旦\", \"date\": \"2027-01-01\", \"isOffDay\": true}]}" { (form.get("json")) }
            label for="mode" { "导入方式" }
            select id="mode" name="mode" { (options(&modes, form.get("mode"))) }
            div.check {
                input type="checkbox" id="force" name="force" value="1" checked[form.get("force") == "1"];
                label for="force" { "整体替换删去已公布安排的大部分日期时仍执行" }
            }
            div.buttons { button.primary type="submit" name="step" value="try" { "试算（不保存）" } }
        }
        h2 { "本地调整" }
        @let local = rows(calendar, "localDays");
        @if local.is_empty() { p.empty { "尚无本地调整。" } }
        ul.records {
            @for d in local {
                li { (text(&d["date"])) " " (text(&d["name"])) " " span.tag { @if d["working"].as_bool() == Some(true) { "上班" } @else { "放假" } } }
            }
        }
        form.wide method="post" action="/admin/calendar" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="action" value="local";
            (Refusal::at(refusal, "local"))
            div.row {
                div {
                    label for="local-date" { "日期" }
                    input id="local-date" name="date" type="date" required value=(form.get("date"));
                }
                div {
                    label for="local-name" { "名称" }
                    input id="local-name" name="name" required maxlength="50" placeholder="如：区运动会" value=(form.get("name"));
                }
            }
            label for="local-working" { "这一天" }
            select id="local-working" name="working" {
                (options(&[("0".into(), "放假".into()), ("1".into(), "上班".into())], form.get("working")))
            }
            div.buttons { button type="submit" data-confirm="设置后受影响的在办期限将立即重算，确认？" { "设置本地日期" } }
        }
    };
    frame(viewer, status, "/admin/calendar", "工作日历", body)
}
