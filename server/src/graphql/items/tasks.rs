//! 分解, 转办 and the tasks' own verbs (`service::items::tasks`).

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::graphql::context::{actor, app_state, verb_context};
use crate::graphql::ids::{ItemId, TaskId, UnitId};
use crate::graphql::objects::Task;
use crate::service::items::tasks::{self, HandDown, NewTask, TaskVerb};

/// 一项子任务
#[derive(InputObject)]
pub struct NewTaskInput {
    /// 承办的下级单位（须为本单位的直属下级单位）
    pub unit_id: UnitId,
    /// 具体措施（必填，不超过2000字）
    pub measures: String,
    /// 责任人（必填）
    pub responsible: String,
    /// 期限（日期，须为工作日）；不填则比本单位期限提前规定的工作日数
    pub due_date: Option<crate::graphql::scalars::Date>,
    /// 期限晚于本单位期限时的理由
    pub due_reason: Option<String>,
}

/// 分解或转办
#[derive(InputObject)]
pub struct HandDownInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 再分解的子任务；不填表示分解本单位的承办部分
    pub from_task_id: Option<TaskId>,
    /// 子任务（转办时恰好一项）
    pub tasks: Vec<NewTaskInput>,
}

/// 办理子任务
#[derive(InputObject)]
pub struct TaskActionInput {
    /// 子任务（全局标识或数据库编号）
    pub task_id: TaskId,
    /// 子任务所属的事项（可不填；填写时须一致，否则为 NOT_FOUND）
    pub item_id: Option<ItemId>,
    /// 子任务的版本号（须与当前版本一致；报送进展不填）
    pub version: Option<i32>,
    /// 进展或办结情况（报送进展、办结反馈时必填）
    pub body: Option<String>,
    /// 理由（退回重办、免除、退回子任务时必填，核查通过时可填）
    pub reason: Option<String>,
}

impl TaskActionInput {
    /// The task a verb with its own input acts on, as the shared verbs name it.
    fn of(task_id: TaskId, item_id: Option<ItemId>, version: Option<i32>) -> TaskActionInput {
        TaskActionInput {
            task_id,
            item_id,
            version,
            body: None,
            reason: None,
        }
    }
}

/// 子任务延期申请
#[derive(InputObject)]
pub struct TaskExtensionInput {
    /// 子任务（全局标识或数据库编号）
    pub task_id: TaskId,
    /// 子任务所属的事项（可不填；填写时须一致，否则为 NOT_FOUND）
    pub item_id: Option<ItemId>,
    /// 子任务的版本号（须与当前版本一致）
    pub version: Option<i32>,
    /// 申请延至的日期（工作日，晚于现在的期限）
    pub due_date: crate::graphql::scalars::Date,
    /// 延期理由
    pub reason: String,
}

/// 子任务延期审批
#[derive(InputObject)]
pub struct TaskExtensionDecisionInput {
    /// 子任务（全局标识或数据库编号）
    pub task_id: TaskId,
    /// 子任务所属的事项（可不填；填写时须一致，否则为 NOT_FOUND）
    pub item_id: Option<ItemId>,
    /// 子任务的版本号（须与当前版本一致）
    pub version: Option<i32>,
    /// 是否同意
    pub approve: bool,
    /// 审批意见（同意延至晚于本单位期限的日期时必填）
    pub reason: Option<String>,
}

/// 分解或转办的结果
#[derive(SimpleObject)]
pub struct HandDownPayload {
    /// 新建的子任务
    pub tasks: Vec<Task>,
}

/// 办理子任务的结果
#[derive(SimpleObject)]
pub struct TaskPayload {
    /// 办理后的子任务
    pub task: Task,
}

#[derive(Default)]
pub struct TaskMutation;

impl TaskMutation {
    async fn hand_down(
        ctx: &Context<'_>,
        input: HandDownInput,
        pass_down: bool,
    ) -> async_graphql::Result<HandDownPayload> {
        let order = HandDown {
            item_id: input.item_id.0,
            from_task: input.from_task_id.map(i64::from),
            pass_down,
            tasks: input
                .tasks
                .into_iter()
                .map(|t| NewTask {
                    unit_id: t.unit_id.0,
                    measures: t.measures,
                    responsible: t.responsible,
                    due_date: t.due_date.map(|d| d.0),
                    due_reason: t.due_reason,
                })
                .collect(),
        };
        let created = tasks::hand_down(verb_context(ctx)?, order).await?;
        Ok(HandDownPayload {
            tasks: created.into_iter().map(Task::from).collect(),
        })
    }

    async fn act(
        ctx: &Context<'_>,
        input: TaskActionInput,
        verb: TaskVerb,
    ) -> async_graphql::Result<TaskPayload> {
        let task = tasks::act_on_task(
            verb_context(ctx)?,
            input.task_id.0,
            input.item_id.map(i64::from),
            input.version,
            verb,
        )
        .await?;
        Ok(TaskPayload {
            task: Task::from(task),
        })
    }
}

#[Object]
impl TaskMutation {
    /// 分解：把本单位承办部分（或交给本单位的子任务）分解给下级单位（单位主要负责人）
    async fn split_part(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项及子任务")] input: HandDownInput,
    ) -> async_graphql::Result<HandDownPayload> {
        Self::hand_down(ctx, input, false).await
    }

    /// 转办：把本单位承办部分整体交给一个下级单位办理，本单位负责核查（单位主要负责人）
    async fn pass_down(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项及一项子任务")] input: HandDownInput,
    ) -> async_graphql::Result<HandDownPayload> {
        Self::hand_down(ctx, input, true).await
    }

    /// 签收子任务（下级单位主要负责人）
    async fn sign_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务及其版本号")] input: TaskActionInput,
    ) -> async_graphql::Result<TaskPayload> {
        Self::act(ctx, input, TaskVerb::Sign).await
    }

    /// 报送子任务进展（下级单位人员）
    async fn report_task_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务及进展情况")] input: TaskActionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let body = input.body.clone().unwrap_or_default();
        Self::act(ctx, input, TaskVerb::ReportProgress { body }).await
    }

    /// 子任务办结反馈（下级单位主要负责人；其下的子任务须已全部办结或免除）
    async fn submit_task_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务、版本号及办结情况")] input: TaskActionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let body = input.body.clone().unwrap_or_default();
        Self::act(ctx, input, TaskVerb::SubmitFeedback { body }).await
    }

    /// 核查子任务：通过则办结（分解或转办它的单位主要负责人）
    async fn accept_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务、版本号及核查意见（可不填）")] input: TaskActionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let reason = input.reason.clone();
        Self::act(ctx, input, TaskVerb::Accept { reason }).await
    }

    /// 子任务退回重办（须说明理由）
    async fn reject_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务、版本号及退回理由")] input: TaskActionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let reason = input.reason.clone().unwrap_or_default();
        Self::act(ctx, input, TaskVerb::Reject { reason }).await
    }

    /// 免除子任务（须说明理由）：不再办理，不影响本单位办结反馈
    async fn waive_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务、版本号及免除理由")] input: TaskActionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let reason = input.reason.clone().unwrap_or_default();
        Self::act(ctx, input, TaskVerb::Waive { reason }).await
    }

    /// 申请子任务延期（下级单位主要负责人，须说明理由）：由上级单位审批
    async fn request_task_extension(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务、版本号、申请的日期及理由")] input: TaskExtensionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let action = TaskActionInput::of(input.task_id, input.item_id, input.version);
        let verb = TaskVerb::RequestExtension {
            due_date: input.due_date.0,
            reason: input.reason,
        };
        Self::act(ctx, action, verb).await
    }

    /// 审批子任务延期（分解或转办该子任务的单位主要负责人）：同意则期限延至申请的日期
    async fn decide_task_extension(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务、版本号、是否同意及审批意见")] input: TaskExtensionDecisionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let action = TaskActionInput::of(input.task_id, input.item_id, input.version);
        let verb = TaskVerb::DecideExtension {
            approve: input.approve,
            reason: input.reason,
        };
        Self::act(ctx, action, verb).await
    }

    /// 退回子任务（下级单位主要负责人，签收前，须说明理由）：由上级单位重新安排
    async fn return_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "子任务、版本号及退回理由")] input: TaskActionInput,
    ) -> async_graphql::Result<TaskPayload> {
        let reason = input.reason.clone().unwrap_or_default();
        Self::act(ctx, input, TaskVerb::Return { reason }).await
    }
}

/// 子任务及其所属事项
#[derive(SimpleObject)]
pub struct TaskEntry {
    /// 子任务
    pub task: Task,
    /// 所属事项
    pub item: crate::graphql::objects::Item,
}

/// Each task with its item, read in one statement for the list.
async fn with_items(
    ctx: &Context<'_>,
    rows: Vec<entity::task::Model>,
) -> async_graphql::Result<Vec<TaskEntry>> {
    let state = app_state(ctx)?;
    let ids: Vec<i64> = rows.iter().map(|t| t.item_id).collect();
    let items = crate::service::store::read::kept_items(&state.db, &state.item_cache, &ids).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(rows) = items.iter().find(|i| i.item.id == row.item_id) {
            entries.push(TaskEntry {
                item: crate::graphql::objects::Item::of_rows(rows, None)?,
                task: Task::from(row),
            });
        }
    }
    Ok(entries)
}

#[derive(Default)]
pub struct TaskQuery;

#[Object]
impl TaskQuery {
    /// 交给本单位、尚未办结的子任务，期限早的在前（承办单位人员）
    async fn my_tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TaskEntry>> {
        let state = app_state(ctx)?;
        let Some(unit) = actor(ctx)?.own_unit() else {
            return Ok(Vec::new());
        };
        with_items(ctx, tasks::read::open_tasks_of_unit(&state.db, unit).await?).await
    }

    /// 本单位分解或转办给下级单位的子任务，期限早的在前（承办单位人员）
    async fn tasks_handed_down(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "只列未办结的", default = true)] open_only: bool,
    ) -> async_graphql::Result<Vec<TaskEntry>> {
        let state = app_state(ctx)?;
        let Some(unit) = actor(ctx)?.own_unit() else {
            return Ok(Vec::new());
        };
        with_items(
            ctx,
            tasks::read::handed_down_by_unit(&state.db, unit, open_only).await?,
        )
        .await
    }
}
