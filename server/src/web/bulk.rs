//! Acting on the items ticked in the ledger (`/items`): 批量交办 (`/items/bulk/assign`) and
//! 批量催办 (`/items/bulk/urge`). Each item is its own verb — `assignItem`, `urgeItem` run as
//! the reader — so each is checked, audited and told as when done one by one; the answer
//! lists what happened to every item, done or refused with why.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::assign::unit_picker;
use super::fields::units_by_kind;
use super::view::{self, Nav, forged, text};
use super::viewer::{Form, Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

/// The items of a selection: their facts, each at its current version.
pub(super) const SELECTION_QUERY: &str = "query($ids: [ID!]!, $first: Int) {
  items(filter: { ids: $ids }, first: $first) { edges { node {
    databaseId version serial title requirements stage sourceKind sourceReference deadlineRule urgency
    assignments { lead status effectiveDueAt unit { databaseId name } }
    responsibleLeader { name } } } } }";

/// Most items one selection acts on (the API's `ids` filter takes as many).
const MAX_SELECTION: usize = 100;

/// The items ticked: every `item` of the address or the form, in order, each once.
pub(super) fn selected(query: Option<&str>, form: Option<&Form>) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    let from_query = query
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default();
    let values = from_query
        .iter()
        .filter(|(k, _)| k == "item")
        .map(|(_, v)| v.as_str())
        .chain(form.map(|f| f.all("item")).unwrap_or_default());
    for value in values {
        if let Ok(id) = value.trim().parse::<i64>()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

/// The selected items as the API shows them to the reader, or the page that says why not.
pub(super) async fn load(
    state: &AppState,
    schemas: &Schemas,
    viewer: &Viewer,
    ids: &[i64],
) -> Result<Vec<Value>, Response> {
    if ids.is_empty() {
        return Err(view::problem(
            Some(viewer),
            StatusCode::BAD_REQUEST,
            "没有勾选事项",
            "请先在事项台账中勾选事项，再选择要做的操作。",
        ));
    }
    if ids.len() > MAX_SELECTION {
        return Err(view::problem(
            Some(viewer),
            StatusCode::BAD_REQUEST,
            "勾选的事项过多",
            &format!("一次最多处理{MAX_SELECTION}个事项，请分批操作。"),
        ));
    }
    let data = run(
        schemas,
        state,
        viewer,
        SELECTION_QUERY,
        json!({ "ids": ids, "first": MAX_SELECTION }),
    )
    .await
    .map_err(|failure| view::failure_page(viewer, &failure))?;
    let mut items: Vec<Value> = data["items"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["node"].clone())
        .collect();
    // In the order ticked, not the list's.
    items.sort_by_key(|i| {
        ids.iter()
            .position(|id| i["databaseId"].as_i64() == Some(*id))
    });
    Ok(items)
}

fn hidden_items(items: &[Value]) -> Markup {
    html! {
        @for item in items { input type="hidden" name="item" value=(item["databaseId"]); }
    }
}

fn item_list(items: &[Value]) -> Markup {
    html! {
        table.list {
            thead { tr { th { "编号" } th { "事项" } th { "阶段" } th { "承办单位" } } }
            tbody {
                @for item in items {
                    tr {
                        td.serial { (text(&item["serial"])) }
                        td data-label="事项" { a href={ "/items/" (item["databaseId"]) } { (text(&item["title"])) } }
                        td data-label="阶段" { (view::stage_label(text(&item["stage"]))) }
                        td data-label="承办单位" { (units_of(item)) }
                    }
                }
            }
        }
    }
}

fn units_of(item: &Value) -> String {
    let names: Vec<&str> = item["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| text(&a["status"]) != "WITHDRAWN")
        .map(|a| text(&a["unit"]["name"]))
        .collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join("、")
    }
}

/// What became of each item: done, or why not.
fn outcome_page(
    viewer: &Viewer,
    title: &str,
    outcomes: &[(Value, Result<String, String>)],
) -> Response {
    let done = outcomes.iter().filter(|(_, o)| o.is_ok()).count();
    let body = html! {
        div.heading { h1 { (title) } a.button href="/items" { "返回台账" } }
        p.notice.ok role="status" { (done) "项已完成，" (outcomes.len() - done) "项未办理（原因见下）。" }
        table.list {
            thead { tr { th { "编号" } th { "事项" } th { "结果" } } }
            tbody {
                @for (item, outcome) in outcomes {
                    tr {
                        td.serial { (text(&item["serial"])) }
                        td data-label="事项" { a href={ "/items/" (item["databaseId"]) } { (text(&item["title"])) } }
                        td data-label="结果" {
                            @match outcome {
                                Ok(said) => span.ok { (said) },
                                Err(why) => p.problem.blocking { (why) },
                            }
                        }
                    }
                }
            }
        }
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(viewer), Nav::Items, title, body),
    )
}

/// The items ticked in the address, for a reader who may `action`; or the page that
/// refuses (`refusal` says why not).
pub(super) async fn ticked(
    request: &Request,
    state: &AppState,
    schemas: &Schemas,
    viewer: &Viewer,
    (action, refusal): (ducha_domain::Action, &str),
) -> Result<Vec<Value>, Response> {
    if let Some(refused) = view::unless_allowed(viewer, action, "无权操作", refusal) {
        return Err(refused);
    }
    load(
        state,
        schemas,
        viewer,
        &selected(request.uri().query(), None),
    )
    .await
}

/// A posted form with its ticked items, its CSRF token checked, for a reader who may
/// `action`.
async fn posted_ticked(
    body: poem::Body,
    state: &AppState,
    schemas: &Schemas,
    viewer: &Viewer,
    action: ducha_domain::Action,
) -> Result<(Form, Vec<Value>), Response> {
    let form = view::read_form(body).await?;
    if let Some(refused) = forged(viewer, &form) {
        return Err(refused);
    }
    if let Some(refused) = view::unless_allowed(viewer, action, "无权操作", OFFICE_ONLY) {
        return Err(refused);
    }
    let items = load(state, schemas, viewer, &selected(None, Some(&form))).await?;
    Ok((form, items))
}

const OFFICE_ONLY: &str = "只有督查室可以批量交办和催办。";

#[handler]
pub async fn urge_page(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    let items = match ticked(
        request,
        &state,
        &schemas,
        &viewer,
        (ducha_domain::Action::Urge, OFFICE_ONLY),
    )
    .await
    {
        Ok(items) => items,
        Err(page) => return page,
    };
    let body = html! {
        div.heading { h1 { "批量催办" } a.button href="/items" { "返回台账" } }
        p { "以下" (items.len()) "个事项仍在办理的承办单位都会收到这条催办；同一单位的同一事项每天至多催办一次。" }
        (item_list(&items))
        form.card method="post" action="/items/bulk/urge" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (hidden_items(&items))
            div.field {
                label for="message" { "催办内容" }
                textarea id="message" name="message" rows="3" required maxlength="2000"
                    placeholder="如：请于本周五前报送最新进展，逾期将予以通报。" {}
            }
            div.check {
                input id="insist" type="checkbox" name="insist" value="1";
                label for="insist" { "今日已催办仍发送" }
            }
            div.buttons { button.primary type="submit" { "发送催办" } }
        }
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(&viewer), Nav::Items, "批量催办", body),
    )
}

#[handler]
pub async fn urge(
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
    viewer: Viewer,
) -> Response {
    let (form, items) =
        match posted_ticked(body, &state, &schemas, &viewer, ducha_domain::Action::Urge).await {
            Ok(posted) => posted,
            Err(page) => return page,
        };
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        let ran = run(
            &schemas,
            &state,
            &viewer,
            "mutation($input: UrgeItemInput!) { urgeItem(input: $input) { unitsTold } }",
            json!({ "input": {
                "itemId": item["databaseId"], "message": form.get("message"),
                "insist": form.get("insist") == "1",
            } }),
        )
        .await;
        let outcome = ran
            .map(|data| format!("已催办{}个单位", data["urgeItem"]["unitsTold"]))
            .map_err(|failure| failure.message);
        outcomes.push((item, outcome));
    }
    outcome_page(&viewer, "批量催办结果", &outcomes)
}

#[handler]
pub async fn assign_page(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    let items = match ticked(
        request,
        &state,
        &schemas,
        &viewer,
        (ducha_domain::Action::Assign, OFFICE_ONLY),
    )
    .await
    {
        Ok(items) => items,
        Err(page) => return page,
    };
    let units = match run(
        &schemas,
        &state,
        &viewer,
        "{ units { databaseId name kind } }",
        json!({}),
    )
    .await
    {
        Ok(data) => data,
        Err(failure) => return view::failure_page(&viewer, &failure),
    };
    let groups = units_by_kind(&units["units"]);
    let waiting = items
        .iter()
        .filter(|i| text(&i["stage"]) == "REGISTERED")
        .count();
    let body = html! {
        div.heading { h1 { "批量交办" } a.button href="/items" { "返回台账" } }
        p { "勾选的" (items.len()) "个事项中，" (waiting) "个待交办，将交给同一主办单位和协办单位，各按自己的期限规则自交办时起算；已交办的事项不受影响。" }
        (item_list(&items))
        form.wide method="post" action="/items/bulk/assign" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (hidden_items(&items))
            (unit_picker(&groups, "", &[], None))
            div.buttons { button.primary type="submit" { "交办" } }
        }
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(&viewer), Nav::Items, "批量交办", body),
    )
}

#[handler]
pub async fn assign(
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
    viewer: Viewer,
) -> Response {
    let (form, items) = match posted_ticked(
        body,
        &state,
        &schemas,
        &viewer,
        ducha_domain::Action::Assign,
    )
    .await
    {
        Ok(posted) => posted,
        Err(page) => return page,
    };
    let lead = form.get("lead");
    let co: Vec<&str> = form.all("co").into_iter().filter(|c| *c != lead).collect();
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        if text(&item["stage"]) != "REGISTERED" {
            outcomes.push((item, Err("已交办或已结束，未重复交办".to_string())));
            continue;
        }
        let ran = run(
            &schemas,
            &state,
            &viewer,
            "mutation($input: AssignItemInput!) { assignItem(input: $input) {
               item { assignments { lead effectiveDueAt } } } }",
            json!({ "input": {
                "itemId": item["databaseId"], "version": item["version"],
                "leadUnitId": lead, "coUnitIds": co,
            } }),
        )
        .await;
        let outcome = ran
            .map(|data| {
                let due = data["assignItem"]["item"]["assignments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["lead"] == true)
                    .map(|a| view::time_text(&a["effectiveDueAt"]))
                    .unwrap_or_default();
                format!("已交办，主办单位期限 {due}")
            })
            .map_err(|failure| failure.message);
        outcomes.push((item, outcome));
    }
    outcome_page(&viewer, "批量交办结果", &outcomes)
}
