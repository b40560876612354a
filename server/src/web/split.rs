//! 分解 and 转办 (`/items/N/split`, `?task=T` for a task handed down again): the unit head
//! picks sub-units, writes each one's 具体措施 and 责任人, and sees the due each gets — by
//! default a working day (the policy's buffer) before the unit's own — or picks a date, with
//! a reason when it is later (docs/rules.md §8). `splitPart` or `passDown` as the reader.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::item::item_number;
use super::view::{self, Nav, posted, see_other, text};
use super::viewer::{Form, Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

const PLAN_QUERY: &str = "query($id: ID!, $task: ID) { item(id: $id) {
  databaseId serial title requirements
  handDownPlan(fromTaskId: $task) { holderDueAt defaultDueAt bufferWorkingDays
    subUnits { databaseId name } busyUnitIds passedDown overdue }
} }";

#[derive(Deserialize)]
pub struct FromTask {
    task: Option<i64>,
}

#[handler]
pub async fn page(
    Path(raw): Path<String>,
    Query(from): Query<FromTask>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    let Some(id) = item_number(&raw) else {
        return super::item::not_found(&viewer);
    };
    let form = match from.task {
        Some(task) => Form::default().with("task", &task.to_string()),
        None => Form::default(),
    };
    form_page(&schemas, &state, &viewer, id, &form, None, StatusCode::OK).await
}

#[handler]
pub async fn post(
    request: &Request,
    Path(raw): Path<String>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match posted(request, &state, body).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let Some(id) = item_number(&raw) else {
        return super::item::not_found(&viewer);
    };
    let picked = form.all("pick");
    if picked.is_empty() {
        return form_page(
            &schemas,
            &state,
            &viewer,
            id,
            &form,
            Some("请至少选择一个下级单位"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let filled =
        |field: String| Some(form.get(&field).trim().to_string()).filter(|v| !v.is_empty());
    let tasks: Vec<Value> = picked
        .iter()
        .map(|unit| {
            json!({
                "unitId": unit,
                "measures": form.get(&format!("measures-{unit}")),
                "responsible": form.get(&format!("responsible-{unit}")),
                "dueDate": filled(format!("due-{unit}")),
                "dueReason": filled(format!("reason-{unit}")),
            })
        })
        .collect();
    let pass_down = form.get("mode") == "pass";
    let query = if pass_down {
        "mutation($input: HandDownInput!) { passDown(input: $input) { tasks { databaseId } } }"
    } else {
        "mutation($input: HandDownInput!) { splitPart(input: $input) { tasks { databaseId } } }"
    };
    let from_task = Some(form.get("task")).filter(|t| !t.is_empty());
    let input = json!({ "input": { "itemId": id, "fromTaskId": from_task, "tasks": tasks } });
    match run(&schemas, &state, &viewer, query, input).await {
        Ok(_) => {
            let done = if pass_down { "PASS_DOWN" } else { "SPLIT_PART" };
            see_other(&format!("/items/{id}?done={done}#tasks"))
        }
        Err(failure) => {
            form_page(
                &schemas,
                &state,
                &viewer,
                id,
                &form,
                Some(&failure.message),
                failure.status(),
            )
            .await
        }
    }
}

async fn form_page(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    form: &Form,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let from_task = Some(form.get("task")).filter(|t| !t.is_empty());
    let variables = json!({ "id": id, "task": from_task });
    let data = match run(schemas, state, viewer, PLAN_QUERY, variables).await {
        Ok(data) => data,
        Err(failure) if failure.code == "NOT_FOUND" => return super::item::not_found(viewer),
        Err(failure) => {
            return view::problem(
                Some(viewer),
                failure.status(),
                "不能分解或转办",
                &failure.message,
            );
        }
    };
    let item = &data["item"];
    let plan = &item["handDownPlan"];
    let busy: Vec<i64> = plan["busyUnitIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    let units: Vec<&Value> = plan["subUnits"].as_array().into_iter().flatten().collect();
    let serial = text(&item["serial"]);
    let pass = form.get("mode") == "pass";
    let body = html! {
        p.crumbs { a href="/items" { "事项台账" } " › " a href={ "/items/" (id) } { (serial) } " › 分解或转办" }
        h1 { "分解或转办：" (text(&item["title"])) }
        (view::notice(None, error))
        dl.facts {
            dt { "办理要求" } dd { p.prose { (text(&item["requirements"])) } }
            dt { @if from_task.is_some() { "本单位子任务期限" } @else { "本单位办理期限" } }
            dd { strong { (view::time(&plan["holderDueAt"])) } }
            dt { "子任务默认期限" }
            dd {
                @if plan["overdue"].as_bool() == Some(true) {
                    strong.bad { "本单位期限已过：请为各单位选择期限，并说明理由" }
                } @else {
                    strong { (view::time(&plan["defaultDueAt"])) }
                    div.sub { "比上级期限提前" (plan["bufferWorkingDays"]) "个工作日（系统设置）；可为各单位另选日期，晚于上级期限须说明理由" }
                }
            }
        }
        @if plan["passedDown"].as_bool() == Some(true) {
            p.empty { "该事项已整体转办给下级单位，不能再分解或转办。" }
        } @else if units.is_empty() {
            p.empty { "本单位没有下级单位。请系统管理员在“单位”中设置下级单位。" }
        } @else if units.iter().all(|u| busy.contains(&u["databaseId"].as_i64().unwrap_or_default())) {
            p.empty { "各下级单位都已有该事项未办结的子任务，请在事项页办理。" }
        } @else {
            form.wide method="post" action={ "/items/" (id) "/split" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                @if let Some(task) = from_task { input type="hidden" name="task" value=(task); }
                fieldset {
                    legend { "方式" }
                    div.check {
                        input id="mode-split" type="radio" name="mode" value="split" checked[!pass];
                        label for="mode-split" { "分解：分给一个或多个下级单位，各办一部分" }
                    }
                    div.check {
                        input id="mode-pass" type="radio" name="mode" value="pass" checked[pass];
                        label for="mode-pass" { "转办：整体交给一个下级单位办理，本单位负责核查" }
                    }
                }
                @for u in units {
                    (unit_fields(form, u, busy.contains(&u["databaseId"].as_i64().unwrap_or_default())))
                }
                div.buttons {
                    button.primary type="submit" { "确认分解或转办" }
                    " " a href={ "/items/" (id) } { "取消" }
                }
            }
        }
    };
    view::respond(
        status,
        view::page(
            Some(viewer),
            Nav::Items,
            &format!("分解或转办 {serial}"),
            body,
        ),
    )
}

fn unit_fields(form: &Form, unit: &Value, busy: bool) -> Markup {
    let u = unit["databaseId"].to_string();
    let picked = form.all("pick").contains(&u.as_str());
    let field = |name: &str| format!("{name}-{u}");
    html! {
        fieldset.task-unit {
            legend {
                input id=(field("pick")) type="checkbox" name="pick" value=(u) checked[picked] disabled[busy];
                " " label.inline for=(field("pick")) { (text(&unit["name"])) }
                @if busy { span.sub { "（已有未办结的子任务）" } }
            }
            @if !busy {
                label for=(field("measures")) { "具体措施（勾选后必填）" }
                textarea id=(field("measures")) name=(field("measures")) rows="2" maxlength="2000" { (form.get(&field("measures"))) }
                div.row {
                    div {
                        label for=(field("responsible")) { "责任人（勾选后必填）" }
                        input id=(field("responsible")) name=(field("responsible")) maxlength="50" value=(form.get(&field("responsible")));
                    }
                    div {
                        label for=(field("due")) { "期限（不填按默认）" }
                        input id=(field("due")) name=(field("due")) type="date" value=(form.get(&field("due")));
                    }
                }
                label for=(field("reason")) { "期限晚于上级期限的理由（如有）" }
                input id=(field("reason")) name=(field("reason")) maxlength="2000" value=(form.get(&field("reason")));
            }
        }
    }
}
