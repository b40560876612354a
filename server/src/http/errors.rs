//! Reading a GraphQL request off HTTP, and answering every failure at the HTTP layer in the
//! same shape as a GraphQL error — `{"errors":[{"message", "extensions":{"code"}}]}` — so a
//! client branches on `extensions.code` whatever went wrong: a batch, a body too large, a
//! body that is not JSON, an unknown path.

use poem::http::{HeaderMap, StatusCode, header};
use poem::{Body, IntoResponse, Response};

/// JSON bodies (queries and mutations without files) beyond this are refused: no dashboard
/// query comes near it (a long feedback text is some tens of KB), and a larger one would
/// only cost the server to parse. The same bound holds for the operation part of a
/// multipart upload and for a WebSocket message.
pub const JSON_BODY_LIMIT: usize = 256 * 1024;

/// Multipart requests carry an attachment and the operation beside it.
pub const MULTIPART_BODY_LIMIT: usize =
    crate::service::items::attachments::MAX_ATTACHMENT_BYTES as usize + 1024 * 1024;

/// An HTTP-level refusal as a GraphQL error body.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    poem::web::Json(body).with_status(status).into_response()
}

/// The one GraphQL request in `body`, or the error response to send instead. Bodies without
/// a Content-Length (chunked) are read up to the same limit as those with one.
pub async fn read_request(
    headers: &HeaderMap,
    body: Body,
) -> Result<async_graphql::Request, Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let multipart = match body_kind(content_type.as_deref()) {
        Ok(kind) => kind == BodyKind::Multipart,
        Err(why) => {
            return Err(json_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                &why,
            ));
        }
    };
    let limit = if multipart {
        MULTIPART_BODY_LIMIT
    } else {
        JSON_BODY_LIMIT
    };
    let too_large = || {
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &if multipart {
                format!(
                    "请求体过大：附件不超过{}MB",
                    crate::service::items::attachments::MAX_ATTACHMENT_BYTES / 1024 / 1024
                )
            } else {
                json_too_large()
            },
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    // A client that waits for `100 Continue` before sending hears the refusal instead: its
    // body is neither invited nor read.
    let waits_to_send = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if waits_to_send && declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes = match crate::body::read_within(body, declared, limit).await {
        Ok(bytes) => bytes,
        Err(crate::body::Refusal::TooLarge) => return Err(too_large()),
        Err(crate::body::Refusal::Unreadable) => {
            return Err(json_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "请求体读取失败",
            ));
        }
    };
    let size = bytes.len();
    let batch = async_graphql::http::receive_batch_body(
        content_type,
        futures_util::io::Cursor::new(bytes),
        async_graphql::http::MultipartOptions::default()
            .max_file_size(crate::service::items::attachments::MAX_ATTACHMENT_BYTES as usize),
    )
    .await
    .map_err(|e| match e {
        async_graphql::ParseRequestError::PayloadTooLarge => too_large(),
        e => {
            tracing::debug!(error = %e, "unreadable GraphQL request");
            json_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "请求格式不正确：应为 JSON（{\"query\": …, \"variables\": …}）或 multipart 上传",
            )
        }
    })?;
    let request = batch.into_single().map_err(|_| {
        json_error(
            StatusCode::BAD_REQUEST,
            "BATCH_NOT_SUPPORTED",
            "不支持批量请求，请逐个发送",
        )
    })?;
    // A multipart body is allowed its size for the files it carries: the rest (the
    // operation and its map) is held to the JSON limit.
    let files: usize = request
        .uploads
        .iter()
        .filter_map(|u| u.content.metadata().ok())
        .map(|m| usize::try_from(m.len()).unwrap_or(usize::MAX))
        .sum();
    if size.saturating_sub(files) > JSON_BODY_LIMIT {
        return Err(json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &json_too_large(),
        ));
    }
    Ok(request)
}

fn json_too_large() -> String {
    format!(
        "请求体过大：不带附件的请求不超过{}KB",
        JSON_BODY_LIMIT / 1024
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Multipart,
}

/// What a POST's `Content-Type` says it carries; why not (a 415) for none, another type,
/// or a charset other than UTF-8 (JSON has no other).
fn body_kind(content_type: Option<&str>) -> Result<BodyKind, String> {
    let refuse = |message: String| Err(message);
    let Some(content_type) = content_type.filter(|c| !c.trim().is_empty()) else {
        return refuse(
            "请求缺少 Content-Type：应为 application/json（或带附件时 multipart/form-data）".into(),
        );
    };
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "application/graphql+json" => {
            let charset = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase());
            match charset.as_deref() {
                None | Some("utf-8" | "utf8") => Ok(BodyKind::Json),
                Some(other) => refuse(format!("不支持的字符集“{other}”：请使用 UTF-8")),
            }
        }
        "multipart/form-data" => Ok(BodyKind::Multipart),
        _ => refuse(format!(
            "不支持的 Content-Type“{}”：应为 application/json（或带附件时 multipart/form-data）",
            essence.chars().take(80).collect::<String>()
        )),
    }
}

/// Errors poem raises itself (unknown path, wrong method, a failed extractor) as JSON.
pub async fn poem_error(error: poem::Error) -> Response {
    // A refusal that is already an answer (a page extractor's way to the sign-in form).
    if error.is_from_response() {
        return error.into_response();
    }
    let status = error.status();
    let code = match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        s if s.is_server_error() => "INTERNAL_SERVER_ERROR",
        _ => "BAD_REQUEST",
    };
    let message = match status {
        StatusCode::NOT_FOUND => "地址不存在".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "不支持该请求方法".to_string(),
        s if s.is_server_error() => {
            tracing::error!(error = %error, "HTTP error");
            "内部错误，请稍后重试".to_string()
        }
        _ => format!("请求无效（HTTP {}）", status.as_u16()),
    };
    json_error(status, code, &message)
}
