//! `/admin/policy`: the colour policy in force, a form to change it (the service validates
//! every threshold and keeps each version), and the earlier versions side by side.

use maud::html;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::{Map, Value, json};

use super::frame::{admin_posted, admin_reader, frame, rows};
use crate::graphql::Schemas;
use crate::state::AppState;
use crate::web::fields::Refusal;
use crate::web::view;
use crate::web::viewer::{Form, Viewer, run};

const RULES: &str = "blueWithinWorkingDays redAfterOverdueWorkingDays yellowRejections
  redRejections reopenIsRed countProgressReports unitBlueBelowPercent unitYellowBelowPercent
  unitRedBelowPercent unitMinClosedForRate unitBlueSharePercent unitYellowSharePercent
  unitRedSharePercent unitShareMinItems onTimeWindowDays taskBufferWorkingDays upstreamBufferWorkingDays";

/// Each threshold: its API name, its words, and what kind of value it takes.
enum Kind {
    Count,
    Percent,
    Switch,
}

const FIELDS: [(&str, &str, Kind); 17] = [
    (
        "blueWithinWorkingDays",
        "到期前多少个工作日内为蓝色",
        Kind::Count,
    ),
    (
        "redAfterOverdueWorkingDays",
        "逾期超过多少个工作日为红色（以内为黄色）",
        Kind::Count,
    ),
    ("yellowRejections", "退回重办几次为黄色", Kind::Count),
    ("redRejections", "退回重办几次为红色", Kind::Count),
    ("reopenIsRed", "回头看重新打开为红色", Kind::Switch),
    (
        "countProgressReports",
        "计入进展报告的到期与逾期",
        Kind::Switch,
    ),
    (
        "unitBlueBelowPercent",
        "单位按时办结率低于（%）为蓝色",
        Kind::Percent,
    ),
    (
        "unitYellowBelowPercent",
        "单位按时办结率低于（%）为黄色",
        Kind::Percent,
    ),
    (
        "unitRedBelowPercent",
        "单位按时办结率低于（%）为红色",
        Kind::Percent,
    ),
    (
        "unitMinClosedForRate",
        "按时办结率至少有几件办结才计入单位颜色",
        Kind::Count,
    ),
    (
        "unitBlueSharePercent",
        "红黄事项占在办事项达到（%）为蓝色",
        Kind::Percent,
    ),
    (
        "unitYellowSharePercent",
        "红黄事项占在办事项达到（%）为黄色",
        Kind::Percent,
    ),
    (
        "unitRedSharePercent",
        "红色事项占在办事项达到（%）为红色",
        Kind::Percent,
    ),
    (
        "unitShareMinItems",
        "按比例判定黄色、红色时相应事项至少几个",
        Kind::Count,
    ),
    (
        "onTimeWindowDays",
        "按时办结率的统计窗口（天，看板与月度通报相同）",
        Kind::Count,
    ),
    (
        "taskBufferWorkingDays",
        "分解、转办的子任务默认比上级期限提前（工作日）",
        Kind::Count,
    ),
    (
        "upstreamBufferWorkingDays",
        "上级交办事项的本区期限默认比上级期限提前（工作日）",
        Kind::Count,
    ),
];

fn query() -> String {
    format!(
        "{{ colourPolicy {{ version rules {{ {RULES} }} }}
            colourPolicyVersions {{ version createdAt rules {{ {RULES} }} }} }}"
    )
}

const UPDATE: &str =
    "mutation($input: ColourPolicyInput!) { updateColourPolicy(input: $input) { version } }";

/// The form as `ColourPolicyInput`; a number that is not one is refused by its field.
fn input_of(form: &Form) -> Result<Value, Refusal> {
    let mut input = Map::new();
    for (name, label, kind) in FIELDS {
        let raw = form.get(name).trim();
        let value = match kind {
            Kind::Switch => json!(form.all(name).contains(&"1")),
            Kind::Count => json!(raw.parse::<i32>().map_err(|_| Refusal {
                field: Some(name),
                message: format!("“{label}”应为整数（不超过2147483647）"),
            })?),
            Kind::Percent => json!(raw.parse::<f64>().map_err(|_| Refusal {
                field: Some(name),
                message: format!("“{label}”应为数字"),
            })?),
        };
        input.insert(name.to_string(), value);
    }
    Ok(Value::Object(input))
}

#[handler]
pub async fn page(request: &Request, state: Data<&AppState>, schemas: Data<&Schemas>) -> Response {
    let viewer = match admin_reader(request, &state, false).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    render(&schemas, &state, &viewer, None, None, None, StatusCode::OK).await
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
    let refusal = match input_of(&form) {
        Err(refusal) => refusal,
        Ok(input) => {
            match run(&schemas, &state, &viewer, UPDATE, json!({ "input": input })).await {
                Ok(data) => {
                    let done = format!(
                        "颜色规则已保存为第{}版，立即生效",
                        data["updateColourPolicy"]["version"]
                    );
                    return render(
                        &schemas,
                        &state,
                        &viewer,
                        None,
                        Some(&done),
                        None,
                        StatusCode::OK,
                    )
                    .await;
                }
                Err(failure) => Refusal::general(failure.message),
            }
        }
    };
    render(
        &schemas,
        &state,
        &viewer,
        Some(&form),
        None,
        Some(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

fn shown(value: &Value) -> String {
    match value {
        Value::Bool(true) => "是".into(),
        Value::Bool(false) => "否".into(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

async fn render(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    typed: Option<&Form>,
    done: Option<&str>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let data = match run(schemas, state, viewer, &query(), json!({})).await {
        Ok(data) => data,
        Err(failure) => return view::failure_page(viewer, &failure),
    };
    let current = &data["colourPolicy"]["rules"];
    let value = |name: &str| -> String {
        match typed {
            Some(form) if form.all(name).contains(&"1") => "1".into(),
            Some(form) => form.get(name).to_string(),
            None => match &current[name] {
                Value::Bool(b) => {
                    if *b {
                        "1".into()
                    } else {
                        "0".into()
                    }
                }
                other => other.to_string(),
            },
        }
    };
    let refusal = refusal.as_ref();
    let versions = rows(&data, "colourPolicyVersions");
    let body = html! {
        h1 { "颜色规则" }
        (view::notice(done, None))
        p { "现行第 " strong { (data["colourPolicy"]["version"]) } " 版。修改后生成新版本并立即生效；以往月份的通报仍按当时的版本。" }
        (Refusal::above(refusal))
        form.wide method="post" action="/admin/policy" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            @for (name, label, kind) in FIELDS {
                @match kind {
                    Kind::Switch => {
                        div.check {
                            input type="hidden" name=(name) value="0";
                            input type="checkbox" id=(name) name=(name) value="1" checked[value(name) == "1"];
                            label for=(name) { (label) }
                        }
                    }
                    Kind::Count => {
                        label for=(name) { (label) }
                        input id=(name) name=(name) type="number" step="1" required value=(value(name));
                    }
                    Kind::Percent => {
                        label for=(name) { (label) }
                        input id=(name) name=(name) type="number" step="0.1" min="0" max="100" required value=(value(name));
                    }
                }
                (Refusal::at(refusal, name))
            }
            div.buttons { button.primary type="submit" { "保存为新版本" } }
        }
        h2 { "历次版本" }
        div.scroll {
            table.list {
                thead { tr { th { "版本" } th { "生效时间" } @for (_, label, _) in FIELDS { th { (label) } } } }
                tbody {
                    @for v in versions {
                        tr {
                            td data-label="版本" { @if v["version"] == 0 { "默认" } @else { "第" (v["version"]) "版" } }
                            td data-label="生效时间" { (view::time(&v["createdAt"])) }
                            @for (name, label, _) in FIELDS { td data-label=(label) { (shown(&v["rules"][name])) } }
                        }
                    }
                }
            }
        }
    };
    frame(viewer, status, "/admin/policy", "颜色规则", body)
}
