//! Signing in and out, and changing one's password.
//!
//! Bad passwords are limited twice: per account in the database (`auth::session`: five in a
//! row block the account for 15 minutes, on every instance) and per address here (thirty
//! bad tries in 15 minutes from one address are refused before any hashing, so one machine
//! cannot walk through many accounts). Both count a try before its password is checked, so
//! tries sent in parallel are held to the same limits. Behind a reverse proxy the address
//! is the one the proxy forwards (`trusted_proxies`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use maud::html;
use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::json;

use super::view::{self, Nav};
use super::view::{forged, read_form, see_other, viewer};
use super::viewer::{Form, SESSION_COOKIE, Viewer, policy, run};
use crate::auth::session::{self, Refused};
use crate::graphql::Schemas;
use crate::state::AppState;

const ADDRESS_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
const ADDRESS_MAX_FAILURES: u32 = 30;

/// Bad sign-ins per client address in the current window.
#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<IpAddr, (std::time::Instant, u32)>>,
}

impl SignInThrottle {
    /// Counts a try from `address` before its password is checked, or refuses it when the
    /// address has had its tries: parallel tries cannot all be checked while the first
    /// ones still hash. A good password gives its try back ([`SignInThrottle::forgive`]).
    fn take_try(&self, address: Option<IpAddr>) -> bool {
        let (Some(address), Ok(mut map)) = (address, self.failures.lock()) else {
            return true;
        };
        map.retain(|_, (since, _)| since.elapsed() < ADDRESS_WINDOW);
        let entry = map.entry(address).or_insert((std::time::Instant::now(), 0));
        if entry.1 >= ADDRESS_MAX_FAILURES {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Gives back the try of a sign-in whose password was right.
    fn forgive(&self, address: Option<IpAddr>) {
        let (Some(address), Ok(mut map)) = (address, self.failures.lock()) else {
            return;
        };
        if let Some(entry) = map.get_mut(&address) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

/// The address a sign-in comes from: the peer's, or, when the peer is a trusted proxy, the
/// nearest address its `X-Forwarded-For` (or `Forwarded`) names that is not itself a trusted
/// proxy. Those headers are believed only from trusted proxies: anyone else could write them.
fn client_address(request: &Request, state: &AppState) -> Option<IpAddr> {
    let peer = request.remote_addr().as_socket_addr().map(|a| a.ip())?;
    let proxies = &state.http.trusted_proxies;
    if !proxies.trusts(peer) {
        return Some(peer);
    }
    let forwarded = crate::proxies::forwarded_chain(request.headers(), proxies.header());
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|hop| !proxies.trusts(*hop))
            .unwrap_or(peer),
    )
}

/// Only a path of this site: `next=//evil.example` or `next=https://…` would send a person
/// who just signed in somewhere else.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

/// `; Secure` when people open the site over https (its public address says so): the
/// browser then never sends the session over plain http.
fn secure_attribute(state: &AppState) -> &'static str {
    if state.notices.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_form(next: &str, account: &str, error: Option<&str>) -> maud::Markup {
    view::page(
        None,
        Nav::None,
        "登录",
        html! {
            div.signin {
                h1 { "督查督办系统" }
                p.sub { "立项 · 交办 · 承办 · 反馈 · 核查 · 销号" }
                (view::notice(None, error))
                form method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    label for="account" { "账号" }
                    input id="account" name="account" value=(account) autocomplete="username"
                        required autofocus[account.is_empty()];
                    label for="password" { "密码" }
                    input id="password" name="password" type="password"
                        autocomplete="current-password" required autofocus[!account.is_empty()];
                    button type="submit" { "登录" }
                }
                p.hint { "忘记密码请联系系统管理员重置。API 客户端请继续使用访问令牌。" }
            }
        },
    )
}

#[handler]
pub async fn login_page(Query(query): Query<NextQuery>) -> Response {
    let next = safe_next(query.next.as_deref().unwrap_or("/"));
    view::respond(StatusCode::OK, login_form(next, "", None))
}

#[handler]
pub async fn login(
    request: &Request,
    state: Data<&AppState>,
    throttle: Data<&Arc<SignInThrottle>>,
    body: poem::Body,
) -> Response {
    let form = match read_form(body).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let next = safe_next(form.get("next")).to_string();
    let account = form.get("account").trim().to_string();
    let address = client_address(request, &state);
    if !throttle.take_try(address) {
        return view::respond(
            StatusCode::TOO_MANY_REQUESTS,
            login_form(&next, &account, Some("登录失败次数过多，请15分钟后再试")),
        );
    }
    let opened = session::sign_in(
        &state.db,
        &account,
        form.get("password"),
        state.clock.now(),
        policy(&state),
    )
    .await;
    match opened {
        Ok(Ok(opened)) => {
            throttle.forgive(address);
            tracing::info!(person_id = opened.actor.person_id, "signed in");
            let max_age = state.http.session_lifetime.num_seconds();
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, next)
                .header(
                    header::SET_COOKIE,
                    // Lax, not Strict: a link in a mail is a top-level visit from elsewhere
                    // and must arrive signed in; cross-site POSTs still carry no cookie.
                    format!(
                        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
                        opened.secret,
                        secure_attribute(&state)
                    ),
                )
                .finish()
        }
        Ok(Err(refused)) => {
            let status = match refused {
                Refused::Blocked(_) => StatusCode::TOO_MANY_REQUESTS,
                Refused::BadCredentials => StatusCode::UNAUTHORIZED,
            };
            view::respond(
                status,
                login_form(&next, &account, Some(&refused.to_string())),
            )
        }
        Err(error) => {
            tracing::error!(?error, "signing in");
            view::respond(
                StatusCode::SERVICE_UNAVAILABLE,
                login_form(&next, &account, Some("服务暂时无法登录，请稍后重试")),
            )
        }
    }
}

#[handler]
pub async fn logout(request: &Request, state: Data<&AppState>, body: poem::Body) -> Response {
    let form = match read_form(body).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if let Ok(viewer) = viewer(request, &state).await {
        if let Some(refused) = forged(&viewer, &form) {
            return refused;
        }
        if let Err(error) = session::sign_out(&state.db, &viewer.secret).await {
            tracing::error!(?error, "signing out");
        }
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/login")
        .header(
            header::SET_COOKIE,
            format!(
                "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
                secure_attribute(&state)
            ),
        )
        .finish()
}

fn account_form(
    viewer: &super::viewer::Viewer,
    ok: Option<&str>,
    error: Option<&str>,
) -> maud::Markup {
    view::page(
        Some(viewer),
        Nav::Account,
        "修改密码",
        html! {
            h1 { "修改密码" }
            (view::notice(ok, error))
            form.narrow method="post" action="/account" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                label for="current" { "当前密码" }
                input id="current" name="current" type="password" autocomplete="current-password" required;
                label for="new" { "新密码（至少8位，含字母、数字、符号中的两类）" }
                input id="new" name="new" type="password" autocomplete="new-password" required minlength="8";
                label for="again" { "再次输入新密码" }
                input id="again" name="again" type="password" autocomplete="new-password" required minlength="8";
                button type="submit" { "修改密码" }
            }
            p.hint { "修改后，您在其他浏览器上的登录将全部失效。" }
        },
    )
}

#[handler]
pub async fn account_page(request: &Request, state: Data<&AppState>) -> Response {
    match viewer(request, &state).await {
        Ok(viewer) => view::respond(StatusCode::OK, account_form(&viewer, None, None)),
        Err(to_login) => to_login,
    }
}

#[handler]
pub async fn change_password(
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
    viewer: Viewer,
) -> Response {
    let form: Form = match read_form(body).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if let Some(refused) = forged(&viewer, &form) {
        return refused;
    }
    if form.get("new") != form.get("again") {
        return view::respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            account_form(&viewer, None, Some("两次输入的新密码不一致")),
        );
    }
    let done = run(
        &schemas,
        &state,
        &viewer,
        "mutation($input: SetPasswordInput!) { setPassword(input: $input) { person { name } } }",
        json!({ "input": {
            "personId": viewer.actor.person_id,
            "currentPassword": form.get("current"),
            "newPassword": form.get("new"),
        }}),
    )
    .await;
    match done {
        // Every session ended with the change, this one too: sign in again with the new one.
        Ok(_) => see_other("/login?next=/"),
        Err(failure) => view::respond(
            failure.status(),
            account_form(&viewer, None, Some(&failure.message)),
        ),
    }
}
