//! `/items/N`, the page every mail links to: the item's facts, each assignment's due with the
//! deadline's explanation and colour, reports with their files, extension requests, the
//! timeline from the audit trail, and the actions the reader may take now (`item_forms`; their
//! posts are `item_post`'s).

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::item_forms::{FORM_PAGES, Typed, actions, follow_button, hidden, posted_here};
use super::tasks::TaskTyped;
use super::view::{self, Nav, colour_badge, text};
use super::viewer::{Viewer, run};
use crate::graphql::Schemas;
use crate::state::AppState;
use ducha_domain::{Action, Duty};

const ITEM_QUERY: &str = "query($id: ID!) { item(id: $id) {
  databaseId version serial title requirements sourceKind sourceReference urgency stage
  colour colourReason deadlineRule createdAt assignedAt closedAt reportCycleDays reportCycleUnit
  responsibleLeader { name }
  deadlineExplanation { dueAt explanation { summary crossed { date name } } }
  assignments { id databaseId lead status dueAt effectiveDueAt extendedDueAt signedAt colour
    colourReason returnReason provisional unit { databaseId name } }
  extensionRequests { databaseId assignmentId proposedDueAt reason decision decisionReason decidedAt createdAt
    workingDaysAdded needsLeader }
  reports { databaseId kind body createdAt author { name } verdict verdictReason
    attachments { databaseId fileName size } }
  auditTrail { at action actor { name } fromStage toStage reason assignmentId details }
  instructions { body createdAt authorName }
  files { databaseId fileName size }
  followedByMe upstreamDocument upstreamDueAt upstreamBufferWorkingDays reportedUpwardAt
  TASKS
} me { unit { databaseId subUnits { databaseId } } } }";

const UNITS_QUERY: &str = "{ units { databaseId name } }";

/// The item's number in the address: the number mails link to, or the API's global id.
pub(super) fn item_number(raw: &str) -> Option<i64> {
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
    Path(raw): Path<String>,
    Query(done): Query<Done>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    viewer: Viewer,
) -> Response {
    let Some(id) = item_number(&raw) else {
        return not_found(&viewer);
    };
    let said = done
        .done
        .as_deref()
        .and_then(|done| {
            Action::parse(done)
                .filter(|a| posted_here(*a) || FORM_PAGES.contains(a))
                .map(Action::label)
                .or_else(|| ducha_domain::tasks::TaskAction::parse(done).map(|a| a.label()))
        })
        .map(|label| format!("{label}：已完成"));
    render(
        &schemas,
        &state,
        &viewer,
        id,
        said.as_deref(),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

pub(super) fn not_found(viewer: &Viewer) -> Response {
    view::problem(
        Some(viewer),
        StatusCode::NOT_FOUND,
        "事项不存在",
        "该事项不存在，或您无权查看。",
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn render(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    ok: Option<&str>,
    error: Option<&str>,
    typed: Option<Typed<'_>>,
    status: StatusCode,
) -> Response {
    let said = Said {
        ok,
        error,
        typed,
        task_typed: None,
    };
    render_said(schemas, state, viewer, id, said, status).await
}

/// The page again after a task's form was refused, with what was typed in it.
pub(super) async fn render_with_task(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    error: &str,
    typed: TaskTyped<'_>,
    status: StatusCode,
) -> Response {
    let said = Said {
        ok: None,
        error: Some(error),
        typed: None,
        task_typed: Some(typed),
    };
    render_said(schemas, state, viewer, id, said, status).await
}

/// What the page says above its content, and what was typed into a refused form.
struct Said<'a> {
    ok: Option<&'a str>,
    error: Option<&'a str>,
    typed: Option<Typed<'a>>,
    task_typed: Option<TaskTyped<'a>>,
}

async fn render_said(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    said: Said<'_>,
    status: StatusCode,
) -> Response {
    let Said {
        ok,
        error,
        typed,
        task_typed,
    } = said;
    let query = ITEM_QUERY.replace("TASKS", super::tasks::TASK_FIELDS);
    let data = match run(schemas, state, viewer, &query, json!({ "id": id })).await {
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
        div.heading {
            h1 { (text(&item["title"])) " " (colour_badge(&item["colour"], &item["colourReason"])) }
            (follow_button(viewer, item))
            @if ducha_domain::Action::Assign.allowed_for(viewer.actor.role) {
                a.button href={ "/items/print?item=" (item["databaseId"]) } { "打印督办通知单" }
            }
        }
        (view::notice(ok, error))
        (instructions(item))
        (facts(item))
        (assignments(item))
        (hand_down_link(viewer, item, &data["me"]))
        (super::tasks::section(viewer, item, task_typed, has_sub_units(&data["me"])))
        (actions(viewer, item, &units, typed))
        (extensions(viewer, item))
        (reports(item))
        (timeline(item))
    };
    view::respond(status, view::page(Some(viewer), Nav::Items, &title, body))
}

fn facts(item: &Value) -> Markup {
    let explanation = &item["deadlineExplanation"]["explanation"];
    // The lead unit's extension, if it has one: the due people now work to comes first.
    let extended = item["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| {
            a["lead"].as_bool() == Some(true)
                && text(&a["status"]) != "WITHDRAWN"
                && !a["extendedDueAt"].is_null()
        });
    html! {
        dl.facts {
            dt { "督办编号" } dd { (text(&item["serial"])) }
            dt { "阶段" } dd { (view::stage_label(text(&item["stage"]))) }
            dt { "颜色" } dd { (colour_badge(&item["colour"], &item["colourReason"])) " " (text(&item["colourReason"])) }
            dt { "紧急程度" } dd { (super::fields::urgency_label(text(&item["urgency"]))) }
            dt { "来源" } dd { (view::source_label(text(&item["sourceKind"]))) "　" (text(&item["sourceReference"])) }
            @if !item["upstreamDocument"].is_null() {
                dt { "上级来文" } dd { (text(&item["upstreamDocument"])) }
                dt { "上级期限" } dd {
                    strong { (view::time(&item["upstreamDueAt"])) }
                    div.sub { "本区期限比上级期限提前" (item["upstreamBufferWorkingDays"]) "个工作日，留出汇总上报的时间" }
                }
                dt { "上报上级" } dd {
                    @if item["reportedUpwardAt"].is_null() { "未上报" } @else { "已于 " (view::time(&item["reportedUpwardAt"])) " 上报" }
                    " " a href={ "/items/" (item["databaseId"]) "/upward" } { "落实情况报告" }
                }
            }
            dt { "办理期限" } dd {
                @match extended {
                    Some(lead) => {
                        strong { "延期至 " (view::time(&lead["extendedDueAt"])) }
                        "（原定 " (view::time(&item["deadlineExplanation"]["dueAt"])) "，" (text(&item["deadlineRule"])) "）"
                    }
                    None => { (text(&item["deadlineRule"])) "，至 " strong { (view::time(&item["deadlineExplanation"]["dueAt"])) } }
                }
                div.sub { (text(&explanation["summary"])) }
            }
            @if !item["responsibleLeader"].is_null() {
                dt { "责任领导" } dd { (text(&item["responsibleLeader"]["name"])) }
            }
            @if let Some(days) = item["reportCycleDays"].as_i64() {
                dt { "进展报送" } dd {
                    "每" (days) @if text(&item["reportCycleUnit"]) == "WORKING_DAYS" { "个工作日" } @else { "天" } "报送一次"
                }
            }
            dt { "立项时间" } dd { (view::time(&item["createdAt"])) }
            @let files: Vec<&Value> = item["files"].as_array().into_iter().flatten().collect();
            @if !files.is_empty() {
                dt { "立项附件" }
                dd {
                    ul.files {
                        @for f in files {
                            li { a href={ "/items/" (item["databaseId"]) "/files/" (f["databaseId"]) } { (text(&f["fileName"])) } " (" (f["size"].as_i64().unwrap_or(0) / 1024 + 1) " KB)" }
                        }
                    }
                }
            }
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
    // A sub-unit reads the item by its task, and no unit's part (docs/rules.md §8).
    if item["assignments"].as_array().is_none_or(Vec::is_empty)
        && text(&item["stage"]) != "REGISTERED"
    {
        return html! {};
    }
    html! {
        section {
            h2 { "承办单位" }
            table.list {
                thead { tr { th { "单位" } th { "主/协办" } th { "状态" } th { "期限" } th { "原定期限" } th { "签收" } th { "颜色" } } }
                tbody {
                    @for a in item["assignments"].as_array().into_iter().flatten() {
                        tr class=[(text(&a["status"]) == "WITHDRAWN").then_some("withdrawn")] {
                            td data-label="单位" { (text(&a["unit"]["name"])) }
                            td data-label="主/协办" { @if a["lead"].as_bool() == Some(true) { "主办" } @else { "协办" } }
                            td data-label="状态" {
                                @match text(&a["status"]) {
                                    "ACTIVE" => { (view::stage_label(text(&item["stage"]))) }
                                    other => { (view::assignment_status_label(other)) }
                                }
                                @if !a["returnReason"].is_null() { div.sub { "退回理由：" (text(&a["returnReason"])) } }
                            }
                            td data-label="期限" {
                                strong { (view::time(&a["effectiveDueAt"])) }
                                @if !a["extendedDueAt"].is_null() { div.sub { "已延期" } }
                                @if a["provisional"].as_bool() == Some(true) { div.sub { "含未公布放假安排的年份，期限为暂定" } }
                            }
                            td data-label="原定期限" { (view::time(&a["dueAt"])) }
                            td data-label="签收" { @if a["signedAt"].is_null() { "未签收" } @else { (view::time(&a["signedAt"])) } }
                            td data-label="颜色" { (colour_badge(&a["colour"], &a["colourReason"])) div.sub { (text(&a["colourReason"])) } }
                        }
                    }
                }
            }
        }
    }
}

/// Whether the reader's unit has sub-units.
fn has_sub_units(me: &Value) -> bool {
    me["unit"]["subUnits"]
        .as_array()
        .is_some_and(|s| !s.is_empty())
}

/// 分解 / 转办, for the head of a unit whose signed part runs and that has sub-units.
fn hand_down_link(viewer: &Viewer, item: &Value, me: &Value) -> Markup {
    let has_sub_units = has_sub_units(me);
    let runs = matches!(
        text(&item["stage"]),
        "ASSIGNED" | "IN_PROGRESS" | "FEEDBACK_SUBMITTED"
    );
    let signed_part = item["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| {
            a["unit"]["databaseId"] == me["unit"]["databaseId"]
                && text(&a["status"]) == "ACTIVE"
                && !a["signedAt"].is_null()
        });
    if !(viewer.actor.role == ducha_domain::Role::UnitHead && has_sub_units && runs && signed_part)
    {
        return html! {};
    }
    html! {
        p.actions {
            a.button href={ "/items/" (item["databaseId"]) "/split" } { "分解或转办给下级单位" }
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
    let approves_long = Duty::ApproveLongExtension.allowed_for(viewer.actor.role);
    let id = item["databaseId"].as_i64().unwrap_or_default();
    let has_co_units = item["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["lead"].as_bool() == Some(false));
    html! {
        section {
            h2 { "延期申请" }
            ul.records {
                @for r in requests {
                    li {
                        @let asker = item["assignments"].as_array().into_iter().flatten()
                            .find(|a| a["id"] == r["assignmentId"]);
                        @if let Some(a) = asker {
                            strong { (text(&a["unit"]["name"])) @if a["lead"].as_bool() == Some(true) { "（主办）" } @else { "（协办）" } } "："
                        }
                        "申请延至 " (view::time(&r["proposedDueAt"])) "（延长" (r["workingDaysAdded"]) "个工作日），理由：" (text(&r["reason"]))
                        @let long = r["needsLeader"].as_bool() == Some(true);
                        @if long && r["decision"].is_null() { div.sub { "超过督查室权限（10个工作日），须由区领导批准" } }
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
                                // Only a co-unit's request can run past the lead's due.
                                @if asker.is_some_and(|a| a["lead"].as_bool() == Some(false)) {
                                    div.check {
                                        input id={ (field) "-beyond" } type="checkbox" name="beyond" value="1";
                                        label for={ (field) "-beyond" } { "同意协办单位期限晚于主办单位" }
                                    }
                                }
                                // The lead's extension carries the co-units along unless the
                                // office keeps their dues (docs/rules.md §2).
                                @if asker.is_some_and(|a| a["lead"].as_bool() == Some(true)) && has_co_units {
                                    div.check {
                                        input id={ (field) "-keep" } type="checkbox" name="keep_co" value="1";
                                        label for={ (field) "-keep" } { "协办单位期限不随之顺延（默认按相同工作日数顺延）" }
                                    }
                                }
                                @if !long || approves_long {
                                    button type="submit" name="approve" value="1" { "批准延期" }
                                    " "
                                }
                                button type="submit" name="approve" value="0" { "不批准" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Leaders' instructions, at the top: what a leader said decides how the item is handled.
fn instructions(item: &Value) -> Markup {
    let said: Vec<&Value> = item["instructions"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    if said.is_empty() {
        return html! {};
    }
    html! {
        section.instructions aria-label="领导批示" {
            h2 { "领导批示" }
            ul.records {
                @for i in said {
                    li {
                        p.prose { (text(&i["body"])) }
                        div.sub { (text(&i["authorName"])) "　" (view::time(&i["createdAt"])) }
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

/// The task a row of the trail is about (its details name it, or a task notice's level).
fn task_of(e: &Value) -> Option<i64> {
    e["details"]["taskId"].as_i64().or_else(|| {
        text(&e["details"]["level"])
            .strip_prefix("TASK ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
    })
}

fn timeline(item: &Value) -> Markup {
    html! {
        section {
            h2 { "办理过程" }
            ol.timeline {
                @for e in item["auditTrail"].as_array().into_iter().flatten() {
                    // The unit a row is about: a task's (分解, 签收子任务…, and its notices),
                    // else the part's (交办, 签收, 报送…), by its assignment.
                    @let task_unit = task_of(e).and_then(|task| {
                        item["tasks"].as_array().into_iter().flatten()
                            .find(|t| t["databaseId"].as_i64() == Some(task))
                            .map(|t| text(&t["unit"]["name"]))
                    });
                    @let unit = (!e["assignmentId"].is_null())
                        .then(|| item["assignments"].as_array().into_iter().flatten().find(|a| a["id"] == e["assignmentId"]))
                        .flatten()
                        .map(|a| text(&a["unit"]["name"]));
                    li {
                        (view::time(&e["at"])) "　"
                        strong { (view::action_label(text(&e["action"]))) }
                        // A notice names the unit it went to.
                        @let notified = e["details"]["unitName"].as_str();
                        @if let Some(name) = notified.or(task_unit).or(unit) { "（" (name) "）" }
                        @if !e["actor"].is_null() { "　" (text(&e["actor"]["name"])) }
                        @if !e["toStage"].is_null() && e["toStage"] != e["fromStage"] {
                            "　" (view::stage_label(text(&e["fromStage"]))) " → " (view::stage_label(text(&e["toStage"])))
                        }
                        @if !e["reason"].is_null() { div.sub { (text(&e["reason"])) } }
                        // A task's extension: what was asked, and what was decided.
                        // (A task's decision keeps `newDueAt`; an item's, `extendedDueAt` when approved.)
                        @let decided_due = [&e["details"]["newDueAt"], &e["details"]["extendedDueAt"]]
                            .into_iter()
                            .find(|due| due.is_string());
                        @match (e["details"]["approved"].as_bool(), decided_due) {
                            (Some(true), Some(due)) => { div.sub { "同意延期，期限延至 " (view::time(due)) } }
                            (Some(true), None) => { div.sub { "同意延期" } }
                            (Some(false), Some(due)) if text(&e["action"]) != "DECIDE_EXTENSION" => {
                                div.sub { "不同意延期，期限仍为 " (view::time(due)) }
                            }
                            (Some(false), _) => { div.sub { "不同意延期" } }
                            (None, _) if text(&e["action"]) == "REQUEST_TASK_EXTENSION" => {
                                div.sub { "申请延至 " (view::time(&e["details"]["requestedDueAt"])) }
                            }
                            (None, _) => {}
                        }
                    }
                }
            }
        }
    }
}
