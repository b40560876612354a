//! What a reader may do on an item's page: the forms the domain's tables offer the reader now
//! (with what was typed, when a post was refused), and the mutation each form's post runs.

use maud::{Markup, html};
use serde_json::{Value, json};

use super::view::text;
use super::viewer::{Form, Viewer};
use ducha_domain::{Action, Stage};
/// The actions done on pages of their own (立项, 修改, 交办), which come back here.
pub(super) const FORM_PAGES: [Action; 3] = [Action::Register, Action::Edit, Action::Assign];

/// Whether an item page's forms post `action`: every action of the domain's table
/// (`Action::ALL`) but those with pages of their own, and 坚持交办, which is the other
/// answer of the 退回 form posted as 重新交办.
pub(super) fn posted_here(action: Action) -> bool {
    !FORM_PAGES.contains(&action) && action != Action::Insist
}

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
    // 延期审批 and 重新交办 are offered beside the request and the return they answer.
    Action::ALL
        .into_iter()
        .filter(|a| posted_here(*a) && !matches!(a, Action::DecideExtension | Action::Reassign))
        .filter(|a| possible(*a))
        .filter(|a| match a {
            Action::Sign | Action::Return => active && !signed,
            Action::RequestExtension => active,
            Action::ReportProgress => own.is_some(),
            Action::SubmitFeedback => lead && signed && active,
            Action::ReportUpward => {
                !item["upstreamDocument"].is_null() && item["reportedUpwardAt"].is_null()
            }
            _ => true,
        })
        .collect()
}

pub(super) fn hidden(viewer: &Viewer, item: &Value, action: Action) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(viewer.csrf());
        input type="hidden" name="version" value=(item["version"]);
        input type="hidden" name="action" value=(action.name());
    }
}

/// What was typed into the form of one action, kept when it was refused.
#[derive(Clone, Copy)]
pub(super) struct Typed<'a> {
    pub action: Action,
    pub form: &'a Form,
}

impl Typed<'_> {
    fn of(typed: Option<Typed<'_>>, action: Action, field: &str) -> String {
        typed
            .filter(|t| t.action == action)
            .map(|t| t.form.get(field).to_string())
            .unwrap_or_default()
    }

    fn open(typed: Option<Typed<'_>>, action: Action) -> bool {
        typed.is_some_and(|t| t.action == action)
    }
}

/// A file input for a report's attachments: the limit told, and checked by the script.
fn files_input(id: &str) -> Markup {
    let max = crate::service::items::attachments::MAX_ATTACHMENT_BYTES;
    html! {
        label for=(id) { "附件（可多选，每个不超过" (max / 1024 / 1024) "MB，最多"
            (crate::service::items::attachments::MAX_FILES_PER_REPORT) "个）" }
        input id=(id) name="files" type="file" multiple data-max-bytes=(max);
    }
}

pub(super) fn actions(
    viewer: &Viewer,
    item: &Value,
    units: &Value,
    typed: Option<Typed<'_>>,
) -> Markup {
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
    let kept = |action: Action, field: &str| Typed::of(typed, action, field);
    let open = |action: Action| Typed::open(typed, action);
    html! {
        section.actions aria-label="可办理的操作" {
            h2 { "办理" }
            @if assigns { a.button.primary href={ "/items/" (id) "/assign" } { "交办" } " " }
            @if edits { a.button href={ "/items/" (id) "/edit" } { "修改" } " " }
            @for action in &offered {
                @let action = *action;
                @match action {
                    Action::Close => {
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="reason-close" { "销号意见（可不填）" }
                                textarea id="reason-close" name="reason" rows="2" maxlength="2000" { (kept(action, "reason")) }
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
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="verify-reason" { "核查意见（可不填）" }
                                textarea id="verify-reason" name="reason" rows="2" { (kept(action, "reason")) }
                                button type="submit" { "确认核查通过" }
                            }
                        }
                    }
                    Action::ReportProgress | Action::SubmitFeedback => {
                        @let field = format!("body-{}", action.name().to_lowercase());
                        @let files = format!("files-{}", action.name().to_lowercase());
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(action_url) enctype="multipart/form-data" {
                                (hidden(viewer, item, action))
                                label for=(field) { @if action == Action::SubmitFeedback { "办结情况" } @else { "进展情况" } }
                                textarea id=(field) name="body" rows="5" required maxlength="20000" { (kept(action, "body")) }
                                (files_input(&files))
                                button type="submit" { "提交" (action.label()) }
                            }
                        }
                    }
                    Action::ReportUpward => {
                        details open[open(action)] { summary { (action.label()) }
                            p { a href={ "/items/" (id) "/upward" } { "查看并打印落实情况报告" } }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="upward-note" { "上报说明（报送方式、文号等，可不填）" }
                                textarea id="upward-note" name="reason" rows="2" maxlength="2000" { (kept(action, "reason")) }
                                button type="submit" { "确认已上报" }
                            }
                        }
                    }
                    Action::Instruct => {
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="instruction-body" { "批示内容（将通知各承办单位）" }
                                textarea id="instruction-body" name="body" rows="4" required maxlength="20000" { (kept(action, "body")) }
                                button type="submit" { "发出批示" }
                            }
                        }
                    }
                    Action::Urge => {
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="urge-message" { "催办内容（将通知仍在办理的承办单位）" }
                                textarea id="urge-message" name="reason" rows="2" required maxlength="2000" { (kept(action, "reason")) }
                                div.check {
                                    input id="urge-insist" type="checkbox" name="insist" value="1" checked[kept(action, "insist") == "1"];
                                    label for="urge-insist" { "今日已催办仍发送" }
                                }
                                button type="submit" { "发出催办" }
                            }
                        }
                    }
                    Action::RequestExtension => {
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for="ext-date" { "申请延至" }
                                input id="ext-date" name="date" type="date" required value=(kept(action, "date"));
                                @if kept(action, "rest_day") == "1" {
                                    div.check {
                                        input id="ext-rest-day" type="checkbox" name="rest_day_ok" value="1";
                                        label for="ext-rest-day" { "所选日期是休息日，仍按此日期申请" }
                                    }
                                }
                                label for="ext-reason" { "理由" }
                                textarea id="ext-reason" name="reason" rows="3" required { (kept(action, "reason")) }
                                button type="submit" { "提交延期申请" }
                            }
                        }
                    }
                    _ => {
                        @let field = format!("reason-{}", action.name().to_lowercase());
                        details open[open(action)] { summary { (action.label()) }
                            form method="post" action=(action_url) {
                                (hidden(viewer, item, action))
                                label for=(field) { (action.label()) "理由" }
                                textarea id=(field) name="reason" rows="3" required { (kept(action, "reason")) }
                                // A 回头看 sets the new rectification due (docs/rules.md §1).
                                @if action == Action::Reopen {
                                    label for="reopen-due" { "整改期限（自现在起算，如“10个工作日”“15天”，或日期“2026-12-31”）" }
                                    input id="reopen-due" name="rectification" required value=(kept(action, "rectification"));
                                }
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
                        textarea id="reassign-reason" name="reason" rows="2" required { (kept(Action::Reassign, "reason")) }
                        button type="submit" { "处理退回" }
                    }
                }
            }
        }
    }
}

/// The mutation a form's action runs, and its variables.
pub(super) fn mutation(item_id: i64, form: &Form) -> Result<(Action, &'static str, Value), String> {
    let version: i64 = form
        .get("version")
        .parse()
        .map_err(|_| "表单缺少版本号，请刷新页面后重试".to_string())?;
    let action = Action::parse(form.get("action"))
        .filter(|a| posted_here(*a))
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
        Action::ReportUpward => (
            "mutation($input: ItemReasonInput!) { reportUpward(input: $input) { item { version } } }",
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
            "mutation($input: ReopenItemInput!) { reopenItem(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "version": version, "reason": form.get("reason"),
                "rectificationDue": form.get("rectification") } }),
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
                "beyondLeadDue": form.get("beyond") == "1",
                "keepCoUnitDues": form.get("keep_co") == "1" } }),
        ),
        Action::Urge => (
            "mutation($input: UrgeItemInput!) { urgeItem(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "message": form.get("reason"),
                "insist": form.get("insist") == "1" } }),
        ),
        Action::Instruct => (
            "mutation($input: WriteInstructionInput!) { writeInstruction(input: $input) { item { version } } }",
            json!({ "input": { "itemId": item_id, "body": form.get("body") } }),
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

/// The follow button of an item's heading, for those who may follow.
pub(super) fn follow_button(viewer: &Viewer, item: &Value) -> Markup {
    if !viewer.actor.role.sees_everything() {
        return html! {};
    }
    let followed = item["followedByMe"].as_bool() == Some(true);
    html! {
        form.inline method="post" action={ "/items/" (item["databaseId"]) "/follow" } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="follow" value=(if followed { "0" } else { "1" });
            button.secondary type="submit" aria-pressed=(followed) {
                @if followed { "★ 已关注（取消）" } @else { "☆ 关注" }
            }
        }
    }
}
