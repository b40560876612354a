//! What an item accumulates: reports, their attachments, extension requests, the audit trail.

use async_graphql::{ComplexObject, Context, Json, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::ActiveEnum;

use super::org::Person;
use crate::error::AppError;
use crate::graphql::context::app_state;
use crate::graphql::enums::*;
use crate::graphql::ids::{AssignmentId, GlobalId, NodeKind};
use crate::graphql::loaders::*;
use entity::{attachment, audit_event, extension_request, report};

/// 进展报告或办结反馈
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Report {
    #[graphql(skip)]
    pub id: i64,
    /// 报告类别：进展报告或办结反馈
    pub kind: ReportKind,
    /// 报告内容
    pub body: String,
    /// 核查结论：ACCEPTED 通过，REJECTED 退回重办
    pub verdict: Option<String>,
    /// 核查意见（退回重办时必填）
    pub verdict_reason: Option<String>,
    /// 核查时刻（UTC）；未核查为空
    pub verdict_at: Option<DateTime<Utc>>,
    /// 报送时刻（UTC）
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub author_id: i64,
}

impl From<report::Model> for Report {
    fn from(r: report::Model) -> Self {
        Report {
            id: r.id,
            kind: if r.kind == "FEEDBACK" {
                ReportKind::Feedback
            } else {
                ReportKind::Progress
            },
            body: r.body,
            verdict: r.verdict.map(|v| v.to_value()),
            verdict_reason: r.verdict_reason,
            verdict_at: r.verdict_at,
            created_at: r.created_at,
            author_id: r.author_id,
        }
    }
}

#[ComplexObject]
impl Report {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Report, self.id)
    }

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

    /// 附件
    pub async fn attachments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        let rows = rows_of::<AttachmentsByReport>(ctx, self.id).await?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }
}

/// 附件（按内容的 SHA-256 存储）
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Attachment {
    #[graphql(skip)]
    pub id: i64,
    /// 文件名
    pub file_name: String,
    /// 文件类型（MIME 类型，如 application/pdf）
    pub content_type: String,
    /// 字节数
    pub size: i64,
    /// 文件内容的 SHA-256 摘要（十六进制）
    pub sha256: String,
    /// 上传时刻（UTC）
    pub created_at: DateTime<Utc>,
}

impl From<attachment::Model> for Attachment {
    fn from(a: attachment::Model) -> Self {
        Attachment {
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            created_at: a.created_at,
        }
    }
}

/// 延期申请
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ExtensionRequest {
    #[graphql(skip)]
    pub id: i64,
    /// 申请延期的交办记录（全局标识）
    pub assignment_id: AssignmentId,
    /// 申请理由
    pub reason: String,
    /// 申请延至的截止时刻（UTC）
    pub proposed_due_at: DateTime<Utc>,
    /// APPROVED 批准，REJECTED 不批准，空为待审批
    pub decision: Option<String>,
    /// 审批意见（不批准时必填）
    pub decision_reason: Option<String>,
    /// 审批时刻（UTC）；待审批为空
    pub decided_at: Option<DateTime<Utc>>,
    /// 申请时刻（UTC）
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub item_id: i64,
}

impl From<extension_request::Model> for ExtensionRequest {
    fn from(e: extension_request::Model) -> Self {
        ExtensionRequest {
            id: e.id,
            assignment_id: AssignmentId(e.assignment_id),
            reason: e.reason,
            proposed_due_at: e.proposed_due_at,
            decision: e.decision.map(|d| d.to_value()),
            decision_reason: e.decision_reason,
            decided_at: e.decided_at,
            created_at: e.created_at,
            item_id: e.item_id,
        }
    }
}

/// 审计记录
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AuditEntry {
    /// 审计记录编号（数据库主键）
    pub id: i64,
    /// 操作时刻（UTC）
    pub at: DateTime<Utc>,
    /// 操作，如 ASSIGN、SIGN、REJECT、RECALCULATE_DUE
    pub action: String,
    /// 操作前的阶段（不涉及阶段的记录为空）
    pub from_stage: Option<Stage>,
    /// 操作后的阶段（不涉及阶段的记录为空）
    pub to_stage: Option<Stage>,
    /// 理由（承办单位人员看不到其他单位的）
    pub reason: Option<String>,
    /// 涉及的交办记录（全局标识）
    pub assignment_id: Option<AssignmentId>,
    /// 操作的详细内容（JSON，随操作而不同；承办单位人员看不到其他单位的）
    pub details: Json<serde_json::Value>,
    #[graphql(skip)]
    pub actor_id: Option<i64>,
}

impl From<audit_event::Model> for AuditEntry {
    fn from(e: audit_event::Model) -> Self {
        AuditEntry {
            id: e.id,
            at: e.at,
            action: e.action,
            from_stage: e.from_stage.as_deref().and_then(|s| stage_of(s).ok()),
            to_stage: e.to_stage.as_deref().and_then(|s| stage_of(s).ok()),
            reason: e.reason,
            assignment_id: e.assignment_id.map(AssignmentId),
            details: Json(e.details),
            actor_id: e.actor_id,
        }
    }
}

#[ComplexObject]
impl AuditEntry {
    /// 操作人（系统自动操作时为空）
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, self.actor_id).await?.map(Person::from))
    }
}

#[ComplexObject]
impl Attachment {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Attachment, self.id)
    }

    /// 附件编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 下载地址：浏览器凭登录状态，程序凭请求头 Authorization: Bearer <令牌>；只有能查看该事项的人可以下载
    async fn download_url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let public_url = &app_state(ctx)?.notices.public_url;
        Ok(format!(
            "{}/attachments/{}",
            public_url.trim_end_matches('/'),
            self.id
        ))
    }
}

#[ComplexObject]
impl ExtensionRequest {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::ExtensionRequest, self.id)
    }

    /// 延期申请编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 比原期限延长的工作日数
    async fn working_days_added(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let state = app_state(ctx)?;
        let assignments = rows_of::<AssignmentsByItem>(ctx, self.item_id).await?;
        let Some(target) = assignments.iter().find(|a| a.id == self.assignment_id.0) else {
            return Err(AppError::NotFound("交办记录不存在".into()).into());
        };
        Ok(crate::service::items::extension::working_days_added(
            &*state.calendar.current()?,
            state.deadline_policy.time_zone,
            target.due_at,
            self.proposed_due_at,
        ))
    }

    /// 是否须由区领导批准（延长超过原期限10个工作日；督查室可不批准，不能批准）
    async fn needs_leader(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.working_days_added(ctx).await?
            > crate::service::items::OFFICE_EXTENSION_LIMIT_WORKING_DAYS)
    }
}
