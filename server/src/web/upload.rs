//! Forms with files (`multipart/form-data`): progress reports and 办结反馈 carry their
//! attachments. Each file is spooled to an unnamed temporary file as it arrives, so a 20 MB
//! file never sits in memory, and handed to the API's mutation as an upload — the same path
//! a client of the API takes. A file over the limit is refused with its name, before any
//! write.

use std::io::{Seek, Write};

use async_graphql::UploadValue;
use poem::http::header;

use super::viewer::Form;
use crate::service::attachments::{MAX_ATTACHMENT_BYTES, MAX_FILES_PER_REPORT};

/// A posted form: its fields, and the files chosen in it.
#[derive(Default)]
pub struct Posted {
    pub form: Form,
    pub files: Vec<UploadValue>,
}

/// Text fields are held to the same bound as a form without files.
const FIELDS_LIMIT: usize = 64 * 1024;

/// Whether `request` posts a form with files.
pub fn is_multipart(request: &poem::Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"))
}

/// Why a posted body was not taken as a form: a response already made (too large, …), or a
/// multipart body refused with these words and this status, for the page to say.
pub enum Unread {
    Refused(poem::Response),
    Said(poem::http::StatusCode, String),
}

/// A posted form with its files, whether it came as `multipart/form-data` or urlencoded.
pub async fn read_posted(request: &poem::Request, body: poem::Body) -> Result<Posted, Unread> {
    if !is_multipart(request) {
        return match super::view::read_form(body).await {
            Ok(form) => Ok(Posted {
                form,
                files: Vec::new(),
            }),
            Err(refused) => Err(Unread::Refused(refused)),
        };
    }
    read_multipart(request, body).await.map_err(|why| {
        // The body was not read whole, so neither its token nor its words are known.
        let status = if why.contains("MB") || why.contains("最多") {
            poem::http::StatusCode::PAYLOAD_TOO_LARGE
        } else {
            poem::http::StatusCode::BAD_REQUEST
        };
        Unread::Said(status, why)
    })
}

/// Reads a `multipart/form-data` body, or says in Chinese why it cannot be taken.
pub async fn read_multipart(request: &poem::Request, body: poem::Body) -> Result<Posted, String> {
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| multer::parse_boundary(t).ok())
        .ok_or_else(|| "表单格式不正确，请刷新页面后重试".to_string())?;
    let mut multipart = multer::Multipart::new(body.into_bytes_stream(), boundary);
    let mut posted = Posted::default();
    let mut fields = Vec::new();
    let mut text_bytes = 0usize;
    let unreadable = |_| "表单读取失败，请重试".to_string();
    while let Some(mut part) = multipart.next_field().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_string();
        match part.file_name().map(str::to_string) {
            // A file input left empty still sends a part, with no name and no bytes.
            Some(file_name) if file_name.is_empty() => {
                while part.chunk().await.map_err(unreadable)?.is_some() {}
            }
            Some(file_name) => {
                if posted.files.len() == MAX_FILES_PER_REPORT {
                    return Err(format!("一次报送最多附{MAX_FILES_PER_REPORT}个文件"));
                }
                let content_type = part.content_type().map(ToString::to_string);
                let mut spooled = tempfile::tempfile().map_err(|_| spool_failed())?;
                let mut size = 0u64;
                while let Some(chunk) = part.chunk().await.map_err(unreadable)? {
                    size += chunk.len() as u64;
                    if size > MAX_ATTACHMENT_BYTES {
                        return Err(format!(
                            "附件“{file_name}”超过{}MB，请压缩或拆分后上传",
                            MAX_ATTACHMENT_BYTES / 1024 / 1024
                        ));
                    }
                    spooled.write_all(&chunk).map_err(|_| spool_failed())?;
                }
                spooled.rewind().map_err(|_| spool_failed())?;
                posted.files.push(UploadValue {
                    filename: file_name,
                    content_type,
                    content: spooled,
                });
            }
            None => {
                let mut value = Vec::new();
                while let Some(chunk) = part.chunk().await.map_err(unreadable)? {
                    text_bytes += chunk.len();
                    if text_bytes > FIELDS_LIMIT {
                        return Err("提交的内容过长，请精简后重试".into());
                    }
                    value.extend_from_slice(&chunk);
                }
                fields.push((name, String::from_utf8_lossy(&value).into_owned()));
            }
        }
    }
    posted.form = Form::from_pairs(fields);
    Ok(posted)
}

fn spool_failed() -> String {
    "服务器暂时无法接收附件（存储空间不足或不可写），请稍后重试".into()
}
