//! Request bodies read up to a limit, and what the edge refuses before any handler runs.
//!
//! A body over its limit is answered 413. A client that is still sending when the answer
//! comes would see its connection reset instead (the server stops reading and closes), and
//! report a network failure, not the refusal. So past the limit the rest of the body is
//! read and dropped, up to [`DRAIN_AT_MOST`] bytes and for [`DRAIN_FOR`] at most, and only
//! then is the 413 sent.

use std::time::Duration;

use futures_util::StreamExt;
use poem::Body;
use poem::http::{HeaderMap, Uri};

/// Most bytes read and dropped after a body's limit (a sender of more is cut off).
pub const DRAIN_AT_MOST: usize = 64 * 1024 * 1024;
/// Longest time spent reading and dropping them.
pub const DRAIN_FOR: Duration = Duration::from_secs(30);

/// The longest request target (path and query) served: a GET carrying a GraphQL text
/// longer than this belongs in a POST.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// The most header bytes a request may carry (names and values together).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Over the limit (the rest was read and dropped).
    TooLarge,
    /// The connection failed while reading.
    Unreadable,
}

/// Reads `body` whole when it is at most `limit` bytes.
pub async fn read_within(
    body: Body,
    declared: Option<usize>,
    limit: usize,
) -> Result<Vec<u8>, Refusal> {
    let mut stream = std::pin::pin!(body.into_bytes_stream());
    if declared.is_some_and(|n| n > limit) {
        drain(stream.as_mut()).await;
        return Err(Refusal::TooLarge);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Refusal::Unreadable)?;
        if bytes.len() + chunk.len() > limit {
            drain(stream.as_mut()).await;
            return Err(Refusal::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Reads and drops what is left of a body, within [`DRAIN_AT_MOST`] and [`DRAIN_FOR`].
async fn drain<S, T, E>(mut stream: std::pin::Pin<&mut S>)
where
    S: futures_util::Stream<Item = Result<T, E>>,
    T: AsRef<[u8]>,
{
    let dropping = async {
        let mut dropped = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            dropped += chunk.as_ref().len();
            if dropped > DRAIN_AT_MOST {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_FOR, dropping).await;
}

/// What the edge refuses before routing: a request target over [`MAX_URI_BYTES`] (414) or
/// headers over [`MAX_HEADER_BYTES`] (431), with the reason in Chinese.
pub fn refused_at_the_edge(
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<(u16, &'static str, &'static str)> {
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some((
            414,
            "URI_TOO_LONG",
            "请求地址过长（不超过16KB）：较长的查询请改用 POST 发送",
        ));
    }
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some((
            431,
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
            "请求头过大（合计不超过32KB）",
        ));
    }
    None
}
