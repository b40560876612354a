//! The web pages, in Chinese, served by the same binary with no front-end build: HTML made
//! on the server (maud), one stylesheet and one small script from the binary, forms that
//! work without the script. Every read and every action goes through the GraphQL schema
//! in-process, as the signed-in reader — the same resolvers, services, scoping and
//! permission rules as the API — so there is no second path to the data.
//!
//! - `/login`, `/logout`, `/account` — sign-in with an account and a password (`account`)
//! - `/`, `/board` — the 蓝黄红 board, live (`board`)
//! - `/todo` — 待办 for units, the office and leaders (`todo`)
//! - `/items`, `/items/export.xlsx`, `/items/N` — the ledger and the item page (`items`, `item`)
//! - `/items/new`, `/items/N/edit`, `/items/N/assign` — 立项, 修改, 交办 (`register`, `assign`)
//! - `/items/N/split`, `/items/N/tasks/T` — 分解, 转办 and the tasks' verbs (`split`, `tasks`, `task_post`)
//! - `/items/N/upward` — an item from above: its 落实情况 report to send up (`upward`)
//! - `/reports` — monthly reports and their downloads (`reports`)
//! - `/attachments/N` — a file, for a reader who may see its item (`files`)
//! - `/admin/…` — units, people, colour policy, calendar, mail queue (`admin`)

mod account;
mod admin;
mod assign;
mod board;
mod bulk;
mod fields;
mod files;
mod item;
mod item_forms;
mod item_post;
mod items;
mod ledger_export;
mod ledger_import;
mod meetings;
mod print;
mod register;
mod reports;
mod split;
mod task_post;
mod tasks;
mod todo;
mod upload;
mod upward;
mod view;
mod viewer;

use std::sync::Arc;

use poem::{Route, get, post};

pub use account::SignInThrottle;
pub use viewer::session_secret;

/// The pages' routes, added to the service's (`http::routes`).
pub fn mount(route: Route) -> Route {
    admin::mount(route)
        .at("/", get(board::home))
        .at("/board", get(board::board))
        .at("/login", get(account::login_page).post(account::login))
        .at("/logout", post(account::logout))
        .at(
            "/account",
            get(account::account_page).post(account::change_password),
        )
        .at("/todo", get(todo::todo))
        .at("/items", get(items::list))
        .at("/items/export.xlsx", get(ledger_export::xlsx))
        .at("/items/export.csv", get(ledger_export::csv))
        .at("/items/import/template.xlsx", get(ledger_export::template))
        .at("/items/print", get(print::page))
        .at("/meetings", get(meetings::list))
        .at(
            "/meetings/new",
            get(meetings::new_page).post(meetings::record),
        )
        .at("/meetings/:id/minutes", post(meetings::issue_minutes))
        .at("/items/bulk/urge", get(bulk::urge_page).post(bulk::urge))
        .at(
            "/items/bulk/assign",
            get(bulk::assign_page).post(bulk::assign),
        )
        .at(
            "/items/import",
            get(ledger_import::page).post(ledger_import::upload),
        )
        .at(
            "/items/import/:id",
            get(ledger_import::preview).post(ledger_import::commit),
        )
        .at(
            "/items/new",
            get(register::new_page).post(register::new_post),
        )
        .at("/items/:id", get(item::page).post(item_post::act))
        .at(
            "/items/:id/edit",
            get(register::edit_page).post(register::edit_post),
        )
        .at("/items/:id/assign", get(assign::page).post(assign::post))
        .at("/items/:id/follow", post(item_post::follow))
        .at("/items/:id/split", get(split::page).post(split::post))
        .at("/items/:id/upward", get(upward::page))
        .at(
            "/items/:id/tasks/:task",
            get(task_post::to_item).post(task_post::act),
        )
        .at("/items/:item/files/:file", get(files::item_file))
        .at("/reports", get(reports::index).post(reports::publish))
        .at("/reports/:month", get(reports::month))
        .at("/attachments/:id", get(files::download))
}

/// The page for an address nobody serves (`http` shows it to browsers).
pub fn unknown_address() -> poem::Response {
    view::problem(
        None,
        poem::http::StatusCode::NOT_FOUND,
        "页面不存在",
        "您访问的地址不存在，可能已被移动或输入有误。",
    )
}

/// The sign-in limiter the pages share (`account`).
pub fn throttle() -> Arc<SignInThrottle> {
    Arc::new(SignInThrottle::default())
}
