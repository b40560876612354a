//! An item page's 下级任务: the tasks handed down from its parts (分解, 转办) as a tree, each
//! with its reports and the forms its reader may use now — the sub-unit signs, reports and
//! hands in; the unit above accepts, sends back or waives (docs/rules.md §8). The forms post
//! to `/items/N/tasks/T` (`task_post`).

use maud::{Markup, html};
use serde_json::Value;

use super::view::{self, colour_badge, text};
use super::viewer::{Form, Viewer};
use ducha_domain::Role;
use ducha_domain::tasks::{TaskAction, TaskStatus};

/// The item query's selection of tasks.
pub(super) const TASK_FIELDS: &str = "tasks { id databaseId version status passedDown measures
    responsible dueAt dueReason waiveReason colour colourReason parentTaskId assignmentId
    requestedDueAt extensionReason
    unit { databaseId name }
    reports { kind body createdAt verdict verdictReason author { name } } }";

/// What was typed into a task's form when its post was refused.
#[derive(Clone, Copy)]
pub(super) struct TaskTyped<'a> {
    pub task: Option<i64>,
    pub action: TaskAction,
    pub form: &'a Form,
}

/// Who the reader is to one task.
struct Standing {
    own: bool,
    above: bool,
}

fn standing(viewer: &Viewer, item: &Value, task: &Value) -> Standing {
    let mine = viewer.actor.own_unit();
    let tasks = item["tasks"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let holder_unit = match tasks.iter().find(|t| t["id"] == task["parentTaskId"]) {
        Some(parent) if !task["parentTaskId"].is_null() => parent["unit"]["databaseId"].as_i64(),
        _ => item["assignments"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["id"] == task["assignmentId"])
            .and_then(|a| a["unit"]["databaseId"].as_i64()),
    };
    Standing {
        own: mine.is_some() && task["unit"]["databaseId"].as_i64() == mine,
        above: mine.is_some() && holder_unit == mine,
    }
}

/// The task verbs the reader may use on `task` now, by the domain's table.
fn offered(viewer: &Viewer, item: &Value, task: &Value) -> Vec<TaskAction> {
    let Some(status) = TaskStatus::parse(text(&task["status"])) else {
        return Vec::new();
    };
    let at = standing(viewer, item, task);
    let role = viewer.actor.role;
    TaskAction::ALL
        .into_iter()
        .filter(|a| !matches!(a, TaskAction::Split | TaskAction::PassDown))
        .filter(|a| a.allowed_for(role) && a.next_status(status).is_ok())
        .filter(|a| if a.by_unit_above() { at.above } else { at.own })
        // One extension request at a time: asked while none waits, decided while one does.
        .filter(|a| match a {
            TaskAction::RequestExtension => task["requestedDueAt"].is_null(),
            TaskAction::DecideExtension => !task["requestedDueAt"].is_null(),
            _ => true,
        })
        .collect()
}

/// The section, or nothing when the reader sees no task of the item. `sub_units`: the
/// reader's unit has sub-units to hand its own task down to.
pub(super) fn section(
    viewer: &Viewer,
    item: &Value,
    typed: Option<TaskTyped<'_>>,
    sub_units: bool,
) -> Markup {
    let tasks: Vec<&Value> = item["tasks"].as_array().into_iter().flatten().collect();
    if tasks.is_empty() {
        return html! {};
    }
    let done = tasks
        .iter()
        .filter(|t| matches!(text(&t["status"]), "CLOSED" | "WAIVED" | "RETURNED"))
        .count();
    let roots: Vec<&Value> = tasks
        .iter()
        .copied()
        .filter(|t| {
            t["parentTaskId"].is_null() || !tasks.iter().any(|p| p["id"] == t["parentTaskId"])
        })
        .collect();
    // A sub-unit with no part of the item reads the tasks handed to it; a unit with a part,
    // the tasks below it.
    let own_only = item["assignments"].as_array().is_none_or(Vec::is_empty);
    let heading = if own_only {
        "本单位子任务"
    } else {
        "下级任务"
    };
    html! {
        section #tasks aria-label=(heading) {
            h2 { (heading) "（已办结、免除或退回 " (done) " / 共 " (tasks.len()) "）" }
            ol.tasks {
                @for task in roots { (node(viewer, item, (&tasks, sub_units), task, typed, 0)) }
            }
        }
    }
}

fn node(
    viewer: &Viewer,
    item: &Value,
    (tasks, sub_units): (&[&Value], bool),
    task: &Value,
    typed: Option<TaskTyped<'_>>,
    depth: usize,
) -> Markup {
    let children: Vec<&Value> = tasks
        .iter()
        .copied()
        .filter(|t| t["parentTaskId"] == task["id"])
        .collect();
    let status = TaskStatus::parse(text(&task["status"]));
    html! {
        li.task id={ "task-" (task["databaseId"]) } {
            div.heading {
                strong { (text(&task["unit"]["name"])) }
                " " span.tag { @if task["passedDown"].as_bool() == Some(true) { "转办" } @else { "分解" } }
                " " span.tag { (status.map_or("", TaskStatus::label)) }
                " " (colour_badge(&task["colour"], &task["colourReason"]))
            }
            p.prose { (text(&task["measures"])) }
            div.sub {
                "责任人：" (text(&task["responsible"])) "　期限：" strong { (view::time(&task["dueAt"])) }
                @if !task["dueReason"].is_null() { "（晚于上级期限，理由：" (text(&task["dueReason"])) "）" }
            }
            div.sub { (text(&task["colourReason"])) }
            @if !task["waiveReason"].is_null() {
                div.sub {
                    @if text(&task["status"]) == "RETURNED" { "退回理由：" } @else { "免除理由：" }
                    (text(&task["waiveReason"]))
                }
            }
            @if !task["requestedDueAt"].is_null() {
                div.sub { "延期申请待上级单位审批：申请延至 " (view::time(&task["requestedDueAt"])) "，理由：" (text(&task["extensionReason"])) }
            }
            @let reports: Vec<&Value> = task["reports"].as_array().into_iter().flatten().collect();
            @if !reports.is_empty() {
                ul.records {
                    @for r in reports {
                        li {
                            strong { @if text(&r["kind"]) == "FEEDBACK" { "办结反馈" } @else { "进展报告" } }
                            "　" (text(&r["author"]["name"])) "　" (view::time(&r["createdAt"]))
                            p.prose { (text(&r["body"])) }
                            @match text(&r["verdict"]) {
                                "ACCEPTED" => { div.sub { "核查通过" @if !r["verdictReason"].is_null() { "：" (text(&r["verdictReason"])) } } }
                                "REJECTED" => { div.sub.bad { "退回重办：" (text(&r["verdictReason"])) } }
                                _ => {}
                            }
                        }
                    }
                }
            }
            (forms(viewer, item, task, typed, sub_units))
            @if !children.is_empty() && depth < 8 {
                ol.tasks {
                    @for child in children { (node(viewer, item, (tasks, sub_units), child, typed, depth + 1)) }
                }
            }
        }
    }
}

fn forms(
    viewer: &Viewer,
    item: &Value,
    task: &Value,
    typed: Option<TaskTyped<'_>>,
    sub_units: bool,
) -> Markup {
    let offered = offered(viewer, item, task);
    // Handing its own task further down needs sub-units to hand it to.
    let own_signed = standing(viewer, item, task).own
        && text(&task["status"]) == "SIGNED"
        && viewer.actor.role == Role::UnitHead
        && sub_units;
    if offered.is_empty() && !own_signed {
        return html! {};
    }
    let id = &task["databaseId"];
    let url = format!("/items/{}/tasks/{id}", item["databaseId"]);
    let kept = |action: TaskAction, field: &str| -> String {
        typed
            .filter(|t| t.task == task["databaseId"].as_i64() && t.action == action)
            .map(|t| t.form.get(field).to_string())
            .unwrap_or_default()
    };
    let open = |action: TaskAction| {
        typed.is_some_and(|t| t.task == task["databaseId"].as_i64() && t.action == action)
    };
    html! {
        div.actions {
            @for action in offered {
                @let field = format!("{}-{id}", action.name().to_lowercase());
                @match action {
                    TaskAction::Sign => {
                        form.inline method="post" action=(url) {
                            (hidden(viewer, task, action))
                            button type="submit" { (action.label()) }
                        }
                    }
                    TaskAction::RequestExtension => {
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(url) {
                                (hidden(viewer, task, action))
                                label for={ (field) "-date" } { "申请延至（工作日）" }
                                input id={ (field) "-date" } type="date" name="dueDate" required value=(kept(action, "dueDate"));
                                label for=(field) { "延期理由" }
                                textarea id=(field) name="reason" rows="2" required maxlength="2000" { (kept(action, "reason")) }
                                button type="submit" { "提交延期申请" }
                            }
                        }
                    }
                    TaskAction::DecideExtension => {
                        details open { summary { (action.label()) }
                            p { "下级单位申请延至 " (view::time(&task["requestedDueAt"])) "：" (text(&task["extensionReason"])) }
                            form method="post" action=(url) {
                                (hidden(viewer, task, action))
                                label for={ (field) "-approve" } { "审批" }
                                select id={ (field) "-approve" } name="approve" {
                                    option value="yes" { "同意延期" }
                                    option value="no" selected[kept(action, "approve") == "no"] { "不同意" }
                                }
                                label for=(field) { "审批意见（不同意时，或同意延至晚于本单位期限的日期时必填）" }
                                textarea id=(field) name="reason" rows="2" maxlength="2000" { (kept(action, "reason")) }
                                button type="submit" { "确认审批" }
                            }
                        }
                    }
                    TaskAction::ReportProgress | TaskAction::SubmitFeedback => {
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(url) {
                                (hidden(viewer, task, action))
                                label for=(field) { @if action == TaskAction::SubmitFeedback { "办结情况" } @else { "进展情况" } }
                                textarea id=(field) name="body" rows="4" required maxlength="20000" { (kept(action, "body")) }
                                button type="submit" { @if action == TaskAction::SubmitFeedback { "提交办结反馈" } @else { "提交进展" } }
                            }
                        }
                    }
                    _ => {
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(url) {
                                (hidden(viewer, task, action))
                                label for=(field) {
                                    @match action {
                                        TaskAction::Accept => { "核查意见（可不填）" }
                                        TaskAction::Reject => { "退回理由" }
                                        TaskAction::Return => { "退回理由（不属于本单位职责或无法承办的原因）" }
                                        _ => { "免除理由" }
                                    }
                                }
                                textarea id=(field) name="reason" rows="2" required[action != TaskAction::Accept] maxlength="2000" { (kept(action, "reason")) }
                                @let confirm = match action {
                                    TaskAction::Waive => Some("确认免除该子任务？免除后下级单位不再办理。"),
                                    TaskAction::Return => Some("确认退回该子任务？退回后由上级单位重新安排。"),
                                    _ => None,
                                };
                                button type="submit" data-confirm=[confirm] { "确认" (action.label()) }
                            }
                        }
                    }
                }
            }
            @if own_signed {
                a.button href={ "/items/" (item["databaseId"]) "/split?task=" (id) } { "再分解或转办" }
            }
        }
    }
}

fn hidden(viewer: &Viewer, task: &Value, action: TaskAction) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(viewer.csrf());
        input type="hidden" name="version" value=(task["version"]);
        input type="hidden" name="action" value=(action.name());
    }
}
