//! What the item mutations share: an item and its version in, the changed item out.

use crate::graphql::ids::ItemId;
use async_graphql::{Context, InputObject, SimpleObject};

use crate::error::{AppError, AppResult};
use crate::graphql::context::app_state;
use crate::graphql::objects::Item;
use crate::state::AppState;

/// 只需事项和版本号的操作
#[derive(InputObject)]
pub struct ItemVersionInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
}

/// 需要说明理由的操作
#[derive(InputObject)]
pub struct ItemReasonInput {
    /// 事项（全局标识或数据库编号）
    pub item_id: ItemId,
    /// 事项的版本号（须与当前版本一致）
    pub version: i32,
    /// 理由（不超过2000字）；退回、挂起、撤销、回头看须填写，销号、恢复可不填
    pub reason: Option<String>,
}

/// 事项操作的结果
#[derive(SimpleObject)]
pub struct ItemPayload {
    /// 操作后的事项
    pub item: Item,
}

pub async fn item_payload(state: &AppState, item_id: i64) -> AppResult<Item> {
    Item::try_from(crate::service::store::read::item(&state.db, item_id).await?)
}

/// Uploaded files read and stored before the write begins (reading 20 MB inside the write
/// would hold SQLite's lock for it); their rows come with the report or item, in its
/// transaction. Nothing is stored for someone who may not do `action` (on `item_id`, when
/// the files go to an item's report), nor when any file is over the limit: every file is
/// measured first, and refused by name.
pub async fn stored_files(
    ctx: &Context<'_>,
    uploads: &[async_graphql::Upload],
    action: ducha_domain::Action,
    item_id: Option<i64>,
) -> async_graphql::Result<Vec<crate::service::items::attachments::StoredFile>> {
    use crate::service::items::attachments::{
        MAX_ATTACHMENT_BYTES, MAX_FILES_PER_REPORT, Upload, store_upload,
    };
    if uploads.is_empty() {
        return Ok(Vec::new());
    }
    if uploads.len() > MAX_FILES_PER_REPORT {
        return Err(
            AppError::BadUserInput(format!("一次最多附{MAX_FILES_PER_REPORT}个文件")).into(),
        );
    }
    let state = app_state(ctx)?;
    let reader = crate::graphql::context::actor(ctx)?;
    if !action.allowed_for(reader.role) {
        return Err(AppError::Forbidden(format!("无权{}", action.label())).into());
    }
    if let Some(item_id) = item_id {
        crate::service::store::scope::visible_item(&state.db, reader, item_id).await?;
    }
    let mut files = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let file = upload
            .value(ctx)
            .map_err(|e| AppError::BadUserInput(format!("附件读取失败：{e}")))?;
        let size = file.content.metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_ATTACHMENT_BYTES {
            return Err(AppError::BadUserInput(format!(
                "附件“{}”超过{}MB",
                file.filename,
                MAX_ATTACHMENT_BYTES / 1024 / 1024
            ))
            .into());
        }
        files.push(file);
    }
    let mut stored = Vec::with_capacity(files.len());
    for file in files {
        stored.push(store_upload(
            &state.data_dir,
            Upload {
                file_name: file.filename,
                content_type: file.content_type,
                content: file.content,
            },
        )?);
    }
    Ok(stored)
}
