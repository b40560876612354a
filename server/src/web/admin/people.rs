//! People: `/admin/people` (list, create with role and unit, reset a password, reissue an API
//! token shown once).

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::frame::{admin_posted, admin_reader, frame, rows};
use crate::graphql::Schemas;
use crate::state::AppState;
use crate::web::fields::{Refusal, filled, options};
use crate::web::view::{self, text};
use crate::web::viewer::{Form, Viewer, run};

const PEOPLE_QUERY: &str =
    "{ people { databaseId name role account email unit { databaseId name } }
  units { databaseId name kind } }";

const CREATE_PERSON: &str = "mutation($input: CreatePersonInput!) { createPerson(input: $input) {
  person { databaseId name } token } }";
const SET_PASSWORD: &str = "mutation($input: SetPasswordInput!) { setPassword(input: $input) {
  person { name } } }";
const UPDATE_PERSON: &str = "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) {
  person { name } } }";
const REISSUE: &str =
    "mutation($input: ReissueTokenInput!) { reissueToken(input: $input) { token } }";

const PERSON_FIELDS: &[(&str, &[&str])] = &[
    ("name", &["姓名"]),
    ("email", &["邮箱"]),
    ("account", &["账号"]),
    ("password", &["密码"]),
    ("unit", &["单位"]),
];

/// The roles to choose from, the unit's own first (the most people).
fn roles() -> Vec<(String, String)> {
    use ducha_domain::Role;
    [
        Role::UnitStaff,
        Role::UnitHead,
        Role::Supervisor,
        Role::Leader,
        Role::Admin,
    ]
    .into_iter()
    .map(|r| (r.as_str().to_string(), view::role_label(r).to_string()))
    .collect()
}

#[handler]
pub async fn people_get(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match admin_reader(request, &state, false).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    people_page(
        &schemas,
        &state,
        &viewer,
        &Form::default(),
        Said::Nothing,
        StatusCode::OK,
    )
    .await
}

/// What the people page says after an action.
enum Said {
    Nothing,
    Done(String),
    /// A token, shown this once; whether it replaced one.
    Token(String, String, bool),
    Refused(Refusal),
}

#[handler]
pub async fn people_post(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match admin_posted(request, &state, body, false).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let name = form.get("who_name").to_string();
    let (said, kept) = match form.get("action") {
        "password" => {
            let input = json!({ "input": { "personId": form.get("person"), "newPassword": form.get("new_password") } });
            match run(&schemas, &state, &viewer, SET_PASSWORD, input).await {
                Ok(_) => (
                    Said::Done(format!("已为{name}重设密码，其已登录的会话全部失效")),
                    Form::default(),
                ),
                Err(failure) => (
                    Said::Refused(Refusal::general(format!("{name}：{}", failure.message))),
                    Form::default(),
                ),
            }
        }
        "update" => {
            let input = json!({ "input": {
                "personId": form.get("person"), "name": form.get("name"),
                "email": filled(&form, "email"), "role": form.get("role"),
                "unitId": filled(&form, "unit"),
            } });
            match run(&schemas, &state, &viewer, UPDATE_PERSON, input).await {
                Ok(_) => (Said::Done(format!("已保存{name}的信息")), Form::default()),
                Err(failure) => (
                    Said::Refused(Refusal::general(format!("{name}：{}", failure.message))),
                    Form::default(),
                ),
            }
        }
        "token" => {
            let input = json!({ "input": { "personId": form.get("person") } });
            match run(&schemas, &state, &viewer, REISSUE, input).await {
                Ok(data) => (
                    Said::Token(name, text(&data["reissueToken"]["token"]).to_string(), true),
                    Form::default(),
                ),
                Err(failure) => (
                    Said::Refused(Refusal::general(failure.message)),
                    Form::default(),
                ),
            }
        }
        _ => {
            let input = json!({ "input": {
                "name": form.get("name"), "email": filled(&form, "email"),
                "role": filled(&form, "role").unwrap_or("UNIT_STAFF"),
                "unitId": filled(&form, "unit"), "account": filled(&form, "account"),
                "password": filled(&form, "password"),
            } });
            match run(&schemas, &state, &viewer, CREATE_PERSON, input).await {
                Ok(data) => (
                    Said::Token(
                        text(&data["createPerson"]["person"]["name"]).to_string(),
                        text(&data["createPerson"]["token"]).to_string(),
                        false,
                    ),
                    Form::default(),
                ),
                Err(failure) => (
                    Said::Refused(Refusal::placed(&failure, PERSON_FIELDS)),
                    form,
                ),
            }
        }
    };
    let status = match said {
        Said::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    people_page(&schemas, &state, &viewer, &kept, said, status).await
}

async fn people_page(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
    said: Said,
    status: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, PEOPLE_QUERY, json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let mut units = vec![(
        String::new(),
        "（督查室、区领导、系统管理员不填）".to_string(),
    )];
    units.extend(
        rows(&data, "units")
            .iter()
            .map(|u| (u["databaseId"].to_string(), text(&u["name"]).to_string())),
    );
    let refusal = match &said {
        Said::Refused(r) => Some(r),
        _ => None,
    };
    let body = html! {
        h1 { "人员" }
        @match &said {
            Said::Done(done) => { (view::notice(Some(done), None)) }
            Said::Token(name, token, replaced) => {
                div.notice.ok role="status" {
                    p {
                        (name) "的访问令牌（仅显示这一次，请复制后妥善转交本人"
                        @if *replaced { "；原令牌已失效" }
                        "。请勿刷新本页）："
                    }
                    p.secret { (token) }
                }
            }
            _ => {}
        }
        table.list {
            thead { tr { th { "姓名" } th { "角色" } th { "单位" } th { "登录账号" } th { "邮箱" } th { "操作" } } }
            tbody {
                @for p in rows(&data, "people") {
                    tr {
                        td data-label="姓名" { (text(&p["name"])) }
                        td data-label="角色" { (ducha_domain::Role::parse(text(&p["role"])).map_or("—", view::role_label)) }
                        td data-label="单位" { (text(&p["unit"]["name"])) }
                        td data-label="登录账号" { (text(&p["account"])) }
                        td data-label="邮箱" { (text(&p["email"])) }
                        td { (person_actions(viewer, p, &units)) }
                    }
                }
            }
        }
        h2 { "新建人员" }
        (Refusal::above(refusal))
        form.wide method="post" action="/admin/people" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="action" value="create";
            div.row {
                div {
                    label for="name" { "姓名" }
                    input id="name" name="name" required maxlength="50" value=(form.get("name"));
                    (Refusal::at(refusal, "name"))
                }
                div {
                    label for="email" { "邮箱（接收督办通知）" }
                    input id="email" name="email" type="email" value=(form.get("email"));
                    (Refusal::at(refusal, "email"))
                }
            }
            div.row {
                div {
                    label for="role" { "角色" }
                    select id="role" name="role" { (options(&roles(), form.get("role"))) }
                }
                div {
                    label for="unit" { "所属单位" }
                    select id="unit" name="unit" { (options(&units, form.get("unit"))) }
                    (Refusal::at(refusal, "unit"))
                }
            }
            div.row {
                div {
                    label for="account" { "登录账号（可不填）" }
                    input id="account" name="account" maxlength="32" autocomplete="off" value=(form.get("account"));
                    (Refusal::at(refusal, "account"))
                }
                div {
                    label for="password" { "初始密码（至少8位，含两类字符）" }
                    input id="password" name="password" type="password" autocomplete="new-password";
                    (Refusal::at(refusal, "password"))
                }
            }
            div.buttons { button.primary type="submit" { "新建人员" } }
        }
    };
    frame(viewer, status, "/admin/people", "人员", body)
}

fn person_actions(viewer: &Viewer, person: &Value, units: &[(String, String)]) -> Markup {
    let id = person["databaseId"].to_string();
    let name = text(&person["name"]);
    let unit = person["unit"]["databaseId"]
        .as_i64()
        .map(|u| u.to_string())
        .unwrap_or_default();
    html! {
        details {
            summary { "修改" }
            form method="post" action="/admin/people" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="action" value="update";
                input type="hidden" name="person" value=(id);
                input type="hidden" name="who_name" value=(name);
                label for={ "name-" (id) } { "姓名" }
                input id={ "name-" (id) } name="name" required maxlength="50" value=(name);
                label for={ "email-" (id) } { "邮箱" }
                input id={ "email-" (id) } name="email" type="email" value=(text(&person["email"]));
                label for={ "role-" (id) } { "角色" }
                select id={ "role-" (id) } name="role" { (options(&roles(), text(&person["role"]))) }
                label for={ "unit-" (id) } { "所属单位" }
                select id={ "unit-" (id) } name="unit" { (options(units, &unit)) }
                button type="submit" { "保存" }
            }
        }
        @if !person["account"].is_null() {
            details {
                summary { "重设密码" }
                form method="post" action="/admin/people" {
                    input type="hidden" name="csrf" value=(viewer.csrf());
                    input type="hidden" name="action" value="password";
                    input type="hidden" name="person" value=(id);
                    input type="hidden" name="who_name" value=(name);
                    label for={ "pw-" (id) } { "新密码" }
                    input id={ "pw-" (id) } name="new_password" type="password" required autocomplete="new-password";
                    button type="submit" { "重设" }
                }
            }
        }
        form method="post" action="/admin/people" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="action" value="token";
            input type="hidden" name="person" value=(id);
            input type="hidden" name="who_name" value=(name);
            button.secondary type="submit" data-confirm={ "为" (name) "重新生成访问令牌？原令牌将立即失效。" } { "重新生成令牌" }
        }
    }
}
