//! 待办 (`service::items::todo`): what the reader must do now, soonest first.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::{actor, app_state};
use super::ids::{AssignmentId, ExtensionRequestId};
use super::objects::Item;
use crate::service::items::todo;

/// 待办事由
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TodoKind {
    /// 已逾期
    Overdue,
    /// 退回重办或回头看重新打开，待重新办理
    Rework,
    /// 待签收
    Sign,
    /// 进展报告已过报送日未报
    ReportMissed,
    /// 即将到期
    DueSoon,
    /// 进展报告即将到报送日
    ReportDue,
    /// 承办单位申请退回，待督查室改派或维持
    ResolveReturn,
    /// 延期申请待审批
    DecideExtension,
    /// 办结反馈待核查
    Verify,
    /// 已核查，待销号
    Close,
    /// 已立项，待交办
    Assign,
    /// 上级交办事项已核查或销号，待向上级报送落实情况
    ReportUpward,
}

impl From<todo::TodoKind> for TodoKind {
    fn from(kind: todo::TodoKind) -> Self {
        use todo::TodoKind as K;
        match kind {
            K::Overdue => TodoKind::Overdue,
            K::Rework => TodoKind::Rework,
            K::Sign => TodoKind::Sign,
            K::ReportMissed => TodoKind::ReportMissed,
            K::DueSoon => TodoKind::DueSoon,
            K::ReportDue => TodoKind::ReportDue,
            K::ResolveReturn => TodoKind::ResolveReturn,
            K::DecideExtension => TodoKind::DecideExtension,
            K::Verify => TodoKind::Verify,
            K::Close => TodoKind::Close,
            K::Assign => TodoKind::Assign,
            K::ReportUpward => TodoKind::ReportUpward,
        }
    }
}

/// 一条待办
#[derive(SimpleObject)]
pub struct TodoEntry {
    /// 主要事由（最紧迫的一项）
    pub kind: TodoKind,
    /// 全部事由，紧迫的在前
    pub kinds: Vec<TodoKind>,
    /// 事项
    pub item: Item,
    /// 涉及的交办记录（本单位的交办、申请退回的交办）
    pub assignment_id: Option<AssignmentId>,
    /// 待审批的延期申请
    pub extension_request_id: Option<ExtensionRequestId>,
    /// 最迟应办时刻（期限、进展报送日）；没有期限的为空
    pub due_at: Option<DateTime<Utc>>,
    /// 何时进入待办（交办、提交、申请时刻）
    pub since: DateTime<Utc>,
}

#[derive(Default)]
pub struct TodoQuery;

#[Object]
impl TodoQuery {
    /// 我的待办：承办单位为待签收、即将到期、已逾期、进展待报、退回重办的事项；督查室为待核查、
    /// 待销号、退回待处理、延期待审批；区领导为超过督查室权限的延期申请。有期限的按期限先后，
    /// 其余按进入待办的先后；每类最多列出200条
    async fn todo(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TodoEntry>> {
        let state = app_state(ctx)?;
        let who = actor(ctx)?;
        let rule_set = state.rule_set().await?;
        let entries = todo::todo(&state.db, who, &rule_set.rules(), state.clock.now()).await?;
        entries
            .into_iter()
            .map(|entry| {
                Ok(TodoEntry {
                    kind: entry.kind().into(),
                    kinds: entry.kinds.iter().copied().map(TodoKind::from).collect(),
                    assignment_id: entry.assignment_id.map(AssignmentId),
                    extension_request_id: entry.extension_request_id.map(ExtensionRequestId),
                    due_at: entry.due_at,
                    since: entry.since,
                    item: Item::try_from(entry.item)?,
                })
            })
            .collect()
    }
}
