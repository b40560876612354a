//! 首页 / 大屏: every unit with its colour, reason and measure (提醒/通报/约谈), counts by
//! colour and stage, and the red and yellow items, for a unit kind or all; the items the
//! reader follows (关注) come first. The page's script
//! subscribes to `dashboardEvents` and reloads the board's part on each change; it also
//! reloads each minute, because colours change with time alone (a due passing).
//! `?wall=1` is the wall-screen layout: large type, dark ground, no navigation.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::view::{self, Nav, colour_badge, text};
use super::view::{see_other, viewer};
use super::viewer::{Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

const BOARD_QUERY: &str = "query($red: ItemFilter!, $yellow: ItemFilter!) {
  dashboard { at byColour { colour count } byStage { stage count }
    units { unit { databaseId name kind } colour reason measure openItems red yellow blue onTimeRate } }
  red: items(filter: $red, first: 30) { edges { node { ...row } } }
  yellow: items(filter: $yellow, first: 30) { edges { node { ...row } } }
  followed: followedItems { ...row }
}
fragment row on Item { databaseId serial title colour colourReason stage
  assignments { lead effectiveDueAt unit { name kind } } }";

#[derive(Deserialize, Default)]
pub struct BoardQuery {
    /// A unit kind (DEPARTMENT, SUBDISTRICT…), or all.
    kind: Option<String>,
    /// The wall-screen layout.
    wall: Option<String>,
    /// Only the board's part, for the live reload.
    part: Option<String>,
}

/// `/`: the board for the office and leaders, the to-do for units.
#[handler]
pub async fn home(request: &Request, state: Data<&AppState>) -> Response {
    match viewer(request, &state).await {
        Ok(v) if v.actor.role.sees_everything() => see_other("/board"),
        Ok(_) => see_other("/todo"),
        Err(to_login) => to_login,
    }
}

#[handler]
pub async fn board(
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    Query(query): Query<BoardQuery>,
    viewer: Viewer,
) -> Response {
    if !viewer.actor.role.sees_everything() {
        return see_other("/todo");
    }
    let kind = query
        .kind
        .filter(|k| view::UNIT_KINDS.contains(&k.as_str()));
    let open = ["ASSIGNED", "IN_PROGRESS", "FEEDBACK_SUBMITTED"];
    let data = match run(
        &schemas,
        &state,
        &viewer,
        BOARD_QUERY,
        json!({
            "red": { "colours": ["RED"], "stages": open },
            "yellow": { "colours": ["YELLOW"], "stages": open },
        }),
    )
    .await
    {
        Ok(data) => data,
        Err(failure) => return super::view::failure_page(&viewer, &failure),
    };
    let wall = query.wall.is_some_and(|w| w == "1");
    let part = board_part(&data, kind.as_deref(), wall);
    if query.part.is_some() {
        return view::respond(StatusCode::OK, part);
    }
    let body = html! {
        div.board-head {
            h1 { "督查督办看板" }
            form.kinds method="get" action="/board" {
                @if wall { input type="hidden" name="wall" value="1"; }
                label for="kind" { "单位类别" }
                select id="kind" name="kind" data-autosubmit {
                    option value="" { "全部" }
                    @for k in view::UNIT_KINDS {
                        option value=(k) selected[kind.as_deref() == Some(k)] { (view::unit_kind_label(k)) }
                    }
                }
                noscript { button type="submit" { "筛选" } }
            }
            p.live aria-live="polite" data-live-status { "实时更新未连接" }
            @if wall {
                a href={ "/board" @if let Some(k) = &kind { "?kind=" (k) } } { "退出大屏" }
            } @else {
                a href={ "/board?wall=1" @if let Some(k) = &kind { "&kind=" (k) } } { "大屏模式" }
            }
        }
        div data-live="board" { (part) }
    };
    let markup = if wall {
        wall_page(&viewer, body)
    } else {
        view::page(Some(&viewer), Nav::Board, "看板", body)
    };
    view::respond(StatusCode::OK, markup)
}

fn wall_page(viewer: &Viewer, body: Markup) -> Markup {
    // The same frame without navigation, dark and large (the stylesheet's `.wall`).
    html! {
        (maud::DOCTYPE)
        html lang="zh-CN" class="wall" {
            head {
                meta charset="utf-8";
                title { "督查督办大屏" }
                // No icon to fetch: a browser asks for /favicon.ico otherwise.
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/web/ducha.css";
                script src="/assets/web/ducha.js" defer {}
            }
            body data-viewer=(viewer.actor.name) { main id="main" { (body) } }
        }
    }
}

fn count_of(list: &Value, key: &str, wanted: &str) -> i64 {
    list.as_array()
        .into_iter()
        .flatten()
        .find(|c| text(&c[key]) == wanted)
        .and_then(|c| c["count"].as_i64())
        .unwrap_or(0)
}

fn board_part(data: &Value, kind: Option<&str>, wall: bool) -> Markup {
    let dashboard = &data["dashboard"];
    let units: Vec<&Value> = dashboard["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| kind.is_none_or(|k| text(&u["unit"]["kind"]) == k))
        .collect();
    // With a kind chosen, the colour counts are of its units' open items; otherwise the
    // district's, as the dashboard counts them.
    let colour_count = |colour: &str| -> i64 {
        match kind {
            None => count_of(&dashboard["byColour"], "colour", colour),
            Some(_) => units
                .iter()
                .map(|u| u[colour.to_lowercase().as_str()].as_i64().unwrap_or(0))
                .sum(),
        }
    };
    let of_kind = |item: &&Value| {
        kind.is_none_or(|k| {
            item["assignments"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| text(&a["unit"]["kind"]) == k)
        })
    };
    let red: Vec<&Value> = data["red"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["node"])
        .filter(of_kind)
        .collect();
    let yellow: Vec<&Value> = data["yellow"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["node"])
        .filter(of_kind)
        .collect();
    let mut ranked = units.clone();
    let weight = |u: &Value| match text(&u["colour"]) {
        "RED" => 3,
        "YELLOW" => 2,
        "BLUE" => 1,
        _ => 0,
    };
    ranked.sort_by(|a, b| {
        weight(b)
            .cmp(&weight(a))
            .then(b["red"].as_i64().cmp(&a["red"].as_i64()))
            .then(b["yellow"].as_i64().cmp(&a["yellow"].as_i64()))
    });
    let followed: Vec<&Value> = data["followed"].as_array().into_iter().flatten().collect();
    html! {
        p.asof { "统计时刻 " (view::time(&dashboard["at"])) }
        @if !wall && !followed.is_empty() {
            section aria-label="我关注的事项" {
                h2 { "我关注的（" (followed.len()) "）" }
                ul.followed {
                    @for item in &followed {
                        li {
                            a href={ "/items/" (item["databaseId"]) } {
                                span.serial { (text(&item["serial"])) } " " (text(&item["title"]))
                            }
                            " " (colour_badge(&item["colour"], &item["colourReason"]))
                            div.sub { (view::stage_label(text(&item["stage"]))) "　" (text(&item["colourReason"])) }
                        }
                    }
                }
            }
        }
        section.tiles aria-label="按颜色统计" {
            @for (colour, word) in [("RED", "红色督办"), ("YELLOW", "黄色预警"), ("BLUE", "蓝色提示")] {
                div class={ "tile " (colour.to_lowercase()) } {
                    span.n { (colour_count(colour)) }
                    span.w { (word) }
                }
            }
        }
        @if !wall {
            section aria-label="按阶段统计" {
                h2 { "各阶段事项" }
                ul.stages {
                    @for s in dashboard["byStage"].as_array().into_iter().flatten() {
                        li {
                            a href={ "/items?stage=" (text(&s["stage"])) } {
                                (view::stage_label(text(&s["stage"]))) " "
                                strong { (s["count"].as_i64().unwrap_or(0)) }
                            }
                        }
                    }
                }
            }
        }
        div.columns {
            section aria-label="各单位颜色" {
                h2 { "各单位（" (units.len()) "个）" @if wall { " " span.sub data-wall-page {} } }
                table.units.list {
                    thead { tr { th { "单位" } th { "颜色" } th { "措施" } th { "在办" } th { "红" } th { "黄" } th { "按时办结率" } th.reason { "原因" } } }
                    tbody {
                        @for u in &ranked {
                            tr {
                                td { a href={ "/items?unit=" (u["unit"]["databaseId"]) } { (text(&u["unit"]["name"])) } }
                                td data-label="颜色" { (colour_badge(&u["colour"], &u["reason"])) }
                                td data-label="措施" { (text(&u["measure"])) }
                                td.num data-label="在办" { (u["openItems"].as_i64().unwrap_or(0)) }
                                td.num data-label="红" { (u["red"].as_i64().unwrap_or(0)) }
                                td.num data-label="黄" { (u["yellow"].as_i64().unwrap_or(0)) }
                                td.num data-label="按时办结率" { @match u["onTimeRate"].as_f64() { Some(r) => { (format!("{r:.0}%")) }, None => { "—" } } }
                                td.reason { (text(&u["reason"])) }
                            }
                        }
                    }
                }
            }
            section aria-label="红黄事项" {
                (flagged("红色事项", &red))
                (flagged("黄色事项", &yellow))
            }
        }
    }
}

fn flagged(title: &str, items: &[&Value]) -> Markup {
    html! {
        h2 { (title) "（" (items.len()) @if items.len() >= 30 { "+" } "）" }
        @if items.is_empty() {
            p.empty { "无" }
        } @else {
            ul.flagged {
                @for item in items {
                    li {
                        a href={ "/items/" (item["databaseId"]) } {
                            span.serial { (text(&item["serial"])) } " " (text(&item["title"]))
                        }
                        " " (colour_badge(&item["colour"], &item["colourReason"]))
                        div.why { (text(&item["colourReason"])) }
                    }
                }
            }
        }
    }
}
