//! Queries and one mutation per lifecycle verb (README, Usage): an `input` object in, a
//! payload with the changed object out, errors with `extensions.code`.

use async_graphql::connection::{Connection, Edge, EmptyFields, query};
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use ducha_domain::Action;

use super::context::{actor, app_state, verb_context};
use super::enums::{Colour, ReportCycleUnit, Role, SourceKind, Stage, UnitKind, Urgency};
use super::loaders::{PageWants, prime_page};
use super::objects::{ExtensionRequest, Item, Person, Report, Unit};
use super::scalars::Date;
use crate::error::{AppError, AppResult};
use crate::service::{items as verbs, listing, org, scope};
use crate::state::AppState;

/// 事项筛选条件（均为可选，同时给出时取交集）
#[derive(InputObject, Default)]
pub struct ItemFilter {
    pub stages: Option<Vec<Stage>>,
    pub unit_id: Option<i64>,
    pub source_kinds: Option<Vec<SourceKind>>,
    /// 仅逾期（当前有效期限已过且未办结）
    pub overdue: Option<bool>,
    /// 有效期限不早于
    pub due_from: Option<DateTime<Utc>>,
    /// 有效期限不晚于
    pub due_to: Option<DateTime<Utc>>,
    /// 在标题、办理要求、编号、来源文号中查找
    pub text: Option<String>,
    /// 事项当前颜色（任一即可），如只看红色：[RED]
    pub colours: Option<Vec<Colour>>,
}

impl From<ItemFilter> for listing::ItemFilter {
    fn from(f: ItemFilter) -> Self {
        listing::ItemFilter {
            stages: f.stages.map(|s| s.into_iter().map(Into::into).collect()),
            unit_id: f.unit_id,
            source_kinds: f
                .source_kinds
                .map(|k| k.into_iter().map(Into::into).collect()),
            overdue: f.overdue,
            due_from: f.due_from,
            due_to: f.due_to,
            text: f.text,
            colours: f.colours.map(|c| c.into_iter().map(Into::into).collect()),
        }
    }
}

pub const MAX_PAGE: usize = 100;

#[derive(Default)]
pub struct ItemQuery;

#[Object]
impl ItemQuery {
    /// 当前登录用户
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        let state = app_state(ctx)?;
        Ok(listing::me(&state.db, actor(ctx)?).await?.into())
    }

    /// 督办事项列表（游标分页，first 不超过100）
    async fn items(
        &self,
        ctx: &Context<'_>,
        filter: Option<ItemFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Item, EmptyFields, EmptyFields>> {
        let state = app_state(ctx)?;
        let actor = actor(ctx)?.clone();
        let first = first.unwrap_or(20);
        if !(1..=MAX_PAGE as i32).contains(&first) {
            return Err(AppError::BadUserInput(format!("first 应在1至{MAX_PAGE}之间")).into());
        }
        let filter = filter.map(listing::ItemFilter::from).unwrap_or_default();
        let now = state.clock.now();
        query(
            after,
            None,
            Some(first),
            None,
            |after: Option<String>, _: Option<String>, first, _| async move {
                let after_id = match after {
                    Some(cursor) => Some(
                        cursor
                            .parse::<i64>()
                            .map_err(|_| AppError::BadUserInput("游标无效".into()))?,
                    ),
                    None => None,
                };
                let page = listing::items_page(
                    &state.db,
                    &actor,
                    &filter,
                    after_id,
                    first.unwrap_or(20) as u64,
                    async || state.rule_set().await,
                    now,
                )
                .await?;
                prime_page(ctx, &page.rows, PageWants::of_connection(ctx)).await?;
                let (rows, has_next) = (page.rows, page.has_next);
                let mut connection = Connection::new(after_id.is_some(), has_next);
                for row in rows {
                    connection
                        .edges
                        .push(Edge::new(row.id.to_string(), Item::try_from(row)?));
                }
                Ok::<_, AppError>(connection)
            },
        )
        .await
    }

    /// 一个事项（承办单位只能查看本单位承办的事项）
    async fn item(&self, ctx: &Context<'_>, id: i64) -> async_graphql::Result<Item> {
        let state = app_state(ctx)?;
        let found = scope::visible_item(&state.db, actor(ctx)?, id).await?;
        Ok(Item::try_from(found)?)
    }

    /// 单位列表
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let state = app_state(ctx)?;
        actor(ctx)?;
        let rows = listing::units(&state.db).await?;
        Ok(rows.into_iter().map(Unit::from).collect())
    }

    /// 人员列表（承办单位人员只能看到本单位人员及区领导、督查室）
    async fn people(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Person>> {
        let state = app_state(ctx)?;
        let rows = listing::people(&state.db, actor(ctx)?).await?;
        Ok(rows.into_iter().map(Person::from).collect())
    }

    /// 各阶段事项数（按当前用户可见范围）
    async fn item_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StageCount>> {
        let state = app_state(ctx)?;
        let counts = listing::stage_counts(&state.db, actor(ctx)?).await?;
        Ok(counts
            .into_iter()
            .map(|(stage, count)| StageCount {
                stage: stage.into(),
                count: i32::try_from(count).unwrap_or(i32::MAX),
            })
            .collect())
    }
}

/// 某阶段的事项数
#[derive(SimpleObject)]
pub struct StageCount {
    pub stage: Stage,
    pub count: i32,
}

// ---------- Mutations ----------

/// 一个可能重复的在办事项
#[derive(SimpleObject)]
pub struct DuplicateWarning {
    pub item_id: i64,
    pub serial: String,
    pub title: String,
    pub message: String,
}

#[derive(InputObject)]
pub struct RegisterItemInput {
    pub title: String,
    /// 办理要求
    pub requirements: String,
    pub source_kind: SourceKind,
    #[graphql(default)]
    pub source_reference: String,
    #[graphql(default_with = "Urgency::Normal")]
    pub urgency: Urgency,
    pub responsible_leader_id: Option<i64>,
    /// 事项明确的期限，如“5个工作日”“2026-12-31”；不填则按来源类别的默认规则
    pub deadline: Option<String>,
    /// 进展报送周期（1至366），单位见 reportCycleUnit
    pub report_cycle_days: Option<i32>,
    /// 进展报送周期按日历日还是工作日计算（默认日历日；到期日遇节假日顺延至下一工作日）
    #[graphql(default_with = "ReportCycleUnit::CalendarDays")]
    pub report_cycle_unit: ReportCycleUnit,
    /// 拟交办的单位（用于重复督查提示）
    #[graphql(default)]
    pub unit_ids: Vec<i64>,
}

#[derive(SimpleObject)]
pub struct RegisterItemPayload {
    pub item: Item,
    /// 可能重复的在办事项（提示，不阻止立项）
    pub warnings: Vec<DuplicateWarning>,
}

#[derive(InputObject)]
pub struct EditItemInput {
    pub item_id: i64,
    pub version: i32,
    pub title: Option<String>,
    pub requirements: Option<String>,
    pub deadline: Option<String>,
    pub urgency: Option<Urgency>,
}

#[derive(InputObject)]
pub struct AssignItemInput {
    pub item_id: i64,
    pub version: i32,
    /// 主办（牵头）单位
    pub lead_unit_id: i64,
    /// 协办单位
    #[graphql(default)]
    pub co_unit_ids: Vec<i64>,
}

/// 只需事项和版本号的操作
#[derive(InputObject)]
pub struct ItemVersionInput {
    pub item_id: i64,
    pub version: i32,
}

/// 需要说明理由的操作
#[derive(InputObject)]
pub struct ItemReasonInput {
    pub item_id: i64,
    pub version: i32,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct ResolveReturnInput {
    pub item_id: i64,
    pub version: i32,
    pub assignment_id: i64,
    /// 改派给的单位；不填表示维持原交办
    pub reassign_to_unit_id: Option<i64>,
    pub reason: String,
}

#[derive(InputObject)]
pub struct RequestExtensionInput {
    pub item_id: i64,
    pub version: i32,
    /// 申请延至的日期
    pub proposed_due_date: Date,
    pub reason: String,
}

#[derive(InputObject)]
pub struct DecideExtensionInput {
    pub extension_request_id: i64,
    /// 事项的版本号
    pub version: i32,
    pub approve: bool,
    pub reason: Option<String>,
    /// 明确同意协办单位的新期限晚于主办单位的期限（默认不允许）
    #[graphql(default)]
    pub beyond_lead_due: bool,
}

#[derive(InputObject)]
pub struct ReportProgressInput {
    pub item_id: i64,
    pub body: String,
}

#[derive(InputObject)]
pub struct SubmitFeedbackInput {
    pub item_id: i64,
    pub version: i32,
    pub body: String,
}

#[derive(InputObject)]
pub struct VerifyItemInput {
    pub item_id: i64,
    pub version: i32,
    /// true 核查通过；false 退回重办（须说明理由）
    pub accept: bool,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct ItemPayload {
    pub item: Item,
}

#[derive(SimpleObject)]
pub struct ExtensionPayload {
    pub extension_request: ExtensionRequest,
    pub item: Item,
}

#[derive(SimpleObject)]
pub struct ReportPayload {
    pub report: Report,
    pub item: Item,
}

#[derive(InputObject)]
pub struct ContactInput {
    pub name: String,
    pub email: String,
}

#[derive(InputObject)]
pub struct CreateUnitInput {
    pub name: String,
    pub kind: UnitKind,
    pub head_name: Option<String>,
    #[graphql(default)]
    pub contacts: Vec<ContactInput>,
    pub portfolio_leader_id: Option<i64>,
}

#[derive(SimpleObject)]
pub struct UnitPayload {
    pub unit: Unit,
}

#[derive(InputObject)]
pub struct CreatePersonInput {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<i64>,
}

#[derive(SimpleObject)]
pub struct PersonPayload {
    pub person: Person,
    /// 访问令牌，仅此一次显示，请妥善转交本人
    pub token: String,
}

#[derive(InputObject)]
pub struct AttachFileInput {
    pub report_id: i64,
    /// 按 GraphQL multipart 请求规范上传的文件（不超过20MB）
    pub file: async_graphql::Upload,
}

#[derive(SimpleObject)]
pub struct AttachmentPayload {
    pub attachment: super::objects::Attachment,
}

#[derive(Default)]
pub struct ItemMutation;

async fn item_payload(state: &AppState, item_id: i64) -> AppResult<Item> {
    Item::try_from(crate::service::read::item(&state.db, item_id).await?)
}

#[Object]
impl ItemMutation {
    /// 立项（督查室）
    async fn register_item(
        &self,
        ctx: &Context<'_>,
        input: RegisterItemInput,
    ) -> async_graphql::Result<RegisterItemPayload> {
        let (created, warnings) = verbs::register(
            verb_context(ctx)?,
            verbs::RegisterInput {
                title: input.title,
                requirements: input.requirements,
                source_kind: input.source_kind.into(),
                source_reference: input.source_reference,
                urgency: input.urgency.into(),
                responsible_leader_id: input.responsible_leader_id,
                deadline: input.deadline,
                report_cycle_days: input.report_cycle_days,
                report_cycle_working_days: input.report_cycle_unit == ReportCycleUnit::WorkingDays,
                unit_ids: input.unit_ids,
            },
        )
        .await?;
        Ok(RegisterItemPayload {
            item: Item::try_from(created)?,
            warnings: warnings
                .into_iter()
                .map(|w| DuplicateWarning {
                    item_id: w.item_id,
                    serial: w.serial,
                    title: w.title,
                    message: w.reason,
                })
                .collect(),
        })
    }

    /// 修改事项（交办前）
    async fn edit_item(
        &self,
        ctx: &Context<'_>,
        input: EditItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::edit(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            verbs::EditInput {
                title: input.title,
                requirements: input.requirements,
                deadline: input.deadline,
                urgency: input.urgency.map(Into::into),
            },
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 交办：指定主办单位和协办单位，自此起算期限
    async fn assign_item(
        &self,
        ctx: &Context<'_>,
        input: AssignItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::assign(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.lead_unit_id,
            input.co_unit_ids,
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 签收（承办单位主要负责人）
    async fn sign_item(
        &self,
        ctx: &Context<'_>,
        input: ItemVersionInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::sign(verb_context(ctx)?, input.item_id, input.version).await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 申请退回：非本单位职责（须说明理由）
    async fn return_item(
        &self,
        ctx: &Context<'_>,
        input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::request_return(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.reason.as_deref().unwrap_or_default(),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 处理退回申请：改派其他单位，或维持原交办
    async fn resolve_return(
        &self,
        ctx: &Context<'_>,
        input: ResolveReturnInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::resolve_return(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.assignment_id,
            input.reassign_to_unit_id,
            &input.reason,
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 申请延期（须在期限届满前）
    async fn request_extension(
        &self,
        ctx: &Context<'_>,
        input: RequestExtensionInput,
    ) -> async_graphql::Result<ExtensionPayload> {
        let state = app_state(ctx)?;
        let created = verbs::request_extension(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.proposed_due_date.0,
            &input.reason,
        )
        .await?;
        Ok(ExtensionPayload {
            item: item_payload(state, created.item_id).await?,
            extension_request: created.into(),
        })
    }

    /// 审批延期（督查室；超过原期限10个工作日的由区领导审批）
    async fn decide_extension(
        &self,
        ctx: &Context<'_>,
        input: DecideExtensionInput,
    ) -> async_graphql::Result<ExtensionPayload> {
        let state = app_state(ctx)?;
        let decided = verbs::decide_extension(
            verb_context(ctx)?,
            input.extension_request_id,
            input.version,
            input.approve,
            input.reason.as_deref(),
            input.beyond_lead_due,
        )
        .await?;
        Ok(ExtensionPayload {
            item: item_payload(state, decided.item_id).await?,
            extension_request: decided.into(),
        })
    }

    /// 报送进展（承办单位，随时可报）
    async fn report_progress(
        &self,
        ctx: &Context<'_>,
        input: ReportProgressInput,
    ) -> async_graphql::Result<ReportPayload> {
        let state = app_state(ctx)?;
        let created =
            verbs::report_progress(verb_context(ctx)?, input.item_id, &input.body).await?;
        Ok(ReportPayload {
            item: item_payload(state, created.item_id).await?,
            report: created.into(),
        })
    }

    /// 办结反馈（主办单位主要负责人）
    async fn submit_feedback(
        &self,
        ctx: &Context<'_>,
        input: SubmitFeedbackInput,
    ) -> async_graphql::Result<ReportPayload> {
        let (updated, feedback) = verbs::submit_feedback(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            &input.body,
        )
        .await?;
        Ok(ReportPayload {
            item: Item::try_from(updated)?,
            report: feedback.into(),
        })
    }

    /// 核查：通过，或退回重办（期限仍按原期限计算）
    async fn verify_item(
        &self,
        ctx: &Context<'_>,
        input: VerifyItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::verify(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            (input.accept, input.reason.as_deref()),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 销号：记录按原期限和延期后期限是否按时办结
    async fn close_item(
        &self,
        ctx: &Context<'_>,
        input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::close(
            verb_context(ctx)?,
            input.item_id,
            input.version,
            input.reason.as_deref(),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 挂起：暂停计时（须说明理由）
    async fn suspend_item(
        &self,
        ctx: &Context<'_>,
        input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Suspend, input).await
    }

    /// 恢复：从挂起处继续计时，期限顺延挂起期间的工作日
    async fn resume_item(
        &self,
        ctx: &Context<'_>,
        input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Resume, input).await
    }

    /// 撤销（须说明理由）
    async fn cancel_item(
        &self,
        ctx: &Context<'_>,
        input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Cancel, input).await
    }

    /// 回头看：已销号事项整改不到位，重新打开（须说明理由）
    async fn reopen_item(
        &self,
        ctx: &Context<'_>,
        input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        simple_verb(ctx, Action::Reopen, input).await
    }

    /// 为本单位的进展报告或办结反馈上传附件
    async fn attach_file(
        &self,
        ctx: &Context<'_>,
        input: AttachFileInput,
    ) -> async_graphql::Result<AttachmentPayload> {
        let state = app_state(ctx)?;
        let upload = input
            .file
            .value(ctx)
            .map_err(|e| AppError::BadUserInput(format!("附件读取失败：{e}")))?;
        let created = crate::service::attachments::attach(
            &state.db,
            &state.data_dir,
            actor(ctx)?,
            state.clock.now(),
            input.report_id,
            crate::service::attachments::Upload {
                file_name: upload.filename,
                content_type: upload.content_type,
                content: upload.content,
            },
        )
        .await?;
        Ok(AttachmentPayload {
            attachment: created.into(),
        })
    }

    /// 新建单位（系统管理员）
    async fn create_unit(
        &self,
        ctx: &Context<'_>,
        input: CreateUnitInput,
    ) -> async_graphql::Result<UnitPayload> {
        let state = app_state(ctx)?;
        let created = org::create_unit(
            &state.db,
            actor(ctx)?,
            state.clock.now(),
            org::NewUnit {
                name: input.name,
                kind: input.kind.into(),
                head_name: input.head_name,
                contacts: input
                    .contacts
                    .into_iter()
                    .map(|c| (c.name, c.email))
                    .collect(),
                portfolio_leader_id: input.portfolio_leader_id,
            },
        )
        .await?;
        Ok(UnitPayload {
            unit: created.into(),
        })
    }

    /// 新建人员并生成访问令牌（系统管理员）
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        input: CreatePersonInput,
    ) -> async_graphql::Result<PersonPayload> {
        let state = app_state(ctx)?;
        let (created, token) = org::create_person(
            &state.db,
            Some(actor(ctx)?),
            state.clock.now(),
            org::NewPerson {
                name: input.name,
                email: input.email,
                role: input.role.into(),
                unit_id: input.unit_id,
            },
        )
        .await?;
        Ok(PersonPayload {
            person: created.into(),
            token,
        })
    }
}

async fn simple_verb(
    ctx: &Context<'_>,
    action: Action,
    input: ItemReasonInput,
) -> async_graphql::Result<ItemPayload> {
    let updated = verbs::suspend_resume_cancel_reopen(
        verb_context(ctx)?,
        action,
        input.item_id,
        input.version,
        input.reason.as_deref(),
    )
    .await?;
    Ok(ItemPayload {
        item: Item::try_from(updated)?,
    })
}
