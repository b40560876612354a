//! 督办通知单 and 催办单 (`/items/print?item=N…&kind=notice|urge`): the formal A4 forms the
//! office sends with its red header, printed from the page as it is (print CSS, no PDF
//! step). A 督办通知单 per item, numbered by its serial (督〔2026〕N号), with its units, its
//! requirements and dues and the reply instruction; a 催办单 per unit, listing its open parts of
//! the selected items. Chinese convention: the issuer's name in red over a red rule, the title,
//! the 文号, the addressee, the body with two characters' indent, the issuer and date at the
//! right, the contact line.

use chrono::{DateTime, Datelike};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::Value;

use super::bulk::ticked;
use super::view::{self, Nav, text};
use super::viewer::Viewer;
use crate::graphql::Schemas;
use crate::service::reports::OFFICE;
use crate::state::AppState;

fn chinese_date(t: impl Datelike) -> String {
    format!("{}年{}月{}日", t.year(), t.month(), t.day())
}

/// A due as the forms write it: 2026年12月31日18时前.
fn due_words(value: &Value, tz: chrono_tz::Tz) -> String {
    view::instant(value)
        .map(|t| {
            let t = t.with_timezone(&tz);
            format!("{}{}前", chinese_date(t), time_of_day(t))
        })
        .unwrap_or_else(|| "—".into())
}

fn time_of_day(t: DateTime<chrono_tz::Tz>) -> String {
    use chrono::Timelike;
    match t.minute() {
        0 => format!("{}时", t.hour()),
        m => format!("{}时{}分", t.hour(), m),
    }
}

fn live_parts(item: &Value) -> Vec<&Value> {
    let mut parts: Vec<&Value> = item["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| text(&a["status"]) != "WITHDRAWN")
        .collect();
    parts.sort_by_key(|a| a["lead"] != true);
    parts
}

#[handler]
pub async fn page(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    let urge = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "kind=urge"));
    let items = match ticked(
        request,
        &state,
        &schemas,
        &viewer,
        (
            ducha_domain::Action::Assign,
            "督办通知单和催办单由督查室打印。",
        ),
    )
    .await
    {
        Ok(items) => items,
        Err(page) => return page,
    };
    let tz = state.deadline_policy.time_zone;
    let today = state.clock.now().with_timezone(&tz);
    let (title, sheets) = if urge {
        ("催办单", urge_sheets(&items, today, tz))
    } else {
        ("督办通知单", notice_sheets(&items, today, tz))
    };
    let body = html! {
        div.heading.no-print {
            h1 { (title) "（" (items.len()) "个事项）" }
            button.primary type="button" data-print { "打印" }
            a.button href="/items" { "返回台账" }
        }
        p.sub.no-print { "用A4纸打印；每份单独成页。浏览器打印时请关闭“页眉和页脚”。" }
        (sheets)
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(&viewer), Nav::Items, title, body),
    )
}

fn notice_sheets(items: &[Value], today: DateTime<chrono_tz::Tz>, tz: chrono_tz::Tz) -> Markup {
    html! {
        @for item in items {
            @let parts = live_parts(item);
            @let lead = parts.iter().find(|a| a["lead"] == true);
            @let co: Vec<&str> = parts.iter().filter(|a| a["lead"] != true).map(|a| text(&a["unit"]["name"])).collect();
            @if matches!(text(&item["stage"]), "VERIFIED" | "CLOSED" | "CANCELLED") {
                p.warning.no-print { (text(&item["serial"])) (view::stage_label(text(&item["stage"]))) "，通知单仅供存档。" }
            }
            article.sheet {
                p.issuer { (OFFICE) }
                h2.form-title { "督办通知单" }
                p.doc-no { (text(&item["serial"])) }
                hr.red-rule;
                p.addressee {
                    @match lead {
                        Some(lead) => {
                            (text(&lead["unit"]["name"]))
                            @if !co.is_empty() { "、" (co.join("、")) }
                            "："
                        }
                        None => { "＿＿＿＿＿＿＿＿：" }
                    }
                }
                p.body-text {
                    "现将“" (text(&item["title"])) "”交你单位办理"
                    @if !text(&item["sourceReference"]).is_empty() { "（" (text(&item["sourceReference"])) "）" }
                    "。有关事项通知如下："
                }
                table.form-table {
                    tbody {
                        tr { th { "督办事项" } td { (text(&item["title"])) } }
                        tr { th { "事项来源" } td { (view::source_label(text(&item["sourceKind"]))) } }
                        tr { th { "办理要求" } td.pre { (text(&item["requirements"])) } }
                        @if let Some(leader) = item["responsibleLeader"]["name"].as_str() {
                            tr { th { "责任领导" } td { (leader) } }
                        }
                        tr { th { "紧急程度" } td { (super::fields::urgency_label(text(&item["urgency"]))) } }
                        @for part in &parts {
                            tr {
                                th { @if part["lead"] == true { "主办单位" } @else { "协办单位" } }
                                td { (text(&part["unit"]["name"])) "，" (due_words(&part["effectiveDueAt"], tz)) "办结" }
                            }
                        }
                        @if parts.is_empty() {
                            @let rule = text(&item["deadlineRule"]);
                            @let fixed = chrono::NaiveDate::parse_from_str(rule, "%Y-%m-%d").ok();
                            tr { th { "办理期限" } td {
                                @match fixed {
                                    Some(day) => { (chinese_date(day)) "前" }
                                    None => { (rule) "（自交办之日起算）" }
                                }
                            } }
                        }
                    }
                }
                p.body-text {
                    "请主办单位收到后即在督查督办系统中签收，牵头协调协办单位抓紧办理，按要求报送进展；"
                    "于期限届满前将办理结果书面报送" (OFFICE) "。协办单位请于主办单位期限前一个工作日将协办意见送主办单位。"
                    "确有困难需延期的，请在期限届满前提出申请并说明理由。逾期未办结的，将按规定予以通报。"
                }
                (signature(today))
            }
        }
    }
}

fn urge_sheets(items: &[Value], today: DateTime<chrono_tz::Tz>, tz: chrono_tz::Tz) -> Markup {
    // Each unit with its open parts of the selected items, in the order first met.
    let mut units: Vec<(String, Vec<(&Value, &Value)>)> = Vec::new();
    for item in items {
        let open = matches!(
            text(&item["stage"]),
            "ASSIGNED" | "IN_PROGRESS" | "FEEDBACK_SUBMITTED" | "REJECTED"
        );
        if !open {
            continue;
        }
        for part in live_parts(item) {
            let name = text(&part["unit"]["name"]).to_string();
            match units.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.push((item, part)),
                None => units.push((name, vec![(item, part)])),
            }
        }
    }
    html! {
        @if units.is_empty() {
            p.empty { "勾选的事项中没有仍在办理的承办单位。" }
        }
        @for (unit, list) in &units {
            article.sheet {
                p.issuer { (OFFICE) }
                h2.form-title { "催办单" }
                hr.red-rule;
                p.addressee { (unit) "：" }
                p.body-text {
                    "你单位承办的以下" (list.len()) "项督办事项尚未办结，请高度重视，抓紧推进，"
                    "于收到本单后三个工作日内将最新进展书面报送" (OFFICE) "；已逾期的，请说明原因和整改措施。"
                }
                table.form-table.items {
                    thead { tr { th { "督办编号" } th { "事项" } th { "承办" } th { "办理期限" } } }
                    tbody {
                        @for (item, part) in list {
                            tr {
                                td { (text(&item["serial"])) }
                                td { (text(&item["title"])) }
                                td { @if part["lead"] == true { "主办" } @else { "协办" } }
                                td { (due_words(&part["effectiveDueAt"], tz)) }
                            }
                        }
                    }
                }
                (signature(today))
            }
        }
    }
}

fn signature(today: DateTime<chrono_tz::Tz>) -> Markup {
    html! {
        div.signature {
            p { (OFFICE) }
            p { (chinese_date(today)) }
        }
        p.contact { "联系人：＿＿＿＿＿＿　　联系电话：＿＿＿＿＿＿" }
    }
}
