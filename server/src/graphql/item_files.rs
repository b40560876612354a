//! Files attached to an item at 立项 (`Item.files`), for whoever may see the item.

use async_graphql::{Context, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::app_state;
use entity::item_file;

/// 立项时随事项上传的文件（按内容的 SHA-256 存储）
#[derive(SimpleObject, Clone)]
pub struct ItemFile {
    /// 文件编号（数据库编号），下载地址为 /items/事项编号/files/文件编号
    pub database_id: i64,
    /// 文件名
    pub file_name: String,
    /// 文件类型（MIME 类型）
    pub content_type: String,
    /// 大小（字节）
    pub size: i64,
    /// 内容的 SHA-256（十六进制），可用于核对文件
    pub sha256: String,
    /// 上传时刻（UTC）
    pub created_at: DateTime<Utc>,
    /// 下载地址：浏览器凭登录状态，程序凭请求头 Authorization: Bearer <令牌>；只有能查看该事项的人可以下载
    pub download_url: String,
}

impl ItemFile {
    fn of_row(f: item_file::Model, public_url: &str) -> Self {
        ItemFile {
            download_url: format!(
                "{}/items/{}/files/{}",
                public_url.trim_end_matches('/'),
                f.item_id,
                f.id
            ),
            database_id: f.id,
            file_name: f.file_name,
            content_type: f.content_type,
            size: f.size,
            sha256: f.sha256,
            created_at: f.created_at,
        }
    }
}

/// The files of an item, in the order uploaded.
pub async fn of_item(ctx: &Context<'_>, item_id: i64) -> async_graphql::Result<Vec<ItemFile>> {
    let state = app_state(ctx)?;
    let rows = crate::service::store::read::item_files(&state.db, item_id).await?;
    let public_url = &state.notices.public_url;
    Ok(rows
        .into_iter()
        .map(|row| ItemFile::of_row(row, public_url))
        .collect())
}
