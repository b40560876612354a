//! Forms with files (`multipart/form-data`): progress reports and 办结反馈 carry their
//! attachments. Each file is spooled to an unnamed temporary file as it arrives, so a 20 MB
//! file never sits in memory, and handed to the API's mutation as an upload — the same path
//! a client of the API takes. A file over the limit is refused with its name, before any
//! write.

use std::io::{Seek, Write};

use async_graphql::UploadValue;
use poem::http::header;

use super::viewer::Form;
use crate::service::items::attachments::{MAX_ATTACHMENT_BYTES, MAX_FILES_PER_REPORT};

/// A posted form: its fields, and the files chosen in it.
#[derive(Default)]
pub struct Posted {
    pub form: Form,
    pub files: Vec<UploadValue>,
}

/// Text fields are held to the same bound as a form without files.
const FIELDS_LIMIT: usize = 64 * 1024;

/// Whether `request` posts a form with files.
fn is_multipart(request: &poem::Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"))
}

/// Why a posted body was not taken as a form: a response already made (too large, …), or
/// a multipart body refused with these words and this status, with the text fields it
/// carried, for the page to show again.
pub enum Unread {
    Refused(poem::Response),
    Said(poem::http::StatusCode, String, Form),
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
    read_multipart(request, body).await
}

/// Most bytes read of one body: every file at its limit, and the fields. Past it the reading
/// stops, whatever is left.
const BODY_LIMIT: u64 = MAX_ATTACHMENT_BYTES * (MAX_FILES_PER_REPORT as u64 + 1);

/// Reads a `multipart/form-data` body. A file over the limit, or one too many, refuses the
/// files but not the words: the rest is still read for its text fields (up to
/// [`BODY_LIMIT`]), so the page can show them again.
async fn read_multipart(request: &poem::Request, body: poem::Body) -> Result<Posted, Unread> {
    use poem::http::StatusCode;
    let bad = |why: &str| Unread::Said(StatusCode::BAD_REQUEST, why.to_string(), Form::default());
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| multer::parse_boundary(t).ok())
        .ok_or_else(|| bad("表单格式不正确，请刷新页面后重试"))?;
    let mut multipart = multer::Multipart::new(body.into_bytes_stream(), boundary);
    let mut posted = Posted::default();
    let mut fields = Vec::new();
    let mut text_bytes = 0usize;
    let mut read = 0u64;
    let mut refused: Option<String> = None;
    let unreadable = |_| bad("表单读取失败，请重试");
    while let Some(mut part) = multipart.next_field().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_string();
        match part.file_name().map(str::to_string) {
            Some(file_name) => {
                // A file input left empty still sends a part, with no name and no bytes.
                let wanted = refused.is_none() && !file_name.is_empty();
                if wanted && posted.files.len() == MAX_FILES_PER_REPORT {
                    refused = Some(format!("一次最多附{MAX_FILES_PER_REPORT}个文件"));
                }
                let mut spooled = match refused {
                    None if wanted => Some(tempfile::tempfile().map_err(|_| spool_failed())?),
                    _ => None,
                };
                let content_type = part.content_type().map(ToString::to_string);
                let mut size = 0u64;
                while let Some(chunk) = part.chunk().await.map_err(unreadable)? {
                    size += chunk.len() as u64;
                    read += chunk.len() as u64;
                    if read > BODY_LIMIT {
                        return Err(Unread::Said(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "提交的文件过多或过大，请分批上传".into(),
                            Form::default(),
                        ));
                    }
                    if size > MAX_ATTACHMENT_BYTES && spooled.is_some() {
                        refused = Some(format!(
                            "附件“{file_name}”超过{}MB，请压缩或拆分后上传",
                            MAX_ATTACHMENT_BYTES / 1024 / 1024
                        ));
                        spooled = None;
                    }
                    if let Some(file) = spooled.as_mut() {
                        file.write_all(&chunk).map_err(|_| spool_failed())?;
                    }
                }
                if let Some(mut file) = spooled {
                    file.rewind().map_err(|_| spool_failed())?;
                    posted.files.push(UploadValue {
                        filename: file_name,
                        content_type,
                        content: file,
                    });
                }
            }
            None => {
                let mut value = Vec::new();
                while let Some(chunk) = part.chunk().await.map_err(unreadable)? {
                    text_bytes += chunk.len();
                    if text_bytes > FIELDS_LIMIT {
                        return Err(Unread::Said(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "提交的内容过长，请精简后重试".into(),
                            Form::default(),
                        ));
                    }
                    value.extend_from_slice(&chunk);
                }
                fields.push((name, String::from_utf8_lossy(&value).into_owned()));
            }
        }
    }
    posted.form = Form::from_pairs(fields);
    match refused {
        Some(why) => Err(Unread::Said(
            StatusCode::PAYLOAD_TOO_LARGE,
            why,
            posted.form,
        )),
        None => Ok(posted),
    }
}

fn spool_failed() -> Unread {
    Unread::Said(
        poem::http::StatusCode::SERVICE_UNAVAILABLE,
        "服务器暂时无法接收附件（存储空间不足或不可写），请稍后重试".into(),
        Form::default(),
    )
}
