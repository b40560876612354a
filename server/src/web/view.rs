//! The pages' frame and the words for the API's values: one layout (navigation, who is
//! signed in, sign-out), badges for colours, times in Asia/Shanghai.

use maud::{DOCTYPE, Markup, html};
use poem::http::{StatusCode, header};
use poem::web::Html;
use poem::{IntoResponse, Response};
use serde_json::Value;

use super::viewer::{Failure, Form, Viewer, signed_in_reader};
use crate::state::AppState;
use ducha_domain::Role;

/// Pages load only what the binary serves; forms post only here; no page may frame another.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

/// Where a page sits in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Board,
    Todo,
    Items,
    Reports,
    Account,
    Admin,
    None,
}

/// A whole page.
pub fn page(viewer: Option<&Viewer>, nav: Nav, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - 督查督办" }
                // No icon to fetch: a browser asks for /favicon.ico otherwise.
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/web/ducha.css";
                script src="/assets/web/ducha.js" defer {}
            }
            body {
                a.skip href="#main" { "跳到正文" }
                @if let Some(viewer) = viewer {
                    header.top {
                        a.brand href="/" { "督查督办" }
                        nav aria-label="主导航" {
                            @if viewer.actor.role.sees_everything() {
                                (nav_link("/board", "看板", nav == Nav::Board))
                            }
                            (nav_link("/todo", "待办", nav == Nav::Todo))
                            (nav_link("/items", "事项台账", nav == Nav::Items))
                            (nav_link("/reports", "月度通报", nav == Nav::Reports))
                            @match viewer.actor.role {
                                Role::Admin => { (nav_link("/admin", "系统管理", nav == Nav::Admin)) }
                                Role::Supervisor => { (nav_link("/admin/mail", "邮件与提醒", nav == Nav::Admin)) }
                                _ => {}
                            }
                        }
                        div.who {
                            a href="/account" aria-current=[(nav == Nav::Account).then_some("page")] {
                                (viewer.actor.name) "（" (role_label(viewer.actor.role)) "）"
                            }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(viewer.csrf());
                                button.link type="submit" { "退出" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    }
}

fn nav_link(href: &str, text: &str, current: bool) -> Markup {
    html! { a href=(href) aria-current=[current.then_some("page")] { (text) } }
}

/// A page as a response, with the pages' security policy.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    Html(markup.into_string())
        .with_status(status)
        .with_header(header::CONTENT_SECURITY_POLICY, PAGE_POLICY)
        .with_header(header::CACHE_CONTROL, "no-store")
        // Browsers send `Origin: null` on a form post from a `no-referrer` page, which the
        // service's origin check cannot tell from a foreign page's; `same-origin` sends the
        // real origin here and still nothing to other sites.
        .with_header(header::REFERRER_POLICY, "same-origin")
        .into_response()
}

/// Refuses a page of `action` to a reader whose role may not do it, in plain words, rather
/// than showing a form the service would refuse.
pub fn unless_allowed(
    viewer: &Viewer,
    action: ducha_domain::Action,
    title: &str,
    message: &str,
) -> Option<Response> {
    (!action.allowed_for(viewer.actor.role))
        .then(|| problem(Some(viewer), StatusCode::FORBIDDEN, title, message))
}

/// A page that says something went wrong, and what to do.
pub fn problem(
    viewer: Option<&Viewer>,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    respond(
        status,
        page(
            viewer,
            Nav::None,
            title,
            html! {
                h1 { (title) }
                p role="alert" { (message) }
                p { a href="/" { "返回首页" } }
            },
        ),
    )
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "系统管理员",
        Role::Supervisor => "督查室",
        Role::Leader => "区领导",
        Role::UnitHead => "单位主要负责人",
        Role::UnitStaff => "单位经办人",
    }
}

/// The text of a JSON value ("" when absent).
pub fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

pub fn colour_label(code: &str) -> &'static str {
    match code {
        "RED" => "红色",
        "YELLOW" => "黄色",
        "BLUE" => "蓝色",
        _ => "正常",
    }
}

/// A colour as a badge: the word is always there, so print and colour-blind readers lose
/// nothing.
pub fn colour_badge(colour: &Value, reason: &Value) -> Markup {
    let code = text(colour);
    html! {
        span class={ "badge " (code.to_lowercase()) } title=(text(reason)) { (colour_label(code)) }
    }
}

pub fn stage_label(code: &str) -> &'static str {
    ducha_domain::Stage::parse(code).map_or("—", |s| s.label())
}

pub fn source_label(code: &str) -> &'static str {
    ducha_domain::SourceKind::parse(code).map_or("—", |s| s.label())
}

pub fn unit_kind_label(code: &str) -> &'static str {
    match code {
        "DEPARTMENT" => "部门",
        "SUBDISTRICT" => "街道",
        "TOWN" => "乡镇",
        "PARK" => "园区",
        _ => "其他",
    }
}

pub const UNIT_KINDS: [&str; 5] = ["DEPARTMENT", "SUBDISTRICT", "TOWN", "PARK", "OTHER"];

pub fn assignment_status_label(code: &str) -> &'static str {
    match code {
        "ACTIVE" => "承办中",
        "RETURN_REQUESTED" => "已申请退回",
        "WITHDRAWN" => "已改派",
        _ => "—",
    }
}

pub fn todo_label(code: &str) -> &'static str {
    match code {
        "OVERDUE" => "已逾期",
        "REWORK" => "退回重办",
        "SIGN" => "待签收",
        "REPORT_MISSED" => "进展逾期未报",
        "DUE_SOON" => "即将到期",
        "REPORT_DUE" => "进展待报送",
        "RESOLVE_RETURN" => "退回待处理",
        "DECIDE_EXTENSION" => "延期待审批",
        "VERIFY" => "反馈待核查",
        "CLOSE" => "待销号",
        "ASSIGN" => "待交办",
        "REPORT_UPWARD" => "待上报上级",
        _ => "其他",
    }
}

/// The words of an audit action name (SCREAMING_SNAKE, as stored).
pub fn action_label(code: &str) -> String {
    if let Some(action) = ducha_domain::tasks::TaskAction::parse(code) {
        return action.label().to_string();
    }
    match ducha_domain::Action::parse(code) {
        Some(action) => action.label().to_string(),
        None => match code {
            "ATTACH" | "ATTACH_FILE" => "上传附件".into(),
            "RECALCULATE" | "RECALCULATE_DEADLINES" | "RECALCULATE_DUE" => "期限重算".into(),
            "NOTICE" => "发出提醒".into(),
            "ASSIGN_LEAD" => "交办主办单位".into(),
            "ASSIGN_CO_UNIT" => "交办协办单位".into(),
            "CREATE_UNIT" => "新建单位".into(),
            "UPDATE_UNIT" => "修改单位".into(),
            "CREATE_PERSON" => "新建人员".into(),
            "UPDATE_PERSON" => "修改人员".into(),
            "SET_PASSWORD" => "设置密码".into(),
            "ROTATE_TOKEN" => "重新生成令牌".into(),
            "UPDATE_COLOUR_POLICY" => "修改颜色规则".into(),
            "IMPORT_CALENDAR_YEAR" => "导入放假安排".into(),
            "SET_LOCAL_DAY" => "设置本地日期".into(),
            "REQUEUE_OUTBOX" => "邮件重新排队".into(),
            "PUBLISH_REPORT" => "发布通报".into(),
            "FOLLOW" => "关注".into(),
            "UNFOLLOW" => "取消关注".into(),
            // A code this page has no words for yet is still shown, not hidden.
            other => format!("其他操作（{other}）"),
        },
    }
}

/// `Content-Disposition` of a download named `name` (RFC 6266: an ASCII stand-in, then the
/// real name in UTF-8 for every browser that reads `filename*`).
pub fn download_as(name: &str, ascii_fallback: &str) -> String {
    let encoded = serde_urlencoded::to_string([("f", name)])
        .unwrap_or_default()
        .trim_start_matches("f=")
        .replace('+', "%20");
    format!("attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{encoded}")
}

/// An instant the API answered (RFC 3339), or none.
pub fn instant(value: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    value
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
}

fn shanghai(value: &Value) -> Option<chrono::DateTime<chrono_tz::Tz>> {
    instant(value).map(|t| t.with_timezone(&chrono_tz::Asia::Shanghai))
}

/// An instant as plain words (2026-11-24 18:00), for a sentence or a form field.
pub fn time_text(value: &Value) -> String {
    shanghai(value)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// An instant as people here read it: 2026年11月24日 18:00.
pub fn time(value: &Value) -> Markup {
    match shanghai(value) {
        Some(t) => html! {
            time datetime=(text(value)) { (t.format("%Y-%m-%d %H:%M").to_string()) }
        },
        None => html! { "—" },
    }
}

/// A notice at the top of a page: done, or refused.
pub fn notice(ok: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(ok) = ok { p.notice.ok role="status" { (ok) } }
        @if let Some(error) = error { p.notice.error role="alert" { (error) } }
    }
}

/// The signed-in reader, or the way to the sign-in page (back here afterwards).
pub async fn viewer(request: &poem::Request, state: &AppState) -> Result<Viewer, Response> {
    match signed_in_reader(request, state).await {
        Ok(Some(viewer)) => Ok(viewer),
        Ok(None) => {
            let next = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            let next = serde_urlencoded::to_string([("n", next)]).unwrap_or_default();
            Err(see_other(&format!(
                "/login?next={}",
                next.trim_start_matches("n=")
            )))
        }
        Err(error) => {
            tracing::error!(?error, "reading a session");
            Err(problem(
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                "暂时无法访问",
                "服务暂时无法读取登录状态，请稍后刷新重试。",
            ))
        }
    }
}

/// Who is reading a page, as a handler's argument: the signed-in person, or — as the
/// refusal — the way to the sign-in form and back (or a page saying the session cannot be
/// read). One extractor instead of the same lines at the top of every page's handler.
impl<'a> poem::FromRequest<'a> for Viewer {
    async fn from_request(
        request: &'a poem::Request,
        _body: &mut poem::RequestBody,
    ) -> poem::Result<Viewer> {
        let Some(state) = request.data::<AppState>() else {
            return Err(poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR));
        };
        viewer(request, state)
            .await
            .map_err(poem::Error::from_response)
    }
}

/// A 303 to `location`: the answer to a form that did what it asked.
pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

/// The page for a failure that leaves nothing else to show.
pub fn failure_page(viewer: &Viewer, failure: &Failure) -> Response {
    let title = match failure.code.as_str() {
        "NOT_FOUND" => "未找到",
        "FORBIDDEN" => "无权访问",
        "UNAUTHENTICATED" => "请重新登录",
        "BAD_USER_INPUT" => "输入有误",
        _ => "出错了",
    };
    problem(Some(viewer), failure.status(), title, &failure.message)
}

/// Refuses a form without the session's CSRF token (a page of another site posting here).
pub fn forged(viewer: &Viewer, form: &Form) -> Option<Response> {
    (!viewer.checks(form.get("csrf"))).then(|| {
        problem(
            Some(viewer),
            StatusCode::FORBIDDEN,
            "请求无效",
            "表单已过期或来源不明，请返回刷新页面后重试。",
        )
    })
}

/// A posted form and its signed-in reader, its CSRF token checked; or the response that
/// refuses it (to the sign-in page, too large, forged).
pub async fn posted(
    request: &poem::Request,
    state: &AppState,
    body: poem::Body,
) -> Result<(Viewer, Form), Response> {
    let viewer = viewer(request, state).await?;
    let form = read_form(body).await?;
    if let Some(refused) = forged(&viewer, &form) {
        return Err(refused);
    }
    Ok((viewer, form))
}

/// Reads a form body of at most 64 KB.
pub async fn read_form(body: poem::Body) -> Result<Form, Response> {
    let bytes = crate::body::read_within(body, None, 64 * 1024)
        .await
        .map_err(|refusal| match refusal {
            crate::body::Refusal::TooLarge => problem(
                None,
                StatusCode::PAYLOAD_TOO_LARGE,
                "内容过长",
                "提交的内容过长，请精简后重试。",
            ),
            crate::body::Refusal::Unreadable => problem(
                None,
                StatusCode::BAD_REQUEST,
                "提交未完成",
                "提交的内容未能完整收到，请重试。",
            ),
        })?;
    Ok(Form::parse(&bytes))
}
