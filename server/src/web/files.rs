//! `/attachments/N`: a file attached to a report, for a reader who may see its item; and
//! `/items/N/files/M`, a file attached to the item at 立项 — for a browser's session or a
//! program's API token (`Authorization: Bearer`, the `downloadUrl` the API gives). The
//! rights are the API's: the attachment is found through `node(id:)`, which reads it through
//! its item's resolvers in the reader's scope, so a unit never receives another unit's file.

use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::json;

use super::view;
use super::view::viewer;
use super::viewer::run;
use crate::graphql::Schemas;
use crate::graphql::ids::{NodeKind, encode};
use crate::state::AppState;

const FILE_QUERY: &str =
    "query($id: ID!) { node(id: $id) { ... on Attachment { fileName contentType sha256 } } }";

#[handler]
pub async fn download(
    request: &Request,
    Path(id): Path<String>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match reader(request, &state).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let missing = || {
        view::problem(
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "附件不存在",
            "该附件不存在，或您无权查看。",
        )
    };
    let Some(number) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return missing();
    };
    let global = encode(NodeKind::Attachment, number);
    let found = match run(
        &schemas,
        &state,
        &viewer,
        FILE_QUERY,
        json!({ "id": global }),
    )
    .await
    {
        Ok(data) => data,
        Err(_) => return missing(),
    };
    let file = &found["node"];
    let (Some(name), Some(sha256)) = (file["fileName"].as_str(), file["sha256"].as_str()) else {
        return missing();
    };
    let content_type = file["contentType"].as_str().unwrap_or_default();
    serve(&viewer, &state, name, content_type, sha256).await
}

const ITEM_FILES_QUERY: &str =
    "query($id: ID!) { item(id: $id) { files { databaseId fileName contentType sha256 } } }";

/// `/items/N/files/M`: a file attached to item N at 立项, for a reader who may see the item
/// (the item is read as the reader: one not theirs is not found).
#[handler]
pub async fn item_file(
    request: &Request,
    Path((item, number)): Path<(i64, i64)>,
    state: Data<&AppState>,
    schemas: Data<&Schemas>,
) -> Response {
    let viewer = match reader(request, &state).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let found = run(
        &schemas,
        &state,
        &viewer,
        ITEM_FILES_QUERY,
        json!({ "id": item }),
    )
    .await
    .ok();
    let file = found.as_ref().and_then(|data| {
        data["item"]["files"]
            .as_array()?
            .iter()
            .find(|f| f["databaseId"].as_i64() == Some(number))
    });
    let Some((name, sha256, content_type)) = file.and_then(|f| {
        Some((
            f["fileName"].as_str()?,
            f["sha256"].as_str()?,
            f["contentType"].as_str().unwrap_or_default(),
        ))
    }) else {
        return view::problem(
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "附件不存在",
            "该附件不存在，或您无权查看。",
        );
    };
    serve(&viewer, &state, name, content_type, sha256).await
}

/// Who asks for a file: a program with an API token (refused with 401 when the token opens
/// nothing, as the API refuses it), else the browser's session (sent to sign in without one).
async fn reader(request: &Request, state: &AppState) -> Result<super::viewer::Viewer, Response> {
    match super::viewer::token_reader(request, state).await {
        Some(Ok(viewer)) => Ok(viewer),
        Some(Err(refused)) => Err(poem::web::Json(json!({
            "errors": [{
                "message": refused.to_string(),
                "extensions": { "code": "UNAUTHENTICATED" },
            }]
        }))
        .with_status(StatusCode::UNAUTHORIZED)
        .with_header(header::WWW_AUTHENTICATE, "Bearer")
        .into_response()),
        None => viewer(request, state).await,
    }
}

/// A stored file as a download (never shown as a page of this site).
async fn serve(
    viewer: &super::viewer::Viewer,
    state: &AppState,
    name: &str,
    content_type: &str,
    sha256: &str,
) -> Response {
    let path = crate::service::items::attachments::storage_path(&state.data_dir, sha256);
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "reading a stored attachment");
            return view::problem(
                Some(viewer),
                StatusCode::INTERNAL_SERVER_ERROR,
                "附件无法读取",
                "附件文件缺失或无法读取，请联系系统管理员。",
            );
        }
    };
    let content_type = Some(content_type)
        .filter(|t| !t.is_empty())
        .unwrap_or("application/octet-stream");
    bytes
        .with_content_type(content_type.to_string())
        // Always a download: a file someone uploaded never runs as a page of this site.
        .with_header(
            header::CONTENT_DISPOSITION,
            view::download_as(name, "attachment"),
        )
        .with_header(
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        )
        .with_header(header::CACHE_CONTROL, "private, no-store")
        .into_response()
}
