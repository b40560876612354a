//! Units: `/admin/units` (list, create) and `/admin/units/N` (rename, kind, head, contact
//! addresses).

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::frame::{admin_posted, admin_reader, frame, rows};
use crate::graphql::Schemas;
use crate::state::AppState;
use crate::web::fields::{Refusal, filled, options};
use crate::web::view::{self, see_other, text, viewer};
use crate::web::viewer::{Form, Viewer, run};

const UNITS_QUERY: &str =
    "{ units { databaseId name kind headName contacts { name email } parent { databaseId } } }";
const CREATE_UNIT: &str =
    "mutation($input: CreateUnitInput!) { createUnit(input: $input) { unit { databaseId } } }";
const UPDATE_UNIT: &str =
    "mutation($input: UpdateUnitInput!) { updateUnit(input: $input) { unit { databaseId } } }";
const UNIT_FIELDS: &[(&str, &[&str])] = &[
    ("name", &["单位名称", "已存在"]),
    ("head_name", &["主要负责人"]),
    ("contacts", &["联系人", "邮箱"]),
    ("parent", &["上级单位", "下级单位", "层级"]),
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
        "parentUnitId": filled(form, "parent"),
    }))
}

/// The units in tree order, each with its depth: a root, then its sub-units by name, and so
/// on down (the organisation is a tree, docs/rules.md §8).
fn tree_order(units: Vec<&Value>) -> Vec<(usize, &Value)> {
    fn below<'a>(
        units: &[&'a Value],
        parent: Option<i64>,
        depth: usize,
        out: &mut Vec<(usize, &'a Value)>,
    ) {
        let mut level: Vec<&&Value> = units
            .iter()
            .filter(|u| u["parent"]["databaseId"].as_i64() == parent)
            .collect();
        level.sort_by_key(|u| u["databaseId"].as_i64());
        for unit in level {
            out.push((depth, unit));
            // Depth is bounded by the service (MAX_UNIT_DEPTH); this guards a stored loop.
            if depth < 16 {
                below(units, unit["databaseId"].as_i64(), depth + 1, out);
            }
        }
    }
    let mut out = Vec::with_capacity(units.len());
    below(&units, None, 0, &mut out);
    out
}

/// The parent choices: every unit but `except` (itself) and those below it, which the
/// service would refuse, indented by depth.
fn parent_choices(data: &Value, except: Option<i64>) -> Vec<(String, String)> {
    let mut choices = vec![(String::new(), "无（区直接管理）".to_string())];
    let mut skipping_below: Option<usize> = None;
    for (depth, u) in tree_order(rows(data, "units")) {
        if skipping_below.is_some_and(|top| depth > top) {
            continue;
        }
        skipping_below = None;
        if u["databaseId"].as_i64() == except {
            skipping_below = Some(depth);
            continue;
        }
        choices.push((
            u["databaseId"].to_string(),
            format!("{}{}", "　".repeat(depth), text(&u["name"])),
        ));
    }
    choices
}

fn unit_fields(form: &Form, refusal: Option<&Refusal>, parents: &[(String, String)]) -> Markup {
    html! {
        label for="name" { "单位名称" }
        input id="name" name="name" required maxlength="100" value=(form.get("name"));
        (Refusal::at(refusal, "name"))
        label for="parent" { "上级单位（科室所属的局、社区所属的街道等）" }
        select id="parent" name="parent" { (options(parents, form.get("parent"))) }
        (Refusal::at(refusal, "parent"))
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
    let viewer = match admin_reader(request, &state, false).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
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
    let (viewer, form) = match admin_posted(request, &state, body, false).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
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
                @for (depth, u) in tree_order(rows(&data, "units")) {
                    tr {
                        td data-label="单位" {
                            @if depth > 0 { span.sub { ("　".repeat(depth - 1)) "└ " } }
                            (text(&u["name"]))
                        }
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
            (unit_fields(form, refusal, &parent_choices(&data, None)))
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
    let viewer = match admin_reader(request, &state, false).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
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
    let (viewer, form) = match admin_posted(request, &state, body, false).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
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
        (
            "parent".into(),
            unit["parent"]["databaseId"]
                .as_i64()
                .map(|p| p.to_string())
                .unwrap_or_default(),
        ),
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
            (unit_fields(form, refusal, &parent_choices(&data, Some(id))))
            div.buttons { button.primary type="submit" { "保存" } " " a href="/admin/units" { "取消" } }
        }
    };
    frame(viewer, status, "/admin/units", &title, body)
}
