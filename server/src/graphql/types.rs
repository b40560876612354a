//! API types of the supervision model, separate from the entities: the API can change
//! shape without a migration and a column can be added without an API change.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, Enum, Json, SimpleObject};
use chrono::{DateTime, Utc};
use ducha_calendar::DeadlineRule;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::Cached;
use super::calendar::Deadline;
use crate::error::{AppError, AppResult};
use crate::startup::AppState;
use entity::{assignment, attachment, audit_event, extension_request, item, person, report, unit};

macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident from $domain:path { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => $name::$variant),* }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value { $($name::$variant => <$domain>::$variant),* }
            }
        }
    };
}

api_enum! {
    /// 事项所处阶段
    Stage from ducha_domain::Stage {
        /// 已立项
        Registered,
        /// 已交办
        Assigned,
        /// 承办中
        InProgress,
        /// 已反馈
        FeedbackSubmitted,
        /// 已核查
        Verified,
        /// 已销号
        Closed,
        /// 已挂起
        Suspended,
        /// 已撤销
        Cancelled,
    }
}

api_enum! {
    /// 用户角色
    Role from ducha_domain::Role {
        /// 系统管理员
        Admin,
        /// 督查室
        Supervisor,
        /// 区领导
        Leader,
        /// 承办单位主要负责人
        UnitHead,
        /// 承办单位经办人
        UnitStaff,
    }
}

api_enum! {
    /// 事项来源
    SourceKind from ducha_domain::SourceKind {
        /// 上级督查检查
        UpperInspection,
        /// 上级领导批示
        UpperLeaderInstruction,
        /// 本级领导批示、交办
        LeaderInstruction,
        /// 政府工作报告任务、民生实事
        GovWorkReport,
        /// 重要会议决定事项
        MeetingDecision,
        /// 重要文件贯彻落实
        KeyDocument,
        /// 重点项目、重大工程
        KeyProject,
        /// 审计整改
        AuditRectification,
        /// 人大代表建议
        NpcSuggestion,
        /// 政协提案
        CppccProposal,
        /// 社会热点难点
        HotIssue,
        /// 互联网+督查留言、媒体问政
        InternetMessage,
        /// 新闻媒体批评
        MediaCriticism,
        /// 信访、12345热线
        PetitionHotline,
        /// 其他交办事项
        Other,
    }
}

api_enum! {
    /// 紧急程度
    Urgency from ducha_domain::Urgency {
        /// 特急
        Critical,
        /// 急
        Urgent,
        /// 一般
        Normal,
    }
}

api_enum! {
    /// 蓝黄红三色
    Colour from ducha_domain::colour::Colour {
        /// 正常
        None,
        /// 蓝色：临期
        Blue,
        /// 黄色：逾期或被退回
        Yellow,
        /// 红色：严重逾期、多次退回或回头看发现问题
        Red,
    }
}

/// Colours of items, computed for a whole batch at once at the request's instant.
pub struct ColourLoader(pub AppState);

impl Loader<i64> for ColourLoader {
    type Value = crate::service::colours::ItemColours;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let run = async {
            let state = &self.0;
            let items = item::Entity::find()
                .filter(item::Column::Id.is_in(keys.iter().copied()))
                .all(&state.db)
                .await?;
            let rule_set = crate::service::colours::RuleSet::load(state).await?;
            let rules = rule_set.rules();
            crate::service::colours::colours_for_items(&state.db, &rules, &items, state.clock.now())
                .await
        };
        run.await.map_err(Arc::new)
    }
}

/// Unit colours: every unit's standing is computed once per request.
pub struct UnitColourLoader(pub AppState);

impl Loader<i64> for UnitColourLoader {
    type Value = (ducha_domain::colour::Verdict, f64);
    type Error = Arc<AppError>;

    async fn load(&self, _keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let run = async {
            let state = &self.0;
            let rule_set = crate::service::colours::RuleSet::load(state).await?;
            let rules = rule_set.rules();
            let (standings, _, _) =
                crate::service::colours::unit_standings(&state.db, &rules, state.clock.now())
                    .await?;
            Ok::<_, AppError>(
                standings
                    .into_iter()
                    .map(|s| {
                        let rate = if s.closed > 0 {
                            s.closed_on_time as f64 * 100.0 / s.closed as f64
                        } else {
                            100.0
                        };
                        (s.unit.id, (s.verdict, rate))
                    })
                    .collect(),
            )
        };
        run.await.map_err(Arc::new)
    }
}

async fn item_colours(
    ctx: &Context<'_>,
    item_id: i64,
) -> AppResult<crate::service::colours::ItemColours> {
    let loader = ctx
        .data::<Cached<ColourLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no colour loader")))?;
    loader
        .load_one(item_id)
        .await
        .map_err(loader_error)?
        .ok_or_else(|| AppError::NotFound(format!("事项 {item_id} 不存在")))
}

/// The item's verdict as the reader may see it: the worst of all units for the office and
/// leaders, the reader's own assignment's for a unit (another unit's reason names its due
/// and its troubles; see `service::scope::redact_audit_trail` for the rule).
async fn visible_verdict(
    ctx: &Context<'_>,
    item_id: i64,
) -> AppResult<ducha_domain::colour::Verdict> {
    let actor = super::actor(ctx)?;
    let colours = item_colours(ctx, item_id).await?;
    if actor.role.sees_everything() {
        return Ok(colours.item);
    }
    Ok(actor
        .own_unit()
        .and_then(|unit| colours.by_unit.get(&unit).cloned())
        .unwrap_or(colours.item))
}

/// 单位类型
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UnitKind {
    /// 部门
    Department,
    /// 街道
    Subdistrict,
    /// 园区
    Park,
    /// 乡镇
    Town,
    /// 其他
    Other,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Department => "DEPARTMENT",
            UnitKind::Subdistrict => "SUBDISTRICT",
            UnitKind::Park => "PARK",
            UnitKind::Town => "TOWN",
            UnitKind::Other => "OTHER",
        }
    }

    fn parse(text: &str) -> UnitKind {
        match text {
            "DEPARTMENT" => UnitKind::Department,
            "SUBDISTRICT" => UnitKind::Subdistrict,
            "PARK" => UnitKind::Park,
            "TOWN" => UnitKind::Town,
            _ => UnitKind::Other,
        }
    }
}

/// 交办记录状态
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AssignmentStatus {
    /// 承办中
    Active,
    /// 已申请退回，待督查室处理
    ReturnRequested,
    /// 已改派其他单位
    Withdrawn,
}

/// 进展报送周期的计算单位
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReportCycleUnit {
    /// 日历日（到期日遇节假日顺延至下一工作日）
    CalendarDays,
    /// 工作日
    WorkingDays,
}

/// 报告类别
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReportKind {
    /// 进展报告
    Progress,
    /// 办结反馈
    Feedback,
}

fn internal(what: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored value out of range: {what}"))
}

pub fn stage_of(text: &str) -> AppResult<Stage> {
    ducha_domain::Stage::parse(text)
        .map(Stage::from)
        .ok_or_else(|| internal(text))
}

// ---------- DataLoaders: one query per page, not per row ----------

pub struct UnitLoader(pub DatabaseConnection);
pub struct PersonLoader(pub DatabaseConnection);

impl Loader<i64> for UnitLoader {
    type Value = unit::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = unit::Entity::find()
            .filter(unit::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(|e| Arc::new(AppError::from(e)))?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}

impl Loader<i64> for PersonLoader {
    type Value = person::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = person::Entity::find()
            .filter(person::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(|e| Arc::new(AppError::from(e)))?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// Live (not withdrawn) and withdrawn assignments of many items at once.
pub struct AssignmentsByItem(pub DatabaseConnection);

impl Loader<i64> for AssignmentsByItem {
    type Value = Vec<assignment::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = assignment::Entity::find()
            .filter(assignment::Column::ItemId.is_in(keys.iter().copied()))
            .order_by_asc(assignment::Column::Id)
            .all(&self.0)
            .await
            .map_err(|e| Arc::new(AppError::from(e)))?;
        let mut map: HashMap<i64, Vec<assignment::Model>> = HashMap::new();
        for row in rows {
            map.entry(row.item_id).or_default().push(row);
        }
        Ok(map)
    }
}

/// Rows of one table belonging to many items, one query for all, in id order: the reports,
/// extension requests and audit trails of a page of items.
macro_rules! rows_by_item {
    ($(#[$doc:meta])* $loader:ident, $entity:ident, $item_of:expr) => {
        $(#[$doc])*
        pub struct $loader(pub DatabaseConnection);

        impl Loader<i64> for $loader {
            type Value = Vec<$entity::Model>;
            type Error = Arc<AppError>;

            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::ItemId.is_in(keys.iter().copied()))
                    .order_by_asc($entity::Column::Id)
                    .all(&self.0)
                    .await
                    .map_err(|e| Arc::new(AppError::from(e)))?;
                let mut map: HashMap<i64, Self::Value> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                let item_of: fn(&$entity::Model) -> Option<i64> = $item_of;
                for row in rows {
                    if let Some(item_id) = item_of(&row) {
                        map.entry(item_id).or_default().push(row);
                    }
                }
                Ok(map)
            }
        }
    };
}

rows_by_item!(
    /// Progress reports and feedback of many items.
    ReportsByItem,
    report,
    |r| Some(r.item_id)
);
rows_by_item!(
    /// Extension requests of many items.
    ExtensionsByItem,
    extension_request,
    |r| Some(r.item_id)
);
rows_by_item!(
    /// Audit trails of many items.
    AuditByItem,
    audit_event,
    |r| r.item_id
);

/// Which per-item lists a page asks for, so that priming loads only those.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageWants {
    pub reports: bool,
    pub extension_requests: bool,
    pub audit_trail: bool,
    /// The item's or its assignments' colour or reason.
    pub colours: bool,
}

impl PageWants {
    /// Reads the selection under `edges { node { … } }` of a connection field.
    pub fn of_connection(ctx: &Context<'_>) -> PageWants {
        let node = ctx.look_ahead().field("edges").field("node");
        PageWants {
            reports: node.field("reports").exists(),
            extension_requests: node.field("extensionRequests").exists(),
            audit_trail: node.field("auditTrail").exists(),
            colours: node.field("colour").exists()
                || node.field("colourReason").exists()
                || node.field("assignments").field("colour").exists()
                || node.field("assignments").field("colourReason").exists(),
        }
    }
}

async fn prime_rows<L>(loader: Option<&Cached<L>>, item_ids: &[i64]) -> AppResult<()>
where
    L: Loader<i64, Error = Arc<AppError>>,
    L::Value: Clone,
{
    if let Some(loader) = loader {
        let rows = loader.loader().load(item_ids).await.map_err(loader_error)?;
        loader.feed_many(rows).await;
    }
    Ok(())
}

/// Loads, in one query each, the assignments of a page of items, their units and the people
/// the page names (responsible and portfolio leaders), and primes the request's loaders with
/// them: a page costs the same number of queries whatever its size, with no timing window.
pub async fn prime_page(
    ctx: &Context<'_>,
    items: &[item::Model],
    wants: PageWants,
) -> AppResult<()> {
    let (Ok(assignments), Ok(units), Ok(people)) = (
        ctx.data::<Cached<AssignmentsByItem>>(),
        ctx.data::<Cached<UnitLoader>>(),
        ctx.data::<Cached<PersonLoader>>(),
    ) else {
        return Ok(());
    };
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let by_item = assignments
        .loader()
        .load(&item_ids)
        .await
        .map_err(loader_error)?;
    let unit_ids: Vec<i64> = by_item.values().flatten().map(|a| a.unit_id).collect();
    let unit_rows = units.loader().load(&unit_ids).await.map_err(loader_error)?;
    let person_ids: Vec<i64> = items
        .iter()
        .filter_map(|i| i.responsible_leader_id)
        .chain(unit_rows.values().filter_map(|u| u.portfolio_leader_id))
        .collect();
    let person_rows = people
        .loader()
        .load(&person_ids)
        .await
        .map_err(loader_error)?;
    let complete = item_ids
        .iter()
        .map(|id| (*id, by_item.get(id).cloned().unwrap_or_default()));
    assignments.feed_many(complete).await;
    units.feed_many(unit_rows).await;
    people.feed_many(person_rows).await;
    if wants.reports {
        prime_rows(ctx.data::<Cached<ReportsByItem>>().ok(), &item_ids).await?;
    }
    if wants.extension_requests {
        prime_rows(ctx.data::<Cached<ExtensionsByItem>>().ok(), &item_ids).await?;
    }
    if wants.audit_trail {
        prime_rows(ctx.data::<Cached<AuditByItem>>().ok(), &item_ids).await?;
    }
    if let (true, Ok(colours), Ok(state)) = (
        wants.colours,
        ctx.data::<Cached<ColourLoader>>(),
        AppState::from(ctx),
    ) {
        // The page's items are at hand: the loader need not read them again.
        let rule_set = crate::service::colours::RuleSet::load(state).await?;
        let computed = crate::service::colours::colours_for_items(
            &state.db,
            &rule_set.rules(),
            items,
            state.clock.now(),
        )
        .await?;
        colours.feed_many(computed).await;
    }
    Ok(())
}

fn loader_error(e: Arc<AppError>) -> AppError {
    AppError::Internal(anyhow::anyhow!("loading related rows: {e}"))
}

async fn load_unit(ctx: &Context<'_>, id: i64) -> AppResult<Option<Unit>> {
    let loader = ctx
        .data::<Cached<UnitLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no unit loader")))?;
    Ok(loader
        .load_one(id)
        .await
        .map_err(loader_error)?
        .map(Unit::from))
}

async fn load_person(ctx: &Context<'_>, id: Option<i64>) -> AppResult<Option<Person>> {
    let Some(id) = id else { return Ok(None) };
    let loader = ctx
        .data::<Cached<PersonLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no person loader")))?;
    Ok(loader
        .load_one(id)
        .await
        .map_err(loader_error)?
        .map(Person::from))
}

// ---------- Objects ----------

/// 联系人
#[derive(SimpleObject, Clone)]
pub struct Contact {
    pub name: String,
    pub email: String,
}

/// 承办单位（部门、街道、园区、乡镇）
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Unit {
    pub id: i64,
    pub name: String,
    pub kind: UnitKind,
    /// 主要负责人
    pub head_name: Option<String>,
    pub contacts: Vec<Contact>,
    #[graphql(skip)]
    pub portfolio_leader_id: Option<i64>,
}

impl From<unit::Model> for Unit {
    fn from(u: unit::Model) -> Self {
        let contacts = u
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
            .unwrap_or_default();
        Unit {
            id: u.id,
            name: u.name,
            kind: UnitKind::parse(&u.kind),
            head_name: u.head_name,
            contacts,
            portfolio_leader_id: u.portfolio_leader_id,
        }
    }
}

#[ComplexObject]
impl Unit {
    /// 单位当前颜色（按其在办事项颜色和近期按时办结率）
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        Ok(unit_verdict(ctx, self.id).await?.0.colour.into())
    }

    /// 颜色的原因，列出相关事项编号（按系统设置，承办单位人员可能只看到本单位的）
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let state = AppState::from(ctx)?;
        let reader = super::actor(ctx)?;
        if state.unit_report_access == crate::config::UnitReportAccess::OwnUnit
            && !reader.role.sees_everything()
            && reader.own_unit() != Some(self.id)
        {
            return Ok("按本系统设置，其他单位的颜色原因不向承办单位公开".into());
        }
        Ok(unit_verdict(ctx, self.id).await?.0.reason)
    }

    /// 对应措施：提醒、通报或约谈 [000 Art.68]
    async fn colour_measure(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(
            ducha_domain::colour::unit_measure(unit_verdict(ctx, self.id).await?.0.colour)
                .to_string(),
        )
    }

    /// 分管区领导
    async fn portfolio_leader(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, self.portfolio_leader_id).await?)
    }
}

/// 用户
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    #[graphql(skip)]
    pub unit_id: Option<i64>,
}

impl From<person::Model> for Person {
    fn from(p: person::Model) -> Self {
        Person {
            id: p.id,
            name: p.name,
            email: p.email,
            role: ducha_domain::Role::parse(&p.role)
                .map(Role::from)
                .unwrap_or(Role::UnitStaff),
            unit_id: p.unit_id,
        }
    }
}

#[ComplexObject]
impl Person {
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        match self.unit_id {
            Some(id) => Ok(load_unit(ctx, id).await?),
            None => Ok(None),
        }
    }
}

/// 督办事项
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Item {
    pub id: i64,
    /// 督办编号，如“督〔2026〕15号”
    pub serial: String,
    pub title: String,
    /// 办理要求
    pub requirements: String,
    pub source_kind: SourceKind,
    /// 来源文号（批示件号、会议纪要号、文号）
    pub source_reference: String,
    pub urgency: Urgency,
    /// 期限规则，如“3个工作日”
    pub deadline_rule: String,
    /// 期限是否由事项明确规定（否则按来源类别的默认规则）
    pub deadline_explicit: bool,
    /// 进展报送周期（天数，单位见 reportCycleUnit）
    pub report_cycle_days: Option<i32>,
    /// 进展报送周期的计算单位
    pub report_cycle_unit: Option<ReportCycleUnit>,
    pub stage: Stage,
    pub assigned_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// 按原期限是否按时办结
    pub closed_on_time_original: Option<bool>,
    /// 按延期后期限是否按时办结
    pub closed_on_time_extended: Option<bool>,
    /// 乐观锁版本号：修改时须提交，过期则返回 CONFLICT
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub responsible_leader_id: Option<i64>,
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
            stage: stage_of(&i.stage)?,
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
        })
    }
}

async fn unit_verdict(
    ctx: &Context<'_>,
    unit_id: i64,
) -> AppResult<(ducha_domain::colour::Verdict, f64)> {
    let loader = ctx
        .data::<Cached<UnitColourLoader>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no unit colour loader")))?;
    loader
        .load_one(unit_id)
        .await
        .map_err(loader_error)?
        .ok_or_else(|| AppError::NotFound(format!("单位 {unit_id} 不存在")))
}

/// The ids of an item's assignments that `actor` may see (all, or their unit's own).
/// The ids of the item's assignments the actor may see (scope rules as `scope::assignments_for`),
/// from the request's assignment loader.
async fn visible_assignment_ids(
    ctx: &Context<'_>,
    actor: &crate::auth::Actor,
    item_id: i64,
) -> AppResult<Vec<i64>> {
    let rows = cached::<AssignmentsByItem>(ctx)?
        .load_one(item_id)
        .await
        .map_err(loader_error)?
        .unwrap_or_default();
    let own = actor.own_unit();
    Ok(rows
        .into_iter()
        .filter(|a| actor.role.sees_everything() || Some(a.unit_id) == own)
        .map(|a| a.id)
        .collect())
}

fn cached<'a, L: Loader<i64>>(ctx: &Context<'a>) -> AppResult<&'a Cached<L>> {
    ctx.data::<Cached<L>>().map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "request prepared without {}",
            std::any::type_name::<L>()
        ))
    })
}

#[ComplexObject]
impl Item {
    /// 事项当前颜色（蓝黄红），取各承办单位中最严重的；承办单位人员看到的是本单位的
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        Ok(visible_verdict(ctx, self.id).await?.colour.into())
    }

    /// 颜色的原因（承办单位人员只看到本单位的原因）
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(visible_verdict(ctx, self.id).await?.reason)
    }

    /// 责任领导
    async fn responsible_leader(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, self.responsible_leader_id).await?)
    }

    /// 各承办单位的交办记录（承办单位只能看到本单位的）
    async fn assignments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Assignment>> {
        let actor = super::actor(ctx)?;
        let loader = ctx
            .data::<Cached<AssignmentsByItem>>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("no assignment loader")))?;
        let rows = loader
            .load_one(self.id)
            .await
            .map_err(loader_error)?
            .unwrap_or_default();
        let own = actor.own_unit();
        Ok(rows
            .into_iter()
            .filter(|a| actor.role.sees_everything() || Some(a.unit_id) == own)
            .map(Assignment::from)
            .collect())
    }

    /// 进展报告与办结反馈
    async fn reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Report>> {
        let actor = super::actor(ctx)?;
        let visible = visible_assignment_ids(ctx, actor, self.id).await?;
        let rows = cached::<ReportsByItem>(ctx)?
            .load_one(self.id)
            .await
            .map_err(loader_error)?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|r| visible.contains(&r.assignment_id))
            .map(Report::from)
            .collect())
    }

    /// 延期申请及审批
    async fn extension_requests(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ExtensionRequest>> {
        let actor = super::actor(ctx)?;
        let visible = visible_assignment_ids(ctx, actor, self.id).await?;
        let rows = cached::<ExtensionsByItem>(ctx)?
            .load_one(self.id)
            .await
            .map_err(loader_error)?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|r| visible.contains(&r.assignment_id))
            .map(ExtensionRequest::from)
            .collect())
    }

    /// 审计记录（只增不改）：谁、何时、从哪个阶段到哪个阶段、为什么
    async fn audit_trail(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AuditEntry>> {
        let actor = super::actor(ctx)?;
        let rows = cached::<AuditByItem>(ctx)?
            .load_one(self.id)
            .await
            .map_err(loader_error)?
            .unwrap_or_default();
        if actor.role.sees_everything() {
            return Ok(rows.into_iter().map(AuditEntry::from).collect());
        }
        // The request's loaders (batched over the page) say whose each record is.
        let own: std::collections::HashSet<i64> = visible_assignment_ids(ctx, actor, self.id)
            .await?
            .into_iter()
            .collect();
        let owners = crate::service::scope::RecordOwners {
            extensions: cached::<ExtensionsByItem>(ctx)?
                .load_one(self.id)
                .await
                .map_err(loader_error)?
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e.id, e.assignment_id))
                .collect(),
            reports: cached::<ReportsByItem>(ctx)?
                .load_one(self.id)
                .await
                .map_err(loader_error)?
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.id, r.assignment_id))
                .collect(),
        };
        let rows = crate::service::scope::redact_audit_trail(actor, &own, &owners, rows);
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// 期限说明：在办事项按当前日历推算（自交办时刻起；未交办时自现在起）；已销号、已撤销的事项
    /// 保持办结（撤销）时的期限，不随日历更新而改变
    async fn deadline_explanation(&self, ctx: &Context<'_>) -> async_graphql::Result<Deadline> {
        let state = AppState::from(ctx)?;
        if matches!(self.stage, Stage::Closed | Stage::Cancelled) {
            let trail = cached::<AuditByItem>(ctx)?
                .load_one(self.id)
                .await
                .map_err(loader_error)?
                .unwrap_or_default();
            let assignments = cached::<AssignmentsByItem>(ctx)?
                .load_one(self.id)
                .await
                .map_err(loader_error)?
                .unwrap_or_default();
            let rule: DeadlineRule = self.deadline_rule.parse().map_err(AppError::from)?;
            let frozen = crate::service::items::frozen_explanation(
                self.stage.into(),
                &trail,
                assignments
                    .iter()
                    .find(|a| a.lead && a.status != crate::service::WITHDRAWN),
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
        let lead = cached::<AssignmentsByItem>(ctx)?
            .load_one(self.id)
            .await
            .map_err(loader_error)?
            .unwrap_or_default()
            .into_iter()
            .find(|a| a.lead && a.status != crate::service::WITHDRAWN);
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
}

/// 交办记录：一个事项交给一个单位（主办或协办），各有期限
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Assignment {
    pub id: i64,
    /// 是否主办单位
    pub lead: bool,
    pub status: AssignmentStatus,
    /// 原期限
    pub due_at: DateTime<Utc>,
    /// 批准延期后的期限（原期限保留）
    pub extended_due_at: Option<DateTime<Utc>>,
    pub calendar_version: String,
    /// 期限依赖尚无放假通知的年份
    pub provisional: bool,
    /// 挂起期间暂停的工作日数
    pub paused_working_days: i32,
    pub signed_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub unit_id: i64,
    #[graphql(skip)]
    pub item_id: i64,
}

impl From<assignment::Model> for Assignment {
    fn from(a: assignment::Model) -> Self {
        Assignment {
            id: a.id,
            lead: a.lead,
            status: match a.status.as_str() {
                "RETURN_REQUESTED" => AssignmentStatus::ReturnRequested,
                "WITHDRAWN" => AssignmentStatus::Withdrawn,
                _ => AssignmentStatus::Active,
            },
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
        }
    }
}

#[ComplexObject]
impl Assignment {
    /// 该单位承办部分的颜色
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        let colours = item_colours(ctx, self.item_id).await?;
        Ok(colours
            .by_assignment
            .get(&self.id)
            .map(|v| v.colour)
            .unwrap_or(ducha_domain::colour::Colour::None)
            .into())
    }

    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let colours = item_colours(ctx, self.item_id).await?;
        Ok(colours
            .by_assignment
            .get(&self.id)
            .map(|v| v.reason.clone())
            .unwrap_or_else(|| "已改派".into()))
    }

    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_unit(ctx, self.unit_id).await?)
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
    pub id: i64,
    pub kind: ReportKind,
    pub body: String,
    /// 核查结论：ACCEPTED 通过，REJECTED 退回重办
    pub verdict: Option<String>,
    pub verdict_reason: Option<String>,
    pub verdict_at: Option<DateTime<Utc>>,
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
            verdict: r.verdict,
            verdict_reason: r.verdict_reason,
            verdict_at: r.verdict_at,
            created_at: r.created_at,
            author_id: r.author_id,
        }
    }
}

#[ComplexObject]
impl Report {
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, Some(self.author_id)).await?)
    }

    /// 附件
    async fn attachments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        let state = AppState::from(ctx)?;
        let rows = attachment::Entity::find()
            .filter(attachment::Column::ReportId.eq(self.id))
            .order_by_asc(attachment::Column::Id)
            .all(&state.db)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }
}

/// 附件（按内容的 SHA-256 存储）
#[derive(SimpleObject, Clone)]
pub struct Attachment {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    /// 字节数
    pub size: i64,
    pub sha256: String,
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
pub struct ExtensionRequest {
    pub id: i64,
    pub assignment_id: i64,
    pub reason: String,
    pub proposed_due_at: DateTime<Utc>,
    /// APPROVED 批准，REJECTED 不批准，空为待审批
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<extension_request::Model> for ExtensionRequest {
    fn from(e: extension_request::Model) -> Self {
        ExtensionRequest {
            id: e.id,
            assignment_id: e.assignment_id,
            reason: e.reason,
            proposed_due_at: e.proposed_due_at,
            decision: e.decision,
            decision_reason: e.decision_reason,
            decided_at: e.decided_at,
            created_at: e.created_at,
        }
    }
}

/// 审计记录
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// 操作，如 ASSIGN、SIGN、REJECT、RECALCULATE_DUE
    pub action: String,
    pub from_stage: Option<Stage>,
    pub to_stage: Option<Stage>,
    pub reason: Option<String>,
    pub assignment_id: Option<i64>,
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
            assignment_id: e.assignment_id,
            details: Json(e.details),
            actor_id: e.actor_id,
        }
    }
}

#[ComplexObject]
impl AuditEntry {
    /// 操作人（系统自动操作时为空）
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, self.actor_id).await?)
    }
}
