//! 事项台账: the item list with the filters people use — colour, stage, unit, source kind,
//! overdue, due within N working days, text — paged by the API's cursors; the same
//! selection is exported by `ledger_export`.

use chrono::{NaiveTime, Utc};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::view::{self, Nav, colour_badge, text};
use super::viewer::{Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;
pub(super) const LIST_QUERY: &str =
    "query($filter: ItemFilter, $first: Int, $after: String, $last: Int, $before: String) {
  items(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { databaseId serial title sourceKind stage colour colourReason requirements
      assignments { lead status effectiveDueAt unit { name } } } }
  }
}";

const UNITS_QUERY: &str = "{ units { databaseId name kind } }";

/// The list's filters as they travel in the address (so a filtered list can be bookmarked
/// and sent).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Filters {
    #[serde(skip_serializing_if = "Option::is_none")]
    colour: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    overdue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    within: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(skip_serializing)]
    after: Option<String>,
    #[serde(skip_serializing)]
    before: Option<String>,
}

fn chosen(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Filters {
    fn within_days(&self) -> Option<i32> {
        chosen(&self.within)
            .and_then(|w| w.parse::<i32>().ok())
            .filter(|w| (0..=60).contains(w))
    }

    /// The API's `ItemFilter`, and what was chosen in words (for the export's title).
    pub(super) fn to_api(&self, state: &AppState) -> (Value, Vec<String>) {
        let mut filter = Map::new();
        let mut said = Vec::new();
        if let Some(c) =
            chosen(&self.colour).filter(|c| ["RED", "YELLOW", "BLUE", "NONE"].contains(c))
        {
            filter.insert("colours".into(), json!([c]));
            said.push(format!("颜色：{}", view::colour_label(c)));
        }
        if let Some(s) = chosen(&self.stage).filter(|s| ducha_domain::Stage::parse(s).is_some()) {
            filter.insert("stages".into(), json!([s]));
            said.push(format!("阶段：{}", view::stage_label(s)));
        }
        if let Some(u) = chosen(&self.unit).and_then(|u| u.parse::<i64>().ok()) {
            filter.insert("unitId".into(), json!(u));
            said.push(format!("单位编号：{u}"));
        }
        if let Some(s) =
            chosen(&self.source).filter(|s| ducha_domain::SourceKind::parse(s).is_some())
        {
            filter.insert("sourceKinds".into(), json!([s]));
            said.push(format!("来源：{}", view::source_label(s)));
        }
        if chosen(&self.overdue).is_some() {
            filter.insert("overdue".into(), json!(true));
            said.push("仅逾期".into());
        }
        if let Some(days) = self.within_days() {
            // The end of the N-th working day from today: what "N个工作日内到期" means here.
            let tz = state.deadline_policy.time_zone;
            let today = state.clock.now().with_timezone(&tz).date_naive();
            if let Ok(calendar) = state.calendar.current()
                && let Ok(last) = calendar.add_working_days(today, days)
                && let Some(end) = last
                    .value
                    .and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default())
                    .and_local_timezone(tz)
                    .single()
            {
                filter.insert("dueTo".into(), json!(end.with_timezone(&Utc).to_rfc3339()));
                if chosen(&self.stage).is_none() {
                    filter.insert(
                        "stages".into(),
                        json!(["ASSIGNED", "IN_PROGRESS", "FEEDBACK_SUBMITTED"]),
                    );
                }
                said.push(format!("{days}个工作日内到期"));
            }
        }
        if let Some(q) = chosen(&self.q) {
            let q: String = q.chars().take(100).collect();
            said.push(format!("包含：{q}"));
            filter.insert("text".into(), json!(q));
        }
        (Value::Object(filter), said)
    }

    pub(super) fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

pub(super) fn lead_of(item: &Value) -> Option<&Value> {
    item["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["lead"].as_bool() == Some(true) && text(&a["status"]) != "WITHDRAWN")
}

pub(super) fn co_units(item: &Value) -> String {
    item["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["lead"].as_bool() != Some(true) && text(&a["status"]) != "WITHDRAWN")
        .map(|a| text(&a["unit"]["name"]).to_string())
        .collect::<Vec<_>>()
        .join("、")
}

#[handler]
pub async fn list(
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    Query(filters): Query<Filters>,
    viewer: Viewer,
) -> Response {
    let (filter, _) = filters.to_api(&state);
    let paging = match (chosen(&filters.after), chosen(&filters.before)) {
        (_, Some(before)) => json!({ "last": PAGE_SIZE, "before": before }),
        (Some(after), None) => json!({ "first": PAGE_SIZE, "after": after }),
        _ => json!({ "first": PAGE_SIZE }),
    };
    let mut variables = paging;
    variables["filter"] = filter;
    let data = match run(&schemas, &state, &viewer, LIST_QUERY, variables).await {
        Ok(data) => data,
        Err(failure) => return super::view::failure_page(&viewer, &failure),
    };
    let units = if viewer.actor.role.sees_everything() {
        run(&schemas, &state, &viewer, UNITS_QUERY, json!({}))
            .await
            .unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let body = html! {
        div.heading {
            h1 { "事项台账" }
            @if ducha_domain::Action::Register.allowed_for(viewer.actor.role) {
                a.button href="/meetings" { "会议议定事项" }
                a.button href="/items/import" { "导入台账" }
                a.button.primary href="/items/new" { "立项" }
            }
        }
        (filter_form(&viewer, &filters, &units))
        @let office = ducha_domain::Action::Assign.allowed_for(viewer.actor.role);
        @if office { (bulk_bar()) }
        (table(&data["items"], office))
        (pager(&filters, &data["items"]["pageInfo"]))
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(&viewer), Nav::Items, "事项台账", body),
    )
}

fn filter_form(viewer: &Viewer, filters: &Filters, units: &Value) -> Markup {
    let is = |value: &Option<String>, wanted: &str| chosen(value) == Some(wanted);
    html! {
        form.filters method="get" action="/items" role="search" {
            div {
                label for="f-colour" { "颜色" }
                select id="f-colour" name="colour" {
                    option value="" { "全部" }
                    @for c in ["RED", "YELLOW", "BLUE", "NONE"] {
                        option value=(c) selected[is(&filters.colour, c)] { (view::colour_label(c)) }
                    }
                }
            }
            div {
                label for="f-stage" { "阶段" }
                select id="f-stage" name="stage" {
                    option value="" { "全部" }
                    @for s in ducha_domain::Stage::ALL {
                        option value=(s.as_str()) selected[is(&filters.stage, s.as_str())] { (s.label()) }
                    }
                }
            }
            @if viewer.actor.role.sees_everything() {
                div {
                    label for="f-unit" { "承办单位" }
                    select id="f-unit" name="unit" {
                        option value="" { "全部" }
                        @for u in units["units"].as_array().into_iter().flatten() {
                            @let id = u["databaseId"].to_string();
                            option value=(id) selected[is(&filters.unit, &id)] { (text(&u["name"])) }
                        }
                    }
                }
            }
            div {
                label for="f-source" { "来源" }
                select id="f-source" name="source" {
                    option value="" { "全部" }
                    @for k in ducha_domain::SourceKind::ALL {
                        option value=(k.as_str()) selected[is(&filters.source, k.as_str())] { (k.label()) }
                    }
                }
            }
            div {
                label for="f-within" { "N个工作日内到期" }
                input id="f-within" name="within" type="number" min="0" max="60" inputmode="numeric"
                    value=(chosen(&filters.within).unwrap_or_default());
            }
            div.check {
                input id="f-overdue" name="overdue" type="checkbox" value="1" checked[chosen(&filters.overdue).is_some()];
                label for="f-overdue" { "仅看逾期" }
            }
            div.grow {
                label for="f-q" { "关键词" }
                input id="f-q" name="q" type="search" placeholder="标题、要求、编号、文号"
                    value=(chosen(&filters.q).unwrap_or_default());
            }
            div.buttons {
                button type="submit" { "查询" }
                a.button href="/items" { "清除" }
                a.button href={ "/items/export.xlsx?" (filters.query_string()) } download { "导出台账（XLSX）" }
                a.button href={ "/items/export.csv?" (filters.query_string()) } download { "导出CSV" }
            }
        }
    }
}

/// What the office can do with the items ticked below (the boxes belong to this form).
fn bulk_bar() -> Markup {
    html! {
        form.bulk id="selection" method="get" action="/items/print" {
            label.select-all hidden {
                input id="select-all" type="checkbox";
                " 全选本页"
            }
            span { "对勾选的事项：" }
            button type="submit" formaction="/items/bulk/assign" { "批量交办" }
            button type="submit" formaction="/items/bulk/urge" { "批量催办" }
            button type="submit" formaction="/items/print" { "打印督办通知单" }
            button type="submit" formaction="/items/print" name="kind" value="urge" { "打印催办单" }
            button type="submit" formaction="/items/export.xlsx" { "导出所选" }
        }
    }
}

fn table(items: &Value, pickable: bool) -> Markup {
    let rows: Vec<&Value> = items["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["node"])
        .collect();
    html! {
        @if rows.is_empty() {
            p.empty { "没有符合条件的事项。" }
        } @else {
            table.list {
                thead { tr {
                    @if pickable { th.pick { "选择" } }
                    th { "编号" } th { "事项" } th { "来源" } th { "阶段" } th { "颜色" } th { "主办单位" } th { "办理期限" }
                } }
                tbody {
                    @for item in rows {
                        @let lead = lead_of(item);
                        tr {
                            @if pickable {
                                td.pick data-label="选择" {
                                    input type="checkbox" name="item" form="selection" value=(item["databaseId"])
                                        aria-label={ "选择" (text(&item["serial"])) };
                                }
                            }
                            td.serial { (text(&item["serial"])) }
                            td {
                                a href={ "/items/" (item["databaseId"]) } { (text(&item["title"])) }
                                @let co = co_units(item);
                                @if !co.is_empty() { div.sub { "协办：" (co) } }
                            }
                            td data-label="来源" { (view::source_label(text(&item["sourceKind"]))) }
                            td data-label="阶段" { (view::stage_label(text(&item["stage"]))) }
                            td data-label="颜色" { (colour_badge(&item["colour"], &item["colourReason"])) }
                            td data-label="主办单位" { (lead.map_or("—", |a| text(&a["unit"]["name"]))) }
                            td data-label="办理期限" { (view::time(lead.map_or(&Value::Null, |a| &a["effectiveDueAt"]))) }
                        }
                    }
                }
            }
        }
    }
}

fn pager(filters: &Filters, page_info: &Value) -> Markup {
    let base = filters.query_string();
    let joined = if base.is_empty() {
        String::new()
    } else {
        format!("{base}&")
    };
    html! {
        nav.pager aria-label="翻页" {
            @if page_info["hasPreviousPage"].as_bool() == Some(true) {
                a rel="prev" href={ "/items?" (joined) "before=" (text(&page_info["startCursor"])) } { "‹ 上一页" }
            }
            @if page_info["hasNextPage"].as_bool() == Some(true) {
                a rel="next" href={ "/items?" (joined) "after=" (text(&page_info["endCursor"])) } { "下一页 ›" }
            }
        }
    }
}
