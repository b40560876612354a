//! 进展, 办结反馈, 核查, 销号 and attachments (`service::items::feedback`).

use crate::graphql::ids::{ItemId, ReportId};
use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject};
use ducha_domain::Action;

use super::shared::{ItemPayload, ItemReasonInput, item_payload};
use crate::error::AppError;
use crate::graphql::context::{actor, app_state, verb_context};
use crate::graphql::objects::{Attachment, Item, Report};
use crate::service::items as verbs;

/// 报送进展
#[derive(InputObject)]
pub struct ReportProgressInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 进展情况（不超过20000字）
    pub body: String,
    /// 随报告上传的附件（按 GraphQL multipart 请求规范，每个不超过20MB，最多10个；经 API 一次请求的文件合计不超过20MB，更多的可用 attachFile 逐个追加）；与报告一并保存
    #[graphql(default)]
    pub files: Vec<async_graphql::Upload>,
}

/// 办结反馈
#[derive(InputObject)]
pub struct SubmitFeedbackInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 办结情况（不超过20000字）
    pub body: String,
    /// 随反馈上传的附件（按 GraphQL multipart 请求规范，每个不超过20MB，最多10个；经 API 一次请求的文件合计不超过20MB，更多的可用 attachFile 逐个追加）；与反馈一并保存
    #[graphql(default)]
    pub files: Vec<async_graphql::Upload>,
}

/// 核查办结反馈
#[derive(InputObject)]
pub struct VerifyItemInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// true 核查通过；false 退回重办（须说明理由）
    pub accept: bool,
    /// 核查意见；退回重办时必填
    pub reason: Option<String>,
}

/// 报送进展或办结反馈的结果
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ReportPayload {
    /// 新报送的报告
    pub report: Report,
    /// The item as the verb read it back in its transaction, or none: a progress report
    /// changes no field of the item, so `item` reads it only when the client asks for it
    /// (most ask for the report alone, and the read cost every report a statement).
    #[graphql(skip)]
    pub item: Option<Item>,
    #[graphql(skip)]
    pub item_id: i64,
}

#[ComplexObject]
impl ReportPayload {
    /// 操作后的事项
    async fn item(&self, ctx: &Context<'_>) -> async_graphql::Result<Item> {
        match &self.item {
            Some(item) => Ok(item.clone()),
            None => Ok(item_payload(app_state(ctx)?, self.item_id).await?),
        }
    }
}

/// 上传附件
#[derive(InputObject)]
pub struct AttachFileInput {
    /// 进展报告或办结反馈的（全局标识或数据库编号）
    pub report_id: ReportId,
    /// 按 GraphQL multipart 请求规范上传的文件（不超过20MB）
    pub file: async_graphql::Upload,
}

/// 上传附件的结果
#[derive(SimpleObject)]
pub struct AttachmentPayload {
    /// 新上传的附件
    pub attachment: Attachment,
}

#[derive(Default)]
pub struct FeedbackMutation;

#[Object]
impl FeedbackMutation {
    /// 报送进展（承办单位，随时可报）
    async fn report_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项及进展情况")] input: ReportProgressInput,
    ) -> async_graphql::Result<ReportPayload> {
        let files = super::shared::stored_files(
            ctx,
            &input.files,
            Action::ReportProgress,
            Some(input.item_id.0),
        )
        .await?;
        let created =
            verbs::report_progress(verb_context(ctx)?, input.item_id.0, &input.body, files).await?;
        Ok(ReportPayload {
            item: None,
            item_id: created.item_id,
            report: created.into(),
        })
    }

    /// 办结反馈（主办单位主要负责人）
    async fn submit_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及办结情况")] input: SubmitFeedbackInput,
    ) -> async_graphql::Result<ReportPayload> {
        let files = super::shared::stored_files(
            ctx,
            &input.files,
            Action::SubmitFeedback,
            Some(input.item_id.0),
        )
        .await?;
        let (updated, feedback) = verbs::submit_feedback(
            verb_context(ctx)?,
            input.item_id.0,
            input.version,
            &input.body,
            files,
        )
        .await?;
        Ok(ReportPayload {
            item_id: feedback.item_id,
            item: Some(Item::try_from(updated)?),
            report: feedback.into(),
        })
    }

    /// 核查：通过，或退回重办（期限仍按原期限计算）
    async fn verify_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及核查结论")] input: VerifyItemInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::verify(
            verb_context(ctx)?,
            input.item_id.0,
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
        #[graphql(desc = "事项、版本号及说明（可不填）")] input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::close(
            verb_context(ctx)?,
            input.item_id.0,
            input.version,
            input.reason.as_deref(),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 上报落实情况：上级交办事项核查通过或销号后，督查室记录已向上级报送（可填上报说明）
    async fn report_upward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项、版本号及上报说明（可不填）")] input: ItemReasonInput,
    ) -> async_graphql::Result<ItemPayload> {
        let updated = verbs::upstream::report_upward(
            verb_context(ctx)?,
            input.item_id.0,
            input.version,
            input.reason.as_deref(),
        )
        .await?;
        Ok(ItemPayload {
            item: Item::try_from(updated)?,
        })
    }

    /// 为本单位的进展报告或办结反馈上传附件
    async fn attach_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "所属报告及文件")] input: AttachFileInput,
    ) -> async_graphql::Result<AttachmentPayload> {
        let state = app_state(ctx)?;
        let upload = input
            .file
            .value(ctx)
            .map_err(|e| AppError::BadUserInput(format!("附件读取失败：{e}")))?;
        let created = crate::service::items::attachments::attach(
            &state.db,
            &state.data_dir,
            actor(ctx)?,
            state.clock.now(),
            input.report_id.0,
            crate::service::items::attachments::Upload {
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
}
