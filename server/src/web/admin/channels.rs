//! `/admin/channels`: the channels a notice takes besides mail — group robots (企业微信/政务微信,
//! 钉钉) and webhooks of units and of the office, people's mobile numbers, the SMS platform.
//! Secrets are typed in and never shown again; a test message checks a new channel. The
//! office may read the page; only the administrator changes it.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::frame::{admin_posted, admin_reader, frame, rows};
use crate::channels::{ChannelKind, Level};
use crate::graphql::Schemas;
use crate::state::AppState;
use crate::web::fields::options;
use crate::web::view::{self, text};
use crate::web::viewer::{Form, Viewer, run};
use ducha_domain::Role;

const LIST: &str = "{ channels { id kind unitId personId name address hasSecret settings fromLevel enabled pausedUntil ratePerMinute createdAt }
  people { databaseId name role unit { name } } units { databaseId name } }";
const CREATE: &str = "mutation($input: CreateChannelInput!) { createChannel(input: $input) {
  channel { id name } generatedSecret } }";
const ENABLE: &str = "mutation($id: Int!, $enabled: Boolean!) { setChannelEnabled(id: $id, enabled: $enabled) { id } }";
const DELETE: &str = "mutation($id: Int!) { deleteChannel(id: $id) }";
const TEST: &str = "mutation($id: Int!) { testChannel(id: $id) }";

fn kind_label(code: &str) -> &'static str {
    ChannelKind::parse(code).map_or("未知", ChannelKind::label)
}

fn level_choices(default_red: bool) -> Vec<(String, String)> {
    let mut levels = [Level::All, Level::Yellow, Level::Red];
    if default_red {
        levels.reverse();
    }
    levels
        .into_iter()
        .map(|l| (l.as_str().to_string(), l.label().to_string()))
        .collect()
}

#[handler]
pub async fn page(request: &Request, state: Data<&AppState>, schemas: Data<&Schemas>) -> Response {
    let viewer = match admin_reader(request, &state, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    render(
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
pub async fn post(
    request: &Request,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match admin_posted(request, &state, body, false).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let id: i64 = form.get("id").parse().unwrap_or(0);
    let answer = match form.get("action") {
        "test" => run(&schemas, &state, &viewer, TEST, json!({ "id": id }))
            .await
            .map(|d| {
                format!(
                    "测试消息已排队（编号 {}），发送结果见“邮件与提醒”",
                    d["testChannel"]
                )
            }),
        "enable" | "disable" => {
            let enabled = form.get("action") == "enable";
            run(
                &schemas,
                &state,
                &viewer,
                ENABLE,
                json!({ "id": id, "enabled": enabled }),
            )
            .await
            .map(|_| {
                if enabled {
                    "渠道已启用"
                } else {
                    "渠道已停用"
                }
                .to_string()
            })
        }
        "delete" => run(&schemas, &state, &viewer, DELETE, json!({ "id": id }))
            .await
            .map(|_| "渠道已删除".to_string()),
        _ => run(
            &schemas,
            &state,
            &viewer,
            CREATE,
            json!({ "input": create_input(&form) }),
        )
        .await
        .map(|d| {
            let created = &d["createChannel"];
            match created["generatedSecret"].as_str() {
                Some(secret) => format!(
                    "已登记“{}”。签名密钥（仅显示这一次，请交给接收方保存）：{secret}",
                    text(&created["channel"]["name"])
                ),
                None => format!("已登记“{}”", text(&created["channel"]["name"])),
            }
        }),
    };
    match answer {
        Ok(done) => {
            render(
                &schemas,
                &state,
                &viewer,
                &Form::default(),
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
                &form,
                None,
                Some(&failure.message),
                failure.status(),
            )
            .await
        }
    }
}

/// The form's fields as `CreateChannelInput`: blank fields are left out.
fn create_input(form: &Form) -> Value {
    let mut input = serde_json::Map::new();
    let owner = form.get("owner").trim();
    match (owner.strip_prefix("unit:"), owner.strip_prefix("person:")) {
        (Some(unit), _) => {
            input.insert("unitId".into(), Value::from(unit));
        }
        (_, Some(person)) => {
            input.insert("personId".into(), Value::from(person));
        }
        // Anything else is passed on as it is, for the API to refuse.
        _ if !owner.is_empty() => {
            input.insert("unitId".into(), Value::from(owner));
        }
        _ => {}
    }
    for field in [
        "kind",
        "name",
        "address",
        "secret",
        "accessToken",
        "fromLevel",
        "accessKeyId",
        "signName",
        "templateCode",
        "templateParam",
        "bodyTemplate",
        "contentType",
        "successMarker",
        "authHeader",
    ] {
        let value = form.get(field);
        if !value.trim().is_empty() || field == "address" {
            input.insert(field.into(), Value::from(value));
        }
    }
    let rate = form.get("ratePerMinute").trim();
    if !rate.is_empty() {
        // A number goes as one; anything else as text, which the API refuses.
        let value = rate
            .parse::<i64>()
            .map_or_else(|_| Value::from(rate), Value::from);
        input.insert("ratePerMinute".into(), value);
    }
    Value::Object(input)
}

async fn render(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
    done: Option<&str>,
    error: Option<&str>,
    code: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, LIST, json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let units = rows(&data, "units");
    let people = rows(&data, "people");
    let unit_name = |id: &Value| {
        units
            .iter()
            .find(|u| u["databaseId"].as_i64() == id.as_i64())
            .map_or_else(
                || "（已删除的单位）".to_string(),
                |u| text(&u["name"]).to_string(),
            )
    };
    let person_name = |id: &Value| {
        people
            .iter()
            .find(|p| p["databaseId"].as_i64() == id.as_i64())
            .map_or_else(
                || "（已删除的人员）".to_string(),
                |p| text(&p["name"]).to_string(),
            )
    };
    let channels = rows(&data, "channels");
    let now = state.clock.now();
    let has_platform = channels.iter().any(|c| {
        ChannelKind::parse(text(&c["kind"])).is_some_and(ChannelKind::is_sms_platform)
            && c["enabled"].as_bool() == Some(true)
    });
    let has_phones = channels.iter().any(|c| text(&c["kind"]) == "SMS");
    let admin = viewer.actor.role == Role::Admin;
    let mut owners = vec![(String::new(), "督查室（全区）".to_string())];
    owners.extend(units.iter().map(|u| {
        (
            format!("unit:{}", u["databaseId"]),
            text(&u["name"]).to_string(),
        )
    }));
    let phone_owners: Vec<(String, String)> = people
        .iter()
        .map(|p| {
            let unit = text(&p["unit"]["name"]);
            (
                format!("person:{}", p["databaseId"]),
                if unit.is_empty() {
                    text(&p["name"]).to_string()
                } else {
                    format!("{}（{unit}）", text(&p["name"]))
                },
            )
        })
        .collect();
    let body = html! {
        h1 { "通知渠道" }
        p.sub { "邮件之外，提醒还可以发到单位和督查室的企业微信（政务微信）、钉钉工作群，发到本单位系统的 Webhook，以及个人手机短信。群机器人和短信在夜间和休息日会等到下一个工作日 8:30 再发，特急事项除外；邮件和 Webhook 随时发出。密钥保存后不再显示。" }
        (view::notice(done, error))
        @if has_phones && !has_platform {
            p.notice.error role="alert" { "已登记手机号，但尚未设置或已停用短信平台：短信提醒不会发出。" }
        }
        @if channels.is_empty() { p.empty { "还没有登记通知渠道。" } }
        table.list {
            thead { tr { th { "类型" } th { "归属" } th { "名称" } th { "地址" } th { "密钥" } th { "提醒范围" } th { "状态" } th { "" } } }
            tbody {
                @for c in &channels {
                    tr {
                        td data-label="类型" { (kind_label(text(&c["kind"]))) }
                        td data-label="归属" {
                            @if ChannelKind::parse(text(&c["kind"])).is_some_and(ChannelKind::is_sms_platform) { "全区短信平台" }
                            @else if !c["unitId"].is_null() { (unit_name(&c["unitId"])) }
                            @else if !c["personId"].is_null() { (person_name(&c["personId"])) }
                            @else { "督查室（全区）" }
                        }
                        td data-label="名称" { (text(&c["name"])) }
                        td data-label="地址" { span.sub { (text(&c["address"])) } }
                        td data-label="密钥" { @if c["hasSecret"].as_bool() == Some(true) { "已设置" } @else { "—" } }
                        td data-label="提醒范围" {
                            @if ChannelKind::parse(text(&c["kind"])).is_some_and(ChannelKind::is_sms_platform) { "—" }
                            @else { (Level::parse(text(&c["fromLevel"])).map_or("—", Level::label)) }
                            @if c["ratePerMinute"].as_i64().is_some_and(|r| r > 0) { span.sub { "（每分钟至多" (c["ratePerMinute"]) "条）" } }
                        }
                        td data-label="状态" {
                            @if c["enabled"].as_bool() != Some(true) { "停用" }
                            @else if !c["pausedUntil"].is_null() && paused(&c["pausedUntil"], now) {
                                "暂停至 " (view::time(&c["pausedUntil"])) span.sub { "（上一条未能发出，原因见邮件与提醒）" }
                            }
                            @else { "启用" }
                        }
                        td {
                            @if admin { (row_actions(viewer, c)) }
                        }
                    }
                }
            }
        }
        @if admin { (forms(viewer, form, &owners, &phone_owners)) }
    };
    frame(viewer, code, "/admin/channels", "通知渠道", body)
}

/// Whether a channel's pause still runs.
fn paused(until: &Value, now: chrono::DateTime<chrono::Utc>) -> bool {
    until
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| t > now)
}

fn row_actions(viewer: &Viewer, c: &Value) -> Markup {
    let enabled = c["enabled"].as_bool() == Some(true);
    let platform = ChannelKind::parse(text(&c["kind"])).is_some_and(ChannelKind::is_sms_platform);
    let button = |action: &str, label: &str| {
        html! {
            form.inline method="post" action="/admin/channels" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="id" value=(c["id"]);
                input type="hidden" name="action" value=(action);
                button.secondary type="submit" { (label) }
            }
        }
    };
    html! {
        @if enabled && !platform { (button("test", "发送测试")) }
        @if enabled { (button("disable", "停用")) } @else { (button("enable", "启用")) }
        (button("delete", "删除"))
    }
}

fn forms(
    viewer: &Viewer,
    form: &Form,
    owners: &[(String, String)],
    phone_owners: &[(String, String)],
) -> Markup {
    let robot_kinds: Vec<(String, String)> = [
        ChannelKind::WecomRobot,
        ChannelKind::DingtalkRobot,
        ChannelKind::Webhook,
    ]
    .into_iter()
    .map(|k| (k.as_str().to_string(), k.label().to_string()))
    .collect();
    let platform_kinds: Vec<(String, String)> = [ChannelKind::SmsAliyun, ChannelKind::SmsGateway]
        .into_iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    let kind = form.get("kind");
    let open_robot = robot_kinds.iter().any(|(k, _)| k == kind);
    let open_platform = platform_kinds.iter().any(|(k, _)| k == kind);
    html! {
        details open[open_robot] {
            summary { "添加群机器人或 Webhook" }
            form method="post" action="/admin/channels" autocomplete="off" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="action" value="create";
                div.row {
                    div {
                        label for="robot-kind" { "类型" }
                        select id="robot-kind" name="kind" { (options(&robot_kinds, kind)) }
                    }
                    div {
                        label for="robot-owner" { "归属（该单位收到的提醒发到这里）" }
                        select id="robot-owner" name="owner" { (options(owners, form.get("owner"))) }
                    }
                }
                label for="robot-name" { "名称" }
                input id="robot-name" name="name" maxlength="100" placeholder="如：住建局督办工作群" value=[open_robot.then(|| form.get("name"))];
                label for="robot-address" { "地址（可直接粘贴机器人的完整 Webhook 地址）" }
                input id="robot-address" name="address" required type="url" inputmode="url" placeholder="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…" value=[open_robot.then(|| form.get("address"))];
                div.row {
                    div {
                        label for="robot-secret" { "密钥（企业微信 key；钉钉“加签”密钥；Webhook 签名密钥，不填自动生成）" }
                        input id="robot-secret" name="secret" type="password" autocomplete="new-password";
                    }
                    div {
                        label for="robot-token" { "钉钉 access_token（地址中已含可不填）" }
                        input id="robot-token" name="accessToken" type="password" autocomplete="new-password";
                    }
                }
                div.row {
                    div {
                        label for="robot-level" { "提醒范围" }
                        select id="robot-level" name="fromLevel" { (options(&level_choices(false), form.get("fromLevel"))) }
                    }
                    div {
                        label for="robot-rate" { "每分钟最多（条，机器人默认20，0为不限）" }
                        input id="robot-rate" name="ratePerMinute" type="number" min="0" max="600" inputmode="numeric";
                    }
                }
                button type="submit" { "登记" }
            }
        }
        details open[kind == "SMS"] {
            summary { "登记人员手机号（短信）" }
            form method="post" action="/admin/channels" autocomplete="off" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="action" value="create";
                input type="hidden" name="kind" value="SMS";
                label for="sms-owner" { "人员" }
                select id="sms-owner" name="owner" { (options(phone_owners, form.get("owner"))) }
                div.row {
                    div {
                        label for="sms-phone" { "手机号" }
                        input id="sms-phone" name="address" required type="tel" inputmode="tel" maxlength="20" placeholder="13800000000" value=[(kind == "SMS").then(|| form.get("address"))];
                    }
                    div {
                        label for="sms-level" { "短信提醒范围" }
                        select id="sms-level" name="fromLevel" { (options(&level_choices(true), form.get("fromLevel"))) }
                    }
                }
                button type="submit" { "登记" }
            }
        }
        details open[open_platform] {
            summary { "设置短信平台" }
            form method="post" action="/admin/channels" autocomplete="off" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="action" value="create";
                label for="platform-kind" { "平台" }
                select id="platform-kind" name="kind" { (options(&platform_kinds, kind)) }
                label for="platform-address" { "接口地址（阿里云可不填）" }
                input id="platform-address" name="address" type="url" inputmode="url" placeholder="https://dysmsapi.aliyuncs.com/" value=[open_platform.then(|| form.get("address"))];
                label for="platform-secret" { "密钥（阿里云 AccessKey Secret；短信网关认证头的值）" }
                input id="platform-secret" name="secret" type="password" autocomplete="new-password";
                fieldset {
                    legend { "阿里云短信服务" }
                    div.row {
                        div { label for="ak" { "AccessKey ID" } input id="ak" name="accessKeyId" value=[open_platform.then(|| form.get("accessKeyId"))]; }
                        div { label for="sign-name" { "短信签名" } input id="sign-name" name="signName" value=[open_platform.then(|| form.get("signName"))]; }
                    }
                    div.row {
                        div { label for="template" { "模板编号" } input id="template" name="templateCode" placeholder="SMS_123456789" value=[open_platform.then(|| form.get("templateCode"))]; }
                        div { label for="template-param" { "模板变量名（默认 content）" } input id="template-param" name="templateParam" value=[open_platform.then(|| form.get("templateParam"))]; }
                    }
                }
                fieldset {
                    legend { "自建短信网关" }
                    label for="body-template" { "请求体模板（须含 {phone} 和 {text}）" }
                    input id="body-template" name="bodyTemplate" placeholder="{\"mobile\":\"{phone}\",\"content\":\"{text}\"}" value=[open_platform.then(|| form.get("bodyTemplate"))];
                    div.row {
                        div {
                            label for="content-type" { "请求体类型" }
                            select id="content-type" name="contentType" {
                                (options(&[("json".to_string(), "JSON".to_string()), ("form".to_string(), "表单（form）".to_string())], form.get("contentType")))
                            }
                        }
                        div { label for="success" { "应答中表示成功的文字（不填以 HTTP 2xx 为准）" } input id="success" name="successMarker" placeholder="\"code\":0" value=[open_platform.then(|| form.get("successMarker"))]; }
                    }
                    label for="auth-header" { "认证头名称（其值填在密钥中）" }
                    input id="auth-header" name="authHeader" placeholder="Authorization" value=[open_platform.then(|| form.get("authHeader"))];
                }
                button type="submit" { "保存短信平台" }
            }
        }
    }
}
