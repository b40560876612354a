//! 立项 (`/items/new`) and 修改 (`/items/N/edit`): the office's forms for `registerItem` and
//! `editItem`. 立项 shows, before anything is saved, the due the rule gives if the item were
//! assigned now, with its explanation (holidays and 调休 crossed), and the open items it may
//! duplicate (重复督查) — the `registrationPreview` query, which checks exactly what 立项
//! checks. A refused form comes back with every word kept and the reason by its field.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::fields::{self, Refusal, filled, options};
use super::upload::{Posted, Unread, read_posted};
use super::view::{self, Nav, forged, posted, see_other, text};
use super::viewer::{Form, Viewer, run, run_with_files};
use crate::graphql::Schemas;
use crate::state::AppState;

const PEOPLE_QUERY: &str = "{ people { databaseId name role } }";

const PREVIEW_QUERY: &str =
    "query($input: RegisterItemInput!) { registrationPreview(input: $input) {
  deadlineRule defaultRule reportCycleDays
  deadline { dueAt provisional explanation { summary crossed { date name } } }
  warnings { itemId serial title message } } }";

const REGISTER: &str = "mutation($input: RegisterItemInput!) { registerItem(input: $input) {
  item { databaseId } } }";

const EDIT_QUERY: &str = "query($id: ID!) { item(id: $id) {
  databaseId version serial title requirements urgency deadlineRule stage } }";

const EDIT: &str =
    "mutation($input: EditItemInput!) { editItem(input: $input) { item { databaseId } } }";

/// Where each of the service's refusals belongs, by the words it begins with.
const REGISTER_FIELDS: &[(&str, &[&str])] = &[
    ("title", &["标题"]),
    ("requirements", &["办理要求"]),
    ("source_reference", &["来源文号"]),
    ("report_cycle_days", &["进展报送周期"]),
    ("responsible_leader", &["责任领导", "区领导", "人员"]),
    ("upstream_document", &["上级来文"]),
    ("upstream_due", &["上级期限", "预留"]),
    (
        "deadline",
        &["期限", "规则", "日期", "工作日", "小时", "个月"],
    ),
];

fn office_only(viewer: &Viewer) -> Option<Response> {
    view::unless_allowed(
        viewer,
        ducha_domain::Action::Register,
        "无权立项",
        "只有督查室可以立项和修改事项。",
    )
}

/// The form's fields as `RegisterItemInput`; a field that cannot be read is a refusal.
fn register_input(form: &Form) -> Result<Value, Refusal> {
    let cycle = match filled(form, "report_cycle_days") {
        None => None,
        Some(days) => Some(days.parse::<i32>().map_err(|_| Refusal {
            field: Some("report_cycle_days"),
            message: "进展报送周期应为1至366之间的整数".into(),
        })?),
    };
    let kind = filled(form, "source_kind").unwrap_or("LEADER_INSTRUCTION");
    // The script fills the source kind's rule in; left as it was, it is the default, not the
    // item's own (立项 records which).
    let default_rule =
        ducha_domain::SourceKind::parse(kind).map(|k| k.default_deadline().to_string());
    let from_above = filled(form, "upstream_due").is_some();
    // With an item from above, any source kind's default left in the field is no deadline of
    // the office's own (the script fills the kind's default in; a kind changed without it
    // leaves another kind's): the upstream due decides.
    let deadline = filled(form, "deadline")
        .filter(|d| Some(d.to_string()) != default_rule)
        .filter(|d| {
            !from_above
                || !ducha_domain::SourceKind::ALL
                    .iter()
                    .any(|k| k.default_deadline().to_string() == *d)
        });
    // Received from above: the document and its due, with the days the district keeps.
    let upstream = match (
        filled(form, "upstream_document"),
        filled(form, "upstream_due"),
    ) {
        (None, None) => None,
        (document, due) => {
            let buffer = match filled(form, "upstream_buffer") {
                None => None,
                Some(days) => Some(days.parse::<i32>().map_err(|_| Refusal {
                    field: Some("upstream_due"),
                    message: "预留的工作日应为0至20之间的整数".into(),
                })?),
            };
            let due = due.ok_or(Refusal {
                field: Some("upstream_due"),
                message: "请填写上级期限".into(),
            })?;
            Some(
                json!({ "document": document.unwrap_or_default(), "dueDate": due,
                         "bufferWorkingDays": buffer }),
            )
        }
    };
    Ok(json!({
        "title": form.get("title"),
        "requirements": form.get("requirements"),
        "sourceKind": kind,
        "sourceReference": form.get("source_reference").trim(),
        "urgency": filled(form, "urgency").unwrap_or("NORMAL"),
        "responsibleLeaderId": filled(form, "responsible_leader"),
        "deadline": deadline,
        "reportCycleDays": cycle,
        "reportCycleUnit": if form.get("report_cycle_unit") == "WORKING_DAYS" { "WORKING_DAYS" } else { "CALENDAR_DAYS" },
        "upstream": upstream,
    }))
}

#[handler]
pub async fn new_page(state: Data<&AppState>, schemas: Data<&Schemas>, viewer: Viewer) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    new_form(
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
pub async fn new_post(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
    viewer: Viewer,
) -> Response {
    let Posted { form, files } = match read_posted(request, body).await {
        Ok(posted) => posted,
        Err(Unread::Refused(refused)) => return refused,
        Err(Unread::Said(status, why, typed)) => {
            if let Some(refused) = office_only(&viewer) {
                return refused;
            }
            let refusal = Refusal::general(why);
            return new_form(
                &schemas,
                &state,
                &viewer,
                &typed,
                None,
                Some(refusal),
                status,
            )
            .await;
        }
    };
    if let Some(refused) = forged(&viewer, &form).or_else(|| office_only(&viewer)) {
        return refused;
    }
    let input = match register_input(&form) {
        Ok(input) => input,
        Err(refusal) => {
            return new_form(
                &schemas,
                &state,
                &viewer,
                &form,
                None,
                Some(refusal),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let previewed = run(
        &schemas,
        &state,
        &viewer,
        PREVIEW_QUERY,
        json!({ "input": input }),
    )
    .await;
    let preview = match previewed {
        Ok(data) => data["registrationPreview"].clone(),
        Err(failure) => {
            let refusal = Refusal::placed(&failure, REGISTER_FIELDS);
            return new_form(
                &schemas,
                &state,
                &viewer,
                &form,
                None,
                Some(refusal),
                failure.status(),
            )
            .await;
        }
    };
    // Saving asks for a preview first; one with warnings the office has not seen yet (the
    // text changed since) is shown again instead of being saved.
    let warned = warned_items(&preview);
    let confirmed =
        form.get("step") == "save" && (warned.is_empty() || form.get("seen_warnings") == warned);
    if !confirmed {
        // A browser cannot send chosen files back: say so rather than drop them unseen.
        let dropped = (!files.is_empty()).then(|| {
            Refusal::general("查重结果有变化，请核对提示后重新选择要上传的文件，再确认立项")
        });
        return new_form(
            &schemas,
            &state,
            &viewer,
            &form,
            Some(&preview),
            dropped,
            StatusCode::OK,
        )
        .await;
    }
    let mut input = input;
    input["files"] = json!(vec![Value::Null; files.len()]);
    let uploads = files
        .into_iter()
        .enumerate()
        .map(|(n, file)| (format!("variables.input.files.{n}"), file))
        .collect();
    match run_with_files(
        &schemas,
        &state,
        &viewer,
        REGISTER,
        json!({ "input": input }),
        uploads,
    )
    .await
    {
        Ok(data) => see_other(&format!(
            "/items/{}?done=REGISTER",
            data["registerItem"]["item"]["databaseId"]
        )),
        Err(failure) => {
            let refusal = Refusal::placed(&failure, REGISTER_FIELDS);
            new_form(
                &schemas,
                &state,
                &viewer,
                &form,
                None,
                Some(refusal),
                failure.status(),
            )
            .await
        }
    }
}

async fn new_form(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
    preview: Option<&Value>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let people = run(schemas, state, viewer, PEOPLE_QUERY, json!({}))
        .await
        .unwrap_or(Value::Null);
    let mut leaders = vec![(String::new(), "（不指定）".to_string())];
    leaders.extend(
        people["people"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| text(&p["role"]) == "LEADER")
            .map(|p| (p["databaseId"].to_string(), text(&p["name"]).to_string())),
    );
    let refusal = refusal.as_ref();
    let kind = filled(form, "source_kind").unwrap_or("LEADER_INSTRUCTION");
    let body = html! {
        p.crumbs { a href="/items" { "事项台账" } " › 立项" }
        h1 { "立项" }
        (Refusal::above(refusal))
        form.wide method="post" action="/items/new" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            label for="title" { "事项标题" }
            input id="title" name="title" required maxlength="200" value=(form.get("title"));
            (Refusal::at(refusal, "title"))
            label for="requirements" { "办理要求" }
            textarea id="requirements" name="requirements" rows="5" required maxlength="20000" { (form.get("requirements")) }
            (Refusal::at(refusal, "requirements"))
            div.row {
                div {
                    label for="source_kind" { "事项来源" }
                    select id="source_kind" name="source_kind" data-default-rule="deadline" {
                        @for (value, label) in fields::source_kinds() {
                            @let rule = ducha_domain::SourceKind::parse(&value).map(|k| k.default_deadline().to_string()).unwrap_or_default();
                            option value=(value) data-rule=(rule) selected[value == kind] { (label) }
                        }
                    }
                }
                div {
                    label for="source_reference" { "来源文号" }
                    input id="source_reference" name="source_reference" maxlength="200" placeholder="批示件号、纪要号、文号" value=(form.get("source_reference"));
                    (Refusal::at(refusal, "source_reference"))
                }
            }
            div.row {
                div {
                    label for="urgency" { "紧急程度" }
                    select id="urgency" name="urgency" { (options(&fields::urgencies(), form.get("urgency"))) }
                }
                div {
                    label for="responsible_leader" { "责任领导" }
                    select id="responsible_leader" name="responsible_leader" { (options(&leaders, form.get("responsible_leader"))) }
                    (Refusal::at(refusal, "responsible_leader"))
                }
            }
            details.upstream open[!form.get("upstream_document").is_empty() || !form.get("upstream_due").is_empty()] {
                summary { "上级（市、省）交办事项" }
                label for="upstream_document" { "上级来文（标题及文号）" }
                input id="upstream_document" name="upstream_document" maxlength="200" value=(form.get("upstream_document"));
                (Refusal::at(refusal, "upstream_document"))
                div.row {
                    div {
                        label for="upstream_due" { "上级期限" }
                        input id="upstream_due" name="upstream_due" type="date" value=(form.get("upstream_due"));
                    }
                    div {
                        label for="upstream_buffer" { "本区期限提前（工作日，不填按设置）" }
                        input id="upstream_buffer" name="upstream_buffer" type="number" min="0" max="20" value=(form.get("upstream_buffer"));
                    }
                }
                p.hint { "填写上级期限后，下面的办理期限留空或保留来源默认即按上级期限倒推；办结后督查室向上级报送落实情况。" }
                (Refusal::at(refusal, "upstream_due"))
            }
            label for="deadline" { "办理期限" }
            input id="deadline" name="deadline" maxlength="40" value=(form.get("deadline"))
                placeholder="如“5个工作日内”“2026-12-31”“48小时”；不填按来源默认";
            p.hint { "工作日、日历日、小时自交办时起算，指定日期截止于当日办公时间结束；工作日跨越法定节假日和调休按国务院通知计算。" }
            (Refusal::at(refusal, "deadline"))
            div.row {
                div {
                    label for="report_cycle_days" { "进展报送周期（天，可不填）" }
                    input id="report_cycle_days" name="report_cycle_days" type="number" min="1" max="366" value=(form.get("report_cycle_days"));
                    (Refusal::at(refusal, "report_cycle_days"))
                }
                div {
                    label for="report_cycle_unit" { "周期按" }
                    select id="report_cycle_unit" name="report_cycle_unit" {
                        (options(&[("CALENDAR_DAYS".into(), "日历日".into()), ("WORKING_DAYS".into(), "工作日".into())], form.get("report_cycle_unit")))
                    }
                }
            }
            @if let Some(preview) = preview {
                @if !form.get("upstream_due").is_empty() {
                    p.notice {
                        "上级期限 " strong { (form.get("upstream_due")) } "；本区期限 " strong { (text(&preview["deadlineRule"])) }
                        "（办理期限留空或为来源默认时，按上级期限提前预留的工作日倒推）"
                    }
                }
                (preview_block(preview, form.get("report_cycle_unit") == "WORKING_DAYS"))
            }
            div.buttons {
                button type="submit" name="step" value="preview" { "试算期限并查重" }
                @if preview.is_some() {
                    @if let Some(preview) = preview {
                        input type="hidden" name="seen_warnings" value=(warned_items(preview));
                    }
                    div.grow { (item_files_input()) }
                    button.primary type="submit" name="step" value="save" { "确认立项" }
                }
            }
        }
    };
    view::respond(status, view::page(Some(viewer), Nav::Items, "立项", body))
}

/// The items a preview warned of, as one text: a save goes through only when the warnings
/// it would give are the ones the office saw.
fn warned_items(preview: &Value) -> String {
    let mut ids: Vec<&str> = preview["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["itemId"].as_str())
        .collect();
    ids.sort_unstable();
    ids.join(",")
}

/// Files received with the item, chosen at the confirmation (a browser cannot keep a chosen
/// file across the preview's page).
fn item_files_input() -> Markup {
    let max = crate::service::items::attachments::MAX_ATTACHMENT_BYTES;
    html! {
        label for="files" { "随立项上传的文件（批示件、纪要等，可多选，每个不超过" (max / 1024 / 1024) "MB，最多"
            (crate::service::items::attachments::MAX_FILES_PER_REPORT) "个）" }
        input id="files" name="files" type="file" multiple data-max-bytes=(max);
    }
}

fn preview_block(preview: &Value, cycle_in_working_days: bool) -> Markup {
    let deadline = &preview["deadline"];
    let warnings: Vec<&Value> = preview["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    html! {
        section.preview aria-label="立项试算" {
            h2 { "试算结果" }
            p {
                "期限规则：" strong { (text(&preview["deadlineRule"])) }
                @if preview["defaultRule"].as_bool() == Some(true) { "（来源类别的默认规则）" }
            }
            p {
                "若今日交办，主办单位期限至 " strong { (view::time(&deadline["dueAt"])) }
                "；协办单位按规则提前一个工作日。"
            }
            p.sub { (text(&deadline["explanation"]["summary"])) }
            @let crossed: Vec<&Value> = deadline["explanation"]["crossed"].as_array().into_iter().flatten().collect();
            @if !crossed.is_empty() {
                p.sub { "途经：" @for (i, c) in crossed.iter().enumerate() { @if i > 0 { "、" } (text(&c["date"])) (text(&c["name"])) } }
            }
            @if deadline["provisional"].as_bool() == Some(true) {
                p.sub { "含尚未公布放假安排的年份，期限为暂定。" }
            }
            @if let Some(days) = preview["reportCycleDays"].as_i64() {
                p { "进展报送：每" (days) @if cycle_in_working_days { "个工作日" } @else { "天" } "一次" }
            }
            @if warnings.is_empty() {
                p.ok { "未发现可能重复的在办事项。" }
            } @else {
                div.warning role="alert" {
                    strong { "重复督查提示：" }
                    ul {
                        @for w in warnings {
                            li { a href={ "/items/" (text(&w["itemId"])) } target="_blank" { (text(&w["serial"])) " " (text(&w["title"])) } div.sub { (text(&w["message"])) } }
                        }
                    }
                    p.sub { "请核实后再立项；确认不重复可继续。" }
                }
            }
        }
    }
}

#[handler]
pub async fn edit_page(
    Path(id): Path<i64>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    edit_form(&schemas, &state, &viewer, id, None, None, StatusCode::OK).await
}

#[handler]
pub async fn edit_post(
    request: &Request,
    Path(id): Path<i64>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match posted(request, &state, body).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if let Some(refused) = office_only(&viewer) {
        return refused;
    }
    let Ok(version) = form.get("version").parse::<i64>() else {
        let refusal = Refusal::general("表单缺少版本号，请刷新页面后重试");
        return edit_form(
            &schemas,
            &state,
            &viewer,
            id,
            Some(&form),
            Some(refusal),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    // Only what changed is sent: an unchanged rule stays the source's default, and the
    // trail records no change that was not made.
    let changed = |field: &str| {
        let now = form.get(field);
        (now != form.get(&format!("original_{field}"))).then_some(now)
    };
    let input = json!({ "input": {
        "itemId": id, "version": version,
        "title": changed("title"), "requirements": changed("requirements"),
        "deadline": changed("deadline").map(str::trim).filter(|d| !d.is_empty()),
        "urgency": changed("urgency").filter(|u| !u.is_empty()),
    } });
    match run(&schemas, &state, &viewer, EDIT, input).await {
        Ok(_) => see_other(&format!("/items/{id}?done=EDIT")),
        Err(failure) => {
            let refusal = Refusal::placed(&failure, REGISTER_FIELDS);
            // Changed meanwhile: what was typed stays, on the item's version as it is now.
            let form = if failure.code == "CONFLICT" {
                form.with("version", "")
            } else {
                form
            };
            edit_form(
                &schemas,
                &state,
                &viewer,
                id,
                Some(&form),
                Some(refusal),
                failure.status(),
            )
            .await
        }
    }
}

/// The edit form, filled from the item, or from what was typed when it was refused.
async fn edit_form(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    typed: Option<&Form>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let item = match run(schemas, state, viewer, EDIT_QUERY, json!({ "id": id })).await {
        Ok(data) => data["item"].clone(),
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    if text(&item["stage"]) != "REGISTERED" {
        return view::problem(
            Some(viewer),
            StatusCode::CONFLICT,
            "不能修改",
            "事项已交办，不能再修改；如需变更请撤销后重新立项。",
        );
    }
    let value = |field: &str, from_item: &str| -> String {
        typed.map_or_else(
            || text(&item[from_item]).to_string(),
            |f| f.get(field).to_string(),
        )
    };
    let refusal = refusal.as_ref();
    let serial = text(&item["serial"]);
    let title = format!("修改 {serial}");
    let body = html! {
        p.crumbs { a href="/items" { "事项台账" } " › " a href={ "/items/" (id) } { (serial) } " › 修改" }
        h1 { (title) }
        (Refusal::above(refusal))
        form.wide method="post" action={ "/items/" (id) "/edit" } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="version" value=(typed.map(|f| f.get("version")).filter(|v| !v.is_empty()).map_or_else(|| item["version"].to_string(), str::to_string));
            @for (field, from_item) in [("title", "title"), ("requirements", "requirements"), ("urgency", "urgency"), ("deadline", "deadlineRule")] {
                input type="hidden" name={ "original_" (field) } value=(text(&item[from_item]));
            }
            label for="title" { "事项标题" }
            input id="title" name="title" required maxlength="200" value=(value("title", "title"));
            (Refusal::at(refusal, "title"))
            label for="requirements" { "办理要求" }
            textarea id="requirements" name="requirements" rows="6" required { (value("requirements", "requirements")) }
            (Refusal::at(refusal, "requirements"))
            label for="urgency" { "紧急程度" }
            select id="urgency" name="urgency" { (options(&fields::urgencies(), &value("urgency", "urgency"))) }
            label for="deadline" { "办理期限" }
            input id="deadline" name="deadline" maxlength="40" value=(value("deadline", "deadlineRule"));
            (Refusal::at(refusal, "deadline"))
            div.buttons {
                button.primary type="submit" { "保存修改" }
                " " a href={ "/items/" (id) } { "取消" }
            }
        }
    };
    view::respond(status, view::page(Some(viewer), Nav::Items, &title, body))
}
