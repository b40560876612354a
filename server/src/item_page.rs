//! `/items/N`: the stable address every mail links to. Until the web front is built (a later
//! issue), it shows the signed-in reader the item — its facts, each assignment's due and
//! colour — as a plain page, read through the same GraphQL schema and scoping as the API
//! (a unit sees only its own items). Signing in here means presenting an API token: in the
//! `Authorization` header, or once in the page's form, which keeps it in a cookie.

use poem::http::StatusCode;
use poem::web::{Data, Html, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::Value;

use crate::graphql::{Auth, Schemas};
use crate::mail::escape_html;
use crate::state::AppState;

/// The cookie the sign-in form sets.
const TOKEN_COOKIE: &str = "ducha_token";

const ITEM_QUERY: &str = "query($id: ID!) { item(id: $id) { id serial title requirements \
    sourceReference stage deadlineRule colour colourReason \
    deadlineExplanation { explanation { summary } } \
    assignments { lead status dueAt effectiveDueAt signedAt colour colourReason unit { name } } } }";

fn token_of(request: &Request) -> Option<String> {
    if let Some(header) = request
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return Some(header.to_string());
    }
    let cookies = request
        .headers()
        .get(poem::http::header::COOKIE)
        .and_then(|v| v.to_str().ok())?;
    cookies.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == TOKEN_COOKIE && !value.is_empty()).then(|| format!("Bearer {value}"))
    })
}

#[handler]
pub async fn item_page(
    request: &Request,
    Path(id): Path<String>,
    schemas: Data<&Schemas>,
    state: Data<&AppState>,
) -> Response {
    // The number mails link to, or the item's global id as the API gives it.
    let id = match id.parse::<i64>() {
        Ok(number) if number > 0 => number,
        _ => match crate::graphql::ids::decode(&id) {
            Some((crate::graphql::ids::NodeKind::Item, number)) => number,
            _ => return page(StatusCode::NOT_FOUND, "事项不存在", "<p>事项编号无效。</p>"),
        },
    };
    let Some(token) = token_of(request) else {
        return sign_in(None);
    };
    let auth = Auth::resolve(&state.db, Some(&token)).await;
    if auth.actor.is_none() {
        return sign_in(auth.refused.as_deref());
    }
    let graphql = async_graphql::Request::new(ITEM_QUERY).variables(
        async_graphql::Variables::from_json(serde_json::json!({ "id": id })),
    );
    let response = schemas
        .main
        .execute(crate::graphql::prepare(graphql, &state, auth))
        .await;
    let data = response.data.into_json().unwrap_or(Value::Null);
    let item = &data["item"];
    if !response.errors.is_empty() || item.is_null() {
        return page(
            StatusCode::NOT_FOUND,
            "事项不存在",
            "<p>该事项不存在，或您无权查看。</p>",
        );
    }
    page(StatusCode::OK, &text(&item["serial"]), &render_item(item))
}

fn text(value: &Value) -> String {
    escape_html(value.as_str().unwrap_or_default())
}

/// The API's English enum values, as a reader says them.
fn label(value: &Value) -> String {
    let raw = value.as_str().unwrap_or_default();
    let said = match raw {
        "NONE" => "正常",
        "BLUE" => "蓝色",
        "YELLOW" => "黄色",
        "RED" => "红色",
        "ACTIVE" => "承办中",
        "RETURN_REQUESTED" => "已申请退回",
        "WITHDRAWN" => "已改派",
        other => ducha_domain::Stage::parse(other).map_or(other, |s| s.label()),
    };
    escape_html(said)
}

fn local_time(value: &Value) -> String {
    value
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            t.with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y年%m月%d日 %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "—".to_string())
}

fn render_item(item: &Value) -> String {
    let mut rows = String::new();
    for a in item["assignments"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}（{}）</td></tr>",
            text(&a["unit"]["name"]),
            if a["lead"].as_bool() == Some(true) {
                "主办"
            } else {
                "协办"
            },
            label(&a["status"]),
            local_time(&a["effectiveDueAt"]),
            if a["signedAt"].is_null() {
                "未签收".to_string()
            } else {
                local_time(&a["signedAt"])
            },
            label(&a["colour"]),
            text(&a["colourReason"]),
        ));
    }
    format!(
        "<h1>{} {}</h1>\
         <table><tr><th>阶段</th><td>{}</td></tr>\
         <tr><th>颜色</th><td>{}（{}）</td></tr>\
         <tr><th>来源文号</th><td>{}</td></tr>\
         <tr><th>办理要求</th><td>{}</td></tr>\
         <tr><th>期限</th><td>{}：{}</td></tr></table>\
         <h2>承办单位</h2><table><tr><th>单位</th><th>主/协办</th><th>状态</th><th>有效期限</th><th>签收</th><th>颜色</th></tr>{rows}</table>",
        text(&item["serial"]),
        text(&item["title"]),
        label(&item["stage"]),
        label(&item["colour"]),
        text(&item["colourReason"]),
        text(&item["sourceReference"]),
        text(&item["requirements"]),
        text(&item["deadlineRule"]),
        text(&item["deadlineExplanation"]["explanation"]["summary"]),
    )
}

fn sign_in(refused: Option<&str>) -> Response {
    let why = refused
        .map(|r| format!("<p role=\"alert\">{}</p>", escape_html(r)))
        .unwrap_or_default();
    page(
        StatusCode::UNAUTHORIZED,
        "请登录",
        &format!(
            "<h1>请登录后查看事项</h1>{why}\
             <form onsubmit=\"document.cookie='{TOKEN_COOKIE}='+encodeURIComponent(this.token.value.replace(/^Bearer\\s+/,''))+'; path=/; SameSite=Strict'; location.reload(); return false;\">\
             <label>令牌 <input name=\"token\" autocomplete=\"off\" required></label> <button>登录</button></form>"
        ),
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    Html(format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title} - 督查督办</title>\
         <style>body{{font-family:'PingFang SC','Microsoft YaHei',sans-serif;max-width:60em;margin:2em auto;line-height:1.6}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head>\
         <body>{body}</body></html>"
    ))
    .with_status(status)
    .into_response()
}
