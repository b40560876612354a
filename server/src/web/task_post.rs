//! Posting a task's form from the item page (`/items/N/tasks/T`): the API's own mutation as
//! the reader, then the item page again at the task, or with the refusal and what was typed.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::item::{not_found, render, render_with_task};
use super::tasks::TaskTyped;
use super::view::{posted, see_other};
use super::viewer::{Form, run};
use crate::graphql::Schemas;
use crate::state::AppState;
use ducha_domain::tasks::TaskAction;

/// The mutation of a task form's action, and its input.
fn mutation(
    item_id: i64,
    task_id: i64,
    form: &Form,
) -> Result<(TaskAction, &'static str, Value), String> {
    let action = TaskAction::parse(form.get("action"))
        .filter(|a| !matches!(a, TaskAction::Split | TaskAction::PassDown))
        .ok_or_else(|| "未知的操作".to_string())?;
    let query = match action {
        TaskAction::Sign => {
            "mutation($input: TaskActionInput!) { signTask(input: $input) { task { version } } }"
        }
        TaskAction::ReportProgress => {
            "mutation($input: TaskActionInput!) { reportTaskProgress(input: $input) { task { version } } }"
        }
        TaskAction::SubmitFeedback => {
            "mutation($input: TaskActionInput!) { submitTaskFeedback(input: $input) { task { version } } }"
        }
        TaskAction::Accept => {
            "mutation($input: TaskActionInput!) { acceptTask(input: $input) { task { version } } }"
        }
        TaskAction::Reject => {
            "mutation($input: TaskActionInput!) { rejectTask(input: $input) { task { version } } }"
        }
        TaskAction::Return => {
            "mutation($input: TaskActionInput!) { returnTask(input: $input) { task { version } } }"
        }
        TaskAction::RequestExtension => {
            "mutation($input: TaskExtensionInput!) { requestTaskExtension(input: $input) { task { version } } }"
        }
        TaskAction::DecideExtension => {
            "mutation($input: TaskExtensionDecisionInput!) { decideTaskExtension(input: $input) { task { version } } }"
        }
        _ => "mutation($input: TaskActionInput!) { waiveTask(input: $input) { task { version } } }",
    };
    // A progress report is filed whatever else happened meanwhile (docs/rules.md §8).
    let version = form
        .get("version")
        .parse::<i32>()
        .ok()
        .filter(|_| action != TaskAction::ReportProgress);
    let filled = |field: &str| Some(form.get(field).to_string()).filter(|v| !v.trim().is_empty());
    let input = match action {
        TaskAction::RequestExtension => {
            let due_date = filled("dueDate").ok_or_else(|| "请选择申请延至的日期".to_string())?;
            json!({ "input": { "taskId": task_id, "itemId": item_id, "version": version,
                "dueDate": due_date, "reason": form.get("reason") } })
        }
        TaskAction::DecideExtension => {
            let approve = match form.get("approve") {
                "yes" => true,
                "no" => false,
                _ => return Err("请选择同意或不同意延期".to_string()),
            };
            json!({ "input": { "taskId": task_id, "itemId": item_id, "version": version,
                "approve": approve, "reason": filled("reason") } })
        }
        _ => json!({ "input": { "taskId": task_id, "itemId": item_id, "version": version,
            "body": filled("body"), "reason": filled("reason") } }),
    };
    Ok((action, query, input))
}

/// The address a refused form leaves in the address bar, opened again: the item page at the
/// task.
#[handler]
pub fn to_item(Path((raw, task)): Path<(String, String)>) -> Response {
    let id: String = raw.chars().filter(char::is_ascii_digit).collect();
    let task: String = task.chars().filter(char::is_ascii_digit).collect();
    super::view::see_other(&format!("/items/{id}#task-{task}"))
}

/// A task form's post: the mutation as the reader, then the item page again, at the task.
#[handler]
pub async fn act(
    request: &Request,
    Path((raw, task)): Path<(String, String)>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
    body: poem::Body,
) -> Response {
    let (viewer, form) = match posted(request, &state, body).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let Some(id) = super::item::item_number(&raw) else {
        return not_found(&viewer);
    };
    // A task number that is not one is no task of this item.
    let Some(task_id) = task.parse::<i64>().ok().filter(|n| *n > 0) else {
        return not_found(&viewer);
    };
    let (action, query, input) = match mutation(id, task_id, &form) {
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
    match run(&schemas, &state, &viewer, query, input).await {
        Ok(_) => see_other(&format!(
            "/items/{id}?done={}#task-{task_id}",
            action.name()
        )),
        Err(failure) => {
            let typed = TaskTyped {
                task: Some(task_id),
                action,
                form: &form,
            };
            render_with_task(
                &schemas,
                &state,
                &viewer,
                id,
                &failure.message,
                typed,
                failure.status(),
            )
            .await
        }
    }
}
