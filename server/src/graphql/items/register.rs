//! 立项 and 修改 (`service::items::register`).

use crate::graphql::ids::{ItemId, PersonId, UnitId};
use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::shared::{ItemPayload, stored_files};
use crate::graphql::calendar::Deadline;
use crate::graphql::context::verb_context;
use crate::graphql::enums::{ReportCycleUnit, SourceKind, Urgency};
use crate::graphql::objects::Item;
use crate::service::items as verbs;

/// 一个可能重复的在办事项
#[derive(SimpleObject)]
pub struct DuplicateWarning {
    /// 可能重复的事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 督办编号，如“督〔2026〕15号”
    pub serial: String,
    /// 事项标题
    pub title: String,
    /// 提示说明：为何可能重复
    pub message: String,
}

/// 立项
#[derive(InputObject)]
pub struct RegisterItemInput {
    /// 事项标题（不超过200字）
    pub title: String,
    /// 办理要求
    pub requirements: String,
    /// 事项来源
    pub source_kind: SourceKind,
    /// 来源文号（批示件号、会议纪要号、文号），可不填
    #[graphql(default)]
    pub source_reference: String,
    /// 紧急程度，默认一般
    #[graphql(default_with = "Urgency::Normal")]
    pub urgency: Urgency,
    /// 责任领导的人员编号
    pub responsible_leader_id: Option<PersonId>,
    /// 事项明确的期限，如“5个工作日”“2026-12-31”；不填则按来源类别的默认规则
    pub deadline: Option<String>,
    /// 进展报送周期（1至366），单位见 reportCycleUnit
    pub report_cycle_days: Option<i32>,
    /// 进展报送周期按日历日还是工作日计算（默认日历日；到期日遇节假日顺延至下一工作日）
    #[graphql(default_with = "ReportCycleUnit::CalendarDays")]
    pub report_cycle_unit: ReportCycleUnit,
    /// 拟交办的单位（用于重复督查提示）
    #[graphql(default)]
    pub unit_ids: Vec<UnitId>,
    /// 随立项上传的文件（批示件、会议纪要等；按 GraphQL multipart 请求规范，每个不超过20MB，最多10个；经 API 一次请求的文件合计不超过20MB，更多的可用 attachFile 逐个追加）；与事项一并保存
    #[graphql(default)]
    pub files: Vec<async_graphql::Upload>,
    /// 上级（市、省）交办事项：上级来文、上级期限；不填期限时，本区期限按上级期限倒推
    pub upstream: Option<UpstreamInput>,
}

/// 上级交办事项
#[derive(InputObject)]
pub struct UpstreamInput {
    /// 上级来文（标题及文号）
    pub document: String,
    /// 上级要求的办结或报送日期
    pub due_date: crate::graphql::scalars::Date,
    /// 本区期限比上级期限提前的工作日数（0至20）；不填按系统设置（默认2）
    pub buffer_working_days: Option<i32>,
}

/// 立项的结果
#[derive(SimpleObject)]
pub struct RegisterItemPayload {
    /// 新立项的事项
    pub item: Item,
    /// 可能重复的在办事项（提示，不阻止立项）
    pub warnings: Vec<DuplicateWarning>,
}

/// 修改事项（只改填写的项）
#[derive(InputObject)]
pub struct EditItemInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 新标题（不超过200字）；不填则不改
    pub title: Option<String>,
    /// 新的办理要求；不填则不改
    pub requirements: Option<String>,
    /// 新的期限，如“5个工作日”“2026-12-31”；不填则不改
    pub deadline: Option<String>,
    /// 新的紧急程度；不填则不改
    pub urgency: Option<Urgency>,
}

impl RegisterItemInput {
    fn into_service(
        self,
        files: Vec<crate::service::items::attachments::StoredFile>,
    ) -> verbs::RegisterInput {
        verbs::RegisterInput {
            title: self.title,
            requirements: self.requirements,
            source_kind: self.source_kind.into(),
            source_reference: self.source_reference,
            urgency: self.urgency.into(),
            responsible_leader_id: self.responsible_leader_id.map(i64::from),
            deadline: self.deadline,
            report_cycle_days: self.report_cycle_days,
            report_cycle_working_days: self.report_cycle_unit == ReportCycleUnit::WorkingDays,
            unit_ids: self.unit_ids.into_iter().map(i64::from).collect(),
            files,
            upstream: self.upstream.map(|u| verbs::upstream::Upstream {
                document: u.document,
                due_date: u.due_date.0,
                buffer_working_days: u.buffer_working_days.map(i64::from),
            }),
        }
    }
}

fn warnings_of(warnings: Vec<verbs::DuplicateWarning>) -> Vec<DuplicateWarning> {
    warnings
        .into_iter()
        .map(|w| DuplicateWarning {
            item_id: ItemId(w.item_id),
            serial: w.serial,
            title: w.title,
            message: w.reason,
        })
        .collect()
}

/// 立项前的试算：适用的期限规则、若现在交办的期限及其说明、可能重复的在办事项；不保存
#[derive(SimpleObject)]
pub struct RegistrationPreview {
    /// 适用的期限规则（规范写法，如“5个工作日”）
    pub deadline_rule: String,
    /// 是否为来源类别的默认规则（未填写期限）
    pub default_rule: bool,
    /// 若现在交办，主办单位的期限及推算说明
    pub deadline: Deadline,
    /// 进展报送周期（天）；为空则不要求定期报送
    pub report_cycle_days: Option<i32>,
    /// 可能重复的在办事项（提示，不阻止立项）
    pub warnings: Vec<DuplicateWarning>,
}

#[derive(Default)]
pub struct RegisterQuery;

#[Object]
impl RegisterQuery {
    /// 立项前试算（督查室）：与立项作同样的检查，给出期限和重复督查提示，不保存
    async fn registration_preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "拟立项的事项内容")] input: RegisterItemInput,
    ) -> async_graphql::Result<RegistrationPreview> {
        // A preview stores no file: what it would give does not depend on them.
        let preview = verbs::preview(verb_context(ctx)?, input.into_service(Vec::new())).await?;
        Ok(RegistrationPreview {
            deadline_rule: preview.rule.to_string(),
            default_rule: !preview.explicit,
            deadline: preview.deadline.into(),
            report_cycle_days: preview.report_cycle_days,
            warnings: warnings_of(preview.warnings),
        })
    }
}

#[derive(Default)]
pub struct RegisterMutation;

#[Object]
impl RegisterMutation {
    /// 立项（督查室）
    async fn register_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项内容")] input: RegisterItemInput,
    ) -> async_graphql::Result<RegisterItemPayload> {
        let files = stored_files(ctx, &input.files, ducha_domain::Action::Register, None).await?;
        let (created, warnings) =
            verbs::register(verb_context(ctx)?, input.into_service(files)).await?;
        Ok(RegisterItemPayload {
            item: Item::try_from(created)?,
            warnings: warnings_of(warnings),
        })
    }

    /// 修改事项（交办前）
    async fn edit_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及要修改的内容")] input: EditItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::edit(
            verb_context(ctx)?,
            input.item_id.0,
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
}
