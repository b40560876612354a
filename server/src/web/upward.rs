//! `/items/N/upward`: the 落实情况 report of an item received from above, as the office sends
//! it up (`Item.upwardReport`), ready to print (docs/rules.md §8).

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde_json::json;

use super::item::{item_number, not_found};
use super::view::{self, Nav, text};
use super::viewer::{Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

const UPWARD_QUERY: &str =
    "query($id: ID!) { item(id: $id) { databaseId serial title upstreamDocument upwardReport } }";

#[handler]
pub async fn page(
    Path(raw): Path<String>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    let Some(id) = item_number(&raw) else {
        return not_found(&viewer);
    };
    let data = match run(&schemas, &state, &viewer, UPWARD_QUERY, json!({ "id": id })).await {
        Ok(data) => data,
        Err(failure) if failure.code == "NOT_FOUND" => return not_found(&viewer),
        Err(failure) => return view::failure_page(&viewer, &failure),
    };
    let item = &data["item"];
    if item["upwardReport"].is_null() {
        return view::problem(
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "没有落实情况报告",
            "只有上级交办事项有落实情况报告，由督查室和区领导查看。",
        );
    }
    let serial = text(&item["serial"]);
    let body = html! {
        p.crumbs { a href="/items" { "事项台账" } " › " a href={ "/items/" (id) } { (serial) } " › 落实情况报告" }
        h1 { "落实情况报告" }
        div.letter { (text(&item["upwardReport"])) }
    };
    view::respond(
        StatusCode::OK,
        view::page(
            Some(&viewer),
            Nav::Items,
            &format!("落实情况报告 {serial}"),
            body,
        ),
    )
}
