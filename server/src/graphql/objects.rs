//! API types of the supervision model, separate from the entities: the API can change
//! shape without a migration and a column can be added without an API change.

use async_graphql::{ComplexObject, Context, Json, SimpleObject};
use chrono::{DateTime, Utc};
use ducha_calendar::DeadlineRule;
use sea_orm::ActiveEnum;

use super::calendar::Deadline;
use super::context::app_state;
use super::enums::*;
use super::ids::{AssignmentId, GlobalId, NodeKind};
use super::loaders::*;
use crate::error::{AppError, AppResult};
use crate::service::colours::ItemColours;
use crate::service::rows::ItemRows;
use crate::service::scope;
use entity::{assignment, attachment, audit_event, extension_request, item, person, report, unit};
use std::borrow::Cow;
use std::sync::Arc;

/// 联系人
#[derive(SimpleObject, Clone)]
pub struct Contact {
    /// 姓名
    pub name: String,
    /// 邮箱
    pub email: String,
}

/// A unit, as the instance's directory holds its row: shared rather than copied, since a
/// page names the same few units on many of its assignments.
#[derive(Clone)]
pub struct Unit(pub UnitRow);

impl From<unit::Model> for Unit {
    fn from(u: unit::Model) -> Self {
        Unit(std::sync::Arc::new(u))
    }
}

impl From<UnitRow> for Unit {
    fn from(u: UnitRow) -> Self {
        Unit(u)
    }
}

/// 承办单位（部门、街道、园区、乡镇）
#[async_graphql::Object(name = "Unit")]
impl Unit {
    /// 单位名称
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// 单位类型
    async fn kind(&self) -> UnitKind {
        self.0.kind.into()
    }

    /// 主要负责人
    async fn head_name(&self) -> Option<&str> {
        self.0.head_name.as_deref()
    }

    /// 联系人（接收督办通知和提醒）
    async fn contacts(&self) -> Vec<Contact> {
        self.0
            .contacts
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| {
                        Some(Contact {
                            name: c.get("name")?.as_str()?.to_string(),
                            email: c.get("email")?.as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Unit, self.0.id)
    }

    /// 单位编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.0.id
    }

    /// 单位当前颜色（按其在办事项颜色和近期按时办结率）
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        Ok(unit_verdict(ctx, self.0.id).await?.0.colour.into())
    }

    /// 颜色的原因，列出相关事项编号（按系统设置，承办单位人员可能只看到本单位的）
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let state = app_state(ctx)?;
        let reader = super::context::actor(ctx)?;
        if state.unit_report_access == crate::config::UnitReportAccess::OwnUnit
            && !scope::sees_unit(reader, self.0.id)
        {
            return Ok("按本系统设置，其他单位的颜色原因不向承办单位公开".into());
        }
        Ok(unit_verdict(ctx, self.0.id).await?.0.reason)
    }

    /// 对应措施：提醒、通报或约谈 [000 Art.68]
    async fn colour_measure(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(
            ducha_domain::colour::unit_measure(unit_verdict(ctx, self.0.id).await?.0.colour)
                .to_string(),
        )
    }

    /// 分管区领导
    async fn portfolio_leader(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, self.0.portfolio_leader_id)
            .await?
            .map(Person::from))
    }
}

/// 用户
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Person {
    #[graphql(skip)]
    pub id: i64,
    /// 姓名
    pub name: String,
    /// 邮箱（接收督办通知和提醒）
    pub email: Option<String>,
    /// 角色
    pub role: Role,
    #[graphql(skip)]
    pub unit_id: Option<i64>,
    /// 网页登录账号；为空表示只能用令牌访问
    pub account: Option<String>,
}

impl From<person::Model> for Person {
    fn from(p: person::Model) -> Self {
        Person {
            id: p.id,
            name: p.name,
            email: p.email,
            role: ducha_domain::Role::from(p.role).into(),
            unit_id: p.unit_id,
            account: p.account,
        }
    }
}

#[ComplexObject]
impl Person {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Person, self.id)
    }

    /// 人员编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 所属单位（督查室、区领导、系统管理员为空）
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        match self.unit_id {
            Some(id) => Ok(load_unit(ctx, id).await?.map(Unit::from)),
            None => Ok(None),
        }
    }
}

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
        let actor = super::context::actor(ctx)?;
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
            read_with: ReadWith::default(),
        })
    }
}

#[ComplexObject]
impl Item {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    async fn id(&self) -> GlobalId {
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
        let actor = super::context::actor(ctx)?;
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
        let actor = super::context::actor(ctx)?;
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
        let actor = super::context::actor(ctx)?;
        let visible = visible_assignment_ids(ctx, actor, self.id).await?;
        let rows = rows_of::<ReportsByItem>(ctx, self.id).await?;
        Ok(rows
            .into_iter()
            .filter(|r| visible.contains(&r.assignment_id))
            .map(Report::from)
            .collect())
    }

    /// 领导批示，早的在前
    async fn instructions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::instruction::Instruction>> {
        super::instruction::of_item(ctx, self.id).await
    }

    /// 立项时随事项上传的文件
    async fn files(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::item_files::ItemFile>> {
        super::item_files::of_item(ctx, self.id).await
    }

    /// 当前用户是否关注该事项
    async fn followed_by_me(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        super::instruction::followed_by_reader(ctx, self.id).await
    }

    /// 延期申请及审批
    pub async fn extension_requests(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ExtensionRequest>> {
        let actor = super::context::actor(ctx)?;
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
        let actor = super::context::actor(ctx)?;
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

/// 交办记录：一个事项交给一个单位（主办或协办），各有期限
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Assignment {
    #[graphql(skip)]
    pub id: i64,
    /// 是否主办单位
    pub lead: bool,
    /// 交办记录状态
    pub status: AssignmentStatus,
    /// 原期限
    pub due_at: DateTime<Utc>,
    /// 批准延期后的期限（原期限保留）
    pub extended_due_at: Option<DateTime<Utc>>,
    /// 计算期限所用的日历版本
    pub calendar_version: String,
    /// 期限依赖尚无放假通知的年份
    pub provisional: bool,
    /// 挂起期间暂停的工作日数
    pub paused_working_days: i32,
    /// 签收时刻（UTC）；未签收为空
    pub signed_at: Option<DateTime<Utc>>,
    /// 退回理由（单位申请退回时填写）
    pub return_reason: Option<String>,
    /// 交办时刻（UTC），期限自此起算
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub unit_id: i64,
    #[graphql(skip)]
    pub item_id: i64,
    /// Its item's colours, when the item's reader computed them.
    #[graphql(skip)]
    pub item_colours: Option<Arc<ItemColours>>,
}

impl Assignment {
    /// Its verdict, as `pick` takes from it (none for a withdrawn assignment).
    async fn verdict<T>(
        &self,
        ctx: &Context<'_>,
        pick: impl FnOnce(Option<&ducha_domain::colour::Verdict>) -> T,
    ) -> AppResult<T> {
        match &self.item_colours {
            Some(colours) => Ok(pick(colours.by_assignment.get(&self.id))),
            None => Ok(pick(
                item_colours(ctx, self.item_id)
                    .await?
                    .by_assignment
                    .get(&self.id),
            )),
        }
    }
}

impl From<assignment::Model> for Assignment {
    fn from(a: assignment::Model) -> Self {
        Assignment {
            id: a.id,
            lead: a.lead,
            status: a.status.into(),
            due_at: a.due_at,
            extended_due_at: a.extended_due_at,
            calendar_version: a.calendar_version,
            provisional: a.provisional,
            paused_working_days: a.paused_working_days,
            signed_at: a.signed_at,
            return_reason: a.return_reason,
            created_at: a.created_at,
            unit_id: a.unit_id,
            item_id: a.item_id,
            item_colours: None,
        }
    }
}

#[ComplexObject]
impl Assignment {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Assignment, self.id)
    }

    /// 交办记录编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 该单位承办部分的颜色
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        Ok(self
            .verdict(ctx, |v| {
                v.map_or(ducha_domain::colour::Colour::None, |v| v.colour)
            })
            .await?
            .into())
    }

    /// 该单位承办部分颜色的原因
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Cow<'_, str>> {
        // A withdrawn assignment has no verdict: it was reassigned.
        const REASSIGNED: &str = "已改派";
        match &self.item_colours {
            Some(colours) => Ok(Cow::Borrowed(
                colours
                    .by_assignment
                    .get(&self.id)
                    .map_or(REASSIGNED, |v| v.reason.as_str()),
            )),
            None => Ok(Cow::Owned(
                self.verdict(ctx, |v| v.map_or(REASSIGNED, |v| &v.reason).to_string())
                    .await?,
            )),
        }
    }

    /// 承办单位
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_unit(ctx, self.unit_id).await?.map(Unit::from))
    }

    /// 当前有效期限（延期后的，或原期限）
    async fn effective_due_at(&self) -> DateTime<Utc> {
        self.extended_due_at.unwrap_or(self.due_at)
    }
}

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
    async fn id(&self) -> GlobalId {
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
    async fn id(&self) -> GlobalId {
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
    async fn id(&self) -> GlobalId {
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

/// 可按全局标识取得的对象（Relay 规范的 Node 接口）
#[derive(async_graphql::Interface)]
#[graphql(field(name = "id", ty = "GlobalId", desc = "全局标识（不透明）"))]
pub enum Node {
    Item(Item),
    Unit(Unit),
    Person(Person),
    Assignment(Assignment),
    Report(Report),
    ExtensionRequest(ExtensionRequest),
    Attachment(Attachment),
}
