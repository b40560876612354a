//! 子任务: a unit's part handed down to a sub-unit (分解, 转办), and its reports.

use async_graphql::{ComplexObject, Context, Enum, SimpleObject};
use chrono::{DateTime, Utc};

use super::org::{Person, Unit};
use crate::graphql::context::{actor, app_state};
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::*;
use crate::service::items::tasks;
use crate::service::watch::colours::tasks::TaskRow;
use entity::{item, task, task_report};

/// 子任务状态
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TaskStatus {
    /// 待签收
    Assigned,
    /// 办理中（已签收）
    Signed,
    /// 已反馈，待上级单位核查
    FeedbackSubmitted,
    /// 已办结（上级单位核查通过）
    Closed,
    /// 已免除（上级单位说明理由后免除）
    Waived,
    /// 已退回（下级单位签收前说明理由退回，由上级单位重新安排）
    Returned,
}

impl From<ducha_domain::tasks::TaskStatus> for TaskStatus {
    fn from(s: ducha_domain::tasks::TaskStatus) -> Self {
        use ducha_domain::tasks::TaskStatus as S;
        match s {
            S::Assigned => TaskStatus::Assigned,
            S::Signed => TaskStatus::Signed,
            S::FeedbackSubmitted => TaskStatus::FeedbackSubmitted,
            S::Closed => TaskStatus::Closed,
            S::Waived => TaskStatus::Waived,
            S::Returned => TaskStatus::Returned,
        }
    }
}

#[derive(Clone)]
pub struct Task {
    pub row: task::Model,
    /// Its reports, read once.
    reports: std::sync::Arc<tokio::sync::OnceCell<Vec<task_report::Model>>>,
    /// Its item's tasks, for the colours of those below it: read once for every task of
    /// one list (`Task::of_one_item`).
    family: std::sync::Arc<tokio::sync::OnceCell<Vec<TaskRow>>>,
}

impl From<task::Model> for Task {
    fn from(row: task::Model) -> Self {
        Task {
            row,
            reports: Default::default(),
            family: Default::default(),
        }
    }
}

impl Task {
    /// Tasks of one item, sharing one read of the item's tasks for their colours.
    pub fn of_one_item(rows: Vec<task::Model>) -> Vec<Task> {
        let family: std::sync::Arc<tokio::sync::OnceCell<Vec<TaskRow>>> = Default::default();
        rows.into_iter()
            .map(|row| Task {
                family: family.clone(),
                ..Task::from(row)
            })
            .collect()
    }
}

/// 子任务：承办单位把本单位承办部分分解给下级单位（或整体转办），由该单位核查办结
#[async_graphql::Object(name = "Task")]
impl Task {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Task, self.row.id)
    }

    /// 子任务编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.row.id
    }

    /// 版本号（办理子任务时须提交当前版本）
    async fn version(&self) -> i32 {
        self.row.version
    }

    /// 状态
    async fn status(&self) -> TaskStatus {
        tasks::status_of(&self.row).into()
    }

    /// 是否整体转办（否则为分解的一部分）
    async fn passed_down(&self) -> bool {
        self.row.passed_down
    }

    /// 具体措施
    async fn measures(&self) -> &str {
        &self.row.measures
    }

    /// 责任人
    async fn responsible(&self) -> &str {
        &self.row.responsible
    }

    /// 期限
    async fn due_at(&self) -> DateTime<Utc> {
        self.row.due_at
    }

    /// 期限晚于上级期限的理由
    async fn due_reason(&self) -> Option<&str> {
        self.row.due_reason.as_deref()
    }

    /// 签收时刻（UTC）
    async fn signed_at(&self) -> Option<DateTime<Utc>> {
        self.row.signed_at
    }

    /// 最近一次办结反馈时刻（UTC）
    async fn feedback_at(&self) -> Option<DateTime<Utc>> {
        self.row.feedback_at
    }

    /// 办结或免除时刻（UTC）
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.row.closed_at
    }

    /// 免除或退回的理由
    async fn waive_reason(&self) -> Option<&str> {
        self.row.waive_reason.as_deref()
    }

    /// 待审批的延期申请：申请延至的期限（UTC）；没有待审批的申请时为空
    async fn requested_due_at(&self) -> Option<DateTime<Utc>> {
        self.row.requested_due_at
    }

    /// 待审批的延期申请的理由
    async fn extension_reason(&self) -> Option<&str> {
        self.row.extension_reason.as_deref()
    }

    /// 分解或转办时刻（UTC）
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// 上一级子任务的编号（再分解时）；直接来自承办部分时为空
    async fn parent_task_id(&self) -> Option<GlobalId> {
        self.row
            .parent_task_id
            .map(|id| GlobalId::new(NodeKind::Task, id))
    }

    /// 所属承办部分（交办记录）的编号
    async fn assignment_id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Assignment, self.row.assignment_id)
    }

    /// 承办的下级单位
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_unit(ctx, self.row.unit_id).await?.map(Unit::from))
    }

    /// 分解或转办人
    async fn created_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, Some(self.row.created_by))
            .await?
            .map(Person::from))
    }

    /// 进展报告与办结反馈，早的在前
    async fn reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TaskReport>> {
        Ok(self
            .report_rows(ctx)
            .await?
            .iter()
            .cloned()
            .map(TaskReport::from)
            .collect())
    }

    /// 颜色（按事项的颜色规则，以子任务期限判定；其下级任务更重的颜色计入，原因写明下级单位）
    async fn colour(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::enums::Colour> {
        Ok(self.verdict(ctx).await?.colour.into())
    }

    /// 颜色的原因
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(self.verdict(ctx).await?.reason)
    }
}

impl Task {
    async fn report_rows(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<&Vec<task_report::Model>> {
        let state = app_state(ctx)?;
        Ok(self
            .reports
            .get_or_try_init(|| tasks::read::reports_of(&state.db, self.row.id))
            .await?)
    }

    async fn verdict(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<ducha_domain::colour::Verdict> {
        let state = app_state(ctx)?;
        actor(ctx)?;
        let rule_set = state.rule_set().await?;
        let item = item_row(ctx, self.row.item_id).await?;
        let family = self
            .family
            .get_or_try_init(|| async {
                crate::service::watch::colours::tasks::tasks_of_items(&state.db, &[&item]).await
            })
            .await?;
        Ok(tasks::read::task_verdict(
            &rule_set.rules(),
            &item,
            &self.row,
            family,
            state.clock.now(),
        ))
    }
}

async fn item_row(ctx: &Context<'_>, item_id: i64) -> async_graphql::Result<item::Model> {
    let state = app_state(ctx)?;
    Ok(
        crate::service::store::read::kept_items(&state.db, &state.item_cache, &[item_id])
            .await?
            .into_iter()
            .next()
            .map(|rows| rows.item.clone())
            .ok_or_else(|| crate::error::AppError::NotFound(format!("事项 {item_id} 不存在")))?,
    )
}

/// 分解或转办前的参考：上级期限、子任务默认期限和可选的下级单位
#[derive(SimpleObject)]
pub struct HandDownPlan {
    /// 本单位承办部分（或子任务）的期限
    pub holder_due_at: DateTime<Utc>,
    /// 子任务默认期限（比上级期限提前规定的工作日数）
    pub default_due_at: DateTime<Utc>,
    /// 默认提前的工作日数（系统设置）
    pub buffer_working_days: i32,
    /// 直属下级单位
    pub sub_units: Vec<Unit>,
    /// 已有未办结子任务的下级单位编号
    pub busy_unit_ids: Vec<i64>,
    /// 是否已整体转办（转办后不能再分解）
    pub passed_down: bool,
    /// 上级期限是否已过（已过时各子任务须选择期限并说明理由）
    pub overdue: bool,
}

impl From<tasks::HandDownPlan> for HandDownPlan {
    fn from(p: tasks::HandDownPlan) -> Self {
        HandDownPlan {
            holder_due_at: p.holder_due,
            default_due_at: p.default_due,
            buffer_working_days: i32::try_from(p.buffer_working_days).unwrap_or(i32::MAX),
            sub_units: p.sub_units.into_iter().map(Unit::from).collect(),
            busy_unit_ids: p.busy_unit_ids,
            passed_down: p.passed_down,
            overdue: p.overdue,
        }
    }
}

/// 子任务的进展报告或办结反馈
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct TaskReport {
    #[graphql(skip)]
    pub id: i64,
    /// 类别：PROGRESS 进展报告，FEEDBACK 办结反馈
    pub kind: String,
    /// 内容
    pub body: String,
    /// 核查结论：ACCEPTED 通过，REJECTED 退回重办
    pub verdict: Option<String>,
    /// 核查意见
    pub verdict_reason: Option<String>,
    /// 核查时刻（UTC）
    pub verdict_at: Option<DateTime<Utc>>,
    /// 报送时刻（UTC）
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub author_id: i64,
}

impl From<task_report::Model> for TaskReport {
    fn from(r: task_report::Model) -> Self {
        TaskReport {
            id: r.id,
            kind: r.kind,
            body: r.body,
            verdict: r.verdict,
            verdict_reason: r.verdict_reason,
            verdict_at: r.verdict_at,
            created_at: r.created_at,
            author_id: r.author_id,
        }
    }
}

#[ComplexObject]
impl TaskReport {
    /// 报告编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 报送人
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, Some(self.author_id))
            .await?
            .map(Person::from))
    }
}
