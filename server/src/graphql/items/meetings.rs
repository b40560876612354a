//! 会议议定事项 (`service::items::meetings`): a meeting recorded with its decisions, which
//! become items through the ledger import's preview and commit.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::context::verb_context;
use crate::graphql::enums::MeetingKind;
use crate::graphql::scalars::Date;
use crate::service::items::meetings;

/// 一次会议及其纪要
#[derive(SimpleObject)]
pub struct Meeting {
    /// 会议编号
    pub database_id: i64,
    /// 会议类别
    pub kind: MeetingKind,
    /// 会议类别的中文名称
    pub kind_label: String,
    /// 会议议题
    pub title: String,
    /// 会议日期
    pub held_on: Date,
    /// 主持人
    pub chair: String,
    /// 纪要文号（议定事项的来源文号）
    pub minutes_number: String,
    /// 纪要应完成起草的时间：会后2个工作日
    pub minutes_due_at: DateTime<Utc>,
    /// 纪要印发登记时间；未登记为空
    pub minutes_issued_at: Option<DateTime<Utc>>,
    /// 纪要已过期限仍未登记印发
    pub minutes_overdue: bool,
    /// 议定事项的导入批次（预览、导入及导入报告见 ledgerImport）
    pub ledger_import_id: Option<i64>,
}

impl Meeting {
    fn of(m: entity::meeting::Model, now: DateTime<Utc>) -> Meeting {
        let kind =
            ducha_domain::MeetingKind::parse(&m.kind).unwrap_or(ducha_domain::MeetingKind::Other);
        Meeting {
            database_id: m.id,
            kind: kind.into(),
            kind_label: kind.label().to_string(),
            minutes_overdue: meetings::minutes_overdue(&m, now),
            title: m.title,
            held_on: Date(m.held_on),
            chair: m.chair,
            minutes_number: m.minutes_number,
            minutes_due_at: m.minutes_due_at,
            minutes_issued_at: m.minutes_issued_at,
            ledger_import_id: m.ledger_import_id,
        }
    }
}

/// 登记会议及其议定事项
#[derive(InputObject)]
pub struct RecordMeetingInput {
    /// 会议类别
    pub kind: MeetingKind,
    /// 会议议题
    pub title: String,
    /// 会议日期（不晚于今天）
    pub held_on: Date,
    /// 主持人
    pub chair: String,
    /// 纪要文号，如“区政府常务会议纪要〔2026〕12号”
    pub minutes_number: String,
    /// 议定事项：从表格复制粘贴（制表符分隔）或每行一项；列依次为事项、主办单位、协办单位、期限规则、办理要求，或带表头
    pub decisions: String,
}

#[derive(Default)]
pub struct MeetingQuery;

#[Object]
impl MeetingQuery {
    /// 登记的会议（督查室），会议日期新的在前
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "最多列出多少个（1至500）", default = 100)] first: u64,
    ) -> async_graphql::Result<Vec<Meeting>> {
        let cx = verb_context(ctx)?;
        let now = cx.now;
        Ok(meetings::list(cx, first)
            .await?
            .into_iter()
            .map(|m| Meeting::of(m, now))
            .collect())
    }
}

#[derive(Default)]
pub struct MeetingMutation;

#[Object]
impl MeetingMutation {
    /// 登记会议及其议定事项（督查室）：保存会议和纪要期限，议定事项待预览后导入为督办事项
    async fn record_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "会议及其议定事项")] input: RecordMeetingInput,
    ) -> async_graphql::Result<Meeting> {
        let cx = verb_context(ctx)?;
        let now = cx.now;
        let recorded = meetings::record(
            cx,
            meetings::MeetingInput {
                kind: input.kind.into(),
                title: input.title,
                held_on: input.held_on.0,
                chair: input.chair,
                minutes_number: input.minutes_number,
                decisions: input.decisions,
            },
        )
        .await?;
        Ok(Meeting::of(recorded, now))
    }

    /// 登记纪要已印发（督查室），只能登记一次
    async fn issue_minutes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "会议编号")] database_id: i64,
    ) -> async_graphql::Result<Meeting> {
        let cx = verb_context(ctx)?;
        let now = cx.now;
        Ok(Meeting::of(
            meetings::issue_minutes(cx, database_id).await?,
            now,
        ))
    }
}
