//! Posting an item page's forms: each runs the API's own mutation as the reader. Reports and
//! 办结反馈 carry their files (`upload`); an extension date on a rest day is asked about
//! first; a refusal shows the item page again with the service's words and what was typed.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::item::{item_number, not_found, render};
use super::item_forms::{Typed, mutation};
use super::upload::{Posted, Unread, read_posted};
use super::view::{forged, posted, see_other, text};
use super::viewer::{Form, Viewer, run_with_files};
use crate::graphql::Schemas;
use crate::state::AppState;
use ducha_domain::Action;

/// Whether a chosen extension date is a rest day the person has not yet said they mean.
async fn rest_day_unconfirmed(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
) -> Option<String> {
    if form.get("rest_day_ok") == "1" {
        return None;
    }
    let day = run_with_files(
        schemas,
        state,
        viewer,
        "query($d: Date!) { isWorkingDay(date: $d) { working holidayName } }",
        json!({ "d": form.get("date") }),
        Vec::new(),
    )
    .await
    .ok()?;
    let day = &day["isWorkingDay"];
    (day["working"].as_bool() == Some(false)).then(|| {
        let name = text(&day["holidayName"]);
        format!(
            "申请延至的{}是休息日{}，期限将落在非工作日。请改选工作日，或勾选“仍按此日期申请”后再提交。",
            form.get("date"),
            if name.is_empty() { String::new() } else { format!("（{name}）") }
        )
    })
}

#[handler]
pub async fn act(
    request: &Request,
    Path(raw): Path<String>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
    viewer: Viewer,
) -> Response {
    let Some(id) = item_number(&raw) else {
        return not_found(&viewer);
    };
    let posted = match read_posted(request, body).await {
        Ok(posted) => posted,
        Err(Unread::Refused(refused)) => return refused,
        Err(Unread::Said(status, why, typed)) => {
            // Nothing was done: the page says why, with what was typed.
            let action = Action::parse(typed.get("action"));
            let typed_action = action.map(|action| Typed {
                action,
                form: &typed,
            });
            return render(
                &schemas,
                &state,
                &viewer,
                id,
                None,
                Some(&why),
                typed_action,
                status,
            )
            .await;
        }
    };
    let Posted { mut form, files } = posted;
    if let Some(refused) = forged(&viewer, &form) {
        return refused;
    }
    let (action, query, mut variables) = match mutation(id, &form) {
        Ok(m) => m,
        Err(why) => {
            return render(
                &schemas,
                &state,
                &viewer,
                id,
                None,
                Some(&why),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    if action == Action::RequestExtension
        && let Some(why) = rest_day_unconfirmed(&schemas, &state, &viewer, &form).await
    {
        form = form.with("rest_day", "1");
        let typed = Typed {
            action,
            form: &form,
        };
        return render(
            &schemas,
            &state,
            &viewer,
            id,
            None,
            Some(&why),
            Some(typed),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let mut uploads = Vec::with_capacity(files.len());
    if matches!(action, Action::ReportProgress | Action::SubmitFeedback) {
        variables["input"]["files"] = json!(vec![Value::Null; files.len()]);
        for (n, file) in files.into_iter().enumerate() {
            uploads.push((format!("variables.input.files.{n}"), file));
        }
    }
    match run_with_files(&schemas, &state, &viewer, query, variables, uploads).await {
        Ok(_) => see_other(&format!("/items/{id}?done={}", action.name())),
        Err(failure) => {
            let typed = Typed {
                action,
                form: &form,
            };
            render(
                &schemas,
                &state,
                &viewer,
                id,
                None,
                Some(&failure.message),
                Some(typed),
                failure.status(),
            )
            .await
        }
    }
}

/// 关注 / 取消关注, from the item page's heading.
#[handler]
pub async fn follow(
    request: &Request,
    Path(raw): Path<String>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match posted(request, &state, body).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let Some(id) = item_number(&raw) else {
        return not_found(&viewer);
    };
    let following = form.get("follow") == "1";
    let input = json!({ "input": { "itemId": id, "follow": following } });
    let query =
        "mutation($input: FollowItemInput!) { followItem(input: $input) { item { databaseId } } }";
    match run_with_files(&schemas, &state, &viewer, query, input, Vec::new()).await {
        Ok(_) => see_other(&format!("/items/{id}")),
        Err(failure) => {
            render(
                &schemas,
                &state,
                &viewer,
                id,
                None,
                Some(&failure.message),
                None,
                failure.status(),
            )
            .await
        }
    }
}
