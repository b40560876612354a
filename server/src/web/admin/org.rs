//! Units and people: `/admin/units` (list, create), `/admin/units/N` (rename, kind, head,
//! contact addresses), `/admin/people` (list, create with role and unit, reset a password,
//! reissue an API token shown once).

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::{frame, only_admin, rows};
use crate::graphql::Schemas;
use crate::state::AppState;
use crate::web::fields::{Refusal, filled, options};
use crate::web::view::{self, forged, read_form, see_other, text, viewer};
use crate::web::viewer::{Form, Viewer, run};

const UNITS_QUERY: &str = "{ units { databaseId name kind headName contacts { name email } } }";
const PEOPLE_QUERY: &str =
    "{ people { databaseId name role account email unit { databaseId name } }
  units { databaseId name kind } }";

const CREATE_UNIT: &str =
    "mutation($input: CreateUnitInput!) { createUnit(input: $input) { unit { databaseId } } }";
const UPDATE_UNIT: &str =
    "mutation($input: UpdateUnitInput!) { updateUnit(input: $input) { unit { databaseId } } }";
const CREATE_PERSON: &str = "mutation($input: CreatePersonInput!) { createPerson(input: $input) {
  person { databaseId name } token } }";
const SET_PASSWORD: &str = "mutation($input: SetPasswordInput!) { setPassword(input: $input) {
  person { name } } }";
const REISSUE: &str =
    "mutation($input: ReissueTokenInput!) { reissueToken(input: $input) { token } }";

const UNIT_FIELDS: &[(&str, &[&str])] = &[
    ("name", &["单位名称", "已存在"]),
    ("head_name", &["主要负责人"]),
    ("contacts", &["联系人", "邮箱"]),
];

const PERSON_FIELDS: &[(&str, &[&str])] = &[
    ("name", &["姓名"]),
    ("email", &["邮箱"]),
    ("account", &["账号"]),
    ("password", &["密码"]),
    ("unit", &["单位"]),
];

#[handler]
pub async fn index(request: &Request, state: Data<&AppState>) -> Response {
    match viewer(request, &state).await {
        Ok(viewer) if viewer.actor.role == ducha_domain::Role::Supervisor => {
            see_other("/admin/mail")
        }
        Ok(_) => see_other("/admin/units"),
        Err(to_login) => to_login,
    }
}

/// Contacts as typed, one per line: "姓名 邮箱" (a space, comma or tab between).
fn contacts_of(typed: &str) -> Result<Vec<Value>, Refusal> {
    let mut contacts = Vec::new();
    for (n, line) in typed.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|p| !p.is_empty())
            .collect();
        match parts.as_slice() {
            [name @ .., email] if !name.is_empty() && email.contains('@') => {
                contacts.push(json!({ "name": name.join(" "), "email": email }));
            }
            _ => {
                return Err(Refusal {
                    field: Some("contacts"),
                    message: format!("联系人第{}行应写作“姓名 邮箱”", n + 1),
                });
            }
        }
    }
    Ok(contacts)
}

fn contacts_text(unit: &Value) -> String {
    rows(unit, "contacts")
        .iter()
        .map(|c| format!("{} {}", text(&c["name"]), text(&c["email"])))
        .collect::<Vec<_>>()
        .join("\n")
}

fn kinds() -> Vec<(String, String)> {
    view::UNIT_KINDS
        .iter()
        .map(|k| (k.to_string(), view::unit_kind_label(k).to_string()))
        .collect()
}

/// The unit fields of a form, as `CreateUnitInput` / `UpdateUnitInput` read them.
fn unit_input(form: &Form) -> Result<Value, Refusal> {
    Ok(json!({
        "name": form.get("name"),
        "kind": filled(form, "kind").unwrap_or("DEPARTMENT"),
        "headName": filled(form, "head_name"),
        "contacts": contacts_of(form.get("contacts"))?,
    }))
}

fn unit_fields(form: &Form, refusal: Option<&Refusal>) -> Markup {
    html! {
        label for="name" { "单位名称" }
        input id="name" name="name" required maxlength="100" value=(form.get("name"));
        (Refusal::at(refusal, "name"))
        div.row {
            div {
                label for="kind" { "单位类型" }
                select id="kind" name="kind" { (options(&kinds(), form.get("kind"))) }
            }
            div {
                label for="head_name" { "主要负责人" }
                input id="head_name" name="head_name" maxlength="50" value=(form.get("head_name"));
                (Refusal::at(refusal, "head_name"))
            }
        }
        label for="contacts" { "联系人（每行一位：姓名 邮箱）" }
        textarea id="contacts" name="contacts" rows="3" placeholder="王科长 wang@example.gov.cn" { (form.get("contacts")) }
        (Refusal::at(refusal, "contacts"))
    }
}

#[handler]
pub async fn units_get(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match viewer(request, &state).await {
        Ok(viewer) => viewer,
        Err(to_login) => return to_login,
    };
    if let Some(refused) = only_admin(&viewer, false) {
        return refused;
    }
    units_page(
        &schemas,
        &state,
        &viewer,
        &Form::default(),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

#[handler]
pub async fn units_post(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let viewer = match viewer(request, &state).await {
        Ok(viewer) => viewer,
        Err(to_login) => return to_login,
    };
    let form = match read_form(body).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if let Some(refused) = forged(&viewer, &form).or_else(|| only_admin(&viewer, false)) {
        return refused;
    }
    let refusal = match unit_input(&form) {
        Err(refusal) => refusal,
        Ok(input) => match run(
            &schemas,
            &state,
            &viewer,
            CREATE_UNIT,
            json!({ "input": input }),
        )
        .await
        {
            Ok(_) => {
                let done = format!("已新建单位“{}”", form.get("name").trim());
                return units_page(
                    &schemas,
                    &state,
                    &viewer,
                    &Form::default(),
                    Some(&done),
                    None,
                    StatusCode::OK,
                )
                .await;
            }
            Err(failure) => Refusal::placed(&failure, UNIT_FIELDS),
        },
    };
    units_page(
        &schemas,
        &state,
        &viewer,
        &form,
        None,
        Some(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn units_page(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
    done: Option<&str>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, UNITS_QUERY, json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let refusal = refusal.as_ref();
    let body = html! {
        h1 { "单位" }
        (view::notice(done, None))
        table.list {
            thead { tr { th { "单位" } th { "类型" } th { "主要负责人" } th { "联系人" } th { "" } } }
            tbody {
                @for u in rows(&data, "units") {
                    tr {
                        td data-label="单位" { (text(&u["name"])) }
                        td data-label="类型" { (view::unit_kind_label(text(&u["kind"]))) }
                        td data-label="主要负责人" { (text(&u["headName"])) }
                        td data-label="联系人" { @for c in rows(u, "contacts") { div { (text(&c["name"])) " " span.sub { (text(&c["email"])) } } } }
                        td { a href={ "/admin/units/" (u["databaseId"]) } { "修改" } }
                    }
                }
            }
        }
        h2 { "新建单位" }
        (Refusal::above(refusal))
        form.wide method="post" action="/admin/units" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (unit_fields(form, refusal))
            div.buttons { button.primary type="submit" { "新建单位" } }
        }
    };
    frame(viewer, status, "/admin/units", "单位", body)
}

#[handler]
pub async fn unit_get(
    request: &Request,
    Path(id): Path<i64>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match viewer(request, &state).await {
        Ok(viewer) => viewer,
        Err(to_login) => return to_login,
    };
    if let Some(refused) = only_admin(&viewer, false) {
        return refused;
    }
    unit_page(&schemas, &state, &viewer, id, None, None, StatusCode::OK).await
}

#[handler]
pub async fn unit_post(
    request: &Request,
    Path(id): Path<i64>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let viewer = match viewer(request, &state).await {
        Ok(viewer) => viewer,
        Err(to_login) => return to_login,
    };
    let form = match read_form(body).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if let Some(refused) = forged(&viewer, &form).or_else(|| only_admin(&viewer, false)) {
        return refused;
    }
    let refusal = match unit_input(&form) {
        Err(refusal) => refusal,
        Ok(mut input) => {
            input["unitId"] = json!(id);
            match run(
                &schemas,
                &state,
                &viewer,
                UPDATE_UNIT,
                json!({ "input": input }),
            )
            .await
            {
                Ok(_) => return see_other("/admin/units"),
                Err(failure) => Refusal::placed(&failure, UNIT_FIELDS),
            }
        }
    };
    unit_page(
        &schemas,
        &state,
        &viewer,
        id,
        Some(&form),
        Some(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn unit_page(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    typed: Option<&Form>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, UNITS_QUERY, json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let Some(unit) = rows(&data, "units")
        .into_iter()
        .find(|u| u["databaseId"].as_i64() == Some(id))
    else {
        return view::problem(
            Some(viewer),
            StatusCode::NOT_FOUND,
            "单位不存在",
            "该单位不存在。",
        );
    };
    let from_unit = Form::from_pairs(vec![
        ("name".into(), text(&unit["name"]).into()),
        ("kind".into(), text(&unit["kind"]).into()),
        ("head_name".into(), text(&unit["headName"]).into()),
        ("contacts".into(), contacts_text(unit)),
    ]);
    let form = typed.unwrap_or(&from_unit);
    let refusal = refusal.as_ref();
    let title = format!("修改单位：{}", text(&unit["name"]));
    let body = html! {
        p.crumbs { a href="/admin/units" { "单位" } " › " (text(&unit["name"])) }
        h1 { (title) }
        (Refusal::above(refusal))
        form.wide method="post" action={ "/admin/units/" (id) } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (unit_fields(form, refusal))
            div.buttons { button.primary type="submit" { "保存" } " " a href="/admin/units" { "取消" } }
        }
    };
    frame(viewer, status, "/admin/units", &title, body)
}

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
    .map(|r| (role_code(r).to_string(), view::role_label(r).to_string()))
    .collect()
}

fn role_code(role: ducha_domain::Role) -> &'static str {
    use ducha_domain::Role;
    match role {
        Role::Admin => "ADMIN",
        Role::Leader => "LEADER",
        Role::Supervisor => "SUPERVISOR",
        Role::UnitHead => "UNIT_HEAD",
        Role::UnitStaff => "UNIT_STAFF",
    }
}

fn role_label_of(code: &str) -> &'static str {
    roles_all()
        .into_iter()
        .find(|r| role_code(*r) == code)
        .map_or("—", view::role_label)
}

fn roles_all() -> [ducha_domain::Role; 5] {
    use ducha_domain::Role;
    [
        Role::Admin,
        Role::Leader,
        Role::Supervisor,
        Role::UnitHead,
        Role::UnitStaff,
    ]
}

#[handler]
pub async fn people_get(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match viewer(request, &state).await {
        Ok(viewer) => viewer,
        Err(to_login) => return to_login,
    };
    if let Some(refused) = only_admin(&viewer, false) {
        return refused;
    }
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
    /// A token, shown this once.
    Token(String, String),
    Refused(Refusal),
}

#[handler]
pub async fn people_post(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let viewer = match viewer(request, &state).await {
        Ok(viewer) => viewer,
        Err(to_login) => return to_login,
    };
    let form = match read_form(body).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if let Some(refused) = forged(&viewer, &form).or_else(|| only_admin(&viewer, false)) {
        return refused;
    }
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
        "token" => {
            let input = json!({ "input": { "personId": form.get("person") } });
            match run(&schemas, &state, &viewer, REISSUE, input).await {
                Ok(data) => (
                    Said::Token(name, text(&data["reissueToken"]["token"]).to_string()),
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
            Said::Token(name, token) => {
                div.notice.ok role="status" {
                    p { (name) "的访问令牌（仅显示这一次，请复制后妥善转交本人；原令牌已失效）：" }
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
                        td data-label="角色" { (role_label_of(text(&p["role"]))) }
                        td data-label="单位" { (text(&p["unit"]["name"])) }
                        td data-label="登录账号" { (text(&p["account"])) }
                        td data-label="邮箱" { (text(&p["email"])) }
                        td { (person_actions(viewer, p)) }
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

fn person_actions(viewer: &Viewer, person: &Value) -> Markup {
    let id = person["databaseId"].to_string();
    let name = text(&person["name"]);
    html! {
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
