//! 系统管理 (`/admin/…`): units, people, the colour policy, the calendar and the mail queue,
//! kept in the pages by the administrator (the mail queue also by the office). Every action is
//! the API's own mutation run as the reader, so the rules and refusals are the API's; a page
//! checks the role only to say "无权" plainly instead of showing a form that would be refused.

mod calendar;
mod channels;
mod frame;
mod mail;
mod people;
mod policy;
mod units;

use poem::{Route, get};

pub fn mount(route: Route) -> Route {
    route
        .at("/admin", get(units::index))
        .at(
            "/admin/units",
            get(units::units_get).post(units::units_post),
        )
        .at(
            "/admin/units/:id",
            get(units::unit_get).post(units::unit_post),
        )
        .at(
            "/admin/people",
            get(people::people_get).post(people::people_post),
        )
        .at("/admin/policy", get(policy::page).post(policy::post))
        .at("/admin/calendar", get(calendar::page).post(calendar::post))
        .at("/admin/mail", get(mail::page).post(mail::post))
        .at("/admin/channels", get(channels::page).post(channels::post))
}
