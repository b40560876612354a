//! 月度督查通报: the published months and versions; a month's report as its own HTML page;
//! its downloads (HTML, XLSX, CSV); publishing, for the office. Everything is the API's
//! `monthlyReports`, `monthlyReport` and `publishMonthlyReport`, in the reader's scope (a
//! unit reads what `unit_report_access` allows).

use base64::Engine;
use chrono::Datelike;
use maud::html;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::view::{self, Nav, text};
use super::view::{posted, see_other};
use super::viewer::Viewer;
use super::viewer::run;
use crate::graphql::Schemas;
use crate::state::AppState;

const INDEX_QUERY: &str = "{ monthlyReports { month version title publishedAt reason changes } }";

#[handler]
pub async fn index(state: Data<&AppState>, schemas: Data<&Schemas>, viewer: Viewer) -> Response {
    let data = match run(&schemas, &state, &viewer, INDEX_QUERY, json!({})).await {
        Ok(data) => data,
        Err(failure) => return super::view::failure_page(&viewer, &failure),
    };
    let last_month = {
        let now = state
            .clock
            .now()
            .with_timezone(&state.deadline_policy.time_zone);
        let first = now.date_naive().with_day0(0).unwrap_or(now.date_naive());
        (first - chrono::Duration::days(1))
            .format("%Y-%m")
            .to_string()
    };
    let body = html! {
        h1 { "月度督查通报" }
        @if viewer.is_office() {
            details {
                summary { "发布通报" }
                form method="post" action="/reports" {
                    input type="hidden" name="csrf" value=(viewer.csrf());
                    label for="r-month" { "月份" }
                    input id="r-month" name="month" type="month" value=(last_month) required;
                    label for="r-reason" { "重新发布的原因（首次发布不填）" }
                    input id="r-reason" name="reason";
                    button type="submit" { "发布" }
                }
            }
        }
        @let versions: Vec<&Value> = data["monthlyReports"].as_array().into_iter().flatten().collect();
        @if versions.is_empty() {
            p.empty { "尚未发布通报。" }
        } @else {
            table.list {
                thead { tr { th { "月份" } th { "版本" } th { "标题" } th { "发布时间" } th { "下载" } } }
                tbody {
                    @for v in versions {
                        @let label = text(&v["month"]);
                        @let version = v["version"].as_i64().unwrap_or(1);
                        tr {
                            td { (label) }
                            td { "第" (version) "版" @if !v["reason"].is_null() { div.sub { (text(&v["reason"])) } } }
                            td { a href={ "/reports/" (label) "?version=" (version) } { (text(&v["title"])) } }
                            td { (view::time(&v["publishedAt"])) }
                            td.downloads {
                                @for (format, word) in [("html", "HTML"), ("xlsx", "XLSX"), ("csv", "CSV")] {
                                    a href={ "/reports/" (label) "?version=" (version) "&format=" (format) } download { (word) } " "
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    view::respond(
        StatusCode::OK,
        view::page(Some(&viewer), Nav::Reports, "月度督查通报", body),
    )
}

#[derive(Deserialize)]
pub struct MonthQuery {
    version: Option<i32>,
    format: Option<String>,
}

/// A month's report: its own printable page, or a download.
#[handler]
pub async fn month(
    Path(month): Path<String>,
    Query(query): Query<MonthQuery>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    let format = query.format.as_deref().unwrap_or("page");
    let field = match format {
        "xlsx" => "xlsxBase64",
        "csv" => "csv",
        _ => "html",
    };
    let document = format!(
        "query($month: String!, $version: Int) {{ monthlyReport(month: $month, version: $version) {{ month version title {field} }} }}"
    );
    let data = match run(
        &schemas,
        &state,
        &viewer,
        &document,
        json!({ "month": month, "version": query.version }),
    )
    .await
    {
        Ok(data) => data,
        Err(failure) => return super::view::failure_page(&viewer, &failure),
    };
    let report = &data["monthlyReport"];
    if report.is_null() {
        return view::problem(
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "通报不存在",
            "该月份的通报尚未发布。",
        );
    }
    let name = format!(
        "督查通报-{}-第{}版",
        text(&report["month"]),
        report["version"].as_i64().unwrap_or(1)
    );
    let attachment =
        |ext: &str| view::download_as(&format!("{name}.{ext}"), &format!("report.{ext}"));
    match format {
        "xlsx" => match base64::engine::general_purpose::STANDARD.decode(text(&report[field])) {
            Ok(bytes) => bytes
                .with_content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .with_header(header::CONTENT_DISPOSITION, attachment("xlsx"))
                .into_response(),
            Err(_) => view::problem(
                Some(&viewer),
                StatusCode::INTERNAL_SERVER_ERROR,
                "下载失败",
                "通报文件生成失败，请稍后重试。",
            ),
        },
        "csv" => text(&report[field])
            .to_string()
            .with_content_type("text/csv; charset=utf-8")
            .with_header(header::CONTENT_DISPOSITION, attachment("csv"))
            .into_response(),
        "html" => text(&report[field])
            .to_string()
            .with_content_type("text/html; charset=utf-8")
            .with_header(header::CONTENT_DISPOSITION, attachment("html"))
            .into_response(),
        // The report's own page, as mailed: it carries its charts inline and prints on A4.
        // It is ours, made by `ducha_report`, and served under a policy that runs no script.
        _ => text(&report[field])
            .to_string()
            .with_content_type("text/html; charset=utf-8")
            .with_header(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
            )
            .into_response(),
    }
}

/// Publishing a month (the office).
#[handler]
pub async fn publish(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match posted(request, &state, body).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let reason = Some(form.get("reason").trim()).filter(|r| !r.is_empty());
    match run(
        &schemas,
        &state,
        &viewer,
        "mutation($input: PublishMonthlyReportInput!) { publishMonthlyReport(input: $input) { report { month version } } }",
        json!({ "input": { "month": form.get("month"), "reason": reason } }),
    )
    .await
    {
        Ok(data) => {
            let report = &data["publishMonthlyReport"]["report"];
            see_other(&format!(
                "/reports/{}?version={}",
                text(&report["month"]),
                report["version"]
            ))
        }
        Err(failure) => super::view::failure_page(&viewer, &failure),
    }
}
