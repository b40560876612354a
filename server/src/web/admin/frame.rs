//! What every page of the administration shares: its frame with the sub-navigation, who may
//! open it, and reading a list out of a GraphQL answer.

use maud::{Markup, html};
use poem::Response;
use poem::http::StatusCode;
use serde_json::Value;

use crate::web::view::{self, Nav};
use crate::web::viewer::Viewer;
use ducha_domain::Role;

/// The pages an administrator keeps, in the order of the sub-navigation.
const SECTIONS: [(&str, &str); 6] = [
    ("/admin/units", "单位"),
    ("/admin/people", "人员"),
    ("/admin/policy", "颜色规则"),
    ("/admin/calendar", "工作日历"),
    ("/admin/channels", "通知渠道"),
    ("/admin/mail", "邮件与提醒"),
];

/// A page of the administration, with its sub-navigation.
pub fn frame(
    viewer: &Viewer,
    status: StatusCode,
    current: &str,
    title: &str,
    body: Markup,
) -> Response {
    let body = html! {
        nav.jump.admin aria-label="系统管理" {
            @for (href, label) in SECTIONS {
                // The office opens the mail queue and reads the channels; the rest is the
                // administrator's.
                @if viewer.actor.role == Role::Admin
                    || current == href
                    || (viewer.actor.role == Role::Supervisor && matches!(href, "/admin/mail" | "/admin/channels")) {
                    a href=(href) aria-current=[(href == current).then_some("page")] { (label) }
                }
            }
        }
        (body)
    };
    view::respond(status, view::page(Some(viewer), Nav::Admin, title, body))
}

/// Refuses everyone but the administrator (and, where `office_too`, the office).
fn only_admin(viewer: &Viewer, office_too: bool) -> Option<Response> {
    let allowed = match viewer.actor.role {
        Role::Admin => true,
        Role::Supervisor => office_too,
        _ => false,
    };
    (!allowed).then(|| {
        view::problem(
            Some(viewer),
            StatusCode::FORBIDDEN,
            "无权访问",
            "系统管理仅供系统管理员使用。",
        )
    })
}

/// The signed-in reader of an administration page, when they may open it.
pub async fn admin_reader(
    request: &poem::Request,
    state: &crate::state::AppState,
    office_too: bool,
) -> Result<Viewer, Response> {
    let viewer = crate::web::view::viewer(request, state).await?;
    match only_admin(&viewer, office_too) {
        Some(refused) => Err(refused),
        None => Ok(viewer),
    }
}

/// A posted administration form and its reader: signed in, the CSRF token checked, the role
/// allowed.
pub async fn admin_posted(
    request: &poem::Request,
    state: &crate::state::AppState,
    body: poem::Body,
    office_too: bool,
) -> Result<(Viewer, crate::web::viewer::Form), Response> {
    let (viewer, form) = crate::web::view::posted(request, state, body).await?;
    match only_admin(&viewer, office_too) {
        Some(refused) => Err(refused),
        None => Ok((viewer, form)),
    }
}

/// The rows of a list in a GraphQL answer.
pub fn rows<'a>(data: &'a Value, field: &str) -> Vec<&'a Value> {
    data[field].as_array().into_iter().flatten().collect()
}
