//! 事项: an item as the API shows it, from its rows.

use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, Utc};
use ducha_calendar::DeadlineRule;

use super::assignment::Assignment;
use super::org::Person;
use super::records::{AuditEntry, ExtensionRequest, Report};
use crate::error::{AppError, AppResult};
use crate::graphql::calendar::Deadline;
use crate::graphql::context::app_state;
use crate::graphql::enums::*;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::*;
use crate::service::store::rows::ItemRows;
use crate::service::store::scope;
use crate::service::watch::colours::ItemColours;
use entity::{assignment, item};
use std::borrow::Cow;
use std::sync::Arc;

/// 督办事项
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Item {
    #[graphql(skip)]
    pub id: i64,
    /// 督办编号，如“督〔2026〕15号”
    pub serial: String,
    /// 事项标题
    pub title: String,
    /// 办理要求
    pub requirements: String,
    /// 事项来源
    pub source_kind: SourceKind,
    /// 来源文号（批示件号、会议纪要号、文号）
    pub source_reference: String,
    /// 紧急程度
    pub urgency: Urgency,
    /// 期限规则，如“3个工作日”
    pub deadline_rule: String,
    /// 期限是否由事项明确规定（否则按来源类别的默认规则）
    pub deadline_explicit: bool,
    /// 进展报送周期（天数，单位见 reportCycleUnit）
    pub report_cycle_days: Option<i32>,
    /// 进展报送周期的计算单位
    pub report_cycle_unit: Option<ReportCycleUnit>,
    /// 当前阶段
    pub stage: Stage,
    /// 交办时刻（UTC）；未交办为空
    pub assigned_at: Option<DateTime<Utc>>,
    /// 销号时刻（UTC）；未销号为空
    pub closed_at: Option<DateTime<Utc>>,
    /// 按原期限是否按时办结
    pub closed_on_time_original: Option<bool>,
    /// 按延期后期限是否按时办结
    pub closed_on_time_extended: Option<bool>,
    /// 乐观锁版本号：修改时须提交，过期则返回 CONFLICT
    pub version: i32,
    /// 立项时刻（UTC）
    pub created_at: DateTime<Utc>,
    /// 最后修改时刻（UTC）
    pub updated_at: DateTime<Utc>,
    /// 上级交办事项的上级来文；本区自行立项的为空
    pub upstream_document: Option<String>,
    /// 上级要求的期限
    pub upstream_due_at: Option<DateTime<Utc>>,
    /// 本区期限比上级期限提前的工作日数
    pub upstream_buffer_working_days: Option<i32>,
    /// 督查室上报落实情况的时刻；上级交办事项未上报为空
    pub reported_upward_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub responsible_leader_id: Option<i64>,
    /// What the page or `item(id)` read with the item: its assignments and, when the
    /// selection asks for them, its colours. Fields find them here rather than through the
    /// request's loaders (a page of 50 items looked its colours up 177 times).
    #[graphql(skip)]
    pub read_with: ReadWith,
}

/// What an item's reader already holds of it beyond its own columns.
#[derive(Clone, Default)]
pub struct ReadWith {
    /// The item's row as read, with all its assignments.
    pub rows: Option<Arc<ItemRows>>,
    pub colours: Option<Arc<ItemColours>>,
}

/// A verb's committed item: shown from the rows the verb read back in its transaction, so
/// its payload's assignments cost no further read.
impl TryFrom<crate::service::items::verb::Committed> for Item {
    type Error = AppError;

    fn try_from(committed: crate::service::items::verb::Committed) -> AppResult<Item> {
        Item::of_rows(committed.rows(), None)
    }
}

impl Item {
    /// The item of rows read with its assignments, and its colours if computed.
    pub fn of_rows(rows: &Arc<ItemRows>, colours: Option<Arc<ItemColours>>) -> AppResult<Item> {
        let mut item = Item::try_from(rows.item.clone())?;
        item.read_with = ReadWith {
            rows: Some(Arc::clone(rows)),
            colours,
        };
        Ok(item)
    }

    /// The reader's verdict of the item, as `pick` takes from it: from the colours its reader
    /// computed, else from the request's loader.
    async fn verdict<T>(
        &self,
        ctx: &Context<'_>,
        pick: impl FnOnce(&ducha_domain::colour::Verdict) -> T,
    ) -> AppResult<T> {
        let actor = crate::graphql::context::actor(ctx)?;
        let seen = |colours: &ItemColours| {
            pick(scope::visible_verdict(
                actor,
                &colours.item,
                &colours.by_unit,
            ))
        };
        match &self.read_with.colours {
            Some(colours) => Ok(seen(colours)),
            None => Ok(seen(&*item_colours(ctx, self.id).await?)),
        }
    }
}

impl TryFrom<item::Model> for Item {
    type Error = AppError;

    fn try_from(i: item::Model) -> AppResult<Self> {
        Ok(Item {
            source_kind: ducha_domain::SourceKind::parse(&i.source_kind)
                .map(SourceKind::from)
                .ok_or_else(|| internal(&i.source_kind))?,
            urgency: ducha_domain::Urgency::parse(&i.urgency)
                .map(Urgency::from)
                .ok_or_else(|| internal(&i.urgency))?,
            stage: ducha_domain::Stage::from(i.stage).into(),
            id: i.id,
            serial: i.serial,
            title: i.title,
            requirements: i.requirements,
            source_reference: i.source_reference,
            deadline_rule: i.deadline_rule,
            deadline_explicit: i.deadline_explicit,
            report_cycle_days: i.report_cycle_days,
            report_cycle_unit: i.report_cycle_days.map(|_| {
                if i.report_cycle_working_days {
                    ReportCycleUnit::WorkingDays
                } else {
                    ReportCycleUnit::CalendarDays
                }
            }),
            assigned_at: i.assigned_at,
            closed_at: i.closed_at,
            closed_on_time_original: i.closed_on_time_original,
            closed_on_time_extended: i.closed_on_time_extended,
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
            responsible_leader_id: i.responsible_leader_id,
            upstream_document: i.upstream_document,
            upstream_due_at: i.upstream_due_at,
            upstream_buffer_working_days: i.upstream_buffer_working_days,
            reported_upward_at: i.reported_upward_at,
            read_with: ReadWith::default(),
        })
    }
}

#[ComplexObject]
impl Item {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Item, self.id)
    }

    /// 事项编号（数据库编号，即事项页面 /items/N 中的 N）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 事项当前颜色（蓝黄红），取各承办单位中最严重的；承办单位人员看到的是本单位的
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        Ok(self.verdict(ctx, |v| v.colour).await?.into())
    }

    /// 颜色的原因（承办单位人员只看到本单位的原因）
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Cow<'_, str>> {
        let actor = crate::graphql::context::actor(ctx)?;
        match &self.read_with.colours {
            // Borrowed: the text is copied once, into the response.
            Some(colours) => Ok(Cow::Borrowed(
                &scope::visible_verdict(actor, &colours.item, &colours.by_unit).reason,
            )),
            None => Ok(Cow::Owned(self.verdict(ctx, |v| v.reason.clone()).await?)),
        }
    }

    /// 责任领导
    async fn responsible_leader(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, self.responsible_leader_id)
            .await?
            .map(Person::from))
    }

    /// 各承办单位的交办记录（承办单位只能看到本单位的）
    pub async fn assignments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Assignment>> {
        let actor = crate::graphql::context::actor(ctx)?;
        let loaded;
        let rows: &[assignment::Model] = match &self.read_with.rows {
            Some(rows) => &rows.assignments,
            None => {
                loaded = rows_of::<AssignmentsByItem>(ctx, self.id).await?;
                &loaded
            }
        };
        Ok(rows
            .iter()
            .filter(|a| scope::sees_unit(actor, a.unit_id))
            .map(|a| {
                let mut assignment = Assignment::from(a.clone());
                assignment.item_colours = self.read_with.colours.clone();
                assignment
            })
            .collect())
    }

    /// 进展报告与办结反馈
    pub async fn reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Report>> {
        let actor = crate::graphql::context::actor(ctx)?;
        let visible = visible_assignment_ids(ctx, actor, self.id).await?;
        let rows = rows_of::<ReportsByItem>(ctx, self.id).await?;
        Ok(rows
            .into_iter()
            .filter(|r| visible.contains(&r.assignment_id))
            .map(Report::from)
            .collect())
    }

    /// 分解、转办给下级单位的子任务（下级单位只见交给自己的及其以下的，上级单位见全部）
    pub async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::task::Task>> {
        let state = crate::graphql::context::app_state(ctx)?;
        let actor = crate::graphql::context::actor(ctx)?;
        Ok(super::task::Task::of_one_item(
            crate::service::items::tasks::read::visible_tasks(&state.db, actor, self.id).await?,
        ))
    }

    /// 分解或转办前的参考（本单位主要负责人）：不填子任务表示本单位承办部分
    async fn hand_down_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "再分解的子任务")] from_task_id: Option<crate::graphql::ids::TaskId>,
    ) -> async_graphql::Result<super::task::HandDownPlan> {
        let cx = crate::graphql::context::verb_context(ctx)?;
        Ok(
            crate::service::items::tasks::plan(&cx, self.id, from_task_id.map(i64::from))
                .await?
                .into(),
        )
    }

    /// 上级交办事项的落实情况报告（供上报；督查室和区领导可见，其他人为空）
    async fn upward_report(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let state = app_state(ctx)?;
        let actor = crate::graphql::context::actor(ctx)?;
        if self.upstream_document.is_none() || !actor.role.sees_everything() {
            return Ok(None);
        }
        let row = crate::service::store::read::item(&state.db, self.id).await?;
        Ok(Some(
            crate::service::items::upstream::upward_text(
                &state.db,
                state.deadline_policy.time_zone,
                &row,
            )
            .await?,
        ))
    }

    /// 领导批示，早的在前
    async fn instructions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::instruction::Instruction>> {
        crate::graphql::instruction::of_item(ctx, self.id).await
    }

    /// 立项时随事项上传的文件
    async fn files(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::item_files::ItemFile>> {
        crate::graphql::item_files::of_item(ctx, self.id).await
    }

    /// 当前用户是否关注该事项
    async fn followed_by_me(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        crate::graphql::instruction::followed_by_reader(ctx, self.id).await
    }

    /// 延期申请及审批
    pub async fn extension_requests(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ExtensionRequest>> {
        let actor = crate::graphql::context::actor(ctx)?;
        let visible = visible_assignment_ids(ctx, actor, self.id).await?;
        let rows = rows_of::<ExtensionsByItem>(ctx, self.id).await?;
        Ok(rows
            .into_iter()
            .filter(|r| visible.contains(&r.assignment_id))
            .map(ExtensionRequest::from)
            .collect())
    }

    /// 审计记录（只增不改）：谁、何时、从哪个阶段到哪个阶段、为什么
    async fn audit_trail(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AuditEntry>> {
        let actor = crate::graphql::context::actor(ctx)?;
        let rows = rows_of::<AuditByItem>(ctx, self.id).await?;
        if actor.role.sees_everything() {
            return Ok(rows.into_iter().map(AuditEntry::from).collect());
        }
        // The request's loaders (batched over the page) say whose each record is.
        let own: std::collections::HashSet<i64> = visible_assignment_ids(ctx, actor, self.id)
            .await?
            .into_iter()
            .collect();
        let owners = scope::RecordOwners {
            extensions: rows_of::<ExtensionsByItem>(ctx, self.id)
                .await?
                .into_iter()
                .map(|e| (e.id, e.assignment_id))
                .collect(),
            reports: rows_of::<ReportsByItem>(ctx, self.id)
                .await?
                .into_iter()
                .map(|r| (r.id, r.assignment_id))
                .collect(),
            tasks: if rows.iter().any(|e| scope::task_of_row(e).is_some()) {
                let state = app_state(ctx)?;
                crate::service::items::tasks::read::visible_tasks(&state.db, actor, self.id)
                    .await?
                    .into_iter()
                    .map(|t| t.id)
                    .collect()
            } else {
                std::collections::HashSet::new()
            },
        };
        let rows = scope::redact_audit_trail(actor, &own, &owners, rows);
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// 期限说明：在办事项按当前日历推算（自交办时刻起；未交办时自现在起）；已销号、已撤销的事项
    /// 保持办结（撤销）时的期限，不随日历更新而改变
    async fn deadline_explanation(&self, ctx: &Context<'_>) -> async_graphql::Result<Deadline> {
        let state = app_state(ctx)?;
        let assignments = rows_of::<AssignmentsByItem>(ctx, self.id).await?;
        let lead = scope::live_lead_of(&assignments);
        if matches!(self.stage, Stage::Closed | Stage::Cancelled) {
            let trail = rows_of::<AuditByItem>(ctx, self.id).await?;
            let rule: DeadlineRule = self.deadline_rule.parse().map_err(AppError::from)?;
            let frozen = crate::service::items::frozen_explanation(
                self.stage.into(),
                &trail,
                lead,
                rule,
                state.deadline_policy.time_zone,
            );
            if let Some(frozen) = frozen {
                return Ok(frozen.into());
            }
        }
        let calendar = state.calendar.current()?;
        let rule: DeadlineRule = self.deadline_rule.parse().map_err(AppError::from)?;
        // An assigned item explains its lead unit's due as stored: from its assignment, with
        // the working days it spent suspended.
        let deadline = match lead {
            Some(lead) => ducha_domain::deadlines::assignment_due(
                &calendar,
                &state.deadline_policy,
                ducha_domain::deadlines::DueInputs {
                    assigned_at: lead.created_at,
                    rule,
                    lead: true,
                    paused_working_days: lead.paused_working_days,
                },
            ),
            None => calendar.deadline(
                &state.deadline_policy,
                self.assigned_at.unwrap_or_else(|| state.clock.now()),
                rule,
            ),
        }
        .map_err(AppError::from)?;
        Ok(deadline.into())
    }

    /// 若现在交办：主办单位（lead 为 true）或协办单位的期限及推算说明（协办单位按规则早于主办单位）
    async fn due_if_assigned_now(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "主办单位为 true，协办单位为 false")] lead: bool,
    ) -> async_graphql::Result<Deadline> {
        let state = app_state(ctx)?;
        let calendar = state.calendar.current()?;
        let rule: DeadlineRule = self.deadline_rule.parse().map_err(AppError::from)?;
        let due = ducha_domain::deadlines::assignment_due(
            &calendar,
            &state.deadline_policy,
            ducha_domain::deadlines::DueInputs {
                assigned_at: state.clock.now(),
                rule,
                lead,
                paused_working_days: 0,
            },
        )
        .map_err(AppError::from)?;
        Ok(due.into())
    }
}
