//! 立项 and 修改 (`service::items::register`).

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::shared::ItemPayload;
use crate::graphql::context::verb_context;
use crate::graphql::enums::{ReportCycleUnit, SourceKind, Urgency};
use crate::graphql::objects::Item;
use crate::service::items as verbs;

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

#[derive(Default)]
pub struct RegisterMutation;

#[Object]
impl RegisterMutation {
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
}
