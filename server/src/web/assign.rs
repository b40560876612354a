//! 交办 (`/items/N/assign`): the office picks the lead unit and co-units from the directory
//! (grouped by kind, searchable with the script), sees each unit's due if assigned now
//! (co-units a working day before the lead, docs/rules.md §2), then confirms: `assignItem`.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::fields::{Refusal, filled, units_by_kind};
use super::view::{self, Nav, posted, see_other, text};
use super::viewer::{Form, Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

const ASSIGN_QUERY: &str = "query($id: ID!) { item(id: $id) {
  databaseId version serial title stage deadlineRule
  lead: dueIfAssignedNow(lead: true) { dueAt explanation { summary } }
  co: dueIfAssignedNow(lead: false) { dueAt explanation { summary } }
} units { databaseId name kind } }";

const ASSIGN: &str =
    "mutation($input: AssignItemInput!) { assignItem(input: $input) { item { databaseId } } }";

const ASSIGN_FIELDS: &[(&str, &[&str])] = &[("lead", &["主办"]), ("co", &["协办", "重复交办"])];

fn office_only(viewer: &Viewer) -> Option<Response> {
    view::unless_allowed(
        viewer,
        ducha_domain::Action::Assign,
        "无权交办",
        "只有督查室可以交办事项。",
    )
}

#[handler]
pub async fn page(
    Path(id): Path<i64>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    form_page(
        &schemas,
        &state,
        &viewer,
        id,
        &Form::default(),
        false,
        None,
        StatusCode::OK,
    )
    .await
}

#[handler]
pub async fn post(
    request: &Request,
    Path(id): Path<i64>,
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
    let Some(lead) = filled(&form, "lead") else {
        let refusal = Refusal {
            field: Some("lead"),
            message: "请选择主办单位".into(),
        };
        return form_page(
            &schemas,
            &state,
            &viewer,
            id,
            &form,
            false,
            Some(refusal),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let co: Vec<&str> = form.all("co").into_iter().filter(|u| *u != lead).collect();
    if form.get("step") != "save" {
        return form_page(
            &schemas,
            &state,
            &viewer,
            id,
            &form,
            true,
            None,
            StatusCode::OK,
        )
        .await;
    }
    let version: i64 = form.get("version").parse().unwrap_or_default();
    let input = json!({ "input": { "itemId": id, "version": version, "leadUnitId": lead, "coUnitIds": co } });
    match run(&schemas, &state, &viewer, ASSIGN, input).await {
        Ok(_) => see_other(&format!("/items/{id}?done=ASSIGN")),
        Err(failure) => {
            let refusal = Refusal::placed(&failure, ASSIGN_FIELDS);
            // Changed meanwhile: the form comes back on the item as it is now.
            let form = if failure.code == "CONFLICT" {
                form.with("version", "")
            } else {
                form
            };
            form_page(
                &schemas,
                &state,
                &viewer,
                id,
                &form,
                false,
                Some(refusal),
                failure.status(),
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    form: &Form,
    confirming: bool,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, ASSIGN_QUERY, json!({ "id": id })).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let item = &data["item"];
    if text(&item["stage"]) != "REGISTERED" {
        return view::problem(
            Some(viewer),
            StatusCode::CONFLICT,
            "不能交办",
            "该事项已交办或已结束；改派请在事项页处理退回。",
        );
    }
    let refusal = refusal.as_ref();
    let groups = units_by_kind(&data["units"]);
    let lead = form.get("lead");
    let co = form.all("co");
    let serial = text(&item["serial"]);
    let version = if form.get("version").is_empty() {
        item["version"].to_string()
    } else {
        form.get("version").to_string()
    };
    let name_of = |unit: &str| {
        data["units"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| {
                u["databaseId"]
                    .as_i64()
                    .is_some_and(|n| unit.parse() == Ok(n))
            })
            .map_or_else(|| unit.to_string(), |u| text(&u["name"]).to_string())
    };
    let body = html! {
        p.crumbs { a href="/items" { "事项台账" } " › " a href={ "/items/" (id) } { (serial) } " › 交办" }
        h1 { "交办：" (text(&item["title"])) }
        (Refusal::above(refusal))
        p { "期限规则：" strong { (text(&item["deadlineRule"])) } "，自交办时起算。" }
        (dues(item))
        form.wide method="post" action={ "/items/" (id) "/assign" } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="version" value=(version);
            @if confirming {
                section.preview aria-label="交办确认" {
                    h2 { "请确认" }
                    table.list {
                        thead { tr { th { "单位" } th { "主/协办" } th { "期限" } } }
                        tbody {
                            tr { td { (name_of(lead)) } td { "主办" } td { (view::time(&item["lead"]["dueAt"])) } }
                            @for unit in co.iter().filter(|u| **u != lead) {
                                tr { td { (name_of(unit)) } td { "协办" } td { (view::time(&item["co"]["dueAt"])) } }
                            }
                        }
                    }
                    input type="hidden" name="lead" value=(lead);
                    @for unit in co.iter().filter(|u| **u != lead) { input type="hidden" name="co" value=(unit); }
                    div.buttons {
                        button.primary type="submit" name="step" value="save" { "确认交办" }
                        " " a href={ "/items/" (id) "/assign" } { "重新选择" }
                    }
                }
            } @else {
                (unit_picker(&groups, lead, &co, refusal))
                div.buttons {
                    button.primary type="submit" name="step" value="preview" { "下一步：核对期限" }
                }
            }
        }
    };
    view::respond(
        status,
        view::page(Some(viewer), Nav::Items, &format!("交办 {serial}"), body),
    )
}

/// The lead unit (one, from a list grouped by kind) and co-units (ticked), filtered by name
/// with the script: 交办 of one item, and of a selection (`bulk`).
pub(super) fn unit_picker(
    groups: &[(&'static str, Vec<&Value>)],
    lead: &str,
    co: &[&str],
    refusal: Option<&Refusal>,
) -> Markup {
    html! {
        label for="unit-filter" { "查找单位" }
        input id="unit-filter" type="search" placeholder="输入单位名称筛选" data-filter="units";
        fieldset {
            legend { "主办（牵头）单位" }
            label for="lead" { "主办单位" }
            select id="lead" name="lead" required data-filtered-by="units" {
                option value="" { "请选择" }
                @for (kind, units) in groups {
                    optgroup label=(kind) {
                        @for u in units {
                            @let value = u["databaseId"].to_string();
                            option value=(value) selected[value == lead] { (text(&u["name"])) }
                        }
                    }
                }
            }
            (Refusal::at(refusal, "lead"))
        }
        fieldset.units data-filterable="units" {
            legend { "协办单位（可多选）" }
            @for (kind, units) in groups {
                div.group {
                    h3 { (kind) }
                    ul.choices {
                        @for u in units {
                            @let value = u["databaseId"].to_string();
                            li data-name=(text(&u["name"])) {
                                input type="checkbox" id={ "co-" (value) } name="co" value=(value) checked[co.contains(&value.as_str())];
                                label for={ "co-" (value) } { (text(&u["name"])) }
                            }
                        }
                    }
                }
            }
            (Refusal::at(refusal, "co"))
        }
    }
}

fn dues(item: &Value) -> Markup {
    html! {
        dl.facts {
            dt { "主办单位期限" }
            dd { (view::time(&item["lead"]["dueAt"])) div.sub { (text(&item["lead"]["explanation"]["summary"])) } }
            dt { "协办单位期限" }
            dd { (view::time(&item["co"]["dueAt"])) div.sub { (text(&item["co"]["explanation"]["summary"])) } }
        }
    }
}
