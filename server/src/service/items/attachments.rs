//! Files attached to progress reports and completion feedback, and to items at 立项: uploaded
//! through the GraphQL multipart request spec, stored under the data folder by SHA-256 (the same file twice is
//! stored once, and a stored file can be checked against its name), size-limited.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::items::verb::stage_of;
use crate::service::store::audit::{Audit, audit};
use crate::service::store::input::Text;
use crate::service::store::scope;
use entity::{assignment, attachment, item_file, report};

/// Largest file accepted, in bytes (also bounds the whole request, see `startup`).
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

pub fn storage_path(data_dir: &Path, sha256: &str) -> PathBuf {
    let shard = sha256.get(..2).unwrap_or("00");
    data_dir.join("attachments").join(shard).join(sha256)
}

fn io_error(e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("storing an attachment: {e}"))
}

/// Copies `content` into the store while hashing it; refuses it past the size limit.
fn store(data_dir: &Path, mut content: impl Read) -> AppResult<(String, u64)> {
    let tmp_dir = data_dir.join("attachments").join("tmp");
    std::fs::create_dir_all(&tmp_dir).map_err(io_error)?;
    let tmp_path = tmp_dir.join(format!("upload-{}", crate::auth::new_token()?));
    let mut tmp = std::fs::File::create(&tmp_path).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = content.read(&mut buffer).map_err(io_error)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        if size > MAX_ATTACHMENT_BYTES {
            drop(tmp);
            let _ = std::fs::remove_file(&tmp_path);
            return Err(AppError::BadUserInput(format!(
                "附件不能超过{}MB",
                MAX_ATTACHMENT_BYTES / 1024 / 1024
            )));
        }
        let chunk = buffer.get(..read).unwrap_or_default();
        hasher.update(chunk);
        tmp.write_all(chunk).map_err(io_error)?;
    }
    tmp.sync_all().map_err(io_error)?;
    let sha = hex::encode(hasher.finalize());
    let target = storage_path(data_dir, &sha);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    std::fs::rename(&tmp_path, &target).map_err(io_error)?;
    Ok((sha, size))
}

pub struct Upload<R> {
    pub file_name: String,
    pub content_type: Option<String>,
    pub content: R,
}

/// Most files one report carries.
pub const MAX_FILES_PER_REPORT: usize = 10;

/// A file whose bytes are stored and checked, waiting for its row. The bytes are stored by
/// their hash, so bytes no row names (a report refused after its files were read) cost
/// only their space and are stored once whatever happens to them.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// Checks a file's name and size and stores its bytes; nothing is written to the database.
pub fn store_upload<R: Read>(data_dir: &Path, upload: Upload<R>) -> AppResult<StoredFile> {
    let file_name = Text::parse("文件名", &upload.file_name, 200)?;
    let (sha256, size) = store(data_dir, upload.content)?;
    Ok(StoredFile {
        file_name: file_name.into_inner(),
        // What the sender says the type is, when it is short enough to be one.
        content_type: upload
            .content_type
            .filter(|t| !t.trim().is_empty() && t.len() <= 100)
            .unwrap_or_else(|| "application/octet-stream".into()),
        size,
        sha256,
    })
}

/// The row and audit entry of a stored file on `report`, in the caller's transaction: a
/// report and its files are one write.
pub async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    report: &report::Model,
    file: StoredFile,
) -> AppResult<attachment::Model> {
    let created = attachment::ActiveModel {
        report_id: Set(report.id),
        file_name: Set(file.file_name),
        content_type: Set(file.content_type),
        size: Set(i64::try_from(file.size).unwrap_or(i64::MAX)),
        sha256: Set(file.sha256),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit(
        txn,
        Audit {
            item_id: Some(report.item_id),
            assignment_id: Some(report.assignment_id),
            actor: Some(actor),
            at: now,
            action: "ATTACH_FILE",
            from: None,
            to: None,
            reason: None,
            details: json!({ "reportId": report.id, "attachmentId": created.id, "fileName": created.file_name,
                             "size": created.size, "sha256": created.sha256 }),
        },
    )
    .await?;
    Ok(created)
}

/// The row and audit entry of a file attached to an item at 立项, in the caller's
/// transaction: an item and its files are one write.
pub async fn record_item_file(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    file: StoredFile,
) -> AppResult<item_file::Model> {
    let created = item_file::ActiveModel {
        item_id: Set(item_id),
        file_name: Set(file.file_name),
        content_type: Set(file.content_type),
        size: Set(i64::try_from(file.size).unwrap_or(i64::MAX)),
        sha256: Set(file.sha256),
        created_by: Set(actor.person_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit(
        txn,
        Audit {
            item_id: Some(item_id),
            assignment_id: None,
            actor: Some(actor),
            at: now,
            action: "ATTACH_FILE",
            from: None,
            to: None,
            reason: None,
            details: json!({ "itemFileId": created.id, "fileName": created.file_name,
                             "size": created.size, "sha256": created.sha256 }),
        },
    )
    .await?;
    Ok(created)
}

/// Attaches a file to a report of the actor's own unit, while the item is open.
pub async fn attach<R: Read>(
    db: &DatabaseConnection,
    data_dir: &Path,
    actor: &Actor,
    now: DateTime<Utc>,
    report_id: i64,
    upload: Upload<R>,
) -> AppResult<attachment::Model> {
    let target = report::Entity::find_by_id(report_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("报告 {report_id} 不存在")))?;
    let item = scope::visible_item(db, actor, target.item_id).await?;
    let owner = assignment::Entity::find_by_id(target.assignment_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("交办记录不存在".into()))?;
    if actor.own_unit() != Some(owner.unit_id) {
        return Err(AppError::Forbidden("只能为本单位的报告上传附件".into()));
    }
    if !stage_of(&item).is_open() {
        return Err(AppError::InvalidTransition(
            "事项已办结或撤销，不能再上传附件".into(),
        ));
    }
    let stored = store_upload(data_dir, upload)?;
    let txn = crate::service::store::write::begin_write(db).await?;
    let created = record(&txn, actor, now, &target, stored).await?;
    txn.commit().await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_stored_once_by_content_hash_and_oversized_ones_refused() {
        let dir = std::env::temp_dir().join(format!("ducha-attach-{}", std::process::id()));
        let (a, size) = store(&dir, &b"hello"[..]).expect("stored");
        let (b, _) = store(&dir, &b"hello"[..]).expect("stored again");
        assert_eq!(a, b);
        assert_eq!(size, 5);
        assert_eq!(
            a,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            std::fs::read(storage_path(&dir, &a)).expect("read back"),
            b"hello"
        );
        let big = std::io::repeat(0).take(MAX_ATTACHMENT_BYTES + 1);
        assert!(matches!(store(&dir, big), Err(AppError::BadUserInput(_))));
        let leftovers = std::fs::read_dir(dir.join("attachments/tmp"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(leftovers, 0, "a refused upload leaves nothing behind");
        std::fs::remove_dir_all(&dir).ok();
    }
}
