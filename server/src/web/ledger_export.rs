//! The ledger (台账) out: what the item list shows (every page of it) as XLSX or CSV, with
//! every column an office reads; and the import template, which has the same columns.

use chrono::NaiveDateTime;
use poem::http::header;
use poem::web::{Data, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::{Value, json};

use super::bulk::selected;
use super::items::{Filters, co_units, lead_of};
use super::view::{self, text};
use super::viewer::{Failure, Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;

/// Most rows one export carries (a district's whole open ledger fits).
const EXPORT_CAP: usize = 20_000;

const EXPORT_QUERY: &str = "query($filter: ItemFilter, $first: Int, $after: String) {
  items(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { serial title requirements sourceKind sourceReference urgency deadlineRule
      stage colour colourReason assignedAt closedAt responsibleLeader { name }
      assignments { lead status effectiveDueAt signedAt unit { name } }
      reports { createdAt body } } }
  }
}";

const TEMPLATE_QUERY: &str = "{ units { name } people { name role } }";

#[derive(Clone, Copy)]
enum Format {
    Xlsx,
    Csv,
}

#[handler]
pub async fn xlsx(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    Query(filters): Query<Filters>,
    viewer: Viewer,
) -> Response {
    let ticked = selected(request.uri().query(), None);
    export(&state, &schemas, &filters, &ticked, &viewer, Format::Xlsx).await
}

#[handler]
pub async fn csv(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    Query(filters): Query<Filters>,
    viewer: Viewer,
) -> Response {
    let ticked = selected(request.uri().query(), None);
    export(&state, &schemas, &filters, &ticked, &viewer, Format::Csv).await
}

async fn export(
    state: &AppState,
    schemas: &Schemas,
    filters: &Filters,
    ticked: &[i64],
    viewer: &Viewer,
    format: Format,
) -> Response {
    // Items ticked in the list are exported as they are, whatever the filters.
    let (filter, said) = if ticked.is_empty() {
        filters.to_api(state)
    } else {
        (
            json!({ "ids": ticked }),
            vec![format!("勾选的{}个事项", ticked.len())],
        )
    };
    let tz = state.deadline_policy.time_zone;
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let variables = json!({ "filter": filter, "first": 100, "after": after });
        let data = match run(schemas, state, viewer, EXPORT_QUERY, variables).await {
            Ok(data) => data,
            Err(failure) => return view::failure_page(viewer, &failure),
        };
        let page = &data["items"];
        for edge in page["edges"].as_array().into_iter().flatten() {
            rows.push(ledger_row(&edge["node"], tz));
        }
        let next = page["pageInfo"]["hasNextPage"].as_bool() == Some(true);
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
        if !next || after.is_none() || rows.len() >= EXPORT_CAP {
            break;
        }
    }
    let now = state.clock.now().with_timezone(&tz);
    let stamp = now.format("%Y%m%d-%H%M");
    let rendered = match format {
        Format::Xlsx => {
            let mut heading = format!(
                "导出人：{}　导出时间：{}　共{}条",
                viewer.actor.name,
                now.format("%Y-%m-%d %H:%M"),
                rows.len()
            );
            if rows.len() >= EXPORT_CAP {
                heading.push_str(&format!("（仅导出前{EXPORT_CAP}条，请缩小筛选范围）"));
            }
            if !said.is_empty() {
                heading.push_str(&format!("　筛选：{}", said.join("，")));
            }
            ducha_report::render::ledger_xlsx("督查督办事项台账", &heading, &rows).map(|bytes| {
                (
                    bytes,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    format!("督办台账-{stamp}.xlsx"),
                    "ledger.xlsx",
                )
            })
        }
        Format::Csv => ducha_report::render::ledger_csv(&rows).map(|bytes| {
            (
                bytes,
                "text/csv; charset=utf-8",
                format!("督办台账-{stamp}.csv"),
                "ledger.csv",
            )
        }),
    };
    download(viewer, rendered)
}

fn download(
    viewer: &Viewer,
    rendered: Result<(Vec<u8>, &str, String, &str), ducha_report::render::RenderError>,
) -> Response {
    match rendered {
        Ok((bytes, content_type, name, ascii)) => bytes
            .with_content_type(content_type)
            .with_header(header::CONTENT_DISPOSITION, view::download_as(&name, ascii))
            .with_header(header::CACHE_CONTROL, "no-store")
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering the ledger");
            view::failure_page(
                viewer,
                &Failure {
                    code: "INTERNAL_SERVER_ERROR".into(),
                    message: "台账生成失败，请稍后重试".into(),
                },
            )
        }
    }
}

/// The import template: the ledger's columns, and the district's units, sources and
/// leaders to copy from.
#[handler]
pub async fn template(state: Data<&AppState>, schemas: Data<&Schemas>, viewer: Viewer) -> Response {
    let data = match run(&schemas, &state, &viewer, TEMPLATE_QUERY, json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(&viewer, &failure),
    };
    let units: Vec<String> = data["units"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| text(&u["name"]).to_string())
        .collect();
    let leaders: Vec<String> = data["people"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| text(&p["role"]) == "LEADER")
        .map(|p| text(&p["name"]).to_string())
        .collect();
    let sources: Vec<&str> = ducha_domain::SourceKind::ALL
        .iter()
        .map(|k| k.label())
        .collect();
    let rendered = ducha_report::render::ledger_template(&ducha_report::render::TemplateHelp {
        units: &units,
        sources: &sources,
        leaders: &leaders,
    })
    .map(|bytes| {
        (
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "督办台账导入模板.xlsx".to_string(),
            "ledger-template.xlsx",
        )
    });
    download(&viewer, rendered)
}

fn local(value: &Value, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
    view::instant(value).map(|t| t.with_timezone(&tz).naive_local())
}

fn ledger_row(item: &Value, tz: chrono_tz::Tz) -> ducha_report::render::LedgerRow {
    let lead = lead_of(item);
    let latest = item["reports"].as_array().and_then(|r| r.last());
    ducha_report::render::LedgerRow {
        serial: text(&item["serial"]).into(),
        title: text(&item["title"]).into(),
        requirements: text(&item["requirements"]).into(),
        source: view::source_label(text(&item["sourceKind"])).into(),
        source_reference: text(&item["sourceReference"]).into(),
        urgency: super::fields::urgency_label(text(&item["urgency"])).into(),
        leader: text(&item["responsibleLeader"]["name"]).into(),
        lead_unit: lead.map_or("", |a| text(&a["unit"]["name"])).into(),
        co_units: co_units(item),
        rule: text(&item["deadlineRule"]).into(),
        due: lead.and_then(|a| local(&a["effectiveDueAt"], tz)),
        stage: view::stage_label(text(&item["stage"])).into(),
        colour: view::colour_label(text(&item["colour"])).into(),
        colour_reason: text(&item["colourReason"]).into(),
        assigned_at: local(&item["assignedAt"], tz),
        signed_at: lead.and_then(|a| local(&a["signedAt"], tz)),
        latest_progress: latest
            .map(|r| {
                let when = local(&r["createdAt"], tz)
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                format!("{when}：{}", text(&r["body"]))
            })
            .unwrap_or_default(),
        closed_at: local(&item["closedAt"], tz),
    }
}
