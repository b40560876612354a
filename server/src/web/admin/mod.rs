//! 系统管理 (`/admin/…`): units, people, the colour policy, the calendar and the mail queue,
//! kept in the pages by the administrator (the mail queue also by the office). Every action is
//! the API's own mutation run as the reader, so the rules and refusals are the API's; a page
//! checks the role only to say "无权" plainly instead of showing a form that would be refused.

mod calendar;
mod mail;
mod org;
mod policy;

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::{Response, Route, get};
use serde_json::Value;

use super::view::{self, Nav};
use super::viewer::Viewer;
use ducha_domain::Role;

pub fn mount(route: Route) -> Route {
    route
        .at("/admin", get(org::index))
        .at("/admin/units", get(org::units_get).post(org::units_post))
        .at("/admin/units/:id", get(org::unit_get).post(org::unit_post))
        .at("/admin/people", get(org::people_get).post(org::people_post))
        .at("/admin/policy", get(policy::page).post(policy::post))
        .at("/admin/calendar", get(calendar::page).post(calendar::post))
        .at("/admin/mail", get(mail::page).post(mail::post))
}

/// The pages an administrator keeps, in the order of the sub-navigation.
const SECTIONS: [(&str, &str); 5] = [
    ("/admin/units", "单位"),
    ("/admin/people", "人员"),
    ("/admin/policy", "颜色规则"),
    ("/admin/calendar", "工作日历"),
    ("/admin/mail", "邮件队列"),
];

/// A page of the administration, with its sub-navigation.
fn frame(
    viewer: &Viewer,
    status: StatusCode,
    current: &str,
    title: &str,
    body: Markup,
) -> Response {
    let body = html! {
        nav.jump.admin aria-label="系统管理" {
            @for (href, label) in SECTIONS {
                @if href != "/admin/mail" || viewer.actor.role == Role::Admin || current == href {
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

/// The rows of a list in a GraphQL answer.
fn rows<'a>(data: &'a Value, field: &str) -> Vec<&'a Value> {
    data[field].as_array().into_iter().flatten().collect()
}
