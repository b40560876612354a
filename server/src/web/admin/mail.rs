//! `/admin/mail`: the mail queue — pending and failed mail with their errors, requeueing the
//! failed, and delivering what is due now (also what waits to be retried, once the relay is
//! back) — and the reminder sweeps: the last scheduled runs, and one run now. For the
//! administrator and the office.

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::json;

use super::frame::{admin_posted, admin_reader, frame, rows};
use crate::graphql::Schemas;
use crate::state::AppState;
use crate::web::view::{self, text};
use crate::web::viewer::{Viewer, run};

const OUTBOX: &str = "query($status: String) { outbox(status: $status, first: 200) {
  id channel recipient subject status attempts lastError createdAt nextAttemptAt sentAt } }";
const REQUEUE: &str = "mutation($ids: [Int!]!) { requeueOutbox(ids: $ids) { requeued } }";
const DELIVER: &str =
    "mutation($retry: Boolean!) { deliverOutbox(retryNow: $retry) { sent failed retried } }";
const SWEEP: &str = "mutation { runSweep { ran assignments notices emails } }";
const SWEEPS: &str = "{ sweepRuns(first: 10) { slotAt ranAt holder notices } }";

const STATUSES: [(&str, &str); 4] = [
    ("", "全部"),
    ("PENDING", "待发"),
    ("FAILED", "失败"),
    ("SENT", "已发"),
];

#[derive(Deserialize)]
pub struct Filter {
    status: Option<String>,
}

fn channel_label(code: &str) -> &'static str {
    match code {
        "MAIL" | "" => "邮件",
        "WECOM_ROBOT" => "企业微信",
        "DINGTALK_ROBOT" => "钉钉",
        "WEBHOOK" => "Webhook",
        "SMS" => "短信",
        _ => "其他",
    }
}

fn status_label(code: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("—", |(_, l)| l)
}

#[handler]
pub async fn page(
    request: &Request,
    Query(filter): Query<Filter>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match admin_reader(request, &state, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let status = filter.status.unwrap_or_default();
    render(
        &schemas,
        &state,
        &viewer,
        &status,
        None,
        None,
        StatusCode::OK,
    )
    .await
}

#[handler]
pub async fn post(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match admin_posted(request, &state, body, true).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let answer = if form.get("action") == "sweep" {
        run(&schemas, &state, &viewer, SWEEP, json!({}))
            .await
            .map(|d| {
                let r = &d["runSweep"];
                if r["ran"].as_bool() == Some(true) {
                    format!(
                        "提醒扫描已完成：检查 {} 个交办，写出 {} 条提醒、{} 封邮件",
                        r["assignments"], r["notices"], r["emails"]
                    )
                } else {
                    "另一实例正在扫描，本次未执行；请稍后再试".to_string()
                }
            })
    } else if form.get("action") == "requeue" {
        let ids: Vec<i64> = form
            .all("id")
            .iter()
            .filter_map(|i| i.parse().ok())
            .collect();
        run(&schemas, &state, &viewer, REQUEUE, json!({ "ids": ids }))
            .await
            .map(|d| format!("已重新排队 {} 封邮件", d["requeueOutbox"]["requeued"]))
    } else {
        run(
            &schemas,
            &state,
            &viewer,
            DELIVER,
            json!({ "retry": form.get("retry") == "1" }),
        )
        .await
        .map(|d| {
            let r = &d["deliverOutbox"];
            format!(
                "已投递 {} 条，失败 {} 条，重试 {} 条",
                r["sent"], r["failed"], r["retried"]
            )
        })
    };
    let status = form.get("status").to_string();
    match answer {
        Ok(done) => {
            render(
                &schemas,
                &state,
                &viewer,
                &status,
                Some(&done),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(failure) => {
            render(
                &schemas,
                &state,
                &viewer,
                &status,
                None,
                Some(&failure.message),
                failure.status(),
            )
            .await
        }
    }
}

async fn render(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    status: &str,
    done: Option<&str>,
    error: Option<&str>,
    code: StatusCode,
) -> Response {
    let wanted = Some(status).filter(|s| !s.is_empty());
    let data = match run(schemas, state, viewer, OUTBOX, json!({ "status": wanted })).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let mail = rows(&data, "outbox");
    let sweeps = run(schemas, state, viewer, SWEEPS, json!({}))
        .await
        .unwrap_or(serde_json::Value::Null);
    let failed = mail.iter().any(|m| text(&m["status"]) == "FAILED");
    let body = html! {
        h1 { "邮件与提醒" }
        (view::notice(done, error))
        nav.jump aria-label="按状态" {
            @for (code, label) in STATUSES {
                a href={ "/admin/mail" @if !code.is_empty() { "?status=" (code) } } aria-current=[(code == status).then_some("page")] { (label) }
            }
        }
        form.inline method="post" action="/admin/mail" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="status" value=(status);
            input type="hidden" name="action" value="deliver";
            div.check {
                input type="checkbox" id="retry" name="retry" value="1";
                label for="retry" { "等待重试和暂停中的消息也立即重试（邮件服务器或对方已恢复时；夜间等待的机器人和短信也随之发出）" }
            }
            button type="submit" { "立即投递" }
        }
        @if failed {
            form.inline method="post" action="/admin/mail" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="status" value=(status);
                input type="hidden" name="action" value="requeue";
                button.secondary type="submit" { "全部失败邮件重新排队" }
            }
        }
        section aria-label="提醒扫描" {
            h2 { "提醒扫描" }
            p.sub { "每个工作日按计划扫描，到期、逾期和进展报送的提醒由此写出；错过的扫描在服务恢复后补做。下列为按计划执行的扫描，“立即扫描”的结果显示在页首。" }
            ul.records {
                @for s in rows(&sweeps, "sweepRuns") {
                    li { "计划 " (view::time(&s["slotAt"])) "，执行 " (view::time(&s["ranAt"])) "，提醒 " (s["notices"]) " 条" span.sub { "　" (text(&s["holder"])) } }
                }
            }
            form.inline method="post" action="/admin/mail" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="status" value=(status);
                input type="hidden" name="action" value="sweep";
                button.secondary type="submit" { "立即扫描" }
            }
        }
        h2 { "邮件" }
        @if mail.is_empty() { p.empty { "没有邮件。" } }
        table.list {
            thead { tr { th { "编号" } th { "渠道" } th { "收件人" } th { "主题" } th { "状态" } th { "尝试" } th { "错误" } th { "时间" } th { "" } } }
            tbody {
                @for m in &mail {
                    tr {
                        td data-label="编号" { (m["id"]) }
                        td data-label="渠道" { (channel_label(text(&m["channel"]))) }
                        td data-label="收件人" { (text(&m["recipient"])) }
                        td data-label="主题" { (text(&m["subject"])) }
                        td data-label="状态" { (status_label(text(&m["status"]))) }
                        td data-label="尝试" { (m["attempts"]) }
                        td data-label="错误" { span.sub { (text(&m["lastError"])) } }
                        td data-label="时间" {
                            @if m["sentAt"].is_null() { "下次 " (view::time(&m["nextAttemptAt"])) } @else { "发出 " (view::time(&m["sentAt"])) }
                        }
                        td {
                            @if text(&m["status"]) == "FAILED" {
                                form method="post" action="/admin/mail" {
                                    input type="hidden" name="csrf" value=(viewer.csrf());
                                    input type="hidden" name="status" value=(status);
                                    input type="hidden" name="action" value="requeue";
                                    input type="hidden" name="id" value=(m["id"]);
                                    button.secondary type="submit" { "重新排队" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    frame(viewer, code, "/admin/mail", "邮件与提醒", body)
}
