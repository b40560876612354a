//! 待办: the `todo` query as a page, grouped by what is to be done, soonest first in each.

use maud::html;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};
use serde_json::{Value, json};

use super::view::{self, Nav, colour_badge, text};
use super::viewer::Viewer;
use super::viewer::run;
use crate::graphql::Schemas;
use crate::state::AppState;

const TODO_QUERY: &str = "{ todo { kind kinds dueAt since
  item { databaseId serial title stage colour colourReason } }
  myTasks { TASK }
  tasksHandedDown { TASK } }";

/// A task waiting for the verdict of the unit that handed it down: its completion report, or
/// its extension request.
fn waits_on_unit_above(task: &Value) -> bool {
    text(&task["status"]) == "FEEDBACK_SUBMITTED" || !task["requestedDueAt"].is_null()
}

/// What a to-do row shows of a task.
const TASK_FIELDS: &str =
    "task { databaseId status dueAt measures colour colourReason requestedDueAt unit { name } }
    item { databaseId serial title }";

/// Headings in the order a person should work through them.
const ORDER: [&str; 12] = [
    "ASSIGN",
    "REPORT_UPWARD",
    "OVERDUE",
    "REWORK",
    "SIGN",
    "REPORT_MISSED",
    "DUE_SOON",
    "REPORT_DUE",
    "DECIDE_EXTENSION",
    "RESOLVE_RETURN",
    "VERIFY",
    "CLOSE",
];

#[handler]
pub async fn todo(state: Data<&AppState>, schemas: Data<&Schemas>, viewer: Viewer) -> Response {
    let query = TODO_QUERY.replace("TASK", TASK_FIELDS);
    let data = match run(&schemas, &state, &viewer, &query, json!({})).await {
        Ok(data) => data,
        Err(failure) => return super::view::failure_page(&viewer, &failure),
    };
    let entries: Vec<&Value> = data["todo"].as_array().into_iter().flatten().collect();
    let mine: Vec<&Value> = data["myTasks"].as_array().into_iter().flatten().collect();
    let mut below: Vec<&Value> = data["tasksHandedDown"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    // Reports and extension requests waiting for this unit's verdict first: they wait on the
    // reader.
    below.sort_by_key(|t| !waits_on_unit_above(&t["task"]));
    let body = html! {
        h1 { "我的待办" }
        @if entries.is_empty() && mine.is_empty() && below.is_empty() {
            p.empty { "目前没有需要办理的事项。" }
        } @else {
            p {
                "事项 " strong { (entries.len()) } " 项"
                @if !mine.is_empty() { "，交给本单位的子任务 " strong { (mine.len()) } " 项" }
                @if !below.is_empty() { "，分解、转办给下级单位的子任务 " strong { (below.len()) } " 项" }
                "，按最迟办理时间先后排列。"
            }
            nav.jump aria-label="待办分类" {
                @for kind in ORDER {
                    @let n = entries.iter().filter(|e| text(&e["kind"]) == kind).count();
                    @if n > 0 { a href={ "#" (kind.to_lowercase()) } { (view::todo_label(kind)) " " (n) } }
                }
                @if !mine.is_empty() { a href="#tasks-mine" { "本单位子任务 " (mine.len()) } }
                @let waiting = below.iter().filter(|t| waits_on_unit_above(&t["task"])).count();
                @if waiting > 0 { a href="#tasks-below" { "子任务待核查或审批 " (waiting) } }
            }
        }
        @for kind in ORDER {
            @let group: Vec<&&Value> = entries.iter().filter(|e| text(&e["kind"]) == kind).collect();
            @if !group.is_empty() {
                section id=(kind.to_lowercase()) {
                    h2 { (view::todo_label(kind)) "（" (group.len()) "）" }
                    table.list {
                        thead { tr { th { "编号" } th { "事项" } th { "颜色" } th { "阶段" } th { "最迟办理" } th { "另需" } } }
                        tbody {
                            @for e in group {
                                tr {
                                    td.serial { (text(&e["item"]["serial"])) }
                                    td { a href={ "/items/" (e["item"]["databaseId"]) } { (text(&e["item"]["title"])) } }
                                    td data-label="颜色" { (colour_badge(&e["item"]["colour"], &e["item"]["colourReason"])) }
                                    td data-label="阶段" { (view::stage_label(text(&e["item"]["stage"]))) }
                                    td data-label="最迟办理" { (view::time(&e["dueAt"])) }
                                    td {
                                        @for k in e["kinds"].as_array().into_iter().flatten().skip(1) {
                                            span.tag { (view::todo_label(text(k))) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        (body)
        (tasks_table("tasks-mine", "交给本单位的子任务", &mine, false))
        (tasks_table("tasks-below", "本单位分解、转办给下级单位的子任务", &below, true))
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(&viewer), Nav::Todo, "我的待办", body),
    )
}

/// A list of tasks (docs/rules.md §8), each linked to its place on the item page; with
/// `units`, the sub-unit each went to — the unit head's view of its sub-units.
fn tasks_table(id: &str, title: &str, tasks: &[&Value], units: bool) -> maud::Markup {
    if tasks.is_empty() {
        return html! {};
    }
    html! {
        section id=(id) {
            h2 { (title) "（" (tasks.len()) "）" }
            table.list {
                thead { tr {
                    th { "编号" } th { "事项" } @if units { th { "下级单位" } } th { "具体措施" }
                    th { "颜色" } th { "状态" } th { "期限" }
                } }
                tbody {
                    @for e in tasks {
                        @let t = &e["task"];
                        tr {
                            td.serial { (text(&e["item"]["serial"])) }
                            td { a href={ "/items/" (e["item"]["databaseId"]) "#task-" (t["databaseId"]) } { (text(&e["item"]["title"])) } }
                            @if units { td data-label="下级单位" { (text(&t["unit"]["name"])) } }
                            td data-label="具体措施" { (text(&t["measures"])) }
                            td data-label="颜色" { (colour_badge(&t["colour"], &t["colourReason"])) }
                            td data-label="状态" {
                                (ducha_domain::tasks::TaskStatus::parse(text(&t["status"])).map_or("", |s| s.label()))
                                @if !t["requestedDueAt"].is_null() { "；延期申请待审批" }
                            }
                            td data-label="期限" { (view::time(&t["dueAt"])) }
                        }
                    }
                }
            }
        }
    }
}
