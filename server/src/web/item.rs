//! `/items/N`, the page every mail links to: the item's facts, each assignment's due with the
//! deadline's explanation and colour, reports with their files, extension requests, the
//! timeline from the audit trail, and the actions the reader may take now. An action posts
//! here and runs the API's own mutation as the reader; the service decides, and a refusal is
//! shown on the page with the service's words.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::view::{self, Nav, colour_badge, text};
use super::view::{forged, read_form, see_other, viewer};
use super::viewer::{Form, Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;
use ducha_domain::{Action, Stage};

const ITEM_QUERY: &str = "query($id: ID!) { item(id: $id) {
  databaseId version serial title requirements sourceKind sourceReference urgency stage
  colour colourReason deadlineRule createdAt assignedAt closedAt reportCycleDays
  responsibleLeader { name }
  deadlineExplanation { dueAt explanation { summary crossed { date name } } }
  assignments { databaseId lead status dueAt effectiveDueAt extendedDueAt signedAt colour
    colourReason returnReason provisional unit { databaseId name } }
  extensionRequests { databaseId assignmentId proposedDueAt reason decision decisionReason decidedAt createdAt }
  reports { databaseId kind body createdAt author { name } verdict verdictReason
    attachments { databaseId fileName size } }
  auditTrail { at action actor { name } fromStage toStage reason }
} }";

const UNITS_QUERY: &str = "{ units { databaseId name } }";

/// The item's number in the address: the number mails link to, or the API's global id.
fn item_number(raw: &str) -> Option<i64> {
    match raw.parse::<i64>() {
        Ok(number) if number > 0 => Some(number),
        _ => match crate::graphql::ids::decode(raw) {
            Some((crate::graphql::ids::NodeKind::Item, number)) => Some(number),
            _ => None,
        },
    }
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

#[handler]
pub async fn page(
    request: &Request,
    Path(raw): Path<String>,
    Query(done): Query<Done>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match viewer(request, &state).await {
        Ok(viewer) => viewer,
        Err(to_login) => return to_login,
    };
    let Some(id) = item_number(&raw) else {
        return not_found(&viewer);
    };
    let said = done
        .done
        .as_deref()
        .and_then(Action::parse)
        .filter(|a| ACTIONS.contains(a) || FORM_PAGES.contains(a))
        .map(|a| format!("{}：已完成", a.label()));
    render(
        &schemas,
        &state,
        &viewer,
        id,
        said.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

fn not_found(viewer: &Viewer) -> Response {
    view::problem(
        Some(viewer),
        StatusCode::NOT_FOUND,
        "事项不存在",
        "该事项不存在，或您无权查看。",
    )
}

async fn render(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    ok: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, ITEM_QUERY, json!({ "id": id })).await {
        Ok(data) => data,
        Err(failure) if failure.code == "NOT_FOUND" => return not_found(viewer),
        Err(failure) => return super::view::failure_page(viewer, &failure),
    };
    let item = &data["item"];
    let units = if viewer.is_office() {
        run(schemas, state, viewer, UNITS_QUERY, json!({}))
            .await
            .unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let title = format!("{} {}", text(&item["serial"]), text(&item["title"]));
    let body = html! {
        p.crumbs { a href="/items" { "事项台账" } " › " (text(&item["serial"])) }
        h1 { (text(&item["title"])) " " (colour_badge(&item["colour"], &item["colourReason"])) }
        (view::notice(ok, error))
        (facts(item))
        (assignments(item))
        (actions(viewer, item, &units))
        (extensions(viewer, item))
        (reports(item))
        (timeline(item))
    };
    view::respond(status, view::page(Some(viewer), Nav::Items, &title, body))
}

fn facts(item: &Value) -> Markup {
    let explanation = &item["deadlineExplanation"]["explanation"];
    html! {
        dl.facts {
            dt { "督办编号" } dd { (text(&item["serial"])) }
            dt { "阶段" } dd { (view::stage_label(text(&item["stage"]))) }
            dt { "颜色" } dd { (colour_badge(&item["colour"], &item["colourReason"])) " " (text(&item["colourReason"])) }
            dt { "紧急程度" } dd { (super::fields::urgency_label(text(&item["urgency"]))) }
            dt { "来源" } dd { (view::source_label(text(&item["sourceKind"]))) "　" (text(&item["sourceReference"])) }
            dt { "办理期限" } dd {
                (text(&item["deadlineRule"])) "，至 " (view::time(&item["deadlineExplanation"]["dueAt"]))
                div.sub { (text(&explanation["summary"])) }
            }
            @if !item["responsibleLeader"].is_null() {
                dt { "责任领导" } dd { (text(&item["responsibleLeader"]["name"])) }
            }
            @if let Some(days) = item["reportCycleDays"].as_i64() {
                dt { "进展报送" } dd { "每" (days) "天报送一次" }
            }
            dt { "立项时间" } dd { (view::time(&item["createdAt"])) }
            @if !item["assignedAt"].is_null() { dt { "交办时间" } dd { (view::time(&item["assignedAt"])) } }
            @if !item["closedAt"].is_null() { dt { "销号时间" } dd { (view::time(&item["closedAt"])) } }
        }
        section {
            h2 { "办理要求" }
            p.prose { (text(&item["requirements"])) }
        }
    }
}

fn assignments(item: &Value) -> Markup {
    html! {
        section {
            h2 { "承办单位" }
            table.list {
                thead { tr { th { "单位" } th { "主/协办" } th { "状态" } th { "原定期限" } th { "有效期限" } th { "签收" } th { "颜色" } } }
                tbody {
                    @for a in item["assignments"].as_array().into_iter().flatten() {
                        tr class=[(text(&a["status"]) == "WITHDRAWN").then_some("withdrawn")] {
                            td { (text(&a["unit"]["name"])) }
                            td { @if a["lead"].as_bool() == Some(true) { "主办" } @else { "协办" } }
                            td {
                                (view::assignment_status_label(text(&a["status"])))
                                @if !a["returnReason"].is_null() { div.sub { "退回理由：" (text(&a["returnReason"])) } }
                            }
                            td { (view::time(&a["dueAt"])) }
                            td {
                                (view::time(&a["effectiveDueAt"]))
                                @if !a["extendedDueAt"].is_null() { div.sub { "已延期" } }
                                @if a["provisional"].as_bool() == Some(true) { div.sub { "含未公布放假安排的年份，期限为暂定" } }
                            }
                            td { @if a["signedAt"].is_null() { "未签收" } @else { (view::time(&a["signedAt"])) } }
                            td { (colour_badge(&a["colour"], &a["colourReason"])) div.sub { (text(&a["colourReason"])) } }
                        }
                    }
                }
            }
        }
    }
}

/// Every action a page can post, by the API's name.
const ACTIONS: [Action; 14] = [
    Action::Sign,
    Action::Return,
    Action::RequestExtension,
    Action::ReportProgress,
    Action::SubmitFeedback,
    Action::Verify,
    Action::Reject,
    Action::Close,
    Action::Suspend,
    Action::Resume,
    Action::Cancel,
    Action::Reopen,
    Action::DecideExtension,
    Action::Reassign,
];

/// The actions done on pages of their own (立项, 修改, 交办), which come back here.
const FORM_PAGES: [Action; 3] = [Action::Register, Action::Edit, Action::Assign];

/// What the reader may do now, by the domain's tables: the action is the reader's role's,
/// the stage allows it, and for a unit, its own assignment is in the state the action
/// needs. The service checks all of it again when the form is sent.
fn offered(viewer: &Viewer, item: &Value) -> Vec<Action> {
    let Some(stage) = Stage::parse(text(&item["stage"])) else {
        return Vec::new();
    };
    let role = viewer.actor.role;
    // A unit reads only its own assignments: the live one is the unit's.
    let own = role
        .is_unit_role()
        .then(|| {
            item["assignments"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| text(&a["status"]) != "WITHDRAWN")
        })
        .flatten();
    let signed = own.is_some_and(|a| !a["signedAt"].is_null());
    let active = own.is_some_and(|a| text(&a["status"]) == "ACTIVE");
    let lead = own.is_some_and(|a| a["lead"].as_bool() == Some(true));
    let possible = |action: Action| {
        action.allowed_for(role) && action.next_stage(stage, Some(Stage::InProgress)).is_ok()
    };
    [
        Action::Sign,
        Action::Return,
        Action::RequestExtension,
        Action::ReportProgress,
        Action::SubmitFeedback,
        Action::Verify,
        Action::Reject,
        Action::Close,
        Action::Suspend,
        Action::Resume,
        Action::Reopen,
        Action::Cancel,
    ]
    .into_iter()
    .filter(|a| possible(*a))
    .filter(|a| match a {
        Action::Sign | Action::Return => active && !signed,
        Action::RequestExtension => active,
        Action::ReportProgress => own.is_some(),
        Action::SubmitFeedback => lead && signed && active,
        _ => true,
    })
    .collect()
}

fn hidden(viewer: &Viewer, item: &Value, action: Action) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(viewer.csrf());
        input type="hidden" name="version" value=(item["version"]);
        input type="hidden" name="action" value=(action.name());
    }
}

fn actions(viewer: &Viewer, item: &Value, units: &Value) -> Markup {
    let offered = offered(viewer, item);
    let returns: Vec<&Value> = if viewer.is_office() {
        item["assignments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| text(&a["status"]) == "RETURN_REQUESTED")
            .collect()
    } else {
        Vec::new()
    };
    let id = item["databaseId"].as_i64().unwrap_or_default();
    let registered = text(&item["stage"]) == "REGISTERED";
    let assigns = registered && Action::Assign.allowed_for(viewer.actor.role);
    let edits = registered && Action::Edit.allowed_for(viewer.actor.role);
    if offered.is_empty() && returns.is_empty() && !assigns && !edits {
        return html! {};
    }
    let action_url = format!("/items/{id}");
    html! {
        section.actions aria-label="可办理的操作" {
            h2 { "办理" }
            @if assigns { a.button.primary href={ "/items/" (id) "/assign" } { "交办" } " " }
            @if edits { a.button href={ "/items/" (id) "/edit" } { "修改" } " " }
            @for action in &offered {
                @let action = *action;
                @match action {
                    Action::Close => {
                        details { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="reason-close" { "销号意见（可不填）" }
                                textarea id="reason-close" name="reason" rows="2" maxlength="2000" {}
                                button type="submit" data-confirm="确认销号？销号后事项办结，只能通过“回头看”重新打开。" { "确认销号" }
                            }
                        }
                    }
                    Action::Sign | Action::Resume => {
                        form.inline method="post" action=(action_url) {
                            (hidden(viewer, item, action))
                            button type="submit" { (action.label()) }
                        }
                    }
                    Action::Verify => {
                        details { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="verify-reason" { "核查意见（可不填）" }
                                textarea id="verify-reason" name="reason" rows="2" {}
                                button type="submit" { "确认核查通过" }
                            }
                        }
                    }
                    Action::ReportProgress | Action::SubmitFeedback => {
                        @let field = format!("body-{}", action.name().to_lowercase());
                        details { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for=(field) { @if action == Action::SubmitFeedback { "办结情况" } @else { "进展情况" } }
                                textarea id=(field) name="body" rows="5" required maxlength="20000" {}
                                button type="submit" { "提交" (action.label()) }
                            }
                        }
                    }
                    Action::RequestExtension => {
                        details { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="ext-date" { "申请延至" }
                                input id="ext-date" name="date" type="date" required;
                                label for="ext-reason" { "理由" }
                                textarea id="ext-reason" name="reason" rows="3" required {}
                                button type="submit" { "提交延期申请" }
                            }
                        }
                    }
                    _ => {
                        @let field = format!("reason-{}", action.name().to_lowercase());
                        details { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for=(field) { (action.label()) "理由" }
                                textarea id=(field) name="reason" rows="3" required {}
                                @let confirm = match action {
                                    Action::Cancel => Some("确认撤销该事项？撤销后不再督办。"),
                                    Action::Reopen => Some("确认对该事项“回头看”？事项将重新进入承办。"),
                                    _ => None,
                                };
                                button type="submit" data-confirm=[confirm] { "确认" (action.label()) }
                            }
                        }
                    }
                }
            }
            @for a in returns {
                details open {
                    summary { (text(&a["unit"]["name"])) "申请退回：" (text(&a["returnReason"])) }
                    form method="post" action=(action_url) {
                        (hidden(viewer, item, Action::Reassign))
                        input type="hidden" name="assignment" value=(a["databaseId"]);
                        label for="reassign-to" { "改派给（不选为维持原交办）" }
                        select id="reassign-to" name="unit" {
                            option value="" { "维持原交办" }
                            @for u in units["units"].as_array().into_iter().flatten() {
                                option value=(u["databaseId"]) { (text(&u["name"])) }
                            }
                        }
                        label for="reassign-reason" { "督查室意见" }
                        textarea id="reassign-reason" name="reason" rows="2" required {}
                        button type="submit" { "处理退回" }
                    }
                }
            }
        }
    }
}

fn extensions(viewer: &Viewer, item: &Value) -> Markup {
    let requests: Vec<&Value> = item["extensionRequests"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    if requests.is_empty() {
        return html! {};
    }
    let decides = Action::DecideExtension.allowed_for(viewer.actor.role);
    let id = item["databaseId"].as_i64().unwrap_or_default();
    html! {
        section {
            h2 { "延期申请" }
            ul.records {
                @for r in requests {
                    li {
                        "申请延至 " (view::time(&r["proposedDueAt"])) "，理由：" (text(&r["reason"]))
                        div.sub {
                            "提交于 " (view::time(&r["createdAt"])) "　"
                            @match text(&r["decision"]) {
                                "APPROVED" => { "已批准" }
                                "REJECTED" => { "未批准" }
                                _ => { "待审批" }
                            }
                            @if !r["decisionReason"].is_null() { "：" (text(&r["decisionReason"])) }
                        }
                        @if decides && r["decision"].is_null() {
                            form method="post" action={ "/items/" (id) } {
                                (hidden(viewer, item, Action::DecideExtension))
                                input type="hidden" name="request" value=(r["databaseId"]);
                                @let field = format!("decide-{}", r["databaseId"]);
                                label for=(field) { "审批意见（不批准时必填）" }
                                textarea id=(field) name="reason" rows="2" {}
                                div.check {
                                    input id={ (field) "-beyond" } type="checkbox" name="beyond" value="1";
                                    label for={ (field) "-beyond" } { "同意协办单位期限晚于主办单位" }
                                }
                                button type="submit" name="approve" value="1" { "批准延期" }
                                " "
                                button type="submit" name="approve" value="0" { "不批准" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn reports(item: &Value) -> Markup {
    let reports: Vec<&Value> = item["reports"].as_array().into_iter().flatten().collect();
    html! {
        section {
            h2 { "进展与反馈（" (reports.len()) "）" }
            @if reports.is_empty() { p.empty { "尚无报送。" } }
            ul.records {
                @for r in reports {
                    li {
                        strong { @if text(&r["kind"]) == "FEEDBACK" { "办结反馈" } @else { "进展报告" } }
                        "　" (text(&r["author"]["name"])) "　" (view::time(&r["createdAt"]))
                        p.prose { (text(&r["body"])) }
                        @match text(&r["verdict"]) {
                            "ACCEPTED" => { div.sub { "核查通过" @if !r["verdictReason"].is_null() { "：" (text(&r["verdictReason"])) } } }
                            "REJECTED" => { div.sub.bad { "退回重办：" (text(&r["verdictReason"])) } }
                            _ => {}
                        }
                        @let files: Vec<&Value> = r["attachments"].as_array().into_iter().flatten().collect();
                        @if !files.is_empty() {
                            ul.files {
                                @for f in files {
                                    li { a href={ "/attachments/" (f["databaseId"]) } { (text(&f["fileName"])) } " (" (f["size"].as_i64().unwrap_or(0) / 1024 + 1) " KB)" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn timeline(item: &Value) -> Markup {
    html! {
        section {
            h2 { "办理过程" }
            ol.timeline {
                @for e in item["auditTrail"].as_array().into_iter().flatten() {
                    li {
                        (view::time(&e["at"])) "　"
                        strong { (view::action_label(text(&e["action"]))) }
                        @if !e["actor"].is_null() { "　" (text(&e["actor"]["name"])) }
                        @if !e["toStage"].is_null() && e["toStage"] != e["fromStage"] {
                            "　" (view::stage_label(text(&e["fromStage"]))) " → " (view::stage_label(text(&e["toStage"])))
                        }
                        @if !e["reason"].is_null() { div.sub { (text(&e["reason"])) } }
                    }
                }
            }
        }
    }
}

/// The mutation a form's action runs, and its variables.
fn mutation(item_id: i64, form: &Form) -> Result<(Action, &'static str, Value), String> {
    let version: i64 = form
        .get("version")
        .parse()
        .map_err(|_| "表单缺少版本号，请刷新页面后重试".to_string())?;
    let action = Action::parse(form.get("action"))
        .filter(|a| ACTIONS.contains(a))
        .ok_or_else(|| "未知的操作".to_string())?;
    let reason = Some(form.get("reason").trim()).filter(|r| !r.is_empty());
    let with_reason =
        json!({ "input": { "itemId": item_id, "version": version, "reason": reason } });
    let (query, variables) = match action {
        Action::Sign => (
            "mutation($input: ItemVersionInput!) { signItem(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "version": version } }),
        ),
        Action::Return => (
            "mutation($input: ItemReasonInput!) { returnItem(input: $input) { item { version } } }",
            with_reason,
        ),
        Action::Close => (
            "mutation($input: ItemReasonInput!) { closeItem(input: $input) { item { version } } }",
            with_reason,
        ),
        Action::Suspend => (
            "mutation($input: ItemReasonInput!) { suspendItem(input: $input) { item { version } } }",
            with_reason,
        ),
        Action::Resume => (
            "mutation($input: ItemReasonInput!) { resumeItem(input: $input) { item { version } } }",
            with_reason,
        ),
        Action::Cancel => (
            "mutation($input: ItemReasonInput!) { cancelItem(input: $input) { item { version } } }",
            with_reason,
        ),
        Action::Reopen => (
            "mutation($input: ItemReasonInput!) { reopenItem(input: $input) { item { version } } }",
            with_reason,
        ),
        Action::Verify | Action::Reject => (
            "mutation($input: VerifyItemInput!) { verifyItem(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "version": version,
                "accept": action == Action::Verify, "reason": reason } }),
        ),
        Action::ReportProgress => (
            "mutation($input: ReportProgressInput!) { reportProgress(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "body": form.get("body") } }),
        ),
        Action::SubmitFeedback => (
            "mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "version": version, "body": form.get("body") } }),
        ),
        Action::RequestExtension => (
            "mutation($input: RequestExtensionInput!) { requestExtension(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "version": version,
                "proposedDueDate": form.get("date"), "reason": form.get("reason") } }),
        ),
        Action::DecideExtension => (
            "mutation($input: DecideExtensionInput!) { decideExtension(input: $input) { item { version } } }",
            json!({ "input": { "extensionRequestId": form.get("request"), "version": version,
                "approve": form.get("approve") == "1", "reason": reason,
                "beyondLeadDue": form.get("beyond") == "1" } }),
        ),
        Action::Reassign | Action::Insist => (
            "mutation($input: ResolveReturnInput!) { resolveReturn(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "version": version,
                "assignmentId": form.get("assignment"), "reason": form.get("reason"),
                "reassignToUnitId": Some(form.get("unit")).filter(|u| !u.is_empty()) } }),
        ),
        _ => return Err("该操作不能在此页面办理".into()),
    };
    Ok((action, query, variables))
}

#[handler]
pub async fn act(
    request: &Request,
    Path(raw): Path<String>,
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
    if let Some(refused) = forged(&viewer, &form) {
        return refused;
    }
    let Some(id) = item_number(&raw) else {
        return not_found(&viewer);
    };
    let (action, query, variables) = match mutation(id, &form) {
        Ok(m) => m,
        Err(why) => {
            return render(
                &schemas,
                &state,
                &viewer,
                id,
                None,
                Some(&why),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match run(&schemas, &state, &viewer, query, variables).await {
        Ok(_) => see_other(&format!("/items/{id}?done={}", action.name())),
        Err(failure) => {
            render(
                &schemas,
                &state,
                &viewer,
                id,
                None,
                Some(&failure.message),
                failure.status(),
            )
            .await
        }
    }
}
